//! The query module: the only place that decides which slots a GP Connect consumer sees.
//!
//! [`free_slots`] answers "which free slots may organisation O of type T book at practice P
//! between A and B?" in one SQL round trip; [`explain`] and [`explain_between`] answer "why is
//! this slot not visible to that consumer?" from the same rules, so the two can't disagree.
//!
//! # The rules
//! A slot is returned when every one of these holds (each failing rule is a [`HiddenReason`]):
//! 1. its status is `free`;
//! 2. it is GP Connect bookable (its own setting, else its schedule's);
//! 3. its delivery channel is not `Visit` (GP Connect 1.2.7, #826);
//! 4. its schedule has a practitioner role and the slot has a slot type (both are required in
//!    a GP Connect slot search response);
//! 5. it matches the consumer: no audiences, or any one of its audiences (table below);
//! 6. its booking window is open at the time of the search: no earlier than `book_from_days`
//!    local days before the slot's (Europe/London) day, and no later than `book_until_minutes`
//!    before it starts;
//! 7. no booking limit that applies to the consumer (its organisation type, its ODS code, or a
//!    group it belongs to; for the slot's schedule or the whole practice) is used up for the
//!    slot's local day or ISO week, counting the bookings in force;
//! 8. it has not started: its start is after the time of the search (no one can book the past,
//!    nor a slot already under way);
//! 9. it lies wholly inside the search window: `start >= window.start` and `end <= window.end`.
//!
//! # Consumer matching
//! GP Connect 1.2.7 slot search (`searchFilter` with GPConnect-OrganisationType-1 and
//! ods-organization-code), as the public specification (GP Connect 1.2.7, "Search for free slots") defines it:
//!
//! | consumer sends | slot returned when                                                           |
//! |----------------|------------------------------------------------------------------------------|
//! | nothing        | the slot has neither an organisation-type nor an ODS-code restriction        |
//! | type T only    | no ODS restriction, and (no type restriction, or T among the types)          |
//! | ODS O only     | no type restriction, and (no ODS restriction, or O among the codes)          |
//! | T and O        | (no type restriction or T among them) and (no ODS restriction or O among them) |
//!
//! Who can book a slot is a list of audiences (`availability::audience`), each an organisation
//! type, a named organisation (an ODS code, or a group of the practice standing for its
//! members), or a type and a named organisation together. The table decides for **each
//! audience alone**, taken as the slot's restriction; the slot is shown when any audience lets
//! the consumer in, and to everyone when it has none:
//!
//! | audience        | matched by a consumer that sent                                  |
//! |-----------------|------------------------------------------------------------------|
//! | type X          | type X (rows "T only" and "T and O")                             |
//! | organisation N  | ODS code N, or a member's of group N (rows "O only" and "T and O") |
//! | X and N         | both type X and N (row "T and O")                                |
//!
//! In SQL that is one array overlap: `consumer_audiences` (in `sql/prelude.sql`) spells the
//! tokens the consumer's filters match, and the slot is shown when its `audiences` share one.
//! An organisation type bookable doesn't know (say `oncology`) matches no type audience, and so
//! sees only slots open to it by name or to everyone; it is not an error.
//!
//! # Windows
//! The window is an instant range. Its length is limited in Europe/London local days (at most
//! 14), so a window across a clock change is neither refused for its extra hour nor granted one.

mod explain;
mod search;
mod window;

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::codes::OdsCode;
use crate::db::ids::PracticeId;
use crate::db::named::{NamedQuery, Statement, Value};

pub use explain::{AudienceCheck, SlotExposure, explain, explain_between};
pub use search::{
    FreeSlot, LocationSummary, PractitionerSummary, ScheduleSummary, SlotSearchResult, free_slots,
};
pub use window::{SearchWindow, WindowError, local_midnight};

/// The organisation asking, as its GP Connect `searchFilter` values describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consumer {
    /// A GPConnect-OrganisationType-1 code, as sent (unknown codes simply match no restriction).
    pub org_type: Option<String>,
    pub ods_code: Option<OdsCode>,
}

impl Consumer {
    pub fn new(org_type: Option<&str>, ods_code: Option<OdsCode>) -> Self {
        Consumer {
            org_type: org_type.map(str::to_owned),
            ods_code,
        }
    }
}

/// Why a slot is not visible to a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HiddenReason {
    Busy,
    NotBookable,
    Visit,
    NoPractitionerRole,
    NoSlotType,
    NotInAudiences,
    BookingNotYetOpen,
    BookingClosed,
    LimitReached,
    AlreadyStarted,
    OutsideWindow,
}

impl HiddenReason {
    pub fn code(self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::NotBookable => "not-bookable",
            Self::Visit => "visit",
            Self::NoPractitionerRole => "no-practitioner-role",
            Self::NoSlotType => "no-slot-type",
            Self::NotInAudiences => "not-in-who-can-book",
            Self::BookingNotYetOpen => "booking-not-yet-open",
            Self::BookingClosed => "booking-closed",
            Self::LimitReached => "limit-reached",
            Self::AlreadyStarted => "already-started",
            Self::OutsideWindow => "outside-window",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        RULES
            .iter()
            .map(|r| r.reason)
            .chain([Self::OutsideWindow])
            .find(|r| r.code() == code)
    }

    /// A sentence for a practice manager.
    pub fn message(self) -> &'static str {
        match self {
            Self::Busy => "It is already booked (busy).",
            Self::NotBookable => "It is not marked as GP Connect bookable.",
            Self::Visit => "It is a home visit (Visit), which GP Connect never offers for booking.",
            Self::NoPractitionerRole => {
                "Its schedule has no practitioner role, which GP Connect requires."
            }
            Self::NoSlotType => "It has no slot type, which GP Connect requires.",
            Self::NotInAudiences => "Who can book it doesn't include this organisation.",
            Self::BookingNotYetOpen => {
                "Its booking window has not opened yet: it is further ahead than external organisations may book."
            }
            Self::BookingClosed => {
                "Its booking window has closed: it starts too soon for external organisations to book."
            }
            Self::LimitReached => {
                "A booking limit for this consumer is used up for the slot's day or week."
            }
            Self::AlreadyStarted => {
                "This slot has already started, so no one can book it any more."
            }
            Self::OutsideWindow => "It does not lie wholly inside the search window.",
        }
    }
}

/// One visibility rule: the reason, and the SQL condition (over `e`, a `slot_effective` row)
/// under which it hides the slot. `{T}`, `{O}` and `{NOW}` stand for the consumer's organisation
/// type and ODS code and the time of the search; `consumer_groups`, `consumer_audiences` and
/// `exhausted` are the CTEs
/// of `sql/prelude.sql`.
struct Rule {
    reason: HiddenReason,
    hidden_when: &'static str,
}

/// The condition under which a used-up limit `x` (a row of `exhausted`) hides slot `e`: it
/// covers the slot's schedule, and the slot's local day or ISO week.
macro_rules! limit_used_up {
    () => {
        "(x.schedule_id IS NULL OR x.schedule_id = e.schedule_id) \
         AND x.period_start = CASE x.period \
             WHEN 'day' THEN (e.start_at AT TIME ZONE 'Europe/London')::date \
             ELSE date_trunc('week', e.start_at AT TIME ZONE 'Europe/London')::date END"
    };
}

const RULES: &[Rule] = &[
    Rule {
        reason: HiddenReason::Busy,
        hidden_when: "e.status <> 'free'",
    },
    Rule {
        reason: HiddenReason::NotBookable,
        hidden_when: "NOT e.gpc_bookable",
    },
    Rule {
        reason: HiddenReason::Visit,
        hidden_when: "e.delivery_channel IS NOT DISTINCT FROM 'Visit'",
    },
    Rule {
        reason: HiddenReason::NoPractitionerRole,
        hidden_when: "e.practitioner_role IS NULL",
    },
    Rule {
        reason: HiddenReason::NoSlotType,
        hidden_when: "COALESCE(btrim(e.slot_type), '') = ''",
    },
    Rule {
        reason: HiddenReason::NotInAudiences,
        hidden_when: "cardinality(e.audiences) > 0 \
                      AND NOT e.audiences && (SELECT tokens FROM consumer_audiences)",
    },
    Rule {
        reason: HiddenReason::BookingNotYetOpen,
        hidden_when: "e.book_from_days IS NOT NULL \
                      AND ({NOW} AT TIME ZONE 'Europe/London')::date \
                          < (e.start_at AT TIME ZONE 'Europe/London')::date - e.book_from_days",
    },
    Rule {
        reason: HiddenReason::BookingClosed,
        hidden_when: "e.book_until_minutes IS NOT NULL \
                      AND e.start_at - make_interval(mins => e.book_until_minutes) < {NOW}",
    },
    Rule {
        reason: HiddenReason::LimitReached,
        hidden_when: concat!(
            "EXISTS (SELECT 1 FROM exhausted x WHERE ",
            limit_used_up!(),
            ")"
        ),
    },
    Rule {
        reason: HiddenReason::AlreadyStarted,
        hidden_when: "e.start_at <= {NOW}",
    },
];

/// The SQL condition (over `e`, a `slot_effective` row, with `{NOW}` for the time asked
/// about) under which `reason`'s rule hides a slot, for the reports to count by the same rule.
pub fn hidden_when(reason: HiddenReason) -> Option<&'static str> {
    RULES
        .iter()
        .find(|r| r.reason == reason)
        .map(|r| r.hidden_when)
}

/// Where each rule placeholder points: a value of the `params` CTE of `sql/prelude.sql`, the
/// common table expressions (with `consumer_groups` and `exhausted`) both statements start with.
fn bind_placeholders(sql: &str) -> String {
    [
        ("{PRACTICE}", "practice"),
        ("{START}", "window_start"),
        ("{END}", "window_end"),
        ("{T}", "org_type"),
        ("{O}", "ods_code"),
        ("{NOW}", "now"),
        ("{SLOT}", "slot"),
        ("{FROM}", "starting_from"),
        ("{TO}", "starting_before"),
    ]
    .iter()
    .fold(sql.to_owned(), |sql, (placeholder, column)| {
        sql.replace(placeholder, &format!("(SELECT {column} FROM params)"))
    })
}

/// `sql` after the common table expressions, with the rule placeholders pointing at `params`.
fn statement(sql: &str) -> Statement {
    let prelude = include_str!("sql/prelude.sql");
    Statement::prepared(bind_placeholders(&format!("{prelude}{sql}")))
}

/// The query's parameters that both statements bind the same way.
fn bind_consumer<'s>(
    query: NamedQuery<'s>,
    practice: PracticeId,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> NamedQuery<'s> {
    let (org_type, ods_code) = consumer_binds(consumer);
    query
        .bind("practice", Value::Int8(Some(practice.0)))
        .bind("org_type", Value::Text(org_type.map(str::to_owned)))
        .bind("ods_code", Value::Text(ods_code.map(str::to_owned)))
        .bind("now", Value::Timestamptz(Some(now)))
}

/// Slots of the practice in the window that pass every rule.
static SEARCH: LazyLock<Statement> = LazyLock::new(|| {
    let visible = RULES
        .iter()
        .map(|r| format!("AND NOT ({})", r.hidden_when))
        .collect::<Vec<_>>()
        .join("\n      ");
    statement(&include_str!("sql/search.sql").replace("{visible}", &visible))
});

/// Each slot of the practice (one slot, or those starting in [from, to)) with the reasons it is
/// hidden, the window's included when there is one.
static EXPLAIN: LazyLock<Statement> = LazyLock::new(|| {
    let reasons = RULES
        .iter()
        .map(|r| format!("CASE WHEN {} THEN '{}' END", r.hidden_when, r.reason.code()))
        .chain([format!(
            "CASE WHEN {{START}} IS NOT NULL AND NOT (e.start_at >= {{START}} AND e.end_at <= {{END}}) \
             THEN '{}' END",
            HiddenReason::OutsideWindow.code()
        )])
        .collect::<Vec<_>>()
        .join(",\n       ");
    statement(
        &include_str!("sql/explain.sql")
            .replace("{reasons}", &reasons)
            .replace("{limit_used_up}", limit_used_up!()),
    )
});

fn consumer_binds(consumer: &Consumer) -> (Option<&str>, Option<&str>) {
    (
        consumer.org_type.as_deref(),
        consumer.ods_code.as_ref().map(OdsCode::as_str),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_statements_bind_the_nine_parameters_and_leave_no_placeholder() {
        for statement in [&*SEARCH, &*EXPLAIN] {
            assert_eq!(
                statement.names(),
                [
                    "practice",
                    "window_start",
                    "window_end",
                    "org_type",
                    "ods_code",
                    "now",
                    "slot",
                    "starting_from",
                    "starting_before"
                ]
            );
            for p in [
                "{PRACTICE}",
                "{START}",
                "{END}",
                "{T}",
                "{O}",
                "{NOW}",
                "{SLOT}",
                "{FROM}",
                "{TO}",
                "{visible}",
                "{reasons}",
                "{limit_used_up}",
            ] {
                assert!(!statement.sql().contains(p), "{p} left in the SQL");
            }
        }
    }

    /// The statements as sent, for review: a change to a rule or a fragment shows here.
    #[test]
    fn search_sql() {
        insta::assert_snapshot!(SEARCH.sql());
    }

    #[test]
    fn explain_sql() {
        insta::assert_snapshot!(EXPLAIN.sql());
    }

    #[test]
    fn every_reason_code_round_trips() {
        for r in RULES
            .iter()
            .map(|r| r.reason)
            .chain([HiddenReason::OutsideWindow])
        {
            assert_eq!(HiddenReason::from_code(r.code()), Some(r));
        }
    }
}
