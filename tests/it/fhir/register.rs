//! GP Connect Register a patient, over HTTP, against the PDS stand-in: temporary registrations
//! only, after PDS; duplicates refused, also when 20 arrive at once; every request error.

use bookable::db::schema::{audit_log, patient_registrations, patients};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::patients::{REGISTER_PATIENT, app_with_patients, find, patient_headers};
use super::{ASID_A, Answer, base, resources, send};
use crate::fixture::PRACTICE_A;
use crate::harness::TestApp;

/// A Register a patient body for this NHS number, name and birth date.
pub fn body(nhs: &str, family: &str, given: &str, birth: &str) -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [{
            "name": "registerPatient",
            "resource": {
                "resourceType": "Patient",
                "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"]},
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
                "name": [{"use": "official", "family": family, "given": [given]}],
                "gender": "female",
                "birthDate": birth,
                "telecom": [{"system": "phone", "value": "07700 900123", "use": "mobile"}]
            }
        }]
    })
}

fn priya() -> Value {
    body("9000000076", "Patel", "Priya", "1979-04-11")
}

pub async fn register_as(app: &TestApp, body: &Value, scope: &str) -> Answer {
    let req = reqwest::Client::new()
        .post(format!(
            "{}/Patient/$gpc.registerpatient",
            base(app, PRACTICE_A)
        ))
        .headers(patient_headers(REGISTER_PATIENT, scope, ASID_A))
        .header("Content-Type", "application/fhir+json")
        .body(body.to_string());
    send(req).await
}

pub async fn register(app: &TestApp, body: &Value) -> Answer {
    register_as(app, body, "patient/*.write").await
}

#[actix_web::test]
async fn registers_a_temporary_patient_found_on_pds_and_lists_the_registration() {
    let (app, _f) = app_with_patients(true).await;
    let answer = register(&app, &priya()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let bundle = answer.json();
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(
        bundle["meta"]["profile"],
        json!(["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1"])
    );
    let model: fhir_model::stu3::resources::Bundle =
        serde_json::from_value(bundle.clone()).expect("a valid STU3 Bundle");
    assert_eq!(serde_json::to_value(&model).unwrap(), bundle);
    let found = resources(&bundle, "Patient");
    assert_eq!(found.len(), 1);
    let p = found[0];
    assert_eq!(p["identifier"][0]["value"], "9000000076");
    let parts = p["extension"][0]["extension"].as_array().unwrap();
    let kind = parts
        .iter()
        .find(|e| e["url"] == "registrationType")
        .unwrap();
    assert_eq!(kind["valueCodeableConcept"]["coding"][0]["code"], "T");
    // The consumer's phone; the address PDS holds, since the consumer sent none.
    assert_eq!(p["telecom"][0]["use"], "mobile");
    assert_eq!(p["address"][0]["postalCode"], "HG1 1RR");

    let mut conn = app.conn();
    let (org, name, from): (String, Option<String>, Option<String>) = patient_registrations::table
        .select((
            patient_registrations::org_ods_code,
            patient_registrations::org_name,
            patient_registrations::ssp_from,
        ))
        .first(&mut conn)
        .unwrap();
    assert_eq!(org, "Y03032");
    assert_eq!(name.as_deref(), Some("Leeds NHS 111"));
    assert_eq!(from.as_deref(), Some(super::CONSUMER_ASID));
    let logged: i64 = audit_log::table
        .filter(audit_log::action.eq("register (GP Connect)"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(logged, 1);
    // Found from now on, and registering again is a duplicate.
    assert_eq!(
        resources(&find(&app, "9000000076").await, "Patient").len(),
        1
    );
    register(&app, &priya())
        .await
        .assert_error(409, "DUPLICATE_REJECTED");
}

#[actix_web::test]
async fn a_former_patient_is_reactivated_as_temporary_with_the_same_id() {
    let (app, _f) = app_with_patients(true).await;
    let before: i64 = patients::table
        .filter(patients::nhs_number.eq("9000000041"))
        .select(patients::id)
        .first(&mut app.conn())
        .unwrap();
    let answer = register(&app, &body("9000000041", "Evans", "Margaret", "1952-01-08")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let p = resources(&answer.json(), "Patient")[0].clone();
    assert_eq!(p["id"], before.to_string());
    assert_eq!(p["active"], true);
    let kind: String = patient_registrations::table
        .select(patient_registrations::kind)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(kind, "reactivated");
}

#[actix_web::test]
async fn pds_and_local_refusals_have_the_digests_codes() {
    let (app, _f) = app_with_patients(true).await;
    let cases = [
        // Not on PDS; deceased on PDS; sensitive on PDS.
        (
            body("9000000084", "Clarke", "Ben", "1990-01-01"),
            400,
            "INVALID_PATIENT_DEMOGRAPHICS",
        ),
        (
            body("9000000165", "King", "Harold", "1935-03-03"),
            400,
            "INVALID_PATIENT_DEMOGRAPHICS",
        ),
        (
            body("9000000173", "Scott", "Robin", "1993-10-10"),
            400,
            "INVALID_PATIENT_DEMOGRAPHICS",
        ),
        // PDS demographics not matching.
        (
            body("9000000076", "Patel", "Priya", "1990-12-01"),
            400,
            "INVALID_PATIENT_DEMOGRAPHICS",
        ),
        // Superseded; invalidated.
        (
            body("9000000092", "Green", "Lucy", "2001-06-15"),
            400,
            "INVALID_NHS_NUMBER",
        ),
        (
            body("9000000114", "Any", "One", "2001-06-15"),
            400,
            "INVALID_NHS_NUMBER",
        ),
        // Already active here (regular; temporary).
        (
            body("9000000009", "Smith", "Jane", "1968-03-14"),
            409,
            "DUPLICATE_REJECTED",
        ),
        (
            body("9000000068", "Wilson", "Tom", "1999-12-24"),
            409,
            "DUPLICATE_REJECTED",
        ),
        // The family name changed against PDS's (the 1.2.7 tests want BAD_REQUEST).
        (
            body("9000000076", "Patel-Smith", "Priya", "1979-04-11"),
            400,
            "BAD_REQUEST",
        ),
    ];
    for (b, status, code) in cases {
        register(&app, &b).await.assert_error(status, code);
    }
    let registrations: i64 = patient_registrations::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(registrations, 0, "nothing registered");
}

#[actix_web::test]
async fn without_pds_register_is_refused_with_a_clear_outcome() {
    let (app, _f) = app_with_patients(false).await;
    let answer = register(&app, &priya()).await;
    answer.assert_error(500, "INTERNAL_SERVER_ERROR");
    assert!(
        answer.body.contains("no PDS is configured"),
        "{}",
        answer.body
    );
}

#[actix_web::test]
async fn request_errors_have_the_1_2_7_tests_status_and_code() {
    let (app, _f) = app_with_patients(true).await;
    let edit = |f: fn(&mut Value)| {
        let mut b = priya();
        f(&mut b["parameter"][0]["resource"]);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            edit(|p| drop(p.as_object_mut().unwrap().remove("birthDate"))),
            400,
            "BAD_REQUEST",
        ),
        (
            edit(|p| p["name"][0]["use"] = json!("usual")),
            422,
            "INVALID_RESOURCE",
        ),
        (edit(|p| p["name"] = json!([])), 400, "BAD_REQUEST"),
        (
            edit(|p| drop(p["name"][0].as_object_mut().unwrap().remove("family"))),
            400,
            "BAD_REQUEST",
        ),
        (
            edit(|p| drop(p.as_object_mut().unwrap().remove("identifier"))),
            400,
            "INVALID_NHS_NUMBER",
        ),
        (
            edit(|p| drop(p["identifier"][0].as_object_mut().unwrap().remove("system"))),
            400,
            "BAD_REQUEST",
        ),
        (
            edit(|p| p["identifier"][0]["value"] = json!("9000000077")),
            400,
            "INVALID_NHS_NUMBER",
        ),
        (
            edit(|p| {
                p["telecom"] = json!([{"system": "phone", "value": "1", "use": "home"},
                                            {"system": "phone", "value": "2", "use": "home"}])
            }),
            400,
            "BAD_REQUEST",
        ),
        (
            edit(|p| p["maritalStatus"] = json!({"text": "M"})),
            422,
            "INVALID_RESOURCE",
        ),
        (
            edit(|p| {
                p["address"] =
                    json!([{"use": "home", "line": ["a"]}, {"use": "home", "line": ["b"]}])
            }),
            422,
            "INVALID_RESOURCE",
        ),
        (
            edit(|p| p["address"] = json!([{"use": "work", "line": ["a"]}])),
            422,
            "INVALID_RESOURCE",
        ),
        (
            edit(|p| drop(p.as_object_mut().unwrap().remove("meta"))),
            422,
            "INVALID_RESOURCE",
        ),
        (
            edit(|p| p["resourceType"] = json!("Practitioner")),
            422,
            "INVALID_RESOURCE",
        ),
        (
            json!({"resourceType": "Parameters", "parameter": [
                priya()["parameter"][0].clone(), priya()["parameter"][0].clone()]}),
            400,
            "BAD_REQUEST",
        ),
        (json!({"resourceType": "Patient"}), 422, "INVALID_RESOURCE"),
    ];
    for (b, status, code) in cases {
        let answer = register(&app, &b).await;
        answer.assert_error(status, code);
        if status == 400 || status == 422 {
            let diagnostics = answer.json()["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(
                diagnostics.contains("registerPatient") || diagnostics.contains("Parameters"),
                "the parameter is named: {diagnostics}"
            );
        }
    }
    // Not JSON at all.
    let req = reqwest::Client::new()
        .post(format!(
            "{}/Patient/$gpc.registerpatient",
            base(&app, PRACTICE_A)
        ))
        .headers(patient_headers(REGISTER_PATIENT, "patient/*.write", ASID_A))
        .body("{not json");
    send(req).await.assert_error(400, "BAD_REQUEST");
    // A read scope may not register.
    for scope in ["patient/*.read", "organization/*.read"] {
        register_as(&app, &priya(), scope)
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    let count: i64 = patient_registrations::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn twenty_concurrent_registrations_make_one_record_and_nineteen_duplicates() {
    let (app, _f) = app_with_patients(true).await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let app = app.clone();
        tasks.push(actix_web::rt::spawn(async move {
            let answer = register(&app, &priya()).await;
            (answer.status, answer.body)
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == 409 {
            assert!(body.contains("DUPLICATE_REJECTED"), "{body}");
        }
        statuses.push(status);
    }
    statuses.sort();
    let mut expected = vec![200];
    expected.extend([409; 19]);
    assert_eq!(statuses, expected);
    let mut conn = app.conn();
    let records: i64 = patients::table
        .filter(patients::nhs_number.eq("9000000076"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    let registrations: i64 = patient_registrations::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!((records, registrations), (1, 1));
}

#[actix_web::test]
async fn the_temporary_registrations_page_lists_who_registered_whom_for_viewers_of_the_practice_only()
 {
    use crate::support::web::{add_user, sign_in};
    use bookable::users::Role;
    let (app, f) = app_with_patients(true).await;
    assert_eq!(register(&app, &priya()).await.status, 200);
    add_user(&app, "viewer.a", &[(f.a, Role::Viewer)]);
    add_user(&app, "admin.b", &[(f.b, Role::Admin)]);

    let viewer = sign_in(&app, "viewer.a").await;
    let (status, html) = viewer
        .get(&format!("/practices/{PRACTICE_A}/registrations"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("<h1>Temporary registrations</h1>"), "{html}");
    for shown in [
        "Priya PATEL",
        "900 000 0076",
        "11 Apr 1979",
        "Leeds NHS 111 (Y03032)",
        "New temporary patient",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(
        !html.contains("FHIR"),
        "no FHIR terms for practice managers"
    );

    // Another practice's user: not found; B's own page lists nothing of A's.
    let other = sign_in(&app, "admin.b").await;
    let (status, _) = other
        .get(&format!("/practices/{PRACTICE_A}/registrations"))
        .await;
    assert_eq!(status, 404);
    let (status, own) = other.get("/practices/B82617/registrations").await;
    assert_eq!(status, 200);
    assert!(own.contains("No one has been registered through GP Connect yet."));
    assert!(!own.contains("PATEL"));
}

#[actix_web::test]
async fn a_practice_viewer_follows_up_a_registration_in_the_browser() {
    use crate::support::browser::{BROWSERS, Browser, click, fill, text};
    use crate::support::web::{PASSWORD, add_user};
    use bookable::users::Role;
    use thirtyfour::prelude::*;
    let _permit = BROWSERS.acquire().await.unwrap();
    let (app, f) = app_with_patients(true).await;
    assert_eq!(register(&app, &priya()).await.status, 200);
    add_user(&app, "viewer.a", &[(f.a, Role::Viewer)]);
    let browser = Browser::start().await;
    let d = browser.driver();
    d.goto(app.url("/")).await.unwrap();
    fill(d, "username", "viewer.a").await;
    fill(d, "password", PASSWORD).await;
    click(d, "sign-in").await;
    d.goto(app.url(&format!("/practices/{PRACTICE_A}")))
        .await
        .unwrap();
    d.query(By::LinkText("Temporary registrations"))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = text(d, By::Id("registrations")).await;
    assert!(table.contains("Priya PATEL"), "{table}");
    assert!(table.contains("900 000 0076"), "{table}");
    assert!(table.contains("Leeds NHS 111 (Y03032)"), "{table}");
    browser.quit().await;
}

#[actix_web::test]
async fn each_registration_answered_or_refused_is_in_the_request_trail() {
    use bookable::db::schema::gpconnect_audit as a;
    let (app, _f) = app_with_patients(true).await;
    assert_eq!(register(&app, &priya()).await.status, 200);
    register(&app, &priya())
        .await
        .assert_error(409, "DUPLICATE_REJECTED");
    let mut conn = app.conn();
    for _ in 0..100 {
        let rows: Vec<(Option<String>, i16, Option<String>)> = a::table
            .filter(a::path_query.like("%registerpatient%"))
            .order(a::id)
            .select((a::interaction, a::status, a::error_code))
            .load(&mut conn)
            .unwrap();
        if rows.len() == 2 {
            let interaction = Some(REGISTER_PATIENT.to_owned());
            assert_eq!(
                rows,
                [
                    (interaction.clone(), 200, None),
                    (interaction, 409, Some("DUPLICATE_REJECTED".to_owned())),
                ]
            );
            return;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the request trail rows were not written");
}
