//! Bookings made through GP Connect, recorded so booking limits can count them: booking a slot
//! makes it busy, releasing the booking frees it again.
//!
//! A booking is accepted only if the query module would show the slot to the booking
//! organisation at that moment, so limits, windows and restrictions hold for bookings exactly as
//! for searches. Concurrent bookers under the same limit are serialised by locking the limit rows
//! that apply to them (in id order, then the slot), so of two consumers racing for the last slot
//! under a limit exactly one gets it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;
use serde_json::json;

use super::codes::OdsCode;
use super::query::{self, Consumer, HiddenReason};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{BookingId, PracticeId, SlotId};
use crate::db::schema::{bookings, slots};

#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error("no such slot or booking at this practice")]
    NotFound,
    #[error("the slot can't be booked by this organisation: {}", .0.iter().map(|r| r.message()).collect::<Vec<_>>().join(" "))]
    NotBookable(Vec<HiddenReason>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The organisation booking: its ODS code, and its organisation type when known.
#[derive(Debug, Clone, Serialize)]
pub struct Booker {
    pub ods_code: OdsCode,
    pub org_type: Option<String>,
}

pub fn book(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    slot: SlotId,
    booker: &Booker,
    at: DateTime<Utc>,
) -> Result<BookingId, BookingError> {
    Ok(book_all(conn, actor, practice, &[slot], booker, at)?[0])
}

/// Books every slot of `slots` for `booker` in one transaction, or none: the limit rows are
/// locked first, then the slots in id order, so bookers of overlapping sets can't deadlock;
/// each slot must be shown to the booker with the earlier ones already booked (so a booking of
/// two slots takes two places under a limit). The bookings come back in the order of `slots`.
pub fn book_all(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    slots: &[SlotId],
    booker: &Booker,
    at: DateTime<Utc>,
) -> Result<Vec<BookingId>, BookingError> {
    conn.transaction(|conn| {
        diesel::sql_query(
            "SELECT bl.id FROM booking_limits bl
             WHERE bl.practice_id = $1
               AND (bl.org_type = $2 OR bl.ods_code = $3
                    OR bl.group_id IN (SELECT m.group_id FROM org_group_members m WHERE m.ods_code = $3))
             ORDER BY bl.id FOR UPDATE",
        )
        .bind::<BigInt, _>(practice.0)
        .bind::<Nullable<Text>, _>(booker.org_type.as_deref())
        .bind::<Text, _>(booker.ods_code.as_str())
        .execute(conn)?;
        let mut in_id_order = slots.to_vec();
        in_id_order.sort();
        in_id_order.dedup();
        let locked: Vec<SlotId> = slots::table
            .filter(slots::practice_id.eq(practice))
            .filter(slots::id.eq_any(&in_id_order))
            .order(slots::id)
            .select(slots::id)
            .for_update()
            .load(conn)?;
        if locked.len() != slots.len() {
            return Err(BookingError::NotFound);
        }
        let consumer = Consumer { org_type: booker.org_type.clone(), ods_code: Some(booker.ods_code.clone()) };
        let mut ids = Vec::with_capacity(slots.len());
        for &slot in slots {
            let exposure =
                query::explain(conn, practice, slot, &consumer, at, None)?.ok_or(BookingError::NotFound)?;
            if !exposure.visible() {
                return Err(BookingError::NotBookable(exposure.reasons));
            }
            let id: BookingId = diesel::insert_into(bookings::table)
                .values((
                    bookings::practice_id.eq(practice),
                    bookings::slot_id.eq(slot),
                    bookings::booked_by_ods.eq(booker.ods_code.as_str()),
                    bookings::booked_by_org_type.eq(&booker.org_type),
                    bookings::booked_at.eq(at),
                ))
                .returning(bookings::id)
                .get_result(conn)?;
            diesel::update(slots::table.find(slot)).set(slots::status.eq("busy")).execute(conn)?;
            change_log::record(
                conn,
                actor,
                Change::edit(practice, "book", "slot", slot.0)
                    .before(json!({ "status": "free" }))
                    .after(json!({ "status": "busy", "booking": id, "booked_by": booker })),
            )?;
            ids.push(id);
        }
        Ok(ids)
    })
}

/// Releases a booking in force: the slot is free again and counts no more against limits.
pub fn release(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    booking: BookingId,
    at: DateTime<Utc>,
) -> Result<SlotId, BookingError> {
    conn.transaction(|conn| {
        let slot: SlotId = bookings::table
            .filter(bookings::practice_id.eq(practice))
            .filter(bookings::released_at.is_null())
            .find(booking)
            .select(bookings::slot_id)
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(BookingError::NotFound)?;
        diesel::update(bookings::table.find(booking))
            .set(bookings::released_at.eq(at))
            .execute(conn)?;
        diesel::update(slots::table.find(slot))
            .set(slots::status.eq("free"))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change::edit(practice, "release", "slot", slot.0)
                .before(json!({ "status": "busy", "booking": booking }))
                .after(json!({ "status": "free" })),
        )?;
        Ok(slot)
    })
}
