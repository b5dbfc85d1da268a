//! The managers' change log (table `audit_log`, shown as the practice's "Audit log" page): every
//! change to what consumers may book, append-only. Callers record inside the transaction of the
//! change itself, so a change and its log row land together or not at all. Not to be confused
//! with the GP Connect request audit trail (`fhir::request_trail`). It is kept forever unless an
//! operator sets a retention period: [`remove_old`] (`bookable change-log retain`).

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Months, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::ids::{PracticeId, UserId};
use crate::db::schema::audit_log;

/// Who made a change: a signed-in user, or a named system path (an import, the demo seed).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: Option<UserId>,
    pub name: String,
}

impl Actor {
    pub fn system(name: &str) -> Self {
        Actor {
            user: None,
            name: name.to_owned(),
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow<'a> {
    practice_id: Option<PracticeId>,
    user_id: Option<UserId>,
    actor: &'a str,
    action: &'a str,
    entity: &'a str,
    entity_id: Option<i64>,
    before: Option<Value>,
    after: Option<Value>,
}

/// One change: what was done to which entity, with its state before and after.
pub struct Change<'a> {
    pub practice: Option<PracticeId>,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl<'a> Change<'a> {
    /// `action` done to `entity`, of no practice and no one row until said otherwise.
    pub fn new(action: &'a str, entity: &'a str) -> Self {
        Change {
            practice: None,
            action,
            entity,
            entity_id: None,
            before: None,
            after: None,
        }
    }

    /// `action` done to one row (`entity` `id`) of a practice's; its states with
    /// [`Self::before`] and [`Self::after`].
    pub fn edit(practice: PracticeId, action: &'a str, entity: &'a str, id: i64) -> Self {
        Self::new(action, entity).practice(practice).entity(id)
    }

    pub fn practice(self, practice: impl Into<Option<PracticeId>>) -> Self {
        Change {
            practice: practice.into(),
            ..self
        }
    }

    /// The id of the row changed.
    pub fn entity(self, id: impl Into<Option<i64>>) -> Self {
        Change {
            entity_id: id.into(),
            ..self
        }
    }

    pub fn before(self, state: impl Into<Option<Value>>) -> Self {
        Change {
            before: state.into(),
            ..self
        }
    }

    pub fn after(self, state: impl Into<Option<Value>>) -> Self {
        Change {
            after: state.into(),
            ..self
        }
    }
}

pub fn record(conn: &mut PgConnection, actor: &Actor, change: Change<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values(NewAuditRow {
            practice_id: change.practice,
            user_id: actor.user,
            actor: &actor.name,
            action: change.action,
            entity: change.entity,
            entity_id: change.entity_id,
            before: change.before,
            after: change.after,
        })
        .execute(conn)?;
    Ok(())
}

/// A change-log entry as written out before it is removed (a JSON object per line).
#[derive(Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = audit_log)]
struct Entry {
    id: i64,
    at: DateTime<Utc>,
    practice_id: Option<i64>,
    user_id: Option<i64>,
    actor: String,
    action: String,
    entity: String,
    entity_id: Option<i64>,
    before: Option<Value>,
    after: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("keep at least one month of the change log (--keep-months 1 or more)")]
    NothingKept,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("writing {0}: {1}")]
    Io(String, std::io::Error),
}

/// Entries read at a time, so years of them are never held at once.
const PAGE: i64 = 10_000;

/// Removes the entries recorded more than `keep_months` months before `now`, after writing them
/// to `out` as JSON lines (written beside it, synced, then renamed), and records the removal as
/// one entry of its own. One transaction: nothing is removed unless every entry removed is in
/// the file. Returns the entries removed.
pub fn remove_old(
    conn: &mut PgConnection,
    actor: &Actor,
    keep_months: u32,
    now: DateTime<Utc>,
    out: &Path,
) -> Result<i64, RetentionError> {
    if keep_months == 0 {
        return Err(RetentionError::NothingKept);
    }
    let cutoff = now
        .checked_sub_months(Months::new(keep_months))
        .ok_or(RetentionError::NothingKept)?;
    let label = out.display().to_string();
    let io = |e: std::io::Error| RetentionError::Io(label.clone(), e);
    let part = out.with_extension("part");
    conn.build_transaction().repeatable_read().run(|conn| {
        let mut writer = std::io::BufWriter::new(std::fs::File::create(&part).map_err(io)?);
        let (mut after, mut removed) = (i64::MIN, 0);
        loop {
            let page: Vec<Entry> = audit_log::table
                .filter(audit_log::at.lt(cutoff))
                .filter(audit_log::id.gt(after))
                .order(audit_log::id)
                .limit(PAGE)
                .select(Entry::as_select())
                .load(conn)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for entry in &page {
                serde_json::to_writer(&mut writer, entry)
                    .map_err(|e| io(std::io::Error::from(e)))?;
                writer.write_all(b"\n").map_err(io)?;
            }
            removed += page.len() as i64;
        }
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&part, out).map_err(io)?;
        diesel::sql_query("SET LOCAL bookable.change_log_retention = 'on'").execute(conn)?;
        diesel::delete(
            audit_log::table
                .filter(audit_log::at.lt(cutoff))
                .filter(audit_log::id.le(after)),
        )
        .execute(conn)?;
        diesel::sql_query("SET LOCAL bookable.change_log_retention = 'off'").execute(conn)?;
        if removed == 0 {
            return Ok(0);
        }
        let removal = serde_json::json!({
            "recorded_before": cutoff,
            "entries": removed,
            "written_to": label,
        });
        record(
            conn,
            actor,
            Change::new("remove old change-log entries", "change_log").after(removal),
        )?;
        Ok(removed)
    })
}
