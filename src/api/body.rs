//! Reading a document body (a rota, a patient list) with a bounded buffer: refused as soon as
//! `Content-Length` or the bytes received pass the call's limit, never buffered past it.

use actix_web::HttpRequest;
use actix_web::http::header;
use actix_web::web::{self, BytesMut};
use futures_util::StreamExt;

use super::error::ApiError;

/// The largest document a practice system may send in one call: 64 MiB, several times a
/// 26-week rota of a large practice (about 12 MB for 60,000 slots).
pub const DOCUMENT_LIMIT: usize = 64 * 1024 * 1024;

/// The largest batch of the clinical system's own appointments in one call: 8 MiB, about
/// 10,000 appointments; a larger batch is sent in several documents.
pub const APPOINTMENTS_LIMIT: usize = 8 * 1024 * 1024;

/// The largest patient list in one call: 8 MiB, about 12,000 patients; a larger list is sent
/// in several documents.
pub const PATIENTS_LIMIT: usize = 8 * 1024 * 1024;

/// The body as a JSON document of at most `limit` bytes.
pub async fn read_document(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<String, ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::UnsupportedMediaType(
            "the body must be JSON, sent with Content-Type: application/json".into(),
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit });
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))
}
