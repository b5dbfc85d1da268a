//! Book's refusals from the query module (restricted, outside the booking window, over a
//! booking limit, in the past), booking races under a limit, Amend racing Cancel, and one
//! whole consumer session for an urgent-care consumer under a booking limit (issue 14).

use std::sync::Arc;

use bookable::availability::codes::OrganisationType;
use bookable::availability::limits::{self, BookingWindow, NewSubject, Period, WindowTarget};
use bookable::change_log::Actor;
use bookable::db::ids::{PracticeId, SlotId};
use bookable::db::schema::{appointments, bookings, slots};
use chrono::{Days, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::appointment_feed::practice_id;
use super::appointments::{
    AMEND, CANCEL, CANCELLATION_REASON, Setup, book_body, count_appointments, local_in_days,
    post_book, put, read, retrieve, setup_with, slot_status,
};
use super::patients::{FIND_PATIENT, NHS, patient_headers};
use super::{ASID_A, ODS, ORG_TYPE, SEARCH_SLOT, gpc_get, headers, resources};
use crate::fixture::{self, PRACTICE_A, bookable, slot};

/// The setup's rota and: RACE, 20 open ten-minute slots from 11:00 two days from now; ONLY, a
/// schedule only Y03032 may book; a slot that started yesterday.
async fn setup() -> Setup {
    setup_with(|doc| {
        doc.schedules.push(fixture::schedule(
            "RACE",
            Some("R0260"),
            "In-person",
            bookable(&[], &[]),
        ));
        doc.schedules.push(fixture::schedule(
            "ONLY",
            Some("R0260"),
            "In-person",
            bookable(&[], &["Y03032"]),
        ));
        for i in 0..20 {
            doc.slots.push(slot(
                &format!("race-{i:02}"),
                "RACE",
                local_in_days(2, 11, 0) + chrono::TimeDelta::minutes(10 * i),
                10,
            ));
        }
        doc.slots
            .push(slot("only-1000", "ONLY", local_in_days(2, 10, 0), 10));
        let yesterday = local_in_days(0, 9, 0) - chrono::TimeDelta::days(1);
        doc.slots.push(slot("appt-past", "APPT", yesterday, 10));
        doc.slots.sort_by_key(|s| s.start);
    })
    .await
}

fn slot_id(s: &Setup, external: &str) -> SlotId {
    slots::table
        .filter(slots::external_id.eq(external))
        .select(slots::id)
        .first(&mut s.app.conn())
        .unwrap()
}

fn race_slots(s: &Setup) -> Vec<SlotId> {
    (0..20)
        .map(|i| slot_id(s, &format!("race-{i:02}")))
        .collect()
}

fn practice(s: &Setup) -> PracticeId {
    practice_id(&mut s.app.conn(), PRACTICE_A)
}

/// A booking limit for urgent care across practice A.
fn urgent_care_limit(s: &Setup, max: i32) {
    limits::add(
        &mut s.app.conn(),
        &Actor::system("test"),
        practice(s),
        None,
        NewSubject::OrgType(OrganisationType::parse("urgent-care").unwrap()),
        Period::Day,
        max,
    )
    .unwrap();
}

fn code(answer: &super::Answer) -> Value {
    answer.json()["issue"][0]["details"]["coding"][0]["code"].clone()
}

#[actix_web::test]
async fn twenty_bookers_of_different_slots_under_a_limit_of_three_get_exactly_three() {
    let s = Arc::new(setup().await);
    urgent_care_limit(&s, 3);
    let mut tasks = Vec::new();
    for slot in race_slots(&s) {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let res = post_book(&s.app, &book_body(&s, &[slot])).await;
            let code = (res.status != 201).then(|| code(&res));
            (res.status, code)
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            (201, _) => created += 1,
            refused => assert_eq!(refused, (422, Some(json!("INVALID_RESOURCE")))),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(count_appointments(&s.app), 3);
    let held: i64 = bookings::table
        .filter(bookings::released_at.is_null())
        .count()
        .get_result(&mut s.app.conn())
        .unwrap();
    assert_eq!(held, 3);
}

#[actix_web::test]
async fn amend_and_cancel_racing_on_one_version_one_wins_and_the_other_gets_409() {
    let s = Arc::new(setup().await);
    for slot in race_slots(&s).into_iter().take(6) {
        let booked = post_book(&s.app, &book_body(&s, &[slot])).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        let a = booked.json();
        let id = a["id"].as_str().unwrap().to_owned();
        let mut amend = a.clone();
        amend["description"] = json!("Follow-up video call");
        let mut cancel = a.clone();
        cancel["status"] = json!("cancelled");
        cancel["extension"]
            .as_array_mut()
            .unwrap()
            .push(json!({ "url": CANCELLATION_REASON, "valueString": "Patient is better" }));
        let (one, two) = {
            let (s1, s2, id1, id2) = (s.clone(), s.clone(), id.clone(), id.clone());
            let amending =
                tokio::spawn(async move { put(&s1.app, AMEND, &id1, "W/\"1\"", &amend).await });
            let cancelling =
                tokio::spawn(async move { put(&s2.app, CANCEL, &id2, "W/\"1\"", &cancel).await });
            (amending.await.unwrap(), cancelling.await.unwrap())
        };
        let (winner, loser, cancelled) = match (one.status, two.status) {
            (200, _) => (one, two, false),
            (_, 200) => (two, one, true),
            _ => panic!("neither won: {} / {}", one.body, two.body),
        };
        loser.assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
        assert_eq!(winner.json()["meta"]["versionId"], "2");
        let now = read(&s.app, &id).await.json();
        assert_eq!(now["meta"]["versionId"], "2");
        assert_eq!(
            now["status"],
            if cancelled { "cancelled" } else { "booked" }
        );
        let expected = if cancelled { "free" } else { "busy" };
        assert_eq!(slot_status(&s.app, slot), expected);
    }
}

#[actix_web::test]
async fn book_refuses_slots_the_query_module_would_not_show_the_booking_organisation() {
    let s = setup().await;
    let refused = |what: &'static str| move |a: super::Answer| (what, a.status, code(&a));
    let mut answers = Vec::new();
    // Restricted to another organisation (ODS code Y03032).
    let only = slot_id(&s, "only-1000");
    answers.push(refused("restricted")(
        post_book(&s.app, &book_body(&s, &[only])).await,
    ));
    // Outside its booking window: bookable from one day before only.
    limits::set_window(
        &mut s.app.conn(),
        &Actor::system("test"),
        practice(&s),
        WindowTarget::Slot(s.free[3]),
        BookingWindow {
            from_days: Some(1),
            until_minutes: None,
        },
    )
    .unwrap();
    answers.push(refused("outside the window")(
        post_book(&s.app, &book_body(&s, &[s.free[3]])).await,
    ));
    // A home visit, and a slot that started yesterday.
    answers.push(refused("visit")(
        post_book(&s.app, &book_body(&s, &[s.visit])).await,
    ));
    let past = slot_id(&s, "appt-past");
    answers.push(refused("past")(
        post_book(&s.app, &book_body(&s, &[past])).await,
    ));
    for (what, status, code) in &answers {
        assert_eq!(
            (*status, code.clone()),
            (422, json!("INVALID_RESOURCE")),
            "{what}"
        );
    }
    assert_eq!(count_appointments(&s.app), 0);
    // Over a booking limit: one a day for urgent care; the second booking is refused.
    urgent_care_limit(&s, 1);
    assert_eq!(
        post_book(&s.app, &book_body(&s, &[s.free[0]])).await.status,
        201
    );
    let over = post_book(&s.app, &book_body(&s, &[s.free[1]])).await;
    over.assert_error(422, "INVALID_RESOURCE");
    assert!(over.body.contains("limit"), "{}", over.body);
    assert_eq!(count_appointments(&s.app), 1);
    assert_eq!(slot_status(&s.app, s.free[1]), "free");
}

/// The free slot ids a search by urgent-care consumer Z100 finds on the setup's day.
async fn search(s: &Setup) -> Vec<String> {
    let day = Utc::now()
        .with_timezone(&London)
        .date_naive()
        .checked_add_days(Days::new(2))
        .unwrap()
        .to_string();
    let query = [
        ("start", format!("ge{day}")),
        ("end", format!("le{day}")),
        ("status", "free".into()),
        ("_include", "Slot:schedule".into()),
        ("searchFilter", format!("{ORG_TYPE}|urgent-care")),
        ("searchFilter", format!("{ODS}|Z100")),
    ];
    let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = gpc_get(
        &s.app,
        PRACTICE_A,
        "/Slot",
        &query,
        headers(SEARCH_SLOT, ASID_A),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    resources(&answer.json(), "Slot")
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_urgent_care_consumer_session_from_find_patient_to_the_slot_offered_again() {
    let s = setup().await;
    urgent_care_limit(&s, 1);
    // Find the patient.
    let found = gpc_get(
        &s.app,
        PRACTICE_A,
        "/Patient",
        &[("identifier", &format!("{NHS}|9000000009"))],
        patient_headers(FIND_PATIENT, "patient/*.read", ASID_A),
    )
    .await;
    assert_eq!(found.status, 200, "{}", found.body);
    let patients = resources(&found.json(), "Patient")
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
    assert_eq!(patients, [s.patient.to_string()]);
    // Search: the first free slot is offered.
    let offered = search(&s).await;
    let first = s.free[0].to_string();
    assert!(offered.contains(&first), "{offered:?}");
    // Book it.
    let booked = post_book(&s.app, &book_body(&s, &[s.free[0]])).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let id = booked.json()["id"].as_str().unwrap().to_owned();
    // Under a limit of one a day, nothing more is offered that day to urgent care.
    assert_eq!(search(&s).await, Vec::<String>::new());
    // Retrieve and read.
    let today = Utc::now().with_timezone(&London).date_naive();
    let range = [
        format!("ge{today}"),
        format!("le{}", today.checked_add_days(Days::new(7)).unwrap()),
    ];
    let listed = retrieve(&s.app, &s.patient.to_string(), &range).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert_eq!(listed.json()["entry"][0]["resource"]["id"], id.as_str());
    let a = read(&s.app, &id).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Amend, then cancel with the version the amendment gave.
    let mut edit = a.json();
    edit["comment"] = json!("Patient would like a call first");
    let amended = put(&s.app, AMEND, &id, a.etag.as_deref().unwrap(), &edit).await;
    assert_eq!(amended.status, 200, "{}", amended.body);
    let mut cancel = amended.json();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Patient is better" }));
    let cancelled = put(
        &s.app,
        CANCEL,
        &id,
        amended.etag.as_deref().unwrap(),
        &cancel,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json()["meta"]["versionId"], "3");
    // The slot is offered again, and the limit's place is given back.
    assert_eq!(search(&s).await, offered);
    let status: String = appointments::table
        .select(appointments::status)
        .first(&mut s.app.conn())
        .unwrap();
    assert_eq!(status, "cancelled");
}
