//! The report page, in the admin layout: its first screen answers "Are we meeting the NHS 111
//! minimum?" and "What is hidden that probably shouldn't be?", each with a chart or a list and
//! its detail behind `<details>`; then what is offered through GP Connect, and every table of
//! the report (each downloadable as CSV, the whole as JSON).

use askama::Template;
use chrono::{Datelike, Weekday};

use super::chart::{BOOKED, BarChart, Category, FREE, OFFERED};
use super::export::{self, Report, Table};
use super::exposure::HiddenCapacityReason;
use super::figures::{CapacityReport, PracticeCapacity};
use super::period::Period;
use super::practice_chart::PracticeChart;
use crate::admin::{AdminError, Layout};

/// Whose report the page shows.
pub struct PageScope<'a> {
    pub title: &'a str,
    /// `/practices/A20047/reports` or `/reports`.
    pub base: &'a str,
    pub single: bool,
}

/// A table of the page with its CSV link, and what to know about its rows.
pub struct TableView {
    pub id: &'static str,
    pub title: &'static str,
    pub csv: String,
    pub rows: Vec<Vec<String>>,
    /// Next to the total: why the rows add up to more than it.
    pub note: Option<String>,
}

/// One practice against the NHS 111 minimum (the all-practices page).
pub struct PracticeStatus {
    pub ods_code: String,
    pub name: String,
    pub minimum: i64,
    pub fewest: String,
    pub days_short: usize,
}

/// Why free slots marked bookable reach no one, for one reason.
pub struct HiddenReasonView {
    pub message: &'static str,
    pub slots: i64,
}

/// A hidden slot to fix, with the link to its page.
pub struct HiddenSlotView {
    pub href: String,
    pub when: String,
    pub session: String,
    pub why: String,
}

/// The answer to "Are we meeting the NHS 111 minimum?".
pub struct Nhs111Answer {
    pub met: bool,
    pub sentence: String,
    /// Further sentences: what limits hold back, what is still free to book.
    pub more: Vec<String>,
}

#[derive(Template)]
#[template(path = "reports/report.html")]
pub struct ReportPage {
    pub layout: Layout,
    pub title: String,
    pub base: String,
    pub query: String,
    pub single: bool,
    pub period: Period,
    pub error: Option<String>,
    pub report: Report,
    pub nhs111: Nhs111Answer,
    pub nhs111_chart: Option<String>,
    pub practices_chart: Option<String>,
    pub practice_rows: Vec<PracticeStatus>,
    pub hidden_reasons: Vec<HiddenReasonView>,
    pub hidden_slots: Vec<HiddenSlotView>,
    pub hidden_count: usize,
    pub past_count: usize,
    pub summary: Vec<(&'static str, String)>,
    pub daily_chart: String,
    pub days: TableView,
    pub nhs111_table: TableView,
    pub hidden_table: TableView,
    /// The other tables, each behind `<details>`.
    pub tables: Vec<TableView>,
}

/// Hidden slots listed on the page (the CSV has them all).
const HIDDEN_LISTED: usize = 50;

fn pct(p: Option<f64>) -> String {
    p.map_or_else(|| "–".to_owned(), |p| format!("{p:.1}%"))
}

fn plural(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    match n {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// A bar per day, labelled on the first day of each week (and the period's first day).
fn day_categories(period: &Period) -> Vec<Category> {
    period
        .days()
        .map(|d| Category {
            name: d.format("%a %-d %b").to_string(),
            label: (d == period.first || d.weekday() == Weekday::Mon)
                .then(|| d.format("%-d %b").to_string()),
        })
        .collect()
}

fn weekdays(report: &CapacityReport, ods: &str) -> usize {
    report
        .nhs111
        .iter()
        .filter(|d| d.ods_code == ods && !d.weekend)
        .count()
}

fn nhs111_answer(c: &CapacityReport, single: bool) -> Nhs111Answer {
    let short: Vec<&PracticeCapacity> = c
        .practices
        .iter()
        .filter(|p| p.nhs111_days_short > 0)
        .collect();
    let held_back: i64 = c
        .nhs111
        .iter()
        .map(|d| d.offered.slots - d.within_limits)
        .sum();
    let free: Option<i64> = c
        .nhs111
        .iter()
        .filter_map(|d| d.free_to_book)
        .fold(None, |sum, n| Some(sum.unwrap_or(0) + n));
    let mut more = Vec::new();
    if held_back > 0 {
        more.push(format!(
            "Booking limits for NHS 111 hold back {} it could otherwise book in this period.",
            plural(held_back, "slot", "slots")
        ));
    }
    if let Some(free) = free {
        more.push(format!(
            "From tomorrow to the end of the period, NHS 111 can still book {}.",
            plural(free, "free slot", "free slots")
        ));
    }
    let sentence = match (single, c.practices.first()) {
        (true, Some(p)) => {
            let days = weekdays(c, &p.ods_code);
            match (p.nhs111_days_short, p.nhs111_fewest_on_a_weekday) {
                (_, None) => "There are no weekdays in this period.".to_owned(),
                (0, Some(fewest)) => format!(
                    "Yes. NHS 111 could book at least {fewest} on every weekday, against a \
                     minimum of {} a day for {} registered patients.",
                    p.nhs111_daily_minimum, p.list_size
                ),
                (n, Some(fewest)) => format!(
                    "No. On {} of {days} weekdays NHS 111 could book fewer than the minimum of \
                     {} a day (the fewest was {fewest}).",
                    n, p.nhs111_daily_minimum
                ),
            }
        }
        _ if c.practices.is_empty() => "You have no practices to report on.".to_owned(),
        _ if short.is_empty() => format!(
            "All {} met the minimum on every weekday.",
            plural(c.practices.len() as i64, "practice", "practices")
        ),
        _ => format!(
            "{} of {} fell short of the minimum on at least one weekday.",
            short.len(),
            plural(c.practices.len() as i64, "practice", "practices")
        ),
    };
    Nhs111Answer {
        met: short.is_empty(),
        sentence,
        more,
    }
}

fn nhs111_chart(c: &CapacityReport, period: &Period) -> Result<Option<String>, AdminError> {
    let [p] = &c.practices[..] else {
        return Ok(None);
    };
    let chart = BarChart::stacked(
        "chart-nhs111",
        format!(
            "Slots NHS 111 could book each day against the minimum of {}",
            p.nhs111_daily_minimum
        ),
        format!(
            "Bars of the slots NHS 111 could book each day from {} to {}, within its booking \
             limits, with a dashed line at the daily minimum of {} for a list of {} patients; \
             the table below has the same numbers.",
            period.first, period.last, p.nhs111_daily_minimum, p.list_size
        ),
        &day_categories(period),
        &[&OFFERED],
        &c.nhs111
            .iter()
            .map(|d| vec![d.within_limits])
            .collect::<Vec<_>>(),
        Some((
            "Daily minimum",
            vec![p.nhs111_daily_minimum; c.nhs111.len()],
        )),
    );
    Ok(Some(chart.render().map_err(AdminError::internal)?))
}

/// The hidden slots a manager can fix (every reason but "in the past"): counts per reason, the
/// first few slots with links to their pages, how many there are, and how many are only past.
fn hidden_views(report: &Report) -> (Vec<HiddenReasonView>, Vec<HiddenSlotView>, usize, usize) {
    let fixable: Vec<_> = report
        .hidden_slots
        .iter()
        .filter(|h| {
            h.reasons
                .iter()
                .any(|r| *r != HiddenCapacityReason::InThePast)
        })
        .collect();
    let past = report.hidden_slots.len() - fixable.len();
    let reasons = HiddenCapacityReason::ALL
        .into_iter()
        .filter(|r| *r != HiddenCapacityReason::InThePast)
        .filter_map(|r| {
            let slots = fixable.iter().filter(|h| h.reasons.contains(&r)).count() as i64;
            (slots > 0).then(|| HiddenReasonView {
                message: r.message(),
                slots,
            })
        })
        .collect();
    let slots = fixable
        .iter()
        .take(HIDDEN_LISTED)
        .map(|h| HiddenSlotView {
            href: format!("/practices/{}/slots/{}", h.ods_code, h.slot_id),
            when: format!("{} {}", h.date.format("%a %-d %b"), h.start),
            session: h.session.clone().unwrap_or_else(|| "Not named".to_owned()),
            why: h
                .reasons
                .iter()
                .filter(|r| **r != HiddenCapacityReason::InThePast)
                .map(|r| r.message())
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    (reasons, slots, fixable.len(), past)
}

fn table(report: &Report, table: Table, base: &str, query: &str) -> TableView {
    let c = &report.capacity;
    let note = match table {
        Table::OrgTypes => Some(format!(
            "A slot offered to more than one organisation type counts under each of them, so \
             these rows can add up to more than the {} offered in all.",
            plural(c.totals.exposed.slots, "slot", "slots")
        )),
        Table::NamedOrganisations => Some(format!(
            "A slot offered to several organisations or groups counts under each of them, so \
             these rows can add up to more than the {} offered in all.",
            plural(c.totals.exposed.slots, "slot", "slots")
        )),
        _ => None,
    };
    TableView {
        id: table.slug(),
        title: table.title(),
        csv: format!("{base}/{}.csv{query}", table.slug()),
        rows: export::rows(report, table),
        note,
    }
}

/// The page of `report` for `scope` over `period`.
pub fn render(
    layout: Layout,
    scope: &PageScope<'_>,
    period: Period,
    error: Option<String>,
    report: Report,
) -> Result<String, AdminError> {
    let c = &report.capacity;
    let query = format!("?from={}&to={}", period.first, period.last);
    let daily_chart = BarChart::stacked(
        "chart-daily",
        format!("Slots offered through GP Connect per day, {}", scope.title),
        format!(
            "Stacked bars of booked and free slots offered through GP Connect for each day \
             from {} to {}; the table below has the same numbers.",
            period.first, period.last
        ),
        &day_categories(&period),
        &[&BOOKED, &FREE],
        &c.days
            .iter()
            .map(|d| vec![d.totals.exposed.booked_slots, d.totals.exposed.free_slots])
            .collect::<Vec<_>>(),
        None,
    )
    .render()
    .map_err(AdminError::internal)?;
    let nhs111_chart = match scope.single {
        true => nhs111_chart(c, &period)?,
        false => None,
    };
    let mut by_short: Vec<PracticeCapacity> = c.practices.clone();
    by_short.sort_by(|a, b| {
        b.nhs111_days_short
            .cmp(&a.nhs111_days_short)
            .then_with(|| a.ods_code.cmp(&b.ods_code))
    });
    let practices_chart = match scope.single {
        true => None,
        false => Some(
            PracticeChart::new(
                "chart-practices",
                "NHS 111 against the minimum, per practice".to_owned(),
                &by_short,
            )
            .render()
            .map_err(AdminError::internal)?,
        ),
    };
    let practice_rows = by_short
        .iter()
        .map(|p| PracticeStatus {
            ods_code: p.ods_code.clone(),
            name: p.name.clone(),
            minimum: p.nhs111_daily_minimum,
            fewest: p
                .nhs111_fewest_on_a_weekday
                .map_or_else(|| "–".to_owned(), |n| n.to_string()),
            days_short: p.nhs111_days_short,
        })
        .collect();
    let (hidden_reasons, hidden_slots, hidden_count, past_count) = hidden_views(&report);
    let t = &c.totals;
    let f = &t.exposed;
    let summary = vec![
        (
            "Slots offered through GP Connect",
            format!("{} ({} minutes)", f.slots, f.minutes),
        ),
        (
            "Booked",
            format!("{} ({} minutes)", f.booked_slots, f.booked_minutes),
        ),
        (
            "Still free",
            format!("{} ({} minutes)", f.free_slots, f.free_minutes),
        ),
        (
            "Share of the appointment book offered",
            format!(
                "{} of {} slots, {} of the minutes",
                pct(t.exposed_share_of_slots),
                t.book_slots,
                pct(t.exposed_share_of_minutes)
            ),
        ),
    ];
    let days = table(&report, Table::Days, scope.base, &query);
    let mut nhs111_table = table(&report, Table::Nhs111, scope.base, &query);
    if !scope.single {
        // Across practices the page lists the days that fall short; the CSV has them all.
        let short_col = nhs111_table.rows[0].len() - 1;
        nhs111_table
            .rows
            .retain(|r| r[short_col] != "no" && r[short_col] != "weekend");
    }
    let hidden_table = table(&report, Table::Hidden, scope.base, &query);
    let tables = Table::ALL
        .into_iter()
        // Every slot of many practices is a download, not a page.
        .filter(|t| !matches!(t, Table::Days | Table::Nhs111 | Table::Hidden))
        .filter(|t| scope.single || *t != Table::Detail)
        .map(|t| table(&report, t, scope.base, &query))
        .collect();
    ReportPage {
        layout,
        title: scope.title.to_owned(),
        base: scope.base.to_owned(),
        query,
        single: scope.single,
        period,
        error,
        nhs111: nhs111_answer(c, scope.single),
        nhs111_chart,
        practices_chart,
        practice_rows,
        hidden_reasons,
        hidden_slots,
        hidden_count,
        past_count,
        summary,
        daily_chart,
        days,
        nhs111_table,
        hidden_table,
        tables,
        report,
    }
    .render()
    .map_err(AdminError::internal)
}
