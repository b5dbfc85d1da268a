//! One slot's settings: the slots of a week with the settings in force, one slot, saving the
//! slot form, and the slot types a practice uses.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::availability::audience::Audiences;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::{Value, json};

use super::{EditError, ScheduleRecord, SlotUndo, Undo};
use crate::availability::codes::DeliveryChannel;
use crate::availability::rules::{Bookability, Exposable, check_can_be_bookable};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{PracticeId, ScheduleId, SlotId};
use crate::db::schema::{schedules, slots};

/// A slot's own setting: follow its schedule, or its own bookability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotBookability {
    FollowSchedule,
    Own(Bookability),
}

impl SlotBookability {
    /// The `slots` columns: (gpc_bookable, audiences).
    pub(super) fn columns(&self) -> (Option<bool>, Audiences) {
        match self {
            SlotBookability::FollowSchedule => (None, Audiences::everyone()),
            SlotBookability::Own(b) => (Some(b.bookable), b.audiences.clone()),
        }
    }
}

/// A slot with the settings in force (its own, else its schedule's), for the week view.
#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct SlotRecord {
    #[diesel(sql_type = BigInt)]
    pub id: SlotId,
    #[diesel(sql_type = BigInt)]
    pub schedule_id: ScheduleId,
    #[diesel(sql_type = Nullable<Text>)]
    pub schedule_type: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub start_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub end_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub slot_type: Option<String>,
    /// In force: the slot's own, else its schedule's.
    #[diesel(sql_type = Nullable<Text>)]
    pub delivery_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub practitioner_role: Option<String>,
    #[diesel(sql_type = Bool)]
    pub overrides_schedule: bool,
    /// In force: the slot's own, else its schedule's.
    #[diesel(sql_type = Bool)]
    pub gpc_bookable: bool,
    /// In force: the slot's own, else its schedule's.
    #[diesel(sql_type = Array<Text>)]
    pub audiences: Audiences,
    #[diesel(sql_type = Int4)]
    pub version: i32,
}

const SLOT_SELECT: &str = "SELECT e.id, e.schedule_id, e.schedule_type, e.start_at, e.end_at, \
     e.status, e.slot_type, e.delivery_channel, e.practitioner_role, e.overrides_schedule, \
     e.gpc_bookable, e.audiences, sl.version \
     FROM slot_effective e JOIN slots sl ON sl.id = e.id";

/// The slots of a practice (or one of its schedules) starting in [from, to), in start order.
pub fn slots_between(
    conn: &mut PgConnection,
    practice: PracticeId,
    schedule: Option<ScheduleId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<SlotRecord>> {
    diesel::sql_query(format!(
        "{SLOT_SELECT} WHERE e.practice_id = $1 AND ($2::bigint IS NULL OR e.schedule_id = $2) \
         AND e.start_at >= $3 AND e.start_at < $4 ORDER BY e.start_at, e.id"
    ))
    .bind::<BigInt, _>(practice.0)
    .bind::<Nullable<BigInt>, _>(schedule.map(|s| s.0))
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
}

pub fn slot(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: SlotId,
) -> QueryResult<Option<SlotRecord>> {
    diesel::sql_query(format!(
        "{SLOT_SELECT} WHERE e.practice_id = $1 AND e.id = $2"
    ))
    .bind::<BigInt, _>(practice.0)
    .bind::<BigInt, _>(id.0)
    .get_result(conn)
    .optional()
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = slots)]
struct SlotOwn {
    gpc_bookable: Option<bool>,
    audiences: Audiences,
    version: i32,
    slot_type: Option<String>,
    delivery_channel: Option<String>,
}

fn slot_audit_state(bookable: Option<bool>, audiences: &Audiences, v: i32) -> Value {
    json!({
        "gpc_bookable": bookable,
        "audiences": audiences,
        "version": v,
    })
}

/// Sets one slot's own bookability (or makes it follow its schedule again), if
/// `expected_version` is still its version. Returns what it replaced (None: nothing changed).
pub fn update_slot(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: SlotId,
    expected_version: i32,
    setting: &SlotBookability,
) -> Result<Option<Undo>, EditError> {
    conn.transaction(|conn| {
        let (own, schedule): (SlotOwn, ScheduleRecord) = slots::table
            .inner_join(schedules::table)
            .filter(slots::id.eq(id))
            .filter(slots::practice_id.eq(practice))
            .select((SlotOwn::as_select(), ScheduleRecord::as_select()))
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(EditError::NotFound)?;
        if own.version != expected_version {
            return Err(EditError::Stale);
        }
        if let SlotBookability::Own(b) = setting
            && b.bookable
        {
            let channel = own
                .delivery_channel
                .as_deref()
                .or(schedule.delivery_channel.as_deref())
                .map(DeliveryChannel::parse)
                .transpose()
                .map_err(|e| EditError::Invalid(e.0))?;
            check_can_be_bookable(&Exposable {
                channel,
                practitioner_role: schedule.practitioner_role.as_deref(),
                slot_type: Some(own.slot_type.as_deref()),
            })
            .map_err(EditError::Refused)?;
        }
        let (bookable, audiences) = setting.columns();
        if (own.gpc_bookable, &own.audiences) == (bookable, &audiences) {
            return Ok(None);
        }
        diesel::update(slots::table.find(id))
            .set((
                slots::gpc_bookable.eq(bookable),
                slots::audiences.eq(&audiences),
                slots::version.eq(slots::version + 1),
            ))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change::edit(practice, "update", "slot", id.0)
                .before(slot_audit_state(
                    own.gpc_bookable,
                    &own.audiences,
                    own.version,
                ))
                .after(slot_audit_state(bookable, &audiences, own.version + 1)),
        )?;
        Ok(Some(Undo::Slots(vec![SlotUndo {
            id,
            version: own.version + 1,
            gpc_bookable: own.gpc_bookable,
            audiences: own.audiences.tokens(),
        }])))
    })
}

/// The distinct slot types of a practice, for the bulk edit's choice.
pub fn slot_types(conn: &mut PgConnection, practice: PracticeId) -> QueryResult<Vec<String>> {
    slots::table
        .filter(slots::practice_id.eq(practice))
        .filter(slots::slot_type.is_not_null())
        .select(slots::slot_type.assume_not_null())
        .distinct()
        .order(slots::slot_type.assume_not_null())
        .load(conn)
}
