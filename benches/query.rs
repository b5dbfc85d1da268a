//! The query module against the raw SQL filter it stands for, on the synthetic data set
//! (200 practices × 26 weeks ≈ 6 million slots under `cargo bench`; a small set when
//! `cargo test --all-targets` runs this once as a test); then the same searches at a practice
//! with 50,000 past bookings in force and at one without (issue 15).
//!
//! cargo bench --bench query

use bookable::availability::codes::OdsCode;
use bookable::availability::query::{self, Consumer, SearchWindow};
use bookable::db::ids::PracticeId;
use bookable::seed::synthetic;
use chrono::{DateTime, NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};

mod support;

const RAW_SQL: &str = "
SELECT sl.id, sl.start_at, sl.end_at, sc.id AS schedule_id, sl.slot_type,
       COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
       sc.schedule_type, sc.practitioner_role, l.name AS location_name, p.family_name
FROM slots sl
JOIN schedules sc ON sc.id = sl.schedule_id AND sc.practice_id = sl.practice_id
JOIN locations l ON l.id = sc.location_id
LEFT JOIN practitioners p ON p.id = sc.practitioner_id
WHERE sl.practice_id = $1 AND sl.start_at >= $2 AND sl.start_at < $3 AND sl.end_at <= $3
  AND sl.status = 'free'
  AND COALESCE(sl.gpc_bookable, sc.gpc_bookable)
  AND COALESCE(sl.delivery_channel, sc.delivery_channel) IS DISTINCT FROM 'Visit'
  AND sc.practitioner_role IS NOT NULL AND sl.slot_type <> ''
  AND (cardinality(CASE WHEN sl.gpc_bookable IS NULL THEN sc.audiences ELSE sl.audiences END) = 0
       OR (CASE WHEN sl.gpc_bookable IS NULL THEN sc.audiences ELSE sl.audiences END)
          && ARRAY['type:' || $4, 'ods:' || $5, 'type:' || $4 || '+ods:' || $5])
ORDER BY sl.start_at, sl.id";

#[derive(QueryableByName)]
#[allow(dead_code)] // loaded as the module loads its rows; only the count is compared
struct RawRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamptz)]
    start_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    end_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    schedule_id: i64,
    #[diesel(sql_type = Text)]
    slot_type: String,
    #[diesel(sql_type = Nullable<Text>)]
    delivery_channel: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    schedule_type: Option<String>,
    #[diesel(sql_type = Text)]
    practitioner_role: String,
    #[diesel(sql_type = Text)]
    location_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    family_name: Option<String>,
}

fn raw(
    conn: &mut PgConnection,
    practice: PracticeId,
    w: &SearchWindow,
    c: &Consumer,
) -> Vec<RawRow> {
    diesel::sql_query(RAW_SQL)
        .bind::<BigInt, _>(practice.0)
        .bind::<Timestamptz, _>(w.start())
        .bind::<Timestamptz, _>(w.end())
        .bind::<Nullable<Text>, _>(c.org_type.as_deref())
        .bind::<Nullable<Text>, _>(c.ods_code.as_ref().map(|o| o.as_str()))
        .load(conn)
        .unwrap()
}

/// Every practice gets a group of five ODS codes (Y03032 among them) that its schedules 1, 4
/// and 7 are also bookable by, limits for urgent-care (40 a day) and for the group (100 a week),
/// 30 bookings in force by urgent-care organisations on one day, and booking windows (28 days
/// ahead, until an hour before) on every schedule.
fn use_groups_limits_and_windows(conn: &mut PgConnection) {
    for sql in [
        "INSERT INTO org_groups (practice_id, name) SELECT id, 'Our PCN' FROM practices",
        "INSERT INTO org_group_members (group_id, ods_code)
         SELECT g.id, c FROM org_groups g, unnest(ARRAY['Y03032', 'C81001', 'C81002', 'C81003', 'C81004']) c",
        "UPDATE schedules sc SET audiences = sc.audiences || ('group:' || g.id)
         FROM org_groups g WHERE g.practice_id = sc.practice_id AND sc.external_id IN ('S1', 'S4', 'S7')",
        "UPDATE schedules SET book_from_days = 28, book_until_minutes = 60",
        "INSERT INTO booking_limits (practice_id, org_type, period, max_slots)
         SELECT id, 'urgent-care', 'day', 40 FROM practices",
        "INSERT INTO booking_limits (practice_id, group_id, period, max_slots)
         SELECT practice_id, id, 'week', 100 FROM org_groups",
        "INSERT INTO bookings (practice_id, slot_id, booked_by_ods, booked_by_org_type, booked_at)
         SELECT s.practice_id, s.id, 'NLO' || (s.id % 90 + 10), 'urgent-care', now()
         FROM (SELECT id, practice_id, row_number() OVER (PARTITION BY practice_id ORDER BY id) AS n
               FROM slots WHERE status = 'free' AND start_at >= '2026-03-17' AND start_at < '2026-03-18') s
         WHERE s.n <= 30",
        "ANALYZE",
    ] {
        diesel::sql_query(sql).execute(conn).unwrap();
    }
}

fn slot_search(c: &mut Criterion) {
    let support::SyntheticSet {
        pg,
        mut conn,
        practices,
        ..
    } = support::synthetic_set();

    let ods = OdsCode::parse(&synthetic::practice_ods(practices / 2 + 1)).unwrap();
    let practice = bookable::practice::by_ods(&mut conn, &ods)
        .unwrap()
        .unwrap()
        .id;
    // 14 local days across the spring clock change (29 March 2026).
    let window = SearchWindow::local_days(
        NaiveDate::from_ymd_opt(2026, 3, 16).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
    )
    .unwrap();
    let consumer = Consumer::new(Some("urgent-care"), Some(OdsCode::parse("Y03032").unwrap()));
    // Searching on 10 March: the 14 days ahead all lie inside the 28-day booking windows.
    let now = query::local_midnight(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
    let found = query::free_slots(&mut conn, practice, &window, &consumer, now)
        .unwrap()
        .slots
        .len();
    assert_eq!(
        found,
        raw(&mut conn, practice, &window, &consumer).len(),
        "module and raw SQL agree"
    );
    assert!(found > 0);
    eprintln!("a 14-day search returns {found} slots");

    let mut group = c.benchmark_group("slot_search_14_days");
    group.bench_function("query_module", |b| {
        b.iter(|| query::free_slots(&mut conn, practice, &window, &consumer, now).unwrap())
    });
    group.bench_function("raw_sql", |b| {
        b.iter(|| raw(&mut conn, practice, &window, &consumer))
    });

    // Issue 6: the same search with groups, limits and booking windows in use at every practice.
    use_groups_limits_and_windows(&mut conn);
    let with_rules = query::free_slots(&mut conn, practice, &window, &consumer, now)
        .unwrap()
        .slots
        .len();
    eprintln!("with groups, limits and windows the search returns {with_rules} slots");
    group.bench_function("query_module_with_groups_limits_windows", |b| {
        b.iter(|| query::free_slots(&mut conn, practice, &window, &consumer, now).unwrap())
    });
    group.finish();

    history(c, &mut conn, practices);
    drop(conn);
    drop(pg);
}

/// Issue 15 item 1: a practice with a long history (past bookings still in force, never
/// released, by urgent-care organisations that its 40-a-day limit counts) searched as fast as
/// one without. Two practices of the same shape, after the groups, limits and windows above:
/// one gets the history, the other none; each search is timed on both, back to back.
fn history(c: &mut Criterion, conn: &mut PgConnection, practices: i32) {
    let full = std::env::args().any(|a| a == "--bench");
    let past = if full { 50_000 } else { 500 };
    let mut practice = |n: i32| {
        let ods = OdsCode::parse(&synthetic::practice_ods(n)).unwrap();
        bookable::practice::by_ods(conn, &ods).unwrap().unwrap().id
    };
    let (with_history, without) = (practice(practices / 2), practice(practices / 2 + 1));
    // One slot every 20 minutes before the data set (2 March 2026), each booked and never
    // released.
    diesel::sql_query(
        "INSERT INTO slots (practice_id, schedule_id, external_id, start_at, end_at, status, slot_type)
         SELECT sc.practice_id, sc.id, 'H-' || n,
                '2026-03-02'::timestamptz - make_interval(mins => 20 * n),
                '2026-03-02'::timestamptz - make_interval(mins => 20 * n - 15), 'busy', 'Slot type 0'
         FROM schedules sc, generate_series(1, $2) n
         WHERE sc.practice_id = $1 AND sc.external_id = 'S0'",
    )
    .bind::<BigInt, _>(with_history.0)
    .bind::<diesel::sql_types::Integer, _>(past)
    .execute(conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO bookings (practice_id, slot_id, booked_by_ods, booked_by_org_type, booked_at)
         SELECT practice_id, id, 'NLO' || (id % 90 + 10), 'urgent-care', start_at - interval '1 day'
         FROM slots WHERE practice_id = $1 AND external_id LIKE 'H-%'",
    )
    .bind::<BigInt, _>(with_history.0)
    .execute(conn)
    .unwrap();
    diesel::sql_query("ANALYZE").execute(conn).unwrap();
    let consumer = Consumer::new(Some("urgent-care"), Some(OdsCode::parse("Y03032").unwrap()));
    let now = query::local_midnight(NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let mut group = c.benchmark_group("slot_search_with_history");
    for (name, window) in [
        (
            "3_days",
            SearchWindow::local_days(day(17), day(19)).unwrap(),
        ),
        (
            "14_days",
            SearchWindow::local_days(day(16), day(29)).unwrap(),
        ),
    ] {
        let count = |conn: &mut PgConnection, p| {
            query::free_slots(conn, p, &window, &consumer, now)
                .unwrap()
                .slots
                .len()
        };
        let found = count(conn, with_history);
        assert_eq!(found, count(conn, without), "the history hides nothing");
        eprintln!("{name}: {found} slots, {past} past bookings in force at one practice");
        group.bench_function(format!("{name}_without_history"), |b| {
            b.iter(|| query::free_slots(conn, without, &window, &consumer, now).unwrap())
        });
        group.bench_function(format!("{name}_with_{past}_past_bookings"), |b| {
            b.iter(|| query::free_slots(conn, with_history, &window, &consumer, now).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, slot_search);
criterion_main!(benches);
