//! Finding a patient by NHS number for GP Connect: only an active patient whose NHS number is
//! verified and whose record is not sensitive is returned. An active record whose number was
//! never verified is checked on PDS first (GP Connect 1.2.7, #921): verified, it is marked so
//! and returned; otherwise it is left as it was and not returned.

use diesel::QueryResult;

use super::nhs_number::NhsNumber;
use super::record::{self, Patient, Standing};
use super::verification::{Demographics, verify};
use super::write;
use crate::change_log::Actor;
use crate::db::ids::PracticeId;
use crate::db::{self, DbError, DbPool};
use crate::pds::client::PdsClient;

#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(transparent)]
    Unavailable(#[from] DbError),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// The practice's patient with this NHS number, if GP Connect may return it.
pub async fn find(
    pool: &DbPool,
    pds: Option<&PdsClient>,
    practice: PracticeId,
    nhs_number: NhsNumber,
) -> Result<Option<Patient>, FindError> {
    let number = nhs_number.to_string();
    let found: Option<Patient> = db::run(pool, move |conn| -> Result<_, FindError> {
        Ok(record::by_nhs_number(conn, practice, &number)?)
    })
    .await?;
    let Some(patient) = found else {
        return Ok(None);
    };
    match patient.standing() {
        Standing::Findable => Ok(Some(patient)),
        Standing::Hidden => Ok(None),
        Standing::NeverTraced => verify_on_pds(pool, pds, patient, nhs_number).await,
    }
}

async fn verify_on_pds(
    pool: &DbPool,
    pds: Option<&PdsClient>,
    patient: Patient,
    nhs_number: NhsNumber,
) -> Result<Option<Patient>, FindError> {
    let Some(pds) = pds else {
        tracing::warn!(
            patient = %patient.id,
            "Find a patient: the NHS number was never verified and no PDS is configured to verify it, so the patient is not returned"
        );
        return Ok(None);
    };
    let lookup = match pds.retrieve(&nhs_number).await {
        Ok(lookup) => lookup,
        Err(e) => {
            tracing::warn!(patient = %patient.id, error = %e, "Find a patient: PDS could not verify the NHS number, so the patient is not returned");
            return Ok(None);
        }
    };
    let local = Demographics {
        family_name: &patient.family_name,
        given_name: patient.given_names.first().map(String::as_str),
        birth_date: patient.birth_date,
    };
    if let Err(reason) = verify(&local, lookup) {
        tracing::info!(patient = %patient.id, %reason, "Find a patient: not verified on PDS, so not returned");
        return Ok(None);
    }
    let id = patient.id;
    let verified = db::run(pool, move |conn| -> Result<_, FindError> {
        let marked: QueryResult<Patient> = write::mark_verified_on_pds(
            conn,
            &Actor::system("GP Connect Find a patient (PDS)"),
            id,
        );
        Ok(marked?)
    })
    .await?;
    Ok(Some(verified))
}
