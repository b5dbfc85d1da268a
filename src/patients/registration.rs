//! GP Connect Register a patient: a temporary registration at the practice, after PDS has
//! verified the patient (GP Connect 1.2.7, Register a patient).
//!
//! PDS first: the number on PDS, current, the demographics matching, not deceased, not
//! sensitive. Then the practice's record of that NHS number, locked for the decision:
//! - none: a temporary record is created from the consumer's data, with PDS's for what the
//!   consumer left out;
//! - active (any registration type): refused as a duplicate (a never-verified one is marked
//!   verified first, so Find returns it next time);
//! - left the practice: re-activated as a temporary registration, demographics updated;
//! - deceased or sensitive: refused.
//!
//! Never a regular (GMS) registration; nothing is sent to PDS. Two registrations of one number
//! at once can't both create a record (one row per NHS number per practice): the second is a
//! duplicate. Each registration is listed for the practice (`patient_registrations`) and logged.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;

use super::nhs_number::NhsNumber;
use super::record::{Address, Patient, PatientValues, RegistrationType, Telecom};
use super::verification::{Demographics, NotVerified, verify};
use super::write;
use crate::change_log::Actor;
use crate::db::ids::PracticeId;
use crate::db::schema::{patient_registrations, patients};
use crate::db::{self, DbError, DbPool};
use crate::pds::client::PdsClient;
use crate::pds::{PdsError, PdsPatient};

/// What the consumer sent (already checked for shape by the FHIR layer).
#[derive(Debug, Clone)]
pub struct RegistrationRequest {
    pub nhs_number: NhsNumber,
    pub family_name: String,
    pub given_names: Vec<String>,
    pub prefix: Option<String>,
    pub birth_date: NaiveDate,
    pub gender: Option<String>,
    pub addresses: Vec<Address>,
    pub telecoms: Vec<Telecom>,
    pub language: Option<String>,
    pub interpreter_required: Option<bool>,
}

/// Who registers: the consumer organisation, from the request's JWT and SSP headers.
#[derive(Debug, Clone)]
pub struct Registrar {
    pub ods_code: String,
    pub org_name: Option<String>,
    pub ssp_from: Option<String>,
    pub ssp_trace_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("Register a patient needs PDS, and no PDS is configured")]
    NoPds,
    #[error(transparent)]
    Pds(#[from] PdsError),
    #[error("{0}")]
    NotVerified(#[from] NotVerified),
    #[error("the official family name differs from PDS's")]
    FamilyNameDiffers,
    #[error("the patient is already registered and active at this practice")]
    AlreadyActive,
    #[error("the practice's record shows the patient as deceased")]
    Deceased,
    #[error("the practice's record is sensitive")]
    Sensitive,
    #[error(transparent)]
    Unavailable(#[from] DbError),
    #[error("database error: {0}")]
    Database(DieselError),
}

impl From<DieselError> for RegisterError {
    fn from(e: DieselError) -> Self {
        match e {
            // The other registration of the same number, at the same moment, made the record.
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                RegisterError::AlreadyActive
            }
            e => RegisterError::Database(e),
        }
    }
}

pub async fn register(
    pool: &DbPool,
    pds: Option<&PdsClient>,
    practice: PracticeId,
    request: RegistrationRequest,
    registrar: Registrar,
) -> Result<Patient, RegisterError> {
    let pds = pds.ok_or(RegisterError::NoPds)?;
    let lookup = pds.retrieve(&request.nhs_number).await?;
    let local = Demographics {
        family_name: &request.family_name,
        given_name: request.given_names.first().map(String::as_str),
        birth_date: request.birth_date,
    };
    let on_pds = verify(&local, lookup)?;
    if on_pds
        .family_name
        .as_deref()
        .is_some_and(|f| !f.trim().eq_ignore_ascii_case(request.family_name.trim()))
    {
        return Err(RegisterError::FamilyNameDiffers);
    }
    let registered = db::run(pool, move |conn| {
        conn.transaction(|conn| record_registration(conn, practice, &request, &on_pds, &registrar))
    })
    .await?;
    match registered {
        Registered::Done(patient) => Ok(*patient),
        Registered::DuplicateNowVerified => Err(RegisterError::AlreadyActive),
    }
}

/// What the transaction did (it commits in both cases).
enum Registered {
    Done(Box<Patient>),
    /// An active record never verified: now verified, and the registration a duplicate.
    DuplicateNowVerified,
}

fn record_registration(
    conn: &mut PgConnection,
    practice: PracticeId,
    request: &RegistrationRequest,
    on_pds: &PdsPatient,
    registrar: &Registrar,
) -> Result<Registered, RegisterError> {
    let actor = Actor::system(&format!(
        "GP Connect registration by {}",
        registrar.ods_code
    ));
    let number = request.nhs_number.to_string();
    let existing: Option<Patient> = patients::table
        .filter(patients::practice_id.eq(practice))
        .filter(patients::nhs_number.eq(&number))
        .for_update()
        .select(Patient::as_select())
        .first(conn)
        .optional()?;
    let today = Utc::now().date_naive();
    let (patient, kind) = match existing {
        Some(p) if p.deceased => return Err(RegisterError::Deceased),
        Some(p) if p.sensitive => return Err(RegisterError::Sensitive),
        Some(p) if p.active => {
            if !p.nhs_number_verified {
                // Committed although the registration is refused: Find returns it from now on.
                write::mark_verified_on_pds(conn, &actor, p.id)?;
                return Ok(Registered::DuplicateNowVerified);
            }
            return Err(RegisterError::AlreadyActive);
        }
        Some(p) => {
            let values = temporary_values(request, on_pds, Some(&p), today);
            let after = write::update(conn, p.id, &values)?;
            write::record_change(conn, &actor, "register (GP Connect)", Some(&p), &after)?;
            (after, "reactivated")
        }
        None => {
            let values = temporary_values(request, on_pds, None, today);
            let after = write::insert(conn, practice, &number, &values)?;
            write::record_change(conn, &actor, "register (GP Connect)", None, &after)?;
            (after, "created")
        }
    };
    let patient = mark_pds_verified(conn, patient)?;
    diesel::insert_into(patient_registrations::table)
        .values((
            patient_registrations::practice_id.eq(practice),
            patient_registrations::patient_id.eq(patient.id),
            patient_registrations::kind.eq(kind),
            patient_registrations::org_ods_code.eq(&registrar.ods_code),
            patient_registrations::org_name.eq(&registrar.org_name),
            patient_registrations::ssp_from.eq(&registrar.ssp_from),
            patient_registrations::ssp_trace_id.eq(&registrar.ssp_trace_id),
        ))
        .execute(conn)?;
    Ok(Registered::Done(Box::new(patient)))
}

/// The registration verified the number on PDS: say when (the version moved with the write).
fn mark_pds_verified(conn: &mut PgConnection, p: Patient) -> QueryResult<Patient> {
    diesel::update(patients::table.find(p.id))
        .set(patients::pds_verified_at.eq(diesel::dsl::now))
        .returning(Patient::as_returning())
        .get_result(conn)
}

/// A temporary registration from today: the consumer's demographics, PDS's where the consumer
/// sent none; a re-activated record keeps its preferred branch and other names.
fn temporary_values(
    r: &RegistrationRequest,
    pds: &PdsPatient,
    before: Option<&Patient>,
    today: NaiveDate,
) -> PatientValues {
    let addresses = if r.addresses.is_empty() {
        pds.addresses.clone()
    } else {
        r.addresses.clone()
    };
    let telecoms = if r.telecoms.is_empty() {
        pds.telecoms.clone()
    } else {
        r.telecoms.clone()
    };
    PatientValues {
        nhs_number_verified: true,
        family_name: r.family_name.trim().to_owned(),
        given_names: r.given_names.clone(),
        name_prefix: r.prefix.clone().or_else(|| pds.prefix.clone()),
        other_names: before.map_or_else(|| json!([]), |b| b.other_names.clone()),
        birth_date: r.birth_date,
        gender: r.gender.clone().or_else(|| pds.gender.clone()),
        addresses: json!(addresses),
        telecoms: json!(telecoms),
        language: r
            .language
            .clone()
            .or_else(|| before.and_then(|b| b.language.clone())),
        interpreter_required: r
            .interpreter_required
            .or_else(|| before.and_then(|b| b.interpreter_required)),
        registration_type: RegistrationType::Temporary.code().to_owned(),
        registration_start: today,
        registration_end: None,
        active: true,
        deceased: false,
        sensitive: false,
        preferred_branch_id: before.and_then(|b| b.preferred_branch_id),
    }
}
