//! The server as a whole: it starts, reaches its database and serves its pages.

use crate::harness::{spawn_app, spawn_app_with};

#[actix_web::test]
async fn ready_reports_the_database_reachable() {
    let app = spawn_app().await;
    let resp = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = reqwest::get(app.url("/ready")).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "status": "ready", "database": true, "migrations": true,
                            "audit_writer": true })
    );
}

#[actix_web::test]
async fn ready_says_503_when_the_database_is_unreachable_and_health_200() {
    // A pool whose every connection attempt is refused (nothing listens on port 1).
    let mut settings = bookable::db::PoolSettings::new(2);
    settings.checkout_timeout = std::time::Duration::from_millis(500);
    let unreachable =
        bookable::db::pool_unchecked("postgres://postgres@127.0.0.1:1/none", &settings);
    let app = spawn_app_with(|state| state.pool = unreachable).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let resp = client.get(app.url("/ready")).send().await.unwrap();
    // Its watcher's answer, not a wait for a connection (the pool waits 500 ms).
    assert!(started.elapsed() < std::time::Duration::from_millis(200));
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["database"], false);
    assert_eq!(body["status"], "unavailable");
    let resp = reqwest::get(app.url("/health")).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[actix_web::test]
async fn each_app_has_a_database_of_its_own() {
    use diesel::prelude::*;
    let (one, two) = (spawn_app().await, spawn_app().await);
    crate::fixture::create_practice(&mut one.conn(), "A20047", 100);
    let count = |app: &crate::harness::TestApp| {
        bookable::db::schema::practices::table
            .count()
            .get_result::<i64>(&mut app.conn())
            .unwrap()
    };
    assert_eq!((count(&one), count(&two)), (1, 0));
}
