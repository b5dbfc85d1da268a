//! A synthetic data set for benchmarks and load tests: N practices, each with 3 locations,
//! 6 practitioners and 10 schedules of mixed bookability, and 230 slots per weekday for W weeks
//! (200 practices × 26 weeks ≈ 6 million slots). Generated inside PostgreSQL with set-based
//! INSERT … SELECT over generate_series, so nothing travels row by row.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Timestamptz};

/// Schedules per practice, and slots per schedule per weekday (15 minutes each from 08:00).
pub const SCHEDULES: i32 = 10;
pub const SLOTS_PER_SESSION: i32 = 23;

/// ODS code of synthetic practice `n` (1-based): `S00001`, `S00002`, …
pub fn practice_ods(n: i32) -> String {
    format!("S{n:05}")
}

/// Generates `practices` practices with `weeks` weeks of weekday slots from `first_monday`
/// (local midnight, as an instant). Triggers are bypassed for speed: the data set has no
/// bookable Visit slot, which is what they guard. (The report summary's triggers are
/// `ENABLE ALWAYS` and still mark the new days dirty.)
pub fn generate(
    conn: &mut PgConnection,
    practices: i32,
    weeks: i32,
    first_monday: DateTime<Utc>,
) -> QueryResult<()> {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::sql_query("SET LOCAL session_replication_role = replica").execute(conn)?;
        diesel::sql_query(
            "INSERT INTO practices (ods_code, name, list_size)
             SELECT 'S' || lpad(p::text, 5, '0'), 'Synthetic practice ' || p, 3000 + (p * 137) % 12000
             FROM generate_series(1, $1) p",
        )
        .bind::<Integer, _>(practices)
        .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO locations (practice_id, external_id, name, address_lines, postcode)
             SELECT pr.id, 'L' || l, pr.name || ' site ' || l, ARRAY['1 High Street', 'Leeds'], 'LS1 6AE'
             FROM practices pr, generate_series(1, 3) l WHERE pr.ods_code LIKE 'S%'",
        )
        .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO practitioners (practice_id, external_id, family_name, given_name, prefix, sds_user_id, gender)
             SELECT pr.id, 'P' || n, 'Clinician' || n, 'Alex', 'Dr', 'G' || lpad((pr.id * 10 + n)::text, 7, '0'),
                    CASE WHEN n % 2 = 0 THEN 'female' ELSE 'male' END
             FROM practices pr, generate_series(1, 6) n WHERE pr.ods_code LIKE 'S%'",
        )
        .execute(conn)?;
        // Schedule k: every 5th not bookable, the last a non-bookable Visit rota; audiences
        // (organisation types, Y03032, both together) in a repeating mix so every consumer
        // kind has work to do.
        diesel::sql_query(
            "INSERT INTO schedules (practice_id, external_id, location_id, practitioner_id, schedule_type,
                                    practitioner_role, delivery_channel, gpc_bookable, audiences)
             SELECT pr.id, 'S' || k,
                    (SELECT id FROM locations WHERE practice_id = pr.id AND external_id = 'L' || (1 + k % 3)),
                    (SELECT id FROM practitioners WHERE practice_id = pr.id AND external_id = 'P' || (1 + k % 6)),
                    'Session ' || k,
                    (ARRAY['R0260', 'R0270', 'R0620', 'R1480', 'R1290'])[1 + k % 5],
                    CASE WHEN k = $1 - 1 THEN 'Visit' ELSE (ARRAY['In-person', 'Telephone', 'Video'])[1 + k % 3] END,
                    k % 5 <> 4 AND k <> $1 - 1,
                    CASE WHEN k % 3 = 0 AND k % 4 = 1 THEN '{type:urgent-care+ods:Y03032}'::text[]
                         WHEN k % 3 = 2 AND k % 4 = 1 THEN '{type:gp-practice+ods:Y03032}'::text[]
                         WHEN k % 3 = 0 THEN '{type:urgent-care}'::text[]
                         WHEN k % 3 = 2 THEN '{type:gp-practice}'::text[]
                         WHEN k % 4 = 1 THEN '{ods:Y03032}'::text[] ELSE '{}' END
             FROM practices pr, generate_series(0, $1 - 1) k WHERE pr.ods_code LIKE 'S%'",
        )
        .bind::<Integer, _>(SCHEDULES)
        .execute(conn)?;
        // One statement per practice keeps memory flat and the rows in (practice, start) order.
        let ids: Vec<i64> = crate::db::schema::practices::table
            .filter(crate::db::schema::practices::ods_code.like("S%"))
            .select(crate::db::schema::practices::id)
            .order(crate::db::schema::practices::id)
            .load::<crate::db::ids::PracticeId>(conn)?
            .into_iter()
            .map(|p| p.0)
            .collect();
        for pid in ids {
            diesel::sql_query(
                "INSERT INTO slots (practice_id, schedule_id, external_id, start_at, end_at, status, slot_type,
                                    gpc_bookable, audiences)
                 -- Slot 5 of each session overrides its schedule: bookable by A11111 only.
                 SELECT sc.practice_id, sc.id, sc.external_id || '-' || d || '-' || i,
                        $2 + make_interval(days => d, mins => 480 + i * 15),
                        $2 + make_interval(days => d, mins => 495 + i * 15),
                        CASE WHEN (i + d) % 3 = 0 THEN 'busy' ELSE 'free' END,
                        CASE WHEN i = 22 THEN NULL ELSE 'Slot type ' || (i % 4) END,
                        CASE WHEN i = 5 AND sc.delivery_channel <> 'Visit' THEN true END,
                        CASE WHEN i = 5 THEN '{ods:A11111}'::text[] ELSE '{}' END
                 FROM generate_series(0, $3 * 7 - 1) d
                 CROSS JOIN generate_series(0, $4 - 1) i
                 CROSS JOIN schedules sc
                 WHERE sc.practice_id = $1 AND extract(isodow FROM $2 + make_interval(days => d)) < 6
                 ORDER BY d, i, sc.id",
            )
            .bind::<diesel::sql_types::BigInt, _>(pid)
            .bind::<Timestamptz, _>(first_monday)
            .bind::<Integer, _>(weeks)
            .bind::<Integer, _>(SLOTS_PER_SESSION)
            .execute(conn)?;
        }
        Ok(())
    })?;
    diesel::sql_query("VACUUM ANALYZE").execute(conn)?;
    Ok(())
}
