//! The Spine Secure Proxy headers and the audit JWT, each rule with its status and Spine code.

use reqwest::header::HeaderMap;
use serde_json::{Value, json};

use crate::fhir::{
    ASID_A, Answer, READ_METADATA, SEARCH_SLOT, app_with_fixture, claims, days, gpc_get, headers,
    jwt, now, q, slot_names,
};
use crate::fixture::{PRACTICE_A, set};
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

fn with_authorization(value: &str) -> HeaderMap {
    let mut h = headers(SEARCH_SLOT, ASID_A);
    h.insert("Authorization", value.parse().unwrap());
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
async fn each_missing_ssp_header_is_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    for name in [
        "Ssp-TraceID",
        "Ssp-From",
        "Ssp-To",
        "Ssp-InteractionID",
        "Authorization",
    ] {
        let mut h = headers(SEARCH_SLOT, ASID_A);
        h.remove(name);
        search_with(&app, h).await.assert_error(400, "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn malformed_ssp_headers_are_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    for (name, value) in [
        ("Ssp-TraceID", "not-a-guid"),
        ("Ssp-TraceID", "5a6e2a1c0d7b4f0e9d432b8a3f1e6c70"),
        ("Ssp-From", "consumer"),
        ("Ssp-To", "ASID-A"),
    ] {
        let mut h = headers(SEARCH_SLOT, ASID_A);
        h.insert(name, value.parse().unwrap());
        search_with(&app, h).await.assert_error(400, "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn an_interaction_id_that_does_not_match_the_request_is_400() {
    let (app, _f) = app_with_fixture().await;
    for wrong in [READ_METADATA, "InvalidInteractionId"] {
        let mut h = headers(SEARCH_SLOT, ASID_A);
        h.insert("Ssp-InteractionID", wrong.parse().unwrap());
        search_with(&app, h).await.assert_error(400, "BAD_REQUEST");
    }
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
    search_with(&app, headers(SEARCH_SLOT, crate::fhir::ASID_B))
        .await
        .assert_error(400, "BAD_REQUEST");
    // A practice without an ASID is not registered for GP Connect: nothing reaches it.
    bookable::practice::set_asid(
        &mut app.conn(),
        &bookable::change_log::Actor::system("test"),
        f.a,
        None,
    )
    .unwrap();
    search_with(&app, headers(SEARCH_SLOT, ASID_A))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[actix_web::test]
async fn a_token_that_is_not_an_unsecured_jwt_is_400() {
    let (app, _f) = app_with_fixture().await;
    let token = jwt(&claims());
    let (head, rest) = token.split_once('.').unwrap();
    let alg_hs256 = base64_json(&json!({ "alg": "HS256", "typ": "JWT" }));
    for auth in [
        format!("Basic {token}"),
        "Bearer ".to_string(),
        format!("Bearer {}", serde_json::to_string(&claims()).unwrap()),
        format!("Bearer {head}.{rest}signature"),
        format!("Bearer {alg_hs256}.{rest}"),
        format!(
            "Bearer {head}.{}.",
            base64_json(&json!("a string, not claims"))
        ),
        format!("Bearer {head}.not*base64.",),
        format!("Bearer {}", token.trim_end_matches('.')),
    ] {
        search_with(&app, with_authorization(&auth))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

fn base64_json(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

#[actix_web::test]
async fn each_missing_claim_is_400_bad_request() {
    let (app, _f) = app_with_fixture().await;
    for claim in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "reason_for_request",
        "requested_scope",
        "requesting_device",
        "requesting_organization",
        "requesting_practitioner",
    ] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(claim);
        let answer = search_with(&app, with_claims(&c)).await;
        answer.assert_error(400, "BAD_REQUEST");
        assert!(answer.body.contains(claim), "{claim}: {}", answer.body);
        c[claim] = Value::Null;
        search_with(&app, with_claims(&c))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn exp_must_be_exactly_300_seconds_after_iat_and_not_passed() {
    let (app, _f) = app_with_fixture().await;
    let t = now();
    for (iat, exp) in [(t, t + 301), (t, t + 299), (t, t - 1), (t - 400, t - 100)] {
        let mut c = claims();
        c["iat"] = json!(iat);
        c["exp"] = json!(exp);
        search_with(&app, with_claims(&c))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    let mut text_times = claims();
    text_times["iat"] = json!(t.to_string());
    search_with(&app, with_claims(&text_times))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[actix_web::test]
async fn a_little_clock_skew_is_tolerated_but_not_a_token_from_the_future() {
    let (app, _f) = app_with_fixture().await;
    let mut skewed = claims();
    skewed["iat"] = json!(now() + 200);
    skewed["exp"] = json!(now() + 500);
    assert_eq!(search_with(&app, with_claims(&skewed)).await.status, 200);
    let mut future = claims();
    future["iat"] = json!(now() + 3600);
    future["exp"] = json!(now() + 3900);
    search_with(&app, with_claims(&future))
        .await
        .assert_error(400, "BAD_REQUEST");
}

#[actix_web::test]
async fn the_reason_and_scope_must_be_direct_care_organization_read() {
    let (app, _f) = app_with_fixture().await;
    for (claim, value) in [
        ("reason_for_request", "notdirectcare"),
        ("reason_for_request", "migration"),
        ("requested_scope", "patient/*.read"),
        ("requested_scope", "organization/*.write"),
    ] {
        let mut c = claims();
        c[claim] = json!(value);
        search_with(&app, with_claims(&c))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
    let mut with_confidentiality = claims();
    with_confidentiality["requested_scope"] = json!("organization/*.read conf/N");
    assert_eq!(
        search_with(&app, with_claims(&with_confidentiality))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn a_requesting_claim_of_the_wrong_resource_type_is_400() {
    let (app, _f) = app_with_fixture().await;
    for claim in [
        "requesting_device",
        "requesting_organization",
        "requesting_practitioner",
    ] {
        let mut c = claims();
        c[claim]["resourceType"] = json!("Patient");
        search_with(&app, with_claims(&c))
            .await
            .assert_error(400, "BAD_REQUEST");
        c[claim] = json!("a string");
        search_with(&app, with_claims(&c))
            .await
            .assert_error(400, "BAD_REQUEST");
    }
}

#[actix_web::test]
async fn a_requesting_resource_missing_what_the_claim_must_hold_is_422_invalid_resource() {
    let (app, _f) = app_with_fixture().await;
    type Breaker = fn(&mut Value);
    let cases: [(&str, Breaker); 7] = [
        ("device identifier", |c| {
            c["requesting_device"]
                .as_object_mut()
                .unwrap()
                .remove("identifier");
        }),
        ("device model", |c| {
            c["requesting_device"]
                .as_object_mut()
                .unwrap()
                .remove("model");
        }),
        ("device version", |c| {
            c["requesting_device"]["version"] = json!("");
        }),
        ("organisation ODS code", |c| {
            c["requesting_organization"]["identifier"][0]["system"] =
                json!("https://example.org/local-id");
        }),
        ("organisation name", |c| {
            c["requesting_organization"]
                .as_object_mut()
                .unwrap()
                .remove("name");
        }),
        ("practitioner SDS user id", |c| {
            c["requesting_practitioner"]["identifier"]
                .as_array_mut()
                .unwrap()
                .remove(0);
        }),
        ("practitioner family name", |c| {
            c["requesting_practitioner"]["name"] = json!([{ "given": ["Claire"] }]);
        }),
    ];
    for (what, break_it) in cases {
        let mut c = claims();
        break_it(&mut c);
        let answer = search_with(&app, with_claims(&c)).await;
        assert_eq!(answer.status, 422, "{what}: {}", answer.body);
        answer.assert_error(422, "INVALID_RESOURCE");
    }
}

#[actix_web::test]
async fn sub_must_match_the_requesting_practitioner_id() {
    let (app, _f) = app_with_fixture().await;
    let mut c = claims();
    c["sub"] = json!("someone-else");
    search_with(&app, with_claims(&c))
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
    params.push(("searchFilter", format!("{}|Y03032", crate::fhir::ODS)));
    let answer = gpc_get(&app, PRACTICE_A, "/Slot", &q(&params), with_claims(&c)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let names = slot_names(&f, &answer.json());
    assert!(names.contains("ods-free"));
    assert!(!names.contains("open-override-ods"));
    assert_eq!(names.len(), set(&["ods-free"]).len() + 5);
}
