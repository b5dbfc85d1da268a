//! The Personal Demographics Service (PDS): bookable's client of the PDS FHIR API (R4,
//! `GET Patient/{nhs-number}`), and a local stand-in serving the same JSON from a file of test
//! patients, for the demo and the tests.
//!
//! What bookable needs from PDS is a *retrieval*: is this NHS number on PDS, current (not
//! invalidated, not superseded by another), with which name and birth date, deceased or not,
//! and is the record sensitive (S-flag, `meta.security` `R` restricted or `V` very restricted).

pub mod client;
pub mod r4;
pub mod settings;
pub mod standin;

use chrono::NaiveDate;

use crate::patients::record::{Address, Telecom};

/// The PDS record of a patient, as much of it as bookable uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdsPatient {
    /// The record's NHS number (its FHIR id).
    pub nhs_number: String,
    pub family_name: Option<String>,
    pub given_names: Vec<String>,
    pub prefix: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub gender: Option<String>,
    pub deceased: bool,
    /// `meta.security` restricted or very restricted: the S-flag.
    pub sensitive: bool,
    pub addresses: Vec<Address>,
    pub telecoms: Vec<Telecom>,
}

/// PDS's answer to `GET Patient/{nhs-number}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdsLookup {
    /// The record of that NHS number.
    Found(PdsPatient),
    /// The number was superseded: PDS answered with the record of `by` (another NHS number).
    Superseded { by: String },
    /// 404 `RESOURCE_NOT_FOUND`: no such patient on PDS.
    NotFound,
    /// 404 `INVALIDATED_RESOURCE`: the record was marked invalid.
    Invalidated,
    /// 400 `INVALID_RESOURCE_ID`: PDS refuses the number itself.
    InvalidNhsNumber,
}

#[derive(Debug, thiserror::Error)]
pub enum PdsError {
    #[error("no PDS is configured (set BOOKABLE_PDS_URL)")]
    NotConfigured,
    #[error("PDS could not be reached: {0}")]
    Unreachable(String),
    #[error("PDS answered {status}: {detail}")]
    Unexpected { status: u16, detail: String },
}
