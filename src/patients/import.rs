//! The patient import: the practice's clinical system sends its patient list as JSON, one
//! entry per NHS number, so sending the same document again changes nothing.
//!
//! The whole document is validated before anything is written, with every problem listed; then
//! it is written in one transaction, with one change-log row per patient created or changed. A
//! record's `version` (GP Connect `meta.versionId`) moves only when its content changes.
//!
//! A patient the document leaves out is kept as it is (a temporary registration made through GP
//! Connect, say). `verified: false` does not undo a verification bookable made itself on PDS.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::nhs_number::NhsNumber;
use super::record::{
    Address, GENDERS, OtherName, Patient, PatientValues, RegistrationType, Telecom,
};
use super::write::{insert, record_change, update};
use crate::availability::codes::OdsCode;
use crate::change_log::Actor;
use crate::db::ids::LocationId;
use crate::db::schema::{locations, patients};
pub use crate::document_import::ImportError;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientDocument {
    /// ODS code of a practice bookable already knows.
    pub practice: String,
    pub patients: Vec<PatientIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameIn {
    pub family: String,
    #[serde(default)]
    pub given: Vec<String>,
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationIn {
    /// `regular` (GMS) or `temporary`.
    #[serde(rename = "type")]
    pub type_: String,
    /// `yyyy-mm-dd`
    pub start: String,
    pub end: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatientIn {
    pub nhs_number: String,
    /// Whether the NHS number has been verified (traced on PDS).
    pub verified: bool,
    /// The official name.
    pub name: NameIn,
    #[serde(default)]
    pub other_names: Vec<OtherName>,
    /// `yyyy-mm-dd`
    pub birth_date: String,
    pub gender: Option<String>,
    #[serde(default)]
    pub addresses: Vec<Address>,
    #[serde(default)]
    pub telecom: Vec<Telecom>,
    /// Preferred language (a CareConnect-HumanLanguage-1 code such as `en`, `fr`).
    pub language: Option<String>,
    pub interpreter_required: Option<bool>,
    pub registration: RegistrationIn,
    /// `active` or `left` (left the practice).
    pub status: String,
    #[serde(default)]
    pub deceased: bool,
    /// PDS sensitive (S-flag).
    #[serde(default)]
    pub sensitive: bool,
    /// The `id` of a location of the rota import: the preferred branch surgery.
    pub preferred_branch: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

pub const OTHER_NAME_USES: [&str; 6] = ["usual", "nickname", "maiden", "old", "temp", "anonymous"];
pub const ADDRESS_USES: [&str; 4] = ["home", "work", "temp", "old"];
pub const TELECOM_SYSTEMS: [&str; 2] = ["phone", "email"];
pub const TELECOM_USES: [&str; 5] = ["home", "work", "mobile", "temp", "old"];

/// The demo practice's patients, one in each state GP Connect's flows need (README lists them).
pub const DEMO_PATIENTS: &str = include_str!("demo_patients.json");

/// Parses and imports a JSON document.
pub fn import_json(
    conn: &mut PgConnection,
    actor: &Actor,
    json: &str,
) -> Result<ImportSummary, ImportError> {
    let doc: PatientDocument = serde_json::from_str(json)?;
    import(conn, actor, &doc)
}

pub fn import(
    conn: &mut PgConnection,
    actor: &Actor,
    doc: &PatientDocument,
) -> Result<ImportSummary, ImportError> {
    conn.transaction(|conn| {
        let ods = OdsCode::parse(&doc.practice)
            .map_err(|_| ImportError::UnknownPractice(doc.practice.clone()))?;
        let practice = crate::practice::by_ods(conn, &ods)?
            .ok_or_else(|| ImportError::UnknownPractice(doc.practice.clone()))?;
        let pid = practice.id;
        let location_ids: HashMap<String, LocationId> = locations::table
            .filter(locations::practice_id.eq(pid))
            .select((locations::external_id, locations::id))
            .load::<(String, LocationId)>(conn)?
            .into_iter()
            .collect();

        let today = Utc::now().date_naive();
        let mut errors = Vec::new();
        let mut seen: HashMap<NhsNumber, usize> = HashMap::new();
        let mut valid = Vec::with_capacity(doc.patients.len());
        for (i, p) in doc.patients.iter().enumerate() {
            let at = format!("patients[{i}] (NHS number '{}')", p.nhs_number);
            let mut problems = Vec::new();
            let nhs = match NhsNumber::parse(&p.nhs_number) {
                Ok(n) => {
                    if let Some(first) = seen.insert(n, i) {
                        problems.push(format!(
                            "NHS number {n} is also patients[{first}]: one entry per patient"
                        ));
                    }
                    Some(n)
                }
                Err(e) => {
                    problems.push(e.to_string());
                    None
                }
            };
            let values = validate(p, today, &location_ids, &mut problems);
            errors.extend(problems.into_iter().map(|e| format!("{at}: {e}")));
            if let (Some(nhs), Some(values)) = (nhs, values) {
                valid.push((nhs, values));
            }
        }
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }

        let numbers: Vec<String> = valid.iter().map(|(n, _)| n.to_string()).collect();
        let existing: HashMap<String, Patient> = patients::table
            .filter(patients::practice_id.eq(pid))
            .filter(patients::nhs_number.eq_any(&numbers))
            .select(Patient::as_select())
            .load::<Patient>(conn)?
            .into_iter()
            .map(|p| (p.nhs_number.clone(), p))
            .collect();

        let mut summary = ImportSummary::default();
        for (nhs, mut values) in valid {
            let nhs = nhs.to_string();
            match existing.get(&nhs) {
                Some(before) => {
                    values.nhs_number_verified |= before.pds_verified_at.is_some();
                    if before.values() == values {
                        summary.unchanged += 1;
                        continue;
                    }
                    let after = update(conn, before.id, &values)?;
                    record_change(conn, actor, "update", Some(before), &after)?;
                    summary.updated += 1;
                }
                None => {
                    let after = insert(conn, pid, &nhs, &values)?;
                    record_change(conn, actor, "create", None, &after)?;
                    summary.created += 1;
                }
            }
        }
        Ok(summary)
    })
}

/// Checks one entry, adding every problem found; `None` when there was any.
fn validate(
    p: &PatientIn,
    today: NaiveDate,
    location_ids: &HashMap<String, LocationId>,
    problems: &mut Vec<String>,
) -> Option<PatientValues> {
    let before = problems.len();
    if p.name.family.trim().is_empty() {
        problems.push("name.family is empty".into());
    }
    if p.name.given.iter().any(|g| g.trim().is_empty()) {
        problems.push("name.given has an empty name".into());
    }
    let birth_date = date(problems, "birth_date", &p.birth_date);
    if let Some(d) = birth_date
        && d > today
    {
        problems.push(format!("birth_date {d} is in the future"));
    }
    if let Some(g) = &p.gender
        && !GENDERS.contains(&g.as_str())
    {
        problems.push(format!("gender '{g}' is not one of {}", GENDERS.join(", ")));
    }
    for (j, n) in p.other_names.iter().enumerate() {
        if !OTHER_NAME_USES.contains(&n.use_.as_str()) {
            problems.push(format!(
                "other_names[{j}]: use '{}' is not one of {}",
                n.use_,
                OTHER_NAME_USES.join(", ")
            ));
        }
        if n.family.as_deref().is_none_or(|f| f.trim().is_empty()) && n.given.is_empty() {
            problems.push(format!(
                "other_names[{j}] has neither a family nor a given name"
            ));
        }
    }
    let mut uses = HashSet::new();
    for (j, a) in p.addresses.iter().enumerate() {
        if !ADDRESS_USES.contains(&a.use_.as_str()) {
            problems.push(format!(
                "addresses[{j}]: use '{}' is not one of {}",
                a.use_,
                ADDRESS_USES.join(", ")
            ));
        } else if a.use_ != "old" && !uses.insert(a.use_.as_str()) {
            problems.push(format!("addresses[{j}]: a second '{}' address", a.use_));
        }
        if a.lines.iter().all(|l| l.trim().is_empty()) && a.postcode.is_none() {
            problems.push(format!("addresses[{j}] has no lines and no postcode"));
        }
    }
    for (j, t) in p.telecom.iter().enumerate() {
        if !TELECOM_SYSTEMS.contains(&t.system.as_str()) {
            problems.push(format!(
                "telecom[{j}]: system '{}' is not one of {}",
                t.system,
                TELECOM_SYSTEMS.join(", ")
            ));
        }
        if t.value.trim().is_empty() {
            problems.push(format!("telecom[{j}]: value is empty"));
        }
        if let Some(u) = &t.use_
            && !TELECOM_USES.contains(&u.as_str())
        {
            problems.push(format!(
                "telecom[{j}]: use '{u}' is not one of {}",
                TELECOM_USES.join(", ")
            ));
        }
    }
    if p.language.as_deref().is_some_and(|l| l.trim().is_empty()) {
        problems.push("language is empty".into());
    }
    let registration_type = RegistrationType::parse(&p.registration.type_);
    if registration_type.is_none() {
        problems.push(format!(
            "registration.type '{}' is not regular or temporary",
            p.registration.type_
        ));
    }
    let start = date(problems, "registration.start", &p.registration.start);
    let end = p
        .registration
        .end
        .as_deref()
        .and_then(|e| date(problems, "registration.end", e));
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        problems.push(format!("registration.end {e} is before its start {s}"));
    }
    let active = match p.status.as_str() {
        "active" => Some(true),
        "left" => Some(false),
        other => {
            problems.push(format!("status '{other}' is not active or left"));
            None
        }
    };
    let preferred_branch_id = match &p.preferred_branch {
        None => None,
        Some(l) => {
            let id = location_ids.get(l).copied();
            if id.is_none() {
                problems.push(format!(
                    "unknown location '{l}' as preferred_branch (import it with the rota first)"
                ));
            }
            id
        }
    };
    if problems.len() > before {
        return None;
    }
    Some(PatientValues {
        nhs_number_verified: p.verified,
        family_name: p.name.family.trim().to_owned(),
        given_names: p.name.given.iter().map(|g| g.trim().to_owned()).collect(),
        name_prefix: p.name.prefix.clone(),
        other_names: serde_json::json!(p.other_names),
        birth_date: birth_date?,
        gender: p.gender.clone(),
        addresses: serde_json::json!(p.addresses),
        telecoms: serde_json::json!(p.telecom),
        language: p.language.clone(),
        interpreter_required: p.interpreter_required,
        registration_type: registration_type?.code().to_owned(),
        registration_start: start?,
        registration_end: end,
        active: active?,
        deceased: p.deceased,
        sensitive: p.sensitive,
        preferred_branch_id,
    })
}

fn date(problems: &mut Vec<String>, field: &str, text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| problems.push(format!("{field} '{text}' is not a date (yyyy-mm-dd)")))
        .ok()
}
