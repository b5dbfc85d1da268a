//! The searchset Bundle's content in JSON and XML, the formats and compression.

use super::*;

fn full_search() -> Vec<(&'static str, String)> {
    let mut params = days("2026-06-10", "2026-06-10");
    params.extend([
        (
            "_include:recurse",
            "Schedule:actor:Practitioner".to_string(),
        ),
        ("_include:recurse", "Schedule:actor:Location".to_string()),
        (
            "_include:recurse",
            "Location:managingOrganization".to_string(),
        ),
        ("searchFilter", format!("{ORG_TYPE}|urgent-care")),
        ("searchFilter", format!("{ODS}|Y03032")),
    ]);
    params
}

#[actix_web::test]
async fn the_bundle_holds_each_profiled_resource_once_in_uk_local_time() {
    let (app, f) = app_with_fixture().await;
    let answer = search(&app, &q(&full_search())).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.content_type, "application/fhir+json; charset=utf-8");
    let bundle = answer.json();
    assert_eq!(bundle["type"], "searchset");
    let profile = |r: &Value| r["meta"]["profile"][0].as_str().unwrap().to_owned();
    let count = |kind| resources(&bundle, kind).len();
    assert_eq!(
        [
            count("Slot"),
            count("Schedule"),
            count("Practitioner"),
            count("Location"),
            count("Organization")
        ],
        [8, 5, 1, 1, 1]
    );
    let mut refs = BTreeSet::new();
    for entry in bundle["entry"].as_array().unwrap() {
        let r = &entry["resource"];
        let reference = format!(
            "{}/{}",
            r["resourceType"].as_str().unwrap(),
            r["id"].as_str().unwrap()
        );
        assert!(refs.insert(reference.clone()), "{reference} twice");
        assert!(
            entry["fullUrl"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/fhir/A20047/STU3/1/gpconnect/{reference}"))
        );
        let mode = if r["resourceType"] == "Slot" {
            "match"
        } else {
            "include"
        };
        assert_eq!(entry["search"]["mode"], mode);
        assert!(
            r["meta"]["versionId"]
                .as_str()
                .is_some_and(|v| !v.is_empty())
        );
    }

    let slots = resources(&bundle, "Slot");
    let tel = slots
        .iter()
        .find(|s| s["id"] == f.id("type-free").to_string())
        .unwrap();
    let type_schedule = resources(&bundle, "Schedule")
        .into_iter()
        .find(|s| s["serviceCategory"]["text"] == "TYPE session")
        .unwrap();
    assert_eq!(
        **tel,
        json!({
            "resourceType": "Slot",
            "id": f.id("type-free").to_string(),
            "meta": { "versionId": tel["meta"]["versionId"], "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1"] },
            "extension": [{ "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2", "valueCode": "Telephone" }],
            "serviceType": [{ "text": "Routine appointment" }],
            "schedule": { "reference": format!("Schedule/{}", type_schedule["id"].as_str().unwrap()) },
            "status": "free",
            "start": "2026-06-10T10:00:00+01:00",
            "end": "2026-06-10T10:10:00+01:00"
        })
    );
    let practitioner = resources(&bundle, "Practitioner")[0];
    let location = resources(&bundle, "Location")[0];
    let organization = resources(&bundle, "Organization")[0];
    let ods_schedule = resources(&bundle, "Schedule")
        .into_iter()
        .find(|s| s["serviceCategory"]["text"] == "ODS session")
        .unwrap();
    assert_eq!(
        profile(ods_schedule),
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1"
    );
    assert_eq!(
        ods_schedule["extension"],
        json!([{
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1",
            "valueCodeableConcept": { "coding": [{
                "system": "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1",
                "code": "R0620",
                "display": "Staff Nurse"
            }]}
        }])
    );
    assert_eq!(
        ods_schedule["actor"],
        json!([
            { "reference": format!("Location/{}", location["id"].as_str().unwrap()) },
            { "reference": format!("Practitioner/{}", practitioner["id"].as_str().unwrap()) }
        ])
    );
    assert_eq!(
        ods_schedule["planningHorizon"],
        json!({ "start": "2026-06-10T10:00:00+01:00", "end": "2026-06-10T10:15:00+01:00" })
    );
    let open_schedule = resources(&bundle, "Schedule")
        .into_iter()
        .find(|s| s["serviceCategory"]["text"] == "OPEN session")
        .unwrap();
    let morning = search(
        &app,
        &[
            ("start", "ge2026-06-10T09:00:00+01:00"),
            ("end", "le2026-06-10T12:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await
    .json();
    let open_in_morning = resources(&morning, "Schedule")
        .into_iter()
        .find(|s| s["id"] == open_schedule["id"])
        .unwrap();
    assert_ne!(
        open_in_morning["planningHorizon"],
        open_schedule["planningHorizon"]
    );
    assert_eq!(
        open_in_morning["meta"]["versionId"], open_schedule["meta"]["versionId"],
        "the version is the schedule's, whatever the search"
    );
    assert_eq!(
        open_schedule["planningHorizon"],
        json!({ "start": "2026-06-10T08:50:00+01:00", "end": "2026-06-10T17:10:00+01:00" }),
        "the period the schedule's returned slots cover"
    );
    assert_eq!(
        profile(practitioner),
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1"
    );
    assert_eq!(
        practitioner["name"],
        json!([{ "family": "Okafor", "given": ["Amelia"], "prefix": ["Dr"] }])
    );
    assert_eq!(
        practitioner["identifier"][0],
        json!({ "system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "G1234567" })
    );
    assert_eq!(practitioner["gender"], "female");
    assert_eq!(
        profile(location),
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1"
    );
    assert_eq!(location["name"], "A20047 Health Centre");
    assert_eq!(
        location["address"],
        json!({ "line": ["1 High Street", "Leeds"], "postalCode": "LS1 6AE" })
    );
    assert_eq!(
        location["managingOrganization"]["reference"],
        format!("Organization/{}", f.a)
    );
    assert_eq!(
        profile(organization),
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"
    );
    assert_eq!(
        organization["identifier"],
        json!([{ "system": ODS, "value": "A20047" }])
    );
    assert_eq!(organization["id"], f.a.to_string());
}

#[actix_web::test]
async fn practitioners_and_locations_only_when_included_and_the_organization_always() {
    let (app, _f) = app_with_fixture().await;
    let kinds = |bundle: &Value| {
        ["Practitioner", "Location", "Organization"].map(|k| resources(bundle, k).len())
    };
    let bare = search(&app, &q(&days("2026-06-10", "2026-06-10"))).await;
    assert_eq!(kinds(&bare.json()), [0, 0, 1]);
    let mut with_practitioner = days("2026-06-10", "2026-06-10");
    with_practitioner.push(("_include:recurse", "Schedule:actor:Practitioner".into()));
    assert_eq!(
        kinds(&search(&app, &q(&with_practitioner)).await.json()),
        [1, 0, 1]
    );
    let mut with_location = days("2026-06-10", "2026-06-10");
    with_location.push(("_include:recurse", "Schedule:actor:Location".into()));
    assert_eq!(
        kinds(&search(&app, &q(&with_location)).await.json()),
        [0, 1, 1]
    );
}

#[actix_web::test]
async fn the_bundle_is_valid_fhir_stu3() {
    use fhir_model::stu3::resources::{Bundle, Resource};
    let (app, _f) = app_with_fixture().await;
    let answer = search(&app, &q(&full_search())).await;
    let bundle: Bundle = serde_json::from_str(&answer.body).expect("a valid STU3 Bundle");
    let mut kinds = BTreeSet::new();
    for entry in bundle.entry.iter().flatten() {
        let kind = match entry.resource.as_ref().expect("each entry has a resource") {
            Resource::Slot(_) => "Slot",
            Resource::Schedule(_) => "Schedule",
            Resource::Practitioner(_) => "Practitioner",
            Resource::Location(_) => "Location",
            Resource::Organization(_) => "Organization",
            other => panic!("unexpected resource {other:?}"),
        };
        kinds.insert(kind);
    }
    assert_eq!(kinds.len(), 5);
    // Nothing the model doesn't know (a misspelt or misplaced element) is dropped on the way.
    let round_trip = serde_json::to_value(&bundle).unwrap();
    assert_eq!(round_trip, answer.json());
}

/// The Slot ids in a FHIR XML Bundle, checking it is namespaced FHIR XML.
fn xml_slot_ids(xml: &str) -> BTreeSet<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut path: Vec<String> = Vec::new();
    let mut ids = BTreeSet::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) => {
                let name = e.name().as_ref().to_owned();
                if path.is_empty() || path.last().map(String::as_str) == Some("resource") {
                    let ns = e.try_get_attribute("xmlns").unwrap().unwrap();
                    assert_eq!(ns.value.as_ref(), "http://hl7.org/fhir");
                }
                path.push(name);
            }
            Event::Empty(e)
                if e.name().as_ref() == "id" && path.last().map(String::as_str) == Some("Slot") =>
            {
                let v = e.try_get_attribute("value").unwrap().unwrap();
                ids.insert(v.value.into_owned());
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    ids
}

#[actix_web::test]
async fn xml_is_served_on_request_and_format_wins_over_accept() {
    let (app, f) = app_with_fixture().await;
    let params = full_search();
    let json = search(&app, &q(&params)).await;
    let expected: BTreeSet<String> = slot_names(&f, &json.json())
        .iter()
        .map(|n| f.id(n).to_string())
        .collect();

    let mut accept_xml = headers(SEARCH_SLOT, ASID_A);
    accept_xml.insert("Accept", "application/fhir+xml".parse().unwrap());
    let by_accept = gpc_get(&app, PRACTICE_A, "/Slot", &q(&params), accept_xml).await;
    assert_eq!(by_accept.status, 200);
    assert_eq!(
        by_accept.content_type,
        "application/fhir+xml; charset=utf-8"
    );
    assert!(by_accept.body.starts_with("<?xml"));
    assert_eq!(xml_slot_ids(&by_accept.body), expected);

    let mut accept_json = headers(SEARCH_SLOT, ASID_A);
    accept_json.insert("Accept", "application/fhir+json".parse().unwrap());
    let mut with_format = params.clone();
    with_format.push(("_format", "application/fhir+xml".into()));
    let by_format = gpc_get(&app, PRACTICE_A, "/Slot", &q(&with_format), accept_json).await;
    assert_eq!(
        by_format.content_type,
        "application/fhir+xml; charset=utf-8"
    );
    assert_eq!(xml_slot_ids(&by_format.body), expected);
    assert!(
        by_format.body.contains(r#"<extension url="https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2"><valueCode value="Telephone"/></extension>"#)
    );

    let mut bad_xml = days("2026-06-10", "2026-06-25");
    bad_xml.push(("_format", "xml".into()));
    let error = search(&app, &q(&bad_xml)).await;
    assert_eq!(
        (error.status, error.content_type.as_str()),
        (422, "application/fhir+xml; charset=utf-8")
    );
    assert!(error.body.contains(r#"<code value="INVALID_PARAMETER"/>"#));
}

#[actix_web::test]
async fn unsupported_formats_are_415() {
    let (app, _f) = app_with_fixture().await;
    let mut params = days("2026-06-10", "2026-06-10");
    params.push(("_format", "text/html".into()));
    search(&app, &q(&params))
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let mut html = headers(SEARCH_SLOT, ASID_A);
    html.insert("Accept", "text/html".parse().unwrap());
    gpc_get(
        &app,
        PRACTICE_A,
        "/Slot",
        &q(&days("2026-06-10", "2026-06-10")),
        html,
    )
    .await
    .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}

#[actix_web::test]
async fn responses_are_gzipped_when_asked_for() {
    let (app, _f) = app_with_fixture().await;
    let mut gzip = headers(SEARCH_SLOT, ASID_A);
    gzip.insert("Accept-Encoding", "gzip".parse().unwrap());
    let resp = reqwest::Client::new()
        .get(format!("{}/Slot", base(&app, PRACTICE_A)))
        .query(&q(&days("2026-06-10", "2026-06-10")))
        .headers(gzip)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = resp.bytes().await.unwrap();
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");
    let plain = search(&app, &q(&days("2026-06-10", "2026-06-10"))).await;
    assert!(plain.body.starts_with('{'), "not compressed unless asked");
}
