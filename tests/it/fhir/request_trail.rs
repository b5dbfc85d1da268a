//! The GP Connect audit trail: every request, answered or refused, leaves one row with the SSP
//! headers, the JWT's claims, the status and the Spine error code.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::Value;

use serde_json::json;

use super::{
    ASID_A, CONSUMER_ASID, READ_METADATA, SEARCH_SLOT, app_with_fixture, base, claims, days,
    gpc_get, headers, jwt, q, search,
};
use crate::fixture::PRACTICE_A;
use crate::harness::TestApp;

type Row = (
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i16,
    Option<String>,
    Option<Value>,
);

/// The audit rows, waiting for the writer thread to have written `count` of them.
async fn audit_rows(app: &TestApp, count: usize) -> Vec<Row> {
    use bookable::db::schema::gpconnect_audit as a;
    let mut conn = app.conn();
    for _ in 0..100 {
        let rows: Vec<Row> = a::table
            .select((
                a::id,
                a::practice_ods,
                a::path_query,
                a::ssp_from,
                a::interaction,
                a::status,
                a::error_code,
                a::jwt_claims,
            ))
            .order(a::id)
            .load(&mut conn)
            .unwrap();
        if rows.len() >= count {
            return rows;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the audit rows were not written");
}

#[actix_web::test]
async fn every_request_answered_or_refused_is_audited_with_who_asked() {
    let (app, _f) = app_with_fixture().await;
    let found = search(&app, &q(&days("2026-06-08", "2026-06-12"))).await;
    assert_eq!(found.status, 200);
    let mut wrong = headers(SEARCH_SLOT, ASID_A);
    wrong.insert(
        "Ssp-InteractionID",
        "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1"
            .parse()
            .unwrap(),
    );
    let refused = gpc_get(&app, PRACTICE_A, "/Slot", &[], wrong).await;
    refused.assert_error(400, "BAD_REQUEST");

    let rows = audit_rows(&app, 2).await;
    assert_eq!(rows.len(), 2, "one row per request");
    let (first_id, ods, path, from, interaction, status, code, claims) = &rows[0];
    assert_eq!(ods, PRACTICE_A);
    assert!(path.starts_with(&format!("/fhir/{PRACTICE_A}/STU3/1/gpconnect/Slot?start=")));
    assert_eq!(from.as_deref(), Some(CONSUMER_ASID));
    assert_eq!(interaction.as_deref(), Some(SEARCH_SLOT));
    assert_eq!((*status, code.as_deref()), (200, None));
    let claims = claims.as_ref().expect("the JWT's claims are kept");
    assert_eq!(
        claims["requesting_organization"]["identifier"][0]["value"],
        "Y03032"
    );
    assert_eq!(claims["sub"], "10019");

    let (second_id, _, _, _, interaction, status, code, claims) = &rows[1];
    assert!(second_id > first_id, "a sequence number orders the trail");
    assert_eq!(
        interaction.as_deref(),
        Some("urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1")
    );
    assert_eq!((*status, code.as_deref()), (400, Some("BAD_REQUEST")));
    assert!(claims.is_some(), "a refused request keeps the same detail");

    let mut conn = app.conn();
    let tampered = diesel::sql_query("DELETE FROM gpconnect_audit").execute(&mut conn);
    assert!(
        tampered.is_err(),
        "the GP Connect audit trail is append-only"
    );
}

/// A trace id (GUID shape) numbered `n`.
fn trace_id(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

#[actix_web::test]
async fn no_request_costs_another_its_row_whatever_it_sent() {
    use bookable::db::schema::gpconnect_audit as a;
    let (app, _f) = app_with_fixture().await;
    let client = reqwest::Client::new();
    // 960 ordinary reads and 40 whose rows PostgreSQL could not store as sent: NUL in the JWT's
    // claims (jsonb refuses \u0000) or in the practice's path segment (text refuses 0x00).
    let total = 1000;
    let poisoned = |n: usize| n.is_multiple_of(25);
    let mut answered = 0;
    for chunk in (0..total).collect::<Vec<_>>().chunks(100) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|&n| {
                let mut h = headers(READ_METADATA, ASID_A);
                h.insert("Ssp-TraceID", trace_id(n).parse().unwrap());
                let mut ods = PRACTICE_A.to_owned();
                if poisoned(n) && n.is_multiple_of(2) {
                    let mut c = claims();
                    c["reason_for_request"] = json!("directcare\u{0}");
                    h.insert(
                        "Authorization",
                        format!("Bearer {}", jwt(&c)).parse().unwrap(),
                    );
                } else if poisoned(n) {
                    ods = "A%00".to_owned();
                }
                let req = client
                    .get(format!("{}/metadata", base(&app, &ods)))
                    .headers(h);
                actix_web::rt::spawn(async move { req.send().await.map(|r| r.status()) })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
            answered += 1;
        }
    }
    assert_eq!(answered, total);
    audit_rows(&app, total).await;
    let rows: Vec<(Option<String>, bool)> = a::table
        .select((a::ssp_trace_id, a::sanitised))
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(rows.len(), total, "one row per request, none lost");
    for n in 0..total {
        let row = rows
            .iter()
            .find(|(t, _)| t.as_deref() == Some(trace_id(n).as_str()))
            .unwrap_or_else(|| panic!("request {n} has no row"));
        assert_eq!(
            row.1,
            poisoned(n),
            "request {n}: sanitised only when it had to be"
        );
    }
}
