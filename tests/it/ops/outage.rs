//! PostgreSQL stopped under the server and started again: every area answers "unavailable"
//! within a second or two, in its own shape, and recovers without a restart; no request fails
//! on a connection that died while it sat in the pool.

use std::time::{Duration, Instant};

use bookable::change_log::Actor;
use bookable::practice::set_asid;
use bookable::state::AppState;
use diesel::RunQueryDsl;
use reqwest::StatusCode;

use super::Postgres;
use crate::fhir::{ASID_A, SEARCH_SLOT, days, headers, q};
use crate::fixture::{self, PRACTICE_A};

struct Server {
    address: String,
    /// One client for every request (making one costs more than the answers timed here).
    client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

fn serve(pg: &Postgres) -> Server {
    let pool = bookable::db::pool(&pg.url(), 4).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let mut state = AppState::new(pool);
    state.api = bookable::api::ApiSettings::with_all_practices_token("ops-test-token");
    let server = bookable::server::run(listener, state).unwrap();
    let handle = server.handle();
    actix_web::rt::spawn(server.serve());
    Server {
        address,
        client: reqwest::Client::new(),
        handle,
    }
}

async fn slot_search(s: &Server) -> reqwest::Response {
    s.client
        .get(format!(
            "{}/fhir/{PRACTICE_A}/STU3/1/gpconnect/Slot",
            s.address
        ))
        .query(&q(&days("2026-06-10", "2026-06-10")))
        .headers(headers(SEARCH_SLOT, ASID_A))
        .send()
        .await
        .unwrap()
}

async fn api_booking(s: &Server) -> reqwest::Response {
    s.client
        .post(format!("{}/api/practices/{PRACTICE_A}/bookings", s.address))
        .bearer_auth("ops-test-token")
        .json(&serde_json::json!({ "slot": "free-1", "ods_code": "Y03032" }))
        .send()
        .await
        .unwrap()
}

async fn status_of(url: String) -> StatusCode {
    reqwest::get(url).await.unwrap().status()
}

/// Waits until `/ready` says 200 (at most 10 s).
async fn wait_ready(s: &Server) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_of(format!("{}/ready", s.address)).await != StatusCode::OK {
        assert!(Instant::now() < deadline, "not ready again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_database_outage_is_answered_fast_in_each_area_and_recovered_from() {
    let pg = Postgres::start();
    {
        let mut conn = pg.conn();
        let f = fixture::load(&mut conn);
        set_asid(&mut conn, &Actor::system("test"), f.a, Some(ASID_A)).unwrap();
    }
    let s = serve(&pg);
    wait_ready(&s).await;
    // Every pooled connection in use once, so all of them are in the pool when it stops.
    let warm: Vec<_> = (0..8).map(|_| slot_search(&s)).collect();
    for r in futures_util::future::join_all(warm).await {
        assert_eq!(r.status(), 200);
    }

    pg.down();
    let stopped = Instant::now();

    // GP Connect: many consumers at once, each answered 503 with an OperationOutcome.
    let searches: Vec<_> = (0..24).map(|_| slot_search(&s)).collect();
    for r in futures_util::future::join_all(searches).await {
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let retry: u32 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 0);
        let oo: serde_json::Value = r.json().await.unwrap();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(
            oo["issue"][0]["details"]["coding"][0]["code"],
            "INTERNAL_SERVER_ERROR"
        );
    }
    let gp_connect = stopped.elapsed();
    assert!(
        gp_connect < Duration::from_millis(2500),
        "24 GP Connect searches answered in {gp_connect:?}"
    );

    // Readiness says so at once; liveness stays up.
    let t = Instant::now();
    let ready = s
        .client
        .get(format!("{}/ready", s.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], false);
    assert_eq!(status_of(format!("{}/health", s.address)).await, 200);

    // The admin UI: a styled page saying the service is unavailable, signing in included.
    let t = Instant::now();
    let page = s
        .client
        .get(format!("{}/login", s.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Sorry, the service is unavailable"), "{html}");
    assert!(html.contains("nhsuk"), "the NHS.UK layout: {html}");
    let sign_in = s
        .client
        .post(format!("{}/login", s.address))
        .form(&[("username", "jo"), ("password", "x"), ("csrf_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 503);
    let html = sign_in.text().await.unwrap();
    assert!(html.contains("Sorry, the service is unavailable"), "{html}");
    assert!(!html.contains("expired"));
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t.elapsed()
    );

    // The JSON API: its problem shape.
    let t = Instant::now();
    let api = api_booking(&s).await;
    assert_eq!(api.status(), 503);
    assert_eq!(api.headers()["cache-control"], "no-store");
    assert!(api.headers().contains_key("retry-after"));
    let problem: serde_json::Value = api.json().await.unwrap();
    assert!(problem["error"].as_str().unwrap().contains("unavailable"));
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t.elapsed()
    );

    // Back without a restart: once ready, no request fails, though every connection the pool
    // held died with the old server.
    pg.up();
    let restarted = Instant::now();
    wait_ready(&s).await;
    let recovery = restarted.elapsed();
    assert!(
        recovery < Duration::from_secs(3),
        "ready again after {recovery:?}"
    );
    let after: Vec<_> = (0..16).map(|_| slot_search(&s)).collect();
    for r in futures_util::future::join_all(after).await {
        assert_eq!(r.status(), 200);
    }
    assert_eq!(status_of(format!("{}/login", s.address)).await, 200);
    eprintln!(
        "outage: 24 GP Connect searches answered 503 in {gp_connect:?}; ready again \
         {recovery:?} after PostgreSQL started"
    );
}

#[actix_web::test]
async fn connections_that_died_in_the_pool_are_replaced_before_use() {
    let pg = Postgres::start();
    {
        let mut conn = pg.conn();
        let f = fixture::load(&mut conn);
        set_asid(&mut conn, &Actor::system("test"), f.a, Some(ASID_A)).unwrap();
    }
    let s = serve(&pg);
    wait_ready(&s).await;
    let warm: Vec<_> = (0..8).map(|_| slot_search(&s)).collect();
    for r in futures_util::future::join_all(warm).await {
        assert_eq!(r.status(), 200);
    }
    // Every backend ended behind the pool's back (as a failover or a restart does); the server
    // itself stays up, so only the connections the pool holds are dead.
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = 'bookable' AND pid <> pg_backend_pid()",
    )
    .execute(&mut pg.conn())
    .unwrap();
    // Longer than a connection may sit idle untested (`db::IDLE_TEST`).
    tokio::time::sleep(Duration::from_millis(250)).await;
    let after: Vec<_> = (0..8).map(|_| slot_search(&s)).collect();
    for r in futures_util::future::join_all(after).await {
        assert_eq!(r.status(), 200);
    }
}
