//! The Spine Secure Proxy headers and the audit JWT as a consumer meets them: each check's
//! refusal is an OperationOutcome with its status and Spine code, each endpoint expects its own
//! interaction, and `Ssp-To` must be the practice's ASID. Each header and claim rule is a unit
//! test next to its check (`fhir::ssp`, `fhir::jwt`).

use reqwest::header::HeaderMap;

use super::*;
use crate::harness::TestApp;

async fn search_with(app: &TestApp, headers: HeaderMap) -> Answer {
    gpc_get(
        app,
        PRACTICE_A,
        "/Slot",
        &q(&days("2026-06-10", "2026-06-10")),
        headers,
    )
    .await
}

/// Valid slot search headers with the token for `claims`.
fn with_claims(claims: &Value) -> HeaderMap {
    let mut h = headers(SEARCH_SLOT, ASID_A);
    h.insert(
        "Authorization",
        format!("Bearer {}", jwt(claims)).parse().unwrap(),
    );
    h
}

#[actix_web::test]
async fn valid_headers_and_token_are_accepted() {
    let (app, _f) = app_with_fixture().await;
    assert_eq!(
        search_with(&app, headers(SEARCH_SLOT, ASID_A)).await.status,
        200
    );
}

#[actix_web::test]
async fn a_refused_header_or_token_is_an_operation_outcome() {
    let (app, _f) = app_with_fixture().await;
    for name in ["Ssp-TraceID", "Authorization"] {
        let mut h = headers(SEARCH_SLOT, ASID_A);
        h.remove(name);
        let answer = search_with(&app, h).await;
        answer.assert_error(400, "BAD_REQUEST");
        assert!(answer.body.contains(name), "{name}: {}", answer.body);
    }
    let mut expired = claims();
    expired["exp"] = json!(now() - 1);
    expired["iat"] = json!(now() - 301);
    search_with(&app, with_claims(&expired))
        .await
        .assert_error(400, "BAD_REQUEST");
    let mut nameless = claims();
    nameless["requesting_organization"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    search_with(&app, with_claims(&nameless))
        .await
        .assert_error(422, "INVALID_RESOURCE");
}

#[actix_web::test]
async fn each_endpoint_expects_its_own_interaction_id() {
    let (app, _f) = app_with_fixture().await;
    let mut h = headers(SEARCH_SLOT, ASID_A);
    h.insert("Ssp-InteractionID", READ_METADATA.parse().unwrap());
    search_with(&app, h).await.assert_error(400, "BAD_REQUEST");
    gpc_get(
        &app,
        PRACTICE_A,
        "/metadata",
        &[],
        headers(SEARCH_SLOT, ASID_A),
    )
    .await
    .assert_error(400, "BAD_REQUEST");
}

#[actix_web::test]
async fn ssp_to_must_be_the_practice_s_asid() {
    let (app, f) = app_with_fixture().await;
    search_with(&app, headers(SEARCH_SLOT, ASID_B))
        .await
        .assert_error(400, "BAD_REQUEST");
    // A practice without an ASID is not registered for GP Connect: nothing reaches it.
    set_asid(&mut app.conn(), &Actor::system("test"), f.a, None).unwrap();
    search_with(&app, headers(SEARCH_SLOT, ASID_A))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[actix_web::test]
async fn the_search_filter_not_the_token_decides_which_slots_a_consumer_sees() {
    // The JWT's requesting_organization is the organisation the request comes from (for audit);
    // the specification asks consumers to send the booking organisation's ODS code and type as
    // searchFilter, and never requires the two to agree.
    let (app, f) = app_with_fixture().await;
    let mut c = claims();
    c["requesting_organization"]["identifier"][0]["value"] = json!("A11111");
    let mut params = days("2026-06-10", "2026-06-10");
    params.push(("searchFilter", format!("{ODS}|Y03032")));
    let answer = gpc_get(&app, PRACTICE_A, "/Slot", &q(&params), with_claims(&c)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let names = slot_names(&f, &answer.json());
    assert!(names.contains("ods-free"));
    assert!(!names.contains("open-override-ods"));
    assert_eq!(names.len(), set(&["ods-free"]).len() + 5);
}
