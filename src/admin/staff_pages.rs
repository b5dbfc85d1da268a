//! The practice's users page, for its admins: add a user, change a role, remove access.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::auth::{Access, SignedIn, run, see_other, set_flash};
use super::error::AdminError;
use super::forms::{self, Errors, FormData};
use super::pages::{actor, practice_layout};
use super::view::{Layout, html};
use crate::db::ids::UserId;
use crate::users::practice::{self, PracticeUser, PracticeUserError};
use crate::users::{Role, UserError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(users_page))
        .route("/users", web::post().to(add_user))
        .route("/users/{user}", web::post().to(change_user));
}

const ROLES: [&str; 3] = ["viewer", "manager", "admin"];

struct NewUser {
    username: String,
    display_name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    layout: Layout,
    ods: String,
    me: UserId,
    users: Vec<PracticeUser>,
    form: NewUser,
    errors: Errors,
    roles: [&'static str; 3],
}

impl UsersPage {
    fn is_me(&self, id: &UserId) -> bool {
        *id == self.me
    }
}

async fn render(
    state: &crate::state::AppState,
    session: &Session,
    user: &SignedIn,
    ods: String,
    form: NewUser,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let uid = user.id;
    let (access, users) = run(state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        access.require_admin()?;
        let users = practice::list(conn, access.id())?;
        Ok((access, users))
    })
    .await?;
    let page = UsersPage {
        layout: practice_layout(session, user, &access, "Users", "users")?,
        ods: access.practice.ods_code.clone(),
        me: user.id,
        users,
        form,
        errors,
        roles: ROLES,
    };
    html(status, &page)
}

async fn users_page(
    state: web::Data<crate::state::AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let form = NewUser {
        username: String::new(),
        display_name: String::new(),
        role: "viewer".into(),
    };
    render(
        &state,
        &session,
        &user,
        path.into_inner(),
        form,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

async fn add_user(
    state: web::Data<crate::state::AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AdminError> {
    let ods = path.into_inner();
    let form = FormData(form.into_inner());
    let new = NewUser {
        username: form
            .get("username")
            .unwrap_or_default()
            .to_ascii_lowercase(),
        display_name: form.get("display_name").unwrap_or_default().to_owned(),
        role: form.get("role").unwrap_or_default().to_owned(),
    };
    let password = form
        .0
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut errors = Errors::default();
    if new.display_name.is_empty() {
        errors.add("display_name", "Enter the person's name");
    }
    let role = Role::parse(&new.role);
    if role.is_none() {
        errors.add("role", "Select a role");
    }
    let uid = user.id;
    let actor = actor(&user);
    let (username, display_name) = (new.username.clone(), new.display_name.clone());
    let ods_path = ods.clone();
    let valid = errors.is_empty();
    let result = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods_path)?;
        access.require_admin()?;
        Ok(match (valid, role) {
            (true, Some(role)) => Some(practice::add_new(
                conn,
                &actor,
                access.id(),
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
            set_flash(&session, &format!("Added {}.", new.username))?;
            return Ok(see_other(&format!(
                "/practices/{}/users",
                ods.to_ascii_uppercase()
            )));
        }
        Some(Err(PracticeUserError::UsernameTaken)) => {
            errors.add("username", "That username is taken: choose another")
        }
        Some(Err(PracticeUserError::Invalid(UserError::WeakPassword))) => {
            errors.add("password", "Enter a password of at least 12 characters")
        }
        Some(Err(PracticeUserError::Invalid(e))) => {
            errors.add("username", forms::capitalise(&e.to_string()))
        }
        Some(Err(e)) => return Err(AdminError::Internal(e.to_string())),
        None => {}
    }
    render(
        &state,
        &session,
        &user,
        ods,
        new,
        errors,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn change_user(
    state: web::Data<crate::state::AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<(String, UserId)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AdminError> {
    let (ods, member) = path.into_inner();
    let form = FormData(form.into_inner());
    let role = match form.get("role") {
        Some("remove") => None,
        Some(r) => {
            Some(Role::parse(r).ok_or(AdminError::Forbidden("Select a role from the list."))?)
        }
        None => return Err(AdminError::Forbidden("Select a role from the list.")),
    };
    let uid = user.id;
    let actor = actor(&user);
    let ods_path = ods.clone();
    let result = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods_path)?;
        access.require_admin()?;
        Ok(practice::set_role(conn, &actor, access.id(), member, role))
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
            Ok(see_other(&format!(
                "/practices/{}/users",
                ods.to_ascii_uppercase()
            )))
        }
        Err(PracticeUserError::NotFound) => Err(AdminError::NotFound),
        Err(PracticeUserError::OwnAccess) => Err(AdminError::Forbidden(
            "You can't change or remove your own access: ask another admin of this practice.",
        )),
        Err(e) => Err(AdminError::Internal(e.to_string())),
    }
}
