//! The schedules list: each schedule with its free and offered slot counts, the offered ones
//! as the query module explains them.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::prelude::*;

use serde::Serialize;

use super::ScheduleRecord;
use crate::availability::query::{self, Consumer, HiddenReason, SlotExposure};
use crate::db::ids::{PracticeId, ScheduleId, SlotId};
use crate::db::schema::{locations, practitioners, schedules, slots};

/// Whether a reason hides a slot from some consumers only (who they are), not from all.
pub fn depends_on_consumer(reason: HiddenReason) -> bool {
    matches!(
        reason,
        HiddenReason::NotInAudiences | HiddenReason::LimitReached
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
    /// Slots from the window's start on (up to [`OWN_SETTING_DAYS`]) with a setting of their
    /// own, which the schedule's doesn't reach.
    pub own_setting: usize,
}

/// How far ahead [`own_settings`] counts: a bulk edit's longest reach.
pub const OWN_SETTING_DAYS: u64 = super::SlotSelection::MAX_DAYS as u64;

/// Per schedule, its slots starting in [`OWN_SETTING_DAYS`] local days from `first_day` that
/// have a setting of their own (they don't follow the schedule).
pub fn own_settings(
    conn: &mut PgConnection,
    practice: PracticeId,
    first_day: NaiveDate,
) -> QueryResult<HashMap<ScheduleId, usize>> {
    let from = query::local_midnight(first_day);
    let to = query::local_midnight(first_day + Days::new(OWN_SETTING_DAYS));
    let rows: Vec<(ScheduleId, i64)> = slots::table
        .filter(slots::practice_id.eq(practice))
        .filter(slots::gpc_bookable.is_not_null())
        .filter(slots::start_at.ge(from))
        .filter(slots::start_at.lt(to))
        .group_by(slots::schedule_id)
        .select((slots::schedule_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(s, n)| (s, usize::try_from(n).unwrap_or(0)))
        .collect())
}

/// Every schedule of a practice with its free and exposed slot counts for [from, to), exposed
/// as the query module explains it at `from` (the time asked).
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
    let exposed: HashMap<SlotId, bool> =
        query::explain_between(conn, practice, from, to, &Consumer::default(), from)?
            .into_iter()
            .map(|e| (e.slot_id, exposed_to_someone(&e)))
            .collect();
    let own = own_settings(
        conn,
        practice,
        from.with_timezone(&chrono_tz::Europe::London).date_naive(),
    )?;
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
            let own_setting = own.get(&schedule.id).copied().unwrap_or_default();
            ScheduleOverview {
                schedule,
                location,
                practitioner,
                free,
                exposed,
                own_setting,
            }
        })
        .collect())
}
