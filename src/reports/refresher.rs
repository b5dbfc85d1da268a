//! The summary cache brought up to date in the background, so no one waits for it: a task that
//! `server::run` starts looks for days that imports, bulk edits and every other change marked
//! dirty (`report_summary_dirty`) every [`POLL`], and recomputes them a few practices at a time
//! ([`BATCH`]), each batch one [`refresh_dirty`] under the cache's advisory lock. A report asked
//! meanwhile waits for one batch at most, and a report asked after it reads a warm cache.

use std::time::Duration;

use actix_web::rt;
use tokio::sync::watch;

use super::summary::refresh_dirty;
use crate::db::{DbError, DbPool};

/// How often the task looks for dirty days when it found none last time.
pub const POLL: Duration = Duration::from_secs(2);

/// Practices recomputed in one transaction: small enough that a report waiting for the lock
/// waits about a second on the 6-million-slot set, large enough to keep the rounds few.
pub const BATCH: i64 = 10;

/// The running task; [`Refresher::stop`] ends it between two batches.
pub struct Refresher {
    stop: watch::Sender<bool>,
    task: rt::task::JoinHandle<()>,
}

/// Starts the task on the current actix runtime.
pub fn start(pool: DbPool) -> Refresher {
    let (stop, mut stopped) = watch::channel(false);
    let task = rt::spawn(async move {
        loop {
            let found = match crate::db::run(&pool, |conn| {
                refresh_dirty(conn, BATCH).map_err(Failed::Query)
            })
            .await
            {
                Ok(n) => n,
                // The pool's health watcher reports outages; the next look tries again.
                Err(Failed::Db(DbError::Down)) => 0,
                Err(e) => {
                    tracing::warn!(error = %e, "could not bring the report summary up to date");
                    0
                }
            };
            if *stopped.borrow() {
                break;
            }
            if found > 0 {
                tracing::debug!(practices = found, "report summary brought up to date");
                continue;
            }
            // Until the next look, or the stop (a closed channel is a stop too).
            if rt::time::timeout(POLL, stopped.changed()).await.is_ok() {
                break;
            }
        }
    });
    Refresher { stop, task }
}

impl Refresher {
    /// Ends the task after the batch it is running, if any, and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Query(diesel::result::Error),
}
