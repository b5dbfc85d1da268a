//! The PDS client against the PDS stand-in, served over HTTP on a loopback port: the JSON
//! shape and errors of the PDS FHIR API, and the verification rules of GP Connect #921.

use bookable::patients::nhs_number::NhsNumber;
use bookable::patients::verification::{Demographics, NotVerified, verify};
use bookable::pds::client::PdsClient;
use bookable::pds::settings::PdsSettings;
use bookable::pds::standin::{self, DEMO_PATIENTS, StandinFileError, StandinPatients};
use bookable::pds::{PdsError, PdsLookup};

use crate::fixture;

/// The demo's stand-in on a free port; its base URL.
pub fn spawn_standin() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = standin::run(listener, StandinPatients::parse(DEMO_PATIENTS).unwrap()).unwrap();
    actix_web::rt::spawn(server);
    url
}

fn client(url: &str) -> PdsClient {
    PdsClient::new(PdsSettings::new(url)).unwrap()
}

fn nhs(n: &str) -> NhsNumber {
    NhsNumber::parse(n).unwrap()
}

#[actix_web::test]
async fn a_traced_patient_comes_back_in_the_pds_shape() {
    let pds = client(&spawn_standin());
    let PdsLookup::Found(p) = pds.retrieve(&nhs("9000000009")).await.unwrap() else {
        panic!("found")
    };
    assert_eq!(p.nhs_number, "9000000009");
    assert_eq!(p.family_name.as_deref(), Some("Smith"));
    assert_eq!(p.given_names, ["Jane"]);
    assert_eq!(p.birth_date, Some(fixture::day(1968, 3, 14)));
    assert!(!p.deceased && !p.sensitive);
    assert_eq!(p.addresses[0].postcode.as_deref(), Some("LS1 6AE"));
    assert_eq!(p.telecoms[0].use_.as_deref(), Some("home"));
}

#[actix_web::test]
async fn deceased_sensitive_superseded_invalid_and_unknown_numbers() {
    let pds = client(&spawn_standin());
    let PdsLookup::Found(dead) = pds.retrieve(&nhs("9000000025")).await.unwrap() else {
        panic!("found")
    };
    assert!(dead.deceased);
    let PdsLookup::Found(restricted) = pds.retrieve(&nhs("9000000033")).await.unwrap() else {
        panic!("found")
    };
    assert!(restricted.sensitive);
    assert!(restricted.addresses.is_empty(), "PDS withholds them");
    assert_eq!(
        pds.retrieve(&nhs("9000000092")).await.unwrap(),
        PdsLookup::Superseded {
            by: "9000000106".into()
        }
    );
    assert_eq!(
        pds.retrieve(&nhs("9000000114")).await.unwrap(),
        PdsLookup::Invalidated
    );
    assert_eq!(
        pds.retrieve(&nhs("9000000084")).await.unwrap(),
        PdsLookup::NotFound
    );
}

#[actix_web::test]
async fn the_standin_answers_like_pds_on_the_wire() {
    let url = spawn_standin();
    let http = reqwest::Client::new();
    let missing = http
        .get(format!("{url}/Patient/9000000009"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400, "X-Request-ID is required");
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(
        body["issue"][0]["details"]["coding"][0]["code"],
        "MISSING_VALUE"
    );
    let id = "60ca6a5c-3a1e-4b4f-8f5c-0d3c1f4f5a11";
    let unknown = http
        .get(format!("{url}/Patient/9000000084"))
        .header("X-Request-ID", id)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.headers()["x-request-id"], id, "echoed");
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["resourceType"], "OperationOutcome");
    assert_eq!(
        body["issue"][0]["details"]["coding"][0]["system"],
        "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"
    );
    assert_eq!(
        body["issue"][0]["details"]["coding"][0]["code"],
        "RESOURCE_NOT_FOUND"
    );
    let bad = http
        .get(format!("{url}/Patient/9000000008"))
        .header("X-Request-ID", id)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(
        body["issue"][0]["details"]["coding"][0]["code"],
        "INVALID_RESOURCE_ID"
    );
    let found = http
        .get(format!("{url}/Patient/9000000009"))
        .header("X-Request-ID", id)
        .send()
        .await
        .unwrap();
    assert_eq!(found.status(), 200);
    assert_eq!(found.headers()["etag"], "W/\"1\"");
}

#[actix_web::test]
async fn an_unreachable_pds_is_an_error_not_an_answer() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    assert!(matches!(
        client(&url).retrieve(&nhs("9000000009")).await,
        Err(PdsError::Unreachable(_))
    ));
}

#[actix_web::test]
async fn verification_on_the_standin_follows_the_1_2_7_rules() {
    let pds = client(&spawn_standin());
    let check = |family: &'static str, given: &'static str, birth: (i32, u32, u32)| Demographics {
        family_name: family,
        given_name: Some(given),
        birth_date: fixture::day(birth.0, birth.1, birth.2),
    };
    let ok = pds.retrieve(&nhs("9000000017")).await.unwrap();
    assert!(verify(&check("Brown", "Oliver", (1985, 7, 2)), ok.clone()).is_ok());
    // Two of three birth date parts, "BRO" and "O": verified; one part: not.
    assert!(verify(&check("Browne", "Ollie", (1985, 7, 3)), ok.clone()).is_ok());
    assert_eq!(
        verify(&check("Browne", "Ollie", (1986, 8, 2)), ok),
        Err(NotVerified::Mismatch)
    );
    let dead = pds.retrieve(&nhs("9000000130")).await.unwrap();
    assert_eq!(
        verify(&check("Hughes", "Arthur", (1930, 2, 2)), dead),
        Err(NotVerified::Deceased)
    );
    let restricted = pds.retrieve(&nhs("9000000149")).await.unwrap();
    assert_eq!(
        verify(&check("Morgan", "Alex", (1988, 8, 8)), restricted),
        Err(NotVerified::Sensitive)
    );
    let missing = pds.retrieve(&nhs("9000000122")).await.unwrap();
    assert_eq!(
        verify(&check("Any", "One", (1990, 1, 1)), missing),
        Err(NotVerified::NotOnPds)
    );
}

#[test]
fn a_bad_standin_file_is_refused_with_the_reason() {
    assert!(matches!(
        StandinPatients::parse(
            "{\"patients\": [{\"resourceType\": \"Person\", \"id\": \"9000000009\"}]}"
        ),
        Err(StandinFileError::NotAPatient(0))
    ));
    assert!(matches!(
        StandinPatients::parse(
            "{\"patients\": [], \"superseded\": [{\"nhs_number\": \"9000000092\", \"replaced_by\": \"9000000106\"}]}"
        ),
        Err(StandinFileError::UnknownReplacement(..))
    ));
    assert!(matches!(
        StandinPatients::parse("[]"),
        Err(StandinFileError::Malformed(_))
    ));
}
