//! The practice systems' JSON API: token check, rota import, booking and release.

use bookable::api::ApiSettings;
use bookable::change_log::Actor;
use bookable::clock::Clock;
use bookable::credentials;
use bookable::db::schema::{api_credentials, audit_log, bookings, slots};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::fixture;
use crate::harness::{TestApp, spawn_app, spawn_app_with};

const TOKEN: &str = "test-api-token-0123456789";

async fn app() -> TestApp {
    app_with_fixture().await.0
}

async fn app_with_fixture() -> (TestApp, fixture::Fixture) {
    let (app, f, _) = app_with_fixture_and_clock().await;
    (app, f)
}

/// The app with the fixture, its clock standing before every slot until the test moves it.
async fn app_with_fixture_and_clock() -> (TestApp, fixture::Fixture, Clock) {
    let clock = Clock::fixed(fixture::before_every_slot());
    let server_clock = clock.clone();
    let app = spawn_app_with(move |s| {
        s.api = ApiSettings::with_all_practices_token(TOKEN);
        s.clock = server_clock;
    })
    .await;
    let f = fixture::load(&mut app.conn());
    (app, f, clock)
}

/// A request with a raw body, for what the JSON helpers can't send.
async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Option<String>, Value) {
    let mut req = reqwest::Client::new()
        .post(app.url(path))
        .bearer_auth(TOKEN)
        .body(body);
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, kind, resp.json().await.unwrap_or(Value::Null))
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(app.url(path)).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn status_of(app: &TestApp, external: &str) -> String {
    slots::table
        .filter(slots::external_id.eq(external))
        .select(slots::status)
        .first(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn calls_without_the_right_token_are_refused_and_change_nothing() {
    let app = app().await;
    let body = json!({ "slot": "open-free", "ods_code": "NLO10", "org_type": "urgent-care" });
    assert_eq!(
        post(&app, "/api/practices/A20047/bookings", None, &body)
            .await
            .0,
        401
    );
    assert_eq!(
        post(&app, "/api/practices/A20047/bookings", Some("wrong"), &body)
            .await
            .0,
        401
    );
    assert_eq!(status_of(&app, "open-free"), "free");

    let off = spawn_app().await;
    fixture::load(&mut off.conn());
    assert_eq!(
        post(&off, "/api/practices/A20047/bookings", Some(TOKEN), &body)
            .await
            .0,
        401,
        "no token configured: off"
    );
}

#[actix_web::test]
async fn a_booking_makes_the_slot_busy_and_its_release_frees_it() {
    let app = app().await;
    let body = json!({ "slot": "open-free", "ods_code": "nlo10", "org_type": "urgent-care" });
    let (status, reply) = post(&app, "/api/practices/A20047/bookings", Some(TOKEN), &body).await;
    assert_eq!(status, 201, "{reply}");
    assert_eq!(status_of(&app, "open-free"), "busy");
    let booked_by: String = bookings::table
        .select(bookings::booked_by_ods)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(booked_by, "NLO10");

    let (status, reply) = post(&app, "/api/practices/A20047/bookings", Some(TOKEN), &body).await;
    assert_eq!(
        (status, reply["reasons"].clone()),
        (409, json!(["busy"])),
        "booked twice"
    );

    let id = reply_id(&app);
    let (status, _) = post(
        &app,
        &format!("/api/practices/B82617/bookings/{id}/release"),
        Some(TOKEN),
        &json!({}),
    )
    .await;
    assert_eq!(status, 404, "another practice can't release it");
    let (status, _) = post(
        &app,
        &format!("/api/practices/A20047/bookings/{id}/release"),
        Some(TOKEN),
        &json!({}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(status_of(&app, "open-free"), "free");
}

fn reply_id(app: &TestApp) -> i64 {
    bookings::table
        .select(bookings::id)
        .first::<bookable::db::ids::BookingId>(&mut app.conn())
        .unwrap()
        .0
}

#[actix_web::test]
async fn a_slot_that_has_already_started_can_not_be_booked() {
    let (app, _, clock) = app_with_fixture_and_clock().await;
    // 08:55 BST on 10 June: open-early began at 08:50, open-free begins at 09:00.
    clock.set(fixture::local(2026, 6, 10, 8, 55).to_utc());
    let book = |slot: &str| json!({ "slot": slot, "ods_code": "C81001" });
    let (status, reply) = post(
        &app,
        "/api/practices/A20047/bookings",
        Some(TOKEN),
        &book("open-early"),
    )
    .await;
    assert_eq!(
        (status, reply["reasons"].clone()),
        (409, json!(["already-started"])),
        "{reply}"
    );
    assert_eq!(status_of(&app, "open-early"), "free");
    // At 09:00 exactly open-free has started too: its start is not after the time of booking.
    clock.set(fixture::local(2026, 6, 10, 9, 0).to_utc());
    let (status, reply) = post(
        &app,
        "/api/practices/A20047/bookings",
        Some(TOKEN),
        &book("open-free"),
    )
    .await;
    assert_eq!(
        (status, reply["reasons"].clone()),
        (409, json!(["already-started"]))
    );
    let (status, reply) = post(
        &app,
        "/api/practices/A20047/bookings",
        Some(TOKEN),
        &book("open-edge"),
    )
    .await;
    assert_eq!(status, 201, "a slot still to come: {reply}");
}

#[actix_web::test]
async fn bookings_the_consumer_could_not_see_are_refused_with_reasons() {
    let app = app().await;
    let cases = [
        (
            json!({ "slot": "type-free", "ods_code": "C81001", "org_type": "gp-practice" }),
            409,
            "not-in-who-can-book",
        ),
        (
            json!({ "slot": "visit-free", "ods_code": "C81001" }),
            409,
            "visit",
        ),
        (
            json!({ "slot": "b-open-free", "ods_code": "C81001" }),
            404,
            "",
        ),
        (
            json!({ "slot": "open-free", "ods_code": "not ods" }),
            422,
            "",
        ),
        (
            json!({ "slot": "open-free", "ods_code": "C81001", "org_type": "oncology" }),
            422,
            "",
        ),
    ];
    for (body, status, reason) in cases {
        let (got, reply) = post(&app, "/api/practices/A20047/bookings", Some(TOKEN), &body).await;
        assert_eq!(got, status, "{body} → {reply}");
        if !reason.is_empty() {
            assert!(
                reply["reasons"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(reason)),
                "{reply}"
            );
        }
    }
    let n: i64 = bookings::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 0);
}

#[actix_web::test]
async fn the_rota_can_be_imported_over_http_all_or_nothing() {
    let app = app().await;
    let mut doc = fixture::document_a();
    doc.slots.push(fixture::slot(
        "api-new",
        "OPEN",
        fixture::local(2026, 6, 12, 9, 0),
        15,
    ));
    let (status, reply) = post(&app, "/api/practices/A20047/rota", Some(TOKEN), &json!(doc)).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["slots"], json!(doc.slots.len()));
    assert_eq!(status_of(&app, "api-new"), "free");

    doc.slots.push(fixture::slot(
        "api-bad",
        "NOPE",
        fixture::local(2026, 6, 12, 9, 0),
        15,
    ));
    let (status, reply) = post(&app, "/api/practices/A20047/rota", Some(TOKEN), &json!(doc)).await;
    assert_eq!(status, 422);
    assert!(
        reply["problems"][0]
            .as_str()
            .unwrap()
            .contains("unknown schedule 'NOPE'"),
        "{reply}"
    );
    let (status, _) = post(
        &app,
        "/api/practices/B82617/rota",
        Some(TOKEN),
        &json!(fixture::document_a()),
    )
    .await;
    assert_eq!(status, 422, "a document for another practice");
}

#[actix_web::test]
async fn a_practice_system_credential_acts_only_for_its_own_practices() {
    let (app, f) = app_with_fixture().await;
    let actor = Actor::system("test");
    let (_, secret) =
        credentials::issue(&mut app.conn(), &actor, "Riverside EMIS", &[f.a]).unwrap();
    let body = json!({ "slot": "open-free", "ods_code": "NLO10", "org_type": "urgent-care" });
    let b_body = json!({ "slot": "b-open-free", "ods_code": "NLO10", "org_type": "urgent-care" });

    let (status, reply) = post(
        &app,
        "/api/practices/B82617/bookings",
        Some(&secret),
        &b_body,
    )
    .await;
    assert_eq!(status, 403, "{reply}");
    assert!(
        reply["error"].as_str().unwrap().contains("B82617"),
        "{reply}"
    );
    let (status, _) = post(
        &app,
        "/api/practices/B82617/rota",
        Some(&secret),
        &json!(fixture::document_b()),
    )
    .await;
    assert_eq!(status, 403, "nor B's rota");
    assert_eq!(status_of(&app, "b-open-free"), "free");

    let (status, reply) = post(&app, "/api/practices/A20047/bookings", Some(&secret), &body).await;
    assert_eq!(status, 201, "{reply}");
    let who: String = audit_log::table
        .filter(audit_log::entity.eq("slot"))
        .order(audit_log::id.desc())
        .select(audit_log::actor)
        .first(&mut app.conn())
        .unwrap();
    assert!(
        who.contains("Riverside EMIS"),
        "the use is recorded as the credential's: {who}"
    );
    let listed = credentials::list(&mut app.conn(), Some(f.a)).unwrap();
    assert!(listed[0].credential.last_used_at.is_some());
    assert_eq!(listed[0].practices, ["A20047"]);

    assert!(credentials::revoke(&mut app.conn(), &actor, listed[0].credential.id).unwrap());
    let id = reply_id(&app);
    let (status, _) = post(
        &app,
        &format!("/api/practices/A20047/bookings/{id}/release"),
        Some(&secret),
        &json!({}),
    )
    .await;
    assert_eq!(status, 401, "a revoked credential opens nothing");
    assert_eq!(status_of(&app, "open-free"), "busy");
    let stored: Vec<Vec<u8>> = api_credentials::table
        .select(api_credentials::secret_sha256)
        .load(&mut app.conn())
        .unwrap();
    assert!(
        stored
            .iter()
            .all(|h| h.len() == 32 && h.as_slice() != secret.as_bytes()),
        "only a hash is kept"
    );
}

#[actix_web::test]
async fn a_26_week_rota_of_a_large_practice_is_accepted_over_http() {
    let (app, _) = app_with_fixture().await;
    let first = chrono::NaiveDate::from_ymd_opt(2027, 1, 4).unwrap();
    let doc = bookable::seed::demo::rota("A20047", "Leeds", first, 26 * 7);
    let body = serde_json::to_vec(&doc).unwrap();
    assert!(body.len() > 1024 * 1024, "a few MB: {} bytes", body.len());
    let (status, _, reply) = post_raw(
        &app,
        "/api/practices/A20047/rota",
        Some("application/json"),
        body,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["slots"], json!(doc.slots.len()));
}

#[actix_web::test]
async fn every_api_error_is_a_json_problem() {
    let (app, _) = app_with_fixture().await;
    let json = Some("application/json");
    let cases: Vec<(&str, Option<&str>, Vec<u8>, u16)> = vec![
        // The wrong JSON type for a field.
        (
            "/api/practices/A20047/bookings",
            json,
            br#"{"slot": 5, "ods_code": "NLO10"}"#.to_vec(),
            400,
        ),
        (
            "/api/practices/A20047/bookings",
            json,
            b"{not json".to_vec(),
            400,
        ),
        // No Content-Type.
        (
            "/api/practices/A20047/bookings",
            None,
            br#"{"slot": "open-free", "ods_code": "NLO10"}"#.to_vec(),
            415,
        ),
        ("/api/practices/A20047/rota", None, b"{}".to_vec(), 415),
        // Larger than the call accepts.
        (
            "/api/practices/A20047/bookings",
            json,
            vec![b' '; 64 * 1024],
            413,
        ),
        (
            "/api/practices/A20047/bookings/not-a-number/release",
            json,
            b"{}".to_vec(),
            404,
        ),
        (
            "/api/practices/A20047/nothing-here",
            json,
            b"{}".to_vec(),
            404,
        ),
        ("/api/practices/A20047/rota", json, vec![0xff, 0xfe], 400),
    ];
    for (path, content_type, body, status) in cases {
        let (got, kind, reply) = post_raw(&app, path, content_type, body).await;
        assert_eq!(got, status, "{path} {content_type:?} → {reply}");
        assert_eq!(kind.as_deref(), Some("application/json"), "{path}");
        assert!(
            reply["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {reply}"
        );
    }
    let n: i64 = bookings::table.count().get_result(&mut app.conn()).unwrap();
    assert_eq!(n, 0);
}
