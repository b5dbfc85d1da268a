//! The change log read back for the practice's Audit log page, filtered and newest first.
//! (Writing it is [`crate::change_log`]'s job.)

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::Value;

use crate::availability::query;
use crate::db::ids::PracticeId;

#[derive(Debug, Clone, QueryableByName, Serialize)]
pub struct AuditEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub actor: String,
    #[diesel(sql_type = Text)]
    pub action: String,
    #[diesel(sql_type = Text)]
    pub entity: String,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub entity_id: Option<i64>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Jsonb>)]
    pub before: Option<Value>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Jsonb>)]
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub action: Option<String>,
    /// Part of the actor's name.
    pub actor: Option<String>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
}

impl AuditFilter {
    /// The longest text a filter may hold (characters): a longer `actor` pattern made every
    /// viewer able to keep PostgreSQL busy for seconds.
    pub const MAX_TEXT: usize = 100;

    /// The text filters longer than [`Self::MAX_TEXT`], by name (`entity`, `action`, `actor`).
    pub fn too_long(&self) -> Vec<&'static str> {
        [
            ("entity", &self.entity),
            ("action", &self.action),
            ("actor", &self.actor),
        ]
        .into_iter()
        .filter(|(_, v)| {
            v.as_ref()
                .is_some_and(|v| v.chars().count() > Self::MAX_TEXT)
        })
        .map(|(name, _)| name)
        .collect()
    }
}

/// A practice's audit log, newest first, at most `limit` entries. Filters over
/// [`AuditFilter::MAX_TEXT`] match nothing (the page refuses them before asking); `%`, `_` and
/// `\` in the actor filter match themselves.
pub fn audit_entries(
    conn: &mut PgConnection,
    practice: PracticeId,
    filter: &AuditFilter,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    if !filter.too_long().is_empty() {
        return Ok(Vec::new());
    }
    let actor_pattern = filter.actor.as_ref().map(|a| {
        format!(
            "%{}%",
            a.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    diesel::sql_query(
        "SELECT id, at, actor, action, entity, entity_id, before, after FROM audit_log
         WHERE practice_id = $1
           AND ($2::text IS NULL OR entity = $2)
           AND ($3::bigint IS NULL OR entity_id = $3)
           AND ($4::text IS NULL OR action = $4)
           AND ($5::text IS NULL OR actor ILIKE $5)
           AND ($6::date IS NULL OR at >= $7)
           AND ($8::date IS NULL OR at < $9)
         ORDER BY at DESC, id DESC LIMIT $10",
    )
    .bind::<BigInt, _>(practice.0)
    .bind::<Nullable<Text>, _>(filter.entity.as_deref())
    .bind::<Nullable<BigInt>, _>(filter.entity_id)
    .bind::<Nullable<Text>, _>(filter.action.as_deref())
    .bind::<Nullable<Text>, _>(actor_pattern)
    .bind::<Nullable<Date>, _>(filter.first_day)
    .bind::<Nullable<Timestamptz>, _>(filter.first_day.map(query::local_midnight))
    .bind::<Nullable<Date>, _>(filter.last_day)
    .bind::<Nullable<Timestamptz>, _>(
        filter
            .last_day
            .map(|d| query::local_midnight(d + chrono::Days::new(1))),
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
}
