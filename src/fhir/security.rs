//! The Spine Secure Proxy headers and the audit JWT every GP Connect request carries
//! (GP Connect "Cross-organisation audit and provenance" and error handling guidance).
//!
//! - `Ssp-TraceID` (a GUID), `Ssp-From` and `Ssp-To` (ASIDs) and `Ssp-InteractionID` (the one of
//!   the operation called): missing or wrong is 400 `BAD_REQUEST`. `Ssp-To` must be the
//!   practice's ASID, checked once the practice is known.
//! - `Authorization: Bearer <JWT>`, an unsecured JWT (`alg: none`, empty signature) whose claims
//!   `iss`, `sub`, `aud`, `exp`, `iat`, `reason_for_request` (`directcare`), `requested_scope`
//!   (`organization/*.read` for every interaction served here), `requesting_device`,
//!   `requesting_organization` and `requesting_practitioner` are all required, with
//!   `exp - iat` exactly 300 seconds and `exp` not passed. Any of these wrong is 400
//!   `BAD_REQUEST`, as is a `requesting_*` claim that is not a resource of the right type
//!   ("invalid FHIR resource in JWT claim (for example, patient resource when practitioner
//!   expected)"); a resource of the right type that lacks what the claim must hold (an ODS code,
//!   the SDS user id, a name, a device identifier, model and version) is 422 `INVALID_RESOURCE`
//!   ("resource fails to validate ... in JSON Web Tokens (JWT) claim").

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::SDS_USER_ID_SYSTEM;
use super::error::FhirError;
use crate::availability::codes::ODS_CODE_SYSTEM;

/// The GP Connect interactions bookable serves, with their `Ssp-InteractionID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    SearchSlot,
    ReadMetadata,
    ReadPractitioner,
    ReadLocation,
    ReadOrganization,
}

impl Interaction {
    pub fn id(self) -> &'static str {
        match self {
            Self::SearchSlot => "urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1",
            Self::ReadMetadata => "urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1",
            Self::ReadPractitioner => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:practitioner-1"
            }
            Self::ReadLocation => "urn:nhs:names:services:gpconnect:fhir:rest:read:location-1",
            Self::ReadOrganization => {
                "urn:nhs:names:services:gpconnect:fhir:rest:read:organization-1"
            }
        }
    }

    /// The `requested_scope` the interaction needs.
    pub fn scope(self) -> &'static str {
        "organization/*.read"
    }
}

/// The SSP headers of a request that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SspHeaders {
    pub trace_id: String,
    pub from_asid: String,
    pub to_asid: String,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Result<&'a str, FhirError> {
    let value = req
        .headers()
        .get(name)
        .ok_or_else(|| FhirError::bad_request(format!("the {name} header is missing")))?
        .to_str()
        .map_err(|_| FhirError::bad_request(format!("the {name} header is not text")))?
        .trim();
    if value.is_empty() {
        return Err(FhirError::bad_request(format!(
            "the {name} header is empty"
        )));
    }
    Ok(value)
}

/// A GUID in its usual form, `8-4-4-4-12` hexadecimal digits.
pub fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An ASID: a Spine accredited system id, all digits.
pub fn is_asid(s: &str) -> bool {
    (1..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn check_ssp_headers(
    req: &HttpRequest,
    interaction: Interaction,
) -> Result<SspHeaders, FhirError> {
    let trace_id = header(req, "Ssp-TraceID")?;
    if !is_guid(trace_id) {
        return Err(FhirError::bad_request(format!(
            "Ssp-TraceID '{trace_id}' is not a GUID"
        )));
    }
    let from_asid = header(req, "Ssp-From")?;
    let to_asid = header(req, "Ssp-To")?;
    for (name, asid) in [("Ssp-From", from_asid), ("Ssp-To", to_asid)] {
        if !is_asid(asid) {
            return Err(FhirError::bad_request(format!(
                "{name} '{asid}' is not an ASID"
            )));
        }
    }
    let interaction_id = header(req, "Ssp-InteractionID")?;
    if interaction_id != interaction.id() {
        return Err(FhirError::bad_request(format!(
            "Ssp-InteractionID '{interaction_id}' does not match the request: expected {}",
            interaction.id()
        )));
    }
    Ok(SspHeaders {
        trace_id: trace_id.to_owned(),
        from_asid: from_asid.to_owned(),
        to_asid: to_asid.to_owned(),
    })
}

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
pub(super) const BASE64URL: GeneralPurpose = GeneralPurpose::new(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_and_asids() {
        assert!(is_guid("5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70"));
        assert!(is_guid("5A6E2A1C-0D7B-4F0E-9D43-2B8A3F1E6C70"));
        assert!(!is_guid("5a6e2a1c0d7b4f0e9d432b8a3f1e6c70"));
        assert!(!is_guid("{5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70}"));
        assert!(!is_guid("5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c7g"));
        assert!(is_asid("200000000359"));
        assert!(!is_asid("20000000035X"));
        assert!(!is_asid(""));
    }
}
