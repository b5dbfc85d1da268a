//! The audit JWT every GP Connect request carries (GP Connect "Cross-organisation audit and
//! provenance" and error handling guidance).
//!
//! `Authorization: Bearer <JWT>`, an unsecured JWT (`alg: none`, empty signature) whose claims
//! `iss`, `sub`, `aud`, `exp`, `iat`, `reason_for_request` (`directcare`), `requested_scope`
//! (`organization/*.read` for every interaction served here), `requesting_device`,
//! `requesting_organization` and `requesting_practitioner` are all required, with
//! `exp - iat` exactly 300 seconds and `exp` not passed. Any of these wrong is 400
//! `BAD_REQUEST`, as is a `requesting_*` claim that is not a resource of the right type
//! ("invalid FHIR resource in JWT claim (for example, patient resource when practitioner
//! expected)"); a resource of the right type that lacks what the claim must hold (an ODS code,
//! the SDS user id, a name, a device identifier, model and version) is 422 `INVALID_RESOURCE`
//! ("resource fails to validate ... in JSON Web Tokens (JWT) claim").

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::error::FhirError;
use super::interaction::Interaction;
use super::profiles::SDS_USER_ID_SYSTEM;
use crate::availability::codes::ODS_CODE_SYSTEM;

/// Who is asking, from a JWT that passed the checks (for the audit log line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub organization_ods: String,
    pub practitioner_id: String,
    pub sds_user_id: String,
    pub device: String,
}

/// `exp` must be exactly this many seconds after `iat`.
pub const JWT_LIFETIME_SECONDS: i64 = 300;
/// How far in the future an `iat` may be (clock skew between consumer and provider).
pub const JWT_CLOCK_SKEW_SECONDS: i64 = 300;

/// base64url, with or without padding (JWT parts are sent without).
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_part(part: &str, what: &str) -> Result<Map<String, Value>, FhirError> {
    let bytes = BASE64URL
        .decode(part)
        .map_err(|_| FhirError::bad_request(format!("the JWT {what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(FhirError::bad_request(format!(
            "the JWT {what} is not a JSON object"
        ))),
    }
}

fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<&'a str, FhirError> {
    match claims.get(name) {
        None | Some(Value::Null) => Err(FhirError::bad_request(format!(
            "the JWT {name} claim is missing"
        ))),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(FhirError::bad_request(format!(
            "the JWT {name} claim must be a non-empty string"
        ))),
    }
}

fn time_claim(claims: &Map<String, Value>, name: &str) -> Result<i64, FhirError> {
    match claims.get(name) {
        None | Some(Value::Null) => Err(FhirError::bad_request(format!(
            "the JWT {name} claim is missing"
        ))),
        Some(v) => v.as_i64().ok_or_else(|| {
            FhirError::bad_request(format!(
                "the JWT {name} claim must be an integer (seconds since 1970 UTC)"
            ))
        }),
    }
}

/// A `requesting_*` claim: present, an object, of the right resourceType (else 400).
fn resource_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
    resource_type: &str,
) -> Result<&'a Map<String, Value>, FhirError> {
    let resource = match claims.get(name) {
        None | Some(Value::Null) => {
            return Err(FhirError::bad_request(format!(
                "the JWT {name} claim is missing"
            )));
        }
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(FhirError::bad_request(format!(
                "the JWT {name} claim must be a FHIR {resource_type} resource"
            )));
        }
    };
    match resource.get("resourceType").and_then(Value::as_str) {
        Some(t) if t == resource_type => Ok(resource),
        other => Err(FhirError::bad_request(format!(
            "the JWT {name} claim must be a {resource_type} resource, not {}",
            other.unwrap_or("a resource without resourceType")
        ))),
    }
}

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// The value of the first identifier with `system` (any system when `None`).
fn identifier_value<'a>(resource: &'a Map<String, Value>, system: Option<&str>) -> Option<&'a str> {
    resource
        .get("identifier")?
        .as_array()?
        .iter()
        .filter_map(Value::as_object)
        .filter(|id| match system {
            Some(s) => id.get("system").and_then(Value::as_str) == Some(s),
            None => non_empty_str(id.get("system")).is_some(),
        })
        .find_map(|id| non_empty_str(id.get("value")))
}

fn invalid(claim: &str, what: &str) -> FhirError {
    FhirError::invalid_resource(format!("the JWT {claim} claim is not valid: {what}"))
}

/// Checks the bearer token of `req` at time `now` (seconds since 1970 UTC).
pub fn check_jwt(
    req: &HttpRequest,
    interaction: Interaction,
    now: i64,
) -> Result<Requester, FhirError> {
    let auth = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| FhirError::bad_request("the Authorization header is missing"))?
        .to_str()
        .map_err(|_| FhirError::bad_request("the Authorization header is not text"))?;
    let token = auth
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| FhirError::bad_request("the Authorization header must be 'Bearer <JWT>'"))?;
    let parts: Vec<&str> = token.split('.').collect();
    let [head, payload, signature] = parts[..] else {
        return Err(FhirError::bad_request(
            "the JWT must be three base64url parts separated by dots (the last one empty)",
        ));
    };
    let head = decode_part(head, "header")?;
    if head.get("alg").and_then(Value::as_str) != Some("none") {
        return Err(FhirError::bad_request(
            "the JWT must be unsecured: its header alg must be 'none'",
        ));
    }
    if !signature.is_empty() {
        return Err(FhirError::bad_request(
            "the JWT signature must be empty (alg 'none')",
        ));
    }
    let claims = decode_part(payload, "payload")?;

    for name in ["iss", "aud"] {
        string_claim(&claims, name)?;
    }
    let sub = string_claim(&claims, "sub")?;
    let iat = time_claim(&claims, "iat")?;
    let exp = time_claim(&claims, "exp")?;
    if exp - iat != JWT_LIFETIME_SECONDS {
        return Err(FhirError::bad_request(format!(
            "the JWT exp must be exactly {JWT_LIFETIME_SECONDS} seconds after iat (it is {} seconds)",
            exp - iat
        )));
    }
    if exp <= now {
        return Err(FhirError::bad_request("the JWT has expired"));
    }
    if iat > now + JWT_CLOCK_SKEW_SECONDS {
        return Err(FhirError::bad_request("the JWT iat is in the future"));
    }
    let reason = string_claim(&claims, "reason_for_request")?;
    if reason != "directcare" {
        return Err(FhirError::bad_request(format!(
            "the JWT reason_for_request must be 'directcare', not '{reason}'"
        )));
    }
    let scope = string_claim(&claims, "requested_scope")?;
    if !scope.split_whitespace().any(|s| s == interaction.scope()) {
        return Err(FhirError::bad_request(format!(
            "the JWT requested_scope '{scope}' does not match the request: expected {}",
            interaction.scope()
        )));
    }

    let device = resource_claim(&claims, "requesting_device", "Device")?;
    let organization = resource_claim(&claims, "requesting_organization", "Organization")?;
    let practitioner = resource_claim(&claims, "requesting_practitioner", "Practitioner")?;

    let device_id = identifier_value(device, None).ok_or_else(|| {
        invalid(
            "requesting_device",
            "it needs an identifier with a system and a value",
        )
    })?;
    for field in ["model", "version"] {
        if non_empty_str(device.get(field)).is_none() {
            return Err(invalid(
                "requesting_device",
                &format!("its {field} is missing"),
            ));
        }
    }

    if non_empty_str(organization.get("name")).is_none() {
        return Err(invalid("requesting_organization", "its name is missing"));
    }
    let ods = identifier_value(organization, Some(ODS_CODE_SYSTEM)).ok_or_else(|| {
        invalid(
            "requesting_organization",
            &format!("it needs an identifier with system {ODS_CODE_SYSTEM} and the ODS code"),
        )
    })?;

    let practitioner_id = non_empty_str(practitioner.get("id"))
        .ok_or_else(|| invalid("requesting_practitioner", "its id is missing"))?;
    if practitioner_id != sub {
        return Err(FhirError::bad_request(format!(
            "the JWT sub '{sub}' must match requesting_practitioner.id '{practitioner_id}'"
        )));
    }
    let sds_user_id = identifier_value(practitioner, Some(SDS_USER_ID_SYSTEM)).ok_or_else(|| {
        invalid(
            "requesting_practitioner",
            &format!("it needs an identifier with system {SDS_USER_ID_SYSTEM} (UNK without a smartcard)"),
        )
    })?;
    let has_family_name = practitioner
        .get("name")
        .and_then(Value::as_array)
        .is_some_and(|names| {
            names
                .iter()
                .any(|n| non_empty_str(n.get("family")).is_some())
        });
    if !has_family_name {
        return Err(invalid(
            "requesting_practitioner",
            "it needs a name with a family name",
        ));
    }

    Ok(Requester {
        organization_ods: ods.to_owned(),
        practitioner_id: practitioner_id.to_owned(),
        sds_user_id: sds_user_id.to_owned(),
        device: device_id.to_owned(),
    })
}

/// The claims of a bearer token, when its middle part is base64url JSON (whatever else is
/// wrong with it: the request trail keeps what a refused request sent too).
pub fn claims_as_sent(authorization: Option<&str>) -> Option<Value> {
    let payload = authorization?
        .strip_prefix("Bearer ")?
        .trim()
        .split('.')
        .nth(1)?;
    serde_json::from_slice(&BASE64URL.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::fhir::error::SpineCode;

    /// When the tests' tokens are checked (seconds since 1970 UTC).
    const NOW: i64 = 1_780_000_000;

    /// The claims of a valid token issued at NOW (the integration tests send the same).
    fn claims() -> Value {
        let mut c: Value =
            serde_json::from_str(include_str!("../../tests/it/fhir/jwt-claims.json")).unwrap();
        c["iat"] = json!(NOW);
        c["exp"] = json!(NOW + JWT_LIFETIME_SECONDS);
        c
    }

    fn base64_json(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    /// An unsecured JWT (alg none, empty signature) with these claims.
    fn jwt(claims: &Value) -> String {
        format!(
            "{}.{}.",
            base64_json(&json!({ "alg": "none", "typ": "JWT" })),
            base64_json(claims)
        )
    }

    fn check_authorization(value: Option<&str>) -> Result<Requester, FhirError> {
        let mut req = TestRequest::get();
        if let Some(v) = value {
            req = req.insert_header((AUTHORIZATION, v));
        }
        check_jwt(&req.to_http_request(), Interaction::SearchSlot, NOW)
    }

    fn check(claims: &Value) -> Result<Requester, FhirError> {
        check_authorization(Some(&format!("Bearer {}", jwt(claims))))
    }

    #[track_caller]
    fn assert_refused(result: Result<Requester, FhirError>, code: SpineCode, mentions: &str) {
        let e = result.unwrap_err();
        assert_eq!(e.code, code, "{e:?}");
        assert!(e.diagnostics.contains(mentions), "{mentions}: {e:?}");
    }

    #[test]
    fn a_valid_token_names_who_is_asking() {
        assert_eq!(
            check(&claims()),
            Ok(Requester {
                organization_ods: "Y03032".into(),
                practitioner_id: "10019".into(),
                sds_user_id: "111222333444".into(),
                device: "CONS-APP-4".into(),
            })
        );
    }

    #[test]
    fn a_token_that_is_not_an_unsecured_jwt_is_400() {
        assert_refused(
            check_authorization(None),
            SpineCode::BadRequest,
            "Authorization",
        );
        let token = jwt(&claims());
        let (head, rest) = token.split_once('.').unwrap();
        let alg_hs256 = base64_json(&json!({ "alg": "HS256", "typ": "JWT" }));
        for (auth, mentions) in [
            (format!("Basic {token}"), "Bearer"),
            ("Bearer ".to_string(), "Bearer"),
            (
                format!("Bearer {}", serde_json::to_string(&claims()).unwrap()),
                "three base64url parts",
            ),
            (format!("Bearer {head}.{rest}signature"), "signature"),
            (format!("Bearer {alg_hs256}.{rest}"), "alg"),
            (
                format!(
                    "Bearer {head}.{}.",
                    base64_json(&json!("a string, not claims"))
                ),
                "not a JSON object",
            ),
            (format!("Bearer {head}.not*base64."), "not base64url"),
            (
                format!("Bearer {}", token.trim_end_matches('.')),
                "three base64url parts",
            ),
        ] {
            assert_refused(
                check_authorization(Some(&auth)),
                SpineCode::BadRequest,
                mentions,
            );
        }
    }

    #[test]
    fn each_missing_claim_is_400_bad_request() {
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
            assert_refused(check(&c), SpineCode::BadRequest, claim);
            c[claim] = Value::Null;
            assert_refused(check(&c), SpineCode::BadRequest, claim);
        }
    }

    #[test]
    fn exp_must_be_exactly_300_seconds_after_iat_and_not_passed() {
        let t = NOW;
        for (iat, exp, mentions) in [
            (t, t + 301, "exactly 300 seconds"),
            (t, t + 299, "exactly 300 seconds"),
            (t, t - 1, "exactly 300 seconds"),
            (t - 400, t - 100, "expired"),
            (t - 300, t, "expired"),
        ] {
            let mut c = claims();
            c["iat"] = json!(iat);
            c["exp"] = json!(exp);
            assert_refused(check(&c), SpineCode::BadRequest, mentions);
        }
        let mut text_times = claims();
        text_times["iat"] = json!(t.to_string());
        assert_refused(check(&text_times), SpineCode::BadRequest, "integer");
    }

    #[test]
    fn a_little_clock_skew_is_tolerated_but_not_a_token_from_the_future() {
        let mut skewed = claims();
        skewed["iat"] = json!(NOW + JWT_CLOCK_SKEW_SECONDS);
        skewed["exp"] = json!(NOW + JWT_CLOCK_SKEW_SECONDS + JWT_LIFETIME_SECONDS);
        assert!(check(&skewed).is_ok());
        let mut future = claims();
        future["iat"] = json!(NOW + JWT_CLOCK_SKEW_SECONDS + 1);
        future["exp"] = json!(NOW + JWT_CLOCK_SKEW_SECONDS + 1 + JWT_LIFETIME_SECONDS);
        assert_refused(check(&future), SpineCode::BadRequest, "future");
    }

    #[test]
    fn the_reason_and_scope_must_be_direct_care_organization_read() {
        for (claim, value) in [
            ("reason_for_request", "notdirectcare"),
            ("reason_for_request", "migration"),
            ("requested_scope", "patient/*.read"),
            ("requested_scope", "organization/*.write"),
        ] {
            let mut c = claims();
            c[claim] = json!(value);
            assert_refused(check(&c), SpineCode::BadRequest, claim);
        }
        let mut with_confidentiality = claims();
        with_confidentiality["requested_scope"] = json!("organization/*.read conf/N");
        assert!(check(&with_confidentiality).is_ok());
    }

    #[test]
    fn a_requesting_claim_of_the_wrong_resource_type_is_400() {
        for claim in [
            "requesting_device",
            "requesting_organization",
            "requesting_practitioner",
        ] {
            let mut c = claims();
            c[claim]["resourceType"] = json!("Patient");
            assert_refused(check(&c), SpineCode::BadRequest, "not Patient");
            c[claim] = json!("a string");
            assert_refused(check(&c), SpineCode::BadRequest, claim);
        }
    }

    #[test]
    fn a_requesting_resource_missing_what_the_claim_must_hold_is_422_invalid_resource() {
        type Breaker = fn(&mut Value);
        let cases: [(&str, Breaker); 7] = [
            ("requesting_device", |c| {
                c["requesting_device"]
                    .as_object_mut()
                    .unwrap()
                    .remove("identifier");
            }),
            ("requesting_device", |c| {
                c["requesting_device"]
                    .as_object_mut()
                    .unwrap()
                    .remove("model");
            }),
            ("requesting_device", |c| {
                c["requesting_device"]["version"] = json!("");
            }),
            ("requesting_organization", |c| {
                c["requesting_organization"]["identifier"][0]["system"] =
                    json!("https://example.org/local-id");
            }),
            ("requesting_organization", |c| {
                c["requesting_organization"]
                    .as_object_mut()
                    .unwrap()
                    .remove("name");
            }),
            ("requesting_practitioner", |c| {
                c["requesting_practitioner"]["identifier"]
                    .as_array_mut()
                    .unwrap()
                    .remove(0);
            }),
            ("requesting_practitioner", |c| {
                c["requesting_practitioner"]["name"] = json!([{ "given": ["Claire"] }]);
            }),
        ];
        for (claim, break_it) in cases {
            let mut c = claims();
            break_it(&mut c);
            assert_refused(check(&c), SpineCode::InvalidResource, claim);
        }
    }

    #[test]
    fn sub_must_match_the_requesting_practitioner_id() {
        let mut c = claims();
        c["sub"] = json!("someone-else");
        assert_refused(check(&c), SpineCode::BadRequest, "someone-else");
    }

    #[test]
    fn the_trail_keeps_the_claims_of_a_token_it_refuses() {
        let mut c = claims();
        c["sub"] = json!("someone-else");
        let auth = format!("Bearer {}", jwt(&c));
        assert!(check_authorization(Some(&auth)).is_err());
        assert_eq!(claims_as_sent(Some(&auth)), Some(c));
        assert_eq!(claims_as_sent(Some("Basic abc")), None);
        assert_eq!(claims_as_sent(None), None);
    }
}
