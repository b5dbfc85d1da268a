//! Running as a service: outages answered fast and recovered from, readiness, shutdown.
//! These tests drive a PostgreSQL of their own, which they stop and start.

mod instances;
mod logs;
mod lost;
mod metrics;
mod outage;
mod process;
mod request_trail_page;
mod retention;
mod retention_periods;
mod shutdown;

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

pub const PASSWORD: &str = "correct horse battery";

/// A client signed in to the admin UI at `base` as `username` (password [`PASSWORD`]).
pub async fn sign_in(base: &str, username: &str) -> reqwest::Client {
    let client = crate::support::web::client();
    let r = try_sign_in(&client, base, username).await;
    assert_eq!(r.status(), 303, "sign-in of {username}");
    client
}

/// Posts the sign-in form of the admin UI at `base`, with the page's CSRF token.
pub async fn try_sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
) -> reqwest::Response {
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    let token = crate::support::web::csrf(&page.text().await.unwrap());
    client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
}
