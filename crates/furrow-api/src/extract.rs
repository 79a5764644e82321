use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body whose rejections are problem+json: 415 without a JSON content type, 413 over the limit,
/// 400 naming the field for malformed or mistyped bodies.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    match rej {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected a body with Content-Type: application/json",
            Some("unsupportedMediaType"),
        ),
        JsonRejection::JsonDataError(e) => {
            // serde's message names the path, e.g. "name: invalid type: integer `5`, expected a string".
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&text);
            let (field, message) = match detail.split_once(": ") {
                Some((f, m)) if !f.contains(' ') => (f.to_owned(), m.to_owned()),
                _ => ("body".to_owned(), detail.to_owned()),
            };
            ApiError::field(field, message)
        }
        JsonRejection::JsonSyntaxError(e) => {
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to parse the request body as JSON: ")
                .unwrap_or(&text)
                .to_owned();
            ApiError::field("body", format!("malformed JSON: {detail}"))
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is too large",
            Some("payloadTooLarge"),
        ),
        other => ApiError::field("body", other.body_text()),
    }
}

/// Query parameters whose rejections name the parameter (400).
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                let (field, message) = match detail.split_once(": ") {
                    Some((f, m)) if !f.contains(' ') => (f.to_owned(), m.to_owned()),
                    _ => ("query".to_owned(), detail.to_owned()),
                };
                Err(ApiError::field(field, message))
            }
            Err(other) => Err(ApiError::field("query", other.body_text())),
        }
    }
}

/// A `multipart/form-data` body whose rejection is a problem naming what is wrong: 415
/// `unsupportedMediaType` for another media type (a JSON body, say), 400 naming `body` for a multipart
/// content type without a usable boundary.
#[derive(Debug)]
pub(crate) struct ApiMultipart(pub(crate) axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("multipart/form-data"));
        if !multipart {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "expected a body with Content-Type: multipart/form-data (a part `file` with the upload)",
                Some("unsupportedMediaType"),
            ));
        }
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(m) => Ok(Self(m)),
            Err(rej) => Err(ApiError::field(
                "body",
                format!("the multipart body cannot be read: {}", rej.body_text()),
            )),
        }
    }
}

/// The `provider` values lists filter on: every provider's Leaf name (`JohnDeere`, `CLAAS`) and the names uploads
/// carry (`Other`, `Leaf` for manual fields and uploads, `Farmobile`, `PrecisionPlanting`).
pub(crate) fn provider_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = furrow_credentials::Provider::ALL
        .iter()
        .map(|p| p.leaf_name())
        .collect();
    for n in crate::batch::PROVIDERS {
        if !names.contains(n) {
            names.push(n);
        }
    }
    names
}

/// A list's `provider` filter: one of [`provider_names`] (400 naming `provider` otherwise); empty is no filter,
/// like the other enumerated filters.
pub(crate) fn provider_filter(value: &Option<String>) -> Result<Option<String>, ApiError> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(v) if provider_names().contains(&v) => Ok(Some(v.to_owned())),
        Some(_) => Err(ApiError::field(
            "provider",
            format!("must be one of {}", provider_names().join(", ")),
        )),
    }
}

/// A JSON integer as JSON Schema counts them: a number without a fractional part (`92` or `92.0`) within the
/// range of `i64`. A number beyond it (`-9223372036854775809`, which JSON parsers read as a float equal to
/// -2^63) is none: the float bounds are exclusive, and -2^63 itself arrives as an `i64`.
pub(crate) fn json_integer(v: &serde_json::Value) -> Option<i64> {
    const LIMIT: f64 = 9.223_372_036_854_776e18; // 2^63
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && -LIMIT < *f && *f < LIMIT)
            .map(|f| f as i64)
    })
}
