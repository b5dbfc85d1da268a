//! GP Connect Find a patient and Read a patient, over HTTP, against the demo's patients (one
//! in each state) and the PDS stand-in: what is returned, the #921 rule, and every error.

use bookable::change_log::Actor;
use bookable::db::schema::{audit_log, patients};
use bookable::pds::client::PdsClient;
use bookable::pds::settings::PdsSettings;
use bookable::practice::set_asid;
use diesel::prelude::*;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use super::{ASID_A, ASID_B, CONSUMER_ASID, READ_METADATA, claims, gpc_get, jwt, resources};
use crate::fixture::{self, Fixture, PRACTICE_A, PRACTICE_B};
use crate::harness::{TestApp, spawn_app_with};

pub const FIND_PATIENT: &str = "urn:nhs:names:services:gpconnect:fhir:rest:search:patient-1";
pub const READ_PATIENT: &str = "urn:nhs:names:services:gpconnect:fhir:rest:read:patient-1";
pub const REGISTER_PATIENT: &str =
    "urn:nhs:names:services:gpconnect:fhir:operation:gpc.registerpatient-1";
pub const NHS: &str = "https://fhir.nhs.uk/Id/nhs-number";

/// A running app with the fixture, both practices' ASIDs, the demo's patients at practice A
/// (their preferred branch the fixture's L1) and, when `pds`, the PDS stand-in.
pub async fn app_with_patients(pds: bool) -> (TestApp, Fixture) {
    let standin = pds.then(crate::pds::spawn_standin);
    let app = spawn_app_with(move |state| {
        if let Some(url) = standin {
            state.pds = Some(PdsClient::new(PdsSettings::new(&url)).unwrap());
        }
    })
    .await;
    let mut conn = app.conn();
    let f = fixture::load(&mut conn);
    let actor = Actor::system("test");
    set_asid(&mut conn, &actor, f.a, Some(ASID_A)).unwrap();
    set_asid(&mut conn, &actor, f.b, Some(ASID_B)).unwrap();
    let doc = bookable::patients::import::DEMO_PATIENTS
        .replace("\"L-MAIN\"", "\"L1\"")
        .replace("\"L-BRANCH\"", "\"L1\"");
    bookable::patients::import::import_json(&mut conn, &actor, &doc).unwrap();
    (app, f)
}

/// Valid headers for `interaction` with `scope` as the JWT's requested_scope.
pub fn patient_headers(interaction: &str, scope: &str, to: &str) -> HeaderMap {
    let mut c = claims();
    c["requested_scope"] = json!(scope);
    let mut h = HeaderMap::new();
    h.insert(
        "Ssp-TraceID",
        "7c2e4f1a-9b3d-4c5e-8f6a-1b2c3d4e5f60".parse().unwrap(),
    );
    h.insert("Ssp-From", CONSUMER_ASID.parse().unwrap());
    h.insert("Ssp-To", to.parse().unwrap());
    h.insert("Ssp-InteractionID", interaction.parse().unwrap());
    h.insert(
        "Authorization",
        format!("Bearer {}", jwt(&c)).parse().unwrap(),
    );
    h
}

pub async fn find_query(app: &TestApp, query: &[(&str, &str)]) -> super::Answer {
    gpc_get(
        app,
        PRACTICE_A,
        "/Patient",
        query,
        patient_headers(FIND_PATIENT, "patient/*.read", ASID_A),
    )
    .await
}

pub async fn find(app: &TestApp, nhs: &str) -> Value {
    let identifier = format!("{NHS}|{nhs}");
    let answer = find_query(app, &[("identifier", &identifier)]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let bundle = answer.json();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    bundle
}

pub fn verified(app: &TestApp, nhs: &str) -> bool {
    patients::table
        .filter(patients::nhs_number.eq(nhs))
        .select(patients::nhs_number_verified)
        .first(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn find_returns_an_active_verified_patient_as_care_connect_gpc_patient() {
    let (app, f) = app_with_patients(true).await;
    let bundle = find(&app, "9000000009").await;
    let found = resources(&bundle, "Patient");
    assert_eq!(found.len(), 1);
    let p = found[0];
    assert_eq!(
        p["meta"]["profile"],
        json!(["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"])
    );
    assert_eq!(p["meta"]["versionId"], "1");
    assert_eq!(p["identifier"][0]["system"], NHS);
    assert_eq!(p["identifier"][0]["value"], "9000000009");
    assert_eq!(
        p["identifier"][0]["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "01"
    );
    let names = p["name"].as_array().unwrap();
    assert_eq!(names.iter().filter(|n| n["use"] == "official").count(), 1);
    assert_eq!(names[0]["family"], "Smith");
    assert_eq!(names[0]["given"], json!(["Jane"]));
    assert_eq!(p["birthDate"], "1968-03-14");
    assert_eq!(p["gender"], "female");
    assert_eq!(p["active"], true);
    assert_eq!(p["address"][0]["postalCode"], "LS1 6AE");
    assert_eq!(p["telecom"][0]["use"], "home");
    assert_eq!(
        p["managingOrganization"]["reference"],
        format!("Organization/{}", f.a)
    );
    let registration = &p["extension"][0];
    assert_eq!(
        registration["url"],
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1"
    );
    let parts = registration["extension"].as_array().unwrap();
    let part = |url: &str| parts.iter().find(|e| e["url"] == url).unwrap();
    assert_eq!(
        part("registrationType")["valueCodeableConcept"]["coding"][0]["code"],
        "R"
    );
    assert!(
        part("preferredBranchSurgery")["valueReference"]["reference"]
            .as_str()
            .unwrap()
            .starts_with("Location/")
    );
    for never in ["maritalStatus", "multipleBirthBoolean", "birthPlace"] {
        assert!(p.get(never).is_none(), "{never}");
    }
    // A valid STU3 Bundle of a valid Patient, nothing dropped by the model.
    let model: fhir_model::stu3::resources::Bundle =
        serde_json::from_value(bundle.clone()).expect("a valid STU3 Bundle");
    assert_eq!(serde_json::to_value(&model).unwrap(), bundle);
}

#[actix_web::test]
async fn find_is_empty_never_an_error_for_unknown_deceased_left_and_s_flagged_patients() {
    let (app, _f) = app_with_patients(true).await;
    // Not registered here; deceased; left; S-flagged.
    for nhs in ["9000000076", "9000000025", "9000000041", "9000000033"] {
        let bundle = find(&app, nhs).await;
        assert!(bundle.get("entry").is_none(), "{nhs}: {bundle}");
    }
    // Another practice's patient list is its own.
    let identifier = format!("{NHS}|9000000009");
    let other = gpc_get(
        &app,
        PRACTICE_B,
        "/Patient",
        &[("identifier", &identifier)],
        patient_headers(FIND_PATIENT, "patient/*.read", ASID_B),
    )
    .await;
    assert_eq!(other.status, 200);
    assert!(other.json().get("entry").is_none());
}

#[actix_web::test]
async fn a_never_traced_active_patient_is_verified_on_pds_then_returned() {
    let (app, _f) = app_with_patients(true).await;
    assert!(!verified(&app, "9000000017"));
    let bundle = find(&app, "9000000017").await;
    let found = resources(&bundle, "Patient");
    assert_eq!(found.len(), 1, "{bundle}");
    assert_eq!(
        found[0]["meta"]["versionId"], "2",
        "verifying moved the version"
    );
    assert!(verified(&app, "9000000017"));
    let logged: i64 = audit_log::table
        .filter(audit_log::entity.eq("patient"))
        .filter(audit_log::action.eq("verify on PDS"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(logged, 1);
}

#[actix_web::test]
async fn a_never_traced_patient_pds_does_not_verify_is_left_unverified_and_not_returned() {
    let (app, _f) = app_with_patients(true).await;
    // PDS: not found; deceased; sensitive; another birth date and name prefix.
    for nhs in ["9000000122", "9000000130", "9000000149", "9000000157"] {
        let bundle = find(&app, nhs).await;
        assert!(bundle.get("entry").is_none(), "{nhs}: {bundle}");
        assert!(!verified(&app, nhs), "{nhs}");
    }
}

#[actix_web::test]
async fn without_pds_a_never_traced_patient_is_not_returned() {
    let (app, _f) = app_with_patients(false).await;
    assert!(find(&app, "9000000017").await.get("entry").is_none());
    assert!(!verified(&app, "9000000017"));
    assert_eq!(
        resources(&find(&app, "9000000009").await, "Patient").len(),
        1
    );
}

#[actix_web::test]
async fn find_parameter_errors_have_the_digests_status_and_code() {
    let (app, _f) = app_with_patients(true).await;
    let valid = format!("{NHS}|9000000009");
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (vec![], 400, "BAD_REQUEST"),
        (vec![("Identifier", valid.as_str())], 400, "BAD_REQUEST"),
        (
            vec![
                ("identifier", valid.as_str()),
                ("identifier", valid.as_str()),
            ],
            400,
            "BAD_REQUEST",
        ),
        (
            vec![("identifier", "|9000000009")],
            422,
            "INVALID_PARAMETER",
        ),
        (vec![("identifier", "9000000009")], 422, "INVALID_PARAMETER"),
        (
            vec![("identifier", "https://fhir.nhs.uk/Id/nhs-number|")],
            422,
            "INVALID_PARAMETER",
        ),
        (
            vec![("identifier", "https://fhir.nhs.uk/Id/local-id|9000000009")],
            400,
            "INVALID_IDENTIFIER_SYSTEM",
        ),
        (
            vec![("identifier", "https://fhir.nhs.uk/Id/nhs-number|9000000008")],
            400,
            "INVALID_NHS_NUMBER",
        ),
        (
            vec![("identifier", "https://fhir.nhs.uk/Id/nhs-number|90000000")],
            400,
            "INVALID_NHS_NUMBER",
        ),
    ];
    for (query, status, code) in cases {
        find_query(&app, &query).await.assert_error(status, code);
    }
    // Unknown parameters are ignored.
    let answer = find_query(
        &app,
        &[("identifier", &valid), ("_sort", "name"), ("_count", "1")],
    )
    .await;
    assert_eq!(answer.status, 200);
}

#[actix_web::test]
async fn the_patient_interactions_need_their_interaction_id_and_scope() {
    let (app, _f) = app_with_patients(true).await;
    let identifier = format!("{NHS}|9000000009");
    for headers in [
        patient_headers(FIND_PATIENT, "organization/*.read", ASID_A),
        patient_headers(FIND_PATIENT, "patient/*.write", ASID_A),
        patient_headers(READ_PATIENT, "patient/*.read", ASID_A),
    ] {
        gpc_get(
            &app,
            PRACTICE_A,
            "/Patient",
            &[("identifier", &identifier)],
            headers,
        )
        .await
        .assert_error(400, "BAD_REQUEST");
    }
}

async fn read(app: &TestApp, id: &str) -> super::Answer {
    gpc_get(
        app,
        PRACTICE_A,
        &format!("/Patient/{id}"),
        &[],
        patient_headers(READ_PATIENT, "patient/*.read", ASID_A),
    )
    .await
}

fn id_of(app: &TestApp, nhs: &str) -> i64 {
    patients::table
        .filter(patients::nhs_number.eq(nhs))
        .select(patients::id)
        .first(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn read_a_patient_with_an_etag_of_its_version() {
    let (app, _f) = app_with_patients(true).await;
    let id = id_of(&app, "9000000009");
    let answer = read(&app, &id.to_string()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let p = answer.json();
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(p["id"], id.to_string());
    assert_eq!(
        answer.etag.as_deref(),
        Some(format!("W/\"{}\"", p["meta"]["versionId"].as_str().unwrap()).as_str())
    );
    let model: fhir_model::stu3::resources::Patient =
        serde_json::from_value(p.clone()).expect("a valid STU3 Patient");
    assert_eq!(serde_json::to_value(&model).unwrap(), p);
    // XML too.
    let mut xml = patient_headers(READ_PATIENT, "patient/*.read", ASID_A);
    xml.insert("Accept", "application/fhir+xml".parse().unwrap());
    let as_xml = gpc_get(&app, PRACTICE_A, &format!("/Patient/{id}"), &[], xml).await;
    assert!(
        as_xml
            .body
            .contains("<Patient xmlns=\"http://hl7.org/fhir\">"),
        "{}",
        as_xml.body
    );
}

#[actix_web::test]
async fn read_is_patient_not_found_for_unknown_s_flagged_and_other_practices_patients() {
    let (app, f) = app_with_patients(true).await;
    let s_flagged = id_of(&app, "9000000033").to_string();
    // Practice B's own record of an NHS number A also has.
    let mut conn = app.conn();
    let doc = json!({"practice": PRACTICE_B, "patients": [{
        "nhs_number": "9000000009", "verified": true,
        "name": {"family": "Smith", "given": ["Jane"]}, "birth_date": "1968-03-14",
        "registration": {"type": "regular", "start": "2010-01-01"}, "status": "active"}]});
    bookable::patients::import::import_json(&mut conn, &Actor::system("test"), &doc.to_string())
        .unwrap();
    let of_b: i64 = patients::table
        .filter(patients::practice_id.eq(f.b))
        .select(patients::id)
        .first(&mut conn)
        .unwrap();
    for id in ["999999", "Invalid4321", &s_flagged, &of_b.to_string()] {
        read(&app, id).await.assert_error(404, "PATIENT_NOT_FOUND");
    }
}

#[actix_web::test]
async fn the_capability_statement_lists_the_patient_interactions() {
    let (app, _f) = app_with_patients(false).await;
    let answer = gpc_get(
        &app,
        PRACTICE_A,
        "/metadata",
        &[],
        super::headers(READ_METADATA, ASID_A),
    )
    .await;
    let cs = answer.json();
    let patient = cs["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Patient")
        .unwrap()
        .clone();
    assert_eq!(
        patient["interaction"],
        json!([{ "code": "read" }, { "code": "search-type" }])
    );
    assert_eq!(patient["searchParam"][0]["name"], "identifier");
    assert_eq!(cs["rest"][0]["operation"][0]["name"], "gpc.registerpatient");
    assert_eq!(
        cs["rest"][0]["operation"][0]["definition"]["reference"],
        "https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-RegisterPatient-Operation-1"
    );
}
