//! The practice's list of temporary registrations made through GP Connect, newest first: who
//! was registered, when, by which organisation, for the practice to follow up.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::db::ids::{PatientId, PracticeId};
use crate::db::schema::{patient_registrations, patients};

#[derive(Debug, Clone, Queryable)]
pub struct TemporaryRegistration {
    pub registered_at: DateTime<Utc>,
    /// `created` or `reactivated`.
    pub kind: String,
    pub org_ods_code: String,
    pub org_name: Option<String>,
    pub patient: PatientId,
    pub nhs_number: String,
    pub family_name: String,
    pub given_names: Vec<String>,
    pub birth_date: NaiveDate,
    /// Whether the patient's record is still active here.
    pub active: bool,
}

/// The practice's registrations, newest first, at most `limit`.
pub fn list(
    conn: &mut PgConnection,
    practice: PracticeId,
    limit: i64,
) -> QueryResult<Vec<TemporaryRegistration>> {
    patient_registrations::table
        .inner_join(patients::table)
        .filter(patient_registrations::practice_id.eq(practice))
        .order(patient_registrations::registered_at.desc())
        .limit(limit)
        .select((
            patient_registrations::registered_at,
            patient_registrations::kind,
            patient_registrations::org_ods_code,
            patient_registrations::org_name,
            patients::id,
            patients::nhs_number,
            patients::family_name,
            patients::given_names,
            patients::birth_date,
            patients::active,
        ))
        .load(conn)
}
