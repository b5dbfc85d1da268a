//! The admin UI's background chores, started once by `server::serve`: forgetting sign-in limit
//! keys that have recovered (so the table holds only the attempts of the last window) and
//! deleting expired sessions (so no page load pays for it).

use std::time::Duration;

use actix_web::rt;

use super::settings::LIMITER_SWEEP;
use super::{session_store, sign_in_limits};
use crate::state::AppState;

/// How often expired sessions are deleted (they are refused from the moment they expire).
pub const SESSION_PURGE: Duration = Duration::from_secs(5 * 60);

/// Starts the chores on the current actix runtime; they end with it.
pub fn start(state: &AppState) {
    let pool = state.pool.clone();
    rt::spawn(async move {
        let mut tick = rt::time::interval(LIMITER_SWEEP);
        loop {
            tick.tick().await;
            if let Err(e) = crate::db::run(&pool, |conn| {
                sign_in_limits::forget_recovered(conn).map_err(anyhow::Error::from)
            })
            .await
            {
                tracing::warn!(error = %e, "could not forget recovered sign-in limits");
            }
        }
    });
    let pool = state.pool.clone();
    rt::spawn(async move {
        let mut tick = rt::time::interval(SESSION_PURGE);
        loop {
            tick.tick().await;
            match crate::db::run(&pool, session_store::purge_expired).await {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions deleted"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not delete expired sessions"),
            }
        }
    });
}
