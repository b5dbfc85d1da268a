//! The writes of a valid document: upserts keyed on the clinical system's ids, so the same
//! document imported twice changes nothing, in batches the bind-parameter limit allows.

use std::collections::HashMap;

use chrono::Utc;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Array, Text};
use diesel::upsert::excluded;

use super::document::{LocationIn, PractitionerIn, ScheduleIn, SlotIn};
use super::validate::ParsedBookability;
use crate::db::ids::{LocationId, PracticeId, PractitionerId, ScheduleId};
use crate::db::schema::{locations, practitioners, schedules, slots};

pub(super) fn upsert_locations(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[LocationIn],
) -> QueryResult<HashMap<String, LocationId>> {
    let values: Vec<_> = rows
        .iter()
        .map(|l| {
            (
                locations::practice_id.eq(pid),
                locations::external_id.eq(&l.id),
                locations::name.eq(&l.name),
                locations::address_lines.eq(&l.address),
                locations::postcode.eq(&l.postcode),
                locations::phone.eq(&l.phone),
            )
        })
        .collect();
    if !values.is_empty() {
        diesel::insert_into(locations::table)
            .values(&values)
            .on_conflict((locations::practice_id, locations::external_id))
            .do_update()
            .set((
                locations::name.eq(excluded(locations::name)),
                locations::address_lines.eq(excluded(locations::address_lines)),
                locations::postcode.eq(excluded(locations::postcode)),
                locations::phone.eq(excluded(locations::phone)),
            ))
            .execute(conn)?;
    }
    Ok(locations::table
        .filter(locations::practice_id.eq(pid))
        .select((locations::external_id, locations::id))
        .load::<(String, LocationId)>(conn)?
        .into_iter()
        .collect())
}

pub(super) fn upsert_practitioners(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[PractitionerIn],
) -> QueryResult<HashMap<String, PractitionerId>> {
    let values: Vec<_> = rows
        .iter()
        .map(|p| {
            (
                practitioners::practice_id.eq(pid),
                practitioners::external_id.eq(&p.id),
                practitioners::family_name.eq(&p.family_name),
                practitioners::given_name.eq(&p.given_name),
                practitioners::prefix.eq(&p.prefix),
                practitioners::sds_user_id.eq(&p.sds_user_id),
                practitioners::sds_role_profile_id.eq(&p.sds_role_profile_id),
                practitioners::gender.eq(&p.gender),
            )
        })
        .collect();
    if !values.is_empty() {
        diesel::insert_into(practitioners::table)
            .values(&values)
            .on_conflict((practitioners::practice_id, practitioners::external_id))
            .do_update()
            .set((
                practitioners::family_name.eq(excluded(practitioners::family_name)),
                practitioners::given_name.eq(excluded(practitioners::given_name)),
                practitioners::prefix.eq(excluded(practitioners::prefix)),
                practitioners::sds_user_id.eq(excluded(practitioners::sds_user_id)),
                practitioners::sds_role_profile_id.eq(excluded(practitioners::sds_role_profile_id)),
                practitioners::gender.eq(excluded(practitioners::gender)),
            ))
            .execute(conn)?;
    }
    Ok(practitioners::table
        .filter(practitioners::practice_id.eq(pid))
        .select((practitioners::external_id, practitioners::id))
        .load::<(String, PractitionerId)>(conn)?
        .into_iter()
        .collect())
}

pub(super) fn upsert_schedules(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[ScheduleIn],
    bookability: &[Option<ParsedBookability>],
    location_map: &HashMap<String, LocationId>,
    practitioner_map: &HashMap<String, PractitionerId>,
) -> QueryResult<HashMap<String, ScheduleId>> {
    for (s, b) in rows.iter().zip(bookability) {
        let rota = (
            schedules::location_id.eq(location_map[&s.location]),
            schedules::practitioner_id.eq(s.practitioner.as_ref().map(|p| practitioner_map[p])),
            schedules::schedule_type.eq(&s.schedule_type),
            schedules::practitioner_role.eq(&s.practitioner_role),
            schedules::delivery_channel.eq(&s.delivery_channel),
        );
        match b {
            Some((bookable, audiences)) => diesel::insert_into(schedules::table)
                .values((
                    schedules::practice_id.eq(pid),
                    schedules::external_id.eq(&s.id),
                    rota,
                    schedules::gpc_bookable.eq(*bookable),
                    schedules::audiences.eq(audiences),
                ))
                .on_conflict((schedules::practice_id, schedules::external_id))
                .do_update()
                .set((
                    rota,
                    schedules::gpc_bookable.eq(*bookable),
                    schedules::audiences.eq(sql::<Array<Text>>(KEEP_GROUPS_SCHEDULES)),
                    schedules::version.eq(schedules::version + 1),
                ))
                .execute(conn)?,
            None => diesel::insert_into(schedules::table)
                .values((
                    schedules::practice_id.eq(pid),
                    schedules::external_id.eq(&s.id),
                    rota,
                ))
                .on_conflict((schedules::practice_id, schedules::external_id))
                .do_update()
                .set(rota)
                .execute(conn)?,
        };
    }
    Ok(schedules::table
        .filter(schedules::practice_id.eq(pid))
        .select((schedules::external_id, schedules::id))
        .load::<(String, ScheduleId)>(conn)?
        .into_iter()
        .collect())
}

/// A document's bookability names organisation types and ODS codes, never the practice's
/// groups: the group audiences a manager gave a schedule or slot stay when it is imported again.
const KEEP_GROUPS_SCHEDULES: &str = "excluded.audiences \
     || ARRAY(SELECT a FROM unnest(schedules.audiences) a WHERE a LIKE 'group:%')";
const KEEP_GROUPS_SLOTS: &str = "excluded.audiences \
     || ARRAY(SELECT a FROM unnest(slots.audiences) a WHERE a LIKE 'group:%')";

/// Rows per INSERT: well under PostgreSQL's 65,535 bind parameters.
const SLOT_BATCH: usize = 2_000;

pub(super) fn upsert_slots(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[SlotIn],
    bookability: &[Option<ParsedBookability>],
    schedule_map: &HashMap<String, ScheduleId>,
) -> QueryResult<()> {
    let rota = |s: &SlotIn| {
        (
            slots::practice_id.eq(pid),
            slots::schedule_id.eq(schedule_map[&s.schedule]),
            slots::external_id.eq(s.id.clone()),
            slots::start_at.eq(s.start.with_timezone(&Utc)),
            slots::end_at.eq(s.end.with_timezone(&Utc)),
            slots::status.eq(s.status.clone()),
            slots::slot_type.eq(s.slot_type.clone()),
            slots::delivery_channel.eq(s.delivery_channel.clone()),
        )
    };
    let rota_update = (
        slots::schedule_id.eq(excluded(slots::schedule_id)),
        slots::start_at.eq(excluded(slots::start_at)),
        slots::end_at.eq(excluded(slots::end_at)),
        slots::status.eq(excluded(slots::status)),
        slots::slot_type.eq(excluded(slots::slot_type)),
        slots::delivery_channel.eq(excluded(slots::delivery_channel)),
    );
    let (with, without): (Vec<_>, Vec<_>) =
        rows.iter().zip(bookability).partition(|(_, b)| b.is_some());

    for chunk in without.chunks(SLOT_BATCH) {
        let values: Vec<_> = chunk.iter().map(|(s, _)| rota(s)).collect();
        diesel::insert_into(slots::table)
            .values(&values)
            .on_conflict((slots::practice_id, slots::external_id))
            .do_update()
            .set(rota_update)
            .execute(conn)?;
    }
    for chunk in with.chunks(SLOT_BATCH) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(s, b)| {
                let (bookable, audiences) = b.as_ref().expect("partitioned on Some").clone();
                (
                    rota(s),
                    slots::gpc_bookable.eq(Some(bookable)),
                    slots::audiences.eq(audiences),
                )
            })
            .collect();
        diesel::insert_into(slots::table)
            .values(&values)
            .on_conflict((slots::practice_id, slots::external_id))
            .do_update()
            .set((
                rota_update,
                slots::gpc_bookable.eq(excluded(slots::gpc_bookable)),
                slots::audiences.eq(sql::<Array<Text>>(KEEP_GROUPS_SLOTS)),
                // Bookability set by the import: a manager editing this slot must reload.
                slots::version.eq(slots::version + 1),
            ))
            .execute(conn)?;
    }
    Ok(())
}
