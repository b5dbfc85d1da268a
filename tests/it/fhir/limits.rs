//! bookable's own limits on a request's size, below actix-http's: what goes over them gets an
//! OperationOutcome (with `Cache-Control: no-store`, which `send` checks) and its audit row; so
//! does any path under `/fhir` outside a practice's base URL.

use std::time::Duration;

use bookable::db::schema::gpconnect_audit as a;
use bookable::fhir::{MAX_AUTHORIZATION_BYTES, MAX_HEADERS, MAX_URI_BYTES};
use diesel::prelude::*;

use super::{ASID_A, SEARCH_SLOT, app_with_fixture, base, claims, days, headers, jwt, q, send};
use crate::fixture::PRACTICE_A;
use crate::harness::TestApp;

/// The audit rows (path and query, status, Spine code, whether claims were kept), waiting for
/// the writer thread to have written `count`.
async fn audit_rows(app: &TestApp, count: usize) -> Vec<(String, i16, Option<String>, bool)> {
    let mut conn = app.conn();
    for _ in 0..100 {
        let rows: Vec<(String, i16, Option<String>, Option<serde_json::Value>)> = a::table
            .select((a::path_query, a::status, a::error_code, a::jwt_claims))
            .order(a::id)
            .load(&mut conn)
            .unwrap();
        if rows.len() >= count {
            return rows
                .into_iter()
                .map(|(p, s, c, j)| (p, s, c, j.is_some()))
                .collect();
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the audit rows were not written");
}

#[actix_web::test]
async fn requests_over_bookable_s_size_limits_are_refused_with_an_operation_outcome_and_audited() {
    let (app, _f) = app_with_fixture().await;
    let url = format!("{}/Slot", base(&app, PRACTICE_A));
    let client = reqwest::Client::new();
    let params = days("2026-06-10", "2026-06-10");

    // A URI over the limit (and well under the http crate's 64 KiB).
    let long = "x".repeat(MAX_URI_BYTES);
    let mut padded = q(&params);
    padded.push(("padding", &long));
    let answer = send(
        client
            .get(&url)
            .query(&padded)
            .headers(headers(SEARCH_SLOT, ASID_A)),
    )
    .await;
    answer.assert_error(400, "BAD_REQUEST");
    assert!(answer.body.contains("request URI"), "{}", answer.body);

    // A JWT over the limit (and under actix-http's 128 KiB head).
    let mut big = claims();
    big["padding"] = serde_json::json!("y".repeat(MAX_AUTHORIZATION_BYTES));
    let mut h = headers(SEARCH_SLOT, ASID_A);
    h.insert(
        "Authorization",
        format!("Bearer {}", jwt(&big)).parse().unwrap(),
    );
    let answer = send(client.get(&url).query(&q(&params)).headers(h)).await;
    answer.assert_error(400, "BAD_REQUEST");
    assert!(answer.body.contains("Authorization"), "{}", answer.body);

    // More headers than the limit (and fewer than actix-http's 96).
    let mut h = headers(SEARCH_SLOT, ASID_A);
    for i in 0..MAX_HEADERS {
        h.insert(
            reqwest::header::HeaderName::from_bytes(format!("x-extra-{i}").as_bytes()).unwrap(),
            "1".parse().unwrap(),
        );
    }
    let answer = send(client.get(&url).query(&q(&params)).headers(h)).await;
    answer.assert_error(400, "BAD_REQUEST");
    assert!(answer.body.contains("headers"), "{}", answer.body);

    // A path under /fhir that is no practice's base URL.
    let answer = send(
        client
            .get(app.url("/fhir/nowhere"))
            .headers(headers(SEARCH_SLOT, ASID_A)),
    )
    .await;
    answer.assert_error(501, "NOT_IMPLEMENTED");

    let rows = audit_rows(&app, 4).await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    let codes: Vec<_> = rows.iter().map(|r| (r.1, r.2.as_deref())).collect();
    assert_eq!(
        codes,
        [
            (400, Some("BAD_REQUEST")),
            (400, Some("BAD_REQUEST")),
            (400, Some("BAD_REQUEST")),
            (501, Some("NOT_IMPLEMENTED")),
        ]
    );
    // The oversized URI is kept only in part, and no oversized request's token is parsed.
    assert!(
        rows[0].0.len() < 2 * 1024 && rows[0].0.contains("bytes in all"),
        "{}",
        rows[0].0
    );
    assert!(!rows[0].3 && !rows[1].3 && !rows[2].3);
    assert!(rows[3].0.starts_with("/fhir/nowhere"));
}
