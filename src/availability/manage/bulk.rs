//! Many slots at once: a selection (days, weekdays, times, slot type) and one setting applied
//! to all of it in one transaction, or to none.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Int4, Nullable, Text, Time, Timestamptz};
use serde::Serialize;

use super::{EditError, SlotBookability, SlotUndo, Undo};
use crate::availability::codes::DeliveryChannel;
use crate::availability::query;
use crate::availability::rules::{Exposable, Refusal, check_can_be_bookable};
use crate::change_log::Actor;
use crate::db::ids::{PracticeId, ScheduleId, SlotId};

/// Which slots a bulk edit applies to. Days, weekdays and times are UK local.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSelection {
    pub schedule: Option<ScheduleId>,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// Empty: every day of the week.
    pub weekdays: Vec<Weekday>,
    /// Slots starting at or after this local time.
    pub from_time: Option<NaiveTime>,
    /// Slots starting before this local time.
    pub until_time: Option<NaiveTime>,
    pub slot_type: Option<String>,
    /// Only slots without a slot type (`slot_type` is then None).
    pub no_slot_type: bool,
}

impl SlotSelection {
    pub const MAX_DAYS: i64 = 366;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkOutcome {
    /// Slots the selection matched.
    pub matched: usize,
    /// Slots whose setting changed (each with one audit row).
    pub changed: usize,
    /// Slots left out because they can't take the setting (with `skip_refused`).
    pub skipped: Vec<RefusedSlot>,
    /// The matched slots and their versions, for [`BulkOptions::expected`].
    pub fingerprint: String,
    /// What the changed slots were, to undo the edit.
    #[serde(skip)]
    pub undo: Option<Undo>,
}

/// A slot of the selection that can't take the setting, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedSlot {
    pub id: i64,
    pub start: DateTime<Utc>,
    pub schedule: String,
    pub reason: Refusal,
}

/// How a bulk edit treats refusals and a selection that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOptions {
    /// Apply to the other slots and leave the refused ones as they are (else refuse all).
    pub skip_refused: bool,
    /// The [`BulkOutcome::fingerprint`] the manager checked: refused as stale when the
    /// selection's slots (or their versions) differ now.
    pub expected: Option<String>,
}

#[derive(QueryableByName)]
struct Selected {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Timestamptz)]
    start_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    schedule: String,
    #[diesel(sql_type = Nullable<Text>)]
    delivery_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    practitioner_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    slot_type: Option<String>,
    #[diesel(sql_type = Bool)]
    schedule_bookable: bool,
}

const BULK_SELECT_SQL: &str = "
SELECT sl.id, sl.version, sl.start_at,
       COALESCE(sc.schedule_type, 'Schedule ' || sc.external_id) AS schedule,
       COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
       sc.practitioner_role, sl.slot_type, sc.gpc_bookable AS schedule_bookable
FROM slots sl JOIN schedules sc ON sc.id = sl.schedule_id
WHERE sl.practice_id = $1
  AND ($2::bigint IS NULL OR sl.schedule_id = $2)
  AND sl.start_at >= $3 AND sl.start_at < $4
  AND (cardinality($5::int4[]) = 0
       OR EXTRACT(ISODOW FROM sl.start_at AT TIME ZONE 'Europe/London')::int4 = ANY($5))
  AND ($6::time IS NULL OR (sl.start_at AT TIME ZONE 'Europe/London')::time >= $6)
  AND ($7::time IS NULL OR (sl.start_at AT TIME ZONE 'Europe/London')::time < $7)
  AND ($8::text IS NULL OR sl.slot_type = $8)
  AND (NOT $9 OR sl.slot_type IS NULL)
ORDER BY sl.id
FOR UPDATE OF sl";

/// Changes, and audits one row for each, only the slots whose setting differs.
const BULK_UPDATE_SQL: &str = "
WITH old AS (
    SELECT id, gpc_bookable, audiences, version
    FROM slots
    WHERE practice_id = $1 AND id = ANY($2)
      AND (gpc_bookable, audiences) IS DISTINCT FROM ($3::boolean, $4::text[])
), changed AS (
    UPDATE slots s
    SET gpc_bookable = $3, audiences = $4, version = s.version + 1
    FROM old
    WHERE s.id = old.id
    RETURNING s.id, s.version, old.gpc_bookable AS old_bookable,
              old.audiences AS old_audiences, old.version AS old_version
), logged AS (
    INSERT INTO audit_log (practice_id, user_id, actor, action, entity, entity_id, before, after)
    SELECT $1, $5, $6, 'bulk-update', 'slot', c.id,
           jsonb_build_object('gpc_bookable', c.old_bookable, 'audiences', to_jsonb(c.old_audiences),
                              'version', c.old_version),
           jsonb_build_object('gpc_bookable', $3::boolean, 'audiences', to_jsonb($4::text[]),
                              'version', c.version)
    FROM changed c
)
SELECT id, version, old_bookable, old_audiences FROM changed ORDER BY id";

#[derive(QueryableByName)]
struct Changed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Nullable<Bool>)]
    old_bookable: Option<bool>,
    #[diesel(sql_type = Array<Text>)]
    old_audiences: Vec<String>,
}

/// The selection's slots and versions, as one short string (FNV-1a over "id:version,").
fn fingerprint(selected: &[Selected]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for s in selected {
        for b in format!("{}:{},", s.id, s.version).bytes() {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{}-{hash:016x}", selected.len())
}

/// Applies `setting` to every slot `selection` matches, in one transaction: all of them or,
/// when any can't take it, none.
pub fn bulk_update_slots(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    selection: &SlotSelection,
    setting: &SlotBookability,
) -> Result<BulkOutcome, EditError> {
    bulk_update_slots_with(
        conn,
        actor,
        practice,
        selection,
        setting,
        &BulkOptions::default(),
    )
}

/// [`bulk_update_slots`], skipping the slots that can't take the setting when asked to, and
/// refusing a selection that changed since the manager checked it.
pub fn bulk_update_slots_with(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    selection: &SlotSelection,
    setting: &SlotBookability,
    options: &BulkOptions,
) -> Result<BulkOutcome, EditError> {
    if selection.last_day < selection.first_day {
        return Err(EditError::Invalid(
            "the last day is before the first day".into(),
        ));
    }
    if (selection.last_day - selection.first_day).num_days() >= SlotSelection::MAX_DAYS {
        return Err(EditError::Invalid(format!(
            "a bulk edit covers at most {} days",
            SlotSelection::MAX_DAYS
        )));
    }
    let from = query::local_midnight(selection.first_day);
    let to = query::local_midnight(selection.last_day + chrono::Days::new(1));
    let weekdays: Vec<i32> = selection
        .weekdays
        .iter()
        .map(|d| d.number_from_monday() as i32)
        .collect();
    conn.transaction(|conn| {
        let selected: Vec<Selected> = diesel::sql_query(BULK_SELECT_SQL)
            .bind::<BigInt, _>(practice.0)
            .bind::<Nullable<BigInt>, _>(selection.schedule.map(|s| s.0))
            .bind::<Timestamptz, _>(from)
            .bind::<Timestamptz, _>(to)
            .bind::<Array<Int4>, _>(&weekdays)
            .bind::<Nullable<Time>, _>(selection.from_time)
            .bind::<Nullable<Time>, _>(selection.until_time)
            .bind::<Nullable<Text>, _>(selection.slot_type.as_deref())
            .bind::<Bool, _>(selection.no_slot_type)
            .load(conn)?;
        let fingerprint = fingerprint(&selected);
        if options.expected.as_ref().is_some_and(|e| *e != fingerprint) {
            return Err(EditError::Stale);
        }
        let mut refused = Vec::new();
        for s in &selected {
            let bookable_after = match setting {
                SlotBookability::Own(b) => b.bookable,
                SlotBookability::FollowSchedule => s.schedule_bookable,
            };
            if !bookable_after {
                continue;
            }
            let channel = s
                .delivery_channel
                .as_deref()
                .map(DeliveryChannel::parse)
                .transpose()
                .map_err(|e| EditError::Invalid(e.0))?;
            // Following a bookable schedule is refused only for Visit: a slot without a type
            // under a bookable schedule is simply not offered (the query module says why).
            let slot_type = match setting {
                SlotBookability::Own(_) => Some(s.slot_type.as_deref()),
                SlotBookability::FollowSchedule => None,
            };
            if let Err(reason) = check_can_be_bookable(&Exposable {
                channel,
                practitioner_role: s.practitioner_role.as_deref(),
                slot_type,
            }) {
                refused.push(RefusedSlot {
                    id: s.id,
                    start: s.start_at,
                    schedule: s.schedule.clone(),
                    reason,
                });
            }
        }
        refused.sort_by_key(|r| (refusal_rank(r.reason), r.start, r.id));
        if let Some(first) = refused.first()
            && !options.skip_refused
        {
            let reason = first.reason;
            return Err(EditError::RefusedSlots {
                reason,
                count: refused.iter().filter(|r| r.reason == reason).count(),
                slots: refused,
            });
        }
        let ids: Vec<i64> = selected
            .iter()
            .map(|s| s.id)
            .filter(|id| !refused.iter().any(|r| r.id == *id))
            .collect();
        let (bookable, audiences) = setting.columns();
        let changed: Vec<Changed> = diesel::sql_query(BULK_UPDATE_SQL)
            .bind::<BigInt, _>(practice.0)
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Nullable<Bool>, _>(bookable)
            .bind::<Array<Text>, _>(&audiences)
            .bind::<Nullable<BigInt>, _>(actor.user.map(|u| u.0))
            .bind::<Text, _>(&actor.name)
            .load(conn)?;
        let undo = (!changed.is_empty()).then(|| {
            Undo::Slots(
                changed
                    .iter()
                    .map(|c| SlotUndo {
                        id: SlotId(c.id),
                        version: c.version,
                        gpc_bookable: c.old_bookable,
                        audiences: c.old_audiences.clone(),
                    })
                    .collect(),
            )
        });
        Ok(BulkOutcome {
            matched: selected.len(),
            changed: changed.len(),
            skipped: refused,
            fingerprint,
            undo,
        })
    })
}

/// Refusals in the order they are reported: Visit first, as the one a manager can't fix.
fn refusal_rank(r: Refusal) -> usize {
    match r {
        Refusal::Visit => 0,
        Refusal::NoPractitionerRole => 1,
        Refusal::NoSlotType => 2,
    }
}
