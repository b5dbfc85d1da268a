//! GP Connect "Search for free slots" over HTTP, on the fixed data set: exact sets of Slot ids
//! for each kind of consumer, the windows, the Bundle's content in JSON and XML, and every
//! parameter rule with its status and Spine error code. Shared helpers for fhir_*.rs too.

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bookable::change_log::Actor;
use bookable::practice::set_asid;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::fixture::{self, Fixture, PRACTICE_A, PRACTICE_B, set};
use crate::harness::{TestApp, spawn_app};

pub const ASID_A: &str = "200000000359";
pub const ASID_B: &str = "200000000360";
pub const CONSUMER_ASID: &str = "918999198738";
pub const SEARCH_SLOT: &str = "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1";
pub const READ_METADATA: &str = "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1";
pub const READ_PRACTITIONER: &str =
    "urn:nhs:names:services:gpconnect:fhir:rest:read:practitioner-1";
pub const READ_LOCATION: &str = "urn:nhs:names:services:gpconnect:fhir:rest:read:location-1";
pub const READ_ORGANIZATION: &str =
    "urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1";
pub const ORG_TYPE: &str = "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1";
pub const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// A running app with the fixture loaded and both practices registered with an ASID.
pub async fn app_with_fixture() -> (TestApp, Fixture) {
    let app = spawn_app().await;
    let mut conn = app.conn();
    let f = fixture::load(&mut conn);
    let actor = Actor::system("test");
    set_asid(&mut conn, &actor, f.a, Some(ASID_A)).unwrap();
    set_asid(&mut conn, &actor, f.b, Some(ASID_B)).unwrap();
    (app, f)
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a valid GP Connect audit JWT, issued now.
pub fn claims() -> Value {
    let iat = now();
    json!({
        "iss": "https://consumersupplier.thirdparty.nhs.uk/",
        "sub": "10019",
        "aud": "https://provider.example.nhs.uk/A20047/STU3/1/gpconnect",
        "exp": iat + 300,
        "iat": iat,
        "reason_for_request": "directcare",
        "requested_scope": "organization/*.read",
        "requesting_device": {
            "resourceType": "Device",
            "identifier": [{ "system": "https://consumersupplier.com/Id/device-identifier", "value": "CONS-APP-4" }],
            "model": "Consumer product name",
            "version": "5.3.0"
        },
        "requesting_organization": {
            "resourceType": "Organization",
            "identifier": [{ "system": ODS, "value": "Y03032" }],
            "name": "Leeds NHS 111"
        },
        "requesting_practitioner": {
            "resourceType": "Practitioner",
            "id": "10019",
            "identifier": [
                { "system": "https://fhir.nhs.uk/Id/sds-user-id", "value": "111222333444" },
                { "system": "https://fhir.nhs.uk/Id/sds-role-profile-id", "value": "444555666777" }
            ],
            "name": [{ "family": "Jones", "given": ["Claire"], "prefix": ["Dr"] }]
        }
    })
}

/// An unsecured JWT (alg none, empty signature) with these claims.
pub fn jwt(claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.",
        part(&json!({ "alg": "none", "typ": "JWT" })),
        part(claims)
    )
}

/// Valid GP Connect request headers for `interaction` sent to the ASID `to`.
pub fn headers(interaction: &str, to: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        "Ssp-TraceID",
        "5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70".parse().unwrap(),
    );
    h.insert("Ssp-From", CONSUMER_ASID.parse().unwrap());
    h.insert("Ssp-To", to.parse().unwrap());
    h.insert("Ssp-InteractionID", interaction.parse().unwrap());
    h.insert(
        "Authorization",
        format!("Bearer {}", jwt(&claims())).parse().unwrap(),
    );
    h
}

pub fn base(app: &TestApp, ods: &str) -> String {
    app.url(&format!("/fhir/{ods}/STU3/1/gpconnect"))
}

/// A response whose headers were checked for what every GP Connect response carries.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub etag: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts an OperationOutcome with this status and Spine code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        let oo = self.json();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(
            oo["meta"]["profile"],
            json!(["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"])
        );
        let issues = oo["issue"].as_array().unwrap();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0]["severity"], "error");
        let codings = issues[0]["details"]["coding"].as_array().unwrap();
        assert_eq!(codings.len(), 1);
        assert_eq!(
            codings[0]["system"],
            "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
        );
        assert_eq!(codings[0]["code"], code, "{}", self.body);
        assert!(
            issues[0]["diagnostics"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }
}

/// Sends a request; every answer must carry `Cache-Control: no-store`.
pub async fn send(req: reqwest::RequestBuilder) -> Answer {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("cache-control").as_deref(),
        Some("no-store"),
        "every response carries Cache-Control: no-store"
    );
    let content_type = header("content-type").unwrap_or_default();
    let etag = header("etag");
    Answer {
        status,
        content_type,
        etag,
        body: resp.text().await.unwrap(),
    }
}

/// GET `path` under practice `ods`'s base URL as `interaction`, sent to ASID `to`.
pub async fn gpc_get(
    app: &TestApp,
    ods: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: HeaderMap,
) -> Answer {
    let req = reqwest::Client::new()
        .get(format!("{}{path}", base(app, ods)))
        .query(query)
        .headers(headers);
    send(req).await
}

/// Search for free slots at practice A with valid headers.
pub async fn search(app: &TestApp, query: &[(&str, &str)]) -> Answer {
    gpc_get(
        app,
        PRACTICE_A,
        "/Slot",
        query,
        headers(SEARCH_SLOT, ASID_A),
    )
    .await
}

/// The required parameters for the whole local day(s) `first..=last` (yyyy-mm-dd).
pub fn days(first: &'static str, last: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("start", format!("ge{first}")),
        ("end", format!("le{last}")),
        ("status", "free".into()),
        ("_include", "Slot:schedule".into()),
    ]
}

pub fn q<'a>(params: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The resources of a Bundle of one type.
pub fn resources<'a>(bundle: &'a Value, kind: &str) -> Vec<&'a Value> {
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| &e["resource"])
                .filter(|r| r["resourceType"] == kind)
                .collect()
        })
        .unwrap_or_default()
}

/// The fixture names of the Slots in a Bundle.
pub fn slot_names(f: &Fixture, bundle: &Value) -> BTreeSet<String> {
    f.names(
        resources(bundle, "Slot")
            .iter()
            .map(|s| s["id"].as_str().unwrap().parse().unwrap()),
    )
}

const BASE: &[&str] = &[
    "open-free",
    "open-early",
    "open-edge",
    "open-late",
    "off-override-on",
];

fn base_and(extra: &[&str]) -> BTreeSet<String> {
    set(BASE).into_iter().chain(set(extra)).collect()
}

#[actix_web::test]
async fn each_consumer_sees_exactly_the_slots_the_matching_table_allows() {
    let (app, f) = app_with_fixture().await;
    let t = |code: &str| format!("{ORG_TYPE}|{code}");
    let o = |code: &str| format!("{ODS}|{code}");
    let cases: Vec<(Vec<String>, BTreeSet<String>)> = vec![
        (vec![], base_and(&[])),
        (vec![t("urgent-care")], base_and(&["type-free"])),
        (vec![t("Urgent Care")], base_and(&["type-free"])),
        (vec![t("gp-practice")], base_and(&[])),
        (vec![t("oncology")], base_and(&[])),
        (vec![o("Y03032")], base_and(&["ods-free"])),
        (vec![o("y03032")], base_and(&["ods-free"])),
        (vec![o("A11111")], base_and(&["open-override-ods"])),
        (
            vec![t("urgent-care"), o("Y03032")],
            base_and(&["type-free", "ods-free", "both-free"]),
        ),
        (vec![t("gp-practice"), o("Y03032")], base_and(&["ods-free"])),
        (
            vec![t("urgent-care"), o("A11111")],
            base_and(&["type-free", "open-override-ods"]),
        ),
        // Search filters of other systems are ignored, not refused.
        (
            vec![
                "https://fhir.nhs.uk/Id/uec-dos-service-id|1000123".into(),
                "no-system-at-all".into(),
                t("urgent-care"),
            ],
            base_and(&["type-free"]),
        ),
    ];
    for (filters, expected) in cases {
        let mut params = days("2026-06-10", "2026-06-10");
        params.extend(filters.iter().map(|v| ("searchFilter", v.clone())));
        let answer = search(&app, &q(&params)).await;
        assert_eq!(answer.status, 200, "{filters:?}: {}", answer.body);
        assert_eq!(slot_names(&f, &answer.json()), expected, "{filters:?}");
    }
}

#[actix_web::test]
async fn a_slot_must_lie_wholly_inside_the_window() {
    let (app, f) = app_with_fixture().await;
    let answer = search(
        &app,
        &[
            ("start", "ge2026-06-10T09:00:00+01:00"),
            ("end", "le2026-06-10T17:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        slot_names(&f, &answer.json()),
        set(&["open-free", "open-edge", "off-override-on"]),
        "open-early starts at 08:50 and open-late ends at 17:10"
    );
}

#[actix_web::test]
async fn a_date_only_end_covers_the_whole_day() {
    let (app, f) = app_with_fixture().await;
    // mar-last is 23:30-23:45 BST on 5 April 2026.
    let whole_day = search(&app, &q(&days("2026-04-05", "2026-04-05"))).await;
    assert_eq!(slot_names(&f, &whole_day.json()), set(&["mar-last"]));
    let until_23 = search(
        &app,
        &[
            ("start", "ge2026-04-05"),
            ("end", "le2026-04-05T23:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await;
    assert_eq!(until_23.status, 200, "{}", until_23.body);
    assert!(slot_names(&f, &until_23.json()).is_empty());
}

#[actix_web::test]
async fn fourteen_local_days_are_accepted_and_fifteen_refused_across_both_clock_changes() {
    let (app, f) = app_with_fixture().await;
    let spring = search(&app, &q(&days("2026-03-23", "2026-04-05"))).await;
    assert_eq!(
        slot_names(&f, &spring.json()),
        set(&["mar-first", "mar-change", "mar-last"]),
        "14 local days in spring are 13 days 23 hours"
    );
    let autumn = search(&app, &q(&days("2026-10-19", "2026-11-01"))).await;
    assert_eq!(
        slot_names(&f, &autumn.json()),
        set(&["oct-first", "oct-change", "oct-last"]),
        "14 local days in autumn are 14 days 1 hour"
    );
    let autumn_times = search(
        &app,
        &[
            ("start", "ge2026-10-19T00:00:00+01:00"),
            ("end", "le2026-11-02T00:00:00+00:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
        ],
    )
    .await;
    assert_eq!(
        slot_names(&f, &autumn_times.json()),
        set(&["oct-first", "oct-change", "oct-last"])
    );
    for (first, last) in [("2026-03-23", "2026-04-06"), ("2026-10-18", "2026-11-01")] {
        search(&app, &q(&days(first, last)))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
}

#[actix_web::test]
async fn an_empty_window_or_no_match_is_an_empty_bundle() {
    let (app, _f) = app_with_fixture().await;
    let empty = json!({ "resourceType": "Bundle", "type": "searchset" });
    let zero = search(
        &app,
        &[
            ("start", "ge2026-06-10T09:00:00+01:00"),
            ("end", "le2026-06-10T09:00:00+01:00"),
            ("status", "free"),
            ("_include", "Slot:schedule"),
            ("_include:recurse", "Location:managingOrganization"),
        ],
    )
    .await;
    assert_eq!((zero.status, zero.json()), (200, empty.clone()));
    let none = search(&app, &q(&days("2027-01-04", "2027-01-08"))).await;
    assert_eq!((none.status, none.json()), (200, empty));
}

#[actix_web::test]
async fn another_practice_s_slots_never_appear() {
    let (app, f) = app_with_fixture().await;
    let a = search(&app, &q(&days("2026-06-10", "2026-06-10"))).await;
    assert!(!slot_names(&f, &a.json()).contains("b-open-free"));
    let b = gpc_get(
        &app,
        PRACTICE_B,
        "/Slot",
        &q(&days("2026-06-10", "2026-06-10")),
        headers(SEARCH_SLOT, ASID_B),
    )
    .await;
    assert_eq!(slot_names(&f, &b.json()), set(&["b-open-free"]));
}

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

/// `days("2026-06-10", "2026-06-10")` with `name` removed, then `extra` added.
fn changed(remove: &[&str], extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut params: Vec<_> = days("2026-06-10", "2026-06-10")
        .into_iter()
        .filter(|(k, _)| !remove.contains(k))
        .collect();
    params.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    params
}

#[actix_web::test]
async fn a_missing_start_end_or_status_is_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    for remove in [&["start"][..], &["end"], &["status"], &["start", "end"]] {
        search(&app, &q(&changed(remove, &[])))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn a_missing_include_slot_schedule_is_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    search(&app, &q(&changed(&["_include"], &[])))
        .await
        .assert_error(400, "BAD_REQUEST");
    search(
        &app,
        &q(&changed(
            &["_include"],
            &[("_include", "Schedule:actor:Location")],
        )),
    )
    .await
    .assert_error(400, "BAD_REQUEST");
}

#[actix_web::test]
async fn prefixes_other_than_ge_and_le_are_422() {
    let (app, _f) = app_with_fixture().await;
    for (start, end) in [
        ("gt2026-06-10", "le2026-06-10"),
        ("2026-06-10", "le2026-06-10"),
        ("eq2026-06-10", "le2026-06-10"),
        ("ge2026-06-10", "ge2026-06-10"),
        ("ge2026-06-10", "lt2026-06-10"),
        ("ge2026-06-10", "2026-06-10"),
    ] {
        search(
            &app,
            &q(&changed(
                &["start", "end"],
                &[("start", start), ("end", end)],
            )),
        )
        .await
        .assert_error(422, "INVALID_PARAMETER");
    }
}

#[actix_web::test]
async fn empty_malformed_or_partial_dates_are_422() {
    let (app, _f) = app_with_fixture().await;
    for start in [
        "",
        "ge",
        "geinvalidStartDate",
        "ge2026",
        "ge2026-06",
        "ge2026-6-10",
        "ge2026-02-30",
        "ge2026-06-10T09:00:00Z",
        "ge2026-06-10T09:00:00",
        "ge2026-06-10T09:00",
        "ge2026-06-10T09:00:00.000+01:00",
    ] {
        search(&app, &q(&changed(&["start"], &[("start", start)])))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
    search(&app, &q(&changed(&["end"], &[("end", "")])))
        .await
        .assert_error(422, "INVALID_PARAMETER");
}

#[actix_web::test]
async fn an_offset_not_in_force_in_the_uk_is_422() {
    let (app, _f) = app_with_fixture().await;
    for (start, end) in [
        // 10 June is in BST (+01:00).
        ("ge2026-06-10T09:00:00+00:00", "le2026-06-10"),
        ("ge2026-06-10", "le2026-06-10T17:00:00+00:00"),
        ("ge2026-06-10T09:00:00+02:00", "le2026-06-10"),
        // 10 January is in GMT (+00:00).
        ("ge2026-01-10T09:00:00+01:00", "le2026-01-10"),
        // 01:30 GMT on 29 March 2026 never happened in the UK.
        ("ge2026-03-29T01:30:00+00:00", "le2026-03-29"),
    ] {
        search(
            &app,
            &q(&changed(
                &["start", "end"],
                &[("start", start), ("end", end)],
            )),
        )
        .await
        .assert_error(422, "INVALID_PARAMETER");
    }
}

#[actix_web::test]
async fn a_status_other_than_free_is_422() {
    let (app, _f) = app_with_fixture().await;
    for status in ["busy", "", "FREE"] {
        search(&app, &q(&changed(&["status"], &[("status", status)])))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
}

#[actix_web::test]
async fn start_or_end_sent_twice_is_422() {
    let (app, _f) = app_with_fixture().await;
    search(&app, &q(&changed(&[], &[("start", "ge2026-06-11")])))
        .await
        .assert_error(422, "INVALID_PARAMETER");
    search(&app, &q(&changed(&[], &[("end", "le2026-06-11")])))
        .await
        .assert_error(422, "INVALID_PARAMETER");
}

#[actix_web::test]
async fn a_negative_window_is_422() {
    let (app, _f) = app_with_fixture().await;
    search(&app, &q(&days("2026-06-11", "2026-06-10")))
        .await
        .assert_error(422, "INVALID_PARAMETER");
    search(
        &app,
        &q(&changed(
            &["start", "end"],
            &[
                ("start", "ge2026-06-11T00:00:00+01:00"),
                ("end", "le2026-06-10"),
            ],
        )),
    )
    .await
    .assert_error(422, "INVALID_PARAMETER");
    let same_day = search(
        &app,
        &q(&changed(
            &["start"],
            &[("start", "ge2026-06-10T23:00:00+01:00")],
        )),
    )
    .await;
    assert_eq!(
        same_day.status, 200,
        "a dateTime start within the end day: {}",
        same_day.body
    );
    search(
        &app,
        &q(&changed(
            &["start", "end"],
            &[
                ("start", "ge2026-06-10T09:00:01+01:00"),
                ("end", "le2026-06-10T09:00:00+01:00"),
            ],
        )),
    )
    .await
    .assert_error(422, "INVALID_PARAMETER");
}

#[actix_web::test]
async fn invalid_or_conflicting_search_filters_of_known_systems_are_422() {
    let (app, _f) = app_with_fixture().await;
    for filters in [
        vec![format!("{ODS}|not an ods code")],
        vec![format!("{ODS}|")],
        vec![format!("{ORG_TYPE}|")],
        vec![format!("{ODS}|Y03032"), format!("{ODS}|A11111")],
        vec![
            format!("{ORG_TYPE}|urgent-care"),
            format!("{ORG_TYPE}|gp-practice"),
        ],
    ] {
        let mut params = days("2026-06-10", "2026-06-10");
        params.extend(filters.iter().map(|v| ("searchFilter", v.clone())));
        search(&app, &q(&params))
            .await
            .assert_error(422, "INVALID_PARAMETER");
    }
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
