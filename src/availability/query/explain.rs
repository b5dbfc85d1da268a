//! "Why is this slot hidden from that consumer?", answered from the rule table the search is
//! generated from.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text};
use serde::Serialize;

use super::{Consumer, EXPLAIN, HiddenReason, SearchWindow, bind_consumer};
use crate::availability::audience::{Audience, Audiences, Named};
use crate::availability::limits::{BookingLimit, BookingWindow};
use crate::db::ids::{GroupId, LimitId, PracticeId, SlotId};
use crate::db::named::Value;

/// Whether a slot is visible to a consumer, and if not, why; with who can book it, so a
/// message can name the audiences and why none of them matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlotExposure {
    pub slot_id: SlotId,
    /// Empty when the consumer would see the slot.
    pub reasons: Vec<HiddenReason>,
    /// Who can book it (the slot's own setting, else its schedule's).
    pub audiences: Audiences,
    /// The names of the practice's groups its audiences name.
    pub group_names: Vec<(GroupId, String)>,
    /// The audience tokens the consumer matches, as the query module spelled them.
    consumer_audiences: Vec<String>,
    /// The booking window in force (the slot's own, else its schedule's).
    pub window: BookingWindow,
    /// The booking limits used up for this consumer on the slot's day or week.
    pub limits_reached: Vec<LimitId>,
}

/// How one audience of a slot compares with the consumer: which of its parts the consumer's
/// filters matched (a part it hasn't is `None`). The audience lets the consumer in when every
/// part it has matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudienceCheck {
    pub audience: Audience,
    pub type_matched: Option<bool>,
    pub named_matched: Option<bool>,
}

impl AudienceCheck {
    pub fn matched(&self) -> bool {
        self.type_matched != Some(false) && self.named_matched != Some(false)
    }
}

impl SlotExposure {
    pub fn visible(&self) -> bool {
        self.reasons.is_empty()
    }

    pub fn group_name(&self, id: GroupId) -> Option<String> {
        self.group_names
            .iter()
            .find(|(g, _)| *g == id)
            .map(|(_, n)| n.clone())
    }

    /// Each audience with the parts the consumer matched, from the tokens the query module's
    /// statement said the consumer matches (a part alone is its own token).
    pub fn audience_checks(&self) -> Vec<AudienceCheck> {
        let matches = |token: String| self.consumer_audiences.contains(&token);
        self.audiences
            .iter()
            .map(|a| AudienceCheck {
                audience: a.clone(),
                type_matched: a.type_code().map(|t| matches(format!("type:{t}"))),
                named_matched: a
                    .named_part()
                    .map(|n| matches(Audience::named(n.clone()).token())),
            })
            .collect()
    }

    /// Who can book the slot, and for each audience why the consumer is not in it.
    fn audiences_explanation(&self) -> String {
        let names = |g: GroupId| self.group_name(g);
        let why: Vec<String> = self
            .audience_checks()
            .iter()
            .filter(|c| !c.matched())
            .map(|c| {
                let a = &c.audience;
                let mut missing = Vec::new();
                if c.type_matched == Some(false) {
                    missing.push(format!(
                        "it is not {}",
                        match a.type_code() {
                            Some(crate::availability::audience::URGENT_CARE) =>
                                "an urgent care service (NHS 111)".to_owned(),
                            Some(crate::availability::audience::GP_PRACTICE) =>
                                "a GP practice".to_owned(),
                            Some(other) => format!("of type '{other}'"),
                            None => String::new(),
                        }
                    ));
                }
                if c.named_matched == Some(false) {
                    missing.push(match a.named_part() {
                        Some(Named::Ods(code)) => format!("it is not {code}"),
                        Some(Named::Group(g)) => format!(
                            "it is not in the group {}",
                            names(*g).unwrap_or_else(|| "that no longer exists".into())
                        ),
                        None => String::new(),
                    });
                }
                format!("not {}: {}", a.describe(&names), missing.join(" and "))
            })
            .collect();
        format!(
            "Who can book it: {}. This organisation is in none of these ({}).",
            self.audiences.describe(&names),
            why.join("; ")
        )
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
            HiddenReason::NotInAudiences => self.audiences_explanation(),
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
    audiences: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    consumer_audiences: Vec<String>,
    #[diesel(sql_type = Array<BigInt>)]
    group_ids: Vec<i64>,
    #[diesel(sql_type = Array<Text>)]
    group_names: Vec<String>,
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
    rows.into_iter()
        .map(|row| {
            Ok(SlotExposure {
                slot_id: SlotId(row.id),
                reasons: row
                    .reasons
                    .iter()
                    .filter_map(|c| HiddenReason::from_code(c))
                    .collect(),
                audiences: Audiences::from_tokens(&row.audiences)
                    .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?,
                group_names: row
                    .group_ids
                    .into_iter()
                    .map(GroupId)
                    .zip(row.group_names)
                    .collect(),
                consumer_audiences: row.consumer_audiences,
                window: BookingWindow {
                    from_days: row.book_from_days,
                    until_minutes: row.book_until_minutes,
                },
                limits_reached: row.limits_reached.into_iter().map(LimitId).collect(),
            })
        })
        .collect()
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
