//! The whole report (capacity, hidden capacity, detail) as one value for JSON, and each of its
//! tables as CSV: RFC 4180 quoting by the `csv` crate, dates and times in UK local time.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use serde::Serialize;

use super::capacity::capacity_report_in_transaction;
use super::figures::{BreakdownRow, CapacityReport, Figures, Totals};
use super::period::Period;
use super::slot_lines::{SlotLine, exposed_slots, hidden_slots};
use super::summary::refresh_summary;
use super::uptake::{Uptake, UptakeRow, uptake};
use crate::availability::codes::OrganisationType;
use crate::db::ids::PracticeId;

/// The report as served: the capacity figures and the two slot lists.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub capacity: CapacityReport,
    /// Free slots marked bookable that no consumer can see, with their reasons.
    pub hidden_slots: Vec<SlotLine>,
    /// Every exposed slot, booked or free.
    pub detail: Vec<SlotLine>,
    /// GP Connect bookings against what was offered, by organisation type and organisation.
    pub uptake: Uptake,
}

impl Report {
    /// The report of `practices` for `period` as of `now`, read in one snapshot.
    pub fn load(
        conn: &mut PgConnection,
        practices: &[PracticeId],
        period: &Period,
        now: DateTime<Utc>,
    ) -> QueryResult<Report> {
        Report::load_with(conn, practices, period, now, true)
    }

    /// The same, with `detail` left empty unless `with_detail`: for what doesn't show every
    /// exposed slot (a page or table of many practices).
    pub fn load_with(
        conn: &mut PgConnection,
        practices: &[PracticeId],
        period: &Period,
        now: DateTime<Utc>,
        with_detail: bool,
    ) -> QueryResult<Report> {
        refresh_summary(conn, practices, period)?;
        conn.build_transaction()
            .read_only()
            .repeatable_read()
            .run(|conn| {
                let capacity = capacity_report_in_transaction(conn, practices, period, now)?;
                Ok(Report {
                    uptake: uptake(conn, practices, period, &capacity)?,
                    capacity,
                    hidden_slots: hidden_slots(conn, practices, period, now)?,
                    detail: if with_detail {
                        exposed_slots(conn, practices, period)?
                    } else {
                        Vec::new()
                    },
                })
            })
    }
}

/// The tables of the report, each downloadable as CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Days,
    Weeks,
    Practices,
    OrgTypes,
    NamedOrganisations,
    Channels,
    Roles,
    SlotTypes,
    Nhs111,
    Hidden,
    Detail,
    UptakeOrgTypes,
    UptakeOrganisations,
}

impl Table {
    pub const ALL: [Table; 13] = [
        Table::Days,
        Table::Weeks,
        Table::Practices,
        Table::OrgTypes,
        Table::NamedOrganisations,
        Table::Channels,
        Table::Roles,
        Table::SlotTypes,
        Table::Nhs111,
        Table::Hidden,
        Table::Detail,
        Table::UptakeOrgTypes,
        Table::UptakeOrganisations,
    ];

    /// The table's name in URLs and file names.
    pub fn slug(self) -> &'static str {
        match self {
            Table::Days => "days",
            Table::Weeks => "weeks",
            Table::Practices => "practices",
            Table::OrgTypes => "organisation-types",
            Table::NamedOrganisations => "named-organisations",
            Table::Channels => "channels",
            Table::Roles => "roles",
            Table::SlotTypes => "slot-types",
            Table::Nhs111 => "nhs111",
            Table::Hidden => "hidden",
            Table::Detail => "detail",
            Table::UptakeOrgTypes => "uptake-organisation-types",
            Table::UptakeOrganisations => "uptake-organisations",
        }
    }

    pub fn parse(slug: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            Table::Days => "Slots offered per day",
            Table::Weeks => "Slots offered per week",
            Table::Practices => "Slots offered per practice",
            Table::OrgTypes => "By organisation type",
            Table::NamedOrganisations => "By named organisation",
            Table::Channels => "By delivery channel",
            Table::Roles => "By practitioner role",
            Table::SlotTypes => "By slot type",
            Table::Nhs111 => "NHS 111 direct booking minimum",
            Table::Hidden => "Hidden slots",
            Table::Detail => "Every slot offered",
            Table::UptakeOrgTypes => {
                "GP Connect bookings by organisation type, against slots offered"
            }
            Table::UptakeOrganisations => {
                "GP Connect bookings by organisation, against slots offered"
            }
        }
    }
}

/// A cell of free text a spreadsheet must not take for a formula (OWASP "CSV injection"):
/// such text gets a leading apostrophe.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn opt(s: Option<&str>) -> String {
    s.map(text).unwrap_or_default()
}

fn share(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}")).unwrap_or_default()
}

const FIGURE_HEADERS: [&str; 6] = [
    "exposed slots",
    "exposed minutes",
    "booked slots",
    "booked minutes",
    "free slots",
    "free minutes",
];

fn figures(f: &Figures) -> [String; 6] {
    [
        f.slots,
        f.minutes,
        f.booked_slots,
        f.booked_minutes,
        f.free_slots,
        f.free_minutes,
    ]
    .map(|n| n.to_string())
}

const TOTAL_HEADERS: [&str; 4] = [
    "appointment book slots",
    "appointment book minutes",
    "exposed share of slots (%)",
    "exposed share of minutes (%)",
];

fn totals(t: &Totals) -> Vec<String> {
    let mut row = figures(&t.exposed).to_vec();
    row.extend([
        t.book_slots.to_string(),
        t.book_minutes.to_string(),
        share(t.exposed_share_of_slots),
        share(t.exposed_share_of_minutes),
    ]);
    row
}

fn date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn weekday(d: NaiveDate) -> String {
    d.format("%A").to_string()
}

fn headers(fixed: &[&str], more: impl IntoIterator<Item = String>) -> Vec<String> {
    fixed.iter().map(|s| (*s).to_owned()).chain(more).collect()
}

fn breakdown(rows: &[BreakdownRow], report: &CapacityReport, what: &str) -> Vec<Vec<String>> {
    let mut out = vec![headers(
        &[what, "code"],
        FIGURE_HEADERS.iter().map(|h| (*h).to_owned()).chain(
            report
                .weeks
                .iter()
                .map(|w| format!("{} exposed slots", w.iso_week)),
        ),
    )];
    for r in rows {
        let mut row = vec![text(&r.label), opt(r.key.as_deref())];
        row.extend(figures(&r.total));
        row.extend(r.weeks.iter().map(|f| f.slots.to_string()));
        out.push(row);
    }
    out
}

fn uptake_rows(rows: &[UptakeRow], what: &str) -> Vec<Vec<String>> {
    let mut out = vec![
        [
            what,
            "code",
            "organisation type",
            "slots booked",
            "appointments booked",
            "appointments cancelled",
            "slots offered",
            "uptake",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for r in rows {
        out.push(vec![
            text(&r.label),
            opt(r.key.as_deref()),
            opt(r.org_type.as_deref()),
            r.booked_slots.to_string(),
            r.booked_appointments.to_string(),
            r.cancelled_appointments.to_string(),
            r.offered_slots.to_string(),
            share(r.uptake),
        ]);
    }
    out
}

fn slot_lines(lines: &[SlotLine], hidden: bool) -> Vec<Vec<String>> {
    let mut head = vec![
        "practice",
        "date",
        "session name",
        "start",
        "duration (minutes)",
        "slot type",
        "channel",
        "practitioner",
        "role",
        "role code",
        "status",
        "bookable by",
    ];
    if hidden {
        head.push("why no one can see it");
    }
    let mut out = vec![head.into_iter().map(str::to_owned).collect()];
    for s in lines {
        let mut row = vec![
            s.ods_code.clone(),
            date(s.date),
            opt(s.session.as_deref()),
            s.start.clone(),
            s.duration_minutes.to_string(),
            opt(s.slot_type.as_deref()),
            opt(s.channel.as_deref()),
            opt(s.practitioner.as_deref()),
            opt(s.role_name.as_deref()),
            opt(s.role.as_deref()),
            if s.booked { "booked" } else { "free" }.to_owned(),
            text(&bookable_by(s)),
        ];
        if hidden {
            row.push(
                s.reasons
                    .iter()
                    .map(|r| r.message())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        out.push(row);
    }
    out
}

/// "Urgent care (NHS 111); Y03032; group Our PCN", or "Anyone" when unrestricted.
pub fn bookable_by(s: &SlotLine) -> String {
    let parts: Vec<String> = s
        .org_types
        .iter()
        .map(|t| OrganisationType::label(t))
        .chain(s.ods_codes.iter().cloned())
        .chain(s.groups.iter().map(|g| format!("group {g}")))
        .collect();
    if parts.is_empty() {
        "Anyone".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The rows of one table, header first.
pub fn rows(report: &Report, table: Table) -> Vec<Vec<String>> {
    let c = &report.capacity;
    match table {
        Table::Days => {
            let mut out = vec![headers(
                &["date", "day"],
                FIGURE_HEADERS
                    .iter()
                    .chain(TOTAL_HEADERS.iter())
                    .map(|h| (*h).to_owned())
                    .chain(
                        c.org_types
                            .iter()
                            .map(|t| format!("exposed slots for {}", OrganisationType::label(t))),
                    ),
            )];
            for d in &c.days {
                let mut row = vec![date(d.date), weekday(d.date)];
                row.extend(totals(&d.totals));
                row.extend(d.by_org_type.iter().map(|f| f.slots.to_string()));
                out.push(row);
            }
            out
        }
        Table::Weeks => {
            let mut out = vec![headers(
                &["ISO week", "week starting"],
                FIGURE_HEADERS
                    .iter()
                    .chain(TOTAL_HEADERS.iter())
                    .map(|h| (*h).to_owned()),
            )];
            for w in &c.weeks {
                let mut row = vec![w.iso_week.clone(), date(w.monday)];
                row.extend(totals(&w.totals));
                out.push(row);
            }
            out
        }
        Table::Practices => {
            let mut out = vec![headers(
                &["ODS code", "practice", "list size"],
                FIGURE_HEADERS
                    .iter()
                    .chain(TOTAL_HEADERS.iter())
                    .map(|h| (*h).to_owned())
                    .chain([
                        "NHS 111 daily minimum".to_owned(),
                        "fewest NHS 111 could book on a weekday".to_owned(),
                        "weekdays short of the NHS 111 minimum".to_owned(),
                        "hidden slots".to_owned(),
                    ]),
            )];
            for p in &c.practices {
                let mut row = vec![p.ods_code.clone(), text(&p.name), p.list_size.to_string()];
                row.extend(totals(&p.totals));
                row.extend([
                    p.nhs111_daily_minimum.to_string(),
                    p.nhs111_fewest_on_a_weekday
                        .map_or_else(String::new, |n| n.to_string()),
                    p.nhs111_days_short.to_string(),
                    report
                        .hidden_slots
                        .iter()
                        .filter(|h| h.ods_code == p.ods_code)
                        .count()
                        .to_string(),
                ]);
                out.push(row);
            }
            out
        }
        Table::OrgTypes => breakdown(&c.by_org_type, c, "organisation type"),
        Table::NamedOrganisations => breakdown(&c.by_named_organisation, c, "named organisation"),
        Table::Channels => breakdown(&c.by_channel, c, "delivery channel"),
        Table::Roles => breakdown(&c.by_role, c, "practitioner role"),
        Table::SlotTypes => breakdown(&c.by_slot_type, c, "slot type"),
        Table::Nhs111 => {
            let mut out = vec![
                [
                    "practice",
                    "date",
                    "day",
                    "list size",
                    "minimum",
                    "offered to NHS 111",
                    "booked",
                    "free",
                    "NHS 111 could book (within its limits)",
                    "still free to book",
                    "short",
                ]
                .map(str::to_owned)
                .to_vec(),
            ];
            for d in &c.nhs111 {
                out.push(vec![
                    d.ods_code.clone(),
                    date(d.date),
                    weekday(d.date),
                    d.list_size.to_string(),
                    d.required.to_string(),
                    d.offered.slots.to_string(),
                    d.offered.booked_slots.to_string(),
                    d.offered.free_slots.to_string(),
                    d.within_limits.to_string(),
                    d.free_to_book.map_or_else(String::new, |n| n.to_string()),
                    if d.short {
                        "yes"
                    } else if d.weekend {
                        "weekend"
                    } else {
                        "no"
                    }
                    .to_owned(),
                ]);
            }
            out
        }
        Table::Hidden => slot_lines(&report.hidden_slots, true),
        Table::Detail => slot_lines(&report.detail, false),
        Table::UptakeOrgTypes => uptake_rows(&report.uptake.by_org_type, "organisation type"),
        Table::UptakeOrganisations => uptake_rows(&report.uptake.by_organisation, "organisation"),
    }
}

/// One table as CSV (UTF-8 with a byte-order mark, so spreadsheets read "£" and names right).
pub fn csv(report: &Report, table: Table) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    for row in rows(report, table) {
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// `capacity-A20047-days-2026-11-23-to-2026-12-20.csv`
pub fn file_name(scope: &str, table: Table, period: &Period) -> String {
    format!(
        "capacity-{scope}-{}-{}-to-{}.csv",
        table.slug(),
        date(period.first),
        date(period.last)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_like_text_is_defused() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("-1"), "'-1");
        assert_eq!(text("Routine"), "Routine");
    }

    #[test]
    fn every_table_has_a_unique_slug() {
        for t in Table::ALL {
            assert_eq!(Table::parse(t.slug()), Some(t));
        }
        assert_eq!(Table::parse("nope"), None);
    }
}
