//! The practice managers' admin UI: sign-in, schedules and slots, bulk edits, the consumer
//! preview and the audit log, served as plain HTML forms (no JavaScript) in the NHS.UK style.
//!
//! Everything here sits in one guarded scope (`/`, `/login`, `/logout`, `/practices/...`) that
//! alone carries the session, CSRF and security-header middleware, so the FHIR API under
//! `/fhir` gets none of them. Handlers check the user's role at the practice in the path on
//! every request and call the domain (`availability::manage`, `availability::query`), which
//! always filters by that practice: another practice's records are simply not found (404).

mod auth;
mod error;
mod forms;
mod pages;
mod security;
pub mod session_store;
mod sharing;
mod staff_pages;
mod view;

/// For pages of other areas served inside this scope (the reports): sign-in, access, errors.
pub use auth::{Access, SignedIn, run};
pub use error::AdminError;

use std::num::NonZeroU32;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::cookie::{Key, SameSite};
use actix_web::{guard, middleware, web};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::server::AppState;

/// The admin UI's settings, in `AppState::admin`. The defaults suit tests and the demo (plain
/// HTTP on loopback, a session key made at start); `bookable serve` sets `cookie_secure`.
#[derive(Clone)]
pub struct AdminSettings {
    /// Encrypts the session cookie (64 bytes). Sessions themselves live in PostgreSQL.
    pub session_key: Key,
    /// Send the session cookie only over HTTPS.
    pub cookie_secure: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: chrono::TimeDelta,
    /// A session ends this long after sign-in, however active.
    pub max_session: chrono::TimeDelta,
    /// Failed-or-not sign-in attempts allowed per minute for one username, and for one address.
    pub login_attempts_per_account: NonZeroU32,
    pub login_attempts_per_address: NonZeroU32,
    limiters: Arc<LoginLimiters>,
}

struct LoginLimiters {
    account: DefaultKeyedRateLimiter<String>,
    address: DefaultKeyedRateLimiter<String>,
}

impl AdminSettings {
    pub fn new(
        session_key: Key,
        cookie_secure: bool,
        per_account: NonZeroU32,
        per_address: NonZeroU32,
    ) -> Self {
        AdminSettings {
            session_key,
            cookie_secure,
            idle_timeout: chrono::TimeDelta::minutes(30),
            max_session: chrono::TimeDelta::hours(12),
            login_attempts_per_account: per_account,
            login_attempts_per_address: per_address,
            limiters: Arc::new(LoginLimiters {
                account: RateLimiter::keyed(Quota::per_minute(per_account)),
                address: RateLimiter::keyed(Quota::per_minute(per_address)),
            }),
        }
    }
}

impl AdminSettings {
    /// For `bookable serve` and the demo: `BOOKABLE_SESSION_KEY` (base64 of at least 64 random
    /// bytes; unset: a new key at each start, which signs everyone out on restart) and
    /// `BOOKABLE_COOKIE_SECURE` (`true`/`false`; unset: `secure_by_default`).
    pub fn from_env(secure_by_default: bool) -> anyhow::Result<Self> {
        use base64::Engine;
        let cookie_secure = match std::env::var("BOOKABLE_COOKIE_SECURE") {
            Ok(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("BOOKABLE_COOKIE_SECURE must be true or false"))?,
            Err(_) => secure_by_default,
        };
        let session_key = match std::env::var("BOOKABLE_SESSION_KEY") {
            Ok(v) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .map_err(|e| anyhow::anyhow!("BOOKABLE_SESSION_KEY is not base64: {e}"))?;
                anyhow::ensure!(
                    bytes.len() >= 64,
                    "BOOKABLE_SESSION_KEY must hold at least 64 bytes"
                );
                Key::from(&bytes)
            }
            Err(_) => Key::generate(),
        };
        let defaults = AdminSettings::default();
        Ok(AdminSettings::new(
            session_key,
            cookie_secure,
            defaults.login_attempts_per_account,
            defaults.login_attempts_per_address,
        ))
    }
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings::new(
            Key::generate(),
            false,
            NonZeroU32::new(5).expect("non-zero"),
            NonZeroU32::new(30).expect("non-zero"),
        )
    }
}

/// The paths the admin scope answers; anything else (`/fhir`, `/health`, `/static`) passes by.
fn is_admin_path(path: &str) -> bool {
    matches!(path, "/" | "/login" | "/logout" | "/practices" | "/reports")
        || path.starts_with("/practices/")
        || path.starts_with("/reports/")
}

/// Registers the admin UI with its own middleware.
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    let settings = &state.admin;
    let sessions = SessionMiddleware::builder(
        session_store::PgSessionStore::new(state.pool.clone()),
        settings.session_key.clone(),
    )
    .cookie_name("bookable_session".to_owned())
    .cookie_secure(settings.cookie_secure)
    .cookie_http_only(true)
    .cookie_same_site(SameSite::Strict)
    .session_lifecycle(
        BrowserSession::default()
            .state_ttl(actix_web::cookie::time::Duration::seconds(
                settings.idle_timeout.num_seconds(),
            ))
            .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
    )
    .build();
    cfg.service(
        web::scope("")
            .guard(guard::fn_guard(|ctx| is_admin_path(ctx.head().uri.path())))
            .wrap(middleware::from_fn(security::csrf_guard))
            .wrap(sessions)
            .wrap(security::headers())
            // Before the practice pages, whose `/practices/{ods}` scope would take the reports.
            .configure(crate::reports::web::routes)
            .configure(pages::routes),
    );
}

#[cfg(test)]
mod tests {
    use super::is_admin_path;

    #[test]
    fn the_admin_scope_leaves_the_api_and_static_files_alone() {
        for p in [
            "/",
            "/login",
            "/logout",
            "/practices",
            "/practices/A20047/audit",
        ] {
            assert!(is_admin_path(p), "{p}");
        }
        for p in [
            "/fhir/Slot",
            "/health",
            "/static/nhsuk/x.css",
            "/practicesX",
            "/loginx",
        ] {
            assert!(!is_admin_path(p), "{p}");
        }
    }
}
