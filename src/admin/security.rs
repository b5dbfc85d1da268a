//! CSRF protection (synchronizer token in the server-side session, checked on every non-GET
//! request of the admin scope before any handler runs) and the security headers.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, HttpResponse, web};
use rand::RngCore;

use super::error::render_error_page;

const CSRF_SESSION_KEY: &str = "csrf";
pub const CSRF_FIELD: &str = "csrf_token";

pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        // Every admin page shows one practice's rota to one user: never cache it.
        .add((header::CACHE_CONTROL, "no-store"))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session's CSRF token, made on first use.
pub fn csrf_token(session: &Session) -> Result<String, Error> {
    if let Some(token) = session.get::<String>(CSRF_SESSION_KEY)? {
        return Ok(token);
    }
    let token = new_token();
    session.insert(CSRF_SESSION_KEY, &token)?;
    Ok(token)
}

/// A new token, for a new session (after sign-in).
pub fn rotate_csrf_token(session: &Session) -> Result<String, Error> {
    let token = new_token();
    session.insert(CSRF_SESSION_KEY, &token)?;
    Ok(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An `Origin` header, when sent, must be this site's own.
fn same_origin(req: &ServiceRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = req.connection_info().host().to_owned();
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(&host))
}

pub async fn csrf_guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let body = req.extract::<web::Bytes>().await?;
    let sent = std::str::from_utf8(&body)
        .ok()
        .and_then(|s| web::Query::<Vec<(String, String)>>::from_query(s).ok())
        .and_then(|q| {
            q.into_inner()
                .into_iter()
                .find(|(k, _)| k == CSRF_FIELD)
                .map(|(_, v)| v)
        });
    let expected = req
        .get_session()
        .get::<String>(CSRF_SESSION_KEY)
        .ok()
        .flatten();
    let valid = same_origin(&req)
        && matches!((&sent, &expected), (Some(s), Some(e)) if constant_time_eq(s.as_bytes(), e.as_bytes()));
    if !valid {
        let page = render_error_page(
            "This form has expired",
            "Your change was not saved: the form was out of date or was not sent from this \
             site. Go back, reload the page and try again.",
        );
        let response = HttpResponse::Forbidden()
            .content_type("text/html; charset=utf-8")
            .body(page);
        return Ok(req.into_response(response).map_into_right_body());
    }
    req.set_payload(Payload::from(body));
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
