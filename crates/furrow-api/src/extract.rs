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
