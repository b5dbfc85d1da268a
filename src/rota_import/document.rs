//! The rota import's JSON document: locations, practitioners, schedules and slots under the
//! clinical system's own ids.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportDocument {
    /// ODS code of a practice bookable already knows.
    pub practice: String,
    #[serde(default)]
    pub locations: Vec<LocationIn>,
    #[serde(default)]
    pub practitioners: Vec<PractitionerIn>,
    #[serde(default)]
    pub schedules: Vec<ScheduleIn>,
    #[serde(default)]
    pub slots: Vec<SlotIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub address: Vec<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PractitionerIn {
    pub id: String,
    pub family_name: String,
    pub given_name: Option<String>,
    pub prefix: Option<String>,
    pub sds_user_id: Option<String>,
    pub sds_role_profile_id: Option<String>,
    pub gender: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookabilityIn {
    pub gp_connect: bool,
    #[serde(default)]
    pub org_types: Vec<String>,
    #[serde(default)]
    pub ods_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    pub id: String,
    /// The `id` of a location in this document or already imported.
    pub location: String,
    pub practitioner: Option<String>,
    pub schedule_type: Option<String>,
    pub practitioner_role: Option<String>,
    pub delivery_channel: Option<String>,
    pub bookable: Option<BookabilityIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotIn {
    pub id: String,
    pub schedule: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub status: String,
    pub slot_type: Option<String>,
    pub delivery_channel: Option<String>,
    /// Absent: the slot follows its schedule (or keeps its override, on re-import).
    pub bookable: Option<BookabilityIn>,
}
