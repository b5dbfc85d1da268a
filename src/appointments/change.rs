//! Amend (description and comment) and Cancel, each against the version the consumer read:
//! the appointment row is locked, so of two changes made against one version exactly one wins.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{Appointment, AppointmentError, Status, by_id, check_text, events};
use crate::availability::booking;
use crate::availability::codes::DeliveryChannel;
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{AppointmentId, BookingId, PracticeId, SlotId};
use crate::db::schema::{appointment_slots, appointments, slots};

/// Refuses a change made against another version than `current` (a stale `If-Match`).
pub fn ensure_current(expected_version: &str, current: i32) -> Result<(), AppointmentError> {
    if expected_version != current.to_string() {
        return Err(AppointmentError::Stale {
            expected: expected_version.to_owned(),
            current,
        });
    }
    Ok(())
}

/// The appointment locked for a change, once the version and its state allow one.
fn lock_for_change(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: AppointmentId,
    expected_version: &str,
    at: DateTime<Utc>,
) -> Result<Appointment, AppointmentError> {
    let current: i32 = appointments::table
        .filter(appointments::practice_id.eq(practice))
        .find(id)
        .select(appointments::version)
        .for_update()
        .first(conn)
        .optional()?
        .ok_or(AppointmentError::NotFound)?;
    ensure_current(expected_version, current)?;
    let appointment = by_id(conn, practice, id)?.ok_or(AppointmentError::NotFound)?;
    if appointment.status == Status::Cancelled {
        return Err(AppointmentError::invalid(
            "the appointment is cancelled: it can't be changed",
        ));
    }
    if appointment.first_slot().delivery_channel.as_deref() == Some(DeliveryChannel::Visit.code()) {
        return Err(AppointmentError::invalid(
            "the appointment is a home visit: home visits can't be changed through GP Connect",
        ));
    }
    if appointment.start <= at {
        return Err(AppointmentError::invalid(
            "the appointment has started or is in the past: it can't be changed",
        ));
    }
    Ok(appointment)
}

/// What an Amend may change.
#[derive(Debug, Clone)]
pub struct Amendment {
    pub description: String,
    pub comment: Option<String>,
}

/// Sets the description and comment of a future booked appointment whose current version is
/// `expected_version`.
pub fn amend(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: AppointmentId,
    expected_version: &str,
    amendment: &Amendment,
    at: DateTime<Utc>,
) -> Result<Appointment, AppointmentError> {
    let (description, comment) = (&amendment.description, amendment.comment.as_deref());
    check_text(description, comment)?;
    conn.transaction(|conn| {
        let before = lock_for_change(conn, practice, id, expected_version, at)?;
        diesel::update(appointments::table.find(id))
            .set((
                appointments::description.eq(description),
                appointments::comment.eq(comment),
                appointments::version.eq(appointments::version + 1),
            ))
            .execute(conn)?;
        finish(conn, actor, &before, "amend", events::Kind::Amended)
    })
}

/// Cancels a future booked appointment whose current version is `expected_version`: its
/// slots are free again and give their places back under the booking limits.
pub fn cancel(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: AppointmentId,
    expected_version: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<Appointment, AppointmentError> {
    if reason.trim().is_empty() {
        return Err(AppointmentError::invalid(
            "the cancellation reason is empty",
        ));
    }
    conn.transaction(|conn| {
        let before = lock_for_change(conn, practice, id, expected_version, at)?;
        let held: Vec<(SlotId, Option<BookingId>)> = appointment_slots::table
            .filter(appointment_slots::appointment_id.eq(id))
            .select((appointment_slots::slot_id, appointment_slots::booking_id))
            .load(conn)?;
        for (slot, booking) in held {
            match booking {
                Some(booking) => {
                    booking::release(conn, actor, practice, booking, at)?;
                }
                // The clinical system's own appointment: its slots were busy for it alone.
                None => {
                    diesel::update(slots::table.find(slot))
                        .set(slots::status.eq("free"))
                        .execute(conn)?;
                }
            }
        }
        diesel::update(appointments::table.find(id))
            .set((
                appointments::status.eq("cancelled"),
                appointments::cancellation_reason.eq(reason),
                appointments::cancelled_at.eq(at),
                appointments::version.eq(appointments::version + 1),
            ))
            .execute(conn)?;
        finish(conn, actor, &before, "cancel", events::Kind::Cancelled)
    })
}

/// The change log row and the event of a change, with the appointment as it now stands.
fn finish(
    conn: &mut PgConnection,
    actor: &Actor,
    before: &Appointment,
    action: &str,
    kind: events::Kind,
) -> Result<Appointment, AppointmentError> {
    let after = by_id(conn, before.practice, before.id)?.ok_or(AppointmentError::NotFound)?;
    change_log::record(
        conn,
        actor,
        Change::new(action, "appointment")
            .practice(before.practice)
            .entity(before.id.0)
            .before(events::summary(before))
            .after(events::summary(&after)),
    )?;
    events::record(conn, &after, kind)?;
    Ok(after)
}
