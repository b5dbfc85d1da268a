//! The practice's users page, for its admins: add a user, change a role, remove access.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html, local_stamp, see_other, set_flash};
use crate::credentials;
use crate::db::ids::UserId;
use crate::state::AppState;
use crate::users::practice::{self, PracticeUser, PracticeUserError};
use crate::users::{Role, UserError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(users_page))
        .route("/users", web::post().to(add_user))
        .route("/users/{user}", web::post().to(change_user));
}

const ROLES: [&str; 3] = ["viewer", "manager", "admin"];

/// The new user form, as sent and as shown.
#[derive(Deserialize, Default)]
#[serde(default)]
struct NewUserForm {
    #[serde(deserialize_with = "forms::text")]
    username: String,
    #[serde(deserialize_with = "forms::text")]
    display_name: String,
    #[serde(deserialize_with = "forms::text")]
    role: String,
    /// As typed: a password is never trimmed, and never shown again.
    password: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    ods: String,
    me: UserId,
    users: Vec<PracticeUser>,
    systems: Vec<SystemRow>,
    form: NewUserForm,
    errors: Errors,
    roles: [&'static str; 3],
}

/// A practice system's credential as the practice's admins see it: never its secret.
struct SystemRow {
    name: String,
    created: String,
    last_used: String,
    revoked: Option<String>,
}

impl UsersPage {
    fn is_me(&self, id: &UserId) -> bool {
        *id == self.me
    }
}

async fn render(
    state: &AppState,
    session: &Session,
    access: &PracticeAccess,
    form: NewUserForm,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    access.require_admin()?;
    let id = access.id();
    let (users, listed) = run(state, move |conn| {
        Ok((
            practice::list(conn, id)?,
            credentials::list(conn, Some(id))?,
        ))
    })
    .await?;
    let systems = listed
        .into_iter()
        .map(|l| SystemRow {
            name: l.credential.name,
            created: local_stamp(&l.credential.created_at),
            last_used: l
                .credential
                .last_used_at
                .as_ref()
                .map_or_else(|| "Never".to_owned(), local_stamp),
            revoked: l.credential.revoked_at.as_ref().map(local_stamp),
        })
        .collect();
    let page = UsersPage {
        layout: access.layout(session, "Users", "users")?,
        ods: access.ods().to_owned(),
        me: access.user.id,
        users,
        systems,
        form,
        errors,
        roles: ROLES,
    };
    html(status, &page)
}

async fn users_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let form = NewUserForm {
        role: "viewer".into(),
        ..NewUserForm::default()
    };
    render(
        &state,
        &session,
        &access,
        form,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn add_user(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(mut form): Form<NewUserForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_admin()?;
    form.username = form.username.to_ascii_lowercase();
    let password = std::mem::take(&mut form.password);
    let mut errors = Errors::default();
    if form.display_name.is_empty() {
        errors.add("display_name", "Enter the person's name");
    }
    let role = Role::parse(&form.role);
    if role.is_none() {
        errors.add("role", "Select a role");
    }
    let actor = access.actor();
    let practice = access.id();
    let (username, display_name) = (form.username.clone(), form.display_name.clone());
    let valid = errors.is_empty();
    let result = run(&state, move |conn| {
        Ok(match (valid, role) {
            (true, Some(role)) => Some(practice::add_new(
                conn,
                &actor,
                practice,
                &username,
                &display_name,
                &password,
                role,
            )),
            _ => None,
        })
    })
    .await?;
    match result {
        Some(Ok(_)) => {
            set_flash(&session, &format!("Added {}.", form.username))?;
            return Ok(see_other(&format!("/practices/{}/users", access.ods())));
        }
        Some(Err(PracticeUserError::UsernameTaken)) => {
            errors.add("username", "That username is taken: choose another")
        }
        Some(Err(PracticeUserError::Invalid(UserError::Password(problem)))) => {
            errors.add("password", forms::capitalise(&problem.to_string()))
        }
        Some(Err(PracticeUserError::Invalid(e))) => {
            errors.add("username", forms::capitalise(&e.to_string()))
        }
        Some(Err(e)) => return Err(AdminError::Internal(e.into())),
        None => {}
    }
    render(
        &state,
        &session,
        &access,
        form,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    /// A role's code, or "remove".
    #[serde(deserialize_with = "forms::text")]
    role: String,
}

async fn change_user(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, UserId)>,
    Form(form): Form<RoleForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_admin()?;
    let (_, user) = path.into_inner();
    let role = match form.role.as_str() {
        "remove" => None,
        r => Some(Role::parse(r).ok_or(AdminError::Forbidden("Select a role from the list."))?),
    };
    let actor = access.actor();
    let practice = access.id();
    let result = run(&state, move |conn| {
        Ok(practice::set_role(conn, &actor, practice, user, role))
    })
    .await?;
    match result {
        Ok(()) => {
            set_flash(
                &session,
                if role.is_some() {
                    "Role saved."
                } else {
                    "Access removed."
                },
            )?;
            Ok(see_other(&format!("/practices/{}/users", access.ods())))
        }
        Err(PracticeUserError::NotFound) => Err(AdminError::NotFound),
        Err(PracticeUserError::OwnAccess) => Err(AdminError::Forbidden(
            "You can't change or remove your own access: ask another admin of this practice.",
        )),
        Err(e) => Err(AdminError::Internal(e.into())),
    }
}
