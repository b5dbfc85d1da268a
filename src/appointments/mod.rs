//! Appointments: one or more adjacent slots booked for a patient by an organisation, through
//! GP Connect ([`book`]) or by the practice's clinical system. Booking, amending and cancelling
//! each run as one transaction with their change-log row and their [`events`] row, and a GP
//! Connect booking holds its slots through `availability::booking`, so the query module decides
//! whether they may be booked and booking limits count them.

pub mod book;
pub mod change;
pub mod events;
pub mod inbound;
pub mod listing;
mod load;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::availability::booking::BookingError;
use crate::availability::codes::OdsCode;
use crate::availability::query::HiddenReason;
use crate::db::ids::{
    AppointmentId, LocationId, PatientId, PracticeId, PractitionerId, ScheduleId, SlotId,
};

pub use load::{by_id, for_patient};

/// The longest description and comment bookable stores (characters). Neither may carry
/// clinical information; both are stored and returned exactly as sent.
pub const DESCRIPTION_MAX: usize = 1000;
pub const COMMENT_MAX: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Booked,
    Cancelled,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A telecom of the booking organisation, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Telecom {
    pub system: String,
    pub value: String,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

/// A business identifier of the appointment, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub system: String,
    pub value: String,
}

/// The organisation that booked: its ODS code, the organisation type it searched as (if any),
/// its name and telecoms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingOrganisation {
    pub ods_code: OdsCode,
    pub org_type: Option<String>,
    pub name: String,
    pub telecom: Vec<Telecom>,
}

/// A slot of an appointment, with what the Appointment resource shows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppointmentSlot {
    pub id: SlotId,
    /// The clinical system's id of the slot (from the rota import).
    pub external_id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub slot_type: Option<String>,
    pub delivery_channel: Option<String>,
    pub schedule_id: ScheduleId,
    pub schedule_type: Option<String>,
    pub practitioner_role: Option<String>,
    pub location_id: LocationId,
    pub practitioner_id: Option<PractitionerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appointment {
    pub id: AppointmentId,
    pub practice: PracticeId,
    pub patient: PatientId,
    pub patient_nhs_number: String,
    /// Booked through GP Connect (else by the practice's clinical system).
    pub gp_connect: bool,
    pub status: Status,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub booking_organisation: BookingOrganisation,
    pub description: String,
    pub comment: Option<String>,
    pub cancellation_reason: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub created: DateTime<Utc>,
    pub version: i32,
    /// In start order; never empty.
    pub slots: Vec<AppointmentSlot>,
}

impl Appointment {
    /// The first slot, whose schedule gives the appointment's location, practitioner and role.
    pub fn first_slot(&self) -> &AppointmentSlot {
        &self.slots[0]
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppointmentError {
    #[error("no such appointment at this practice")]
    NotFound,
    /// The request breaks a rule: the message says which, for the consumer's integrator.
    #[error("{0}")]
    Invalid(String),
    /// A slot asked for is already booked.
    #[error("{0}")]
    SlotTaken(String),
    /// The version the change was made against is no longer the current one.
    #[error("the appointment has changed since version {expected}: it is now version {current}")]
    Stale { expected: String, current: i32 },
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl AppointmentError {
    fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

impl From<BookingError> for AppointmentError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::NotFound => Self::invalid("a slot asked for is not one of this practice"),
            BookingError::NotBookable(reasons) if reasons.contains(&HiddenReason::Busy) => {
                Self::SlotTaken("a slot asked for is already booked".into())
            }
            BookingError::NotBookable(reasons) => Self::Invalid(format!(
                "a slot asked for can't be booked by this organisation: {}",
                reasons
                    .iter()
                    .map(|r| r.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            BookingError::Database(e) => Self::Database(e),
        }
    }
}

/// Checks the free text of a booking or amendment against the storable lengths.
fn check_text(description: &str, comment: Option<&str>) -> Result<(), AppointmentError> {
    if description.trim().is_empty() {
        return Err(AppointmentError::invalid("the description is empty"));
    }
    if description.chars().count() > DESCRIPTION_MAX {
        return Err(AppointmentError::Invalid(format!(
            "the description is longer than the {DESCRIPTION_MAX} characters bookable stores"
        )));
    }
    if comment.is_some_and(|c| c.chars().count() > COMMENT_MAX) {
        return Err(AppointmentError::Invalid(format!(
            "the comment is longer than the {COMMENT_MAX} characters bookable stores"
        )));
    }
    Ok(())
}
