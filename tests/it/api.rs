//! The practice systems' JSON API: token check, rota import, booking and release.

use bookable::api::ApiSettings;
use bookable::db::schema::{bookings, slots};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::fixture;
use crate::harness::{TestApp, spawn_app, spawn_app_with};

const TOKEN: &str = "test-api-token-0123456789";

async fn app() -> TestApp {
    let app = spawn_app_with(|s| s.api = ApiSettings::with_token(TOKEN)).await;
    fixture::load(&mut app.conn());
    app
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
async fn bookings_the_consumer_could_not_see_are_refused_with_reasons() {
    let app = app().await;
    let cases = [
        (
            json!({ "slot": "type-free", "ods_code": "C81001", "org_type": "gp-practice" }),
            409,
            "organisation-type-restricted",
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
