//! "Change your password", for whoever is signed in: the current password, then the new one
//! twice. A change ends the user's sessions everywhere else.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::admin::auth::{SignedIn, run};
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html, layout, see_other, set_flash};
use crate::change_log::Actor;
use crate::state::AppState;
use crate::users::{self, UserError};

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: Errors,
}

fn page(
    session: &Session,
    user: &SignedIn,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let page = PasswordPage {
        layout: layout(session, &user.display_name, "Change your password".into())?,
        errors,
    };
    html(status, &page)
}

pub async fn password_form(session: Session, user: SignedIn) -> Result<HttpResponse, AdminError> {
    page(&session, &user, Errors::default(), StatusCode::OK)
}

/// As typed: passwords are never trimmed, and never shown again.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

pub async fn password_save(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<HttpResponse, AdminError> {
    let mut errors = Errors::default();
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password");
    }
    if form.new_password.is_empty() {
        errors.add("new_password", "Enter a new password");
    } else if form.new_password != form.confirm_password {
        errors.add("confirm_password", "The new passwords do not match");
    }
    if !errors.is_empty() {
        return page(&session, &user, errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let actor = Actor {
        user: Some(user.id),
        name: user.display_name.clone(),
    };
    let id = user.id;
    let result = run(&state, move |conn| {
        Ok(users::change_own_password(
            conn,
            &actor,
            id,
            &form.current_password,
            &form.new_password,
        ))
    })
    .await?;
    match result {
        Ok(()) => {
            // Every session of the user was ended: this one carries on under a new key.
            session.renew();
            set_flash(&session, "Your password has been changed.")?;
            Ok(see_other("/"))
        }
        Err(UserError::WrongPassword) => {
            errors.add("current_password", "Your current password is not right");
            page(&session, &user, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(UserError::Password(problem)) => {
            errors.add("new_password", forms::capitalise(&problem.to_string()));
            page(&session, &user, errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(AdminError::Internal(e.into())),
    }
}
