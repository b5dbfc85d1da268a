//! Database access: the connection pool, embedded migrations, the schema and the private
//! PostgreSQL that bookable keeps its data in when `DATABASE_URL` is unset (`data_dir`).

pub mod data_dir;
pub mod health;
pub mod ids;
pub mod named;
pub mod pg_local;
pub mod schema;

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use health::Health;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// How the pool is sized and how long a request waits for one of its connections.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    /// A request that can't get a connection this quickly is answered "unavailable".
    pub checkout_timeout: Duration,
}

impl PoolSettings {
    pub fn new(max_size: u32) -> Self {
        PoolSettings {
            max_size,
            checkout_timeout: Duration::from_secs(2),
        }
    }
}

/// A connection idle longer than this is tested (`SELECT 1`) before it is used: it may have
/// died in the pool (a restart, a failover) before the watcher noticed. Under load connections
/// are busier than this, so the search pays no extra round trip.
const IDLE_TEST: Duration = Duration::from_millis(100);

/// See [`DbPool::checkout`].
const CHECKOUT_SLICE: Duration = Duration::from_millis(100);

thread_local! {
    /// Set just before a connection found dead is dropped, so the pool closes it.
    static DISCARD: Cell<bool> = const { Cell::new(false) };
}

/// diesel's connection manager, but a connection found dead is closed rather than kept.
pub struct Manager(ConnectionManager<PgConnection>);

impl ManageConnection for Manager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        DISCARD.with(Cell::take) || self.0.has_broken(conn)
    }
}

/// When a pooled connection was last used, and in which epoch of [`Health`].
struct LastUse {
    at: Instant,
    epoch: u64,
}

/// The pool, with what its watcher knows about the database.
#[derive(Clone)]
pub struct DbPool {
    pool: Pool<Manager>,
    health: Arc<Health>,
    /// Callers inside [`DbPool::checkout`] now (metrics).
    waiting: Arc<AtomicUsize>,
}

pub type DbConn = PooledConnection<Manager>;

impl std::ops::Deref for DbPool {
    type Target = Pool<Manager>;

    fn deref(&self) -> &Pool<Manager> {
        &self.pool
    }
}

pub fn pool(url: &str, max_size: u32) -> Result<DbPool, diesel::r2d2::PoolError> {
    pool_with(url, &PoolSettings::new(max_size))
}

pub fn pool_with(url: &str, settings: &PoolSettings) -> Result<DbPool, diesel::r2d2::PoolError> {
    build(url, settings, true)
}

/// A pool that doesn't connect until it is used (for tests of a database that is not there).
pub fn pool_unchecked(url: &str, settings: &PoolSettings) -> DbPool {
    build(url, settings, false).expect("an unchecked pool builds")
}

fn build(
    url: &str,
    settings: &PoolSettings,
    checked: bool,
) -> Result<DbPool, diesel::r2d2::PoolError> {
    let builder = Pool::builder()
        .max_size(settings.max_size)
        .connection_timeout(settings.checkout_timeout)
        // No `SELECT 1` round trip before every checkout (a third of the GP Connect search's
        // round trips): `DbPool::checkout` tests only connections that may have died.
        .test_on_check_out(false);
    let manager = Manager(ConnectionManager::<PgConnection>::new(url));
    let pool = if checked {
        builder.build(manager)?
    } else {
        builder.min_idle(Some(0)).build_unchecked(manager)
    };
    let health = Health::new();
    health::watch(url, &health);
    Ok(DbPool {
        pool,
        health,
        waiting: Arc::default(),
    })
}

impl DbPool {
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// How many callers are waiting for a connection now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// A connection that answers: refused at once while the watcher finds the database down;
    /// one idle for a while, or older than the last outage, is tested first and, if dead,
    /// closed and replaced.
    pub fn checkout(&self) -> Result<DbConn, DbError> {
        if !self.health.database_up() {
            return Err(DbError::Down);
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let got = self.checkout_waiting();
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        got
    }

    fn checkout_waiting(&self) -> Result<DbConn, DbError> {
        let deadline = Instant::now() + self.pool.connection_timeout();
        loop {
            // Waits in short slices, so that once the watcher finds the database down, the
            // requests queued for a blocking thread are answered at once rather than in turn.
            let left = deadline.saturating_duration_since(Instant::now());
            let mut conn = match self.pool.get_timeout(left.min(CHECKOUT_SLICE)) {
                Ok(conn) => conn,
                Err(_) if !self.health.database_up() => return Err(DbError::Down),
                Err(e) if left <= CHECKOUT_SLICE => return Err(e.into()),
                Err(_) => continue,
            };
            let epoch = self.health.epoch();
            let suspect = PooledConnection::extensions(&conn)
                .get::<LastUse>()
                .is_some_and(|u| u.epoch != epoch || u.at.elapsed() > IDLE_TEST);
            if !suspect || conn.ping().is_ok() {
                return Ok(conn);
            }
            self.health.suspect();
            discard(conn);
        }
    }

    /// Gives the connection back, noting its use; after a failure, a dead one is closed (and
    /// false returned: the work failed because its connection was lost).
    fn check_in(&self, mut conn: DbConn, failed: bool) -> bool {
        if failed && conn.ping().is_err() {
            self.health.suspect();
            discard(conn);
            return false;
        }
        let epoch = self.health.epoch();
        PooledConnection::extensions_mut(&mut conn).insert(LastUse {
            at: Instant::now(),
            epoch,
        });
        true
    }
}

fn discard(conn: DbConn) {
    DISCARD.with(|d| d.set(true));
    drop(conn);
    DISCARD.with(|d| d.set(false));
}

/// Why database work could not run at all (the work's own errors are the caller's type).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection")]
    Unavailable(#[from] diesel::r2d2::PoolError),
    #[error("the database is unreachable")]
    Down,
    #[error("the database connection was lost during the work")]
    Lost,
    #[error("the blocking thread pool has shut down")]
    Shutdown(#[from] actix_web::error::BlockingError),
}

/// The one way a handler runs database work: `work` runs on a blocking thread with a pooled
/// connection, and its error type says how a failure to get one is answered. While the database
/// is known to be down, it is answered at once, without queueing for a blocking thread.
pub async fn run<T, E, F>(pool: &DbPool, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
{
    if !pool.health.database_up() {
        return Err(E::from(DbError::Down));
    }
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.checkout()?;
        let result = work(&mut conn);
        // A connection that died under the work (a restart, a failover, a terminated backend)
        // is an outage to the caller, answered "unavailable", not an internal error.
        if !pool.check_in(conn, result.is_err()) {
            return Err(E::from(DbError::Lost));
        }
        result
    })
    .await
    .map_err(|e| E::from(DbError::from(e)))?
}

/// Applies every pending migration; migrations are the only way the schema changes.
pub fn migrate(conn: &mut PgConnection) -> anyhow::Result<()> {
    conn.run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("migrations failed: {e}"))?;
    Ok(())
}
