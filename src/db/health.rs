//! What the pool knows about its database, kept fresh by a watcher thread with a connection of
//! its own (so a health check never waits behind request work): whether PostgreSQL answers,
//! whether every migration is applied, and an epoch that moves whenever pooled connections may
//! have died (an outage, a restart), so each is tested once before it is used again.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_migrations::MigrationHarness;

/// How often the watcher asks PostgreSQL.
const WATCH_INTERVAL: Duration = Duration::from_millis(500);
/// Readiness needs an answer this recent.
const FRESH: Duration = Duration::from_secs(3);
/// The watcher's own connection gives up connecting after this long.
const CONNECT_TIMEOUT_SECONDS: u32 = 2;

pub struct Health {
    up: AtomicBool,
    migrated: AtomicBool,
    epoch: AtomicU64,
    /// Milliseconds after `started` of the watcher's last answer from PostgreSQL.
    last_answer_ms: AtomicU64,
    watching: AtomicBool,
    started: Instant,
}

/// What `/ready` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    pub database: bool,
    pub migrations: bool,
}

impl Health {
    pub(super) fn new() -> Arc<Health> {
        Arc::new(Health {
            up: AtomicBool::new(true),
            migrated: AtomicBool::new(true),
            epoch: AtomicU64::new(0),
            last_answer_ms: AtomicU64::new(0),
            watching: AtomicBool::new(false),
            started: Instant::now(),
        })
    }

    /// False once the watcher found PostgreSQL unreachable, until it answers again: requests
    /// are then refused at once instead of waiting for a connection.
    pub fn database_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// Pooled connections may have died: test each before its next use.
    pub(super) fn suspect(&self) {
        self.epoch.fetch_add(1, Ordering::Relaxed);
    }

    pub fn readiness(&self) -> Readiness {
        let fresh = self.watching.load(Ordering::Relaxed)
            && self.started.elapsed().as_millis() as u64
                <= self.last_answer_ms.load(Ordering::Relaxed) + FRESH.as_millis() as u64;
        Readiness {
            database: self.database_up() && fresh,
            migrations: self.migrated.load(Ordering::Relaxed),
        }
    }

    fn answered(&self, migrated: bool) {
        self.last_answer_ms
            .store(self.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.migrated.store(migrated, Ordering::Relaxed);
        if !self.up.swap(true, Ordering::Relaxed) {
            tracing::warn!("the database answers again");
            self.suspect();
        }
    }

    fn unreachable(&self, error: &str) {
        if self.up.swap(false, Ordering::Relaxed) {
            tracing::error!(%error, "the database is unreachable");
        }
        self.suspect();
    }
}

/// `url` with a connection timeout, unless it already has one.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={CONNECT_TIMEOUT_SECONDS}")
}

fn connect_and_look(url: &str) -> Result<(PgConnection, String, bool), String> {
    look(PgConnection::establish(url).map_err(|e| e.to_string())?)
}

/// The server's start time, and whether every migration is applied.
fn look(mut c: PgConnection) -> Result<(PgConnection, String, bool), String> {
    let started = diesel::sql_query("SELECT pg_postmaster_start_time()::text AS started")
        .get_result::<StartTime>(&mut c)
        .map_err(|e| e.to_string())?
        .started;
    let migrated = !c
        .has_pending_migration(super::MIGRATIONS)
        .map_err(|e| e.to_string())?;
    Ok((c, started, migrated))
}

#[derive(QueryableByName)]
struct StartTime {
    #[diesel(sql_type = Text)]
    started: String,
}

/// Starts the watcher; it ends when the last pool holding `health` is dropped.
pub(super) fn watch(url: &str, health: &Arc<Health>) {
    let url = with_connect_timeout(url);
    let weak = Arc::downgrade(health);
    health.watching.store(true, Ordering::Relaxed);
    std::thread::Builder::new()
        .name("database-watch".into())
        .spawn(move || watch_loop(&url, &weak))
        .expect("start the database watcher");
}

fn watch_loop(url: &str, weak: &Weak<Health>) {
    let mut conn: Option<PgConnection> = None;
    let mut server_started: Option<String> = None;
    loop {
        let Some(health) = weak.upgrade() else { return };
        // A connection of its own that ended (a restart, a terminated backend) is replaced at
        // once: only a new connection that fails too means the database is down.
        let answer = match conn.take().map(look) {
            Some(Ok(answer)) => Ok(answer),
            Some(Err(_)) => {
                health.suspect();
                connect_and_look(url)
            }
            None => connect_and_look(url),
        };
        match answer {
            Ok((c, started, migrated)) => {
                // A restart between two looks kills every pooled connection too.
                if server_started.as_ref().is_some_and(|s| *s != started) {
                    health.suspect();
                }
                server_started = Some(started);
                health.answered(migrated);
                conn = Some(c);
            }
            Err(e) => health.unreachable(&e),
        }
        drop(health);
        std::thread::sleep(WATCH_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::with_connect_timeout;

    #[test]
    fn the_watcher_connects_with_a_timeout() {
        assert_eq!(
            with_connect_timeout("postgres://u@h/db"),
            "postgres://u@h/db?connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@/db?host=/tmp"),
            "postgres://u@/db?host=/tmp&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9"),
            "postgres://u@h/db?connect_timeout=9"
        );
    }
}
