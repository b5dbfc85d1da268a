//! A patient record as bookable holds it, and the questions GP Connect asks of it.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::db::ids::{LocationId, PatientId, PracticeId};
use crate::db::schema::patients;

/// A name other than the official one (`use`: usual, nickname, maiden, old, temp, anonymous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherName {
    #[serde(rename = "use")]
    pub use_: String,
    pub family: Option<String>,
    #[serde(default)]
    pub given: Vec<String>,
}

/// A postal address (`use`: home, work, temp, old).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[serde(rename = "use")]
    pub use_: String,
    #[serde(default)]
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub postcode: Option<String>,
}

/// A phone number or email address (`use`: home, work, mobile, temp, old).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Telecom {
    pub system: String,
    pub value: String,
    #[serde(rename = "use")]
    pub use_: Option<String>,
}

/// How the patient is registered at the practice (CareConnect-RegistrationType-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RegistrationType {
    /// `R`: a regular (GMS) registration.
    Regular,
    /// `T`: a temporary registration (GP Connect Register a patient makes only these).
    Temporary,
}

impl RegistrationType {
    pub fn code(self) -> &'static str {
        match self {
            RegistrationType::Regular => "R",
            RegistrationType::Temporary => "T",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            RegistrationType::Regular => "Regular",
            RegistrationType::Temporary => "Temporary",
        }
    }

    pub fn from_code(code: &str) -> Option<RegistrationType> {
        match code {
            "R" => Some(RegistrationType::Regular),
            "T" => Some(RegistrationType::Temporary),
            _ => None,
        }
    }

    /// The import's words: `regular` or `temporary`.
    pub fn parse(word: &str) -> Option<RegistrationType> {
        match word {
            "regular" => Some(RegistrationType::Regular),
            "temporary" => Some(RegistrationType::Temporary),
            _ => None,
        }
    }
}

pub const GENDERS: [&str; 4] = ["male", "female", "other", "unknown"];

/// What a patient record says, without its identity and bookkeeping: what the import and a
/// registration write, and what is compared to tell whether anything changed.
#[derive(Debug, Clone, PartialEq, Serialize, Insertable, AsChangeset)]
#[diesel(table_name = patients, treat_none_as_null = true)]
pub struct PatientValues {
    pub nhs_number_verified: bool,
    pub family_name: String,
    pub given_names: Vec<String>,
    pub name_prefix: Option<String>,
    pub other_names: Value,
    pub birth_date: NaiveDate,
    pub gender: Option<String>,
    pub addresses: Value,
    pub telecoms: Value,
    pub language: Option<String>,
    pub interpreter_required: Option<bool>,
    pub registration_type: String,
    pub registration_start: NaiveDate,
    pub registration_end: Option<NaiveDate>,
    pub active: bool,
    pub deceased: bool,
    pub sensitive: bool,
    pub preferred_branch_id: Option<LocationId>,
}

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = patients)]
pub struct Patient {
    pub id: PatientId,
    pub practice_id: PracticeId,
    pub nhs_number: String,
    pub nhs_number_verified: bool,
    pub pds_verified_at: Option<DateTime<Utc>>,
    pub family_name: String,
    pub given_names: Vec<String>,
    pub name_prefix: Option<String>,
    pub other_names: Value,
    pub birth_date: NaiveDate,
    pub gender: Option<String>,
    pub addresses: Value,
    pub telecoms: Value,
    pub language: Option<String>,
    pub interpreter_required: Option<bool>,
    pub registration_type: String,
    pub registration_start: NaiveDate,
    pub registration_end: Option<NaiveDate>,
    pub active: bool,
    pub deceased: bool,
    pub sensitive: bool,
    pub preferred_branch_id: Option<LocationId>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where a record stands for GP Connect's Find a patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Active, NHS number verified, not sensitive: Find returns it.
    Findable,
    /// Active but the NHS number was never verified: Find must verify it on PDS first (#921).
    NeverTraced,
    /// Left, deceased or PDS sensitive: never returned by Find.
    Hidden,
}

impl Patient {
    pub fn values(&self) -> PatientValues {
        PatientValues {
            nhs_number_verified: self.nhs_number_verified,
            family_name: self.family_name.clone(),
            given_names: self.given_names.clone(),
            name_prefix: self.name_prefix.clone(),
            other_names: self.other_names.clone(),
            birth_date: self.birth_date,
            gender: self.gender.clone(),
            addresses: self.addresses.clone(),
            telecoms: self.telecoms.clone(),
            language: self.language.clone(),
            interpreter_required: self.interpreter_required,
            registration_type: self.registration_type.clone(),
            registration_start: self.registration_start,
            registration_end: self.registration_end,
            active: self.active,
            deceased: self.deceased,
            sensitive: self.sensitive,
            preferred_branch_id: self.preferred_branch_id,
        }
    }

    pub fn other_names(&self) -> Vec<OtherName> {
        serde_json::from_value(self.other_names.clone()).unwrap_or_default()
    }

    pub fn addresses(&self) -> Vec<Address> {
        serde_json::from_value(self.addresses.clone()).unwrap_or_default()
    }

    pub fn telecoms(&self) -> Vec<Telecom> {
        serde_json::from_value(self.telecoms.clone()).unwrap_or_default()
    }

    pub fn registration_type(&self) -> RegistrationType {
        RegistrationType::from_code(&self.registration_type).unwrap_or(RegistrationType::Regular)
    }

    /// GP Connect's "active patient" (a status, not a registration type: temporary patients
    /// are active too), before the NHS number question.
    pub fn is_current(&self) -> bool {
        self.active && !self.deceased
    }

    pub fn standing(&self) -> Standing {
        if !self.is_current() || self.sensitive {
            Standing::Hidden
        } else if self.nhs_number_verified {
            Standing::Findable
        } else {
            Standing::NeverTraced
        }
    }
}

pub fn by_nhs_number(
    conn: &mut PgConnection,
    practice: PracticeId,
    nhs_number: &str,
) -> QueryResult<Option<Patient>> {
    patients::table
        .filter(patients::practice_id.eq(practice))
        .filter(patients::nhs_number.eq(nhs_number))
        .select(Patient::as_select())
        .first(conn)
        .optional()
}

/// The practice's own record with this logical id (another practice's is "not found").
pub fn by_id(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: PatientId,
) -> QueryResult<Option<Patient>> {
    patients::table
        .filter(patients::practice_id.eq(practice))
        .filter(patients::id.eq(id))
        .select(Patient::as_select())
        .first(conn)
        .optional()
}
