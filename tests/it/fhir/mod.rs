//! GP Connect over HTTP, on the fixed data set, with the helpers its tests share: a running app
//! with both practices registered, valid SSP headers and token, and answers checked for what
//! every GP Connect response carries.

mod appointment_admin;
mod appointment_content;
mod appointment_edges;
mod appointment_feed;
mod appointment_inbound;
mod appointment_rules;
mod appointment_uptake;
mod appointment_xml;
mod appointments;
mod bundle;
mod limits;
mod patients;
mod reads;
mod register;
mod request_trail;
mod search;
mod security;
mod tls;
mod xml_text;

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bookable::change_log::Actor;
use bookable::practice::set_asid;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::fixture::{self, Fixture, PRACTICE_A, PRACTICE_B, set};
use crate::harness::TestApp;

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
    app_with_fixture_and(|_| {}).await
}

/// `app_with_fixture` with settings changed from their defaults. The server's clock stands
/// before every slot of the fixture unless `configure` sets another.
pub async fn app_with_fixture_and(
    configure: impl FnOnce(&mut bookable::state::AppState),
) -> (TestApp, Fixture) {
    let app = crate::harness::spawn_app_with(|s| {
        s.clock = bookable::clock::Clock::fixed(fixture::before_every_slot());
        configure(s);
    })
    .await;
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

/// The claims of a valid GP Connect audit JWT, issued now (the JWT module's unit tests check
/// the same claims).
pub fn claims() -> Value {
    let mut c: Value = serde_json::from_str(include_str!("jwt-claims.json")).unwrap();
    let iat = now();
    c["iat"] = json!(iat);
    c["exp"] = json!(iat + 300);
    c
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
