//! Slot lists of the reports, one practice or a few at a time: every exposed slot (the detail
//! table) and the hidden capacity, each slot with every reason that hides it.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
use serde::Serialize;

use super::exposure::{EXPOSED, HiddenCapacityReason};
use super::period::Period;
use super::summary::org_type_values;
use crate::availability::codes::PractitionerRole;
use crate::db::ids::{PracticeId, SlotId};
use crate::db::named::{NamedQuery, Statement, Value};

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

/// A list of `slot_lines.sql`: the reasons column and the condition.
fn slot_lines_statement(reasons: &str, condition: &str) -> Statement {
    Statement::unprepared(
        include_str!("sql/slot_lines.sql")
            .replace("{reasons}", reasons)
            .replace("{condition}", condition),
    )
}

/// Exposed slots: `$practices`, `$period_start`, `$period_end`.
static DETAIL: LazyLock<Statement> =
    LazyLock::new(|| slot_lines_statement("'{}'::text[]", &format!("({})", *EXPOSED)));

/// Free, bookable slots with a hidden-capacity reason, and all their reasons: also
/// `$org_types` and `$now`.
static HIDDEN: LazyLock<Statement> = LazyLock::new(|| {
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
    slot_lines_statement(
        &format!("array_remove(ARRAY[{each}], NULL)"),
        &format!("e.status = 'free' AND e.gpc_bookable AND ({any})"),
    )
});

/// `statement` for `practices` in `period`, its other parameters bound by `bind`.
fn slot_lines(
    conn: &mut PgConnection,
    statement: &Statement,
    practices: &[PracticeId],
    period: &Period,
    bind: impl FnOnce(NamedQuery<'_>) -> NamedQuery<'_>,
) -> QueryResult<Vec<SlotLine>> {
    let query = statement
        .query()
        .bind(
            "practices",
            Value::Int8Array(practices.iter().map(|p| p.0).collect()),
        )
        .bind("period_start", Value::Timestamptz(Some(period.start())))
        .bind("period_end", Value::Timestamptz(Some(period.end())));
    let rows: Vec<SlotLineRow> = bind(query).load(conn)?;
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
) -> QueryResult<Vec<SlotLine>> {
    slot_lines(conn, &DETAIL, practices, period, |q| q)
}

/// The hidden capacity of `practices` in `period` as of `now`: free slots marked GP Connect
/// bookable that no consumer can see, each with every reason that applies.
pub fn hidden_slots(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<Vec<SlotLine>> {
    slot_lines(conn, &HIDDEN, practices, period, |q| {
        q.bind("org_types", Value::TextArray(org_type_values()))
            .bind("now", Value::Timestamptz(Some(now)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slot lists as sent, for review.
    #[test]
    fn detail_sql() {
        insta::assert_snapshot!(DETAIL.sql());
    }

    #[test]
    fn hidden_sql() {
        insta::assert_snapshot!(HIDDEN.sql());
    }
}
