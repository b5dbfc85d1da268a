//! Sign-in and sign-out, and the signed-in user.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

use actix_session::{Session, SessionExt};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use askama::Template;
use diesel::prelude::*;

use super::client_address;
use super::error::AdminError;
use super::forms::{self, Errors, Form};
use super::security::{forget_sign_in_token, rotate_csrf_token, sign_in_token};
use super::sign_in_limits::{self, Kind};
use super::view::{Layout, html, see_other};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::UserId;
use crate::db::schema::users as user_table;
use crate::state::AppState;
use crate::users;

const USER_KEY: &str = "uid";
/// When the user signed in (Unix seconds): a session ends this long after, however active.
const SIGNED_IN_AT_KEY: &str = "at";

/// Runs database work off the async threads (`db::run` with the admin UI's errors).
pub async fn run<T, F>(state: &AppState, f: F) -> Result<T, AdminError>
where
    T: Send + 'static,
    F: FnOnce(&mut PgConnection) -> Result<T, AdminError> + Send + 'static,
{
    crate::db::run(&state.pool, f).await
}

/// The signed-in user. Extracting it from a request without a live session redirects to the
/// sign-in page.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub id: UserId,
    pub display_name: String,
}

impl FromRequest for SignedIn {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let id = session
                .get::<i64>(USER_KEY)?
                .map(UserId)
                .ok_or(AdminError::SignInRequired)?;
            let state = state.ok_or_else(|| AdminError::internal("no AppState"))?;
            let signed_in_at = session.get::<i64>(SIGNED_IN_AT_KEY)?.unwrap_or(0);
            let age = chrono::Utc::now().timestamp() - signed_in_at;
            if age > state.admin.max_session.num_seconds() {
                session.purge();
                return Err(AdminError::SignInRequired);
            }
            let name = run(&state, move |conn| {
                Ok(user_table::table
                    .find(id)
                    .select(user_table::display_name)
                    .first::<String>(conn)
                    .optional()?)
            })
            .await?;
            match name {
                Some(display_name) => Ok(SignedIn { id, display_name }),
                None => {
                    session.purge();
                    Err(AdminError::SignInRequired)
                }
            }
        })
    }
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    errors: Errors,
    signed_out: bool,
}

/// The sign-in page, with its form's token (and the cookie holding it, when new).
fn login_page(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    username: String,
    errors: Errors,
    signed_out: bool,
) -> Result<HttpResponse, AdminError> {
    let (csrf, cookie) = sign_in_token(req, &state.admin);
    let page = LoginPage {
        layout: Layout {
            title: "Sign in".into(),
            user: None,
            csrf,
            practice: None,
            flash: None,
        },
        username,
        errors,
        signed_out,
    };
    let mut response = html(status, &page)?;
    if let Some(cookie) = cookie {
        response.add_cookie(&cookie).map_err(AdminError::internal)?;
    }
    Ok(response)
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    signed_out: Option<String>,
}

pub async fn login_form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, AdminError> {
    if session.get::<i64>(USER_KEY).ok().flatten().is_some() {
        return Ok(see_other("/"));
    }
    login_page(
        &req,
        &state,
        StatusCode::OK,
        String::new(),
        Errors::default(),
        query.signed_out.is_some(),
    )
}

/// Verifies against this when the username is unknown, so a wrong username takes as long as a
/// wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| users::hash_password("not anyone's password").unwrap_or_default());

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    #[serde(deserialize_with = "forms::text")]
    username: String,
    /// As typed: a password is never trimmed.
    password: String,
}

pub async fn login(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<HttpResponse, AdminError> {
    let username = form.username.to_ascii_lowercase();
    let password = form.password;
    let mut errors = Errors::default();
    if username.is_empty() {
        errors.add("username", "Enter your username");
    }
    if password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return login_page(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            username,
            errors,
            false,
        );
    }
    let address = client_address::of(&req, &state.admin.trusted_proxies);
    let (name, addr) = (username.clone(), address.clone());
    let per_account = state.admin.login_attempts_per_account.get();
    let per_address = state.admin.login_attempts_per_address.get();
    let window = state.admin.sign_in_window;
    let allowed = run(&state, move |conn| {
        let account = sign_in_limits::attempt(conn, Kind::Account, &name, per_account, window)?;
        let address = sign_in_limits::attempt(conn, Kind::Address, &addr, per_address, window)?;
        let allowed = account && address;
        // One change-log row per username per window for its lock-out, however many attempts.
        if !allowed && sign_in_limits::attempt(conn, Kind::LockOut, &name, 1, window)? {
            record_sign_in_event(conn, "sign-in-locked-out", None, &name, &addr)?;
        }
        Ok(allowed)
    })
    .await?;
    if !allowed {
        tracing::warn!(%username, %address, "sign-in rate limited");
        let mut errors = Errors::default();
        errors.add(
            "username",
            "Too many sign-in attempts for this account or from this address: wait a minute, \
             then try again",
        );
        return login_page(
            &req,
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            username,
            errors,
            false,
        );
    }
    let (name, addr) = (username.clone(), address.clone());
    let user = run(&state, move |conn| {
        let found: Option<(UserId, String, String)> = user_table::table
            .filter(user_table::username.eq(&name))
            .select((
                user_table::id,
                user_table::password_hash,
                user_table::display_name,
            ))
            .first(conn)
            .optional()?;
        let user = match found {
            Some((id, hash, display_name)) => {
                users::verify_password(&password, &hash).then_some((id, display_name))
            }
            None => {
                users::verify_password(&password, &DUMMY_HASH);
                None
            }
        };
        match &user {
            Some(u) => record_sign_in_event(conn, "sign-in", Some(u), &name, &addr)?,
            None => record_sign_in_event(conn, "sign-in-failed", None, &name, &addr)?,
        }
        Ok(user.map(|(id, _)| id))
    })
    .await?;
    let Some(user) = user else {
        tracing::info!(%username, %address, "sign-in failed");
        let mut errors = Errors::default();
        errors.add("username", "Enter a correct username and password");
        return login_page(
            &req,
            &state,
            StatusCode::UNAUTHORIZED,
            username,
            errors,
            false,
        );
    };
    // A new session key at sign-in, so a key planted before it is worth nothing after.
    session.renew();
    session.insert(USER_KEY, user.0)?;
    session.insert(SIGNED_IN_AT_KEY, chrono::Utc::now().timestamp())?;
    rotate_csrf_token(&session)?;
    tracing::info!(%username, "signed in");
    let mut response = see_other("/");
    response
        .add_cookie(&forget_sign_in_token(&state.admin))
        .map_err(AdminError::internal)?;
    Ok(response)
}

pub async fn logout(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    if let Some(id) = session.get::<i64>(USER_KEY)?.map(UserId) {
        let address = client_address::of(&req, &state.admin.trusted_proxies);
        run(&state, move |conn| {
            let found: Option<(String, String)> = user_table::table
                .find(id)
                .select((user_table::username, user_table::display_name))
                .first(conn)
                .optional()?;
            if let Some((username, display_name)) = found {
                let user = (id, display_name);
                record_sign_in_event(conn, "sign-out", Some(&user), &username, &address)?;
            }
            Ok(())
        })
        .await?;
    }
    session.purge();
    Ok(see_other("/login?signed_out=1"))
}

/// Sign-in, failed sign-in, lock-out and sign-out in the change log (no practice: a user's
/// own). The username as typed, cut to the longest a username can be.
fn record_sign_in_event(
    conn: &mut PgConnection,
    action: &str,
    user: Option<&(UserId, String)>,
    username: &str,
    address: &str,
) -> diesel::QueryResult<()> {
    let username: String = username.chars().take(64).collect();
    let actor = match user {
        Some((id, display_name)) => Actor {
            user: Some(*id),
            name: display_name.clone(),
        },
        None => Actor::system("sign-in"),
    };
    change_log::record(
        conn,
        &actor,
        Change::new(action, "user")
            .entity(user.map(|(id, _)| id.0))
            .after(serde_json::json!({ "username": username, "address": address })),
    )
}
