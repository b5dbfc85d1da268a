//! CSRF protection, checked on every non-GET request of the admin scope before any handler
//! runs: a synchronizer token in the server-side session for signed-in users, and for the one
//! anonymous form (sign-in) a signed double-submit cookie, so no session row exists before
//! someone signs in. Also the security headers, and sign-in redirects kept out of the error log.

use actix_session::{Session, SessionExt};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, CookieJar, Key, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{Error, HttpRequest, HttpResponse, web};
use rand::RngCore;

use super::error::{AdminError, render_error_page};
use super::settings::AdminSettings;
use crate::state::AppState;

const CSRF_SESSION_KEY: &str = "csrf";
pub const CSRF_FIELD: &str = "csrf_token";

pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// Two years, subdomains included: what hstspreload.org asks for.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=63072000; includeSubDomains";

pub fn headers(settings: &AdminSettings) -> DefaultHeaders {
    let headers = if settings.hsts {
        DefaultHeaders::new().add((header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY))
    } else {
        DefaultHeaders::new()
    };
    headers
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

/// The cookie holding the sign-in form's token (`__Host-`: only when the cookie is Secure).
fn sign_in_cookie_name(settings: &AdminSettings) -> &'static str {
    if settings.cookie_secure {
        "__Host-bookable_sign_in"
    } else {
        "bookable_sign_in"
    }
}

/// The sign-in token the request's signed cookie holds, if its signature is good.
fn sign_in_cookie_token(cookie: Option<Cookie<'static>>, name: &str, key: &Key) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(cookie?);
    jar.signed(key).get(name).map(|c| c.value().to_owned())
}

/// The sign-in form's CSRF token, and the cookie to set when the browser has none yet. The
/// form is anonymous, so the token is not kept in a session (which would cost a database row
/// per visit) but in a cookie signed with the session key (HttpOnly, SameSite=Strict): a
/// double submit that another site can neither read nor forge.
pub fn sign_in_token(
    req: &HttpRequest,
    settings: &AdminSettings,
) -> (String, Option<Cookie<'static>>) {
    let name = sign_in_cookie_name(settings);
    if let Some(token) = sign_in_cookie_token(req.cookie(name), name, &settings.session_key) {
        return (token, None);
    }
    let token = new_token();
    let cookie = Cookie::build(name, token.clone())
        .path("/")
        .http_only(true)
        .secure(settings.cookie_secure)
        .same_site(SameSite::Strict)
        .finish();
    let mut jar = CookieJar::new();
    jar.signed_mut(&settings.session_key).add(cookie);
    let signed = jar.get(name).cloned();
    (token, signed)
}

/// Removes the sign-in token's cookie (after signing in, the session's token takes over).
pub fn forget_sign_in_token(settings: &AdminSettings) -> Cookie<'static> {
    let mut cookie = Cookie::build(sign_in_cookie_name(settings), "")
        .path("/")
        .http_only(true)
        .secure(settings.cookie_secure)
        .same_site(SameSite::Strict)
        .finish();
    cookie.make_removal();
    cookie
}

/// An `Origin` header, when sent, must be this site's own: scheme, host and port.
fn same_origin(req: &ServiceRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let info = req.connection_info();
    let expected = format!("{}://{}", info.scheme(), info.host());
    origin.eq_ignore_ascii_case(&expected)
}

/// The token a form posted to this path must carry: the sign-in cookie's for `/login`, the
/// session's for everything else.
fn expected_token(req: &ServiceRequest) -> Option<String> {
    if req.path() == "/login" {
        let settings = &req.app_data::<web::Data<AppState>>()?.admin;
        let name = sign_in_cookie_name(settings);
        return sign_in_cookie_token(req.cookie(name), name, &settings.session_key);
    }
    req.get_session()
        .get::<String>(CSRF_SESSION_KEY)
        .ok()
        .flatten()
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
    let expected = expected_token(&req);
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

/// A page that needs a signed-in user answers a redirect to the sign-in page: routine, so it
/// is logged at INFO and handed on as a plain response, not as an error (which the request
/// logger would record at ERROR).
pub async fn quiet_sign_in_redirects(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let res = next.call(req).await?;
    let sign_in_required = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AdminError>())
        .is_some_and(|e| matches!(e, AdminError::SignInRequired));
    if !sign_in_required {
        return Ok(res.map_into_left_body());
    }
    tracing::info!(
        path = res.request().path(),
        "sign-in required: redirected to /login"
    );
    let (req, _) = res.into_parts();
    let redirect = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/login"))
        .finish();
    Ok(ServiceResponse::new(req, redirect).map_into_right_body())
}
