//! Running as a service: outages answered fast and recovered from, readiness, shutdown.
//! These tests drive a PostgreSQL of their own, which they stop and start.

mod outage;

use std::path::PathBuf;

use bookable::db::pg_local::Cluster;
use diesel::{Connection, PgConnection, RunQueryDsl};

/// A private PostgreSQL cluster the test stops and starts; removed when dropped.
pub struct Postgres {
    cluster: Cluster,
    dir: PathBuf,
}

impl Postgres {
    /// A started cluster with a migrated database `bookable`.
    pub fn start() -> Postgres {
        let dir = std::env::temp_dir().join(format!("bk-ops-{:08x}", rand::random::<u32>()));
        std::fs::create_dir(&dir).unwrap();
        let cluster = Cluster::new(dir.clone()).unwrap();
        cluster.initdb(false).unwrap();
        let pg = Postgres { cluster, dir };
        pg.up();
        diesel::sql_query("CREATE DATABASE bookable")
            .execute(&mut PgConnection::establish(&pg.cluster.url("postgres")).unwrap())
            .unwrap();
        bookable::db::migrate(&mut pg.conn()).unwrap();
        pg
    }

    pub fn url(&self) -> String {
        self.cluster.url("bookable")
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url()).unwrap()
    }

    pub fn up(&self) {
        self.cluster
            .start("-c fsync=off -c synchronous_commit=off")
            .unwrap();
    }

    pub fn down(&self) {
        self.cluster.stop().unwrap();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.cluster.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
