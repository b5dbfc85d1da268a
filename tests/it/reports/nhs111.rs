//! What NHS 111 could really book, with exact figures: the slots offered to urgent care inside
//! their booking windows, capped by the booking limits for urgent care, and for the days ahead
//! what it can still book after its own bookings.

use bookable::availability::booking::{self, Booker};
use bookable::availability::codes::{OdsCode, OrganisationType};
use bookable::availability::limits::{
    self, BookingWindow, NewSubject, Period as LimitPeriod, WindowTarget,
};
use bookable::change_log::Actor;
use bookable::db::ids::PracticeId;
use bookable::db::schema::slots;
use bookable::reports::capacity;
use bookable::reports::figures::CapacityReport;
use bookable::reports::period::Period;
use bookable::rota_import;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::data;
use crate::fixture::{create_practice, day};
use crate::harness::TestDb;
use crate::support::schedule_id;

fn actor() -> Actor {
    Actor::system("test")
}

fn urgent_care() -> OrganisationType {
    OrganisationType::parse("urgent-care").unwrap()
}

/// Sunday 7 June 2026, 12:00 BST: the whole NHS 111 week is ahead.
fn sunday() -> DateTime<Utc> {
    "2026-06-07T11:00:00Z".parse().unwrap()
}

fn week() -> Period {
    Period::new(day(2026, 6, 8), day(2026, 6, 14)).unwrap()
}

/// L09000 (9,000 patients: 3 a day) with the NHS 111 week of [`data::nhs111_document`].
fn practice(conn: &mut PgConnection) -> PracticeId {
    let p = create_practice(conn, "L09000", 9_000);
    rota_import::import(conn, &actor(), &data::nhs111_document("L09000")).unwrap();
    p
}

fn report(conn: &mut PgConnection, p: PracticeId, now: DateTime<Utc>) -> CapacityReport {
    capacity::capacity_report(conn, &[p], &week(), now).unwrap()
}

/// Per day Monday to Sunday: (offered, within the limits, still free to book).
fn days(r: &CapacityReport) -> Vec<(i64, i64, Option<i64>)> {
    r.nhs111
        .iter()
        .map(|d| (d.offered.slots, d.within_limits, d.free_to_book))
        .collect()
}

fn limit(
    conn: &mut PgConnection,
    p: PracticeId,
    schedule: Option<&str>,
    period: LimitPeriod,
    max: i32,
) {
    let schedule = schedule.map(|s| schedule_id(conn, p, s));
    limits::add(
        conn,
        &actor(),
        p,
        schedule,
        NewSubject::OrgType(urgent_care()),
        period,
        max,
    )
    .unwrap();
}

#[test]
fn booking_limits_for_urgent_care_cap_what_nhs111_is_offered() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let p = practice(&mut conn);

    // No limits: offered Monday to Sunday 3, 2, 1, 0, 1, 1, 0 (Monday's three include one
    // booked), all of it within limits; still free: Monday 2, the others all.
    let r = report(&mut conn, p, sunday());
    assert_eq!(
        days(&r),
        [
            (3, 3, Some(2)),
            (2, 2, Some(2)),
            (1, 1, Some(1)),
            (0, 0, Some(0)),
            (1, 1, Some(1)),
            (1, 1, Some(1)),
            (0, 0, Some(0)),
        ]
    );
    assert_eq!(r.practices[0].nhs111_days_short, 4);
    assert_eq!(r.practices[0].nhs111_fewest_on_a_weekday, Some(0));

    // NHS 111 may book 2 a day at the practice: Monday offers 2 of its 3.
    limit(&mut conn, p, None, LimitPeriod::Day, 2);
    let r = report(&mut conn, p, sunday());
    assert_eq!(
        days(&r)[..3],
        [(3, 2, Some(2)), (2, 2, Some(2)), (1, 1, Some(1))]
    );

    // And 4 a week: used up by Monday and Tuesday, nothing left for Wednesday to Saturday.
    limit(&mut conn, p, None, LimitPeriod::Week, 4);
    let r = report(&mut conn, p, sunday());
    let within: Vec<i64> = r.nhs111.iter().map(|d| d.within_limits).collect();
    assert_eq!(within, [2, 2, 0, 0, 0, 0, 0]);
    assert_eq!(
        r.practices[0].nhs111_days_short, 5,
        "every weekday short of 3"
    );

    // NHS 111 books Tuesday's tue-1 (UC): 3 of the week's 4 left, Tuesday's 2 a day has 1.
    let tue_1: i64 = slots::table
        .filter(slots::practice_id.eq(p))
        .filter(slots::external_id.eq("tue-1"))
        .select(slots::id)
        .first::<bookable::db::ids::SlotId>(&mut conn)
        .unwrap()
        .0;
    let booker = Booker {
        ods_code: OdsCode::parse("NLO10").unwrap(),
        org_type: Some("urgent-care".into()),
    };
    booking::book(
        &mut conn,
        &actor(),
        p,
        bookable::db::ids::SlotId(tue_1),
        &booker,
        sunday(),
    )
    .unwrap();
    let r = report(&mut conn, p, sunday());
    let free: Vec<Option<i64>> = r.nhs111.iter().map(|d| d.free_to_book).collect();
    // Monday: 2 free, 2 a day, 3 left in the week: 2. Tuesday: tue-2 free, 1 left that day: 1.
    assert_eq!(
        free,
        [
            Some(2),
            Some(1),
            Some(1),
            Some(0),
            Some(1),
            Some(1),
            Some(0)
        ]
    );
    // Booked or free, Tuesday still offers its 2 within the limits.
    assert_eq!(r.nhs111[1].within_limits, 2);

    // Asked on Tuesday at noon, only the days after it are still to book.
    let tuesday: DateTime<Utc> = "2026-06-09T11:00:00Z".parse().unwrap();
    let r = report(&mut conn, p, tuesday);
    let free: Vec<Option<i64>> = r.nhs111.iter().map(|d| d.free_to_book).collect();
    assert_eq!(
        free,
        [None, None, Some(1), Some(0), Some(1), Some(1), Some(0)]
    );
}

#[test]
fn a_schedule_s_limit_caps_its_own_slots_only() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let p = practice(&mut conn);
    // UC may give NHS 111 1 a day; the OPEN schedule's slots (Monday, Tuesday) still count.
    limit(&mut conn, p, Some("UC"), LimitPeriod::Day, 1);
    let r = report(&mut conn, p, sunday());
    let within: Vec<i64> = r.nhs111.iter().map(|d| d.within_limits).collect();
    assert_eq!(within, [2, 2, 1, 0, 1, 1, 0]);
    let offered: Vec<i64> = r.nhs111.iter().map(|d| d.offered.slots).collect();
    assert_eq!(offered, [3, 2, 1, 0, 1, 1, 0]);
}

#[test]
fn slots_whose_booking_window_never_opens_are_not_offered() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let p = practice(&mut conn);
    // UC's slots start at 08:00 and open on their own day: closing 10 hours before the start
    // (22:00 the day before), their window never opens. OPEN's slots (Monday, Tuesday) remain.
    let uc = schedule_id(&mut conn, p, "UC");
    limits::set_window(
        &mut conn,
        &actor(),
        p,
        WindowTarget::Schedule(uc),
        BookingWindow {
            from_days: Some(0),
            until_minutes: Some(600),
        },
    )
    .unwrap();
    let r = report(&mut conn, p, sunday());
    let offered: Vec<i64> = r.nhs111.iter().map(|d| d.offered.slots).collect();
    assert_eq!(offered, [1, 1, 0, 0, 0, 0, 0]);

    // mon-2 (08:10) closing at 23:59 the day before: never open; at midnight: open at that
    // one instant, as the query module's rules have it (and mon-1 at 08:00 not yet).
    for (until, monday) in [(491, 1), (490, 2), (480, 3)] {
        limits::set_window(
            &mut conn,
            &actor(),
            p,
            WindowTarget::Schedule(uc),
            BookingWindow {
                from_days: Some(0),
                until_minutes: Some(until),
            },
        )
        .unwrap();
        let r = report(&mut conn, p, sunday());
        assert_eq!(
            r.nhs111[0].offered.slots, monday,
            "closing {until} minutes before"
        );
    }
}
