//! Helpers shared by the test modules: the admin UI's test client and sign-in ([`web`]), the
//! headless browser ([`browser`]), and lookups of the fixture's rows.

pub mod axe;
pub mod browser;
pub mod web;

use bookable::db::ids::{PracticeId, ScheduleId};
use bookable::db::schema::schedules;
use diesel::prelude::*;

/// A practice's schedule by its external (rota) id.
pub fn schedule_id(conn: &mut PgConnection, practice: PracticeId, external: &str) -> ScheduleId {
    schedules::table
        .filter(schedules::practice_id.eq(practice))
        .filter(schedules::external_id.eq(external))
        .select(schedules::id)
        .first(conn)
        .unwrap()
}
