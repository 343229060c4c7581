//! The wire types of Vigil's HTTP API: what clients send and receive, and
//! the one table of stable error codes.
//!
//! Every error response has the shape
//! `{"error": {"code": "stable_code", "message": "…", "details": …}}`. The
//! code is a contract clients may branch on; the message is for people; the
//! details, when present, say which field or object is concerned. Internal
//! detail (database errors, file paths, stack traces) never appears here.

pub mod wire;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Every error code the API can return, with its HTTP status. Adding a code
/// is a contract change; renaming or removing one is a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a value breaks a rule (400).
    InvalidRequest,
    /// No valid session or token was presented (401).
    Unauthenticated,
    /// The caller is known but may not do this (403).
    Forbidden,
    /// The object does not exist, or lies outside the caller's
    /// organisation (404: the two are indistinguishable on purpose).
    NotFound,
    /// The method is not allowed on this path (405).
    MethodNotAllowed,
    /// Someone else changed the object first, or it already exists (409).
    Conflict,
    /// The request body is larger than the server accepts (413).
    PayloadTooLarge,
    /// The request body is not in a format this endpoint reads (415).
    UnsupportedMediaType,
    /// The governance rules refuse the change (422), for example a missing
    /// sign-off.
    Refused,
    /// Too many attempts; try again later (429).
    RateLimited,
    /// The server failed; the detail is in its log under the request id (500).
    Internal,
    /// A dependency (the database) is not available (503).
    Unavailable,
    /// The request took longer than the server allows (504).
    Timeout,
}

impl ErrorCode {
    /// Every code, in table order.
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::InvalidRequest,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Refused,
        ErrorCode::RateLimited,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::Timeout,
    ];

    /// The stable code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::Refused => "refused",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Timeout => "timeout",
        }
    }

    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::Refused => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
            ErrorCode::Timeout => 504,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// The body of `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// "ok", or "unavailable" for a failed readiness check.
    pub status: String,
    pub version: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_round_trip() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(
                seen.insert(code.as_str()),
                "{} is listed twice",
                code.as_str()
            );
            let json = serde_json::to_string(&code).expect("serialise");
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(
                serde_json::from_str::<ErrorCode>(&json).expect("parse"),
                code
            );
            assert!((400..600).contains(&code.status()));
        }
    }
}
