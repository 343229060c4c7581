//! The one HTTP error type: a stable code and a message for the client, and
//! internal detail for the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vigil_api_types::{ErrorBody, ErrorCode, ErrorDetail};

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    details: Option<serde_json::Value>,
    internal: Option<String>,
}

impl ApiError {
    /// An error with a code and a message written for the client.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: None,
            internal: None,
        }
    }

    /// Adds structured details for the client (which field, which object).
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    /// Adds internal detail: logged with the request, never sent.
    pub fn internal(mut self, detail: impl std::fmt::Display) -> Self {
        self.internal = Some(detail.to_string());
        self
    }

    /// The message written for the client.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(internal) = &self.internal {
            tracing::error!(code = self.code.as_str(), detail = %internal, "request failed");
        }
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        (status, axum::Json(body)).into_response()
    }
}
