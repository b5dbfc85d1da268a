//! Database access: the connection pool, embedded migrations, the schema and the private
//! PostgreSQL that bookable keeps its data in when `DATABASE_URL` is unset (`data_dir`).

pub mod data_dir;
pub mod ids;
pub mod pg_local;
pub mod schema;

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

pub type DbPool = Pool<ConnectionManager<PgConnection>>;
pub type DbConn = PooledConnection<ConnectionManager<PgConnection>>;

pub fn pool(url: &str, max_size: u32) -> Result<DbPool, diesel::r2d2::PoolError> {
    Pool::builder()
        .max_size(max_size)
        // No `SELECT 1` round trip before every checkout (a third of the GP Connect search's
        // round trips): a connection that breaks is still dropped, after its failed query.
        .test_on_check_out(false)
        .build(ConnectionManager::<PgConnection>::new(url))
}

/// Why database work could not run at all (the work's own errors are the caller's type).
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no database connection")]
    Unavailable(#[from] diesel::r2d2::PoolError),
    #[error("the blocking thread pool has shut down")]
    Shutdown(#[from] actix_web::error::BlockingError),
}

/// The one way a handler runs database work: `work` runs on a blocking thread with a pooled
/// connection, and its error type says how a failure to get one is answered.
pub async fn run<T, E, F>(pool: &DbPool, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<DbError> + Send + 'static,
    F: FnOnce(&mut PgConnection) -> Result<T, E> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().map_err(DbError::from)?;
        work(&mut conn)
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
