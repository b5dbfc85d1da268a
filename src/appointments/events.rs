//! The appointment event feed for the practice's clinical system: one row per booking,
//! amendment or cancellation through GP Connect, written in the transaction of the change.
//! Writers of one practice serialise on a transaction-scoped advisory lock taken just before
//! their row, so rows become visible in `seq` order and a reader paging with `after=` never
//! misses one.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};

use super::Appointment;
use crate::db::ids::PracticeId;
use crate::db::schema::appointment_events;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Booked,
    Amended,
    Cancelled,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Self::Booked => "booked",
            Self::Amended => "amended",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What the change log and the feed say of an appointment: no patient name, the NHS number
/// and the slots' import ids for the clinical system.
pub fn summary(a: &Appointment) -> Value {
    json!({
        "appointment_id": a.id,
        "version": a.version,
        "status": a.status.code(),
        "start": a.start,
        "end": a.end,
        "patient_nhs_number": a.patient_nhs_number,
        "slot_ids": a.slots.iter().map(|s| &s.external_id).collect::<Vec<_>>(),
        "booking_organisation": a.booking_organisation,
        "description": a.description,
        "comment": a.comment,
        "cancellation_reason": a.cancellation_reason,
    })
}

/// Writes the event of `kind` for `a` as it now stands (inside the change's transaction).
pub fn record(conn: &mut PgConnection, a: &Appointment, kind: Kind) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(7140, $1::int4)")
        .bind::<diesel::sql_types::Integer, _>(a.practice.0 as i32)
        .execute(conn)?;
    diesel::insert_into(appointment_events::table)
        .values((
            appointment_events::practice_id.eq(a.practice),
            appointment_events::appointment_id.eq(a.id),
            appointment_events::kind.eq(kind.code()),
            appointment_events::payload.eq(summary(a)),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Queryable)]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub appointment: Value,
}

/// The events of `practice` after `seq`, oldest first, at most `limit`.
pub fn after(
    conn: &mut PgConnection,
    practice: PracticeId,
    seq: i64,
    limit: i64,
) -> QueryResult<Vec<Event>> {
    appointment_events::table
        .filter(appointment_events::practice_id.eq(practice))
        .filter(appointment_events::seq.gt(seq))
        .order(appointment_events::seq)
        .limit(limit)
        .select((
            appointment_events::seq,
            appointment_events::kind,
            appointment_events::at,
            appointment_events::payload,
        ))
        .load(conn)
}
