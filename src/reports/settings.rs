//! The reports' settings: one row of `report_settings`, audited when changed.

use diesel::prelude::*;

use crate::change_log::{self, Actor, Change};
use crate::db::schema::report_settings;

/// The GP contract's NHS 111 direct booking ratio when nothing else is set: one appointment a
/// day per 3,000 registered patients.
pub const DEFAULT_NHS111_PATIENTS_PER_APPOINTMENT: i32 = 3000;

/// The NHS 111 ratio's range: from 1 to 100,000 registered patients per daily appointment.
pub const PATIENTS_PER_APPOINTMENT: std::ops::RangeInclusive<i32> = 1..=100_000;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the NHS 111 ratio must be from 1 to 100,000 registered patients per appointment")]
    OutOfRange,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// Registered patients per daily NHS 111 appointment (3,000 unless changed).
pub fn nhs111_patients_per_appointment(conn: &mut PgConnection) -> QueryResult<i32> {
    Ok(report_settings::table
        .select(report_settings::nhs111_patients_per_appointment)
        .first(conn)
        .optional()?
        .unwrap_or(DEFAULT_NHS111_PATIENTS_PER_APPOINTMENT))
}

/// Changes the NHS 111 ratio (NHS England asked for 1 per 500 in 2020), with an audit row.
pub fn set_nhs111_patients_per_appointment(
    conn: &mut PgConnection,
    actor: &Actor,
    patients: i32,
) -> Result<(), SettingsError> {
    if !PATIENTS_PER_APPOINTMENT.contains(&patients) {
        return Err(SettingsError::OutOfRange);
    }
    conn.transaction(|conn| {
        let before = nhs111_patients_per_appointment(conn)?;
        diesel::insert_into(report_settings::table)
            .values((
                report_settings::id.eq(true),
                report_settings::nhs111_patients_per_appointment.eq(patients),
            ))
            .on_conflict(report_settings::id)
            .do_update()
            .set((
                report_settings::nhs111_patients_per_appointment.eq(patients),
                report_settings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change::new("update", "report_settings")
                .before(serde_json::json!({ "nhs111_patients_per_appointment": before }))
                .after(serde_json::json!({ "nhs111_patients_per_appointment": patients })),
        )?;
        Ok(())
    })
}

/// The daily NHS 111 minimum for a list size: one appointment per `patients_per_appointment`
/// registered patients, rounded down, and never fewer than one (7,500 patients → 2).
pub fn nhs111_daily_minimum(list_size: i32, patients_per_appointment: i32) -> i64 {
    (i64::from(list_size.max(0)) / i64::from(patients_per_appointment.max(1))).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_rounds_down_with_at_least_one_a_day() {
        for (list, expected) in [
            (0, 1),
            (2_999, 1),
            (3_000, 1),
            (5_999, 1),
            (6_000, 2),
            (7_500, 2),
            (9_000, 3),
        ] {
            assert_eq!(nhs111_daily_minimum(list, 3_000), expected, "{list}");
        }
        assert_eq!(nhs111_daily_minimum(7_500, 500), 15);
    }
}
