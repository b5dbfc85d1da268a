//! The JSON API's errors, every one answered in its problem shape:
//! `{"error": "...", "problems": [...]?, "reasons": [...]?}` with `Cache-Control: no-store`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::document_import::ImportError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a valid bearer token is required (a practice system credential)")]
    Unauthorized,
    #[error("this credential may not act for practice {0}")]
    OtherPractice(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("the body is larger than this call accepts ({limit} bytes)")]
    TooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Nothing was written; every problem is listed.
    #[error("{message}")]
    Invalid {
        message: String,
        problems: Vec<String>,
    },
    /// The booking could not be made now, for these reasons (codes of the query module).
    #[error("{message}")]
    Conflict {
        message: String,
        reasons: Vec<&'static str>,
    },
    /// The database can't be reached: try again shortly (`Retry-After`).
    #[error("the service is temporarily unavailable: try again shortly")]
    Unavailable,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "database work could not run");
        ApiError::Unavailable
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::internal(e)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::OtherPractice(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = json!({ "error": self.to_string() });
        match self {
            ApiError::Invalid { problems, .. } => body["problems"] = json!(problems),
            ApiError::Conflict { reasons, .. } => body["reasons"] = json!(reasons),
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "API request failed"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if let ApiError::Unavailable = self {
            res.insert_header((header::RETRY_AFTER, crate::fhir::error::RETRY_AFTER_SECONDS));
        }
        res.json(body)
    }
}

/// JSON extractor errors (wrong shape, no `Content-Type`, too large) in the problem shape.
pub fn json_error(err: actix_web::error::JsonPayloadError) -> ApiError {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::OverflowKnownLength { limit, .. } | E::Overflow { limit } => {
            ApiError::TooLarge { limit }
        }
        E::ContentType => ApiError::UnsupportedMediaType(
            "the body must be JSON, sent with Content-Type: application/json".into(),
        ),
        E::Deserialize(e) => {
            ApiError::BadRequest(format!("the body is not the expected JSON: {e}"))
        }
        other => ApiError::BadRequest(format!("the body could not be read: {other}")),
    }
}

/// Path extractor errors (a non-numeric id) in the problem shape.
pub fn path_error(err: actix_web::error::PathError) -> ApiError {
    ApiError::NotFound(format!("no such record: {err}"))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        match e {
            e @ ImportError::Malformed(_) => ApiError::BadRequest(e.to_string()),
            ImportError::Invalid(problems) => ApiError::Invalid {
                message: "the import was rejected and nothing was written".into(),
                problems,
            },
            e @ ImportError::UnknownPractice(_) => ApiError::NotFound(e.to_string()),
            e => ApiError::internal(e),
        }
    }
}
