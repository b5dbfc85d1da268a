//! The capacity report: one SQL statement aggregates a period's slots, reading the summary
//! cache ([`super::summary`]) for its first stage, and the Rust side only arranges the
//! aggregated rows into days, weeks and breakdowns ([`super::figures`]).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};

use super::exposure::{HiddenCapacityReason, org_types};
use super::figures::{
    BreakdownRow, CapacityReport, DayCapacity, Figures, HiddenCount, Nhs111Day, PracticeCapacity,
    Totals, WeekCapacity,
};
use super::labels::{channel_label, named_label, role_label};
use super::nhs111;
use super::period::{Period, iso_week};
use super::settings;
use super::summary::{
    BREAKDOWN_KINDS, FIRST_SETS, HIDDEN_SET, ORG_TYPE_COLUMNS, ORG_TYPE_SETS, TOTAL_COLUMNS,
    TOTAL_SETS, first_stage, grouping, org_type_values, past_bit, refresh_summary,
};
use crate::availability::codes::OrganisationType;
use crate::db::ids::PracticeId;
use crate::db::named::{Statement, Value};
use crate::practice::Practice;

/// The organisation type whose daily minimum the GP contract sets (NHS 111).
pub const NHS111_ORG_TYPE: &str = "urgent-care";

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
const IN_PERIOD: &str =
    "c.practice_id = ANY($practices) AND c.day BETWEEN $first_day AND $last_day";

/// The capacity report: `$practices`, the period's `$first_day` and `$last_day`,
/// `$org_types`, `$now` and `$reason_codes` (the hidden-capacity reason codes, in
/// [`HiddenCapacityReason::ALL`] order).
static REPORT: LazyLock<Statement> = LazyLock::new(|| {
    let (total_sets, total_kind) = grouping(&TOTAL_COLUMNS, TOTAL_SETS);
    let (ot_sets, ot_kind) = grouping(&ORG_TYPE_COLUMNS, ORG_TYPE_SETS);
    let fill = [
        ("{live}", first_stage("live_pairs", FIRST_SETS)),
        ("{today}", first_stage("today_pairs", &[HIDDEN_SET])),
        ("{pd}", first_stage_rows("'pd'", IN_PERIOD)),
        (
            "{breakdown_days}",
            first_stage_rows(
                BREAKDOWN_KINDS,
                "(c.practice_id, c.day) IN (SELECT practice_id, day FROM part_days)",
            ),
        ),
        (
            "{ph}",
            first_stage_rows(
                "'ph'",
                &format!("{IN_PERIOD} AND c.day <> (SELECT day FROM today)"),
            ),
        ),
        ("{nhs111}", first_stage_rows("'nhs111'", IN_PERIOD)),
        ("{nhs111_type}", format!("'{NHS111_ORG_TYPE}'")),
        ("{total_kind}", total_kind),
        ("{total_sets}", total_sets),
        ("{ot_kind}", ot_kind),
        ("{ot_sets}", ot_sets),
    ];
    Statement::unprepared(fill.iter().fold(
        include_str!("sql/report.sql").to_owned(),
        |sql, (placeholder, value)| sql.replace(placeholder, value),
    ))
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
    let reason_codes = HiddenCapacityReason::ALL.map(|r| r.code().to_owned());
    let limits = nhs111::limits(conn, &ids)?;
    let used = match limits.is_empty() {
        true => HashMap::new(),
        false => nhs111::used(conn, &ids, period, now)?,
    };
    let rows: Vec<AggRow> = REPORT
        .query()
        .bind("practices", Value::Int8Array(ids))
        .bind("first_day", Value::Date(Some(period.first)))
        .bind("last_day", Value::Date(Some(period.last)))
        .bind("org_types", Value::TextArray(org_type_values()))
        .bind("now", Value::Timestamptz(Some(now)))
        .bind("reason_codes", Value::TextArray(reason_codes.to_vec()))
        .load(conn)?;
    Ok(assemble(
        period,
        now,
        ratio,
        org_types,
        practice_rows,
        &rows,
        &Nhs111Limits { limits, used },
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

/// The urgent-care limits of the report's practices and the bookings they count, by practice.
struct Nhs111Limits {
    limits: HashMap<i64, nhs111::Limits>,
    used: HashMap<i64, nhs111::Used>,
}

/// NHS 111's days of one practice (`pid`) in `period`: what the limits let it book, and for
/// the days after today what is still free to book.
fn nhs111_days(
    by_day: &HashMap<(i64, NaiveDate), Vec<&AggRow>>,
    pid: i64,
    period: &Period,
    today: NaiveDate,
    nhs: &Nhs111Limits,
) -> Vec<(NaiveDate, Figures, i64, Option<i64>)> {
    let no_limits = nhs111::Limits::default();
    let limits = nhs.limits.get(&pid).unwrap_or(&no_limits);
    let no_use = nhs111::Used::new();
    let used = nhs.used.get(&pid).unwrap_or(&no_use);
    let groups = |d: NaiveDate| by_day.get(&(pid, d)).map(Vec::as_slice).unwrap_or(&[]);
    let schedule = |r: &AggRow| r.key.as_deref().and_then(|k| k.parse::<i64>().ok());
    let days: Vec<(NaiveDate, nhs111::DayGroups)> = period
        .days()
        .map(|d| {
            (
                d,
                groups(d).iter().map(|r| (schedule(r), r.slots)).collect(),
            )
        })
        .collect();
    let within = nhs111::offered(limits, &days);
    days.iter()
        .zip(within)
        .map(|((d, _), within)| {
            let rows = groups(*d);
            let offered = rows
                .iter()
                .fold(Figures::default(), |f, r| f.plus(&r.figures()));
            let free: nhs111::DayGroups = rows
                .iter()
                .map(|r| (schedule(r), r.slots - r.busy))
                .collect();
            let free = (*d > today).then(|| nhs111::free_to_book(limits, *d, &free, used));
            (*d, offered, within, free)
        })
        .collect()
}

fn assemble(
    period: &Period,
    now: DateTime<Utc>,
    ratio: i32,
    org_types: Vec<&'static str>,
    practices: Vec<Practice>,
    rows: &[AggRow],
    nhs: &Nhs111Limits,
) -> CapacityReport {
    let mut nhs111_rows: HashMap<(i64, NaiveDate), Vec<&AggRow>> = HashMap::new();
    for r in rows.iter().filter(|r| r.kind == "nhs111") {
        if let (Some(p), Some(d)) = (r.practice_id, r.day) {
            nhs111_rows.entry((p, d)).or_default().push(r);
        }
    }
    let today = super::period::local_day(now);
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
            label: OrganisationType::label(t),
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
        let mut fewest: Option<i64> = None;
        for (d, offered, within_limits, free_to_book) in
            nhs111_days(&nhs111_rows, p.id.0, period, today, nhs)
        {
            let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
            let short = !weekend && within_limits < required;
            days_short += usize::from(short);
            if !weekend {
                fewest = Some(fewest.map_or(within_limits, |f| f.min(within_limits)));
            }
            nhs111.push(Nhs111Day {
                ods_code: p.ods_code.clone(),
                date: d,
                list_size: p.list_size,
                required,
                offered,
                within_limits,
                free_to_book,
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
            nhs111_fewest_on_a_weekday: fewest,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The report's statement as sent, for review: a change to a fragment shows here.
    #[test]
    fn report_sql() {
        insta::assert_snapshot!(REPORT.sql());
    }
}
