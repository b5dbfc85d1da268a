//! The body of Register a patient (`POST Patient/$gpc.registerpatient`): a `Parameters`
//! resource (GPConnect-RegisterPatient-Operation-1) with one `registerPatient` parameter holding
//! a CareConnect-GPC-Patient-1 Patient, read into a [`RegistrationRequest`].
//!
//! The minimum: `meta.profile`, the NHS number, one official name with a family and a given
//! name, the birth date. Optional: gender, one home address and one temporary one, one phone
//! per use (home, work, mobile, temp), one email, one `nhsCommunication`. Anything else is
//! refused. Statuses and codes follow the 1.2.7 provider tests where they differ from the
//! specification's table: a structural fault of the minimum (no birth date, no official or
//! family name, identifier without system, a telecom use repeated, two `registerPatient`
//! parameters) is 400 `BAD_REQUEST`; a disallowed element, wrong resource type, a second home
//! address or `nhsCommunication` is 422 `INVALID_RESOURCE`; a missing or invalid NHS number is
//! 400 `INVALID_NHS_NUMBER`. Every refusal names the parameter in its diagnostics.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::error::{FhirError, SpineCode};
use super::profiles::{HUMAN_LANGUAGE_SYSTEM, NHS_COMMUNICATION_EXTENSION, PATIENT_PROFILE};
use crate::patients::nhs_number::{NHS_NUMBER_SYSTEM, NhsNumber};
use crate::patients::record::{Address, GENDERS, Telecom};
use crate::patients::registration::RegistrationRequest;

const PATIENT_ELEMENTS: [&str; 10] = [
    "resourceType",
    "address",
    "id",
    "meta",
    "extension",
    "identifier",
    "name",
    "telecom",
    "gender",
    "birthDate",
];

fn bad(diagnostics: String) -> FhirError {
    FhirError::bad_request(diagnostics)
}

fn invalid(diagnostics: String) -> FhirError {
    FhirError::invalid_resource(diagnostics)
}

fn nhs_number_error(diagnostics: String) -> FhirError {
    FhirError::new(SpineCode::InvalidNhsNumber, diagnostics)
}

fn str_field<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn array<'a>(o: &'a Map<String, Value>, key: &str, at: &str) -> Result<Vec<&'a Value>, FhirError> {
    match o.get(key) {
        None => Ok(vec![]),
        Some(Value::Array(items)) => Ok(items.iter().collect()),
        Some(_) => Err(invalid(format!("{at}.{key} must be an array"))),
    }
}

fn object<'a>(v: &'a Value, at: &str) -> Result<&'a Map<String, Value>, FhirError> {
    v.as_object()
        .ok_or_else(|| invalid(format!("{at} must be an object")))
}

/// Reads the request body (JSON).
pub fn parse(body: &[u8]) -> Result<RegistrationRequest, FhirError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the request body is not valid JSON: {e}")))?;
    let parameters = object(&value, "the request body")?;
    if parameters.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err(invalid(
            "the request body must be a Parameters resource (GPConnect-RegisterPatient-Operation-1)"
                .into(),
        ));
    }
    let mut patients = Vec::new();
    for (i, p) in array(parameters, "parameter", "Parameters")?
        .into_iter()
        .enumerate()
    {
        let p = object(p, &format!("Parameters.parameter[{i}]"))?;
        match p.get("name").and_then(Value::as_str) {
            Some("registerPatient") => patients.push(p.get("resource")),
            Some(other) => {
                return Err(invalid(format!(
                    "parameter '{other}' is not a parameter of Register a patient (only registerPatient)"
                )));
            }
            None => return Err(invalid(format!("Parameters.parameter[{i}] has no name"))),
        }
    }
    let resource = match patients.as_slice() {
        [Some(r)] => *r,
        [None] => {
            return Err(invalid(
                "parameter registerPatient holds no resource".into(),
            ));
        }
        [] => return Err(invalid("parameter registerPatient is missing".into())),
        _ => {
            return Err(bad(
                "parameter registerPatient is sent more than once".into()
            ));
        }
    };
    patient(resource)
}

fn patient(resource: &Value) -> Result<RegistrationRequest, FhirError> {
    let at = "registerPatient";
    let p = object(resource, at)?;
    if p.get("resourceType").and_then(Value::as_str) != Some("Patient") {
        return Err(invalid(format!("parameter {at} must hold a Patient")));
    }
    if let Some(key) = p.keys().find(|k| !PATIENT_ELEMENTS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "parameter {at}: Patient.{key} must not be sent to Register a patient"
        )));
    }
    let profiled = p
        .get("meta")
        .and_then(|m| m.get("profile"))
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|v| v.as_str() == Some(PATIENT_PROFILE)));
    if !profiled {
        return Err(invalid(format!(
            "parameter {at}: Patient.meta.profile must be {PATIENT_PROFILE}"
        )));
    }
    let nhs_number = nhs_number(p, at)?;
    let (family_name, given_names, prefix) = official_name(p, at)?;
    let birth_date = match p.get("birthDate") {
        None => return Err(bad(format!("parameter {at}: Patient.birthDate is missing"))),
        Some(v) => v
            .as_str()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .ok_or_else(|| {
                invalid(format!(
                    "parameter {at}: Patient.birthDate {v} is not a date (yyyy-mm-dd)"
                ))
            })?,
    };
    let gender = match p.get("gender") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .filter(|g| GENDERS.contains(g))
                .ok_or_else(|| {
                    invalid(format!(
                        "parameter {at}: Patient.gender {v} is not one of {}",
                        GENDERS.join(", ")
                    ))
                })?
                .to_owned(),
        ),
    };
    let addresses = addresses(p, at)?;
    let telecoms = telecoms(p, at)?;
    let (language, interpreter_required) = nhs_communication(p, at)?;
    Ok(RegistrationRequest {
        nhs_number,
        family_name,
        given_names,
        prefix,
        birth_date,
        gender,
        addresses,
        telecoms,
        language,
        interpreter_required,
    })
}

fn nhs_number(p: &Map<String, Value>, at: &str) -> Result<NhsNumber, FhirError> {
    let identifiers = array(p, "identifier", at)?;
    let [identifier] = identifiers.as_slice() else {
        return Err(nhs_number_error(format!(
            "parameter {at}: Patient.identifier must be one NHS number ({} sent)",
            identifiers.len()
        )));
    };
    let identifier = object(identifier, "Patient.identifier")?;
    match str_field(identifier, "system") {
        None => Err(bad(format!(
            "parameter {at}: Patient.identifier has no system (it must be {NHS_NUMBER_SYSTEM})"
        ))),
        Some(s) if s != NHS_NUMBER_SYSTEM => Err(nhs_number_error(format!(
            "parameter {at}: Patient.identifier system '{s}' is not {NHS_NUMBER_SYSTEM}"
        ))),
        Some(_) => {
            let value = str_field(identifier, "value").unwrap_or_default();
            NhsNumber::parse(value)
                .map_err(|e| nhs_number_error(format!("parameter {at}: Patient.identifier: {e}")))
        }
    }
}

fn official_name(
    p: &Map<String, Value>,
    at: &str,
) -> Result<(String, Vec<String>, Option<String>), FhirError> {
    let names = array(p, "name", at)?;
    let mut official = Vec::new();
    for n in &names {
        let n = object(n, "Patient.name")?;
        match n.get("use").and_then(Value::as_str) {
            Some("official") => official.push(n),
            _ => {
                return Err(invalid(format!(
                    "parameter {at}: only the official name may be sent (Patient.name.use official)"
                )));
            }
        }
    }
    let [name] = official.as_slice() else {
        return Err(bad(format!(
            "parameter {at}: Patient.name must hold exactly one official name ({} sent)",
            official.len()
        )));
    };
    let family = str_field(name, "family").ok_or_else(|| {
        bad(format!(
            "parameter {at}: the official name has no family name"
        ))
    })?;
    let given: Vec<String> = array(name, "given", "Patient.name")?
        .into_iter()
        .filter_map(Value::as_str)
        .map(|g| g.trim().to_owned())
        .filter(|g| !g.is_empty())
        .collect();
    if given.is_empty() {
        return Err(bad(format!(
            "parameter {at}: the official name has no given name"
        )));
    }
    let prefix = array(name, "prefix", "Patient.name")?
        .first()
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok((family.trim().to_owned(), given, prefix))
}

fn addresses(p: &Map<String, Value>, at: &str) -> Result<Vec<Address>, FhirError> {
    let mut out = Vec::new();
    let mut uses = HashSet::new();
    for a in array(p, "address", at)? {
        let a = object(a, "Patient.address")?;
        let use_ = a.get("use").and_then(Value::as_str).unwrap_or("home");
        if !["home", "temp"].contains(&use_) {
            return Err(invalid(format!(
                "parameter {at}: Patient.address use '{use_}' may not be sent (home or temp only)"
            )));
        }
        if !uses.insert(use_.to_owned()) {
            return Err(invalid(format!(
                "parameter {at}: more than one {use_} address"
            )));
        }
        let lines = array(a, "line", "Patient.address")?
            .into_iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        out.push(Address {
            use_: use_.to_owned(),
            lines,
            city: str_field(a, "city").map(str::to_owned),
            district: str_field(a, "district").map(str::to_owned),
            postcode: str_field(a, "postalCode").map(str::to_owned),
        });
    }
    Ok(out)
}

fn telecoms(p: &Map<String, Value>, at: &str) -> Result<Vec<Telecom>, FhirError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for t in array(p, "telecom", at)? {
        let t = object(t, "Patient.telecom")?;
        let system = str_field(t, "system").unwrap_or_default();
        let use_ = t.get("use").and_then(Value::as_str);
        let allowed = match system {
            "phone" => matches!(use_, Some("home" | "work" | "mobile" | "temp")),
            "email" => matches!(use_, None | Some("home" | "work")),
            _ => false,
        };
        if !allowed {
            return Err(invalid(format!(
                "parameter {at}: a telecom of system '{system}' and use '{}' may not be sent",
                use_.unwrap_or("-")
            )));
        }
        let key = if system == "email" {
            "email".to_owned()
        } else {
            format!("phone {}", use_.unwrap_or_default())
        };
        if !seen.insert(key.clone()) {
            return Err(bad(format!(
                "parameter {at}: Patient.telecom has more than one {key}"
            )));
        }
        let value = str_field(t, "value")
            .ok_or_else(|| invalid(format!("parameter {at}: a telecom has no value")))?;
        out.push(Telecom {
            system: system.to_owned(),
            value: value.to_owned(),
            use_: use_.map(str::to_owned),
        });
    }
    Ok(out)
}

/// The one `nhsCommunication` extension allowed: (language code, interpreter required).
fn nhs_communication(
    p: &Map<String, Value>,
    at: &str,
) -> Result<(Option<String>, Option<bool>), FhirError> {
    let mut found = None;
    for e in array(p, "extension", at)? {
        let e = object(e, "Patient.extension")?;
        if e.get("url").and_then(Value::as_str) != Some(NHS_COMMUNICATION_EXTENSION) {
            return Err(invalid(format!(
                "parameter {at}: extension {} may not be sent to Register a patient",
                e.get("url").unwrap_or(&Value::Null)
            )));
        }
        if found.is_some() {
            return Err(invalid(format!(
                "parameter {at}: more than one nhsCommunication"
            )));
        }
        let mut language = None;
        let mut interpreter = None;
        for part in array(e, "extension", "nhsCommunication")? {
            let part = object(part, "nhsCommunication.extension")?;
            match part.get("url").and_then(Value::as_str) {
                Some("language") => {
                    language = part
                        .get("valueCodeableConcept")
                        .and_then(|c| c.get("coding"))
                        .and_then(Value::as_array)
                        .and_then(|c| {
                            c.iter().find(|c| {
                                c.get("system").and_then(Value::as_str)
                                    == Some(HUMAN_LANGUAGE_SYSTEM)
                            })
                        })
                        .and_then(|c| c.get("code"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                }
                Some("interpreterRequired") => {
                    interpreter = part.get("valueBoolean").and_then(Value::as_bool);
                }
                _ => {}
            }
        }
        if language.is_none() {
            return Err(invalid(format!(
                "parameter {at}: nhsCommunication needs a language of {HUMAN_LANGUAGE_SYSTEM}"
            )));
        }
        found = Some((language, interpreter));
    }
    Ok(found.unwrap_or((None, None)))
}
