//! Practices: the organisations whose appointment books bookable manages.

use diesel::prelude::*;
use serde::Serialize;

use crate::availability::codes::OdsCode;
use crate::change_log::{self, Actor, Change};
use crate::db::ids::PracticeId;
use crate::db::schema::practices;

#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = practices)]
pub struct Practice {
    pub id: PracticeId,
    pub ods_code: String,
    pub name: String,
    pub list_size: i32,
}

pub fn by_ods(conn: &mut PgConnection, ods: &OdsCode) -> QueryResult<Option<Practice>> {
    practices::table
        .filter(practices::ods_code.eq(ods.as_str()))
        .select(Practice::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut PgConnection, id: PracticeId) -> QueryResult<Option<Practice>> {
    practices::table
        .find(id)
        .select(Practice::as_select())
        .first(conn)
        .optional()
}

pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Practice>> {
    practices::table
        .order(practices::ods_code)
        .select(Practice::as_select())
        .load(conn)
}

/// Creates the practice, or updates its name and list size when the ODS code is known.
pub fn upsert(
    conn: &mut PgConnection,
    actor: &Actor,
    ods: &OdsCode,
    name: &str,
    list_size: i32,
) -> QueryResult<Practice> {
    conn.transaction(|conn| {
        let before = by_ods(conn, ods)?;
        let practice: Practice = diesel::insert_into(practices::table)
            .values((
                practices::ods_code.eq(ods.as_str()),
                practices::name.eq(name),
                practices::list_size.eq(list_size),
            ))
            .on_conflict(practices::ods_code)
            .do_update()
            .set((practices::name.eq(name), practices::list_size.eq(list_size)))
            .returning(Practice::as_returning())
            .get_result(conn)?;
        change_log::record(
            conn,
            actor,
            Change {
                practice: Some(practice.id),
                action: if before.is_some() { "update" } else { "create" },
                entity: "practice",
                entity_id: Some(practice.id.0),
                before: before.map(|p| serde_json::json!(p)),
                after: Some(serde_json::json!(practice)),
            },
        )?;
        Ok(practice)
    })
}
