//! The demo seed: realistic, idempotent, and through the same paths as production data.

use bookable::availability::codes::OdsCode;
use bookable::availability::query::{self, Consumer, SearchWindow};
use bookable::db::schema::{practices, schedules, slots, users};
use bookable::practice;
use bookable::seed::demo;
use chrono::{Days, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;

use crate::harness::TestDb;

#[test]
fn the_demo_seed_is_realistic_and_can_run_twice() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    demo::seed(&mut conn, today).unwrap();
    let counts = |conn: &mut PgConnection| -> (i64, i64, i64) {
        (
            practices::table.count().get_result(conn).unwrap(),
            schedules::table.count().get_result(conn).unwrap(),
            slots::table.count().get_result(conn).unwrap(),
        )
    };
    let first = counts(&mut conn);
    assert_eq!((first.0, first.1), (2, 12));
    demo::seed(&mut conn, today).unwrap();
    assert_eq!(counts(&mut conn), first, "a second seed changes nothing");

    let channels: Vec<Option<String>> = schedules::table
        .select(schedules::delivery_channel)
        .distinct()
        .load(&mut conn)
        .unwrap();
    for c in ["In-person", "Telephone", "Video", "Visit"] {
        assert!(channels.contains(&Some(c.to_owned())), "{c}");
    }
    let hash: String = users::table
        .filter(users::username.eq(demo::DEMO_USER))
        .select(users::password_hash)
        .first(&mut conn)
        .unwrap();
    assert!(bookable::users::verify_password(demo::DEMO_PASSWORD, &hash));

    let a = practice::by_ods(&mut conn, &OdsCode::parse("A20047").unwrap())
        .unwrap()
        .unwrap();
    let window = SearchWindow::local_days(today, today + Days::new(13)).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap();
    let nhs111 = Consumer::new(Some("urgent-care"), Some(OdsCode::parse("NLO10").unwrap()));
    let seen = query::free_slots(&mut conn, a.id, &window, &nhs111, now).unwrap();
    assert!(
        !seen.slots.is_empty(),
        "NHS 111 can book something in the next fortnight"
    );
    assert!(
        seen.slots
            .iter()
            .all(|s| s.delivery_channel.map(|c| c.code()) != Some("Visit"))
    );
    let pcn = Consumer::new(None, Some(OdsCode::parse("C81001").unwrap()));
    let pcn_seen = query::free_slots(&mut conn, a.id, &window, &pcn, now).unwrap();
    assert!(
        pcn_seen
            .schedules
            .iter()
            .any(|s| s.schedule_type.as_deref() == Some("Practice nurse clinic")),
        "the PCN group sees the nurse clinic"
    );
}

#[test]
fn the_demo_has_appointments_in_every_state_and_seeds_them_once() {
    use bookable::db::schema::{appointment_events, appointments};
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    demo::seed(&mut conn, today).unwrap();
    bookable::patients::import::import_json(
        &mut conn,
        &bookable::change_log::Actor::system("test"),
        bookable::patients::import::DEMO_PATIENTS,
    )
    .unwrap();
    bookable::seed::appointments::seed(&mut conn, today).unwrap();
    let states = |conn: &mut PgConnection| -> Vec<(String, String, i32)> {
        appointments::table
            .order(appointments::id)
            .select((
                appointments::source,
                appointments::status,
                appointments::version,
            ))
            .load(conn)
            .unwrap()
    };
    let seeded = states(&mut conn);
    let has = |source: &str, status: &str, version: i32| {
        seeded
            .iter()
            .any(|s| (s.0.as_str(), s.1.as_str(), s.2) == (source, status, version))
    };
    assert!(has("gp-connect", "booked", 1), "{seeded:?}");
    assert!(has("gp-connect", "booked", 2), "amended: {seeded:?}");
    assert!(has("gp-connect", "cancelled", 2), "{seeded:?}");
    assert!(has("practice-system", "booked", 1), "{seeded:?}");
    assert!(has("practice-system", "cancelled", 1), "{seeded:?}");
    let kinds: Vec<String> = appointment_events::table
        .order(appointment_events::seq)
        .select(appointment_events::kind)
        .load(&mut conn)
        .unwrap();
    for kind in ["booked", "amended", "cancelled"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind}: {kinds:?}");
    }
    bookable::seed::appointments::seed(&mut conn, today).unwrap();
    assert_eq!(states(&mut conn), seeded, "a second seed changes nothing");
}

#[test]
fn the_demo_has_gp_connect_requests_of_every_outcome_seeded_once() {
    use bookable::db::schema::gpconnect_audit;
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    demo::seed(&mut conn, today).unwrap();
    demo::seed(&mut conn, today).unwrap();
    let statuses: Vec<i16> = gpconnect_audit::table
        .filter(gpconnect_audit::practice_ods.eq("A20047"))
        .select(gpconnect_audit::status)
        .load(&mut conn)
        .unwrap();
    assert_eq!(statuses.len(), 11, "seeded once");
    for (low, high) in [(200, 299), (400, 499), (500, 599)] {
        assert!(statuses.iter().any(|s| (low..=high).contains(s)), "{low}");
    }
    // None waits in the default partition (a month partition could then not be made).
    let in_default: i64 = diesel::sql_query("SELECT count(*) AS n FROM gpconnect_audit_default")
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n;
    assert_eq!(in_default, 0);
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}
