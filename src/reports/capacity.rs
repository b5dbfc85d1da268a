//! The capacity report: one SQL statement aggregates a period's slots, and the Rust side only
//! arranges the aggregated rows into days, weeks and breakdowns. Its first stage, per practice
//! and local day, is kept in a summary cache (`report_summary`) that triggers mark dirty and a
//! report brings up to date first, so a report sums a few rows per day instead of every slot.
//! Slot lists (the detail table and the hidden capacity) are separate queries for one practice
//! at a time.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, Utc, Weekday};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamp, Timestamptz};
use serde::Serialize;

use super::settings;
use crate::availability::codes::{ORGANISATION_TYPES, OrganisationType, PractitionerRole};
use crate::availability::query::{HiddenReason, local_midnight};
use crate::db::ids::{PracticeId, SlotId};
use crate::practice::Practice;

/// The organisation type whose daily minimum the GP contract sets (NHS 111).
pub const NHS111_ORG_TYPE: &str = "urgent-care";

/// A slot is exposed when rules 2 to 4 of the query module hold for it (see the module docs).
const EXPOSED: &str = "e.gpc_bookable \
     AND e.delivery_channel IS DISTINCT FROM 'Visit' \
     AND e.practitioner_role IS NOT NULL \
     AND COALESCE(btrim(e.slot_type), '') <> ''";

/// Why capacity a manager marked GP Connect bookable reaches no one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenCapacityReason {
    Visit,
    NoPractitionerRole,
    NoSlotType,
    RestrictedToNoOne,
    InThePast,
}

impl HiddenCapacityReason {
    pub const ALL: [HiddenCapacityReason; 5] = [
        Self::Visit,
        Self::NoPractitionerRole,
        Self::NoSlotType,
        Self::RestrictedToNoOne,
        Self::InThePast,
    ];

    /// The query module's reason, where there is one.
    pub fn query_reason(self) -> Option<HiddenReason> {
        match self {
            Self::Visit => Some(HiddenReason::Visit),
            Self::NoPractitionerRole => Some(HiddenReason::NoPractitionerRole),
            Self::NoSlotType => Some(HiddenReason::NoSlotType),
            Self::RestrictedToNoOne | Self::InThePast => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::RestrictedToNoOne => "restricted-to-no-one",
            Self::InThePast => "in-the-past",
            other => other.query_reason().map_or("", HiddenReason::code),
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// When it applies to a free, bookable slot: SQL over `e`, a `slot_effective` row, with
    /// `$4` the organisation types consumers send and `$5` the time of the report.
    fn condition(self) -> &'static str {
        match self {
            Self::Visit => "e.delivery_channel IS NOT DISTINCT FROM 'Visit'",
            Self::NoPractitionerRole => "e.practitioner_role IS NULL",
            Self::NoSlotType => "COALESCE(btrim(e.slot_type), '') = ''",
            Self::RestrictedToNoOne => {
                "((cardinality(e.bookable_org_types) > 0 AND NOT e.bookable_org_types && $4::text[]) \
                  OR ((cardinality(e.bookable_ods_codes) > 0 OR cardinality(e.bookable_group_ids) > 0) \
                      AND array_to_string(e.bookable_ods_codes, ',') !~ '(^|,)[A-Z0-9]{3,10}(,|$)' \
                      AND NOT EXISTS (SELECT 1 FROM org_group_members m \
                                      WHERE m.group_id = ANY(e.bookable_group_ids))))"
            }
            Self::InThePast => "e.start_at < $5",
        }
    }

    /// A sentence for a practice manager.
    pub fn message(self) -> &'static str {
        match self {
            Self::RestrictedToNoOne => {
                "It is restricted to organisation types, organisations or groups that no \
                 GP Connect consumer can be (an unknown type, an invalid ODS code or an empty group)."
            }
            Self::InThePast => "It is in the past, so no one can book it any more.",
            other => other.query_reason().map_or("", HiddenReason::message),
        }
    }
}

/// A report period: whole Europe/London local days, first to last inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the period ends before it starts")]
    Negative,
    #[error("the period is longer than {} days", Period::MAX_DAYS)]
    TooLong,
}

impl Period {
    /// 53 weeks: a year on a page, and a bound on the work one request may ask for.
    pub const MAX_DAYS: i64 = 371;
    pub const DEFAULT_DAYS: u64 = 28;

    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<Self, PeriodError> {
        if last < first {
            return Err(PeriodError::Negative);
        }
        if (last - first).num_days() + 1 > Self::MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { first, last })
    }

    /// The next four weeks from today (Europe/London), today included.
    pub fn next_four_weeks(now: DateTime<Utc>) -> Self {
        let today = local_day(now);
        Period {
            first: today,
            last: today + Days::new(Self::DEFAULT_DAYS - 1),
        }
    }

    /// Local midnight starting the first day.
    pub fn start(&self) -> DateTime<Utc> {
        local_midnight(self.first)
    }

    /// Local midnight after the last day.
    pub fn end(&self) -> DateTime<Utc> {
        local_midnight(self.last + Days::new(1))
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.first.iter_days().take_while({
            let last = self.last;
            move |d| *d <= last
        })
    }

    /// The Mondays of the ISO weeks the period touches.
    pub fn weeks(&self) -> Vec<NaiveDate> {
        let last = self.last;
        monday(self.first)
            .iter_weeks()
            .take_while(|m| *m <= last)
            .collect()
    }
}

pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

fn monday(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// ISO week label, e.g. `2026-W48`.
pub fn iso_week(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Exposed slots and minutes, booked (busy) and still free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub slots: i64,
    pub minutes: i64,
    pub booked_slots: i64,
    pub booked_minutes: i64,
    pub free_slots: i64,
    pub free_minutes: i64,
}

impl Figures {
    fn new(slots: i64, minutes: i64, booked_slots: i64, booked_minutes: i64) -> Self {
        Figures {
            slots,
            minutes,
            booked_slots,
            booked_minutes,
            free_slots: slots - booked_slots,
            free_minutes: minutes - booked_minutes,
        }
    }
}

/// The exposed figures against the whole appointment book (every slot, exposed or not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    pub exposed: Figures,
    pub book_slots: i64,
    pub book_minutes: i64,
    /// Exposed share of the book, in per cent to one decimal place; `None` for an empty book.
    pub exposed_share_of_slots: Option<f64>,
    pub exposed_share_of_minutes: Option<f64>,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

impl Totals {
    fn new(exposed: Figures, book_slots: i64, book_minutes: i64) -> Self {
        Totals {
            exposed,
            book_slots,
            book_minutes,
            exposed_share_of_slots: percent(exposed.slots, book_slots),
            exposed_share_of_minutes: percent(exposed.minutes, book_minutes),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DayCapacity {
    pub date: NaiveDate,
    pub totals: Totals,
    /// Per organisation type, in the order of [`CapacityReport::org_types`].
    pub by_org_type: Vec<Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekCapacity {
    /// The Monday the ISO week starts on (the days outside the period are not counted).
    pub monday: NaiveDate,
    pub iso_week: String,
    pub totals: Totals,
}

/// One value of a breakdown: its figures over the period and per week.
#[derive(Debug, Clone, Serialize)]
pub struct BreakdownRow {
    /// The code (organisation type, ODS code, `group:<name>`, channel, role, slot type);
    /// `None` for "not set" or, for named organisations, "not restricted to named organisations".
    pub key: Option<String>,
    pub label: String,
    pub total: Figures,
    /// In the order of [`CapacityReport::weeks`].
    pub weeks: Vec<Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HiddenCount {
    pub reason: HiddenCapacityReason,
    pub message: &'static str,
    pub slots: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PracticeCapacity {
    pub practice_id: PracticeId,
    pub ods_code: String,
    pub name: String,
    pub list_size: i32,
    pub totals: Totals,
    /// In the order of [`CapacityReport::weeks`].
    pub weeks: Vec<Totals>,
    pub nhs111_daily_minimum: i64,
    /// Weekdays of the period on which the NHS 111 minimum is not met.
    pub nhs111_days_short: usize,
    /// Free, bookable slots no consumer can see, by reason (a slot may have several).
    pub hidden: Vec<HiddenCount>,
}

/// One practice's day against the NHS 111 direct booking minimum.
#[derive(Debug, Clone, Serialize)]
pub struct Nhs111Day {
    pub ods_code: String,
    pub date: NaiveDate,
    pub list_size: i32,
    pub required: i64,
    /// Slots exposed to `urgent-care` (booked and free: the contract counts slots made available).
    pub offered: Figures,
    pub weekend: bool,
    /// A weekday (Monday to Friday) on which fewer slots were offered than required.
    pub short: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapacityReport {
    pub period: Period,
    pub generated_at: DateTime<Utc>,
    pub nhs111_patients_per_appointment: i32,
    /// Organisation type codes of GPConnect-OrganisationType-1, the order of `by_org_type`.
    pub org_types: Vec<&'static str>,
    pub practices: Vec<PracticeCapacity>,
    pub totals: Totals,
    pub days: Vec<DayCapacity>,
    pub weeks: Vec<WeekCapacity>,
    pub by_org_type: Vec<BreakdownRow>,
    pub by_named_organisation: Vec<BreakdownRow>,
    pub by_channel: Vec<BreakdownRow>,
    pub by_role: Vec<BreakdownRow>,
    pub by_slot_type: Vec<BreakdownRow>,
    pub nhs111: Vec<Nhs111Day>,
}

/// The first stage groups slots by these columns, in these sets (named as in `GROUPING(...)`),
/// per practice and local day: the summary cache (table `report_summary`) holds its rows, and
/// everything else rolls up from those few rows per day.
const FIRST_COLUMNS: [(&str, &str); 10] = [
    ("practice_id", "bigint"),
    ("day", "date"),
    ("exposed", "boolean"),
    ("ot_mask", "integer"),
    ("hidden", "integer"),
    ("channel", "text"),
    ("role", "text"),
    ("slot_type", "text"),
    ("ods_codes", "text[]"),
    ("group_ids", "bigint[]"),
];
/// The hidden capacity: the only set that depends on the time of the report.
const HIDDEN_SET: (&str, &[&str]) = ("ph", &["practice_id", "day", "hidden"]);
const FIRST_SETS: &[(&str, &[&str])] = &[
    ("pd", &["practice_id", "day", "exposed", "ot_mask"]),
    HIDDEN_SET,
    ("channel", &["practice_id", "day", "exposed", "channel"]),
    ("role", &["practice_id", "day", "exposed", "role"]),
    ("slot-type", &["practice_id", "day", "exposed", "slot_type"]),
    (
        "named",
        &["practice_id", "day", "exposed", "ods_codes", "group_ids"],
    ),
];
/// The totals, rolled up from the practice-day rows.
const TOTAL_COLUMNS: [&str; 3] = ["practice_id", "day", "week"];
const TOTAL_SETS: &[(&str, &[&str])] = &[
    ("practice-day", &["practice_id", "day"]),
    ("practice-week", &["practice_id", "week"]),
    ("practice", &["practice_id"]),
    ("day", &["day"]),
    ("week", &["week"]),
    ("total", &[]),
];
/// Per organisation type, from the practice-day rows' bit masks.
const ORG_TYPE_COLUMNS: [&str; 4] = ["t.code", "practice_id", "day", "week"];
const ORG_TYPE_SETS: &[(&str, &[&str])] = &[
    ("org-type-practice-day", &["t.code", "practice_id", "day"]),
    ("org-type-day", &["t.code", "day"]),
    ("org-type-week", &["t.code", "week"]),
    ("org-type", &["t.code"]),
];

/// `GROUPING SETS (...)` and the `CASE GROUPING(...)` naming each set.
fn grouping(columns: &[&str], sets: &[(&str, &[&str])]) -> (String, String) {
    let all = columns.join(", ");
    let mut cases = String::new();
    let mut groups = Vec::new();
    for (kind, set) in sets {
        cases.push_str(&format!(
            " WHEN {} THEN '{kind}'",
            grouping_mask(columns, set)
        ));
        groups.push(format!("({})", set.join(", ")));
    }
    (
        groups.join(", "),
        format!("CASE GROUPING({all}){cases} END"),
    )
}

/// What `GROUPING(columns)` returns for a set: a 1 bit for each column not grouped by.
fn grouping_mask(columns: &[&str], set: &[&str]) -> u32 {
    columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !set.contains(c))
        .map(|(i, _)| 1u32 << (columns.len() - 1 - i))
        .sum()
}

/// `bit` when `cond`, else 0, or-ed together: masks computed per slot without building arrays.
fn bit_mask(conditions: impl Iterator<Item = (usize, String)>) -> String {
    conditions
        .map(|(i, cond)| format!("(CASE WHEN {cond} THEN {} ELSE 0 END)", 1u32 << i))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The bit of [`HiddenCapacityReason::InThePast`] in hidden-capacity masks.
fn past_bit() -> u32 {
    let i = HiddenCapacityReason::ALL
        .iter()
        .position(|r| *r == HiddenCapacityReason::InThePast)
        .expect("a reason of ALL");
    1 << i
}

/// The first stage (`sets` of [`FIRST_SETS`]) over the slots of the `(practice_id, day)` pairs
/// of relation `pairs`: rows of `report_summary`'s columns. `$4` is the organisation types and
/// `$5` the time "in the past" is judged at: NULL leaves that reason out (what the cache holds).
fn first_stage(pairs: &str, sets: &[(&str, &[&str])]) -> String {
    let grouped: Vec<&str> = FIRST_COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .filter(|c| sets.iter().any(|(_, set)| set.contains(c)))
        .collect();
    // The columns no set groups by are NULL, so every first stage has the same columns.
    let columns = FIRST_COLUMNS
        .iter()
        .map(|(c, t)| match grouped.contains(c) {
            true => (*c).to_owned(),
            false => format!("NULL::{t} AS {c}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (sets, kind) = grouping(&grouped, sets);
    let unnamed = "cardinality(e.bookable_ods_codes) = 0 AND cardinality(e.bookable_group_ids) = 0";
    let ot_mask = bit_mask((0..ORGANISATION_TYPES.len()).map(|i| {
        (
            i,
            format!(
                "{unnamed} AND (cardinality(e.bookable_org_types) = 0 \
                 OR $4[{}] = ANY(e.bookable_org_types))",
                i + 1
            ),
        )
    }));
    let hidden_mask = bit_mask(
        HiddenCapacityReason::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.condition().to_owned())),
    );
    format!(
        "SELECT kind, practice_id, day, exposed,
                CASE kind WHEN 'pd' THEN ot_mask WHEN 'ph' THEN hidden END AS mask,
                CASE kind WHEN 'channel' THEN channel WHEN 'role' THEN role
                          WHEN 'slot-type' THEN slot_type END AS key,
                ods_codes, group_ids, slots, secs, busy_slots, busy_secs
         FROM (
            SELECT {kind} AS kind, {columns},
                   count(*) AS slots, sum(secs) AS secs,
                   count(*) FILTER (WHERE busy) AS busy_slots,
                   COALESCE(sum(secs) FILTER (WHERE busy), 0) AS busy_secs
            FROM (
                SELECT e.practice_id, p.day, ({EXPOSED}) AS exposed, e.status <> 'free' AS busy,
                       CASE WHEN {EXPOSED} THEN {ot_mask} END AS ot_mask,
                       CASE WHEN e.status = 'free' AND e.gpc_bookable THEN {hidden_mask} END
                           AS hidden,
                       e.delivery_channel AS channel, e.practitioner_role AS role, e.slot_type,
                       e.bookable_ods_codes AS ods_codes, e.bookable_group_ids AS group_ids,
                       date_part('epoch', e.end_at - e.start_at) AS secs
                FROM slot_effective e
                JOIN {pairs} p ON p.practice_id = e.practice_id
                     AND p.day = (e.start_at AT TIME ZONE 'Europe/London')::date
                -- One index range scan per practice over the days' span, then a hash join:
                -- a range join per day costs a practice's slots for every day.
                WHERE e.practice_id = ANY(ARRAY(SELECT DISTINCT practice_id FROM {pairs}))
                  AND e.start_at >= (SELECT min(day) FROM {pairs})::timestamp
                                    AT TIME ZONE 'Europe/London'
                  AND e.start_at < (SELECT max(day) + 1 FROM {pairs})::timestamp
                                   AT TIME ZONE 'Europe/London'
            ) b
            GROUP BY GROUPING SETS ({sets})
         ) g
         -- Only exposed slots are broken down, and only free bookable ones can be hidden.
         WHERE CASE kind WHEN 'pd' THEN true WHEN 'ph' THEN hidden IS NOT NULL
                         ELSE COALESCE(exposed, false) END"
    )
}

/// The breakdown kinds, which `report_summary_week` also holds per week.
const BREAKDOWN_KINDS: &str = "'channel', 'role', 'slot-type', 'named'";

/// Brings the summary of `$1` practices' days `$2` to `$3` up to date: deletes the dirty marks
/// its snapshot sees and recomputes those days from that same snapshot, so a change committed
/// later keeps its mark. `$4` organisation types, `$5` NULL. Returns the (practice, week) pairs
/// recomputed.
static REFRESH_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH marked AS (
            DELETE FROM report_summary_dirty
            WHERE practice_id = ANY($1) AND day BETWEEN $2 AND $3
            RETURNING practice_id, day
        ), pairs AS (
            SELECT DISTINCT practice_id, day FROM marked
        ), stale AS (
            DELETE FROM report_summary c USING pairs p
            WHERE c.practice_id = p.practice_id AND c.day = p.day
        ), fresh AS (
            INSERT INTO report_summary (practice_id, day, kind, exposed, mask, key, ods_codes,
                                        group_ids, slots, secs, busy_slots, busy_secs)
            SELECT practice_id, day, kind, exposed, mask, key, ods_codes, group_ids,
                   slots, secs, busy_slots, busy_secs
            FROM ({first}) f
        )
        SELECT DISTINCT practice_id, date_trunc('week', day::timestamp)::date AS week FROM pairs",
        first = first_stage("pairs", FIRST_SETS)
    )
});

/// Recomputes the weeks `$1`/`$2` (practices and Mondays) of `report_summary_week` from the
/// days, after [`REFRESH_SQL`] (a later statement, so it sees the new days).
static REFRESH_WEEKS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH w AS (
            SELECT * FROM unnest($1::bigint[], $2::date[]) AS w(practice_id, week)
        ), stale AS (
            DELETE FROM report_summary_week c USING w
            WHERE c.practice_id = w.practice_id AND c.week = w.week
        )
        INSERT INTO report_summary_week (practice_id, week, kind, key, ods_codes, group_ids,
                                         slots, secs, busy_slots, busy_secs)
        SELECT c.practice_id, w.week, c.kind, c.key, c.ods_codes, c.group_ids,
               sum(c.slots), sum(c.secs), sum(c.busy_slots), sum(c.busy_secs)
        FROM w JOIN report_summary c ON c.practice_id = w.practice_id
             AND c.day BETWEEN w.week AND w.week + 6
        WHERE c.kind IN ({BREAKDOWN_KINDS})
        GROUP BY c.practice_id, w.week, c.kind, c.key, c.ods_codes, c.group_ids"
    )
});

/// The first stage's rows of `kinds` (an SQL list) inside the report's statement: the cached
/// ones of the days `days` (an SQL condition on `c`), but for the days in `live_pairs`, and
/// the rows computed live. The cache leaves "in the past" out, so it is added to the days before
/// today.
fn first_stage_rows(kinds: &str, days: &str) -> String {
    format!(
        "SELECT c.kind, c.practice_id, c.day, c.exposed,
                CASE WHEN c.kind = 'ph' AND c.day < (SELECT day FROM today)
                     THEN c.mask | {past} ELSE c.mask END AS mask,
                c.key, c.ods_codes, c.group_ids, c.slots, c.secs, c.busy_slots, c.busy_secs
         FROM report_summary c
         WHERE c.kind IN ({kinds}) AND {days}
           AND NOT EXISTS (SELECT 1 FROM live_pairs l
                           WHERE l.practice_id = c.practice_id AND l.day = c.day)
         UNION ALL
         SELECT * FROM live WHERE kind IN ({kinds})",
        past = past_bit(),
    )
}

/// The cached days of the report's practices and period.
const IN_PERIOD: &str = "c.practice_id = ANY($1) AND c.day BETWEEN $2 AND $3";

/// `$1` practices, `$2`/`$3` the period's first and last day, `$4` organisation types, `$5` now,
/// `$6` hidden-capacity reason codes (in [`HiddenCapacityReason::ALL`] order). The first stage
/// comes from the summary cache, except for the days still marked dirty in this snapshot,
/// computed live, and the hidden capacity of the current local day, whose "in the past"
/// depends on the time.
static REPORT_SQL: LazyLock<String> = LazyLock::new(|| {
    let (total_sets, total_kind) = grouping(&TOTAL_COLUMNS, TOTAL_SETS);
    let (ot_sets, ot_kind) = grouping(&ORG_TYPE_COLUMNS, ORG_TYPE_SETS);
    format!(
        "WITH today AS (
            SELECT ($5::timestamptz AT TIME ZONE 'Europe/London')::date AS day
        ), live_pairs AS (
            SELECT DISTINCT practice_id, day FROM report_summary_dirty
            WHERE practice_id = ANY($1) AND day BETWEEN $2 AND $3
        ), today_pairs AS (
            SELECT p AS practice_id, today.day FROM unnest($1::bigint[]) p, today
            WHERE today.day BETWEEN $2 AND $3
              AND NOT EXISTS (SELECT 1 FROM live_pairs l
                              WHERE l.practice_id = p AND l.day = today.day)
        ), live AS MATERIALIZED (
            {live}
            UNION ALL
            {today}
        ), live_weeks AS (
            SELECT DISTINCT practice_id, date_trunc('week', day::timestamp)::date AS week
            FROM live_pairs
        ), full_weeks AS (
            -- The weeks wholly inside the period, per practice, with no dirty day.
            SELECT p AS practice_id, w::date AS week
            FROM unnest($1::bigint[]) p,
                 generate_series(date_trunc('week', $2::timestamp), $3::timestamp,
                                 interval '1 week') w
            WHERE w::date >= $2 AND w::date + 6 <= $3
            EXCEPT
            SELECT practice_id, week FROM live_weeks
        ), part_days AS (
            -- The other days of the period, whose breakdowns are read per day.
            SELECT p AS practice_id, d::date AS day
            FROM unnest($1::bigint[]) p, generate_series($2::date, $3::date, interval '1 day') d
            WHERE NOT EXISTS (SELECT 1 FROM full_weeks f
                              WHERE f.practice_id = p AND f.week = date_trunc('week', d)::date)
        ), pd AS (
            SELECT practice_id, day, date_trunc('week', day::timestamp)::date AS week, exposed,
                   mask AS ot_mask, slots, secs, busy_slots, busy_secs
            FROM ({pd}) s
        ), totals AS (
            SELECT {total_kind} AS kind, practice_id, day, week,
                   sum(slots) AS book_slots, sum(secs) AS book_secs,
                   COALESCE(sum(slots) FILTER (WHERE exposed), 0) AS slots,
                   COALESCE(sum(secs) FILTER (WHERE exposed), 0) AS secs,
                   COALESCE(sum(busy_slots) FILTER (WHERE exposed), 0) AS busy,
                   COALESCE(sum(busy_secs) FILTER (WHERE exposed), 0) AS busy_secs
            FROM pd
            GROUP BY GROUPING SETS ({total_sets})
        ), ot AS (
            SELECT {ot_kind} AS kind, t.code, practice_id, day, week,
                   sum(slots) AS slots, sum(secs) AS secs,
                   sum(busy_slots) AS busy, sum(busy_secs) AS busy_secs
            FROM pd CROSS JOIN unnest($4::text[]) WITH ORDINALITY AS t(code, i)
            WHERE pd.exposed AND pd.ot_mask & (1 << (t.i::int - 1)) <> 0
            GROUP BY GROUPING SETS ({ot_sets})
        ), breakdowns AS (
            SELECT c.kind, c.key, c.ods_codes, c.group_ids, c.week,
                   c.slots, c.secs, c.busy_slots, c.busy_secs
            FROM report_summary_week c JOIN full_weeks f USING (practice_id, week)
            UNION ALL
            SELECT s.kind, s.key, s.ods_codes, s.group_ids,
                   date_trunc('week', s.day::timestamp)::date,
                   s.slots, s.secs, s.busy_slots, s.busy_secs
            FROM ({breakdown_days}) s
        ), dims AS (
            SELECT s.kind, s.key, s.week, s.slots, s.secs, s.busy_slots, s.busy_secs
            FROM breakdowns s WHERE s.kind <> 'named'
            UNION ALL
            SELECT s.kind, n.key, s.week, s.slots, s.secs, s.busy_slots, s.busy_secs
            FROM breakdowns s CROSS JOIN LATERAL (
                SELECT c AS key FROM unnest(s.ods_codes) AS c
                UNION ALL
                SELECT 'group:' || og.name FROM org_groups og WHERE og.id = ANY(s.group_ids)
                UNION ALL
                SELECT NULL WHERE cardinality(s.ods_codes) = 0 AND cardinality(s.group_ids) = 0
            ) n
            WHERE s.kind = 'named'
        )
        SELECT kind, practice_id, day, week, NULL AS key,
               book_slots::bigint, round(book_secs / 60)::bigint AS book_minutes,
               slots::bigint, round(secs / 60)::bigint AS minutes,
               busy::bigint, round(busy_secs / 60)::bigint AS busy_minutes
        FROM totals
        UNION ALL
        SELECT kind, practice_id, day, week, code, NULL, NULL, slots::bigint,
               round(secs / 60)::bigint, busy::bigint, round(busy_secs / 60)::bigint
        FROM ot
        UNION ALL
        SELECT kind || CASE WHEN GROUPING(week) = 0 THEN '-week' ELSE '' END, NULL, NULL, week,
               key, NULL, NULL, sum(slots)::bigint, round(sum(secs) / 60)::bigint,
               sum(busy_slots)::bigint, round(sum(busy_secs) / 60)::bigint
        FROM dims
        GROUP BY GROUPING SETS ((kind, key, week), (kind, key))
        UNION ALL
        SELECT 'practice-hidden', s.practice_id, NULL, NULL, r.code,
               sum(s.slots)::bigint, round(sum(s.secs) / 60)::bigint, 0, 0, 0, 0
        FROM ({ph}) s CROSS JOIN unnest($6::text[]) WITH ORDINALITY AS r(code, i)
        WHERE s.mask & (1 << (r.i::int - 1)) <> 0
        GROUP BY s.practice_id, r.code",
        live = first_stage("live_pairs", FIRST_SETS),
        today = first_stage("today_pairs", &[HIDDEN_SET]),
        pd = first_stage_rows("'pd'", IN_PERIOD),
        breakdown_days = first_stage_rows(
            BREAKDOWN_KINDS,
            "(c.practice_id, c.day) IN (SELECT practice_id, day FROM part_days)"
        ),
        ph = first_stage_rows(
            "'ph'",
            &format!("{IN_PERIOD} AND c.day <> (SELECT day FROM today)")
        ),
    )
});

#[derive(QueryableByName, Debug)]
struct AggRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    practice_id: Option<i64>,
    #[diesel(sql_type = Nullable<Date>)]
    day: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    week: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    book_slots: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    book_minutes: Option<i64>,
    #[diesel(sql_type = BigInt)]
    slots: i64,
    #[diesel(sql_type = BigInt)]
    minutes: i64,
    #[diesel(sql_type = BigInt)]
    busy: i64,
    #[diesel(sql_type = BigInt)]
    busy_minutes: i64,
}

impl AggRow {
    fn figures(&self) -> Figures {
        Figures::new(self.slots, self.minutes, self.busy, self.busy_minutes)
    }

    fn totals(&self) -> Totals {
        Totals::new(
            self.figures(),
            self.book_slots.unwrap_or(0),
            self.book_minutes.unwrap_or(0),
        )
    }
}

type RowKey<'a> = (
    &'a str,
    Option<i64>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<&'a str>,
);

/// The aggregated rows, looked up by (kind, practice, day, week, key).
struct Rows<'a>(HashMap<RowKey<'a>, &'a AggRow>);

impl<'a> Rows<'a> {
    fn new(rows: &'a [AggRow]) -> Self {
        Rows(
            rows.iter()
                .map(|r| {
                    (
                        (
                            r.kind.as_str(),
                            r.practice_id,
                            r.day,
                            r.week,
                            r.key.as_deref(),
                        ),
                        r,
                    )
                })
                .collect(),
        )
    }

    fn get(&self, key: RowKey<'_>) -> Option<&'a AggRow> {
        self.0.get(&key).copied()
    }

    fn totals(&self, key: RowKey<'_>) -> Totals {
        self.get(key).map(AggRow::totals).unwrap_or_default()
    }

    fn figures(&self, key: RowKey<'_>) -> Figures {
        self.get(key).map(AggRow::figures).unwrap_or_default()
    }

    fn keys_of(&self, kind: &str) -> Vec<&'a AggRow> {
        let mut rows: Vec<&AggRow> = self
            .0
            .values()
            .copied()
            .filter(|r| r.kind == kind)
            .collect();
        rows.sort_by(|a, b| b.slots.cmp(&a.slots).then_with(|| a.key.cmp(&b.key)));
        rows
    }
}

/// Recomputes the summary of the days of `practices` in `period` that changes marked dirty, in
/// one transaction; one refresh at a time, so two never write the same day.
pub fn refresh_summary(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
) -> QueryResult<()> {
    let ids: Vec<i64> = practices.iter().map(|p| p.0).collect();
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(SUMMARY_LOCK)
            .execute(conn)?;
        diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
        diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(conn)?;
        let weeks: Vec<RefreshedWeek> = diesel::sql_query(REFRESH_SQL.as_str())
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Date, _>(period.first)
            .bind::<Date, _>(period.last)
            .bind::<Array<Text>, _>(org_types())
            .bind::<Nullable<Timestamptz>, _>(None::<DateTime<Utc>>)
            .load(conn)?;
        if weeks.is_empty() {
            return Ok(());
        }
        diesel::sql_query(REFRESH_WEEKS_SQL.as_str())
            .bind::<Array<BigInt>, _>(weeks.iter().map(|w| w.practice_id).collect::<Vec<_>>())
            .bind::<Array<Date>, _>(weeks.iter().map(|w| w.week).collect::<Vec<_>>())
            .execute(conn)?;
        // After filling many days, fresh statistics keep the report's plan on hash aggregates.
        if weeks.len() >= ANALYZE_AFTER_WEEKS {
            diesel::sql_query("ANALYZE report_summary, report_summary_week, report_summary_dirty")
                .execute(conn)?;
        }
        Ok(())
    })
}

#[derive(QueryableByName)]
struct RefreshedWeek {
    #[diesel(sql_type = BigInt)]
    practice_id: i64,
    #[diesel(sql_type = Date)]
    week: NaiveDate,
}

/// Practice-weeks recomputed at once above which [`refresh_summary`] analyzes the cache.
const ANALYZE_AFTER_WEEKS: usize = 500;

/// The advisory lock key of [`refresh_summary`].
const SUMMARY_LOCK: i64 = 0x7265_706f_7274;

fn org_types() -> Vec<&'static str> {
    ORGANISATION_TYPES.iter().map(|(c, _)| *c).collect()
}

/// The capacity report for `practices` over `period`, as of `now` (which decides "in the past"),
/// in one SQL statement plus the practices and the settings, read in one snapshot, after
/// bringing the summary cache up to date.
pub fn capacity_report(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<CapacityReport> {
    refresh_summary(conn, practices, period)?;
    conn.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| capacity_report_in_transaction(conn, practices, period, now))
}

/// [`capacity_report`] inside a transaction the caller holds (after [`refresh_summary`]: the
/// days still dirty are computed from the slots, which is correct but slower).
pub fn capacity_report_in_transaction(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<CapacityReport> {
    // The statement is one big aggregate: JIT compilation costs more than it saves here,
    // and the aggregates want their hash tables in memory.
    diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
    diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(conn)?;
    let ratio = settings::nhs111_patients_per_appointment(conn)?;
    let ids: Vec<i64> = practices.iter().map(|p| p.0).collect();
    let mut practice_rows: Vec<Practice> = crate::db::schema::practices::table
        .filter(crate::db::schema::practices::id.eq_any(&ids))
        .select(Practice::as_select())
        .load(conn)?;
    practice_rows.sort_by(|a, b| a.ods_code.cmp(&b.ods_code));
    let org_types = org_types();
    let rows: Vec<AggRow> = diesel::sql_query(REPORT_SQL.as_str())
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Date, _>(period.first)
        .bind::<Date, _>(period.last)
        .bind::<Array<Text>, _>(&org_types)
        .bind::<Timestamptz, _>(now)
        .bind::<Array<Text>, _>(
            HiddenCapacityReason::ALL
                .map(HiddenCapacityReason::code)
                .to_vec(),
        )
        .load(conn)?;
    Ok(assemble(
        period,
        now,
        ratio,
        org_types,
        practice_rows,
        &rows,
    ))
}

fn breakdown(
    rows: &Rows<'_>,
    kind: &str,
    weeks: &[NaiveDate],
    label: impl Fn(Option<&str>) -> String,
) -> Vec<BreakdownRow> {
    let week_kind = format!("{kind}-week");
    rows.keys_of(kind)
        .into_iter()
        .map(|r| BreakdownRow {
            key: r.key.clone(),
            label: label(r.key.as_deref()),
            total: r.figures(),
            weeks: weeks
                .iter()
                .map(|m| rows.figures((&week_kind, None, None, Some(*m), r.key.as_deref())))
                .collect(),
        })
        .collect()
}

pub fn channel_label(code: Option<&str>) -> String {
    code.unwrap_or("Not set").to_owned()
}

pub fn role_label(code: Option<&str>) -> String {
    match code.map(PractitionerRole::parse) {
        Some(Ok(role)) => format!("{} ({})", role.display(), role.code()),
        Some(Err(_)) => code.unwrap_or_default().to_owned(),
        None => "Not set".to_owned(),
    }
}

pub fn org_type_label(code: &str) -> String {
    OrganisationType::parse(code).map_or_else(|_| code.to_owned(), |t| t.display().to_owned())
}

pub fn named_label(key: Option<&str>) -> String {
    match key {
        None => "Any organisation (no ODS code or group restriction)".to_owned(),
        Some(k) => match k.strip_prefix("group:") {
            Some(group) => format!("Group: {group}"),
            None => k.to_owned(),
        },
    }
}

fn assemble(
    period: &Period,
    now: DateTime<Utc>,
    ratio: i32,
    org_types: Vec<&'static str>,
    practices: Vec<Practice>,
    rows: &[AggRow],
) -> CapacityReport {
    let rows = Rows::new(rows);
    let weeks = period.weeks();
    let days: Vec<DayCapacity> = period
        .days()
        .map(|d| DayCapacity {
            date: d,
            totals: rows.totals(("day", None, Some(d), None, None)),
            by_org_type: org_types
                .iter()
                .map(|t| rows.figures(("org-type-day", None, Some(d), None, Some(t))))
                .collect(),
        })
        .collect();
    let week_rows = weeks
        .iter()
        .map(|m| WeekCapacity {
            monday: *m,
            iso_week: iso_week(*m),
            totals: rows.totals(("week", None, None, Some(*m), None)),
        })
        .collect();
    let by_org_type = org_types
        .iter()
        .map(|t| BreakdownRow {
            key: Some((*t).to_owned()),
            label: org_type_label(t),
            total: rows.figures(("org-type", None, None, None, Some(t))),
            weeks: weeks
                .iter()
                .map(|m| rows.figures(("org-type-week", None, None, Some(*m), Some(t))))
                .collect(),
        })
        .collect();

    let mut nhs111 = Vec::new();
    let mut practice_rows = Vec::new();
    for p in practices {
        let pid = Some(p.id.0);
        let required = settings::nhs111_daily_minimum(p.list_size, ratio);
        let mut days_short = 0;
        for d in period.days() {
            let offered = rows.figures((
                "org-type-practice-day",
                pid,
                Some(d),
                None,
                Some(NHS111_ORG_TYPE),
            ));
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            let short = !weekend && offered.slots < required;
            days_short += usize::from(short);
            nhs111.push(Nhs111Day {
                ods_code: p.ods_code.clone(),
                date: d,
                list_size: p.list_size,
                required,
                offered,
                weekend,
                short,
            });
        }
        let hidden = HiddenCapacityReason::ALL
            .into_iter()
            .filter_map(|r| {
                rows.get(("practice-hidden", pid, None, None, Some(r.code())))
                    .map(|row| HiddenCount {
                        reason: r,
                        message: r.message(),
                        slots: row.book_slots.unwrap_or(0),
                        minutes: row.book_minutes.unwrap_or(0),
                    })
            })
            .collect();
        practice_rows.push(PracticeCapacity {
            practice_id: p.id,
            totals: rows.totals(("practice", pid, None, None, None)),
            weeks: weeks
                .iter()
                .map(|m| rows.totals(("practice-week", pid, None, Some(*m), None)))
                .collect(),
            ods_code: p.ods_code,
            name: p.name,
            list_size: p.list_size,
            nhs111_daily_minimum: required,
            nhs111_days_short: days_short,
            hidden,
        });
    }

    CapacityReport {
        period: *period,
        generated_at: now,
        nhs111_patients_per_appointment: ratio,
        practices: practice_rows,
        totals: rows.totals(("total", None, None, None, None)),
        by_org_type,
        by_named_organisation: breakdown(&rows, "named", &weeks, named_label),
        by_channel: breakdown(&rows, "channel", &weeks, channel_label),
        by_role: breakdown(&rows, "role", &weeks, role_label),
        by_slot_type: breakdown(&rows, "slot-type", &weeks, |k| {
            k.unwrap_or("Not set").to_owned()
        }),
        org_types,
        days,
        weeks: week_rows,
        nhs111,
    }
}

/// One slot of the detail table or of the hidden capacity, in the words practices use.
#[derive(Debug, Clone, Serialize)]
pub struct SlotLine {
    pub slot_id: SlotId,
    pub ods_code: String,
    /// Local (Europe/London) date and start time.
    pub date: NaiveDate,
    pub start: String,
    pub duration_minutes: i64,
    /// The session name (GP Connect schedule type).
    pub session: Option<String>,
    pub slot_type: Option<String>,
    pub channel: Option<String>,
    pub practitioner: Option<String>,
    pub role: Option<String>,
    pub role_name: Option<String>,
    pub booked: bool,
    /// Who may book it: organisation types, ODS codes and groups; empty for anyone.
    pub org_types: Vec<String>,
    pub ods_codes: Vec<String>,
    pub groups: Vec<String>,
    /// Only for hidden capacity: why no consumer can see it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<HiddenCapacityReason>,
}

#[derive(QueryableByName)]
struct SlotLineRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    ods_code: String,
    #[diesel(sql_type = Timestamp)]
    local_start: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    minutes: i64,
    #[diesel(sql_type = Nullable<Text>)]
    schedule_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    slot_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    delivery_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    practitioner: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    practitioner_role: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Array<Text>)]
    bookable_org_types: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    bookable_ods_codes: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    groups: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    reasons: Vec<String>,
}

/// `$1` practices, `$2`/`$3` period, `$4` organisation types, `$5` now; `{REASONS}` and
/// `{WHERE}` are filled in per list.
const SLOT_LINES_SQL: &str = "
    SELECT e.id, pr.ods_code, e.start_at AT TIME ZONE 'Europe/London' AS local_start,
           round(date_part('epoch', e.end_at - e.start_at) / 60)::bigint AS minutes,
           e.schedule_type, e.slot_type, e.delivery_channel,
           NULLIF(concat_ws(' ', p.prefix, p.given_name, p.family_name), '') AS practitioner,
           e.practitioner_role, e.status, e.bookable_org_types, e.bookable_ods_codes,
           CASE WHEN cardinality(e.bookable_group_ids) = 0 THEN '{}'::text[]
                ELSE ARRAY(SELECT og.name FROM org_groups og
                           WHERE og.id = ANY(e.bookable_group_ids) ORDER BY og.name) END AS groups,
           {REASONS} AS reasons
    FROM slot_effective e
    JOIN practices pr ON pr.id = e.practice_id
    LEFT JOIN practitioners p ON p.id = e.practitioner_id
    WHERE e.practice_id = ANY($1) AND pr.id = ANY($1) AND e.start_at >= $2 AND e.start_at < $3
      AND {WHERE}
    ORDER BY pr.ods_code, e.start_at, e.id";

static DETAIL_SQL: LazyLock<String> = LazyLock::new(|| {
    SLOT_LINES_SQL.replace("{REASONS}", "'{}'::text[]").replace(
        "{WHERE}",
        &format!("({EXPOSED}) AND $4::text[] IS NOT NULL AND $5::timestamptz IS NOT NULL"),
    )
});

/// Free, bookable slots with a hidden-capacity reason, and all their reasons.
static HIDDEN_SQL: LazyLock<String> = LazyLock::new(|| {
    let any = HiddenCapacityReason::ALL
        .iter()
        .map(|r| format!("({})", r.condition()))
        .collect::<Vec<_>>()
        .join(" OR ");
    let each = HiddenCapacityReason::ALL
        .iter()
        .map(|r| format!("CASE WHEN {} THEN '{}' END", r.condition(), r.code()))
        .collect::<Vec<_>>()
        .join(", ");
    SLOT_LINES_SQL
        .replace("{REASONS}", &format!("array_remove(ARRAY[{each}], NULL)"))
        .replace(
            "{WHERE}",
            &format!("e.status = 'free' AND e.gpc_bookable AND ({any})"),
        )
});

fn slot_lines(
    conn: &mut PgConnection,
    sql: &str,
    practices: &[PracticeId],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SlotLine>> {
    let ids: Vec<i64> = practices.iter().map(|p| p.0).collect();
    let org_types = org_types();
    let rows: Vec<SlotLineRow> = diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(&ids)
        .bind::<Timestamptz, _>(period.start())
        .bind::<Timestamptz, _>(period.end())
        .bind::<Array<Text>, _>(&org_types)
        .bind::<Timestamptz, _>(now)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| SlotLine {
            slot_id: SlotId(r.id),
            ods_code: r.ods_code,
            date: r.local_start.date(),
            start: r.local_start.format("%H:%M").to_string(),
            duration_minutes: r.minutes,
            session: r.schedule_type,
            slot_type: r.slot_type,
            channel: r.delivery_channel,
            practitioner: r.practitioner,
            role_name: r
                .practitioner_role
                .as_deref()
                .and_then(|c| PractitionerRole::parse(c).ok())
                .map(|role| role.display().to_owned()),
            role: r.practitioner_role,
            booked: r.status != "free",
            org_types: r.bookable_org_types,
            ods_codes: r.bookable_ods_codes,
            groups: r.groups,
            reasons: r
                .reasons
                .iter()
                .filter_map(|c| HiddenCapacityReason::parse(c))
                .collect(),
        })
        .collect())
}

/// Every exposed slot of `practices` in `period` (booked and free), in start order: the detail
/// table.
pub fn exposed_slots(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SlotLine>> {
    slot_lines(conn, &DETAIL_SQL, practices, period, now)
}

/// The hidden capacity of `practices` in `period` as of `now`: free slots marked GP Connect
/// bookable that no consumer can see, each with every reason that applies.
pub fn hidden_slots(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SlotLine>> {
    slot_lines(conn, &HIDDEN_SQL, practices, period, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn grouping_masks_follow_postgres_bit_order() {
        let (sets, case) = grouping(
            &["a", "b", "c"],
            &[("ab", &["a", "b"]), ("c", &["c"]), ("all", &[])],
        );
        assert_eq!(sets, "(a, b), (c), ()");
        assert_eq!(
            case,
            "CASE GROUPING(a, b, c) WHEN 1 THEN 'ab' WHEN 6 THEN 'c' WHEN 7 THEN 'all' END"
        );
    }

    #[test]
    fn periods_cover_whole_local_days_and_iso_weeks() {
        let p = Period::new(d(2026, 10, 21), d(2026, 10, 27)).unwrap();
        assert_eq!(p.days().count(), 7);
        assert_eq!(p.weeks(), vec![d(2026, 10, 19), d(2026, 10, 26)]);
        assert_eq!(p.start().to_rfc3339(), "2026-10-20T23:00:00+00:00");
        // Clocks go back on 25 October: the last day ends at midnight GMT.
        assert_eq!(p.end().to_rfc3339(), "2026-10-28T00:00:00+00:00");
        assert_eq!(iso_week(d(2026, 12, 28)), "2026-W53");
        assert_eq!(
            Period::new(d(2026, 1, 2), d(2026, 1, 1)),
            Err(PeriodError::Negative)
        );
        assert!(Period::new(d(2026, 1, 1), d(2027, 1, 6)).is_ok());
        assert_eq!(
            Period::new(d(2026, 1, 1), d(2027, 1, 7)),
            Err(PeriodError::TooLong)
        );
    }

    #[test]
    fn the_default_period_is_four_weeks_from_the_local_today() {
        // 23:30 UTC on 30 June is 00:30 on 1 July in London.
        let now = "2026-06-30T23:30:00Z".parse().unwrap();
        let p = Period::next_four_weeks(now);
        assert_eq!((p.first, p.last), (d(2026, 7, 1), d(2026, 7, 28)));
    }

    #[test]
    fn hidden_capacity_reasons_reuse_the_query_module_codes() {
        assert_eq!(
            HiddenCapacityReason::Visit.code(),
            HiddenReason::Visit.code()
        );
        assert_eq!(
            HiddenCapacityReason::NoSlotType.message(),
            HiddenReason::NoSlotType.message()
        );
        for r in HiddenCapacityReason::ALL {
            assert_eq!(HiddenCapacityReason::parse(r.code()), Some(r));
            assert!(!r.message().is_empty());
        }
    }

    #[test]
    fn shares_are_per_cent_to_one_place() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
    }
}
