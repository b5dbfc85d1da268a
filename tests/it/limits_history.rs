//! Booking limits count only the bookings of the local days and ISO weeks a search looks at
//! (issue 15): each booking carries its slot's start, kept equal to it when a rota import moves
//! the slot, so a booking counts where its slot is now.

use std::collections::BTreeSet;

use bookable::availability::booking::{self, Booker};
use bookable::availability::codes::OdsCode;
use bookable::availability::limits::{self, NewSubject, Period};
use bookable::availability::query::{self, Consumer, HiddenReason, SearchWindow};
use bookable::change_log::Actor;
use bookable::rota_import;
use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;

use crate::fixture::{self, Fixture, bookable, day, local, set, slot};
use crate::harness::TestDb;

fn visible(
    conn: &mut PgConnection,
    f: &Fixture,
    w: &SearchWindow,
    c: &Consumer,
) -> BTreeSet<String> {
    let at: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let names = f.names(query::free_slots(conn, f.a, w, c, at).unwrap().slot_ids());
    names.into_iter().filter(|n| n.starts_with('w')).collect()
}

#[test]
fn a_week_limit_counts_a_booking_in_the_week_its_slot_was_moved_to() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let actor = Actor::system("test");
    fixture::load(&mut conn);
    let mut doc = fixture::base_document(fixture::PRACTICE_A);
    doc.schedules = vec![fixture::schedule(
        "LIM",
        Some("R0260"),
        "Telephone",
        bookable(&[], &[]),
    )];
    doc.slots = vec![
        slot("w24-wed", "LIM", local(2026, 6, 10, 9, 0), 10),
        slot("w24-thu", "LIM", local(2026, 6, 11, 9, 0), 10),
        slot("w26-wed", "LIM", local(2026, 6, 24, 9, 0), 10),
    ];
    rota_import::import(&mut conn, &actor, &doc).unwrap();
    let f = fixture::load_ids(&mut conn);
    let y03032 = OdsCode::parse("Y03032").unwrap();
    limits::add(
        &mut conn,
        &actor,
        f.a,
        None,
        NewSubject::Ods(y03032.clone()),
        Period::Week,
        1,
    )
    .unwrap();
    let booker = Booker {
        ods_code: y03032.clone(),
        org_type: None,
    };
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    booking::book(&mut conn, &actor, f.a, f.id("w24-wed"), &booker, at).unwrap();

    let y = Consumer::new(None, Some(y03032));
    let week_24 = SearchWindow::local_days(day(2026, 6, 8), day(2026, 6, 14)).unwrap();
    let week_26 = SearchWindow::local_days(day(2026, 6, 22), day(2026, 6, 28)).unwrap();
    assert_eq!(
        visible(&mut conn, &f, &week_24, &y),
        set(&[]),
        "week 24 used up"
    );
    assert_eq!(visible(&mut conn, &f, &week_26, &y), set(&["w26-wed"]));

    // The clinical system moves the booked slot to Thursday of week 26.
    doc.slots[0].start = local(2026, 6, 25, 9, 0);
    doc.slots[0].end = local(2026, 6, 25, 9, 10);
    doc.slots[0].status = "busy".into();
    rota_import::import(&mut conn, &actor, &doc).unwrap();
    assert_eq!(
        visible(&mut conn, &f, &week_24, &y),
        set(&["w24-thu"]),
        "week 24 has no booking any more"
    );
    assert_eq!(
        visible(&mut conn, &f, &week_26, &y),
        set(&[]),
        "the booking counts in week 26, where its slot is now"
    );
    let e = query::explain(&mut conn, f.a, f.id("w26-wed"), &y, at, None)
        .unwrap()
        .unwrap();
    assert_eq!(e.reasons, vec![HiddenReason::LimitReached]);
}
