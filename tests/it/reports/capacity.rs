//! The capacity report on the fixed data set of [`super::data`]: every figure checked exactly,
//! worked out by hand from the slot lists there.

use std::collections::BTreeSet;

use bookable::availability::codes::OdsCode;
use bookable::availability::query::{self, Consumer, SearchWindow};
use bookable::change_log::Actor;
use bookable::db::ids::PracticeId;
use bookable::reports::capacity;
use bookable::reports::exposure::HiddenCapacityReason;
use bookable::reports::figures::{BreakdownRow, CapacityReport, Figures, Totals};
use bookable::reports::period::Period;
use bookable::reports::settings;
use bookable::reports::slot_lines::{exposed_slots, hidden_slots};
use bookable::rota_import;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use crate::fixture::{create_practice, day};
use crate::harness::TestDb;

use super::{data, fortnight, now};

/// Exposed figures: slots, minutes, booked slots, booked minutes.
fn fig(slots: i64, minutes: i64, booked: i64, booked_minutes: i64) -> Figures {
    Figures {
        slots,
        minutes,
        booked_slots: booked,
        booked_minutes,
        free_slots: slots - booked,
        free_minutes: minutes - booked_minutes,
    }
}

/// Exposed figures, book slots, book minutes.
type Tot = (Figures, i64, i64);

fn totals(t: &Totals) -> Tot {
    (t.exposed, t.book_slots, t.book_minutes)
}

/// (key, label, total, per week) of each row.
fn rows(b: &[BreakdownRow]) -> Vec<(Option<&str>, &str, Figures, Vec<Figures>)> {
    b.iter()
        .map(|r| (r.key.as_deref(), r.label.as_str(), r.total, r.weeks.clone()))
        .collect()
}

fn report(conn: &mut PgConnection, practices: &[PracticeId]) -> CapacityReport {
    capacity::capacity_report(conn, practices, &fortnight(), now()).unwrap()
}

#[test]
fn every_figure_of_one_practice_over_a_fortnight() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let ids = data::load(&mut conn);
    let r = report(&mut conn, &[ids.r]);

    assert_eq!(r.nhs111_patients_per_appointment, 3000);
    assert_eq!(r.org_types, ["gp-practice", "urgent-care"]);
    // 15 exposed slots of 195 minutes, 3 booked (35 minutes), in a book of 20 slots and
    // 265 minutes (the 5 unexposed: 10 + 10 + 10 + 30 + 10).
    assert_eq!(totals(&r.totals), (fig(15, 195, 3, 35), 20, 265));
    assert_eq!(r.totals.exposed_share_of_slots, Some(75.0));
    assert_eq!(r.totals.exposed_share_of_minutes, Some(73.6));

    let w = r
        .weeks
        .iter()
        .map(|w| (w.iso_week.as_str(), w.monday, totals(&w.totals)));
    assert_eq!(
        w.collect::<Vec<_>>(),
        [
            ("2026-W24", day(2026, 6, 8), (fig(11, 140, 2, 20), 16, 210)),
            ("2026-W25", day(2026, 6, 15), (fig(4, 55, 1, 15), 4, 55)),
        ]
    );

    let zero = (Figures::default(), 0, 0);
    let days: Vec<(NaiveDate, Tot)> = r.days.iter().map(|d| (d.date, totals(&d.totals))).collect();
    assert_eq!(
        days,
        [
            (day(2026, 6, 8), (fig(4, 40, 2, 20), 7, 70)),
            (day(2026, 6, 9), (fig(3, 40, 0, 0), 3, 40)),
            (day(2026, 6, 10), (fig(2, 20, 0, 0), 3, 50)),
            (day(2026, 6, 11), (fig(1, 30, 0, 0), 2, 40)),
            (day(2026, 6, 12), zero),
            (day(2026, 6, 13), (fig(1, 10, 0, 0), 1, 10)),
            (day(2026, 6, 14), zero),
            (day(2026, 6, 15), (fig(3, 40, 0, 0), 3, 40)),
            (day(2026, 6, 16), (fig(1, 15, 1, 15), 1, 15)),
            (day(2026, 6, 17), zero),
            (day(2026, 6, 18), zero),
            (day(2026, 6, 19), zero),
            (day(2026, 6, 20), zero),
            (day(2026, 6, 21), zero),
        ]
    );
    // Per day and organisation type [gp-practice, urgent-care], on the days with any.
    let by_type: Vec<(NaiveDate, Vec<Figures>)> = r
        .days
        .iter()
        .filter(|d| d.by_org_type.iter().any(|f| f.slots > 0))
        .map(|d| (d.date, d.by_org_type.clone()))
        .collect();
    assert_eq!(
        by_type,
        [
            (day(2026, 6, 8), vec![fig(2, 20, 1, 10), fig(4, 40, 2, 20)]),
            (day(2026, 6, 9), vec![fig(1, 15, 0, 0), fig(2, 25, 0, 0)]),
            (day(2026, 6, 13), vec![Figures::default(), fig(1, 10, 0, 0)]),
            (day(2026, 6, 15), vec![fig(2, 30, 0, 0), fig(2, 30, 0, 0)]),
        ]
    );

    // Unrestricted GP slots count for both types; NURSE, HUB and uc-ods name organisations,
    // gp-bad names an unknown type, so none of them counts for a type.
    assert_eq!(
        rows(&r.by_org_type),
        [
            (
                Some("gp-practice"),
                "GP practice",
                fig(5, 65, 1, 10),
                vec![fig(3, 35, 1, 10), fig(2, 30, 0, 0)]
            ),
            (
                Some("urgent-care"),
                "Urgent care (NHS 111)",
                fig(9, 105, 2, 20),
                vec![fig(7, 75, 2, 20), fig(2, 30, 0, 0)]
            ),
        ]
    );
    assert_eq!(
        rows(&r.by_named_organisation),
        [
            (
                None,
                "Any organisation (no ODS code or group restriction)",
                fig(11, 125, 2, 20),
                vec![fig(8, 85, 2, 20), fig(3, 40, 0, 0)]
            ),
            (
                Some("Y03032"),
                "Y03032",
                fig(4, 70, 1, 15),
                vec![fig(3, 55, 0, 0), fig(1, 15, 1, 15)]
            ),
            (
                Some("A11111"),
                "A11111",
                fig(1, 30, 0, 0),
                vec![fig(1, 30, 0, 0), Figures::default()]
            ),
        ]
    );
    assert_eq!(
        rows(&r.by_channel),
        [
            (
                Some("In-person"),
                "In-person",
                fig(8, 105, 2, 25),
                vec![fig(5, 60, 1, 10), fig(3, 45, 1, 15)]
            ),
            (
                Some("Telephone"),
                "Telephone",
                fig(6, 60, 1, 10),
                vec![fig(5, 50, 1, 10), fig(1, 10, 0, 0)]
            ),
            (
                Some("Video"),
                "Video",
                fig(1, 30, 0, 0),
                vec![fig(1, 30, 0, 0), Figures::default()]
            ),
        ]
    );
    assert_eq!(
        rows(&r.by_role),
        [
            (
                Some("R0260"),
                "General Medical Practitioner (R0260)",
                fig(12, 135, 2, 20),
                vec![fig(9, 95, 2, 20), fig(3, 40, 0, 0)]
            ),
            (
                Some("R0620"),
                "Staff Nurse (R0620)",
                fig(2, 30, 1, 15),
                vec![fig(1, 15, 0, 0), fig(1, 15, 1, 15)]
            ),
            (
                Some("R0270"),
                "Salaried General Practitioner (R0270)",
                fig(1, 30, 0, 0),
                vec![fig(1, 30, 0, 0), Figures::default()]
            ),
        ]
    );
    assert_eq!(
        rows(&r.by_slot_type),
        [
            (
                Some("Urgent"),
                "Urgent",
                fig(6, 60, 1, 10),
                vec![fig(5, 50, 1, 10), fig(1, 10, 0, 0)]
            ),
            (
                Some("Routine"),
                "Routine",
                fig(5, 55, 1, 10),
                vec![fig(4, 45, 1, 10), fig(1, 10, 0, 0)]
            ),
            (
                Some("Dressing, \"large\""),
                "Dressing, \"large\"",
                fig(2, 30, 1, 15),
                vec![fig(1, 15, 0, 0), fig(1, 15, 1, 15)]
            ),
            (
                Some("Extended access"),
                "Extended access",
                fig(1, 30, 0, 0),
                vec![fig(1, 30, 0, 0), Figures::default()]
            ),
            (
                Some("Long"),
                "Long",
                fig(1, 20, 0, 0),
                vec![Figures::default(), fig(1, 20, 0, 0)]
            ),
        ]
    );

    let [p] = &r.practices[..] else {
        panic!("one practice")
    };
    assert_eq!((p.ods_code.as_str(), p.list_size), (data::R, 9_000));
    assert_eq!(totals(&p.totals), totals(&r.totals));
    assert_eq!(
        p.weeks.iter().map(totals).collect::<Vec<_>>(),
        r.weeks
            .iter()
            .map(|w| totals(&w.totals))
            .collect::<Vec<_>>()
    );
    // Hidden capacity as of Tuesday noon: uc-2, gp-1, gp-notype, gp-3 and uc-3 are past;
    // gp-notype has no slot type, gp-bad reaches no one, visit-1 is a Visit, norole-1 has no role.
    let hidden: Vec<(HiddenCapacityReason, i64, i64)> = p
        .hidden
        .iter()
        .map(|h| (h.reason, h.slots, h.minutes))
        .collect();
    assert_eq!(
        hidden,
        [
            (HiddenCapacityReason::Visit, 1, 30),
            (HiddenCapacityReason::NoPractitionerRole, 1, 10),
            (HiddenCapacityReason::NoSlotType, 1, 10),
            (HiddenCapacityReason::RestrictedToNoOne, 1, 10),
            (HiddenCapacityReason::InThePast, 5, 55),
        ]
    );

    // NHS 111 at 9,000 patients: 3 a day; offered (urgent-care, booked or free) Monday 4,
    // Tuesday 2, Saturday 1, Monday 15th 2; short on every other weekday.
    assert_eq!(p.nhs111_daily_minimum, 3);
    let nhs111: Vec<(NaiveDate, i64, i64, bool, bool)> = r
        .nhs111
        .iter()
        .map(|d| (d.date, d.required, d.offered.slots, d.weekend, d.short))
        .collect();
    let d = |n| day(2026, 6, n);
    assert_eq!(
        nhs111,
        [
            (d(8), 3, 4, false, false),
            (d(9), 3, 2, false, true),
            (d(10), 3, 0, false, true),
            (d(11), 3, 0, false, true),
            (d(12), 3, 0, false, true),
            (d(13), 3, 1, true, false),
            (d(14), 3, 0, true, false),
            (d(15), 3, 2, false, true),
            (d(16), 3, 0, false, true),
            (d(17), 3, 0, false, true),
            (d(18), 3, 0, false, true),
            (d(19), 3, 0, false, true),
            (d(20), 3, 0, true, false),
            (d(21), 3, 0, true, false),
        ]
    );
    assert_eq!(r.nhs111[0].offered, fig(4, 40, 2, 20));
    assert_eq!(p.nhs111_days_short, 9);
}

#[test]
fn several_practices_add_up_and_stay_apart() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let ids = data::load(&mut conn);
    let both = report(&mut conn, &[ids.s, ids.r]);
    let s_only = report(&mut conn, &[ids.s]);

    // S20002 adds s-1 (Monday, free) and s-2 (Tuesday, booked): 10 minutes each.
    assert_eq!(totals(&s_only.totals), (fig(2, 20, 1, 10), 2, 20));
    assert_eq!(totals(&both.totals), (fig(17, 215, 4, 45), 22, 285));
    let practices: Vec<(&str, Tot, i64, usize)> = both
        .practices
        .iter()
        .map(|p| {
            (
                p.ods_code.as_str(),
                totals(&p.totals),
                p.nhs111_daily_minimum,
                p.nhs111_days_short,
            )
        })
        .collect();
    assert_eq!(
        practices,
        [
            (data::R, (fig(15, 195, 3, 35), 20, 265), 3, 9),
            // 3,000 patients: 1 a day; s-1 and s-2 cover Monday and Tuesday only.
            (data::S, (fig(2, 20, 1, 10), 2, 20), 1, 8),
        ]
    );
    assert_eq!(totals(&both.days[0].totals), (fig(5, 50, 2, 20), 8, 80));
    assert_eq!(totals(&both.days[1].totals), (fig(4, 50, 1, 10), 4, 50));
    assert_eq!(both.by_channel[0].total, fig(10, 125, 3, 35));
    assert_eq!(both.by_org_type[1].total, fig(11, 125, 3, 30));
    assert_eq!(both.nhs111.len(), 28);
    // S20002's free s-1 (Monday) is past by Tuesday noon.
    let s_hidden: Vec<_> = both.practices[1]
        .hidden
        .iter()
        .map(|h| (h.reason, h.slots, h.minutes))
        .collect();
    assert_eq!(s_hidden, [(HiddenCapacityReason::InThePast, 1, 10)]);
}

#[test]
fn free_exposed_slots_are_exactly_what_the_query_module_offers() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let ids = data::load(&mut conn);
    let period = fortnight();
    let window = SearchWindow::local_days(period.first, period.last).unwrap();
    // Searching before the period: no window or limit is set, nothing is in the past.
    let searched: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    let r = capacity::capacity_report(&mut conn, &[ids.r], &period, searched).unwrap();
    let detail = exposed_slots(&mut conn, &[ids.r], &period).unwrap();
    let mut free_exposed: BTreeSet<_> = detail
        .iter()
        .filter(|s| !s.booked)
        .map(|s| s.slot_id)
        .collect();
    assert_eq!(free_exposed.len() as i64, r.totals.exposed.free_slots);

    let mut found = |org_type: Option<&str>, ods: Option<&str>| -> BTreeSet<_> {
        let consumer = Consumer::new(org_type, ods.map(|o| OdsCode::parse(o).unwrap()));
        query::free_slots(&mut conn, ids.r, &window, &consumer, searched)
            .unwrap()
            .slot_ids()
            .into_iter()
            .collect()
    };
    // By organisation type: what a consumer of that type finds without naming itself.
    for row in &r.by_org_type {
        let seen = found(row.key.as_deref(), None);
        assert_eq!(seen.len() as i64, row.total.free_slots, "{:?}", row.key);
        assert!(seen.is_subset(&free_exposed));
    }
    // Every consumer sees only free exposed slots, and between them these four see all of
    // them but gp-bad, which is restricted to an organisation type no consumer can be.
    let mut all_seen = BTreeSet::new();
    for (t, o) in [
        ("urgent-care", "Y03032"),
        ("gp-practice", "Y03032"),
        ("urgent-care", "A11111"),
        ("gp-practice", "A11111"),
    ] {
        let seen = found(Some(t), Some(o));
        assert!(seen.is_subset(&free_exposed), "{t} {o}");
        all_seen.extend(seen);
    }
    let gp_bad = detail
        .iter()
        .find(|s| s.org_types == ["oncology"])
        .unwrap()
        .slot_id;
    assert!(free_exposed.remove(&gp_bad));
    assert_eq!(all_seen, free_exposed);
}

#[test]
fn nhs111_minimum_follows_the_list_size_and_the_ratio_setting() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let mut practices = Vec::new();
    for (ods, list) in [
        ("L02999", 2_999),
        ("L03000", 3_000),
        ("L07500", 7_500),
        ("L09000", 9_000),
    ] {
        practices.push(create_practice(&mut conn, ods, list));
        rota_import::import(
            &mut conn,
            &Actor::system("test"),
            &data::nhs111_document(ods),
        )
        .unwrap();
    }
    let week = Period::new(day(2026, 6, 8), day(2026, 6, 14)).unwrap();
    let run = |conn: &mut PgConnection| {
        capacity::capacity_report(conn, &practices, &week, now()).unwrap()
    };
    let r = run(&mut conn);

    // Offered Monday to Sunday: 3, 2, 1, 0, 1, 1, 0 (Monday's three include one booked).
    let offered: Vec<i64> = r.nhs111[..7].iter().map(|d| d.offered.slots).collect();
    assert_eq!(offered, [3, 2, 1, 0, 1, 1, 0]);
    assert_eq!(r.nhs111[0].offered, fig(3, 30, 1, 10));
    let short_days = |r: &CapacityReport, ods: &str| -> Vec<u32> {
        r.nhs111
            .iter()
            .filter(|d| d.ods_code == ods && d.short)
            .map(|d| chrono::Datelike::day(&d.date))
            .collect()
    };
    let required: Vec<(&str, i64)> = r
        .practices
        .iter()
        .map(|p| (p.ods_code.as_str(), p.nhs111_daily_minimum))
        .collect();
    assert_eq!(
        required,
        [("L02999", 1), ("L03000", 1), ("L07500", 2), ("L09000", 3)]
    );
    assert_eq!(short_days(&r, "L02999"), [11]);
    assert_eq!(short_days(&r, "L03000"), [11]);
    assert_eq!(short_days(&r, "L07500"), [10, 11, 12]);
    assert_eq!(short_days(&r, "L09000"), [9, 10, 11, 12]);
    // Sunday has nothing, but weekends are never flagged.
    assert!(r.nhs111.iter().filter(|d| d.weekend).all(|d| !d.short));

    // NHS England's 2020 ratio, 1 per 500: 7,500 → 15 a day, short on every weekday.
    settings::set_nhs111_patients_per_appointment(&mut conn, &Actor::system("test"), 500).unwrap();
    let r = run(&mut conn);
    assert_eq!(r.nhs111_patients_per_appointment, 500);
    assert_eq!(r.practices[2].nhs111_daily_minimum, 15);
    assert_eq!(short_days(&r, "L02999"), [8, 9, 10, 11, 12]);
    assert!(
        settings::set_nhs111_patients_per_appointment(&mut conn, &Actor::system("test"), 0)
            .is_err()
    );
    assert_eq!(
        settings::nhs111_patients_per_appointment(&mut conn).unwrap(),
        500
    );
}

#[test]
fn hidden_capacity_lists_each_slot_with_every_reason() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let ids = data::load(&mut conn);
    let hidden = hidden_slots(&mut conn, &[ids.r, ids.s], &fortnight(), now()).unwrap();
    let lines: Vec<(NaiveDate, &str, Option<&str>, Vec<&str>)> = hidden
        .iter()
        .map(|h| {
            (
                h.date,
                h.start.as_str(),
                h.slot_type.as_deref(),
                h.reasons.iter().map(|r| r.code()).collect(),
            )
        })
        .collect();
    let d = |n| day(2026, 6, n);
    assert_eq!(
        lines,
        [
            (d(8), "08:10", Some("Urgent"), vec!["in-the-past"]),
            (d(8), "09:00", Some("Routine"), vec!["in-the-past"]),
            (d(8), "09:20", None, vec!["no-slot-type", "in-the-past"]),
            (d(9), "00:15", Some("Routine"), vec!["in-the-past"]),
            (d(9), "08:00", Some("Urgent"), vec!["in-the-past"]),
            (
                d(10),
                "09:00",
                Some("Routine"),
                vec!["restricted-to-no-one"]
            ),
            (d(10), "13:00", Some("Home visit"), vec!["visit"]),
            (
                d(11),
                "09:00",
                Some("Routine"),
                vec!["no-practitioner-role"]
            ),
            // S20002's free slot s-1, after all of R10001's.
            (d(8), "11:00", Some("Routine"), vec!["in-the-past"]),
        ]
    );
    assert_eq!(hidden[8].ods_code, data::S);
    assert_eq!(
        HiddenCapacityReason::Visit.message(),
        query::HiddenReason::Visit.message()
    );

    // Before the period, only the misconfigured slots remain.
    let early: DateTime<Utc> = "2026-06-01T09:00:00Z".parse().unwrap();
    let hidden = hidden_slots(&mut conn, &[ids.r], &fortnight(), early).unwrap();
    assert_eq!(hidden.len(), 4);
}

#[test]
fn the_detail_table_speaks_the_practice_s_language_in_uk_local_time() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let ids = data::load(&mut conn);
    let detail = exposed_slots(&mut conn, &[ids.r], &fortnight()).unwrap();
    assert_eq!(detail.len(), 15);
    let gp3 = &detail[4];
    assert_eq!(
        (
            gp3.date,
            gp3.start.as_str(),
            gp3.duration_minutes,
            gp3.session.as_deref(),
            gp3.slot_type.as_deref(),
            gp3.channel.as_deref(),
            gp3.practitioner.as_deref(),
            gp3.role.as_deref(),
            gp3.role_name.as_deref(),
            gp3.booked,
        ),
        (
            day(2026, 6, 9),
            "00:15",
            15,
            Some("GP session"),
            Some("Routine"),
            Some("In-person"),
            Some("Dr Amelia Okafor"),
            Some("R0260"),
            Some("General Medical Practitioner"),
            false,
        )
    );
    let nurse = detail
        .iter()
        .find(|s| s.role.as_deref() == Some("R0620"))
        .unwrap();
    assert_eq!(nurse.session.as_deref(), Some("Nurse clinic, Room 2"));
    assert_eq!(
        (nurse.org_types.as_slice(), nurse.ods_codes.as_slice()),
        (&["gp-practice".to_owned()][..], &["Y03032".to_owned()][..])
    );
}

#[test]
fn still_free_to_book_agrees_with_the_query_module_inside_the_day() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let ids = data::load(&mut conn);
    let period = fortnight();
    let window = SearchWindow::local_days(period.first, period.last).unwrap();
    // Tuesday 9 June, 14:00 BST: nurse-1 starts at this very moment, so it has started.
    let at: DateTime<Utc> = "2026-06-09T13:00:00Z".parse().unwrap();
    let r = capacity::capacity_report(&mut conn, &[ids.r], &period, at).unwrap();
    let started: BTreeSet<_> = hidden_slots(&mut conn, &[ids.r], &period, at)
        .unwrap()
        .into_iter()
        .filter(|h| h.reasons.contains(&HiddenCapacityReason::InThePast))
        .map(|h| h.slot_id)
        .collect();
    let free_exposed: BTreeSet<_> = exposed_slots(&mut conn, &[ids.r], &period)
        .unwrap()
        .into_iter()
        .filter(|s| !s.booked && s.org_types != ["oncology"])
        .map(|s| s.slot_id)
        .collect();
    let still_free: BTreeSet<_> = free_exposed.difference(&started).copied().collect();
    let mut offered = BTreeSet::new();
    for (t, o) in [
        ("urgent-care", "Y03032"),
        ("gp-practice", "Y03032"),
        ("urgent-care", "A11111"),
        ("gp-practice", "A11111"),
    ] {
        let consumer = Consumer::new(Some(t), Some(OdsCode::parse(o).unwrap()));
        offered.extend(
            query::free_slots(&mut conn, ids.r, &window, &consumer, at)
                .unwrap()
                .slot_ids(),
        );
    }
    assert_eq!(
        offered, still_free,
        "what the report says is still free is what is offered"
    );
    let past = r.practices[0]
        .hidden
        .iter()
        .find(|h| h.reason == HiddenCapacityReason::InThePast)
        .unwrap();
    // uc-2, gp-1, gp-notype (Monday), gp-3, uc-3 and nurse-1 (Tuesday, at 14:00 sharp).
    assert_eq!((past.slots, past.minutes), (6, 70));
}
