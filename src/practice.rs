//! Practices: the organisations whose appointment books bookable manages, found by their ODS
//! code, and registered for GP Connect by their ASID.

use diesel::prelude::*;
use serde::Serialize;

use crate::availability::codes::{Asid, CodeError, OdsCode};
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
    /// The ASID GP Connect consumers must send as `Ssp-To`; `None` while the practice is not
    /// registered. Changed only by [`set_asid`], which logs it as a change of its own.
    #[serde(skip)]
    pub asid: Option<String>,
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

/// A practice's registered list size: from 0 to a million patients (the largest practices in
/// England have about 100,000).
pub const LIST_SIZE: std::ops::RangeInclusive<i32> = 0..=1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum PracticeError {
    #[error("the list size must be from 0 to 1,000,000 registered patients")]
    ListSizeOutOfRange,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Creates the practice, or updates its name and list size when the ODS code is known.
pub fn upsert(
    conn: &mut PgConnection,
    actor: &Actor,
    ods: &OdsCode,
    name: &str,
    list_size: i32,
) -> Result<Practice, PracticeError> {
    if !LIST_SIZE.contains(&list_size) {
        return Err(PracticeError::ListSizeOutOfRange);
    }
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
            Change::new(
                if before.is_some() { "update" } else { "create" },
                "practice",
            )
            .practice(practice.id)
            .entity(practice.id.0)
            .before(before.map(|p| serde_json::json!(p)))
            .after(serde_json::json!(practice)),
        )?;
        Ok(practice)
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AsidError {
    #[error(transparent)]
    Invalid(#[from] CodeError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Registers the practice for GP Connect under `asid` (or, with `None`, withdraws it), with a
/// change-log row.
pub fn set_asid(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    asid: Option<&str>,
) -> Result<(), AsidError> {
    let asid = asid.map(Asid::parse).transpose()?;
    let asid = asid.as_ref().map(Asid::as_str);
    conn.transaction(|conn| {
        let before: Option<String> = practices::table
            .find(practice)
            .select(practices::asid)
            .first(conn)?;
        diesel::update(practices::table.find(practice))
            .set(practices::asid.eq(asid))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change::new("update", "practice_asid")
                .practice(practice)
                .entity(practice.0)
                .before(serde_json::json!({ "asid": before }))
                .after(serde_json::json!({ "asid": asid })),
        )?;
        Ok(())
    })
}
