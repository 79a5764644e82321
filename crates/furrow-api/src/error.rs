use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use furrow_credentials::{FieldError, ValidationErrors};
use serde::Serialize;

const PROBLEM_TYPE: &str = "https://www.jhipster.tech/problem/problem-with-message";

/// An API error, rendered as `application/problem+json` (`{type, title, status, path, message, errorKey}`).
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    error_key: Option<&'static str>,
    field_errors: Vec<FieldError>,
}

/// The problem body (also the OpenAPI schema of every error).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Problem {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) title: String,
    pub(crate) status: u16,
    pub(crate) path: String,
    pub(crate) message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error_key: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub(crate) field_errors: Vec<FieldError>,
}

impl ApiError {
    /// An error with a status, a human message and an optional machine key.
    pub fn new(
        status: StatusCode,
        message: impl Into<String>,
        error_key: Option<&'static str>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            error_key,
            field_errors: Vec::new(),
        }
    }

    /// `400 validation` naming one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            message: format!("{field}: {message}"),
            error_key: Some("validation"),
            field_errors: vec![FieldError::new(field, message)],
        }
    }

    /// The same error with another machine key.
    pub(crate) fn with_key(mut self, key: &'static str) -> Self {
        self.error_key = Some(key);
        self
    }

    /// Adds another field at fault to a `400 validation` error.
    pub(crate) fn with_field(mut self, field: &str, message: String) -> Self {
        self.message = format!("{}; {field}: {message}", self.message);
        self.field_errors.push(FieldError::new(field, message));
        self
    }

    /// `400 validation` naming every field at fault.
    pub fn validation(errors: &ValidationErrors) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: errors.to_string(),
            error_key: Some("validation"),
            field_errors: errors.errors().to_vec(),
        }
    }

    /// `400 validation` naming every field at fault in a `what` body (`"webhook body"`): the message says
    /// `invalid webhook body: name: …; url: …`.
    pub(crate) fn invalid(what: &str, errors: Vec<FieldError>) -> Self {
        let mut message = format!("invalid {what}");
        for (i, e) in errors.iter().enumerate() {
            message.push_str(if i == 0 { ": " } else { "; " });
            message.push_str(&e.to_string());
        }
        Self {
            status: StatusCode::BAD_REQUEST,
            message,
            error_key: Some("validation"),
            field_errors: errors,
        }
    }

    /// `401` (missing, expired or forged token; bad login), with Leaf's `error.http.401` message.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "error.http.401", None)
    }

    /// `404` with a key.
    pub fn not_found(what: &str, key: &'static str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{what} not found"),
            Some(key),
        )
    }

    /// `500`, which never carries internal details.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "error.http.500", None)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<furrow_store::Error> for ApiError {
    fn from(e: furrow_store::Error) -> Self {
        match e {
            furrow_store::Error::NotFound("credentials") => {
                Self::not_found("credentials", "credentialsNotFound")
            }
            furrow_store::Error::NotFound(what) => Self::not_found(what, "notFound"),
            furrow_store::Error::AlreadyExists("credentials") => Self::new(
                StatusCode::CONFLICT,
                "credentials for this provider already exist for this user; delete them first",
                Some("credentialsAlreadyExist"),
            ),
            furrow_store::Error::Conflict(message) => {
                Self::new(StatusCode::CONFLICT, message, Some("conflict"))
            }
            furrow_store::Error::AlreadyExists(what) => Self::new(
                StatusCode::CONFLICT,
                format!("{what} already exists"),
                Some("alreadyExists"),
            ),
            other => {
                // Logged with its cause; the client sees nothing internal.
                tracing::error!(error = %other, "store error");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error").to_owned();
        let detail =
            (self.status == StatusCode::UNAUTHORIZED).then(|| "Not Authenticated".to_owned());
        let problem = Problem {
            kind: PROBLEM_TYPE.into(),
            title,
            status: self.status.as_u16(),
            path: String::new(),
            message: self.message,
            detail,
            error_key: self.error_key.map(str::to_owned),
            field_errors: self.field_errors,
        };
        let mut resp = (self.status, axum::Json(problem.clone())).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        // The middleware below fills in `path` from the request.
        resp.extensions_mut().insert(problem);
        resp
    }
}

/// Fills the request path into problem bodies, turns any other bare 4xx/5xx into a problem, and logs.
/// Marks a response as one of the grower's HTML pages (onboarding): [`problem_path`] leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HostedPage;

pub(crate) async fn problem_path(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    let status = resp.status();
    if let Some(problem) = resp.extensions().get::<Problem>().cloned() {
        let (mut parts, _) = resp.into_parts();
        let body = serde_json::to_vec(&Problem { path, ..problem }).unwrap_or_default();
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, axum::body::Body::from(body));
    }
    // The grower's hosted pages say what went wrong in HTML, by design.
    if resp.extensions().get::<HostedPage>().is_some() {
        return resp;
    }
    if status.is_client_error() || status.is_server_error() {
        // A rejection from a layer (e.g. body limit) that is not yet a problem.
        let is_problem = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
        if !is_problem {
            let msg = status.canonical_reason().unwrap_or("error").to_owned();
            let mut p = ApiError::new(status, msg, None).into_response();
            if let Some(problem) = p.extensions_mut().remove::<Problem>() {
                let body = serde_json::to_vec(&Problem { path, ..problem }).unwrap_or_default();
                let (mut parts, _) = p.into_parts();
                parts.headers.remove(header::CONTENT_LENGTH);
                p = Response::from_parts(parts, axum::body::Body::from(body));
            }
            return p;
        }
    }
    resp
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such resource", Some("notFound"))
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this path",
        Some("methodNotAllowed"),
    )
}
