//! The capacity report on the synthetic data set: a 26-week report for one practice and for
//! all 200 practices (≈ 6 million slots) under `cargo bench`; a small set when
//! `cargo test --all-targets` runs this once as a test.
//!
//! cargo bench --bench reports

use bookable::availability::audience::{Audience, Audiences};
use bookable::availability::codes::OdsCode;
use bookable::availability::manage::{self, SlotBookability, SlotSelection};
use bookable::availability::query;
use bookable::availability::rules::Bookability;
use bookable::change_log::Actor;
use bookable::db::ids::{PracticeId, ScheduleId};
use bookable::reports::capacity;
use bookable::reports::export::Report;
use bookable::reports::period::Period;
use bookable::reports::{refresher, summary};
use bookable::seed::synthetic;
use chrono::{Days, NaiveTime};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use diesel::prelude::*;

mod support;

fn reports(c: &mut Criterion) {
    let support::SyntheticSet {
        pg,
        mut conn,
        practices,
        weeks,
        first_monday: first,
        slots,
    } = support::synthetic_set();

    let period = Period::new(first, first + Days::new(weeks as u64 * 7 - 1)).unwrap();
    // Half-way through the period, so "in the past" has work to do.
    let now = query::local_midnight(first + Days::new(weeks as u64 * 7 / 2));
    let ods = OdsCode::parse(&synthetic::practice_ods(practices / 2 + 1)).unwrap();
    let one = vec![
        bookable::practice::by_ods(&mut conn, &ods)
            .unwrap()
            .unwrap()
            .id,
    ];
    let all: Vec<PracticeId> = bookable::practice::all(&mut conn)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();

    // What a server does after the load: its background refresher brings the summary cache up
    // to date a few practices at a time (here on a connection of its own, as the server's
    // task does), and the first report is asked a minute after the load.
    let loaded = std::time::Instant::now();
    let url = pg.url("bench");
    let background = std::thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).unwrap();
        while summary::refresh_dirty(&mut conn, refresher::BATCH).unwrap() > 0 {}
        loaded.elapsed()
    });
    // (Under `cargo test`, at once.)
    let a_minute = match std::env::args().any(|a| a == "--bench") {
        true => std::time::Duration::from_secs(60),
        false => std::time::Duration::ZERO,
    };
    std::thread::sleep(a_minute.saturating_sub(loaded.elapsed()));
    let started = std::time::Instant::now();
    let report = capacity::capacity_report(&mut conn, &all, &period, now).unwrap();
    eprintln!(
        "a minute after the load: the first report of all {practices} practices took {:.1?} \
         (the background refresh took {:.1?})",
        started.elapsed(),
        background.join().unwrap()
    );
    let book: i64 = report.practices.iter().map(|p| p.totals.book_slots).sum();
    assert_eq!(book, slots, "every slot is in the book exactly once");
    assert_eq!(report.totals.book_slots, slots);
    assert!(report.totals.exposed.slots > 0 && report.totals.exposed.slots < slots);
    let single = Report::load(&mut conn, &one, &period, now).unwrap();
    assert_eq!(
        single.detail.len() as i64,
        single.capacity.totals.exposed.slots
    );
    eprintln!(
        "one practice: {} exposed of {} slots, {} hidden; all: {} exposed of {}",
        single.capacity.totals.exposed.slots,
        single.capacity.totals.book_slots,
        single.hidden_slots.len(),
        report.totals.exposed.slots,
        report.totals.book_slots
    );

    let mut group = c.benchmark_group(format!("report_{weeks}_weeks"));
    group.sample_size(10);
    group.bench_function("one_practice_capacity", |b| {
        b.iter(|| capacity::capacity_report(&mut conn, &one, &period, now).unwrap())
    });
    group.bench_function("one_practice_with_slot_lists", |b| {
        b.iter(|| Report::load(&mut conn, &one, &period, now).unwrap())
    });
    group.bench_function(format!("all_{practices}_practices_capacity"), |b| {
        b.iter(|| capacity::capacity_report(&mut conn, &all, &period, now).unwrap())
    });
    // After a bulk edit of one schedule's slots over four weeks (20 days of the summary are
    // recomputed), untimed, before each report.
    let schedule: ScheduleId = bookable::db::schema::schedules::table
        .filter(bookable::db::schema::schedules::practice_id.eq(one[0]))
        .filter(bookable::db::schema::schedules::external_id.eq("S0"))
        .select(bookable::db::schema::schedules::id)
        .first(&mut conn)
        .unwrap();
    let selection = SlotSelection {
        schedule: Some(schedule),
        first_day: first,
        last_day: first + Days::new(25),
        weekdays: vec![],
        from_time: None,
        // Its last slot of the day (13:30 in March) has no slot type, so it can't be bookable.
        until_time: Some(NaiveTime::from_hms_opt(13, 30, 0).unwrap()),
        slot_type: None,
        no_slot_type: false,
    };
    let settings = [
        SlotBookability::Own(Bookability {
            bookable: true,
            audiences: Audiences::new(vec![Audience::ods(OdsCode::parse("Y03032").unwrap())]),
        }),
        SlotBookability::FollowSchedule,
    ];
    let actor = Actor::system("bench bulk edit");
    let mut edit_conn = PgConnection::establish(&pg.url("bench")).unwrap();
    let mut flip = 0;
    let mut edited = 0;
    group.bench_function(
        format!("all_{practices}_practices_capacity_after_a_bulk_edit"),
        |b| {
            b.iter_batched(
                || {
                    flip = 1 - flip;
                    let outcome = manage::bulk_update_slots(
                        &mut edit_conn,
                        &actor,
                        one[0],
                        &selection,
                        &settings[flip],
                    )
                    .unwrap();
                    edited = outcome.changed;
                },
                |()| capacity::capacity_report(&mut conn, &all, &period, now).unwrap(),
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
    eprintln!("each bulk edit changed {edited} slots");
    drop(edit_conn);
    drop(conn);
    drop(pg);
}

criterion_group!(benches, reports);
criterion_main!(benches);
