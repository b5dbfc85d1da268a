//! Patients: the practice's patient list (fed by its clinical system through the patient
//! import, and by GP Connect temporary registrations), the NHS number, and verification of a
//! patient's NHS number against PDS.

pub mod find;
pub mod import;
pub mod nhs_number;
pub mod record;
pub mod registration;
pub mod temporary;
pub mod verification;
pub mod write;
