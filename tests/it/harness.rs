//! Test harness: a real PostgreSQL, a migrated template database per test process, and a fresh
//! database cloned from it for every test (crates.io's pattern), so tests run in parallel and
//! never share state.
//!
//! With `TEST_DATABASE_URL` set (a superuser URL), tests use that server; otherwise the harness
//! starts a private cluster and stops it when the test process exits.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{LazyLock, Mutex};

use bookable::db::{self, DbPool, pg_local::LocalPostgres};
use diesel::{Connection, PgConnection, RunQueryDsl};

struct Server {
    /// A URL to any database on the server, with `{db}` where the database name goes.
    url_pattern: String,
    template: String,
}

static PRIVATE_PG: Mutex<Option<LocalPostgres>> = Mutex::new(None);

extern "C" fn stop_private_pg() {
    if let Ok(mut pg) = PRIVATE_PG.lock()
        && let Some(mut pg) = pg.take()
    {
        pg.stop();
    }
}

/// Replaces the database name in a libpq URL (`postgres://user@host/db?params`).
fn url_pattern(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[scheme_end..].find('/').map(|i| scheme_end + i);
    match path_start {
        Some(start) => {
            let end = url[start..].find('?').map_or(url.len(), |i| start + i);
            format!("{}/{{db}}{}", &url[..start], &url[end..])
        }
        None => format!("{url}/{{db}}"),
    }
}

static SERVER: LazyLock<Server> = LazyLock::new(|| {
    let url_pattern = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) => url_pattern(&url),
        Err(_) => {
            let pg = LocalPostgres::start().expect("start a private PostgreSQL for the tests");
            let pattern = pg.url("{db}");
            *PRIVATE_PG.lock().unwrap() = Some(pg);
            // Statics never drop: stop the cluster when the test process exits.
            // atexit only records a plain extern "C" function.
            #[allow(unsafe_code)]
            unsafe {
                libc::atexit(stop_private_pg)
            };
            pattern
        }
    };
    let template = format!("bookable_template_{}", std::process::id());
    let server = Server {
        url_pattern,
        template,
    };
    let mut admin = server.admin();
    diesel::sql_query(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        server.template
    ))
    .execute(&mut admin)
    .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {}", server.template))
        .execute(&mut admin)
        .unwrap();
    let mut conn = PgConnection::establish(&server.url(&server.template)).unwrap();
    db::migrate(&mut conn).expect("migrate the template database");
    server
});

impl Server {
    fn url(&self, db: &str) -> String {
        self.url_pattern.replace("{db}", db)
    }

    fn admin(&self) -> PgConnection {
        PgConnection::establish(&self.url("postgres")).expect("connect to the test PostgreSQL")
    }
}

/// A database of its own for one test, dropped when the test ends.
pub struct TestDb {
    name: String,
    url: String,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn new() -> TestDb {
        let server = &*SERVER;
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        diesel::sql_query(format!(
            "CREATE DATABASE {name} TEMPLATE {}",
            server.template
        ))
        .execute(&mut server.admin())
        .expect("clone the template database");
        TestDb {
            url: server.url(&name),
            name,
        }
    }

    /// A database with no migrations run, for tests of a migration itself.
    pub fn unmigrated() -> TestDb {
        let server = &*SERVER;
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut server.admin())
            .expect("create an empty test database");
        TestDb {
            url: server.url(&name),
            name,
        }
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test database")
    }

    /// The database's URL, for running the `bookable` command against it.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn pool(&self, size: u32) -> DbPool {
        db::pool(&self.url, size).expect("test pool")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = diesel::sql_query(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut SERVER.admin());
    }
}

#[test]
fn url_pattern_replaces_only_the_database_name() {
    assert_eq!(
        url_pattern("postgres://u@/bookable?host=/tmp/x"),
        "postgres://u@/{db}?host=/tmp/x"
    );
    assert_eq!(
        url_pattern("postgres://u:p@127.0.0.1:5432/test"),
        "postgres://u:p@127.0.0.1:5432/{db}"
    );
}

/// A running bookable server on a free loopback port, over a database of its own.
pub struct TestApp {
    pub db: TestDb,
    /// `http://127.0.0.1:PORT`
    pub address: String,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    pub fn conn(&self) -> PgConnection {
        self.db.conn()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting at once; the database goes when `db` drops.
        drop(self.handle.stop(false));
    }
}

/// Starts the server as `bookable serve` does, on port 0, inside the test's actix runtime
/// (use `#[actix_web::test]`).
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// `spawn_app` with settings changed from their defaults.
pub async fn spawn_app_with(configure: impl FnOnce(&mut bookable::state::AppState)) -> TestApp {
    let db = TestDb::new();
    let pool = db.pool(8);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut state = bookable::state::AppState::new(pool);
    configure(&mut state);
    let server = bookable::server::run(listener, state).expect("start the server");
    let handle = server.handle();
    actix_web::rt::spawn(server.serve());
    TestApp {
        db,
        address,
        handle,
    }
}
