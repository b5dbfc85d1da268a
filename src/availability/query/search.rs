//! The slot search: the free slots a consumer may book, with the schedules, locations and
//! practitioners a GP Connect response names, in one round trip.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};
use serde::Serialize;

use super::{Consumer, SEARCH, SearchWindow, bind_consumer};
use crate::availability::codes::DeliveryChannel;
use crate::db::ids::{LocationId, PracticeId, PractitionerId, ScheduleId, SlotId};
use crate::db::named::Value;

/// A free slot a consumer may book.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FreeSlot {
    pub id: SlotId,
    pub schedule_id: ScheduleId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub slot_type: String,
    pub delivery_channel: Option<DeliveryChannel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ScheduleSummary {
    pub id: ScheduleId,
    /// Schedule.serviceCategory.text: the session name.
    pub schedule_type: Option<String>,
    /// SDS job role code.
    pub practitioner_role: String,
    pub location_id: LocationId,
    pub practitioner_id: Option<PractitionerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct LocationSummary {
    pub id: LocationId,
    pub name: String,
    pub address_lines: Vec<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PractitionerSummary {
    pub id: PractitionerId,
    pub family_name: String,
    pub given_name: Option<String>,
    pub prefix: Option<String>,
    pub sds_user_id: Option<String>,
    pub sds_role_profile_id: Option<String>,
    pub gender: Option<String>,
}

/// Everything a GP Connect slot search response needs: the slots in start order, and each
/// schedule, location and practitioner they refer to, once, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlotSearchResult {
    pub slots: Vec<FreeSlot>,
    pub schedules: Vec<ScheduleSummary>,
    pub locations: Vec<LocationSummary>,
    pub practitioners: Vec<PractitionerSummary>,
}

impl SlotSearchResult {
    pub fn slot_ids(&self) -> Vec<SlotId> {
        self.slots.iter().map(|s| s.id).collect()
    }
}

#[derive(QueryableByName)]
struct SearchRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    schedule_id: i64,
    #[diesel(sql_type = Timestamptz)]
    start_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    end_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    slot_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    delivery_channel: Option<String>,
    #[diesel(sql_type = BigInt)]
    location_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    practitioner_id: Option<i64>,
    /// This and the fields below: only on the first row of each schedule.
    #[diesel(sql_type = Nullable<Text>)]
    schedule_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    practitioner_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    location_name: Option<String>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    address_lines: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Text>)]
    postcode: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    phone: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    family_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    given_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    prefix: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    sds_user_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    sds_role_profile_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    gender: Option<String>,
}

fn parse_channel(code: Option<String>) -> QueryResult<Option<DeliveryChannel>> {
    code.map(|c| DeliveryChannel::parse(&c))
        .transpose()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// The free slots of `practice` inside `window` that `consumer` may book when searching at
/// `now` (booking windows and limits depend on it), in one SQL query.
pub fn free_slots(
    conn: &mut PgConnection,
    practice: PracticeId,
    window: &SearchWindow,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> QueryResult<SlotSearchResult> {
    let rows: Vec<SearchRow> = bind_consumer(SEARCH.query(), practice, consumer, now)
        .bind("window_start", Value::Timestamptz(Some(window.start())))
        .bind("window_end", Value::Timestamptz(Some(window.end())))
        .bind("slot", Value::Int8(None))
        // The window is also the span of slot starts whose weeks' bookings limits count.
        .bind("starting_from", Value::Timestamptz(Some(window.start())))
        .bind("starting_before", Value::Timestamptz(Some(window.end())))
        .load(conn)?;

    let mut result = SlotSearchResult {
        slots: Vec::with_capacity(rows.len()),
        ..Default::default()
    };
    let mut schedules = BTreeMap::new();
    let mut locations = BTreeMap::new();
    let mut practitioners = BTreeMap::new();
    for row in rows {
        result.slots.push(FreeSlot {
            id: SlotId(row.id),
            schedule_id: ScheduleId(row.schedule_id),
            start: row.start_at,
            end: row.end_at,
            slot_type: row.slot_type,
            delivery_channel: parse_channel(row.delivery_channel)?,
        });
        // A schedule's first row carries its details (the query guarantees it).
        let Some(practitioner_role) = row.practitioner_role else {
            continue;
        };
        if schedules.insert(row.schedule_id, ()).is_none() {
            result.schedules.push(ScheduleSummary {
                id: ScheduleId(row.schedule_id),
                schedule_type: row.schedule_type,
                practitioner_role,
                location_id: LocationId(row.location_id),
                practitioner_id: row.practitioner_id.map(PractitionerId),
            });
        }
        if let Some(name) = row.location_name
            && locations.insert(row.location_id, ()).is_none()
        {
            result.locations.push(LocationSummary {
                id: LocationId(row.location_id),
                name,
                address_lines: row.address_lines.unwrap_or_default(),
                postcode: row.postcode,
                phone: row.phone,
            });
        }
        if let (Some(id), Some(family_name)) = (row.practitioner_id, row.family_name)
            && practitioners.insert(id, ()).is_none()
        {
            result.practitioners.push(PractitionerSummary {
                id: PractitionerId(id),
                family_name,
                given_name: row.given_name,
                prefix: row.prefix,
                sds_user_id: row.sds_user_id,
                sds_role_profile_id: row.sds_role_profile_id,
                gender: row.gender,
            });
        }
    }
    Ok(result)
}
