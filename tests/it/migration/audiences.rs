//! The migration `…_audiences` turns each schedule's and slot's (organisation types, ODS
//! codes, groups) restriction into audiences. Every slot × consumer answer must stay the same:
//! the database is migrated up to the migration before it, seeded in the old schema with every
//! kind of restriction (on schedules and on slots overriding them), searched with the search
//! statement as it was generated then, migrated, and searched again with the query module.

use std::collections::{BTreeMap, BTreeSet};

use bookable::availability::codes::OdsCode;
use bookable::availability::query::{self, Consumer, SearchWindow};
use bookable::db::MIGRATIONS;
use bookable::db::ids::PracticeId;
use bookable::db::named::{Statement, Value};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_migrations::MigrationHarness;

use crate::fixture::day;
use crate::harness::TestDb;

const THE_MIGRATION: &str = "2026-12-02-100001_audiences";

/// Runs the pending migrations before `THE_MIGRATION`.
fn migrate_before(conn: &mut PgConnection) {
    let pending = conn.pending_migrations(MIGRATIONS).unwrap();
    for m in pending {
        if m.name().to_string().as_str() >= THE_MIGRATION {
            break;
        }
        conn.run_migration(&m).unwrap();
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

const TYPES: &[&str] = &[
    "{}",
    "{urgent-care}",
    "{gp-practice}",
    "{urgent-care,gp-practice}",
    "{oncology}",
];
const CODES: &[&str] = &["{}", "{Y03032}", "{Y03032,A11111}"];

/// One schedule per (types, codes, with the group or not); each with a slot that follows it,
/// one that overrides it with another restriction, one not bookable and one bookable by all.
fn seed_old_schema(conn: &mut PgConnection) -> PracticeId {
    let practice: Id = diesel::sql_query(
        "INSERT INTO practices (ods_code, name) VALUES ('A20047', 'Test practice') RETURNING id",
    )
    .get_result(conn)
    .unwrap();
    let p = practice.id;
    for sql in [
        "INSERT INTO locations (practice_id, external_id, name) VALUES ($1, 'L1', 'Main')",
        "INSERT INTO practitioners (practice_id, external_id, family_name) VALUES ($1, 'P1', 'Okafor')",
        "INSERT INTO org_groups (practice_id, name) VALUES ($1, 'Our PCN'), ($1, 'Empty group')",
        "INSERT INTO org_group_members (group_id, ods_code)
         SELECT id, c FROM org_groups, unnest(ARRAY['C81001', 'Y03032']) c
         WHERE practice_id = $1 AND name = 'Our PCN'",
    ] {
        diesel::sql_query(sql)
            .bind::<BigInt, _>(p)
            .execute(conn)
            .unwrap();
    }
    let mut n = 0;
    for (ti, types) in TYPES.iter().enumerate() {
        for (ci, codes) in CODES.iter().enumerate() {
            for groups in ["", "Our PCN", "Empty group"] {
                n += 1;
                let groups_sql = format!(
                    "ARRAY(SELECT id FROM org_groups WHERE practice_id = {p} AND name = '{groups}')"
                );
                let schedule: Id = diesel::sql_query(format!(
                    "INSERT INTO schedules (practice_id, external_id, location_id, practitioner_id,
                         schedule_type, practitioner_role, delivery_channel, gpc_bookable,
                         bookable_org_types, bookable_ods_codes, bookable_group_ids)
                     SELECT {p}, 'S{n}', l.id, pr.id, 'Session {n}', 'R0260', 'In-person', true,
                            '{types}', '{codes}', {groups_sql}
                     FROM locations l, practitioners pr WHERE l.practice_id = {p} AND pr.practice_id = {p}
                     RETURNING id"
                ))
                .get_result(conn)
                .unwrap();
                // The override uses another row of the table, so slots differ from schedules.
                let (other_types, other_codes) =
                    (TYPES[(ti + 2) % TYPES.len()], CODES[(ci + 1) % CODES.len()]);
                for (k, (bookable, own_types, own_codes, own_groups)) in [
                    ("NULL", "{}", "{}", "'{}'::bigint[]".to_owned()),
                    ("true", other_types, other_codes, groups_sql.clone()),
                    ("false", "{}", "{}", "'{}'::bigint[]".to_owned()),
                    ("true", "{}", "{}", "'{}'::bigint[]".to_owned()),
                    // Arrays left on a slot that follows its schedule count for nothing.
                    ("NULL", "{gp-practice}", "{A11111}", groups_sql.clone()),
                ]
                .into_iter()
                .enumerate()
                {
                    diesel::sql_query(format!(
                        "INSERT INTO slots (practice_id, schedule_id, external_id, start_at, end_at,
                             status, slot_type, gpc_bookable, bookable_org_types,
                             bookable_ods_codes, bookable_group_ids)
                         VALUES ({p}, {}, 'S{n}-{k}',
                             '2026-06-10 08:00+00'::timestamptz + make_interval(mins => {n} * 10 + {k}),
                             '2026-06-10 08:05+00'::timestamptz + make_interval(mins => {n} * 10 + {k}),
                             'free', 'Routine', {bookable}, '{own_types}', '{own_codes}', {own_groups})",
                        schedule.id
                    ))
                    .execute(conn)
                    .unwrap();
                }
            }
        }
    }
    PracticeId(p)
}

fn consumers() -> Vec<Consumer> {
    let mut out = Vec::new();
    for t in [
        None,
        Some("urgent-care"),
        Some("gp-practice"),
        Some("oncology"),
    ] {
        for o in [
            None,
            Some("Y03032"),
            Some("A11111"),
            Some("C81001"),
            Some("Z99999"),
        ] {
            out.push(Consumer::new(t, o.map(|o| OdsCode::parse(o).unwrap())));
        }
    }
    out
}

fn window() -> SearchWindow {
    SearchWindow::local_days(day(2026, 6, 10), day(2026, 6, 10)).unwrap()
}

fn now() -> DateTime<Utc> {
    window().start() - TimeDelta::days(1)
}

/// The answers of the search statement the query module generated before the migration.
fn old_answers(conn: &mut PgConnection, practice: PracticeId) -> BTreeMap<String, BTreeSet<i64>> {
    let old = Statement::prepared(include_str!("search_before_audiences.sql").to_owned());
    let w = window();
    consumers()
        .into_iter()
        .map(|c| {
            let rows: Vec<Id> = old
                .query()
                .bind("practice", Value::Int8(Some(practice.0)))
                .bind("window_start", Value::Timestamptz(Some(w.start())))
                .bind("window_end", Value::Timestamptz(Some(w.end())))
                .bind("org_type", Value::Text(c.org_type.clone()))
                .bind(
                    "ods_code",
                    Value::Text(c.ods_code.as_ref().map(|o| o.to_string())),
                )
                .bind("now", Value::Timestamptz(Some(now())))
                .bind("slot", Value::Int8(None))
                .bind("starting_from", Value::Timestamptz(None))
                .bind("starting_before", Value::Timestamptz(None))
                .load(conn)
                .unwrap();
            (format!("{c:?}"), rows.into_iter().map(|r| r.id).collect())
        })
        .collect()
}

fn new_answers(conn: &mut PgConnection, practice: PracticeId) -> BTreeMap<String, BTreeSet<i64>> {
    let w = window();
    consumers()
        .into_iter()
        .map(|c| {
            let found = query::free_slots(conn, practice, &w, &c, now()).unwrap();
            let explained =
                query::explain_between(conn, practice, w.start(), w.end(), &c, now()).unwrap();
            let shown: BTreeSet<i64> = found.slot_ids().into_iter().map(|s| s.0).collect();
            let explained_shown: BTreeSet<i64> = explained
                .iter()
                .filter(|e| e.visible())
                .map(|e| e.slot_id.0)
                .collect();
            assert_eq!(shown, explained_shown, "search and explain agree for {c:?}");
            (format!("{c:?}"), shown)
        })
        .collect()
}

#[test]
fn every_slot_answers_every_consumer_as_before_the_migration() {
    let db = TestDb::unmigrated();
    let mut conn = db.conn();
    migrate_before(&mut conn);
    let practice = seed_old_schema(&mut conn);
    let before = old_answers(&mut conn, practice);
    // The migration and every one after it: today's query module asks today's schema.
    bookable::db::migrate(&mut conn).unwrap();
    let after = new_answers(&mut conn, practice);
    assert_eq!(after, before);
    // The seed is not trivial: some consumers see many slots, some few, and they differ.
    let sizes: BTreeSet<usize> = before.values().map(BTreeSet::len).collect();
    assert!(sizes.len() >= 5, "answers of varied sizes: {sizes:?}");
    let total: i64 = diesel::sql_query("SELECT count(*) AS id FROM slots")
        .get_result::<Id>(&mut conn)
        .unwrap()
        .id;
    assert_eq!(total, 5 * 3 * 3 * 5);
    // A type and a named organisation together became "type and organisation" audiences.
    let both: Vec<Id> = diesel::sql_query(
        "SELECT id FROM schedules WHERE audiences @> '{type:urgent-care+ods:Y03032}'",
    )
    .load(&mut conn)
    .unwrap();
    assert!(!both.is_empty());
}
