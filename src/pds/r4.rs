//! The PDS FHIR API's R4 JSON: the parts of a `Patient` bookable reads, and the
//! `OperationOutcome` PDS answers errors with (Spine error codes of
//! `https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode`).

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::PdsPatient;
use crate::patients::record::{Address, Telecom};

pub const SPINE_ERROR_SYSTEM_R4: &str =
    "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode";
/// `meta.security` of PDS records: `U` unrestricted, `R` restricted (the S-flag), `V` very
/// restricted.
pub const CONFIDENTIALITY_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Patient {
    pub resource_type: String,
    pub id: String,
    #[serde(default)]
    pub meta: Option<Meta>,
    #[serde(default)]
    pub name: Vec<HumanName>,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub deceased_date_time: Option<String>,
    pub deceased_boolean: Option<bool>,
    #[serde(default)]
    pub address: Vec<R4Address>,
    #[serde(default)]
    pub telecom: Vec<ContactPoint>,
}

#[derive(Debug, Deserialize)]
pub struct Meta {
    #[serde(default)]
    pub security: Vec<Coding>,
}

#[derive(Debug, Deserialize)]
pub struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct HumanName {
    #[serde(rename = "use")]
    pub use_: Option<String>,
    pub family: Option<String>,
    #[serde(default)]
    pub given: Vec<String>,
    #[serde(default)]
    pub prefix: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct R4Address {
    #[serde(rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub line: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    #[serde(rename = "postalCode")]
    pub postal_code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ContactPoint {
    pub system: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "use")]
    pub use_: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct OperationOutcome {
    #[serde(default)]
    pub issue: Vec<Issue>,
}

#[derive(Debug, Deserialize)]
pub struct Issue {
    pub details: Option<Details>,
}

#[derive(Debug, Deserialize)]
pub struct Details {
    #[serde(default)]
    pub coding: Vec<Coding>,
}

impl OperationOutcome {
    /// The first issue's Spine error code.
    pub fn code(&self) -> Option<&str> {
        self.issue
            .iter()
            .filter_map(|i| i.details.as_ref())
            .flat_map(|d| &d.coding)
            .find_map(|c| c.code.as_deref())
    }
}

impl Patient {
    pub fn into_pds(self) -> PdsPatient {
        let sensitive = self.meta.as_ref().is_some_and(|m| {
            m.security.iter().any(|c| {
                c.system.as_deref() == Some(CONFIDENTIALITY_SYSTEM)
                    && matches!(c.code.as_deref(), Some("R" | "V"))
            })
        });
        let official = self
            .name
            .iter()
            .find(|n| n.use_.as_deref() == Some("official"))
            .or(self.name.first());
        PdsPatient {
            nhs_number: self.id,
            family_name: official.and_then(|n| n.family.clone()),
            given_names: official.map(|n| n.given.clone()).unwrap_or_default(),
            prefix: official.and_then(|n| n.prefix.first().cloned()),
            birth_date: self
                .birth_date
                .as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            gender: self.gender,
            deceased: self.deceased_date_time.is_some() || self.deceased_boolean == Some(true),
            sensitive,
            addresses: self
                .address
                .into_iter()
                .map(|a| Address {
                    use_: a.use_.unwrap_or_else(|| "home".into()),
                    lines: a.line,
                    city: a.city,
                    district: a.district,
                    postcode: a.postal_code,
                })
                .collect(),
            telecoms: self
                .telecom
                .into_iter()
                .filter_map(|t| {
                    Some(Telecom {
                        system: t.system?,
                        value: t.value?,
                        use_: t.use_,
                    })
                })
                .collect(),
        }
    }
}

/// A PDS error response: status, Spine code and its display.
pub fn operation_outcome(issue_code: &str, spine_code: &str, display: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": "error",
            "code": issue_code,
            "details": {"coding": [{
                "system": SPINE_ERROR_SYSTEM_R4,
                "version": "1",
                "code": spine_code,
                "display": display,
            }]},
        }],
    })
}
