//! The practice managers' admin UI: sign-in, schedules and slots, bulk edits, the consumer
//! preview and the audit log, served as plain HTML forms (no JavaScript) in the NHS.UK style.
//!
//! Everything here sits in one guarded scope (`/`, `/login`, `/logout`, `/practices/...`) that
//! alone carries the session, CSRF and security-header middleware, so the FHIR API under
//! `/fhir` gets none of them. Handlers check the user's role at the practice in the path on
//! every request and call the domain (`availability::manage`, `availability::query`), which
//! always filters by that practice: another practice's records are simply not found (404).

mod access;
mod auth;
mod client_address;
mod error;
mod forms;
pub mod housekeeping;
mod pages;
mod security;
pub mod session_store;
mod settings;
pub mod sign_in_limits;
mod view;
mod who_can_book;

/// For pages of other areas served inside this scope (the reports): sign-in, access, errors.
pub use access::{Access, PracticeAccess};
pub use auth::{SignedIn, run};
pub use error::AdminError;
pub use settings::AdminSettings;
pub use view::{Layout, html, layout};

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, TtlExtensionPolicy};
use actix_web::cookie::SameSite;
use actix_web::{guard, middleware, web};

use crate::state::AppState;

/// The paths the admin scope answers; anything else (`/fhir`, `/health`, `/static`) passes by.
fn is_admin_path(path: &str) -> bool {
    matches!(
        path,
        "/" | "/login" | "/logout" | "/practices" | "/reports" | "/account/password"
    ) || path.starts_with("/practices/")
        || path.starts_with("/reports/")
}

/// Registers the admin UI with its own middleware.
pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    let settings = &state.admin;
    let sessions = SessionMiddleware::builder(
        session_store::PgSessionStore::new(state.pool.clone()),
        settings.session_key.clone(),
    )
    // `__Host-`: the browser keeps it only if Secure, for this host alone, on every path.
    .cookie_name(if settings.cookie_secure {
        "__Host-bookable_session".to_owned()
    } else {
        "bookable_session".to_owned()
    })
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
            .wrap(middleware::from_fn(security::quiet_sign_in_redirects))
            .wrap(middleware::from_fn(security::csrf_guard))
            .wrap(sessions)
            .wrap(security::headers(settings))
            .wrap(middleware::from_fn(error::unavailable_guard))
            .app_data(web::PathConfig::default().error_handler(|_, _| AdminError::NotFound.into()))
            .default_service(web::to(error::not_found))
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
            "/account/password",
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
