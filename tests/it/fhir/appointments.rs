//! Book, Read, Amend, Cancel and Retrieve over HTTP (issue 14), on future slots of practice A
//! and one patient.

use std::sync::Arc;

use bookable::change_log::Actor;
use bookable::db::ids::{LocationId, PatientId, SlotId};
use bookable::db::schema::{
    appointment_events, appointments, audit_log, bookings, patients, schedules, slots,
};
use bookable::rota_import;
use chrono::{DateTime, Days, FixedOffset, TimeZone, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{ASID_A, Answer, ODS, ORG_TYPE, app_with_fixture_and, base, headers, send};
use crate::fixture::{self, PRACTICE_A, bookable, slot};
use crate::harness::TestApp;

pub const BOOK: &str = "urn:nhs:names:services:gpconnect:fhir:rest:create:appointment-1";
pub const READ: &str = "urn:nhs:names:services:gpconnect:fhir:rest:read:appointment-1";
pub const AMEND: &str = "urn:nhs:names:services:gpconnect:fhir:rest:update:appointment-1";
pub const CANCEL: &str = "urn:nhs:names:services:gpconnect:fhir:rest:cancel:appointment-1";
pub const RETRIEVE: &str =
    "urn:nhs:names:services:gpconnect:fhir:rest:search:patient_appointments-1";
/// The JSON API's all-practices development token in these tests.
pub const API_TOKEN: &str = "test-api-token-0123456789";
pub const CANCELLATION_REASON: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1";

/// The app, and what the tests book: future slots of schedule APPT (In-person, open to all),
/// one Visit slot, and a patient.
pub struct Setup {
    pub app: TestApp,
    pub patient: PatientId,
    pub location: LocationId,
    /// 09:00, 09:10, 09:20 and 09:40 local, two days from now.
    pub free: Vec<SlotId>,
    pub visit: SlotId,
}

pub fn local_in_days(days: u64, h: u32, m: u32) -> DateTime<FixedOffset> {
    let day = Utc::now()
        .with_timezone(&London)
        .date_naive()
        .checked_add_days(Days::new(days))
        .unwrap();
    London
        .from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap())
        .earliest()
        .unwrap()
        .fixed_offset()
}

pub async fn setup() -> Setup {
    setup_with(|_| {}).await
}

/// `setup` with the rota changed before it is imported (more schedules or slots).
pub async fn setup_with(edit: impl FnOnce(&mut rota_import::ImportDocument)) -> Setup {
    let (app, _) = app_with_fixture_and(|state| {
        state.api = bookable::api::ApiSettings::with_all_practices_token(API_TOKEN);
        // These slots are days from the real today, and one started yesterday.
        state.clock = bookable::clock::Clock::system();
    })
    .await;
    let mut conn = app.conn();
    let mut doc = fixture::base_document(PRACTICE_A);
    doc.schedules = vec![
        fixture::schedule("APPT", Some("R0260"), "In-person", bookable(&[], &[])),
        fixture::schedule("HOME", Some("R0260"), "Visit", fixture::not_bookable()),
    ];
    doc.slots = vec![
        slot("appt-0900", "APPT", local_in_days(2, 9, 0), 10),
        slot("appt-0910", "APPT", local_in_days(2, 9, 10), 10),
        slot("appt-0920", "APPT", local_in_days(2, 9, 20), 10),
        slot("appt-0940", "APPT", local_in_days(2, 9, 40), 10),
        slot("home-1000", "HOME", local_in_days(2, 10, 0), 30),
    ];
    edit(&mut doc);
    rota_import::import(&mut conn, &Actor::system("test"), &doc).unwrap();
    let mut slot_id = |name: &str| -> SlotId {
        slots::table
            .filter(slots::external_id.eq(name))
            .select(slots::id)
            .first(&mut conn)
            .unwrap()
    };
    let free = ["appt-0900", "appt-0910", "appt-0920", "appt-0940"]
        .map(&mut slot_id)
        .to_vec();
    let visit = slot_id("home-1000");
    let location: LocationId = schedules::table
        .filter(schedules::external_id.eq("APPT"))
        .select(schedules::location_id)
        .first::<i64>(&mut conn)
        .map(LocationId)
        .unwrap();
    let practice: i64 = slots::table
        .find(free[0])
        .select(slots::practice_id)
        .first(&mut conn)
        .unwrap();
    let patient: PatientId = diesel::insert_into(patients::table)
        .values((
            patients::practice_id.eq(practice),
            patients::nhs_number.eq("9000000009"),
            patients::nhs_number_verified.eq(true),
            patients::family_name.eq("Smith"),
            patients::birth_date.eq(fixture::day(1980, 1, 2)),
            patients::registration_type.eq("R"),
            patients::registration_start.eq(fixture::day(2000, 1, 1)),
        ))
        .returning(patients::id)
        .get_result::<i64>(&mut conn)
        .map(PatientId)
        .unwrap();
    Setup {
        app,
        patient,
        location,
        free,
        visit,
    }
}

pub fn slot_times(app: &TestApp, ids: &[SlotId]) -> (DateTime<Utc>, DateTime<Utc>) {
    let mut conn = app.conn();
    let times: Vec<(DateTime<Utc>, DateTime<Utc>)> = slots::table
        .filter(slots::id.eq_any(ids))
        .order(slots::start_at)
        .select((slots::start_at, slots::end_at))
        .load(&mut conn)
        .unwrap();
    (times[0].0, times[times.len() - 1].1)
}

pub fn uk(t: DateTime<Utc>) -> String {
    t.with_timezone(&London)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A valid Book body for `slots` (adjacent) for the setup's patient, booked by an urgent-care
/// organisation.
pub fn book_body(s: &Setup, ids: &[SlotId]) -> Value {
    let (start, end) = slot_times(&s.app, ids);
    json!({
        "resourceType": "Appointment",
        "meta": { "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"] },
        "contained": [{
            "resourceType": "Organization",
            "id": "1",
            "meta": { "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"] },
            "identifier": [{ "system": ODS, "value": "Z100" }],
            "type": [{ "coding": [{ "system": ORG_TYPE, "code": "urgent-care" }] }],
            "name": "North Ambulance Service",
            "telecom": [{ "system": "phone", "value": "01111222333" }]
        }],
        "extension": [{
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1",
            "valueReference": { "reference": "#1" }
        }],
        "identifier": [{ "system": "https://fhir.nhs.uk/Id/gpconnect-appointment-identifier", "value": "898976578" }],
        "status": "booked",
        "description": "Follow-up call",
        "start": uk(start),
        "end": uk(end),
        "slot": ids.iter().map(|id| json!({ "reference": format!("Slot/{id}") })).collect::<Vec<_>>(),
        "created": uk(Utc::now()),
        "comment": "Patient prefers mornings",
        "participant": [
            { "actor": { "reference": format!("Patient/{}", s.patient) }, "status": "accepted" },
            { "actor": { "reference": format!("Location/{}", s.location) }, "status": "accepted" }
        ]
    })
}

pub fn with_scope(interaction: &str, scope: &str) -> reqwest::header::HeaderMap {
    let mut h = headers(interaction, ASID_A);
    let mut claims = super::claims();
    claims["requested_scope"] = json!(scope);
    h.insert(
        "Authorization",
        format!("Bearer {}", super::jwt(&claims)).parse().unwrap(),
    );
    h
}

pub async fn post_book(app: &TestApp, body: &Value) -> Answer {
    post_raw(app, serde_json::to_vec(body).unwrap()).await
}

pub async fn post_raw(app: &TestApp, body: Vec<u8>) -> Answer {
    let req = reqwest::Client::new()
        .post(format!("{}/Appointment", base(app, PRACTICE_A)))
        .headers(with_scope(BOOK, "patient/*.write"))
        .header("Content-Type", "application/fhir+json")
        .body(body);
    send(req).await
}

pub async fn read(app: &TestApp, id: &str) -> Answer {
    let req = reqwest::Client::new()
        .get(format!("{}/Appointment/{id}", base(app, PRACTICE_A)))
        .headers(with_scope(READ, "patient/*.read"));
    send(req).await
}

pub async fn put(app: &TestApp, interaction: &str, id: &str, etag: &str, body: &Value) -> Answer {
    let req = reqwest::Client::new()
        .put(format!("{}/Appointment/{id}", base(app, PRACTICE_A)))
        .headers(with_scope(interaction, "patient/*.write"))
        .header("Content-Type", "application/fhir+json")
        .header("If-Match", etag)
        .body(serde_json::to_vec(body).unwrap());
    send(req).await
}

pub async fn retrieve(app: &TestApp, patient: &str, starts: &[String]) -> Answer {
    let query: Vec<(&str, &str)> = starts.iter().map(|s| ("start", s.as_str())).collect();
    let req = reqwest::Client::new()
        .get(format!(
            "{}/Patient/{patient}/Appointment",
            base(app, PRACTICE_A)
        ))
        .query(&query)
        .headers(with_scope(RETRIEVE, "patient/*.read"));
    send(req).await
}

pub fn count_appointments(app: &TestApp) -> i64 {
    appointments::table
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

pub fn slot_status(app: &TestApp, id: SlotId) -> String {
    slots::table
        .find(id)
        .select(slots::status)
        .first(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn book_returns_201_with_location_etag_and_the_appointment_and_the_slot_is_busy() {
    let s = setup().await;
    let res = post_book(&s.app, &book_body(&s, &s.free[..1])).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let a = res.json();
    let id = a["id"].as_str().unwrap();
    assert_eq!(a["meta"]["versionId"], "1");
    assert_eq!(res.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(a["status"], "booked");
    assert_eq!(a["description"], "Follow-up call");
    assert_eq!(a["comment"], "Patient prefers mornings");
    assert_eq!(a["serviceType"][0]["text"], "Routine appointment");
    assert_eq!(a["serviceCategory"]["text"], "APPT session");
    assert_eq!(a["minutesDuration"], 10);
    assert!(a.get("reason").is_none() && a.get("specialty").is_none());
    assert_eq!(a["contained"][0]["name"], "North Ambulance Service");
    assert_eq!(
        a["contained"][0]["type"][0]["coding"][0]["code"],
        "urgent-care"
    );
    let urls: Vec<&str> = a["extension"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["url"].as_str().unwrap())
        .collect();
    assert!(urls.iter().any(|u| u.ends_with("BookingOrganisation-1")));
    assert!(urls.iter().any(|u| u.ends_with("PractitionerRole-1")));
    assert!(urls.iter().any(|u| u.ends_with("DeliveryChannel-2")));
    let (start, _) = slot_times(&s.app, &s.free[..1]);
    assert_eq!(a["start"], uk(start));
    assert_eq!(slot_status(&s.app, s.free[0]), "busy");
    let mut conn = s.app.conn();
    let events: Vec<(String, Value)> = appointment_events::table
        .select((appointment_events::kind, appointment_events::payload))
        .load(&mut conn)
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].0, "booked");
    assert_eq!(events[0].1["patient_nhs_number"], "9000000009");
    assert_eq!(events[0].1["slot_ids"], json!(["appt-0900"]));
    let logged: i64 = audit_log::table
        .filter(audit_log::entity.eq("appointment"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(logged, 1);

    let again = read(&s.app, id).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(again.json()["identifier"][0]["value"], "898976578");
    read(&s.app, "Invalid4321")
        .await
        .assert_error(404, "NO_RECORD_FOUND");
    read(&s.app, "8888888888")
        .await
        .assert_error(404, "NO_RECORD_FOUND");
}

#[actix_web::test]
async fn the_same_slot_twice_is_409_duplicate_rejected() {
    let s = setup().await;
    let body = book_body(&s, &s.free[..1]);
    assert_eq!(post_book(&s.app, &body).await.status, 201);
    post_book(&s.app, &body)
        .await
        .assert_error(409, "DUPLICATE_REJECTED");
    assert_eq!(count_appointments(&s.app), 1);
}

#[actix_web::test]
async fn twenty_consumers_racing_for_one_slot_get_one_201_and_nineteen_409s() {
    let s = Arc::new(setup().await);
    let body = Arc::new(book_body(&s, &s.free[..1]));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (s, body) = (s.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let res = post_book(&s.app, &body).await;
            let code = (res.status != 201)
                .then(|| res.json()["issue"][0]["details"]["coding"][0]["code"].clone());
            (res.status, code)
        }));
    }
    let mut created = 0;
    for t in tasks {
        let (status, code) = t.await.unwrap();
        if status == 201 {
            created += 1;
        } else {
            assert_eq!((status, code), (409, Some(json!("DUPLICATE_REJECTED"))));
        }
    }
    assert_eq!(created, 1);
    assert_eq!(count_appointments(&s.app), 1);
    // One booking row holds the slot, one event and one change-log row tell of it.
    let mut conn = s.app.conn();
    let held: i64 = bookings::table
        .filter(bookings::released_at.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    let events: i64 = appointment_events::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let logged: i64 = audit_log::table
        .filter(audit_log::entity.eq("appointment"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((held, events, logged), (1, 1, 1));
    assert_eq!(slot_status(&s.app, s.free[0]), "busy");
}

#[actix_web::test]
async fn two_adjacent_slots_are_one_appointment_and_other_sets_are_refused() {
    let s = setup().await;
    // 09:10 and 09:40 are not adjacent.
    let apart = book_body(&s, &[s.free[1], s.free[3]]);
    post_book(&s.app, &apart)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    let res = post_book(&s.app, &book_body(&s, &s.free[..2])).await;
    assert_eq!(res.status, 201, "{}", res.body);
    let a = res.json();
    assert_eq!(a["slot"].as_array().unwrap().len(), 2);
    assert_eq!(a["minutesDuration"], 20);
    assert_eq!(slot_status(&s.app, s.free[1]), "busy");
    let held: i64 = bookings::table
        .filter(bookings::released_at.is_null())
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!(held, 2);
}

#[actix_web::test]
async fn bad_book_requests_get_the_digests_errors_and_write_nothing() {
    let s = setup().await;
    let good = book_body(&s, &s.free[..1]);
    let changed = |edit: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        edit(&mut b);
        b
    };
    let cases: Vec<(&str, Value)> = vec![
        (
            "wrong type",
            changed(&|b| b["resourceType"] = json!("Patient")),
        ),
        (
            "reason",
            changed(&|b| b["reason"] = json!([{ "text": "tennis elbow" }])),
        ),
        (
            "specialty",
            changed(&|b| b["specialty"] = json!([{ "text": "GP" }])),
        ),
        ("unknown element", changed(&|b| b["colour"] = json!("red"))),
        (
            "absolute slot",
            changed(&|b| {
                b["slot"] = json!([{ "reference": format!("https://elsewhere.example/Slot/{}", s.free[0]) }])
            }),
        ),
        (
            "unknown slot",
            changed(&|b| b["slot"] = json!([{ "reference": "Slot/45555555" }])),
        ),
        (
            "malformed slot",
            changed(&|b| b["slot"] = json!([{ "reference": "Slot/hello" }])),
        ),
        ("no slot", changed(&|b| b["slot"] = json!([]))),
        (
            "no status",
            changed(&|b| {
                b.as_object_mut().unwrap().remove("status");
            }),
        ),
        (
            "no start",
            changed(&|b| {
                b.as_object_mut().unwrap().remove("start");
            }),
        ),
        ("wrong end", changed(&|b| b["end"] = b["start"].clone())),
        (
            "no description",
            changed(&|b| {
                b.as_object_mut().unwrap().remove("description");
            }),
        ),
        (
            "1 MB description",
            changed(&|b| b["description"] = json!("x".repeat(1024 * 1024))),
        ),
        (
            "long comment",
            changed(&|b| b["comment"] = json!("x".repeat(2001))),
        ),
        (
            "no org name",
            changed(&|b| {
                b["contained"][0].as_object_mut().unwrap().remove("name");
            }),
        ),
        (
            "no org telecom",
            changed(&|b| {
                b["contained"][0].as_object_mut().unwrap().remove("telecom");
            }),
        ),
        ("no booking org", changed(&|b| b["extension"] = json!([]))),
        (
            "cancellation reason",
            changed(&|b| {
                b["extension"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({ "url": CANCELLATION_REASON, "valueString": "no" }))
            }),
        ),
        (
            "null identifier value",
            changed(&|b| b["identifier"][0]["value"] = Value::Null),
        ),
        (
            "participant without status",
            changed(&|b| {
                b["participant"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("status");
            }),
        ),
        (
            "no patient",
            changed(&|b| {
                b["participant"].as_array_mut().unwrap().remove(0);
            }),
        ),
        (
            "no location",
            changed(&|b| {
                b["participant"].as_array_mut().unwrap().remove(1);
            }),
        ),
        (
            "unknown patient",
            changed(&|b| b["participant"][0]["actor"]["reference"] = json!("Patient/999999")),
        ),
        (
            "wrong location",
            changed(&|b| b["participant"][1]["actor"]["reference"] = json!("Location/999999")),
        ),
        (
            "status cancelled",
            changed(&|b| b["status"] = json!("cancelled")),
        ),
    ];
    for (what, body) in cases {
        let res = post_book(&s.app, &body).await;
        assert_eq!(res.status, 422, "{what}: {}", res.body);
        res.assert_error(422, "INVALID_RESOURCE");
    }
    post_raw(&s.app, b"{ not json".to_vec())
        .await
        .assert_error(422, "INVALID_RESOURCE");
    post_raw(&s.app, Vec::new())
        .await
        .assert_error(422, "INVALID_RESOURCE");
    // A Visit can never be booked, and a slot that has started can't be either.
    post_book(&s.app, &book_body(&s, &[s.visit]))
        .await
        .assert_error(422, "INVALID_RESOURCE");
    assert_eq!(count_appointments(&s.app), 0);
    assert_eq!(slot_status(&s.app, s.free[0]), "free");
    let events: i64 = appointment_events::table
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!(events, 0);
    let bookings_made: i64 = bookings::table
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    let logged: i64 = audit_log::table
        .filter(audit_log::entity.eq("appointment"))
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!((bookings_made, logged), (0, 0));
}

/// Books the first free slot and returns the Appointment as booked.
pub async fn booked(s: &Setup) -> Value {
    let res = post_book(&s.app, &book_body(s, &s.free[..1])).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()
}

#[actix_web::test]
async fn amend_changes_description_and_comment_only_against_the_current_version() {
    let s = setup().await;
    let a = booked(&s).await;
    let id = a["id"].as_str().unwrap();
    let mut edit = a.clone();
    edit["description"] = json!("Follow-up video call");
    edit["comment"] = json!("Afternoons now");
    put(&s.app, AMEND, id, "invalidEtag", &edit)
        .await
        .assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
    let mut priority = edit.clone();
    priority["priority"] = json!(1);
    put(&s.app, AMEND, id, "W/\"1\"", &priority)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    let mut reason = edit.clone();
    reason["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "no" }));
    put(&s.app, AMEND, id, "W/\"1\"", &reason)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    let res = put(&s.app, AMEND, id, "W/\"1\"", &edit).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let amended = res.json();
    assert_eq!(amended["meta"]["versionId"], "2");
    assert_eq!(res.etag.as_deref(), Some("W/\"2\""));
    assert_eq!(amended["description"], "Follow-up video call");
    assert_eq!(amended["comment"], "Afternoons now");
    assert_eq!(amended["serviceType"][0]["text"], "Routine appointment");
    // The version read before the amendment is stale now.
    put(&s.app, AMEND, id, "W/\"1\"", &edit)
        .await
        .assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
}

#[actix_web::test]
async fn cancel_frees_the_slot_and_a_cancelled_appointment_cant_be_amended() {
    let s = setup().await;
    let a = booked(&s).await;
    let id = a["id"].as_str().unwrap();
    let mut cancel = a.clone();
    cancel["status"] = json!("cancelled");
    let mut empty = cancel.clone();
    empty["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": " " }));
    put(&s.app, CANCEL, id, "W/\"1\"", &empty)
        .await
        .assert_error(422, "INVALID_PARAMETER");
    let mut wrong_url = cancel.clone();
    wrong_url["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": "", "valueString": "Patient is better" }));
    put(&s.app, CANCEL, id, "W/\"1\"", &wrong_url)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Patient is better" }));
    let mut also_comment = cancel.clone();
    also_comment["comment"] = json!("changed");
    put(&s.app, CANCEL, id, "W/\"1\"", &also_comment)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    put(&s.app, CANCEL, id, "invalidEtag", &cancel)
        .await
        .assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
    assert_eq!(slot_status(&s.app, s.free[0]), "busy");
    let res = put(&s.app, CANCEL, id, "W/\"1\"", &cancel).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let cancelled = res.json();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["meta"]["versionId"], "2");
    assert!(
        cancelled["extension"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["url"] == CANCELLATION_REASON && e["valueString"] == "Patient is better")
    );
    assert_eq!(slot_status(&s.app, s.free[0]), "free");
    let mut amend = cancelled.clone();
    amend["description"] = json!("again");
    put(&s.app, AMEND, id, "W/\"2\"", &amend)
        .await
        .assert_error(422, "INVALID_RESOURCE");
    // The slot is offered again: booking it anew succeeds.
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[..1])).await.status,
        201
    );
    let kinds: Vec<String> = appointment_events::table
        .order(appointment_events::seq)
        .select(appointment_events::kind)
        .load(&mut s.app.conn())
        .unwrap();
    assert_eq!(kinds, ["booked", "cancelled", "booked"]);
}

#[actix_web::test]
async fn retrieve_returns_the_patients_appointments_in_the_range_cancelled_included() {
    let s = setup().await;
    let a = booked(&s).await;
    let today = Utc::now().with_timezone(&London).date_naive();
    let day = |n: u64| today.checked_add_days(Days::new(n)).unwrap().to_string();
    let patient = s.patient.to_string();
    let res = retrieve(
        &s.app,
        &patient,
        &[format!("ge{}", day(0)), format!("le{}", day(3))],
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let bundle = res.json();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["resource"]["id"], a["id"]);
    assert!(entries[0].get("fullUrl").is_none());
    let none = retrieve(
        &s.app,
        &patient,
        &[format!("ge{}", day(0)), format!("le{}", day(1))],
    )
    .await;
    assert_eq!(none.status, 200);
    assert!(none.json()["entry"].as_array().is_none_or(Vec::is_empty));
    for bad in [
        vec![format!("ge{}", day(0))],
        vec![format!("gt{}", day(0)), format!("le{}", day(3))],
        vec![format!("ge{}T09:00:00", day(0)), format!("le{}", day(3))],
        vec![format!("ge{}", day(3)), format!("le{}", day(0))],
    ] {
        retrieve(&s.app, &patient, &bad)
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
    retrieve(
        &s.app,
        "999999",
        &[format!("ge{}", day(0)), format!("le{}", day(3))],
    )
    .await
    .assert_error(404, "PATIENT_NOT_FOUND");
}
