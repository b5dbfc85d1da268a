//! The query module's rules, pinned with exact sets of slots on the fixed data set.

use std::collections::BTreeSet;

use bookable::availability::audience::{Audience, Audiences, Named};
use bookable::availability::codes::{OdsCode, OrganisationType};
use bookable::availability::query::{self, Consumer, HiddenReason, SearchWindow};
use bookable::db::ids::PracticeId;
use bookable::db::schema::schedules;
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
        query::free_slots(conn, practice, w, c, fixture::before_every_slot())
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
        fixture::before_every_slot(),
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
        query::explain(conn, f.a, f.id(name), c, fixture::before_every_slot(), w)
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
        vec![NotInAudiences]
    );
    assert_eq!(
        reasons(
            &mut conn,
            "both-free",
            &consumer(Some("gp-practice"), Some("A11111")),
            None
        ),
        vec![NotInAudiences]
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
    let exposure = query::explain(
        &mut conn,
        f.a,
        f.id("both-free"),
        &anyone,
        fixture::before_every_slot(),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(exposure.audiences.tokens(), ["type:urgent-care+ods:Y03032"]);
    // The explanation names the audience and why the consumer is not in it.
    let gp = consumer(Some("gp-practice"), Some("Y03032"));
    let e = query::explain(
        &mut conn,
        f.a,
        f.id("both-free"),
        &gp,
        fixture::before_every_slot(),
        None,
    )
    .unwrap()
    .unwrap();
    let checks = e.audience_checks();
    assert_eq!(checks.len(), 1);
    assert_eq!(
        (checks[0].type_matched, checks[0].named_matched),
        (Some(false), Some(true))
    );
    assert_eq!(
        e.explanation(NotInAudiences, &[]),
        "Who can book it: Y03032 when it books as an urgent care service. This organisation is \
         in none of these (not Y03032 when it books as an urgent care service: it is not an \
         urgent care service (NHS 111))."
    );
    assert!(
        query::explain(
            &mut conn,
            f.a,
            f.id("b-open-free"),
            &anyone,
            fixture::before_every_slot(),
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
        let explained = query::explain_between(
            &mut conn,
            f.a,
            w.start(),
            w.end(),
            &c,
            fixture::before_every_slot(),
        )
        .unwrap();
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
    let e = query::explain(
        &mut conn,
        f.a,
        f.id("type-free"),
        &uc,
        fixture::before_every_slot(),
        None,
    )
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
        query::free_slots(&mut conn, f.a, &june_10(), &c, fixture::before_every_slot()).unwrap();
    }
    let prepared: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '%consumer_groups%'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(prepared.n, 1, "planned once, not at every search");
}

fn audience_type(code: &str) -> Audience {
    Audience::org_type(OrganisationType::parse(code).unwrap())
}

fn audience_ods(code: &str) -> Audience {
    Audience::ods(OdsCode::parse(code).unwrap())
}

fn set_audiences(conn: &mut PgConnection, practice: PracticeId, schedule: &str, a: Vec<Audience>) {
    diesel::update(
        schedules::table
            .filter(schedules::practice_id.eq(practice))
            .filter(schedules::external_id.eq(schedule)),
    )
    .set(schedules::audiences.eq(Audiences::new(a).tokens()))
    .execute(conn)
    .unwrap();
}

/// Audiences are joined by "and also": TYPE is offered to urgent care or Y03032, ODS to the
/// group or to GP practices, BOTH to urgent care and Y03032 together (only both at once).
#[test]
fn a_slot_is_shown_to_a_consumer_matching_any_of_its_audiences() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let pcn = bookable::availability::groups::save(
        &mut conn,
        &bookable::change_log::Actor::system("test"),
        f.a,
        None,
        "Our PCN",
        &[OdsCode::parse("C81001").unwrap()],
    )
    .unwrap();
    set_audiences(
        &mut conn,
        f.a,
        "TYPE",
        vec![audience_type("urgent-care"), audience_ods("Y03032")],
    );
    set_audiences(
        &mut conn,
        f.a,
        "ODS",
        vec![Audience::group(pcn), audience_type("gp-practice")],
    );
    let cases = [
        (consumer(None, None), base_and(&[])),
        (
            consumer(Some("urgent-care"), None),
            base_and(&["type-free"]),
        ),
        // Y03032 sees TYPE by name whatever type it sends, but BOTH only as urgent care.
        (consumer(None, Some("Y03032")), base_and(&["type-free"])),
        (
            consumer(Some("gp-practice"), Some("Y03032")),
            base_and(&["type-free", "ods-free"]),
        ),
        (
            consumer(Some("urgent-care"), Some("Y03032")),
            base_and(&["type-free", "both-free"]),
        ),
        // A group member, with or without a type; a GP practice not in the group.
        (consumer(None, Some("C81001")), base_and(&["ods-free"])),
        (
            consumer(Some("urgent-care"), Some("C81001")),
            base_and(&["type-free", "ods-free"]),
        ),
        (
            consumer(Some("gp-practice"), Some("B82617")),
            base_and(&["ods-free"]),
        ),
        (consumer(Some("oncology"), Some("B82617")), base_and(&[])),
    ];
    for (c, expected) in cases {
        assert_eq!(
            visible(&mut conn, &f, f.a, &june_10(), &c),
            expected,
            "consumer {c:?}"
        );
        let explained = query::explain_between(
            &mut conn,
            f.a,
            june_10().start(),
            june_10().end(),
            &c,
            fixture::before_every_slot(),
        )
        .unwrap();
        let shown = f.names(explained.iter().filter(|e| e.visible()).map(|e| e.slot_id));
        assert_eq!(shown, expected, "explain agrees for {c:?}");
    }
}

/// The type-and-organisation audience sits beside others: BOTH becomes "urgent care and
/// Y03032 together, and also A11111 (any type)".
#[test]
fn a_type_and_organisation_audience_needs_both_while_other_audiences_need_one() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let uc = OrganisationType::parse("urgent-care").unwrap();
    set_audiences(
        &mut conn,
        f.a,
        "BOTH",
        vec![
            Audience::type_and(uc, Named::Ods(OdsCode::parse("Y03032").unwrap())),
            audience_ods("A11111"),
        ],
    );
    let both = |conn: &mut PgConnection, c: &Consumer| {
        visible(conn, &f, f.a, &june_10(), c).contains("both-free")
    };
    assert!(both(
        &mut conn,
        &consumer(Some("urgent-care"), Some("Y03032"))
    ));
    assert!(!both(
        &mut conn,
        &consumer(Some("gp-practice"), Some("Y03032"))
    ));
    assert!(!both(&mut conn, &consumer(None, Some("Y03032"))));
    assert!(!both(&mut conn, &consumer(Some("urgent-care"), None)));
    assert!(both(&mut conn, &consumer(None, Some("A11111"))));
    assert!(both(
        &mut conn,
        &consumer(Some("gp-practice"), Some("A11111"))
    ));
    let e = query::explain(
        &mut conn,
        f.a,
        f.id("both-free"),
        &consumer(Some("gp-practice"), Some("Y03032")),
        fixture::before_every_slot(),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(e.reasons, vec![HiddenReason::NotInAudiences]);
    let checks: Vec<_> = e
        .audience_checks()
        .into_iter()
        .map(|c| (c.audience.token(), c.type_matched, c.named_matched))
        .collect();
    assert_eq!(
        checks,
        [
            ("ods:A11111".to_owned(), None, Some(false)),
            (
                "type:urgent-care+ods:Y03032".to_owned(),
                Some(false),
                Some(true)
            ),
        ]
    );
}

/// 08:55 BST on 10 June: `open-early` (08:50) started five minutes ago; the day's other slots
/// are still to come.
fn five_past_open_early() -> chrono::DateTime<chrono::Utc> {
    local(2026, 6, 10, 8, 55).to_utc()
}

#[test]
fn a_slot_that_has_started_is_never_offered() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let anyone = consumer(None, None);
    let search = |conn: &mut PgConnection, at| {
        f.names(
            query::free_slots(conn, f.a, &june_10(), &anyone, at)
                .unwrap()
                .slot_ids(),
        )
    };
    assert_eq!(
        search(&mut conn, five_past_open_early()),
        set(&["open-free", "open-edge", "open-late", "off-override-on"]),
        "every slot still to come, and not open-early"
    );
    // A slot starting at the time of the search has started: its start is not after it.
    let nine = local(2026, 6, 10, 9, 0).to_utc();
    assert_eq!(
        search(&mut conn, nine),
        set(&["open-edge", "open-late", "off-override-on"])
    );
    let explained = query::explain_between(
        &mut conn,
        f.a,
        june_10().start(),
        june_10().end(),
        &anyone,
        nine,
    )
    .unwrap();
    let shown = f.names(explained.iter().filter(|e| e.visible()).map(|e| e.slot_id));
    assert_eq!(shown, search(&mut conn, nine), "explain and search agree");
}

#[test]
fn explain_says_a_slot_has_already_started() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let explain = |conn: &mut PgConnection, name: &str| {
        query::explain(
            conn,
            f.a,
            f.id(name),
            &consumer(None, None),
            five_past_open_early(),
            None,
        )
        .unwrap()
        .unwrap()
    };
    let early = explain(&mut conn, "open-early");
    assert_eq!(early.reasons, vec![HiddenReason::AlreadyStarted]);
    assert_eq!(
        early.explanations(&[]),
        vec!["This slot has already started, so no one can book it any more."]
    );
    // Every other reason still shows beside it.
    let busy_and_started = query::explain(
        &mut conn,
        f.a,
        f.id("open-busy"),
        &consumer(None, None),
        local(2026, 6, 10, 9, 20).to_utc(),
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        busy_and_started.reasons,
        vec![HiddenReason::Busy, HiddenReason::AlreadyStarted]
    );
    assert!(explain(&mut conn, "open-free").visible());
}
