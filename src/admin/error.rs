//! Errors of the admin UI, each answered with an HTML page (or a redirect to sign in).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

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
        AdminError::Internal(e.into())
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

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

pub fn render_error_page(title: &str, message: &str) -> String {
    ErrorPage { title, message }
        .render()
        .unwrap_or_else(|_| title.to_owned())
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::SignInRequired => StatusCode::SEE_OTHER,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        };
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .body(render_error_page(title, &message))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

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
