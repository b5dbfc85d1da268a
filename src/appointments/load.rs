//! Loading appointments with their slots and what their schedules say of them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use serde_json::Value;

use super::{Appointment, AppointmentSlot, BookingOrganisation, Status};
use crate::availability::codes::OdsCode;
use crate::db::ids::{
    AppointmentId, LocationId, PatientId, PracticeId, PractitionerId, ScheduleId, SlotId,
};
use crate::db::schema::{appointments, patients};

type Row = (
    AppointmentId,
    PracticeId,
    PatientId,
    String,
    String,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    Value,
    String,
    Option<String>,
    Option<String>,
    Value,
    DateTime<Utc>,
    i32,
);

#[derive(QueryableByName)]
struct SlotRow {
    #[diesel(sql_type = BigInt)]
    appointment_id: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    external_id: String,
    #[diesel(sql_type = Timestamptz)]
    start_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    end_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    slot_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    delivery_channel: Option<String>,
    #[diesel(sql_type = BigInt)]
    schedule_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    schedule_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    practitioner_role: Option<String>,
    #[diesel(sql_type = BigInt)]
    location_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    practitioner_id: Option<i64>,
}

fn load(
    conn: &mut PgConnection,
    query: appointments::BoxedQuery<'_, diesel::pg::Pg>,
) -> QueryResult<Vec<Appointment>> {
    let rows: Vec<Row> = query
        .inner_join(patients::table)
        .order((appointments::start_at, appointments::id))
        .select((
            appointments::id,
            appointments::practice_id,
            appointments::patient_id,
            patients::nhs_number,
            appointments::source,
            appointments::status,
            appointments::start_at,
            appointments::end_at,
            appointments::booking_ods_code,
            appointments::booking_org_type,
            appointments::booking_org_name,
            appointments::booking_org_telecom,
            appointments::description,
            appointments::comment,
            appointments::cancellation_reason,
            appointments::identifiers,
            appointments::created,
            appointments::version,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0.0).collect();
    let mut slots: BTreeMap<i64, Vec<AppointmentSlot>> = BTreeMap::new();
    let slot_rows: Vec<SlotRow> = diesel::sql_query(
        "SELECT a.appointment_id, e.id, e.external_id, e.start_at, e.end_at, e.slot_type,
                e.delivery_channel, e.schedule_id, e.schedule_type, e.practitioner_role,
                e.location_id, e.practitioner_id
         FROM appointment_slots a JOIN slot_effective e ON e.id = a.slot_id
         WHERE a.appointment_id = ANY($1)
         ORDER BY a.appointment_id, e.start_at",
    )
    .bind::<Array<BigInt>, _>(&ids)
    .load(conn)?;
    for s in slot_rows {
        slots
            .entry(s.appointment_id)
            .or_default()
            .push(AppointmentSlot {
                id: SlotId(s.id),
                external_id: s.external_id,
                start: s.start_at,
                end: s.end_at,
                slot_type: s.slot_type,
                delivery_channel: s.delivery_channel,
                schedule_id: ScheduleId(s.schedule_id),
                schedule_type: s.schedule_type,
                practitioner_role: s.practitioner_role,
                location_id: LocationId(s.location_id),
                practitioner_id: s.practitioner_id.map(PractitionerId),
            });
    }
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let slots = slots.remove(&r.0.0)?;
            let ods_code = OdsCode::parse(&r.8).ok()?;
            Some(Appointment {
                id: r.0,
                practice: r.1,
                patient: r.2,
                patient_nhs_number: r.3,
                gp_connect: r.4 == "gp-connect",
                status: if r.5 == "cancelled" {
                    Status::Cancelled
                } else {
                    Status::Booked
                },
                start: r.6,
                end: r.7,
                booking_organisation: BookingOrganisation {
                    ods_code,
                    org_type: r.9,
                    name: r.10,
                    telecom: serde_json::from_value(r.11).unwrap_or_default(),
                },
                description: r.12,
                comment: r.13,
                cancellation_reason: r.14,
                identifiers: serde_json::from_value(r.15).unwrap_or_default(),
                created: r.16,
                version: r.17,
                slots,
            })
        })
        .collect())
}

/// The appointment `id` of `practice`, if there is one.
pub fn by_id(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: AppointmentId,
) -> QueryResult<Option<Appointment>> {
    let query = appointments::table
        .filter(appointments::practice_id.eq(practice))
        .filter(appointments::id.eq(id))
        .into_boxed();
    Ok(load(conn, query)?.pop())
}

/// Every appointment of `patient` at `practice` starting in [from, to), cancelled ones
/// included, in start order.
pub fn for_patient(
    conn: &mut PgConnection,
    practice: PracticeId,
    patient: PatientId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<Appointment>> {
    let query = appointments::table
        .filter(appointments::practice_id.eq(practice))
        .filter(appointments::patient_id.eq(patient))
        .filter(appointments::start_at.ge(from))
        .filter(appointments::start_at.lt(to))
        .into_boxed();
    load(conn, query)
}
