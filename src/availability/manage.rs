//! What practice managers read and change: schedules' and slots' GP Connect bookability.
//!
//! Every change is checked by [`rules::check_can_be_bookable`] (the DB trigger refusing Visit is
//! the backstop), refused when the record's version moved since the form was opened (optimistic
//! locking), and audited in its own transaction: one audit row per schedule or slot changed,
//! none when a save changes nothing. Whether a consumer sees a slot is never decided here: the
//! overview counts and the week view take it from [`query::explain_between`].

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DbError};
use diesel::sql_types::{Array, BigInt, Bool, Date, Int4, Nullable, Text, Time, Timestamptz};
use serde::Serialize;
use serde_json::{Value, json};

use super::codes::{DeliveryChannel, PractitionerRole};
use super::query::{self, Consumer, HiddenReason, SlotExposure};
use super::rules::{Bookability, Exposable, Refusal, check_can_be_bookable};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{PracticeId, ScheduleId, SlotId};
use crate::db::schema::{locations, practitioners, schedules, slots};

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
         {reason}. Leave them out of the choice (by schedule, slot type or time) and try again"
    )]
    RefusedSlots { reason: Refusal, count: usize },
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

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A schedule as the admin UI shows and edits it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = schedules)]
pub struct ScheduleRecord {
    pub id: ScheduleId,
    pub practice_id: PracticeId,
    pub external_id: String,
    pub schedule_type: Option<String>,
    pub practitioner_role: Option<String>,
    pub delivery_channel: Option<String>,
    pub gpc_bookable: bool,
    pub bookable_org_types: Vec<String>,
    pub bookable_ods_codes: Vec<String>,
    pub version: i32,
}

/// The name the admin UI shows for a schedule: its schedule type, else its clinical system id.
fn schedule_display_name(schedule_type: Option<&str>, external_id: &str) -> String {
    schedule_type.map_or_else(|| format!("Schedule {external_id}"), str::to_owned)
}

impl ScheduleRecord {
    pub fn name(&self) -> String {
        schedule_display_name(self.schedule_type.as_deref(), &self.external_id)
    }

    fn audit_state(&self) -> Value {
        json!({
            "gpc_bookable": self.gpc_bookable,
            "bookable_org_types": self.bookable_org_types,
            "bookable_ods_codes": self.bookable_ods_codes,
            "practitioner_role": self.practitioner_role,
            "delivery_channel": self.delivery_channel,
            "schedule_type": self.schedule_type,
            "version": self.version,
        })
    }
}

/// What the schedule form sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    pub bookability: Bookability,
    pub practitioner_role: Option<PractitionerRole>,
    pub delivery_channel: Option<DeliveryChannel>,
    pub schedule_type: Option<String>,
}

pub fn schedule(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: ScheduleId,
) -> QueryResult<Option<ScheduleRecord>> {
    schedules::table
        .filter(schedules::id.eq(id))
        .filter(schedules::practice_id.eq(practice))
        .select(ScheduleRecord::as_select())
        .first(conn)
        .optional()
}

/// Sets a schedule's bookability, role, channel and type, if `expected_version` is still its
/// version. Returns the schedule as saved.
pub fn update_schedule(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: ScheduleId,
    expected_version: i32,
    settings: &ScheduleSettings,
) -> Result<ScheduleRecord, EditError> {
    conn.transaction(|conn| {
        let before: ScheduleRecord = schedules::table
            .filter(schedules::id.eq(id))
            .filter(schedules::practice_id.eq(practice))
            .select(ScheduleRecord::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(EditError::NotFound)?;
        if before.version != expected_version {
            return Err(EditError::Stale);
        }
        let channel = settings.delivery_channel.map(DeliveryChannel::code);
        let role = settings.practitioner_role.map(|r| r.code());
        if settings.bookability.bookable {
            check_can_be_bookable(&Exposable {
                channel: settings.delivery_channel,
                practitioner_role: role,
                slot_type: None,
            })
            .map_err(EditError::Refused)?;
        }
        // Slots that would become bookable Visit slots through this schedule.
        let visit_slots: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM slots WHERE schedule_id = $1 \
             AND COALESCE(delivery_channel, $2) = 'Visit' AND COALESCE(gpc_bookable, $3)",
        )
        .bind::<BigInt, _>(id.0)
        .bind::<Nullable<Text>, _>(channel)
        .bind::<Bool, _>(settings.bookability.bookable)
        .get_result(conn)?;
        if visit_slots.n > 0 {
            return Err(EditError::Refused(Refusal::Visit));
        }
        let org_types = settings.bookability.org_type_codes();
        let ods_codes = settings.bookability.ods_code_strings();
        let unchanged = before.gpc_bookable == settings.bookability.bookable
            && before.bookable_org_types == org_types
            && before.bookable_ods_codes == ods_codes
            && before.practitioner_role.as_deref() == role
            && before.delivery_channel.as_deref() == channel
            && before.schedule_type == settings.schedule_type;
        if unchanged {
            return Ok(before);
        }
        let after: ScheduleRecord = diesel::update(schedules::table.find(id))
            .set((
                schedules::gpc_bookable.eq(settings.bookability.bookable),
                schedules::bookable_org_types.eq(&org_types),
                schedules::bookable_ods_codes.eq(&ods_codes),
                schedules::practitioner_role.eq(role),
                schedules::delivery_channel.eq(channel),
                schedules::schedule_type.eq(&settings.schedule_type),
                schedules::version.eq(schedules::version + 1),
            ))
            .returning(ScheduleRecord::as_returning())
            .get_result(conn)?;
        change_log::record(
            conn,
            actor,
            Change {
                practice: Some(practice),
                action: "update",
                entity: "schedule",
                entity_id: Some(id.0),
                before: Some(before.audit_state()),
                after: Some(after.audit_state()),
            },
        )?;
        Ok(after)
    })
}

/// A slot's own setting: follow its schedule, or its own bookability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotBookability {
    FollowSchedule,
    Own(Bookability),
}

impl SlotBookability {
    /// The `slots` columns: (gpc_bookable, org types, ODS codes).
    fn columns(&self) -> (Option<bool>, Vec<String>, Vec<String>) {
        match self {
            SlotBookability::FollowSchedule => (None, vec![], vec![]),
            SlotBookability::Own(b) => (Some(b.bookable), b.org_type_codes(), b.ods_code_strings()),
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
    #[diesel(sql_type = Array<Text>)]
    pub bookable_org_types: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    pub bookable_ods_codes: Vec<String>,
    #[diesel(sql_type = Int4)]
    pub version: i32,
}

const SLOT_SELECT: &str = "SELECT e.id, e.schedule_id, e.schedule_type, e.start_at, e.end_at, \
     e.status, e.slot_type, e.delivery_channel, e.practitioner_role, e.overrides_schedule, \
     e.gpc_bookable, e.bookable_org_types, e.bookable_ods_codes, sl.version \
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
    bookable_org_types: Vec<String>,
    bookable_ods_codes: Vec<String>,
    version: i32,
    slot_type: Option<String>,
    delivery_channel: Option<String>,
}

fn slot_audit_state(bookable: Option<bool>, types: &[String], codes: &[String], v: i32) -> Value {
    json!({
        "gpc_bookable": bookable,
        "bookable_org_types": types,
        "bookable_ods_codes": codes,
        "version": v,
    })
}

/// Sets one slot's own bookability (or makes it follow its schedule again), if
/// `expected_version` is still its version.
pub fn update_slot(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: SlotId,
    expected_version: i32,
    setting: &SlotBookability,
) -> Result<(), EditError> {
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
        let (bookable, types, codes) = setting.columns();
        if (
            own.gpc_bookable,
            &own.bookable_org_types,
            &own.bookable_ods_codes,
        ) == (bookable, &types, &codes)
        {
            return Ok(());
        }
        diesel::update(slots::table.find(id))
            .set((
                slots::gpc_bookable.eq(bookable),
                slots::bookable_org_types.eq(&types),
                slots::bookable_ods_codes.eq(&codes),
                slots::version.eq(slots::version + 1),
            ))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change {
                practice: Some(practice),
                action: "update",
                entity: "slot",
                entity_id: Some(id.0),
                before: Some(slot_audit_state(
                    own.gpc_bookable,
                    &own.bookable_org_types,
                    &own.bookable_ods_codes,
                    own.version,
                )),
                after: Some(slot_audit_state(bookable, &types, &codes, own.version + 1)),
            },
        )?;
        Ok(())
    })
}

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
}

impl SlotSelection {
    pub const MAX_DAYS: i64 = 366;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BulkOutcome {
    /// Slots the selection matched.
    pub matched: usize,
    /// Slots whose setting changed (each with one audit row).
    pub changed: usize,
}

#[derive(QueryableByName)]
struct Selected {
    #[diesel(sql_type = BigInt)]
    id: i64,
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
SELECT sl.id, COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
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
ORDER BY sl.id
FOR UPDATE OF sl";

/// Changes, and audits one row for each, only the slots whose setting differs.
const BULK_UPDATE_SQL: &str = "
WITH old AS (
    SELECT id, gpc_bookable, bookable_org_types, bookable_ods_codes, version
    FROM slots
    WHERE practice_id = $1 AND id = ANY($2)
      AND (gpc_bookable, bookable_org_types, bookable_ods_codes)
          IS DISTINCT FROM ($3::boolean, $4::text[], $5::text[])
), changed AS (
    UPDATE slots s
    SET gpc_bookable = $3, bookable_org_types = $4, bookable_ods_codes = $5,
        version = s.version + 1
    FROM old
    WHERE s.id = old.id
    RETURNING s.id, s.version, old.gpc_bookable AS old_bookable,
              old.bookable_org_types AS old_types, old.bookable_ods_codes AS old_codes,
              old.version AS old_version
)
INSERT INTO audit_log (practice_id, user_id, actor, action, entity, entity_id, before, after)
SELECT $1, $6, $7, 'bulk-update', 'slot', c.id,
       jsonb_build_object('gpc_bookable', c.old_bookable, 'bookable_org_types', to_jsonb(c.old_types),
                          'bookable_ods_codes', to_jsonb(c.old_codes), 'version', c.old_version),
       jsonb_build_object('gpc_bookable', $3::boolean, 'bookable_org_types', to_jsonb($4::text[]),
                          'bookable_ods_codes', to_jsonb($5::text[]), 'version', c.version)
FROM changed c";

/// Applies `setting` to every slot `selection` matches, in one transaction: all of them or,
/// when any can't take it, none.
pub fn bulk_update_slots(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    selection: &SlotSelection,
    setting: &SlotBookability,
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
            .load(conn)?;
        let mut refused = [0usize; 3];
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
                refused[refusal_rank(reason)] += 1;
            }
        }
        let ranked = [
            Refusal::Visit,
            Refusal::NoPractitionerRole,
            Refusal::NoSlotType,
        ];
        if let Some((reason, count)) = ranked
            .into_iter()
            .map(|r| (r, refused[refusal_rank(r)]))
            .find(|(_, n)| *n > 0)
        {
            return Err(EditError::RefusedSlots { reason, count });
        }
        let ids: Vec<i64> = selected.iter().map(|s| s.id).collect();
        let (bookable, types, codes) = setting.columns();
        let changed = diesel::sql_query(BULK_UPDATE_SQL)
            .bind::<BigInt, _>(practice.0)
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Nullable<Bool>, _>(bookable)
            .bind::<Array<Text>, _>(&types)
            .bind::<Array<Text>, _>(&codes)
            .bind::<Nullable<BigInt>, _>(actor.user.map(|u| u.0))
            .bind::<Text, _>(&actor.name)
            .execute(conn)?;
        Ok(BulkOutcome {
            matched: selected.len(),
            changed,
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

/// Whether a reason hides a slot from some consumers only (who they are), not from all.
pub fn depends_on_consumer(reason: HiddenReason) -> bool {
    matches!(
        reason,
        HiddenReason::OrganisationTypeRestricted
            | HiddenReason::OdsCodeRestricted
            | HiddenReason::LimitReached
    )
}

/// Whether a slot is offered to some GP Connect consumer now: hidden, if at all, only by who
/// the consumer is, as the query module explains it.
pub fn exposed_to_someone(exposure: &SlotExposure) -> bool {
    exposure.reasons.iter().all(|r| depends_on_consumer(*r))
}

/// One line of the schedules list.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleOverview {
    pub schedule: ScheduleRecord,
    pub location: String,
    pub practitioner: Option<String>,
    /// Free slots starting in the window.
    pub free: usize,
    /// Free slots in the window some consumer would be offered.
    pub exposed: usize,
}

/// Every schedule of a practice with its free and exposed slot counts for [from, to).
pub fn schedule_overview(
    conn: &mut PgConnection,
    practice: PracticeId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<Vec<ScheduleOverview>> {
    type Row = (
        ScheduleRecord,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = schedules::table
        .inner_join(locations::table)
        .left_join(practitioners::table)
        .filter(schedules::practice_id.eq(practice))
        .order((schedules::schedule_type, schedules::id))
        .select((
            ScheduleRecord::as_select(),
            locations::name,
            practitioners::prefix.nullable(),
            practitioners::given_name.nullable(),
            practitioners::family_name.nullable(),
        ))
        .load(conn)?;
    let in_window: Vec<(SlotId, ScheduleId, String)> = slots::table
        .filter(slots::practice_id.eq(practice))
        .filter(slots::start_at.ge(from))
        .filter(slots::start_at.lt(to))
        .select((slots::id, slots::schedule_id, slots::status))
        .load(conn)?;
    let exposed: HashMap<SlotId, bool> = query::explain_between(
        conn,
        practice,
        from,
        to,
        &Consumer::default(),
        chrono::Utc::now(),
    )?
    .into_iter()
    .map(|e| (e.slot_id, exposed_to_someone(&e)))
    .collect();
    let mut counts: HashMap<ScheduleId, (usize, usize)> = HashMap::new();
    for (slot, schedule, status) in in_window {
        let entry = counts.entry(schedule).or_default();
        if status == "free" {
            entry.0 += 1;
        }
        if exposed.get(&slot).copied().unwrap_or(false) {
            entry.1 += 1;
        }
    }
    Ok(rows
        .into_iter()
        .map(|(schedule, location, prefix, given, family)| {
            let practitioner = family.map(|f| {
                [prefix, given, Some(f)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            let (free, exposed) = counts.get(&schedule.id).copied().unwrap_or_default();
            ScheduleOverview {
                schedule,
                location,
                practitioner,
                free,
                exposed,
            }
        })
        .collect())
}

/// Every schedule of a practice with its name, in the schedules list's order.
pub fn schedule_names(
    conn: &mut PgConnection,
    practice: PracticeId,
) -> QueryResult<Vec<(ScheduleId, String)>> {
    let rows: Vec<(ScheduleId, Option<String>, String)> = schedules::table
        .filter(schedules::practice_id.eq(practice))
        .order((schedules::schedule_type, schedules::id))
        .select((
            schedules::id,
            schedules::schedule_type,
            schedules::external_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, external)| (id, schedule_display_name(kind.as_deref(), &external)))
        .collect())
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

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct AuditEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub entity: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub entity_id: Option<i64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Jsonb>)]
    pub before: Option<Value>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Jsonb>)]
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub action: Option<String>,
    /// Part of the actor's name.
    pub actor: Option<String>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
}

impl AuditFilter {
    /// The longest text a filter may hold (characters): a longer `actor` pattern made every
    /// viewer able to keep PostgreSQL busy for seconds.
    pub const MAX_TEXT: usize = 100;

    /// The text filters longer than [`Self::MAX_TEXT`], by name (`entity`, `action`, `actor`).
    pub fn too_long(&self) -> Vec<&'static str> {
        [
            ("entity", &self.entity),
            ("action", &self.action),
            ("actor", &self.actor),
        ]
        .into_iter()
        .filter(|(_, v)| {
            v.as_ref()
                .is_some_and(|v| v.chars().count() > Self::MAX_TEXT)
        })
        .map(|(name, _)| name)
        .collect()
    }
}

/// A practice's audit log, newest first, at most `limit` entries. Filters over
/// [`AuditFilter::MAX_TEXT`] match nothing (the page refuses them before asking); `%`, `_` and
/// `\` in the actor filter match themselves.
pub fn audit_entries(
    conn: &mut PgConnection,
    practice: PracticeId,
    filter: &AuditFilter,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    if !filter.too_long().is_empty() {
        return Ok(Vec::new());
    }
    let actor_pattern = filter.actor.as_ref().map(|a| {
        format!(
            "%{}%",
            a.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    diesel::sql_query(
        "SELECT id, at, actor, action, entity, entity_id, before, after FROM audit_log
         WHERE practice_id = $1
           AND ($2::text IS NULL OR entity = $2)
           AND ($3::bigint IS NULL OR entity_id = $3)
           AND ($4::text IS NULL OR action = $4)
           AND ($5::text IS NULL OR actor ILIKE $5)
           AND ($6::date IS NULL OR at >= $7)
           AND ($8::date IS NULL OR at < $9)
         ORDER BY at DESC, id DESC LIMIT $10",
    )
    .bind::<BigInt, _>(practice.0)
    .bind::<Nullable<Text>, _>(filter.entity.as_deref())
    .bind::<Nullable<BigInt>, _>(filter.entity_id)
    .bind::<Nullable<Text>, _>(filter.action.as_deref())
    .bind::<Nullable<Text>, _>(actor_pattern)
    .bind::<Nullable<Date>, _>(filter.first_day)
    .bind::<Nullable<Timestamptz>, _>(filter.first_day.map(query::local_midnight))
    .bind::<Nullable<Date>, _>(filter.last_day)
    .bind::<Nullable<Timestamptz>, _>(
        filter
            .last_day
            .map(|d| query::local_midnight(d + chrono::Days::new(1))),
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}
