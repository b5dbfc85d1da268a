//! Organisation groups, booking limits and booking windows (issue 6), pinned with exact sets.

use std::collections::BTreeSet;
use std::sync::{Arc, Barrier};

use bookable::availability::booking::{self, Booker, BookingError};
use bookable::availability::codes::{OdsCode, OrganisationType};
use bookable::availability::groups::{self, Target};
use bookable::availability::limits::{self, BookingWindow, NewSubject, Period, WindowTarget};
use bookable::availability::query::{self, Consumer, HiddenReason, SearchWindow};
use bookable::change_log::Actor;
use bookable::db::schema::bookings;
use bookable::rota_import;
use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;

use crate::fixture::{self, Fixture, bookable, day, local, set, slot};
use crate::harness::TestDb;
use crate::support::schedule_id;

fn ods(code: &str) -> OdsCode {
    OdsCode::parse(code).unwrap()
}

fn actor() -> Actor {
    Actor::system("test")
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn visible(
    conn: &mut PgConnection,
    f: &Fixture,
    w: &SearchWindow,
    c: &Consumer,
    now: DateTime<Utc>,
) -> BTreeSet<String> {
    f.names(query::free_slots(conn, f.a, w, c, now).unwrap().slot_ids())
}

/// Practice A with one more open schedule, LIM, whose slots straddle local day and week ends:
/// June 2026 is BST, so 00:30 local is 23:30 UTC the day before.
fn load_with_limit_slots(conn: &mut PgConnection) -> Fixture {
    fixture::load(conn);
    let mut doc = fixture::base_document(fixture::PRACTICE_A);
    doc.schedules = vec![fixture::schedule(
        "LIM",
        Some("R0260"),
        "Telephone",
        bookable(&[], &[]),
    )];
    doc.slots = vec![
        slot("wed-0900", "LIM", local(2026, 6, 10, 9, 0), 10),
        slot("wed-0910", "LIM", local(2026, 6, 10, 9, 10), 10),
        slot("wed-0920", "LIM", local(2026, 6, 10, 9, 20), 10),
        slot("thu-0030", "LIM", local(2026, 6, 11, 0, 30), 10),
        slot("sun-2330", "LIM", local(2026, 6, 14, 23, 30), 10),
        slot("mon-0030", "LIM", local(2026, 6, 15, 0, 30), 10),
    ];
    rota_import::import(conn, &actor(), &doc).unwrap();
    fixture::load_ids(conn)
}

fn lim_window() -> SearchWindow {
    SearchWindow::local_days(day(2026, 6, 10), day(2026, 6, 15)).unwrap()
}

fn only_lim(names: BTreeSet<String>) -> BTreeSet<String> {
    let lim = [
        "wed-0900", "wed-0910", "wed-0920", "thu-0030", "sun-2330", "mon-0030",
    ];
    names
        .into_iter()
        .filter(|n| lim.contains(&n.as_str()))
        .collect()
}

#[test]
fn a_group_member_sees_what_the_group_may_book_and_a_group_edit_takes_effect_at_once() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let pcn = groups::save(
        &mut conn,
        &actor(),
        f.a,
        None,
        "Our PCN",
        &[ods("C81001"), ods("C81002")],
    )
    .unwrap();
    let ods_schedule = schedule_id(&mut conn, f.a, "ODS");
    groups::set_bookable_groups(
        &mut conn,
        &actor(),
        f.a,
        Target::Schedule(ods_schedule),
        &[pcn],
    )
    .unwrap();

    let w = SearchWindow::local_days(day(2026, 6, 10), day(2026, 6, 10)).unwrap();
    let now = fixture::before_every_slot();
    let sees_ods_free = |conn: &mut PgConnection, code: &str| {
        visible(conn, &f, &w, &Consumer::new(None, Some(ods(code))), now).contains("ods-free")
    };
    assert!(sees_ods_free(&mut conn, "C81001"), "member");
    assert!(
        sees_ods_free(&mut conn, "Y03032"),
        "the schedule's own ODS code still counts"
    );
    assert!(!sees_ods_free(&mut conn, "C99999"), "not a member");
    assert!(
        !visible(
            &mut conn,
            &f,
            &w,
            &Consumer::new(Some("urgent-care"), None),
            now
        )
        .contains("ods-free")
    );

    groups::save(
        &mut conn,
        &actor(),
        f.a,
        Some(pcn),
        "Our PCN",
        &[ods("C99999")],
    )
    .unwrap();
    assert!(
        sees_ods_free(&mut conn, "C99999"),
        "new member sees it at once"
    );
    assert!(
        !sees_ods_free(&mut conn, "C81001"),
        "removed member no longer does"
    );
    let e = query::explain(
        &mut conn,
        f.a,
        f.id("ods-free"),
        &Consumer::new(None, Some(ods("C81001"))),
        now,
        None,
    )
    .unwrap()
    .unwrap();
    assert_eq!(e.reasons, vec![HiddenReason::NotInAudiences]);

    let other = groups::save(
        &mut conn,
        &actor(),
        f.b,
        None,
        "B's group",
        &[ods("C81001")],
    )
    .unwrap();
    assert!(
        groups::set_bookable_groups(
            &mut conn,
            &actor(),
            f.a,
            Target::Schedule(ods_schedule),
            &[other]
        )
        .is_err(),
        "another practice's group can't be used"
    );
    assert!(matches!(
        groups::save(&mut conn, &actor(), f.a, None, "Our PCN", &[]),
        Err(groups::GroupError::DuplicateName(_))
    ));
}

#[test]
fn a_day_limit_hides_the_rest_of_that_local_day_for_that_consumer_only() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = load_with_limit_slots(&mut conn);
    let uc = OrganisationType::parse("urgent-care").unwrap();
    let lim = schedule_id(&mut conn, f.a, "LIM");
    limits::add(
        &mut conn,
        &actor(),
        f.a,
        Some(lim),
        NewSubject::OrgType(uc),
        Period::Day,
        2,
    )
    .unwrap();
    let booker = |code: &str| Booker {
        ods_code: ods(code),
        org_type: Some("urgent-care".into()),
    };
    let at = utc(2026, 6, 1, 12, 0);
    booking::book(
        &mut conn,
        &actor(),
        f.a,
        f.id("wed-0900"),
        &booker("NLO10"),
        at,
    )
    .unwrap();
    let uc_consumer = Consumer::new(Some("urgent-care"), Some(ods("NLO11")));
    assert_eq!(
        only_lim(visible(&mut conn, &f, &lim_window(), &uc_consumer, at)),
        set(&["wed-0910", "wed-0920", "thu-0030", "sun-2330", "mon-0030"]),
        "one of two booked: still offered"
    );
    let second = booking::book(
        &mut conn,
        &actor(),
        f.a,
        f.id("wed-0910"),
        &booker("NLO11"),
        at,
    )
    .unwrap();
    assert_eq!(
        only_lim(visible(&mut conn, &f, &lim_window(), &uc_consumer, at)),
        set(&["thu-0030", "sun-2330", "mon-0030"]),
        "Wednesday used up; 00:30 BST on Thursday (23:30 UTC Wednesday) is another local day"
    );
    let gp = Consumer::new(Some("gp-practice"), Some(ods("C81001")));
    assert_eq!(
        only_lim(visible(&mut conn, &f, &lim_window(), &gp, at)),
        set(&["wed-0920", "thu-0030", "sun-2330", "mon-0030"]),
        "another organisation type is not limited"
    );
    let e = query::explain(&mut conn, f.a, f.id("wed-0920"), &uc_consumer, at, None)
        .unwrap()
        .unwrap();
    assert_eq!(e.reasons, vec![HiddenReason::LimitReached]);
    match booking::book(
        &mut conn,
        &actor(),
        f.a,
        f.id("wed-0920"),
        &booker("NLO12"),
        at,
    ) {
        Err(BookingError::NotBookable(reasons)) => {
            assert_eq!(reasons, vec![HiddenReason::LimitReached])
        }
        other => panic!("expected the limit to refuse, got {other:?}"),
    }

    booking::release(&mut conn, &actor(), f.a, second, at).unwrap();
    assert_eq!(
        only_lim(visible(&mut conn, &f, &lim_window(), &uc_consumer, at)),
        set(&["wed-0910", "wed-0920", "thu-0030", "sun-2330", "mon-0030"]),
        "releasing one brings Wednesday back, the released slot included"
    );
}

#[test]
fn a_week_limit_counts_iso_weeks_in_local_time() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = load_with_limit_slots(&mut conn);
    limits::add(
        &mut conn,
        &actor(),
        f.a,
        None,
        NewSubject::Ods(ods("Y03032")),
        Period::Week,
        2,
    )
    .unwrap();
    let booker = Booker {
        ods_code: ods("Y03032"),
        org_type: None,
    };
    let at = utc(2026, 6, 1, 12, 0);
    booking::book(&mut conn, &actor(), f.a, f.id("wed-0900"), &booker, at).unwrap();
    booking::book(&mut conn, &actor(), f.a, f.id("thu-0030"), &booker, at).unwrap();
    let y = Consumer::new(None, Some(ods("Y03032")));
    assert_eq!(
        only_lim(visible(&mut conn, &f, &lim_window(), &y, at)),
        set(&["mon-0030"]),
        "Sunday 23:30 BST is still week 24; Monday 00:30 BST (Sunday 23:30 UTC) starts week 25"
    );
    assert_eq!(
        only_lim(visible(
            &mut conn,
            &f,
            &lim_window(),
            &Consumer::new(None, Some(ods("C81001"))),
            at
        )),
        set(&["wed-0910", "wed-0920", "sun-2330", "mon-0030"]),
        "another organisation is not limited"
    );
}

#[test]
fn a_group_limit_counts_the_bookings_of_all_its_members() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = load_with_limit_slots(&mut conn);
    let hubs = groups::save(
        &mut conn,
        &actor(),
        f.a,
        None,
        "Hubs",
        &[ods("H00001"), ods("H00002")],
    )
    .unwrap();
    limits::add(
        &mut conn,
        &actor(),
        f.a,
        None,
        NewSubject::Group(hubs),
        Period::Day,
        1,
    )
    .unwrap();
    let at = utc(2026, 6, 1, 12, 0);
    booking::book(
        &mut conn,
        &actor(),
        f.a,
        f.id("wed-0900"),
        &Booker {
            ods_code: ods("H00001"),
            org_type: None,
        },
        at,
    )
    .unwrap();
    let h2 = Consumer::new(None, Some(ods("H00002")));
    assert_eq!(
        only_lim(visible(&mut conn, &f, &lim_window(), &h2, at)),
        set(&["thu-0030", "sun-2330", "mon-0030"]),
        "H00001's booking used up the group's Wednesday"
    );
}

#[test]
fn a_booking_window_opens_d_local_days_ahead_and_closes_m_minutes_before_across_clock_changes() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let mut doc = fixture::base_document(fixture::PRACTICE_A);
    doc.schedules = vec![fixture::schedule(
        "WIN",
        Some("R0260"),
        "In-person",
        bookable(&[], &[]),
    )];
    doc.slots = vec![
        // 30 October is GMT; 14 local days before it, 16 October, is BST.
        slot("oct-30", "WIN", local(2026, 10, 30, 10, 0), 15),
        // 29 March 03:00 BST is 02:00 UTC, one hour after the clocks went forward.
        slot("mar-29", "WIN", local(2026, 3, 29, 3, 0), 15),
    ];
    rota_import::import(&mut conn, &actor(), &doc).unwrap();
    let f = fixture::load_ids(&mut conn);
    let win = schedule_id(&mut conn, f.a, "WIN");
    let window = BookingWindow {
        from_days: Some(14),
        until_minutes: Some(120),
    };
    limits::set_window(
        &mut conn,
        &actor(),
        f.a,
        WindowTarget::Schedule(win),
        window,
    )
    .unwrap();

    let anyone = Consumer::default();
    let shown = |conn: &mut PgConnection, name: &str, now: DateTime<Utc>| {
        query::explain(conn, f.a, f.id(name), &anyone, now, None)
            .unwrap()
            .unwrap()
            .reasons
    };
    use HiddenReason::*;
    // 16 October 00:00 BST is 15 October 23:00 UTC.
    assert_eq!(
        shown(&mut conn, "oct-30", utc(2026, 10, 15, 22, 59)),
        vec![BookingNotYetOpen]
    );
    assert_eq!(shown(&mut conn, "oct-30", utc(2026, 10, 15, 23, 0)), vec![]);
    // Closes two real hours before 10:00 GMT.
    assert_eq!(shown(&mut conn, "oct-30", utc(2026, 10, 30, 8, 0)), vec![]);
    assert_eq!(
        shown(&mut conn, "oct-30", utc(2026, 10, 30, 8, 1)),
        vec![BookingClosed]
    );
    // Two real hours before 02:00 UTC is 00:00 UTC, although the wall clock shows 03:00.
    assert_eq!(shown(&mut conn, "mar-29", utc(2026, 3, 29, 0, 0)), vec![]);
    assert_eq!(
        shown(&mut conn, "mar-29", utc(2026, 3, 29, 0, 1)),
        vec![BookingClosed]
    );

    let autumn = SearchWindow::local_days(day(2026, 10, 19), day(2026, 11, 1)).unwrap();
    let in_search =
        |conn: &mut PgConnection, now| visible(conn, &f, &autumn, &anyone, now).contains("oct-30");
    assert!(!in_search(&mut conn, utc(2026, 10, 15, 22, 59)));
    assert!(in_search(&mut conn, utc(2026, 10, 15, 23, 0)));

    // A slot's own window overrides its schedule's, side by side (None would follow it).
    let slot_window = BookingWindow {
        from_days: Some(30),
        until_minutes: Some(0),
    };
    limits::set_window(
        &mut conn,
        &actor(),
        f.a,
        WindowTarget::Slot(f.id("oct-30")),
        slot_window,
    )
    .unwrap();
    assert_eq!(shown(&mut conn, "oct-30", utc(2026, 10, 1, 12, 0)), vec![]);
    assert_eq!(shown(&mut conn, "oct-30", utc(2026, 10, 30, 9, 59)), vec![]);
}

#[test]
fn twenty_concurrent_bookers_under_a_limit_of_three_get_exactly_three_slots() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let mut doc = fixture::base_document(fixture::PRACTICE_A);
    doc.schedules = vec![fixture::schedule(
        "RUSH",
        Some("R0260"),
        "Telephone",
        bookable(&["urgent-care"], &[]),
    )];
    doc.slots = (0..20)
        .map(|i| {
            slot(
                &format!("rush-{i:02}"),
                "RUSH",
                local(2026, 6, 10, 8, 0) + chrono::TimeDelta::minutes(10 * i),
                10,
            )
        })
        .collect();
    rota_import::import(&mut conn, &actor(), &doc).unwrap();
    let f = fixture::load_ids(&mut conn);
    let uc = OrganisationType::parse("urgent-care").unwrap();
    limits::add(
        &mut conn,
        &actor(),
        f.a,
        None,
        NewSubject::OrgType(uc),
        Period::Day,
        3,
    )
    .unwrap();

    let barrier = Arc::new(Barrier::new(20));
    let results: Vec<Result<_, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let barrier = barrier.clone();
                let slot = f.id(&format!("rush-{i:02}"));
                let db = &db;
                let practice = f.a;
                s.spawn(move || {
                    let mut conn = db.conn();
                    let booker = Booker {
                        ods_code: ods(&format!("NLO{i:02}")),
                        org_type: Some("urgent-care".into()),
                    };
                    barrier.wait();
                    booking::book(
                        &mut conn,
                        &actor(),
                        practice,
                        slot,
                        &booker,
                        utc(2026, 6, 1, 12, 0),
                    )
                    .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 3, "{results:#?}");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(r.contains("booking limit"), "{r}");
    }
    let in_force: i64 = bookings::table
        .filter(bookings::released_at.is_null())
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(in_force, 3);
}

#[test]
fn twenty_concurrent_bookers_of_one_slot_never_double_book_it() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let slot = f.id("open-free");
    let barrier = Arc::new(Barrier::new(20));
    let won = std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let barrier = barrier.clone();
                let db = &db;
                let practice = f.a;
                s.spawn(move || {
                    let mut conn = db.conn();
                    let booker = Booker {
                        ods_code: ods(&format!("NLO{i:02}")),
                        org_type: None,
                    };
                    barrier.wait();
                    booking::book(
                        &mut conn,
                        &actor(),
                        practice,
                        slot,
                        &booker,
                        utc(2026, 6, 1, 12, 0),
                    )
                    .is_ok()
                })
            })
            .collect();
        handles
            .into_iter()
            .filter(|_| true)
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count()
    });
    assert_eq!(won, 1);
    let for_slot: i64 = bookings::table
        .filter(bookings::slot_id.eq(slot))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(for_slot, 1);
}

#[test]
fn booking_refuses_what_the_consumer_could_not_see_and_other_practices_slots() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let at = utc(2026, 6, 1, 12, 0);
    let booker = Booker {
        ods_code: ods("C81001"),
        org_type: Some("gp-practice".into()),
    };
    match booking::book(&mut conn, &actor(), f.a, f.id("type-free"), &booker, at) {
        Err(BookingError::NotBookable(r)) => {
            assert_eq!(r, vec![HiddenReason::NotInAudiences])
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        booking::book(&mut conn, &actor(), f.a, f.id("b-open-free"), &booker, at),
        Err(BookingError::NotFound)
    ));
    assert!(matches!(
        booking::release(
            &mut conn,
            &actor(),
            f.b,
            bookable::db::ids::BookingId(1),
            at
        ),
        Err(BookingError::NotFound)
    ));
}
