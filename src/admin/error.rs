//! Errors of the admin UI, each answered with an HTML page (or a redirect to sign in).

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::view::Layout;
use crate::availability::manage::EditError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("sign in required")]
    SignInRequired,
    /// Also what a user gets for another practice's pages: its records don't exist for them.
    #[error("page not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The cause is kept, and logged (with its chain) once, where the 500 page is answered.
    #[error("internal error: {0}")]
    Internal(#[source] anyhow::Error),
    /// The database can't be reached: a page saying so, and `Retry-After`.
    #[error("the service is unavailable")]
    Unavailable,
}

impl AdminError {
    /// An internal error from a cause that can't travel between threads (actix-web's own
    /// errors) or from a message.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        AdminError::Internal(anyhow::anyhow!("{message}"))
    }
}

impl From<diesel::result::Error> for AdminError {
    fn from(e: diesel::result::Error) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<crate::db::DbError> for AdminError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "database work could not run");
        AdminError::Unavailable
    }
}

impl From<askama::Error> for AdminError {
    fn from(e: askama::Error) -> Self {
        AdminError::Internal(e.into())
    }
}

/// actix-web's errors are not `Send`: their message is kept.
impl From<actix_web::Error> for AdminError {
    fn from(e: actix_web::Error) -> Self {
        AdminError::internal(e)
    }
}

impl From<actix_session::SessionInsertError> for AdminError {
    fn from(e: actix_session::SessionInsertError) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<actix_session::SessionGetError> for AdminError {
    fn from(e: actix_session::SessionGetError) -> Self {
        AdminError::Internal(e.into())
    }
}

impl From<EditError> for AdminError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::NotFound => AdminError::NotFound,
            other => AdminError::Internal(other.into()),
        }
    }
}

/// An error page, in the admin layout without the practice menu (it is answered without the
/// request's session).
#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    heading: &'a str,
    message: &'a str,
}

pub fn render_error_page(title: &str, message: &str) -> String {
    ErrorPage {
        layout: Layout {
            title: title.to_owned(),
            user: None,
            csrf: String::new(),
            practice: None,
            flash: None,
        },
        heading: title,
        message,
    }
    .render()
    .unwrap_or_else(|_| title.to_owned())
}

/// What the admin scope answers for a path it has no page at, and for a path whose id is not
/// a number: the styled "Page not found".
pub async fn not_found() -> Result<HttpResponse, AdminError> {
    Err(AdminError::NotFound)
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::SignInRequired => StatusCode::SEE_OTHER,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AdminError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (title, message): (&str, String) = match self {
            AdminError::SignInRequired => {
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, "/login"))
                    .finish();
            }
            AdminError::NotFound => (
                "Page not found",
                "If you typed the web address, check it is correct. You can only see the \
                 practices you have been given access to."
                    .into(),
            ),
            AdminError::Forbidden(why) => ("You can't do this", (*why).to_owned()),
            AdminError::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "admin UI error");
                (
                    "Sorry, there is a problem with the service",
                    "Try again later. Nothing was changed.".into(),
                )
            }
            AdminError::Unavailable => return unavailable_page(),
        };
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(render_error_page(title, &message))
    }
}

/// The styled "service unavailable" page, with `Retry-After`.
fn unavailable_page() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::RETRY_AFTER, crate::fhir::error::RETRY_AFTER_SECONDS))
        .body(render_error_page(
            "Sorry, the service is unavailable",
            "You will be able to use the service again shortly. Try again in a few minutes. \
             If you were saving a change, it was not saved.",
        ))
}

/// Outermost in the admin scope: while the database is down, every admin request (signing in
/// included) gets the "service unavailable" page at once; a server error left without a page
/// (the session store failing inside the session middleware) gets that page too.
pub async fn unavailable_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let down = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .is_some_and(|state| !state.pool.health().database_up());
    if down {
        return Ok(req.into_response(unavailable_page()).map_into_right_body());
    }
    let res = match next.call(req).await {
        Ok(res) => res,
        // Answered, as an error, by the page of `AdminError::Unavailable`.
        Err(e) if e.as_response_error().status_code().is_server_error() => {
            tracing::error!(error = %e, "admin request failed before its page");
            return Err(AdminError::Unavailable.into());
        }
        Err(e) => return Err(e),
    };
    if res
        .response()
        .error()
        .and_then(|e| e.as_error::<AdminError>())
        .is_some_and(|e| matches!(e, AdminError::SignInRequired))
    {
        // Not a failure of the service: the same redirect without the error attached, since
        // the request logger reports every error response that is not a 4xx at ERROR.
        tracing::info!(path = %res.request().path(), "sign-in required: redirected to /login");
        let mut redirect = HttpResponse::build(res.status());
        for (name, value) in res.headers() {
            redirect.append_header((name.clone(), value.clone()));
        }
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(req, redirect.finish()).map_into_right_body());
    }
    let blank = matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    if res.status().is_server_error() && blank {
        let (req, _) = res.into_parts();
        return Ok(ServiceResponse::new(req, unavailable_page()).map_into_right_body());
    }
    Ok(res.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    /// tracing-actix-web logs a response at ERROR when an error is attached and its status is
    /// not a 4xx: the redirect to sign in must reach it without one (issue 11, item 12).
    #[actix_web::test]
    async fn the_redirect_to_sign_in_is_not_an_error_response() {
        use actix_web::{App, middleware, test, web};
        let app = test::init_service(
            App::new()
                .wrap(middleware::from_fn(unavailable_guard))
                .route(
                    "/",
                    web::get().to(|| async { Err::<HttpResponse, _>(AdminError::SignInRequired) }),
                ),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers().get(header::LOCATION).unwrap(), "/login");
        assert!(res.response().error().is_none());
    }

    #[actix_web::test]
    async fn an_internal_error_keeps_its_cause_and_shows_none_of_it() {
        let e = AdminError::from(diesel::result::Error::NotFound);
        let cause = e.source().expect("the cause is kept");
        assert_eq!(
            cause.to_string(),
            diesel::result::Error::NotFound.to_string()
        );
        let response = e.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("Sorry, there is a problem with the service"));
        assert!(!body.contains("Record not found"), "no cause on the page");
    }
}
