//! The query module's rules, pinned with exact sets of slots on the fixed data set.

use std::collections::BTreeSet;

use bookable::availability::codes::OdsCode;
use bookable::availability::query::{self, Consumer, HiddenReason, SearchWindow};
use bookable::db::ids::PracticeId;
use chrono::Utc;
use diesel::prelude::*;

use crate::fixture::{self, Fixture, day, local, set};
use crate::harness::TestDb;

fn consumer(org_type: Option<&str>, ods: Option<&str>) -> Consumer {
    Consumer::new(org_type, ods.map(|c| OdsCode::parse(c).unwrap()))
}

fn june_10() -> SearchWindow {
    SearchWindow::local_days(day(2026, 6, 10), day(2026, 6, 10)).unwrap()
}

fn visible(
    conn: &mut PgConnection,
    f: &Fixture,
    practice: PracticeId,
    w: &SearchWindow,
    c: &Consumer,
) -> BTreeSet<String> {
    f.names(
        query::free_slots(conn, practice, w, c, Utc::now())
            .unwrap()
            .slot_ids(),
    )
}

const BASE: &[&str] = &[
    "open-free",
    "open-early",
    "open-edge",
    "open-late",
    "off-override-on",
];

fn base_and(extra: &[&str]) -> BTreeSet<String> {
    set(BASE).into_iter().chain(set(extra)).collect()
}

/// Each row of the consumer-matching table in the query module's docs, plus unknown values.
fn consumer_table() -> Vec<(Consumer, BTreeSet<String>)> {
    vec![
        (consumer(None, None), base_and(&[])),
        (
            consumer(Some("urgent-care"), None),
            base_and(&["type-free"]),
        ),
        (consumer(Some("gp-practice"), None), base_and(&[])),
        (consumer(Some("oncology"), None), base_and(&[])),
        (consumer(None, Some("Y03032")), base_and(&["ods-free"])),
        (
            consumer(None, Some("A11111")),
            base_and(&["open-override-ods"]),
        ),
        (
            consumer(Some("urgent-care"), Some("Y03032")),
            base_and(&["type-free", "ods-free", "both-free"]),
        ),
        (
            consumer(Some("gp-practice"), Some("Y03032")),
            base_and(&["ods-free"]),
        ),
        (
            consumer(Some("urgent-care"), Some("A11111")),
            base_and(&["type-free", "open-override-ods"]),
        ),
    ]
}

#[test]
fn each_consumer_sees_exactly_the_slots_the_matching_table_allows() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    for (c, expected) in consumer_table() {
        assert_eq!(
            visible(&mut conn, &f, f.a, &june_10(), &c),
            expected,
            "consumer {c:?}"
        );
    }
}

#[test]
fn a_slot_must_lie_wholly_inside_the_window() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let w = SearchWindow::new(
        local(2026, 6, 10, 9, 0).to_utc(),
        local(2026, 6, 10, 17, 0).to_utc(),
    )
    .unwrap();
    assert_eq!(
        visible(&mut conn, &f, f.a, &w, &consumer(None, None)),
        set(&["open-free", "open-edge", "off-override-on"]),
        "open-early starts before 09:00 and open-late ends after 17:00"
    );
    let empty = SearchWindow::new(
        local(2026, 6, 10, 9, 0).to_utc(),
        local(2026, 6, 10, 9, 0).to_utc(),
    )
    .unwrap();
    assert!(visible(&mut conn, &f, f.a, &empty, &consumer(None, None)).is_empty());
}

#[test]
fn windows_across_the_clock_changes_cover_whole_local_days() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let anyone = consumer(None, None);
    let spring = SearchWindow::local_days(day(2026, 3, 23), day(2026, 4, 5)).unwrap();
    assert_eq!(
        visible(&mut conn, &f, f.a, &spring, &anyone),
        set(&["mar-first", "mar-change", "mar-last"])
    );
    let autumn = SearchWindow::local_days(day(2026, 10, 19), day(2026, 11, 1)).unwrap();
    assert_eq!(
        visible(&mut conn, &f, f.a, &autumn, &anyone),
        set(&["oct-first", "oct-change", "oct-last"])
    );
}

#[test]
fn two_practices_are_never_mixed() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let anyone = consumer(Some("urgent-care"), Some("Y03032"));
    assert_eq!(
        visible(&mut conn, &f, f.b, &june_10(), &anyone),
        set(&["b-open-free"])
    );
    assert!(!visible(&mut conn, &f, f.a, &june_10(), &anyone).contains("b-open-free"));
}

#[test]
fn the_result_carries_schedules_locations_and_practitioners_once() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let r = query::free_slots(
        &mut conn,
        f.a,
        &june_10(),
        &consumer(Some("urgent-care"), Some("Y03032")),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(r.slots.len(), 8);
    let schedule_types: BTreeSet<_> = r
        .schedules
        .iter()
        .map(|s| s.schedule_type.clone().unwrap())
        .collect();
    assert_eq!(
        schedule_types,
        [
            "BOTH session",
            "ODS session",
            "OFF session",
            "OPEN session",
            "TYPE session"
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(r.locations.len(), 1);
    assert_eq!(r.locations[0].name, "A20047 Health Centre");
    assert_eq!(r.practitioners.len(), 1);
    assert_eq!(r.practitioners[0].family_name, "Okafor");
    let starts: Vec<_> = r.slots.iter().map(|s| s.start).collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "slots in start order"
    );
    let ods = r
        .schedules
        .iter()
        .find(|s| s.schedule_type.as_deref() == Some("ODS session"))
        .unwrap();
    assert_eq!(ods.practitioner_role, "R0620");
    let tel = r.slots.iter().find(|s| s.id == f.id("type-free")).unwrap();
    assert_eq!(tel.delivery_channel.unwrap().code(), "Telephone");
    assert_eq!(tel.slot_type, "Routine appointment");
}

#[test]
fn explain_names_every_reason_a_slot_is_hidden() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let reasons = |conn: &mut PgConnection, name: &str, c: &Consumer, w: Option<&SearchWindow>| {
        query::explain(conn, f.a, f.id(name), c, Utc::now(), w)
            .unwrap()
            .unwrap()
            .reasons
    };
    let anyone = consumer(None, None);
    use HiddenReason::*;
    assert_eq!(reasons(&mut conn, "open-free", &anyone, None), vec![]);
    assert_eq!(reasons(&mut conn, "open-busy", &anyone, None), vec![Busy]);
    assert_eq!(
        reasons(&mut conn, "open-notype", &anyone, None),
        vec![NoSlotType]
    );
    assert_eq!(
        reasons(&mut conn, "open-override-off", &anyone, None),
        vec![NotBookable]
    );
    assert_eq!(
        reasons(&mut conn, "visit-free", &anyone, None),
        vec![NotBookable, Visit]
    );
    assert_eq!(
        reasons(&mut conn, "type-free", &anyone, None),
        vec![OrganisationTypeRestricted]
    );
    assert_eq!(
        reasons(
            &mut conn,
            "both-free",
            &consumer(Some("gp-practice"), Some("A11111")),
            None
        ),
        vec![OrganisationTypeRestricted, OdsCodeRestricted]
    );
    let day_time = SearchWindow::new(
        local(2026, 6, 10, 9, 0).to_utc(),
        local(2026, 6, 10, 17, 0).to_utc(),
    )
    .unwrap();
    assert_eq!(
        reasons(&mut conn, "open-late", &anyone, Some(&day_time)),
        vec![OutsideWindow]
    );
    let exposure = query::explain(&mut conn, f.a, f.id("both-free"), &anyone, Utc::now(), None)
        .unwrap()
        .unwrap();
    assert_eq!(exposure.org_types, vec!["urgent-care"]);
    assert_eq!(exposure.ods_codes, vec!["Y03032"]);
    assert!(
        query::explain(
            &mut conn,
            f.a,
            f.id("b-open-free"),
            &anyone,
            Utc::now(),
            None
        )
        .unwrap()
        .is_none(),
        "another practice's slot is not found"
    );
}

#[test]
fn explain_and_search_agree_on_every_slot_for_every_consumer() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let w = june_10();
    for (c, expected) in consumer_table() {
        let explained =
            query::explain_between(&mut conn, f.a, w.start(), w.end(), &c, Utc::now()).unwrap();
        let shown = f.names(explained.iter().filter(|e| e.visible()).map(|e| e.slot_id));
        assert_eq!(shown, expected, "consumer {c:?}");
        assert_eq!(explained.len(), 14, "every slot of the day is explained");
    }
}

#[test]
fn a_schedule_without_practitioner_role_exposes_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    // Only raw SQL can get here: the domain refuses a bookable schedule without a role.
    diesel::sql_query("UPDATE schedules SET practitioner_role = NULL WHERE external_id = 'TYPE'")
        .execute(&mut conn)
        .unwrap();
    let uc = consumer(Some("urgent-care"), None);
    assert_eq!(visible(&mut conn, &f, f.a, &june_10(), &uc), base_and(&[]));
    let e = query::explain(&mut conn, f.a, f.id("type-free"), &uc, Utc::now(), None)
        .unwrap()
        .unwrap();
    assert_eq!(e.reasons, vec![HiddenReason::NoPractitionerRole]);
}

#[test]
fn searches_reuse_one_prepared_statement_per_connection() {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    for c in [
        consumer(None, None),
        consumer(Some("urgent-care"), Some("Y03032")),
    ] {
        query::free_slots(&mut conn, f.a, &june_10(), &c, Utc::now()).unwrap();
    }
    let prepared: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '%consumer_groups%'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(prepared.n, 1, "planned once, not at every search");
}
