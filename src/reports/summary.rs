//! The report's summary cache: the first stage of the capacity report (per practice and local
//! day, grouped as the later stages need) kept in `report_summary` (and its breakdowns per
//! week in `report_summary_week`), which triggers mark dirty (`report_summary_dirty`) and
//! [`refresh_summary`] brings up to date before a report, so a report sums a few rows per day
//! instead of every slot.

use std::sync::LazyLock;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date};

use super::capacity::NHS111_ORG_TYPE;
use super::exposure::{EXPOSED, HiddenCapacityReason, org_types};
use super::period::Period;
use crate::availability::codes::ORGANISATION_TYPES;
use crate::availability::query::{self, HiddenReason};
use crate::db::ids::PracticeId;
use crate::db::named::{Statement, Value};

/// The first stage groups slots by these columns, in these sets (named as in `GROUPING(...)`),
/// per practice and local day: the summary cache (table `report_summary`) holds its rows, and
/// everything else rolls up from those few rows per day.
const FIRST_COLUMNS: [(&str, &str); 12] = [
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
    ("nhs111", "boolean"),
    ("schedule", "text"),
];
/// The hidden capacity: the only set that depends on the time of the report.
pub(super) const HIDDEN_SET: (&str, &[&str]) = ("ph", &["practice_id", "day", "hidden"]);
pub(super) const FIRST_SETS: &[(&str, &[&str])] = &[
    ("pd", &["practice_id", "day", "exposed", "ot_mask"]),
    HIDDEN_SET,
    ("channel", &["practice_id", "day", "exposed", "channel"]),
    ("role", &["practice_id", "day", "exposed", "role"]),
    ("slot-type", &["practice_id", "day", "exposed", "slot_type"]),
    (
        "named",
        &["practice_id", "day", "exposed", "ods_codes", "group_ids"],
    ),
    ("nhs111", &["practice_id", "day", "nhs111", "schedule"]),
];
/// The totals, rolled up from the practice-day rows.
pub(super) const TOTAL_COLUMNS: [&str; 3] = ["practice_id", "day", "week"];
pub(super) const TOTAL_SETS: &[(&str, &[&str])] = &[
    ("practice-day", &["practice_id", "day"]),
    ("practice-week", &["practice_id", "week"]),
    ("practice", &["practice_id"]),
    ("day", &["day"]),
    ("week", &["week"]),
    ("total", &[]),
];
/// Per organisation type, from the practice-day rows' bit masks.
pub(super) const ORG_TYPE_COLUMNS: [&str; 4] = ["t.code", "practice_id", "day", "week"];
pub(super) const ORG_TYPE_SETS: &[(&str, &[&str])] = &[
    ("org-type-practice-day", &["t.code", "practice_id", "day"]),
    ("org-type-day", &["t.code", "day"]),
    ("org-type-week", &["t.code", "week"]),
    ("org-type", &["t.code"]),
];

/// `GROUPING SETS (...)` and the `CASE GROUPING(...)` naming each set.
pub(super) fn grouping(columns: &[&str], sets: &[(&str, &[&str])]) -> (String, String) {
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
pub(super) fn past_bit() -> u32 {
    let i = HiddenCapacityReason::ALL
        .iter()
        .position(|r| *r == HiddenCapacityReason::InThePast)
        .expect("a reason of ALL");
    1 << i
}

/// The first stage (`sets` of [`FIRST_SETS`]) over the slots of the `(practice_id, day)` pairs
/// of relation `pairs`: rows of `report_summary`'s columns. `$org_types` is the organisation
/// types and `$now` the time "in the past" is judged at: NULL leaves that reason out (what the
/// cache holds).
pub(super) fn first_stage(pairs: &str, sets: &[(&str, &[&str])]) -> String {
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
    let ot_mask = bit_mask(
        (0..ORGANISATION_TYPES.len()).map(|i| (i, type_matches(&format!("$org_types[{}]", i + 1)))),
    );
    let nhs111 = format!(
        "({}) AND ({}) AND {}",
        *EXPOSED,
        type_matches(&format!("'{NHS111_ORG_TYPE}'")),
        window_ever_open()
    );
    let hidden_mask = bit_mask(
        HiddenCapacityReason::ALL
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.condition())),
    );
    include_str!("sql/first_stage.sql")
        .replace("{kind}", &kind)
        .replace("{columns}", &columns)
        .replace("{exposed}", &EXPOSED)
        .replace("{ot_mask}", &ot_mask)
        .replace("{hidden_mask}", &hidden_mask)
        .replace("{nhs111}", &nhs111)
        .replace("{pairs}", pairs)
        .replace("{sets}", &sets)
}

/// When a consumer of organisation type `code` (SQL) who doesn't name itself may book slot `e`.
fn type_matches(code: &str) -> String {
    format!("cardinality(e.audiences) = 0 OR ('type:' || {code}) = ANY(e.audiences)")
}

/// When slot `e`'s booking window is ever open: the query module's window rules (and its
/// "already started") let it be booked at the last moment its window allows:
/// `book_until_minutes` before the start, or a microsecond before the start without it.
fn window_ever_open() -> String {
    let last_moment = "(e.start_at - GREATEST(make_interval(mins => \
                       COALESCE(e.book_until_minutes, 0)), interval '1 microsecond'))";
    [
        HiddenReason::BookingNotYetOpen,
        HiddenReason::BookingClosed,
        HiddenReason::AlreadyStarted,
    ]
    .iter()
    .map(|r| {
        let rule = query::hidden_when(*r).expect("a rule of the query module's rule table");
        format!("NOT ({})", rule.replace("{NOW}", last_moment))
    })
    .collect::<Vec<_>>()
    .join(" AND ")
}

/// The breakdown kinds, which `report_summary_week` also holds per week.
pub(super) const BREAKDOWN_KINDS: &str = "'channel', 'role', 'slot-type', 'named'";

/// Brings the summary of `$practices`' days `$first_day` to `$last_day` up to date
/// (`$org_types`; `$now` NULL); returns the (practice, week) pairs recomputed.
static REFRESH: LazyLock<Statement> = LazyLock::new(|| {
    Statement::unprepared(
        include_str!("sql/refresh.sql").replace("{first_stage}", &first_stage("pairs", FIRST_SETS)),
    )
});

/// Recomputes the weeks `$weeks` (Mondays) of `$practices` in `report_summary_week`.
static REFRESH_WEEKS: LazyLock<Statement> = LazyLock::new(|| {
    Statement::unprepared(
        include_str!("sql/refresh_weeks.sql").replace("{breakdown_kinds}", BREAKDOWN_KINDS),
    )
});

/// Recomputes the summary of the days of `practices` in `period` that changes marked dirty, in
/// one transaction; one refresh at a time, so two never write the same day.
/// Each run is counted in the metrics by its result (`refreshed`, `up_to_date`: nothing was
/// dirty, `failed`) and timed.
pub fn refresh_summary(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
) -> QueryResult<()> {
    use crate::telemetry::metrics::{REPORT_REFRESH_DURATION, REPORT_REFRESHES};
    let started = std::time::Instant::now();
    let result = refresh(conn, practices, period);
    metrics::histogram!(REPORT_REFRESH_DURATION).record(started.elapsed().as_secs_f64());
    let outcome = match result {
        Ok(true) => "refreshed",
        Ok(false) => "up_to_date",
        Err(_) => "failed",
    };
    metrics::counter!(REPORT_REFRESHES, "result" => outcome).increment(1);
    result.map(drop)
}

/// Brings the dirty days of up to `batch` practices (the first by id) up to date, whatever
/// their dates: the background refresher's round ([`super::refresher`]). Returns how many
/// practices had dirty days.
pub fn refresh_dirty(conn: &mut PgConnection, batch: i64) -> QueryResult<usize> {
    let spans: Vec<DirtySpan> = diesel::sql_query(
        "SELECT practice_id, min(day) AS first, max(day) AS last FROM report_summary_dirty \
         GROUP BY practice_id ORDER BY practice_id LIMIT $1",
    )
    .bind::<BigInt, _>(batch)
    .load(conn)?;
    let (Some(first), Some(last)) = (
        spans.iter().map(|s| s.first).min(),
        spans.iter().map(|s| s.last).max(),
    ) else {
        return Ok(0);
    };
    let practices: Vec<PracticeId> = spans.iter().map(|s| PracticeId(s.practice_id)).collect();
    refresh_summary(conn, &practices, &Period { first, last })?;
    Ok(spans.len())
}

#[derive(QueryableByName)]
struct DirtySpan {
    #[diesel(sql_type = BigInt)]
    practice_id: i64,
    #[diesel(sql_type = Date)]
    first: NaiveDate,
    #[diesel(sql_type = Date)]
    last: NaiveDate,
}

/// [`refresh_summary`]'s work; true when some day was recomputed.
fn refresh(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
) -> QueryResult<bool> {
    let ids: Vec<i64> = practices.iter().map(|p| p.0).collect();
    conn.transaction(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(SUMMARY_LOCK)
            .execute(conn)?;
        diesel::sql_query("SET LOCAL jit = off").execute(conn)?;
        diesel::sql_query("SET LOCAL work_mem = '64MB'").execute(conn)?;
        let weeks: Vec<RefreshedWeek> = REFRESH
            .query()
            .bind("practices", Value::Int8Array(ids.clone()))
            .bind("first_day", Value::Date(Some(period.first)))
            .bind("last_day", Value::Date(Some(period.last)))
            .bind("org_types", Value::TextArray(org_type_values()))
            .bind("now", Value::Timestamptz(None))
            .load(conn)?;
        if weeks.is_empty() {
            return Ok(false);
        }
        REFRESH_WEEKS
            .query()
            .bind(
                "practices",
                Value::Int8Array(weeks.iter().map(|w| w.practice_id).collect()),
            )
            .bind(
                "weeks",
                Value::DateArray(weeks.iter().map(|w| w.week).collect()),
            )
            .execute(conn)?;
        // After filling many days, fresh statistics keep the report's plan on hash aggregates.
        if weeks.len() >= ANALYZE_AFTER_WEEKS {
            diesel::sql_query("ANALYZE report_summary, report_summary_week, report_summary_dirty")
                .execute(conn)?;
        }
        Ok(true)
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

/// The `$org_types` parameter.
pub(super) fn org_type_values() -> Vec<String> {
    org_types().into_iter().map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The summary refresh as sent, for review.
    #[test]
    fn refresh_sql() {
        insta::assert_snapshot!(REFRESH.sql());
    }

    #[test]
    fn refresh_weeks_sql() {
        insta::assert_snapshot!(REFRESH_WEEKS.sql());
    }
}
