//! bookable's own data when `DATABASE_URL` is unset: one persistent PostgreSQL cluster in a data
//! folder (`BOOKABLE_DATA_DIR`), created on first use, started by whichever command needs it and
//! shared by every command running at the same time (a `serve` while `user add` runs). The last
//! command to finish stops it cleanly.
//!
//! Two lock files in the folder make that safe between processes: every command holds a shared
//! lock on `users.lock` for as long as it uses the cluster, and starting or stopping happens only
//! under the exclusive `control.lock`. A command stops the cluster only if, holding `control.lock`
//! and having dropped its own shared lock, it can take `users.lock` exclusively: nobody else is
//! using it. A command killed without stopping leaves the server running for the next one.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use anyhow::Context;
use diesel::{Connection, PgConnection, RunQueryDsl};

use super::pg_local::Cluster;

/// The default data folder: `/var/lib/bookable` as root (the `postgres` user must reach it, which
/// it cannot under root's home), else `$XDG_DATA_HOME/bookable` or `~/.local/share/bookable`.
pub fn default_dir() -> PathBuf {
    // geteuid has no preconditions and cannot fail.
    #[allow(unsafe_code)]
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        return PathBuf::from("/var/lib/bookable");
    }
    match std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d).join("bookable"),
        None => std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join(".local/share/bookable"),
    }
}

/// A running persistent cluster, in use by this process until dropped.
pub struct SharedPostgres {
    cluster: Cluster,
    dir: PathBuf,
    users: Option<File>,
}

impl SharedPostgres {
    /// Opens the cluster in `dir` (creating the folder and the cluster when new), starts it unless
    /// another command already has, and makes sure `database` exists.
    pub fn open(dir: &Path, database: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data folder {}", dir.display()))?;
        let dir = dir
            .canonicalize()
            .with_context(|| format!("finding the data folder {}", dir.display()))?;
        let pg_dir = dir.join("pg");
        std::fs::create_dir_all(&pg_dir)?;
        let cluster = Cluster::new(pg_dir)?;
        let control = lock_file(&dir, "control.lock")?;
        control.lock()?;
        let users = lock_file(&dir, "users.lock")?;
        users.lock_shared()?;
        if !cluster.is_initialised() {
            cluster.initdb(true)?;
        }
        if !cluster.is_running() {
            cluster.start("")?;
        }
        drop(control);
        let shared = SharedPostgres {
            cluster,
            dir,
            users: Some(users),
        };
        shared.ensure_database(database)?;
        Ok(shared)
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn url(&self, database: &str) -> String {
        self.cluster.url(database)
    }

    fn ensure_database(&self, database: &str) -> anyhow::Result<()> {
        let mut admin = PgConnection::establish(&self.url("postgres"))?;
        let exists: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "count(*) FROM pg_database WHERE datname = '{}'",
            database.replace('\'', "''")
        )))
        .get_result(&mut admin)?;
        if exists == 0 {
            diesel::sql_query(format!(
                "CREATE DATABASE \"{}\"",
                database.replace('"', "\"\"")
            ))
            .execute(&mut admin)?;
        }
        Ok(())
    }

    /// Drops `database` and makes it again, empty (the demo's `--fresh`).
    pub fn recreate_database(&self, database: &str) -> anyhow::Result<()> {
        let mut admin = PgConnection::establish(&self.url("postgres"))?;
        let quoted = format!("\"{}\"", database.replace('"', "\"\""));
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE {quoted}")).execute(&mut admin)?;
        Ok(())
    }

    /// Stops the cluster if no other command is using it.
    fn release(&mut self) -> anyhow::Result<()> {
        let Some(users) = self.users.take() else {
            return Ok(());
        };
        let control = lock_file(&self.dir, "control.lock")?;
        control.lock()?;
        users.unlock()?;
        if users.try_lock().is_ok() && self.cluster.is_running() {
            self.cluster.stop()?;
        }
        Ok(())
    }
}

impl Drop for SharedPostgres {
    fn drop(&mut self) {
        if let Err(e) = self.release() {
            eprintln!("could not stop the private PostgreSQL cleanly: {e:#}");
        }
    }
}

fn lock_file(dir: &Path, name: &str) -> anyhow::Result<File> {
    let path = dir.join(name);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))
}
