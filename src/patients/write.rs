//! Writing patient records: every write moves the record's version and lands with its
//! change-log row in the caller's transaction.

use diesel::prelude::*;

use super::record::{Patient, PatientValues};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{PatientId, PracticeId};
use crate::db::schema::patients;

pub fn insert(
    conn: &mut PgConnection,
    practice: PracticeId,
    nhs_number: &str,
    values: &PatientValues,
) -> QueryResult<Patient> {
    diesel::insert_into(patients::table)
        .values((
            patients::practice_id.eq(practice),
            patients::nhs_number.eq(nhs_number),
            values,
        ))
        .returning(Patient::as_returning())
        .get_result(conn)
}

/// Writes new content: the version moves, so a consumer's ETag of the old one is stale.
pub fn update(
    conn: &mut PgConnection,
    id: PatientId,
    values: &PatientValues,
) -> QueryResult<Patient> {
    diesel::update(patients::table.find(id))
        .set((
            values,
            patients::version.eq(patients::version + 1),
            patients::updated_at.eq(diesel::dsl::now),
        ))
        .returning(Patient::as_returning())
        .get_result(conn)
}

/// One change-log row for a patient record created or changed.
pub fn record_change(
    conn: &mut PgConnection,
    actor: &Actor,
    action: &str,
    before: Option<&Patient>,
    after: &Patient,
) -> QueryResult<()> {
    change_log::record(
        conn,
        actor,
        Change::new(action, "patient")
            .practice(after.practice_id)
            .entity(after.id.0)
            .before(before.map(|b| serde_json::json!(b)))
            .after(serde_json::json!(after)),
    )
}

/// Marks the record's NHS number verified on PDS now (GP Connect #921), with its change-log row.
pub fn mark_verified_on_pds(
    conn: &mut PgConnection,
    actor: &Actor,
    id: PatientId,
) -> QueryResult<Patient> {
    conn.transaction(|conn| {
        let before = patients::table
            .find(id)
            .for_update()
            .select(Patient::as_select())
            .first(conn)?;
        let after = diesel::update(patients::table.find(id))
            .set((
                patients::nhs_number_verified.eq(true),
                patients::pds_verified_at.eq(diesel::dsl::now),
                patients::version.eq(patients::version + 1),
                patients::updated_at.eq(diesel::dsl::now),
            ))
            .returning(Patient::as_returning())
            .get_result(conn)?;
        record_change(conn, actor, "verify on PDS", Some(&before), &after)?;
        Ok(after)
    })
}
