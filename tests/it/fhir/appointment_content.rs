//! The Appointment resource's content rules (digest §1.1, §1.2, §1.5): the practitioner role
//! and delivery channel come from the slot's schedule, `serviceType.text` is the slot type and
//! `serviceCategory.text` the schedule's session type whatever the consumer sent, the booking
//! Organization is contained and referenced, and `reason`/`specialty` never appear — in the
//! answers to Book, Read, Amend, Cancel and Retrieve alike.

use chrono::{Days, Utc};
use chrono_tz::Europe::London;
use serde_json::{Value, json};

use super::appointments::{
    AMEND, CANCEL, CANCELLATION_REASON, Setup, book_body, local_in_days, post_book, put, read,
    retrieve, setup_with, slot_times, uk,
};
use super::{ODS, ORG_TYPE};
use crate::fixture::{self, bookable, slot};

const PREFIX: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/";

/// The setup's practice with a telephone schedule too: Salaried GP (R0270), slot type
/// "Telephone triage", session type "PHONE session".
async fn telephone_setup() -> (Setup, bookable::db::ids::SlotId) {
    let s = setup_with(|doc| {
        doc.schedules.push(fixture::schedule(
            "PHONE",
            Some("R0270"),
            "Telephone",
            bookable(&[], &[]),
        ));
        let mut phone = slot("phone-1100", "PHONE", local_in_days(2, 11, 0), 15);
        phone.slot_type = Some("Telephone triage".into());
        doc.slots.push(phone);
    })
    .await;
    let id = {
        use bookable::db::schema::slots;
        use diesel::prelude::*;
        slots::table
            .filter(slots::external_id.eq("phone-1100"))
            .select(slots::id)
            .first::<i64>(&mut s.app.conn())
            .map(bookable::db::ids::SlotId)
            .unwrap()
    };
    (s, id)
}

fn extension<'a>(a: &'a Value, name: &str) -> &'a Value {
    let url = format!("{PREFIX}{name}");
    let found: Vec<&Value> = a["extension"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["url"] == url.as_str())
        .collect();
    assert_eq!(found.len(), 1, "{name} once in {a}");
    found[0]
}

/// Every rule the digest gives for an Appointment of the telephone slot booked by Z100.
fn assert_content(a: &Value, s: &Setup, slot: bookable::db::ids::SlotId, what: &str) {
    assert_eq!(a["resourceType"], "Appointment", "{what}");
    assert_eq!(
        a["meta"]["profile"],
        json!([format!("{PREFIX}GPConnect-Appointment-1")]),
        "{what}"
    );
    assert!(a["meta"]["versionId"].is_string(), "{what}");
    assert!(
        a.get("reason").is_none() && a.get("specialty").is_none(),
        "{what}: {a}"
    );
    // From the provider's data, never the request's.
    assert_eq!(
        a["serviceType"],
        json!([{ "text": "Telephone triage" }]),
        "{what}"
    );
    assert_eq!(
        a["serviceCategory"],
        json!({ "text": "PHONE session" }),
        "{what}"
    );
    assert_eq!(
        extension(a, "Extension-GPConnect-PractitionerRole-1")["valueCodeableConcept"]["coding"],
        json!([{
            "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
            "code": "R0270",
            "display": "Salaried General Practitioner"
        }]),
        "{what}"
    );
    assert_eq!(
        extension(a, "Extension-GPConnect-DeliveryChannel-2")["valueCode"],
        "Telephone",
        "{what}"
    );
    let reference =
        extension(a, "Extension-GPConnect-BookingOrganisation-1")["valueReference"]["reference"]
            .as_str()
            .unwrap();
    let contained = a["contained"].as_array().unwrap();
    assert_eq!(contained.len(), 1, "{what}");
    let org = &contained[0];
    assert_eq!(reference, format!("#{}", org["id"].as_str().unwrap()));
    assert_eq!(org["resourceType"], "Organization", "{what}");
    assert_eq!(
        org["meta"]["profile"],
        json!([format!("{PREFIX}CareConnect-GPC-Organization-1")]),
        "{what}"
    );
    assert_eq!(
        org["identifier"],
        json!([{ "system": ODS, "value": "Z100" }]),
        "{what}"
    );
    assert_eq!(org["name"], "North Ambulance Service", "{what}");
    assert_eq!(org["telecom"][0]["value"], "01111222333", "{what}");
    assert_eq!(
        org["type"][0]["coding"][0],
        json!({ "system": ORG_TYPE, "code": "urgent-care" }),
        "{what}"
    );
    let (start, end) = slot_times(&s.app, &[slot]);
    assert_eq!(a["start"], uk(start), "{what}");
    assert_eq!(a["end"], uk(end), "{what}");
    assert_eq!(a["minutesDuration"], 15, "{what}");
    assert_eq!(a["slot"], json!([{ "reference": format!("Slot/{slot}") }]));
    let actors: Vec<&str> = a["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["actor"]["reference"].as_str().unwrap())
        .collect();
    assert!(actors.contains(&format!("Patient/{}", s.patient).as_str()));
    assert!(actors.contains(&format!("Location/{}", s.location).as_str()));
    assert!(
        actors.iter().any(|r| r.starts_with("Practitioner/")),
        "{what}: {actors:?}"
    );
}

#[actix_web::test]
async fn every_answer_carries_the_slot_and_schedule_content_and_the_contained_organisation() {
    let (s, phone) = telephone_setup().await;
    let mut body = book_body(&s, &[phone]);
    // A consumer's own serviceType and serviceCategory are ignored (1.2.7 tests).
    body["serviceType"] = json!([{ "text": "Consumer's type" }]);
    body["serviceCategory"] = json!({ "text": "Consumer's category" });
    let booked = post_book(&s.app, &body).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let a = booked.json();
    assert_content(&a, &s, phone, "book");
    let id = a["id"].as_str().unwrap();

    let got = read(&s.app, id).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_content(&got.json(), &s, phone, "read");

    let mut edit = got.json();
    edit["description"] = json!("Call back about results");
    edit["serviceType"] = json!([{ "text": "Consumer's type" }]);
    let amended = put(&s.app, AMEND, id, "W/\"1\"", &edit).await;
    assert_eq!(amended.status, 200, "{}", amended.body);
    assert_content(&amended.json(), &s, phone, "amend");

    let today = Utc::now().with_timezone(&London).date_naive();
    let range = [
        format!("ge{today}"),
        format!("le{}", today.checked_add_days(Days::new(7)).unwrap()),
    ];
    let found = retrieve(&s.app, &s.patient.to_string(), &range).await;
    assert_eq!(found.status, 200, "{}", found.body);
    let bundle = found.json();
    let entries = bundle["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_content(&entries[0]["resource"], &s, phone, "retrieve");

    let mut cancel = amended.json();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Sorted by phone" }));
    let cancelled = put(&s.app, CANCEL, id, "W/\"2\"", &cancel).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let c = cancelled.json();
    assert_content(&c, &s, phone, "cancel");
    assert_eq!(
        extension(&c, "Extension-GPConnect-AppointmentCancellationReason-1")["valueString"],
        "Sorted by phone"
    );
    // Read and Retrieve show the cancelled appointment with its reason.
    let again = read(&s.app, id).await.json();
    assert_content(&again, &s, phone, "read cancelled");
    assert_eq!(again["status"], "cancelled");
    let found = retrieve(&s.app, &s.patient.to_string(), &range)
        .await
        .json();
    assert_eq!(found["entry"][0]["resource"]["status"], "cancelled");
}

#[actix_web::test]
async fn an_organisation_without_a_type_is_stored_and_returned_without_one() {
    let (s, _) = telephone_setup().await;
    let mut body = book_body(&s, &s.free[..1]);
    body["contained"][0].as_object_mut().unwrap().remove("type");
    let booked = post_book(&s.app, &body).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let a = read(&s.app, booked.json()["id"].as_str().unwrap())
        .await
        .json();
    assert!(a["contained"][0].get("type").is_none(), "{a}");
    assert_eq!(a["contained"][0]["name"], "North Ambulance Service");
    // The APPT schedule's own role and channel, not the telephone schedule's.
    assert_eq!(
        extension(&a, "Extension-GPConnect-PractitionerRole-1")["valueCodeableConcept"]["coding"]
            [0]["code"],
        "R0260"
    );
    assert_eq!(
        extension(&a, "Extension-GPConnect-DeliveryChannel-2")["valueCode"],
        "In-person"
    );
    assert_eq!(a["serviceCategory"]["text"], "APPT session");
}

#[actix_web::test]
async fn read_shows_the_schedule_as_it_is_now_a_locum_and_a_new_role() {
    use bookable::db::schema::{practitioners, schedules};
    use diesel::prelude::*;
    let s = setup_with(|doc| {
        let mut locum = doc.practitioners[0].clone();
        locum.id = "P2".into();
        locum.family_name = "Locum".into();
        locum.sds_user_id = Some("G7654321".into());
        doc.practitioners.push(locum);
    })
    .await;
    let booked = post_book(&s.app, &book_body(&s, &s.free[..1])).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let id = booked.json()["id"].as_str().unwrap().to_owned();
    let mut conn = s.app.conn();
    let locum: i64 = practitioners::table
        .filter(practitioners::external_id.eq("P2"))
        .select(practitioners::id)
        .first(&mut conn)
        .unwrap();
    diesel::update(schedules::table.filter(schedules::external_id.eq("APPT")))
        .set((
            schedules::practitioner_id.eq(locum),
            schedules::practitioner_role.eq("R0270"),
        ))
        .execute(&mut conn)
        .unwrap();
    let a = read(&s.app, &id).await.json();
    let actors: Vec<&str> = a["participant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["actor"]["reference"].as_str().unwrap())
        .collect();
    assert!(
        actors.contains(&format!("Practitioner/{locum}").as_str()),
        "{actors:?}"
    );
    assert_eq!(
        extension(&a, "Extension-GPConnect-PractitionerRole-1")["valueCodeableConcept"]["coding"]
            [0]["code"],
        "R0270"
    );
}

#[actix_web::test]
async fn retrieve_answers_in_fhir_xml_when_asked() {
    use super::appointments::{RETRIEVE, with_scope};
    use super::{base, send};
    let (s, phone) = telephone_setup().await;
    assert_eq!(
        post_book(&s.app, &book_body(&s, &[phone])).await.status,
        201
    );
    let today = Utc::now().with_timezone(&London).date_naive();
    let last = today.checked_add_days(Days::new(7)).unwrap();
    let req = reqwest::Client::new()
        .get(format!(
            "{}/Patient/{}/Appointment",
            base(&s.app, crate::fixture::PRACTICE_A),
            s.patient
        ))
        .query(&[
            ("start", format!("ge{today}")),
            ("start", format!("le{last}")),
        ])
        .headers(with_scope(RETRIEVE, "patient/*.read"))
        .header("Accept", "application/fhir+xml");
    let res = send(req).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.content_type.starts_with("application/fhir+xml"));
    for part in [
        "<Bundle xmlns=\"http://hl7.org/fhir\">",
        "<type value=\"searchset\"/>",
        "<resource><Appointment xmlns=\"http://hl7.org/fhir\"><id value=",
        "<serviceType><text value=\"Telephone triage\"/></serviceType>",
        "<serviceCategory><text value=\"PHONE session\"/></serviceCategory>",
        "<valueCode value=\"Telephone\"/>",
    ] {
        assert!(res.body.contains(part), "{part} in {}", res.body);
    }
    assert!(!res.body.contains("<reason") && !res.body.contains("<specialty"));
}
