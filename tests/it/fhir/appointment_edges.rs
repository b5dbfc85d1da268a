//! The common rules of the digest's §1 on the appointment interactions (interaction id, scope,
//! `Prefer: return=minimal`, `If-Match` missing, a PUT of an unknown id) and the past: an
//! appointment that has started can't be read, amended or cancelled, and Retrieve refuses
//! every malformed or past range, each with nothing changed.

use bookable::db::schema::{appointments, slots};
use chrono::{Days, TimeDelta, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::appointments::{
    AMEND, BOOK, CANCEL, CANCELLATION_REASON, READ, RETRIEVE, Setup, book_body, booked,
    count_appointments, put, read, retrieve, setup, slot_status, with_scope,
};
use super::{base, send};
use crate::fixture::PRACTICE_A;

fn version(s: &Setup) -> i32 {
    appointments::table
        .select(appointments::version)
        .first(&mut s.app.conn())
        .unwrap()
}

#[actix_web::test]
async fn minimal_answers_interaction_ids_scopes_if_match_and_unknown_ids() {
    let s = setup().await;
    let url = format!("{}/Appointment", base(&s.app, PRACTICE_A));
    let body = serde_json::to_vec(&book_body(&s, &s.free[..1])).unwrap();
    let post = |interaction: &str, scope: &str| {
        reqwest::Client::new()
            .post(&url)
            .headers(with_scope(interaction, scope))
            .header("Content-Type", "application/fhir+json")
            .body(body.clone())
    };
    // Another interaction's id, or a read scope, on Book: 400 BAD_REQUEST, nothing booked.
    send(post(READ, "patient/*.write"))
        .await
        .assert_error(400, "BAD_REQUEST");
    send(post(BOOK, "patient/*.read"))
        .await
        .assert_error(400, "BAD_REQUEST");
    assert_eq!(count_appointments(&s.app), 0);

    // Prefer: return=minimal: 201, Location and ETag, an empty body.
    let resp = post(BOOK, "patient/*.write")
        .header("Prefer", "return=minimal")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let id: i64 = appointments::table
        .select(appointments::id)
        .first(&mut s.app.conn())
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.ends_with(&format!("/Appointment/{id}/_history/1")),
        "{location}"
    );
    assert_eq!(resp.headers()["etag"], "W/\"1\"");
    assert_eq!(resp.text().await.unwrap(), "");
    assert_eq!(slot_status(&s.app, s.free[0]), "busy");

    let a = read(&s.app, &id.to_string()).await.json();
    let id = id.to_string();
    // Retrieve and Read with a write scope; Amend with Read's interaction id.
    let today = Utc::now().with_timezone(&London).date_naive();
    let range = [format!("ge{today}"), format!("le{today}")];
    let req = reqwest::Client::new()
        .get(format!(
            "{}/Patient/{}/Appointment",
            base(&s.app, PRACTICE_A),
            s.patient
        ))
        .query(&[("start", &range[0]), ("start", &range[1])])
        .headers(with_scope(RETRIEVE, "patient/*.write"));
    send(req).await.assert_error(400, "BAD_REQUEST");
    let req = reqwest::Client::new()
        .get(format!("{url}/{id}"))
        .headers(with_scope(READ, "patient/*.write"));
    send(req).await.assert_error(400, "BAD_REQUEST");
    let mut edit = a.clone();
    edit["comment"] = json!("Evenings");
    put(&s.app, READ, &id, "W/\"1\"", &edit)
        .await
        .assert_error(400, "BAD_REQUEST");

    // No If-Match: 409 as for a stale one.
    let req = reqwest::Client::new()
        .put(format!("{url}/{id}"))
        .headers(with_scope(AMEND, "patient/*.write"))
        .header("Content-Type", "application/fhir+json")
        .body(serde_json::to_vec(&edit).unwrap());
    send(req)
        .await
        .assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
    // A PUT never creates: an unknown id is 404.
    let mut elsewhere = edit.clone();
    elsewhere["id"] = json!("99999999");
    put(&s.app, AMEND, "99999999", "W/\"1\"", &elsewhere)
        .await
        .assert_error(404, "NO_RECORD_FOUND");
    let mut wrong = edit.clone();
    wrong["resourceType"] = json!("Patient");
    put(&s.app, AMEND, &id, "W/\"1\"", &wrong)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    assert_eq!(version(&s), 1);
    assert_eq!(read(&s.app, &id).await.json()["comment"], a["comment"]);
}

/// Moves the setup's only appointment, and its slots, to yesterday.
fn into_the_past(s: &Setup) {
    let mut conn = s.app.conn();
    let back = TimeDelta::days(3);
    diesel::update(appointments::table)
        .set((
            appointments::start_at.eq(appointments::start_at - back),
            appointments::end_at.eq(appointments::end_at - back),
        ))
        .execute(&mut conn)
        .unwrap();
    diesel::update(slots::table.filter(slots::status.eq("busy")))
        .set((
            slots::start_at.eq(slots::start_at - back),
            slots::end_at.eq(slots::end_at - back),
        ))
        .execute(&mut conn)
        .unwrap();
}

#[actix_web::test]
async fn a_past_appointment_cant_be_read_amended_or_cancelled() {
    let s = setup().await;
    let a = booked(&s).await;
    let id = a["id"].as_str().unwrap();
    into_the_past(&s);
    read(&s.app, id).await.assert_error(422, "INVALID_RESOURCE");
    let mut edit = a.clone();
    edit["comment"] = json!("Evenings");
    put(&s.app, AMEND, id, "W/\"1\"", &edit)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    let mut cancel = a.clone();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Too late" }));
    put(&s.app, CANCEL, id, "W/\"1\"", &cancel)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    assert_eq!(version(&s), 1);
    assert_eq!(slot_status(&s.app, s.free[0]), "busy");
}

#[actix_web::test]
async fn retrieve_refuses_every_malformed_or_past_range() {
    let s = setup().await;
    booked(&s).await;
    let today = Utc::now().with_timezone(&London).date_naive();
    let day = |n: i64| {
        if n >= 0 {
            today.checked_add_days(Days::new(n as u64)).unwrap()
        } else {
            today.checked_sub_days(Days::new(-n as u64)).unwrap()
        }
        .to_string()
    };
    let (d0, d3) = (day(0), day(3));
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("none", vec![]),
        ("ge only", vec![format!("ge{d0}")]),
        ("le only", vec![format!("le{d3}")]),
        ("ge twice", vec![format!("ge{d0}"), format!("ge{d3}")]),
        ("le twice", vec![format!("le{d0}"), format!("le{d3}")]),
        ("lt", vec![format!("ge{d0}"), format!("lt{d3}")]),
        ("eq", vec![format!("eq{d0}"), format!("le{d3}")]),
        ("no prefix", vec![d0.clone(), format!("le{d3}")]),
        ("junk prefix", vec![format!("xx{d0}"), format!("le{d3}")]),
        (
            "a time",
            vec![format!("ge{d0}"), format!("le{d3}T10:00:00")],
        ),
        ("Z", vec![format!("ge{d0}Z"), format!("le{d3}")]),
        (
            "year only",
            vec![format!("ge{}", &d0[..4]), format!("le{d3}")],
        ),
        (
            "year-month",
            vec![format!("ge{}", &d0[..7]), format!("le{d3}")],
        ),
        ("le before ge", vec![format!("ge{d3}"), format!("le{d0}")]),
        (
            "three",
            vec![format!("ge{d0}"), format!("le{d3}"), format!("le{d3}")],
        ),
    ];
    let patient = s.patient.to_string();
    for (what, starts) in cases {
        let res = retrieve(&s.app, &patient, &starts).await;
        assert_eq!(res.status, 422, "{what}: {}", res.body);
        res.assert_error(422, "INVALID_PARAMETER");
        assert!(
            res.json()["issue"][0]["diagnostics"].is_string(),
            "{what}: diagnostics"
        );
    }
    let past = retrieve(
        &s.app,
        &patient,
        &[format!("ge{}", day(-1)), format!("le{d3}")],
    )
    .await;
    past.assert_error(422, "INVALID_PARAMETER");
    let said: Value = past.json()["issue"][0]["diagnostics"].clone();
    assert!(
        said.as_str().unwrap().contains("past appointments"),
        "{said}"
    );
    // The good range finds the appointment.
    let found = retrieve(&s.app, &patient, &[format!("ge{d0}"), format!("le{d3}")]).await;
    assert_eq!(found.json()["entry"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn every_appointment_request_is_in_the_request_trail_and_every_change_in_the_change_log() {
    use bookable::db::schema::{audit_log, gpconnect_audit as trail};
    let s = setup().await;
    let a = booked(&s).await;
    let id = a["id"].as_str().unwrap();
    super::appointments::post_book(&s.app, &book_body(&s, &s.free[..1]))
        .await
        .assert_error(409, "DUPLICATE_REJECTED");
    assert_eq!(read(&s.app, id).await.status, 200);
    read(&s.app, "8888888888")
        .await
        .assert_error(404, "NO_RECORD_FOUND");
    let mut edit = a.clone();
    edit["comment"] = json!("Evenings");
    assert_eq!(put(&s.app, AMEND, id, "W/\"1\"", &edit).await.status, 200);
    let mut cancel = edit.clone();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Better" }));
    put(&s.app, CANCEL, id, "W/\"1\"", &cancel)
        .await
        .assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
    assert_eq!(
        put(&s.app, CANCEL, id, "W/\"2\"", &cancel).await.status,
        200
    );
    let today = Utc::now().with_timezone(&London).date_naive();
    let range = [format!("ge{today}"), format!("le{today}")];
    assert_eq!(
        retrieve(&s.app, &s.patient.to_string(), &range)
            .await
            .status,
        200
    );
    let expected: Vec<(&str, &str, i16, Option<&str>)> = vec![
        ("POST", BOOK, 201, None),
        ("POST", BOOK, 409, Some("DUPLICATE_REJECTED")),
        ("GET", READ, 200, None),
        ("GET", READ, 404, Some("NO_RECORD_FOUND")),
        ("PUT", AMEND, 200, None),
        ("PUT", CANCEL, 409, Some("FHIR_CONSTRAINT_VIOLATION")),
        ("PUT", CANCEL, 200, None),
        ("GET", RETRIEVE, 200, None),
    ];
    type Row = (String, Option<String>, i16, Option<String>);
    let mut rows: Vec<Row> = Vec::new();
    for _ in 0..100 {
        rows = trail::table
            .order(trail::id)
            .select((
                trail::method,
                trail::interaction,
                trail::status,
                trail::error_code,
            ))
            .load(&mut s.app.conn())
            .unwrap();
        if rows.len() >= expected.len() {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rows: Vec<(&str, &str, i16, Option<&str>)> = rows
        .iter()
        .map(|(m, i, st, e)| (m.as_str(), i.as_deref().unwrap_or(""), *st, e.as_deref()))
        .collect();
    assert_eq!(rows, expected);
    // Book, Amend and Cancel: one change-log row each; the refusals none.
    let logged: i64 = audit_log::table
        .filter(audit_log::entity.eq("appointment"))
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!(logged, 3);
}
