//! Book an appointment: the request's rules, then the slots booked through
//! `availability::booking` and the appointment written, all in one transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::{
    Appointment, AppointmentError, BookingOrganisation, Identifier, by_id, check_text, events,
};
use crate::availability::booking::{self, Booker};
use crate::availability::codes::DeliveryChannel;
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{AppointmentId, LocationId, PatientId, PracticeId, PractitionerId, SlotId};
use crate::db::schema::{appointment_slots, appointments, slots};
use crate::patients::record;

/// A booking as asked for.
#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub patient: PatientId,
    pub slots: Vec<SlotId>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub booking_organisation: BookingOrganisation,
    pub description: String,
    pub comment: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub created: DateTime<Utc>,
    /// The Location participant: must be the slots' schedule's.
    pub location: LocationId,
    /// The Practitioner participant, if sent: must be the slots' schedule's.
    pub practitioner: Option<PractitionerId>,
}

/// Books `new` at `practice` at time `at`: the slots must be adjacent, of one schedule, one
/// delivery channel and one slot type, start in the future, match `start`/`end`, and each be
/// one the query module shows the booking organisation (else `Invalid`; already booked:
/// `SlotTaken`).
pub fn book(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    new: &NewAppointment,
    at: DateTime<Utc>,
) -> Result<Appointment, AppointmentError> {
    check_text(&new.description, new.comment.as_deref())?;
    if new.slots.is_empty() {
        return Err(AppointmentError::invalid("no slot is asked for"));
    }
    conn.transaction(|conn| {
        let patient = record::by_id(conn, practice, new.patient)?
            .filter(|p| p.is_current() && !p.sensitive)
            .ok_or_else(|| AppointmentError::invalid("the patient is not one of this practice"))?;
        let asked = slots_asked(conn, practice, &new.slots)?;
        check_slots(new, &asked, at)?;
        let booker = Booker {
            ods_code: new.booking_organisation.ods_code.clone(),
            org_type: new.booking_organisation.org_type.clone(),
        };
        let ordered: Vec<SlotId> = asked.iter().map(|s| s.0).collect();
        let bookings = booking::book_all(conn, actor, practice, &ordered, &booker, at)?;
        let org = &new.booking_organisation;
        let id: AppointmentId = diesel::insert_into(appointments::table)
            .values((
                appointments::practice_id.eq(practice),
                appointments::patient_id.eq(patient.id),
                appointments::source.eq("gp-connect"),
                appointments::status.eq("booked"),
                appointments::start_at.eq(new.start),
                appointments::end_at.eq(new.end),
                appointments::booking_ods_code.eq(org.ods_code.as_str()),
                appointments::booking_org_type.eq(&org.org_type),
                appointments::booking_org_name.eq(&org.name),
                appointments::booking_org_telecom.eq(json!(org.telecom)),
                appointments::description.eq(&new.description),
                appointments::comment.eq(&new.comment),
                appointments::identifiers.eq(json!(new.identifiers)),
                appointments::created.eq(new.created),
                appointments::recorded_at.eq(at),
            ))
            .returning(appointments::id)
            .get_result(conn)?;
        let links: Vec<_> = ordered
            .iter()
            .zip(&bookings)
            .map(|(slot, booking)| {
                (
                    appointment_slots::appointment_id.eq(id),
                    appointment_slots::slot_id.eq(*slot),
                    appointment_slots::booking_id.eq(Some(*booking)),
                )
            })
            .collect();
        diesel::insert_into(appointment_slots::table)
            .values(links)
            .execute(conn)?;
        let appointment = by_id(conn, practice, id)?.ok_or(AppointmentError::NotFound)?;
        change_log::record(
            conn,
            actor,
            Change::new("book", "appointment")
                .practice(practice)
                .entity(id.0)
                .after(events::summary(&appointment)),
        )?;
        events::record(conn, &appointment, events::Kind::Booked)?;
        Ok(appointment)
    })
}

/// A slot asked for: id, schedule, start, end, slot type, effective delivery channel, and its
/// schedule's location and practitioner.
type AskedSlot = (
    SlotId,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    LocationId,
    Option<PractitionerId>,
);

/// The slots asked for, in start order; a slot not of this practice is refused.
fn slots_asked(
    conn: &mut PgConnection,
    practice: PracticeId,
    ids: &[SlotId],
) -> Result<Vec<AskedSlot>, AppointmentError> {
    use crate::db::schema::schedules;
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(AppointmentError::invalid("a slot is asked for twice"));
    }
    let found: Vec<AskedSlot> = slots::table
        .inner_join(schedules::table)
        .filter(slots::practice_id.eq(practice))
        .filter(slots::id.eq_any(&unique))
        .order(slots::start_at)
        .select((
            slots::id,
            slots::schedule_id,
            slots::start_at,
            slots::end_at,
            slots::slot_type,
            slots::delivery_channel,
            schedules::delivery_channel,
            schedules::location_id,
            schedules::practitioner_id,
        ))
        .load::<(
            SlotId,
            i64,
            DateTime<Utc>,
            DateTime<Utc>,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            Option<i64>,
        )>(conn)?
        .into_iter()
        .map(|r| {
            let channel = r.5.or(r.6);
            (
                r.0,
                r.1,
                r.2,
                r.3,
                r.4,
                channel,
                LocationId(r.7),
                r.8.map(PractitionerId),
            )
        })
        .collect();
    if found.len() != ids.len() {
        return Err(AppointmentError::invalid(
            "a slot asked for is not one of this practice's",
        ));
    }
    Ok(found)
}

fn check_slots(
    new: &NewAppointment,
    asked: &[AskedSlot],
    at: DateTime<Utc>,
) -> Result<(), AppointmentError> {
    let first = &asked[0];
    let last = &asked[asked.len() - 1];
    for pair in asked.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.2 != a.3 {
            return Err(AppointmentError::invalid(
                "the slots are not adjacent: each must start when the one before it ends",
            ));
        }
        if b.1 != a.1 {
            return Err(AppointmentError::invalid(
                "the slots are not all of one schedule",
            ));
        }
        if b.5 != a.5 {
            return Err(AppointmentError::invalid(
                "the slots are not all of one delivery channel",
            ));
        }
        if b.4 != a.4 {
            return Err(AppointmentError::invalid(
                "the slots are not all of one slot type",
            ));
        }
    }
    if first.5.as_deref() == Some(DeliveryChannel::Visit.code()) {
        return Err(AppointmentError::invalid(
            "home visits can't be booked through GP Connect",
        ));
    }
    if first.2 <= at {
        return Err(AppointmentError::invalid(
            "the appointment would start in the past",
        ));
    }
    if new.start != first.2 || new.end != last.3 {
        return Err(AppointmentError::invalid(
            "start and end must be the first slot's start and the last slot's end",
        ));
    }
    if new.location != first.6 {
        return Err(AppointmentError::invalid(
            "the Location participant is not the slots' location",
        ));
    }
    if let Some(p) = new.practitioner
        && Some(p) != first.7
    {
        return Err(AppointmentError::invalid(
            "the Practitioner participant is not the slots' practitioner",
        ));
    }
    Ok(())
}
