//! The clinical system's own appointments sent through the JSON API (issue 14, item 4):
//! upserted by its id, cancelled, all or nothing with every problem listed, and returned by
//! GP Connect Read and Retrieve whoever booked them (home visits included).

use bookable::db::schema::{appointments, audit_log};
use chrono::{Days, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::appointments::{
    API_TOKEN, Setup, book_body, count_appointments, post_book, read, retrieve, setup, slot_status,
};
use crate::fixture::PRACTICE_A;

async fn send(s: &Setup, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(
            s.app
                .url(&format!("/api/practices/{PRACTICE_A}/appointments")),
        )
        .bearer_auth(API_TOKEN)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn document(appointments: Vec<Value>) -> Value {
    json!({ "practice": PRACTICE_A, "appointments": appointments })
}

fn visit() -> Value {
    json!({
        "id": "EMIS-1001",
        "status": "booked",
        "patient_nhs_number": "9000000009",
        "slots": ["home-1000"],
        "description": "Home visit"
    })
}

fn clinic() -> Value {
    json!({
        "id": "EMIS-1002",
        "status": "booked",
        "patient_nhs_number": "9000000009",
        "slots": ["appt-0910", "appt-0920"],
        "description": "Review",
        "comment": "Booked at reception",
        "booking_organisation": {
            "ods_code": "A20047", "name": "Reception", "telecom": [{ "system": "phone", "value": "0113 000 0000" }]
        }
    })
}

fn gp_connect_id(s: &Setup, external: &str) -> String {
    appointments::table
        .filter(appointments::external_id.eq(external))
        .select(appointments::id)
        .first::<i64>(&mut s.app.conn())
        .unwrap()
        .to_string()
}

fn this_week() -> Vec<String> {
    let today = Utc::now().with_timezone(&London).date_naive();
    vec![
        format!("ge{today}"),
        format!("le{}", today.checked_add_days(Days::new(7)).unwrap()),
    ]
}

#[actix_web::test]
async fn the_clinical_systems_appointments_are_upserted_cancelled_and_read_over_gp_connect() {
    let s = setup().await;
    let (status, summary) = send(&s, &document(vec![visit(), clinic()])).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary,
        json!({ "created": 2, "updated": 0, "unchanged": 0 })
    );
    assert_eq!(slot_status(&s.app, s.visit), "busy");
    assert_eq!(slot_status(&s.app, s.free[1]), "busy");
    assert_eq!(slot_status(&s.app, s.free[2]), "busy");

    // Read and Retrieve return them, whoever booked them, home visits included.
    let home = read(&s.app, &gp_connect_id(&s, "EMIS-1001")).await;
    assert_eq!(home.status, 200, "{}", home.body);
    let home = home.json();
    assert_eq!(home["description"], "Home visit");
    assert!(
        home["extension"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["valueCode"] == "Visit")
    );
    assert_eq!(home["contained"][0]["identifier"][0]["value"], PRACTICE_A);
    let found = retrieve(&s.app, &s.patient.to_string(), &this_week()).await;
    assert_eq!(found.status, 200, "{}", found.body);
    let found = found.json();
    let entries = found["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    // In start order: the review at 09:10, then the visit at 10:00.
    assert_eq!(entries[0]["resource"]["contained"][0]["name"], "Reception");
    assert_eq!(entries[0]["resource"]["slot"].as_array().unwrap().len(), 2);

    // A GP Connect consumer can't book a slot the clinical system has booked.
    post_book(&s.app, &book_body(&s, &s.free[1..2]))
        .await
        .assert_error(409, "DUPLICATE_REJECTED");

    // Sent again: unchanged. Then the visit cancelled and the review moved to one slot.
    let (status, summary) = send(&s, &document(vec![visit(), clinic()])).await;
    assert_eq!((status, summary["unchanged"].clone()), (200, json!(2)));
    let mut cancelled = visit();
    cancelled["status"] = json!("cancelled");
    cancelled["cancellation_reason"] = json!("Patient went to hospital");
    let mut moved = clinic();
    moved["slots"] = json!(["appt-0910"]);
    let (status, summary) = send(&s, &document(vec![cancelled, moved])).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary,
        json!({ "created": 0, "updated": 2, "unchanged": 0 })
    );
    assert_eq!(count_appointments(&s.app), 2);
    assert_eq!(slot_status(&s.app, s.visit), "free");
    assert_eq!(slot_status(&s.app, s.free[1]), "busy");
    assert_eq!(slot_status(&s.app, s.free[2]), "free");
    let home = read(&s.app, &gp_connect_id(&s, "EMIS-1001")).await.json();
    assert_eq!(home["status"], "cancelled");
    assert_eq!(home["meta"]["versionId"], "2");
    let logged: Vec<String> = audit_log::table
        .filter(audit_log::entity.eq("appointment"))
        .order(audit_log::id)
        .select(audit_log::action)
        .load(&mut s.app.conn())
        .unwrap();
    assert_eq!(logged, ["record", "record", "update", "update"]);
}

#[actix_web::test]
async fn a_document_with_problems_is_refused_whole_listing_every_problem() {
    let s = setup().await;
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[..1])).await.status,
        201
    );
    let mut unknown_slot = clinic();
    unknown_slot["id"] = json!("EMIS-2");
    unknown_slot["slots"] = json!(["no-such-slot"]);
    let mut unknown_patient = clinic();
    unknown_patient["id"] = json!("EMIS-3");
    unknown_patient["slots"] = json!(["appt-0940"]);
    unknown_patient["patient_nhs_number"] = json!("9999999999");
    let mut no_reason = visit();
    no_reason["id"] = json!("EMIS-4");
    no_reason["status"] = json!("cancelled");
    let mut too_long = visit();
    too_long["id"] = json!("EMIS-5");
    too_long["description"] = json!("x".repeat(1001));
    let mut taken = clinic();
    taken["id"] = json!("EMIS-6");
    taken["slots"] = json!(["appt-0900"]);
    let mut apart = clinic();
    apart["id"] = json!("EMIS-7");
    apart["slots"] = json!(["appt-0920", "appt-0940"]);
    let doc = document(vec![
        visit(),
        unknown_slot,
        unknown_patient,
        no_reason,
        too_long,
        taken,
        apart,
        visit(),
    ]);
    let (status, body) = send(&s, &doc).await;
    assert_eq!(status, 422, "{body}");
    let problems: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for expected in [
        "appointment 'EMIS-1001': sent more than once",
        "appointment 'EMIS-2': no slot 'no-such-slot' at this practice",
        "appointment 'EMIS-3': no patient with NHS number '9999999999'",
        "appointment 'EMIS-4': a cancelled appointment needs a cancellation_reason",
        "appointment 'EMIS-5': the description is longer than the 1000 characters",
        "appointment 'EMIS-6': slot 'appt-0900' is already held by appointment",
        "appointment 'EMIS-7': slots 'appt-0920' and 'appt-0940' are not adjacent",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected} in {problems:?}"
        );
    }
    // Nothing written: only the GP Connect booking exists, the visit's slot is still free.
    assert_eq!(count_appointments(&s.app), 1);
    assert_eq!(slot_status(&s.app, s.visit), "free");

    let (status, body) = send(
        &s,
        &json!({ "practice": "B82617", "appointments": [visit()] }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let resp = reqwest::Client::new()
        .post(
            s.app
                .url(&format!("/api/practices/{PRACTICE_A}/appointments")),
        )
        .bearer_auth(API_TOKEN)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let resp = reqwest::Client::new()
        .post(
            s.app
                .url(&format!("/api/practices/{PRACTICE_A}/appointments")),
        )
        .json(&document(vec![visit()]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(count_appointments(&s.app), 1);
}
