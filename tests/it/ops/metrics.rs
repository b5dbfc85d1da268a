//! `GET /metrics` of a real `bookable serve` after a known set of requests: requests by area,
//! interaction and status, latency histograms, the pool, the audit queue and the report cache,
//! with no practice in any label; and on an address of its own when asked.

use std::collections::BTreeMap;

use bookable::change_log::Actor;
use bookable::practice::set_asid;
use bookable::users::{self, Role};

use super::process::{Serve, free_port};
use super::sign_in;
use crate::fhir::{ASID_A, READ_METADATA, SEARCH_SLOT, days, headers, q};
use crate::fixture::{self, PRACTICE_A};
use crate::harness::TestDb;

/// The value of the series `name` whose labels include `labels` (summed over the others).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, v) = line.rsplit_once(' ').unwrap();
        let (n, set) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        if n != name {
            continue;
        }
        let set: BTreeMap<&str, &str> = set
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k, v.trim_matches('"'))
            })
            .collect();
        if labels.iter().all(|(k, v)| set.get(k) == Some(v)) {
            *found.get_or_insert(0.0) += v.parse::<f64>().unwrap();
        }
    }
    found
}

#[actix_web::test]
async fn metrics_count_a_known_set_of_requests() {
    let db = TestDb::new();
    {
        let mut conn = db.conn();
        let f = fixture::load(&mut conn);
        set_asid(&mut conn, &Actor::system("test"), f.a, Some(ASID_A)).unwrap();
        users::upsert(
            &mut conn,
            &Actor::system("test"),
            "manager.ops",
            "Manager",
            super::PASSWORD,
            &[(f.a, Role::Manager)],
        )
        .unwrap();
    }
    let serve = Serve::start(db.url(), &[], &[]).await;
    let client = reqwest::Client::new();
    let base = serve.url(&format!("/fhir/{PRACTICE_A}/STU3/1/gpconnect"));
    for _ in 0..3 {
        let r = client
            .get(format!("{base}/Slot"))
            .query(&q(&days("2026-06-10", "2026-06-12")))
            .headers(headers(SEARCH_SLOT, ASID_A))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    // Refused: no JWT.
    let mut h = headers(SEARCH_SLOT, ASID_A);
    h.remove("Authorization");
    let r = client
        .get(format!("{base}/Slot"))
        .headers(h)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .get(format!("{base}/metadata"))
        .headers(headers(READ_METADATA, ASID_A))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // An interaction id bookable doesn't serve is not a label of its own.
    let r = client
        .get(format!("{base}/metadata"))
        .headers(headers("urn:made-up:A20047", ASID_A))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    for _ in 0..2 {
        client.get(serve.url("/ready")).send().await.unwrap();
    }
    // A report, which refreshes the report cache.
    let session = sign_in(&serve.address, "manager.ops").await;
    let report = session
        .get(format!("{}/practices/{PRACTICE_A}/reports", serve.address))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), 200);

    let scraped = client.get(serve.url("/metrics")).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(
        scraped.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = scraped.text().await.unwrap();
    let requests = |labels: &[(&str, &str)]| value(&text, "bookable_http_requests_total", labels);
    let slot = ("interaction", "rest:search:slot-1");
    let gp = ("area", "gpconnect");
    assert_eq!(
        requests(&[gp, slot, ("status", "200")]),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        requests(&[gp, slot, ("status", "400")]),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        requests(&[
            gp,
            ("interaction", "rest:read:metadata-1"),
            ("status", "200")
        ]),
        Some(1.0)
    );
    assert_eq!(
        requests(&[gp, ("interaction", "unknown"), ("status", "400")]),
        Some(1.0)
    );
    assert_eq!(
        requests(&[("area", "ops"), ("interaction", "/ready")]),
        Some(2.0)
    );
    assert_eq!(
        requests(&[
            ("area", "admin"),
            ("interaction", "/practices/{ods}/reports"),
            ("status", "200")
        ]),
        Some(1.0)
    );
    // Latency: a histogram with buckets, its count the searches made.
    assert_eq!(
        value(
            &text,
            "bookable_http_request_duration_seconds_count",
            &[gp, slot]
        ),
        Some(4.0)
    );
    assert_eq!(
        value(
            &text,
            "bookable_http_request_duration_seconds_bucket",
            &[gp, slot, ("le", "+Inf")]
        ),
        Some(4.0)
    );
    // The pool, the audit queue, the report cache.
    assert!(value(&text, "bookable_db_pool_connections", &[]).unwrap() >= 1.0);
    assert!(value(&text, "bookable_db_pool_in_use", &[]).is_some());
    assert_eq!(value(&text, "bookable_db_pool_waiting", &[]), Some(0.0));
    assert!(value(&text, "bookable_gpconnect_audit_queue_depth", &[]).is_some());
    assert!(
        value(&text, "bookable_report_cache_refreshes_total", &[]).is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert!(
        value(
            &text,
            "bookable_report_cache_refresh_duration_seconds_count",
            &[]
        )
        .is_some()
    );
    // No practice (its ODS code) in any series.
    assert!(!text.contains(PRACTICE_A), "{text}");
}

#[actix_web::test]
async fn metrics_can_have_an_address_of_their_own() {
    let db = TestDb::new();
    let port = free_port();
    let apart = format!("127.0.0.1:{port}");
    let serve = Serve::start(db.url(), &["--metrics-bind", &apart], &[]).await;
    assert_eq!(
        reqwest::get(serve.url("/health")).await.unwrap().status(),
        200
    );
    let there = reqwest::get(format!("http://{apart}/metrics"))
        .await
        .unwrap();
    assert_eq!(there.status(), 200);
    let text = there.text().await.unwrap();
    // Serve::start asked /health until it answered.
    assert!(
        value(
            &text,
            "bookable_http_requests_total",
            &[
                ("area", "ops"),
                ("interaction", "/health"),
                ("status", "200")
            ]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    let main = reqwest::get(serve.url("/metrics")).await.unwrap();
    assert_eq!(main.status(), 404);
}

#[actix_web::test]
async fn metrics_off_serves_none() {
    let db = TestDb::new();
    let serve = Serve::start(db.url(), &["--metrics", "off"], &[]).await;
    assert_eq!(
        reqwest::get(serve.url("/metrics")).await.unwrap().status(),
        404
    );
}
