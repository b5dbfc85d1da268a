//! What practice managers read and change: schedules' and slots' GP Connect bookability.
//!
//! Every change is checked by [`rules::check_can_be_bookable`] (the DB trigger refusing Visit is
//! the backstop), refused when the record's version moved since the form was opened (optimistic
//! locking), and audited in its own transaction: one audit row per schedule or slot changed,
//! none when a save changes nothing. Whether a consumer sees a slot is never decided here: the
//! overview counts and the week view take it from [`query::explain_between`].
//!
//! One file a job: [`schedule`] (a schedule's settings), [`slot`] (one slot's), [`bulk`] (many
//! slots at once), [`overview`] (the schedules list's counts), [`history`] (reading the change
//! log back for the Audit log page) and [`undo`] (restoring what a save replaced).

use diesel::result::{DatabaseErrorKind, Error as DbError};

use super::rules::Refusal;

mod bulk;
mod history;
mod overview;
mod schedule;
mod slot;
mod undo;

pub use bulk::{
    BulkOptions, BulkOutcome, RefusedSlot, SlotSelection, bulk_update_slots, bulk_update_slots_with,
};
pub use history::{AuditEntry, AuditFilter, audit_entries};
pub use overview::{
    OWN_SETTING_DAYS, ScheduleOverview, depends_on_consumer, exposed_to_someone, own_settings,
    schedule_overview,
};
pub use schedule::{ScheduleRecord, ScheduleSettings, schedule, schedule_names, update_schedule};
pub use slot::{SlotBookability, SlotRecord, slot, slot_types, slots_between, update_slot};
pub use undo::{ScheduleState, SlotUndo, Undo, undo};

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("not found")]
    NotFound,
    #[error(
        "someone else saved a change to this since you opened it, so yours was not saved: \
         reload the page to see the current settings, then make your change again"
    )]
    Stale,
    #[error("it can't be made GP Connect bookable: {0}")]
    Refused(Refusal),
    #[error(
        "{count} of the selected slots can't be made GP Connect bookable, so none was changed: \
         {reason}. Leave them out of the choice (by schedule, slot type or time), or apply the \
         change to the others and skip these"
    )]
    RefusedSlots {
        reason: Refusal,
        count: usize,
        slots: Vec<bulk::RefusedSlot>,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(DbError),
}

impl From<DbError> for EditError {
    fn from(e: DbError) -> Self {
        // The Visit trigger is the backstop for any path the domain check missed.
        if let DbError::DatabaseError(DatabaseErrorKind::CheckViolation, info) = &e
            && info.constraint_name() == Some("visit_never_bookable")
        {
            return EditError::Refused(Refusal::Visit);
        }
        EditError::Database(e)
    }
}
