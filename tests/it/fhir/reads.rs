//! The CapabilityStatement and the reads of what a slot search refers to: only a practice's own
//! resources, each referenced resource readable, the right 404s, and the unsupported.

use bookable::db::schema::{locations, practitioners};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{
    ASID_A, ASID_B, ORG_TYPE, READ_LOCATION, READ_METADATA, READ_ORGANIZATION, READ_PRACTITIONER,
    SEARCH_SLOT, app_with_fixture, base, days, gpc_get, headers, q, resources, search, send,
};
use crate::fixture::{PRACTICE_A, PRACTICE_B};

#[actix_web::test]
async fn the_capability_statement_declares_slot_search_version_1_2_7() {
    let (app, _f) = app_with_fixture().await;
    let answer = gpc_get(
        &app,
        PRACTICE_A,
        "/metadata",
        &[],
        headers(READ_METADATA, ASID_A),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let cs = answer.json();
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["version"], "1.2.7");
    assert_eq!(cs["fhirVersion"], "3.0.1");
    assert_eq!(
        cs["format"],
        json!(["application/fhir+json", "application/fhir+xml"])
    );
    let resources = cs["rest"][0]["resource"].as_array().unwrap();
    let slot = resources.iter().find(|r| r["type"] == "Slot").unwrap();
    assert_eq!(slot["interaction"], json!([{ "code": "search-type" }]));
    let params: Vec<&str> = slot["searchParam"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["start", "end", "status", "searchFilter"]);
    assert_eq!(
        slot["searchInclude"],
        json!([
            "Slot:schedule",
            "Schedule:actor:Practitioner",
            "Schedule:actor:Location",
            "Location:managingOrganization"
        ])
    );
    for kind in ["Practitioner", "Location", "Organization"] {
        let r = resources.iter().find(|r| r["type"] == kind).unwrap();
        assert_eq!(r["interaction"], json!([{ "code": "read" }]), "{kind}");
    }
    // Book, Read, Amend and Cancel, Retrieve (issue 14); Find and Read a patient.
    let appointment = resources
        .iter()
        .find(|r| r["type"] == "Appointment")
        .unwrap();
    assert_eq!(
        appointment["interaction"],
        json!([{ "code": "read" }, { "code": "create" }, { "code": "update" }, { "code": "search-type" }])
    );
    assert_eq!(appointment["searchParam"][0]["name"], "start");
    let patient = resources.iter().find(|r| r["type"] == "Patient").unwrap();
    assert_eq!(
        patient["interaction"],
        json!([{ "code": "read" }, { "code": "search-type" }])
    );
    assert_eq!(cs["rest"][0]["operation"][0]["name"], "gpc.registerpatient");
    let cs_model: fhir_model::stu3::resources::CapabilityStatement =
        serde_json::from_str(&answer.body).expect("a valid STU3 CapabilityStatement");
    assert_eq!(serde_json::to_value(&cs_model).unwrap(), cs);

    let mut xml = headers(READ_METADATA, ASID_A);
    xml.insert("Accept", "application/fhir+xml".parse().unwrap());
    let as_xml = gpc_get(&app, PRACTICE_A, "/metadata", &[], xml).await;
    assert!(
        as_xml.body.contains(
            r#"<CapabilityStatement xmlns="http://hl7.org/fhir"><version value="1.2.7"/>"#
        )
    );
}

#[actix_web::test]
async fn every_reference_in_a_search_bundle_can_be_read() {
    let (app, _f) = app_with_fixture().await;
    let mut params = days("2026-06-10", "2026-06-10");
    params.push(("_include:recurse", "Schedule:actor:Practitioner".into()));
    params.push(("_include:recurse", "Schedule:actor:Location".into()));
    let bundle = search(&app, &q(&params)).await.json();
    let mut references = Vec::new();
    for schedule in resources(&bundle, "Schedule") {
        for actor in schedule["actor"].as_array().unwrap() {
            references.push(actor["reference"].as_str().unwrap().to_owned());
        }
    }
    for location in resources(&bundle, "Location") {
        references.push(
            location["managingOrganization"]["reference"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    references.sort();
    references.dedup();
    assert_eq!(references.len(), 3, "{references:?}");
    for reference in references {
        let (kind, _) = reference.split_once('/').unwrap();
        let interaction = match kind {
            "Practitioner" => READ_PRACTITIONER,
            "Location" => READ_LOCATION,
            _ => READ_ORGANIZATION,
        };
        let read = gpc_get(
            &app,
            PRACTICE_A,
            &format!("/{reference}"),
            &[],
            headers(interaction, ASID_A),
        )
        .await;
        assert_eq!(read.status, 200, "{reference}: {}", read.body);
        let resource = read.json();
        assert_eq!(
            format!(
                "{}/{}",
                resource["resourceType"].as_str().unwrap(),
                resource["id"].as_str().unwrap()
            ),
            reference
        );
        let included = resources(&bundle, kind)
            .into_iter()
            .find(|r| r["id"] == resource["id"]);
        assert_eq!(
            included,
            Some(&resource),
            "a read returns what the search included"
        );
        let version = resource["meta"]["versionId"].as_str().unwrap();
        assert_eq!(read.etag, Some(format!("W/\"{version}\"")));
    }
}

fn id_of(
    app: &crate::harness::TestApp,
    practice: bookable::db::ids::PracticeId,
    kind: &str,
) -> i64 {
    let mut conn = app.conn();
    match kind {
        "Practitioner" => practitioners::table
            .filter(practitioners::practice_id.eq(practice))
            .select(practitioners::id)
            .first(&mut conn)
            .unwrap(),
        _ => locations::table
            .filter(locations::practice_id.eq(practice))
            .select(locations::id)
            .first(&mut conn)
            .unwrap(),
    }
}

#[actix_web::test]
async fn another_practice_s_resources_are_not_found() {
    let (app, f) = app_with_fixture().await;
    let cases = [
        (
            "Practitioner",
            READ_PRACTITIONER,
            "PRACTITIONER_NOT_FOUND",
            id_of(&app, f.b, "Practitioner"),
        ),
        (
            "Location",
            READ_LOCATION,
            "NO_RECORD_FOUND",
            id_of(&app, f.b, "Location"),
        ),
        (
            "Organization",
            READ_ORGANIZATION,
            "ORGANISATION_NOT_FOUND",
            f.b.0,
        ),
    ];
    for (kind, interaction, code, b_id) in cases {
        let at_a = gpc_get(
            &app,
            PRACTICE_A,
            &format!("/{kind}/{b_id}"),
            &[],
            headers(interaction, ASID_A),
        )
        .await;
        at_a.assert_error(404, code);
        let at_b = gpc_get(
            &app,
            PRACTICE_B,
            &format!("/{kind}/{b_id}"),
            &[],
            headers(interaction, ASID_B),
        )
        .await;
        assert_eq!(at_b.status, 200, "{kind} {b_id} is B's: {}", at_b.body);
        for unknown in ["999999", "abc"] {
            gpc_get(
                &app,
                PRACTICE_A,
                &format!("/{kind}/{unknown}"),
                &[],
                headers(interaction, ASID_A),
            )
            .await
            .assert_error(404, code);
        }
    }
}

#[actix_web::test]
async fn an_unknown_practice_is_404_organisation_not_found() {
    let (app, _f) = app_with_fixture().await;
    for ods in ["Z99999", "not-ods"] {
        gpc_get(
            &app,
            ods,
            "/Slot",
            &q(&days("2026-06-10", "2026-06-10")),
            headers(SEARCH_SLOT, ASID_A),
        )
        .await
        .assert_error(404, "ORGANISATION_NOT_FOUND");
        gpc_get(&app, ods, "/metadata", &[], headers(READ_METADATA, ASID_A))
            .await
            .assert_error(404, "ORGANISATION_NOT_FOUND");
    }
}

#[actix_web::test]
async fn other_verbs_are_400_and_other_resources_501() {
    let (app, _f) = app_with_fixture().await;
    let post = reqwest::Client::new()
        .post(format!("{}/Slot", base(&app, PRACTICE_A)))
        .headers(headers(SEARCH_SLOT, ASID_A))
        .body("{}");
    send(post).await.assert_error(400, "BAD_REQUEST");
    let get = reqwest::Client::new()
        .get(format!("{}/Encounter/1", base(&app, PRACTICE_A)))
        .headers(headers(SEARCH_SLOT, ASID_A));
    send(get).await.assert_error(501, "NOT_IMPLEMENTED");
}

#[actix_web::test]
async fn organization_read_is_the_practice_itself() {
    let (app, f) = app_with_fixture().await;
    let read = gpc_get(
        &app,
        PRACTICE_A,
        &format!("/Organization/{}", f.a),
        &[],
        headers(READ_ORGANIZATION, ASID_A),
    )
    .await;
    let org: Value = read.json();
    assert_eq!(
        org["identifier"],
        json!([{ "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A20047" }])
    );
    assert_eq!(org["name"], "Practice A20047");
}

#[actix_web::test]
async fn the_demo_practices_answer_with_their_asids() {
    // The server's clock at the start of the demo's first day (local midnight, 8 June).
    let app = crate::harness::spawn_app_with(|s| {
        s.clock = bookable::clock::Clock::fixed("2026-06-07T23:00:00Z".parse().unwrap())
    })
    .await;
    bookable::seed::demo::seed(&mut app.conn(), crate::fixture::day(2026, 6, 8)).unwrap();
    let mut params = days("2026-06-08", "2026-06-12");
    params.push(("searchFilter", format!("{}|urgent-care", ORG_TYPE)));
    for (ods, asid) in [("A20047", "200000000359"), ("B82617", "200000000360")] {
        let answer = gpc_get(&app, ods, "/Slot", &q(&params), headers(SEARCH_SLOT, asid)).await;
        assert_eq!(answer.status, 200, "{ods}: {}", answer.body);
        assert!(!resources(&answer.json(), "Slot").is_empty(), "{ods}");
    }
}
