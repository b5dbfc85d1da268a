//! Book, Amend and Cancel with FHIR XML request bodies (issue 14): the same rules and errors
//! as JSON, the answer in XML unless asked otherwise.

use serde_json::{Value, json};

use super::appointments::{
    AMEND, BOOK, CANCEL, CANCELLATION_REASON, READ, Setup, book_body, count_appointments, setup,
    slot_status, with_scope,
};
use super::{Answer, base, send};
use crate::fixture::PRACTICE_A;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The FHIR XML of a JSON resource (the tests' own writer, independent of the server's).
fn to_xml(resource: &Value) -> String {
    let kind = resource["resourceType"].as_str().unwrap();
    format!(
        "<{kind} xmlns=\"http://hl7.org/fhir\">{}</{kind}>",
        children(resource)
    )
}

fn children(object: &Value) -> String {
    let mut out = String::new();
    for (key, value) in object.as_object().unwrap() {
        if key == "resourceType" || key == "url" {
            continue;
        }
        match value {
            Value::Array(items) => items.iter().for_each(|i| out += &element(key, i)),
            v => out += &element(key, v),
        }
    }
    out
}

fn element(name: &str, value: &Value) -> String {
    match value {
        Value::String(s) => format!("<{name} value=\"{}\"/>", escape(s)),
        Value::Number(_) | Value::Bool(_) => format!("<{name} value=\"{value}\"/>"),
        Value::Object(_) if name == "contained" => {
            format!("<contained>{}</contained>", to_xml(value))
        }
        Value::Object(o) => {
            let url = o
                .get("url")
                .and_then(Value::as_str)
                .map(|u| format!(" url=\"{}\"", escape(u)))
                .unwrap_or_default();
            format!("<{name}{url}>{}</{name}>", children(value))
        }
        Value::Null | Value::Array(_) => String::new(),
    }
}

async fn send_xml(
    s: &Setup,
    method: reqwest::Method,
    path: &str,
    interaction: &str,
    if_match: Option<&str>,
    body: String,
    accept_json: bool,
) -> Answer {
    let mut req = reqwest::Client::new()
        .request(method, format!("{}{path}", base(&s.app, PRACTICE_A)))
        .headers(with_scope(interaction, "patient/*.write"))
        .header("Content-Type", "application/fhir+xml")
        .body(body);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    if accept_json {
        req = req.header("Accept", "application/fhir+json");
    }
    send(req).await
}

async fn read_xml(s: &Setup, id: &str) -> Answer {
    let req = reqwest::Client::new()
        .get(format!("{}/Appointment/{id}", base(&s.app, PRACTICE_A)))
        .headers(with_scope(READ, "patient/*.read"))
        .header("Accept", "application/fhir+xml");
    send(req).await
}

#[actix_web::test]
async fn book_amend_and_cancel_read_fhir_xml_bodies() {
    let s = setup().await;
    let body = to_xml(&book_body(&s, &s.free[..1]));
    let booked = send_xml(
        &s,
        reqwest::Method::POST,
        "/Appointment",
        BOOK,
        None,
        body,
        false,
    )
    .await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert!(booked.content_type.starts_with("application/fhir+xml"));
    assert!(
        booked
            .body
            .contains("<description value=\"Follow-up call\"/>")
    );
    assert_eq!(booked.etag.as_deref(), Some("W/\"1\""));
    assert_eq!(slot_status(&s.app, s.free[0]), "busy");
    assert_eq!(count_appointments(&s.app), 1);
    let id: i64 = {
        use bookable::db::schema::appointments;
        use diesel::prelude::*;
        appointments::table
            .select(appointments::id)
            .first(&mut s.app.conn())
            .unwrap()
    };
    let path = format!("/Appointment/{id}");

    // Amend: the resource as read in XML, with a new description.
    let stored = read_xml(&s, &id.to_string()).await;
    assert_eq!(stored.status, 200, "{}", stored.body);
    let amended_xml = stored.body.replace(
        "<description value=\"Follow-up call\"/>",
        "<description value=\"Follow-up video call &amp; photos\"/>",
    );
    assert_ne!(amended_xml, stored.body);
    let amended = send_xml(
        &s,
        reqwest::Method::PUT,
        &path,
        AMEND,
        Some("W/\"1\""),
        amended_xml.clone(),
        true,
    )
    .await;
    assert_eq!(amended.status, 200, "{}", amended.body);
    assert_eq!(
        amended.json()["description"],
        "Follow-up video call & photos"
    );
    // A change to anything else is refused, in XML as in JSON.
    let priority = amended_xml.replace(
        "<status value=\"booked\"/>",
        "<status value=\"booked\"/><priority value=\"1\"/>",
    );
    send_xml(
        &s,
        reqwest::Method::PUT,
        &path,
        AMEND,
        Some("W/\"2\""),
        priority,
        true,
    )
    .await
    .assert_error(422, "INVALID_RESOURCE");

    // Cancel: the amended resource with the status and the reason.
    let mut cancel = amended.json();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Patient is better" }));
    send_xml(
        &s,
        reqwest::Method::PUT,
        &path,
        CANCEL,
        Some("W/\"1\""),
        to_xml(&cancel),
        true,
    )
    .await
    .assert_error(409, "FHIR_CONSTRAINT_VIOLATION");
    let cancelled = send_xml(
        &s,
        reqwest::Method::PUT,
        &path,
        CANCEL,
        Some("W/\"2\""),
        to_xml(&cancel),
        true,
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json()["status"], "cancelled");
    assert_eq!(slot_status(&s.app, s.free[0]), "free");
}

#[actix_web::test]
async fn bad_xml_bodies_get_the_digests_errors_and_write_nothing() {
    let s = setup().await;
    let good = book_body(&s, &s.free[..1]);
    let mut wrong_type = good.clone();
    wrong_type["resourceType"] = json!("Patient");
    let mut absolute = good.clone();
    absolute["slot"] =
        json!([{ "reference": format!("https://elsewhere.example/Slot/{}", s.free[0]) }]);
    let mut unknown_slot = good.clone();
    unknown_slot["slot"] = json!([{ "reference": "Slot/45555555" }]);
    let mut long = good.clone();
    long["description"] = json!("x".repeat(1024 * 1024));
    let good_xml = to_xml(&good);
    let cases = [
        ("malformed", good_xml[..good_xml.len() - 5].to_owned()),
        (
            "not XML",
            "{ \"resourceType\": \"Appointment\" }".to_owned(),
        ),
        (
            "no namespace",
            good_xml.replace(" xmlns=\"http://hl7.org/fhir\"", ""),
        ),
        ("wrong type", to_xml(&wrong_type)),
        ("absolute reference", to_xml(&absolute)),
        ("unknown slot", to_xml(&unknown_slot)),
        ("1 MB description", to_xml(&long)),
        (
            "a DOCTYPE",
            format!("<!DOCTYPE Appointment [<!ENTITY x \"y\">]>{good_xml}"),
        ),
    ];
    for (what, body) in cases {
        let res = send_xml(
            &s,
            reqwest::Method::POST,
            "/Appointment",
            BOOK,
            None,
            body,
            true,
        )
        .await;
        assert_eq!(res.status, 422, "{what}: {}", res.body);
        res.assert_error(422, "INVALID_RESOURCE");
    }
    assert_eq!(count_appointments(&s.app), 0);
    assert_eq!(slot_status(&s.app, s.free[0]), "free");
    use bookable::db::schema::{appointment_events, bookings};
    use diesel::prelude::*;
    let mut conn = s.app.conn();
    let events: i64 = appointment_events::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    let held: i64 = bookings::table.count().get_result(&mut conn).unwrap();
    assert_eq!((events, held), (0, 0));
}
