//! "Why is this slot hidden from that consumer?", answered from the rule table the search is
//! generated from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use serde::Serialize;

use super::{Consumer, EXPLAIN, HiddenReason, SearchWindow, bind_consumer};
use crate::availability::limits::{BookingLimit, BookingWindow};
use crate::db::ids::{LimitId, PracticeId, SlotId};
use crate::db::named::Value;

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
    let rows: Vec<ExplainRow> = bind_consumer(EXPLAIN.query(), practice, consumer, now)
        .bind(
            "window_start",
            Value::Timestamptz(window.map(|w| w.start())),
        )
        .bind("window_end", Value::Timestamptz(window.map(|w| w.end())))
        .bind("slot", Value::Int8(slot.map(|s| s.0)))
        .bind(
            "starting_from",
            Value::Timestamptz(starting_between.map(|r| r.0)),
        )
        .bind(
            "starting_before",
            Value::Timestamptz(starting_between.map(|r| r.1)),
        )
        .load(conn)?;
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
