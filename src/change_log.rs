//! The managers' change log (table `audit_log`, shown as the practice's "Audit log" page): every
//! change to what consumers may book, append-only. Callers record inside the transaction of the
//! change itself, so a change and its log row land together or not at all. Not to be confused
//! with the GP Connect request audit trail (`fhir::audit`).

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
    /// `action` done to one row (`entity` `id`) of a practice's; its states with
    /// [`Self::before`] and [`Self::after`].
    pub fn edit(practice: PracticeId, action: &'a str, entity: &'a str, id: i64) -> Self {
        Change {
            practice: Some(practice),
            action,
            entity,
            entity_id: Some(id),
            before: None,
            after: None,
        }
    }

    pub fn before(self, state: Value) -> Self {
        Change {
            before: Some(state),
            ..self
        }
    }

    pub fn after(self, state: Value) -> Self {
        Change {
            after: Some(state),
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
