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
//! 5. it matches the consumer (table below);
//! 6. its booking window is open at the time of the search: no earlier than `book_from_days`
//!    local days before the slot's (Europe/London) day, and no later than `book_until_minutes`
//!    before it starts;
//! 7. no booking limit that applies to the consumer (its organisation type, its ODS code, or a
//!    group it belongs to; for the slot's schedule or the whole practice) is used up for the
//!    slot's local day or ISO week, counting the bookings in force;
//! 8. it lies wholly inside the search window: `start >= window.start` and `end <= window.end`.
//!
//! # Consumer matching
//! GP Connect 1.2.7 slot search (`searchFilter` with GPConnect-OrganisationType-1 and
//! ods-organization-code), as digested in `shared/spec/slot-availability-1.2.7.md`:
//!
//! | consumer sends | slot returned when                                                           |
//! |----------------|------------------------------------------------------------------------------|
//! | nothing        | the slot has neither an organisation-type nor an ODS-code restriction        |
//! | type T only    | no ODS restriction, and (no type restriction, or T among the types)          |
//! | ODS O only     | no type restriction, and (no ODS restriction, or O among the codes)          |
//! | T and O        | (no type restriction or T among them) and (no ODS restriction or O among them) |
//!
//! All four rows are one rule applied to each kind of restriction separately: a restriction of a
//! kind is passed only by a consumer that sent a matching value of that kind. Named
//! organisations are the slot's ODS codes together with the members of its organisation groups. An organisation
//! type bookable doesn't know (say `oncology`) passes no type restriction, and so sees only
//! slots without one; it is not an error.
//!
//! # Windows
//! The window is an instant range. Its length is limited in Europe/London local days (at most
//! 14), so a window across a clock change is neither refused for its extra hour nor granted one.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz, Untyped};
use serde::Serialize;

use super::codes::{DeliveryChannel, OdsCode};
use super::limits::{BookingLimit, BookingWindow};
use crate::db::ids::{LimitId, LocationId, PracticeId, PractitionerId, ScheduleId, SlotId};

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

/// A search window: an instant range of at most 14 Europe/London local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchWindow {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the end of the search window is before its start")]
    Negative,
    #[error("the search window is longer than {max} days (counted in UK local time)", max = SearchWindow::MAX_LOCAL_DAYS)]
    TooLong,
}

impl SearchWindow {
    pub const MAX_LOCAL_DAYS: i64 = 14;

    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, WindowError> {
        if end < start {
            return Err(WindowError::Negative);
        }
        let local_span =
            end.with_timezone(&London).naive_local() - start.with_timezone(&London).naive_local();
        if local_span > chrono::TimeDelta::days(Self::MAX_LOCAL_DAYS) {
            return Err(WindowError::TooLong);
        }
        Ok(SearchWindow { start, end })
    }

    /// From local midnight at the start of `first` to local midnight after `last`.
    pub fn local_days(first: NaiveDate, last: NaiveDate) -> Result<Self, WindowError> {
        let after_last = last
            .checked_add_days(Days::new(1))
            .ok_or(WindowError::TooLong)?;
        SearchWindow::new(local_midnight(first), local_midnight(after_last))
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
}

/// The instant a local day starts in Europe/London (midnight always exists there: the clocks
/// change at 01:00 GMT).
pub fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    London
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .expect("midnight exists in Europe/London")
        .with_timezone(&Utc)
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
    OrganisationTypeRestricted,
    OdsCodeRestricted,
    BookingNotYetOpen,
    BookingClosed,
    LimitReached,
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
            Self::OrganisationTypeRestricted => "organisation-type-restricted",
            Self::OdsCodeRestricted => "ods-code-restricted",
            Self::BookingNotYetOpen => "booking-not-yet-open",
            Self::BookingClosed => "booking-closed",
            Self::LimitReached => "limit-reached",
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
            Self::OrganisationTypeRestricted => {
                "It is restricted to organisation types this consumer is not one of."
            }
            Self::OdsCodeRestricted => {
                "It is restricted to named organisations (ODS codes or groups) that don't include this consumer."
            }
            Self::BookingNotYetOpen => {
                "Its booking window has not opened yet: it is further ahead than external organisations may book."
            }
            Self::BookingClosed => {
                "Its booking window has closed: it starts too soon for external organisations to book."
            }
            Self::LimitReached => {
                "A booking limit for this consumer is used up for the slot's day or week."
            }
            Self::OutsideWindow => "It does not lie wholly inside the search window.",
        }
    }
}

/// One visibility rule: the reason, and the SQL condition (over `e`, a `slot_effective` row)
/// under which it hides the slot. `{T}`, `{O}` and `{NOW}` stand for the consumer's organisation
/// type and ODS code and the time of the search; `consumer_groups` and `exhausted` are the CTEs
/// of [`PRELUDE`].
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
        reason: HiddenReason::OrganisationTypeRestricted,
        hidden_when: "cardinality(e.bookable_org_types) > 0 \
                      AND NOT COALESCE({T} = ANY(e.bookable_org_types), false)",
    },
    Rule {
        reason: HiddenReason::OdsCodeRestricted,
        hidden_when: "(cardinality(e.bookable_ods_codes) > 0 OR cardinality(e.bookable_group_ids) > 0) \
                      AND NOT COALESCE({O} = ANY(e.bookable_ods_codes), false) \
                      AND NOT e.bookable_group_ids && (SELECT ids FROM consumer_groups)",
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
];

/// Common table expressions the rules use, computed once per query:
/// - `params`: the query's parameters, each bound once (see [`Prepared`]);
/// - `consumer_groups`: the ids of this practice's organisation groups the consumer's ODS code
///   belongs to;
/// - `exhausted`: the (scope, period) pairs where a booking limit applying to the consumer is used
///   up by the bookings in force (periods are Europe/London local days or ISO weeks).
const PRELUDE: &str = "
WITH params AS MATERIALIZED (
    SELECT {BIND}::int8 AS practice, {BIND}::timestamptz AS window_start,
           {BIND}::timestamptz AS window_end, {BIND}::text AS org_type, {BIND}::text AS ods_code,
           {BIND}::timestamptz AS now, {BIND}::int8 AS slot,
           {BIND}::timestamptz AS starting_from, {BIND}::timestamptz AS starting_before
), consumer_groups AS (
    SELECT COALESCE(array_agg(m.group_id), '{}') AS ids
    FROM org_group_members m JOIN org_groups g ON g.id = m.group_id
    WHERE g.practice_id = {PRACTICE} AND m.ods_code = {O}
), exhausted AS MATERIALIZED (
    SELECT bl.id AS limit_id, bl.schedule_id, bl.period, used.period_start
    FROM booking_limits bl
    JOIN LATERAL (
        SELECT CASE bl.period
                   WHEN 'day' THEN (bs.start_at AT TIME ZONE 'Europe/London')::date
                   ELSE date_trunc('week', bs.start_at AT TIME ZONE 'Europe/London')::date
               END AS period_start,
               count(*) AS booked
        FROM bookings b JOIN slots bs ON bs.id = b.slot_id
        WHERE b.practice_id = {PRACTICE} AND b.released_at IS NULL
          AND (bl.schedule_id IS NULL OR bs.schedule_id = bl.schedule_id)
          AND (b.booked_by_org_type = bl.org_type OR b.booked_by_ods = bl.ods_code
               OR EXISTS (SELECT 1 FROM org_group_members gm
                          WHERE gm.group_id = bl.group_id AND gm.ods_code = b.booked_by_ods))
        GROUP BY 1
    ) used ON used.booked >= bl.max_slots
    WHERE bl.practice_id = {PRACTICE}
      AND (bl.org_type = {T} OR bl.ods_code = {O}
           OR bl.group_id IN (SELECT unnest(ids) FROM consumer_groups))
)";

/// Where each parameter goes: a value of the `params` CTE.
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

/// Marks where [`Prepared`] binds a parameter.
const BIND: &str = "{BIND}";

/// One parameter of a [`Prepared`] query, in `params` order.
enum Param {
    Int8(Option<i64>),
    Timestamptz(Option<DateTime<Utc>>),
    Text(Option<String>),
}

/// A query of fixed text whose parameters are each bound once, in the `params` CTE, so diesel
/// keeps it as a prepared statement and PostgreSQL plans it once per connection instead of at
/// every search (`diesel::sql_query` is never prepared, and planning this query took as long as
/// running it).
struct Prepared {
    sql: &'static str,
    params: [Param; 9],
}

impl Prepared {
    fn new(
        sql: &'static str,
        practice: PracticeId,
        consumer: &Consumer,
        now: DateTime<Utc>,
    ) -> Self {
        let (org_type, ods_code) = consumer_binds(consumer);
        Prepared {
            sql,
            params: [
                Param::Int8(Some(practice.0)),
                Param::Timestamptz(None),
                Param::Timestamptz(None),
                Param::Text(org_type.map(str::to_owned)),
                Param::Text(ods_code.map(str::to_owned)),
                Param::Timestamptz(Some(now)),
                Param::Int8(None),
                Param::Timestamptz(None),
                Param::Timestamptz(None),
            ],
        }
    }
}

impl QueryFragment<Pg> for Prepared {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut pieces = self.sql.split(BIND);
        out.push_sql(pieces.next().unwrap_or_default());
        for (param, piece) in self.params.iter().zip(pieces) {
            match param {
                Param::Int8(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Param::Timestamptz(v) => out.push_bind_param::<Nullable<Timestamptz>, _>(v)?,
                Param::Text(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl QueryId for Prepared {
    type QueryId = ();
    // No static id: diesel's statement cache then keys the statement by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared {}

/// Slots of the practice in the window that pass every rule.
static SEARCH_SQL: LazyLock<String> = LazyLock::new(|| {
    let visible = RULES
        .iter()
        .map(|r| format!("AND NOT ({})", r.hidden_when))
        .collect::<Vec<_>>()
        .join("\n  ");
    // Schedule, location and practitioner details travel once, on each schedule's first slot,
    // and locations and practitioners are looked up for those rows only.
    bind_placeholders(&format!(
        "{PRELUDE}
         SELECT s.id, s.schedule_id, s.start_at, s.end_at, s.slot_type, s.delivery_channel,
                s.location_id, s.practitioner_id,
                CASE WHEN s.first THEN s.schedule_type END AS schedule_type,
                CASE WHEN s.first THEN s.practitioner_role END AS practitioner_role,
                l.name AS location_name, l.address_lines, l.postcode, l.phone,
                p.family_name, p.given_name, p.prefix, p.sds_user_id, p.sds_role_profile_id,
                p.gender
         FROM (
             SELECT e.id, e.schedule_id, e.start_at, e.end_at, e.slot_type, e.delivery_channel,
                    e.location_id, e.practitioner_id, e.schedule_type, e.practitioner_role,
                    row_number() OVER (PARTITION BY e.schedule_id ORDER BY e.start_at, e.id) = 1
                        AS first
             FROM slot_effective e
             WHERE e.practice_id = {{PRACTICE}}
               AND e.start_at >= {{START}} AND e.start_at < {{END}} AND e.end_at <= {{END}}
               {visible}
         ) s
         LEFT JOIN locations l ON s.first AND l.id = s.location_id
         LEFT JOIN practitioners p ON s.first AND p.id = s.practitioner_id
         ORDER BY s.start_at, s.id"
    ))
});

/// Each slot of the practice (one slot, or those starting in [from, to)) with the reasons it is
/// hidden, the window's included when there is one.
static EXPLAIN_SQL: LazyLock<String> = LazyLock::new(|| {
    let reasons = RULES
        .iter()
        .map(|r| format!("CASE WHEN {} THEN '{}' END", r.hidden_when, r.reason.code()))
        .chain([format!(
            "CASE WHEN {{START}} IS NOT NULL AND NOT (e.start_at >= {{START}} AND e.end_at <= {{END}}) \
             THEN '{}' END",
            HiddenReason::OutsideWindow.code()
        )])
        .collect::<Vec<_>>()
        .join(",\n ");
    let limit_used_up = limit_used_up!();
    bind_placeholders(&format!(
        "{PRELUDE}
         SELECT e.id, array_remove(ARRAY[{reasons}], NULL) AS reasons,
                e.bookable_org_types, e.bookable_ods_codes, e.book_from_days, e.book_until_minutes,
                ARRAY(SELECT x.limit_id FROM exhausted x WHERE {limit_used_up} ORDER BY 1)
                    AS limits_reached
         FROM slot_effective e
         WHERE e.practice_id = {{PRACTICE}}
           AND ({{SLOT}} IS NULL OR e.id = {{SLOT}})
           AND ({{FROM}} IS NULL OR (e.start_at >= {{FROM}} AND e.start_at < {{TO}}))
         ORDER BY e.start_at, e.id"
    ))
});

/// A free slot a consumer may book.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FreeSlot {
    pub id: SlotId,
    pub schedule_id: ScheduleId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub slot_type: String,
    pub delivery_channel: Option<DeliveryChannel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ScheduleSummary {
    pub id: ScheduleId,
    /// Schedule.serviceCategory.text: the session name.
    pub schedule_type: Option<String>,
    /// SDS job role code.
    pub practitioner_role: String,
    pub location_id: LocationId,
    pub practitioner_id: Option<PractitionerId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct LocationSummary {
    pub id: LocationId,
    pub name: String,
    pub address_lines: Vec<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PractitionerSummary {
    pub id: PractitionerId,
    pub family_name: String,
    pub given_name: Option<String>,
    pub prefix: Option<String>,
    pub sds_user_id: Option<String>,
    pub sds_role_profile_id: Option<String>,
    pub gender: Option<String>,
}

/// Everything a GP Connect slot search response needs: the slots in start order, and each
/// schedule, location and practitioner they refer to, once, in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlotSearchResult {
    pub slots: Vec<FreeSlot>,
    pub schedules: Vec<ScheduleSummary>,
    pub locations: Vec<LocationSummary>,
    pub practitioners: Vec<PractitionerSummary>,
}

impl SlotSearchResult {
    pub fn slot_ids(&self) -> Vec<SlotId> {
        self.slots.iter().map(|s| s.id).collect()
    }
}

#[derive(QueryableByName)]
struct SearchRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    schedule_id: i64,
    #[diesel(sql_type = Timestamptz)]
    start_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    end_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    slot_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    delivery_channel: Option<String>,
    #[diesel(sql_type = BigInt)]
    location_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    practitioner_id: Option<i64>,
    /// This and the fields below: only on the first row of each schedule.
    #[diesel(sql_type = Nullable<Text>)]
    schedule_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    practitioner_role: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    location_name: Option<String>,
    #[diesel(sql_type = Nullable<Array<Text>>)]
    address_lines: Option<Vec<String>>,
    #[diesel(sql_type = Nullable<Text>)]
    postcode: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    phone: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    family_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    given_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    prefix: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    sds_user_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    sds_role_profile_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    gender: Option<String>,
}

fn consumer_binds(consumer: &Consumer) -> (Option<&str>, Option<&str>) {
    (
        consumer.org_type.as_deref(),
        consumer.ods_code.as_ref().map(OdsCode::as_str),
    )
}

fn parse_channel(code: Option<String>) -> QueryResult<Option<DeliveryChannel>> {
    code.map(|c| DeliveryChannel::parse(&c))
        .transpose()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// The free slots of `practice` inside `window` that `consumer` may book when searching at
/// `now` (booking windows and limits depend on it), in one SQL query.
pub fn free_slots(
    conn: &mut PgConnection,
    practice: PracticeId,
    window: &SearchWindow,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> QueryResult<SlotSearchResult> {
    let mut query = Prepared::new(SEARCH_SQL.as_str(), practice, consumer, now);
    query.params[1] = Param::Timestamptz(Some(window.start));
    query.params[2] = Param::Timestamptz(Some(window.end));
    let rows: Vec<SearchRow> = query.load(conn)?;

    let mut result = SlotSearchResult {
        slots: Vec::with_capacity(rows.len()),
        ..Default::default()
    };
    let mut schedules = BTreeMap::new();
    let mut locations = BTreeMap::new();
    let mut practitioners = BTreeMap::new();
    for row in rows {
        result.slots.push(FreeSlot {
            id: SlotId(row.id),
            schedule_id: ScheduleId(row.schedule_id),
            start: row.start_at,
            end: row.end_at,
            slot_type: row.slot_type,
            delivery_channel: parse_channel(row.delivery_channel)?,
        });
        // A schedule's first row carries its details (the query guarantees it).
        let Some(practitioner_role) = row.practitioner_role else {
            continue;
        };
        if schedules.insert(row.schedule_id, ()).is_none() {
            result.schedules.push(ScheduleSummary {
                id: ScheduleId(row.schedule_id),
                schedule_type: row.schedule_type,
                practitioner_role,
                location_id: LocationId(row.location_id),
                practitioner_id: row.practitioner_id.map(PractitionerId),
            });
        }
        if let Some(name) = row.location_name
            && locations.insert(row.location_id, ()).is_none()
        {
            result.locations.push(LocationSummary {
                id: LocationId(row.location_id),
                name,
                address_lines: row.address_lines.unwrap_or_default(),
                postcode: row.postcode,
                phone: row.phone,
            });
        }
        if let (Some(id), Some(family_name)) = (row.practitioner_id, row.family_name)
            && practitioners.insert(id, ()).is_none()
        {
            result.practitioners.push(PractitionerSummary {
                id: PractitionerId(id),
                family_name,
                given_name: row.given_name,
                prefix: row.prefix,
                sds_user_id: row.sds_user_id,
                sds_role_profile_id: row.sds_role_profile_id,
                gender: row.gender,
            });
        }
    }
    Ok(result)
}

/// Whether a slot is visible to a consumer, and if not, why; with the restrictions in force,
/// so a message can name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotExposure {
    pub slot_id: SlotId,
    /// Empty when the consumer would see the slot.
    pub reasons: Vec<HiddenReason>,
    pub org_types: Vec<String>,
    pub ods_codes: Vec<String>,
    /// The booking window in force (the slot's own, else its schedule's).
    pub window: BookingWindow,
    /// The booking limits used up for this consumer on the slot's day or week.
    pub limits_reached: Vec<LimitId>,
}

impl SlotExposure {
    pub fn visible(&self) -> bool {
        self.reasons.is_empty()
    }

    /// A sentence per reason for a practice manager; see [`SlotExposure::explanation`].
    pub fn explanations(&self, limits: &[BookingLimit]) -> Vec<String> {
        self.reasons
            .iter()
            .map(|r| self.explanation(*r, limits))
            .collect()
    }

    /// A sentence for a practice manager on why `reason` hides the slot, naming the booking
    /// window or the limit (from `limits`, the practice's) that does.
    pub fn explanation(&self, reason: HiddenReason, limits: &[BookingLimit]) -> String {
        match reason {
            HiddenReason::BookingNotYetOpen => format!(
                "Its booking window has not opened yet: external organisations may book it from {} \
                 days before its day.",
                self.window.from_days.unwrap_or_default()
            ),
            HiddenReason::BookingClosed => format!(
                "Its booking window has closed: external organisations may book it until {} \
                 minutes before it starts.",
                self.window.until_minutes.unwrap_or_default()
            ),
            HiddenReason::LimitReached => {
                let used: Vec<String> = limits
                    .iter()
                    .filter(|l| self.limits_reached.contains(&l.id))
                    .map(BookingLimit::describe)
                    .collect();
                format!(
                    "A booking limit is used up for the slot's day or week: {}.",
                    used.join("; ")
                )
            }
            other => other.message().to_owned(),
        }
    }
}

#[derive(QueryableByName)]
struct ExplainRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Array<Text>)]
    reasons: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    bookable_org_types: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    bookable_ods_codes: Vec<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    book_from_days: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    book_until_minutes: Option<i32>,
    #[diesel(sql_type = Array<BigInt>)]
    limits_reached: Vec<i64>,
}

fn explain_query(
    conn: &mut PgConnection,
    practice: PracticeId,
    consumer: &Consumer,
    now: DateTime<Utc>,
    window: Option<&SearchWindow>,
    slot: Option<SlotId>,
    starting_between: Option<(DateTime<Utc>, DateTime<Utc>)>,
) -> QueryResult<Vec<SlotExposure>> {
    let mut query = Prepared::new(EXPLAIN_SQL.as_str(), practice, consumer, now);
    query.params[1] = Param::Timestamptz(window.map(|w| w.start));
    query.params[2] = Param::Timestamptz(window.map(|w| w.end));
    query.params[6] = Param::Int8(slot.map(|s| s.0));
    query.params[7] = Param::Timestamptz(starting_between.map(|r| r.0));
    query.params[8] = Param::Timestamptz(starting_between.map(|r| r.1));
    let rows: Vec<ExplainRow> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| SlotExposure {
            slot_id: SlotId(row.id),
            reasons: row
                .reasons
                .iter()
                .filter_map(|c| HiddenReason::from_code(c))
                .collect(),
            org_types: row.bookable_org_types,
            ods_codes: row.bookable_ods_codes,
            window: BookingWindow {
                from_days: row.book_from_days,
                until_minutes: row.book_until_minutes,
            },
            limits_reached: row.limits_reached.into_iter().map(LimitId).collect(),
        })
        .collect())
}

/// Why `slot` of `practice` is (or isn't) visible to `consumer` searching at `now`, optionally
/// within a search window. `None` when the practice has no such slot.
pub fn explain(
    conn: &mut PgConnection,
    practice: PracticeId,
    slot: SlotId,
    consumer: &Consumer,
    now: DateTime<Utc>,
    window: Option<&SearchWindow>,
) -> QueryResult<Option<SlotExposure>> {
    Ok(explain_query(conn, practice, consumer, now, window, Some(slot), None)?.pop())
}

/// The exposure of every slot of `practice` starting in [from, to), for `consumer` searching at
/// `now`, in start order: the week view and the reports use it to say why a slot is hidden.
pub fn explain_between(
    conn: &mut PgConnection,
    practice: PracticeId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SlotExposure>> {
    explain_query(conn, practice, consumer, now, None, None, Some((from, to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn fourteen_local_days_are_accepted_across_both_clock_changes() {
        let spring = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let w = SearchWindow::local_days(spring(23), NaiveDate::from_ymd_opt(2026, 4, 5).unwrap());
        assert!(
            w.is_ok(),
            "spring window of 14 local days (13 d 23 h) is accepted"
        );
        let autumn = SearchWindow::local_days(
            NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        );
        assert!(
            autumn.is_ok(),
            "autumn window of 14 local days (14 d 1 h) is accepted"
        );
        let fifteen = SearchWindow::local_days(
            NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        );
        assert_eq!(fifteen, Err(WindowError::TooLong));
    }

    #[test]
    fn negative_windows_are_refused_and_empty_ones_allowed() {
        let t = london(2026, 6, 1, 9);
        assert_eq!(
            SearchWindow::new(t, t - chrono::TimeDelta::seconds(1)),
            Err(WindowError::Negative)
        );
        assert!(SearchWindow::new(t, t).is_ok());
    }

    #[test]
    fn local_days_start_at_local_midnight() {
        let w = SearchWindow::local_days(
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        )
        .unwrap();
        assert_eq!(w.start().to_rfc3339(), "2026-06-30T23:00:00+00:00");
        assert_eq!(w.end().to_rfc3339(), "2026-07-01T23:00:00+00:00");
    }

    #[test]
    fn both_queries_bind_each_parameter_once_and_leave_no_placeholder() {
        for sql in [SEARCH_SQL.as_str(), EXPLAIN_SQL.as_str()] {
            assert_eq!(sql.matches(BIND).count(), 9);
            assert!(!sql.contains('$'), "parameters go through the params CTE");
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
            ] {
                assert!(!sql.contains(p), "{p} left in the SQL");
            }
        }
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
