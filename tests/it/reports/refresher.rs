//! The summary cache's background refresher: a running server brings what an import marked
//! dirty up to date without anyone asking for a report, and stops with the server.

use std::time::{Duration, Instant};

use bookable::reports::refresher::POLL;
use diesel::dsl::count_star;
use diesel::prelude::*;

use bookable::change_log::Actor;
use bookable::rota_import;

use super::data;
use crate::fixture::{day, local, slot};
use crate::harness::TestDb;

fn counts(conn: &mut PgConnection) -> (i64, i64) {
    use bookable::db::schema::{report_summary, report_summary_dirty};
    (
        report_summary_dirty::table
            .select(count_star())
            .first(conn)
            .unwrap(),
        report_summary::table
            .select(count_star())
            .first(conn)
            .unwrap(),
    )
}

/// Waits (at most five polls) until nothing is dirty and `ready` holds.
async fn settled(conn: &mut PgConnection, what: &str, ready: impl Fn(&mut PgConnection) -> bool) {
    let deadline = Instant::now() + POLL * 5;
    loop {
        let (dirty, _) = counts(conn);
        if dirty == 0 && ready(conn) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {dirty} dirty rows left");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn a_running_server_clears_what_imports_marked_dirty_and_stops_cleanly() {
    let db = TestDb::new();
    let mut conn = db.conn();
    // Two rota imports (and the test data's direct edits) before the server starts.
    data::load(&mut conn);
    let (dirty, cached) = counts(&mut conn);
    assert!(dirty > 0 && cached == 0, "the imports marked days dirty");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server =
        bookable::server::run(listener, bookable::state::AppState::new(db.pool(4))).unwrap();
    let handle = server.handle();
    let served = actix_web::rt::spawn(server.serve());

    // No report is asked: within a few polls the marks are gone and the days are cached.
    settled(&mut conn, "after start", |conn| counts(conn).1 > 0).await;

    // An import while it runs: the new day is cached soon after it commits.
    let mut doc = data::document_s();
    doc.slots
        .push(slot("s-late", "GP", local(2026, 6, 30, 11, 0), 10));
    rota_import::import(&mut conn, &Actor::system("test"), &doc).unwrap();
    let late_day_cached = |conn: &mut PgConnection| {
        use bookable::db::schema::report_summary;
        report_summary::table
            .filter(report_summary::day.eq(day(2026, 6, 30)))
            .select(count_star())
            .first::<i64>(conn)
            .unwrap()
            > 0
    };
    settled(&mut conn, "after an import", late_day_cached).await;

    // A graceful stop ends the refresher with the server.
    handle.stop(true).await;
    actix_web::rt::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("the server and its refresher stopped")
        .unwrap()
        .unwrap();
}
