//! The report's summary cache (`report_summary`): after each kind of change, made through the
//! domain's own functions, the report read from the cache equals the report computed from
//! scratch, figure for figure.

use bookable::availability::audience::{Audience, Audiences};
use bookable::availability::booking::{self, Booker};
use bookable::availability::codes::{DeliveryChannel, OdsCode, OrganisationType, PractitionerRole};
use bookable::availability::groups::{self, Target};
use bookable::availability::manage::{self, ScheduleSettings, SlotBookability, SlotSelection};
use bookable::availability::rules::Bookability;
use bookable::change_log::Actor;
use bookable::db::ids::{PracticeId, SlotId};
use bookable::db::schema::{report_summary, slots};
use bookable::reports::capacity;
use bookable::reports::figures::CapacityReport;
use bookable::reports::period::Period;
use bookable::reports::settings;
use bookable::reports::summary::refresh_summary;
use bookable::rota_import::{self, SlotIn};
use chrono::{DateTime, Days, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::data::{self, Loaded};
use super::{fortnight, now};
use crate::fixture::{day, local};
use crate::harness::TestDb;
use crate::support::schedule_id;

fn actor() -> Actor {
    Actor::system("test")
}

fn ods(code: &str) -> OdsCode {
    OdsCode::parse(code).unwrap()
}

fn slot_id(conn: &mut PgConnection, practice: PracticeId, external: &str) -> (SlotId, i32) {
    slots::table
        .filter(slots::practice_id.eq(practice))
        .filter(slots::external_id.eq(external))
        .select((slots::id, slots::version))
        .first(conn)
        .unwrap()
}

fn as_json(report: &CapacityReport) -> Value {
    serde_json::to_value(report).unwrap()
}

fn cached(conn: &mut PgConnection, f: &Loaded, at: DateTime<Utc>) -> Value {
    as_json(&capacity::capacity_report(conn, &[f.r, f.s], &fortnight(), at).unwrap())
}

/// The report with the cache emptied and every day of every slot marked dirty, as the
/// migration leaves an existing database.
fn from_scratch(conn: &mut PgConnection, f: &Loaded, at: DateTime<Utc>) -> Value {
    diesel::sql_query(
        "WITH gone AS (DELETE FROM report_summary), clean AS (DELETE FROM report_summary_dirty)
         INSERT INTO report_summary_dirty (practice_id, day)
         SELECT DISTINCT practice_id, (start_at AT TIME ZONE 'Europe/London')::date FROM slots",
    )
    .execute(conn)
    .unwrap();
    cached(conn, f, at)
}

/// Makes `change`, then checks that it changed the report and that the cached report is the
/// report from scratch.
fn after(
    conn: &mut PgConnection,
    f: &Loaded,
    what: &str,
    change: impl FnOnce(&mut PgConnection),
) -> Value {
    let before = cached(conn, f, now());
    change(conn);
    let cached = cached(conn, f, now());
    assert_ne!(before, cached, "{what}: the change shows in the report");
    assert_eq!(cached, from_scratch(conn, f, now()), "{what}");
    cached
}

#[test]
fn the_cached_report_equals_the_report_from_scratch_after_every_kind_of_change() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = data::load(&mut conn);
    let first = cached(&mut conn, &f, now());
    assert_eq!(first, from_scratch(&mut conn, &f, now()));
    let summary_rows: i64 = report_summary::table.count().get_result(&mut conn).unwrap();
    assert!(summary_rows > 0, "the report fills the cache");

    let r = f.r;
    after(&mut conn, &f, "bulk edit", |conn| {
        let gp = schedule_id(conn, r, "GP");
        let outcome = manage::bulk_update_slots(
            conn,
            &actor(),
            r,
            &SlotSelection {
                schedule: Some(gp),
                first_day: day(2026, 6, 15),
                last_day: day(2026, 6, 21),
                weekdays: Vec::new(),
                from_time: None,
                until_time: None,
                slot_type: None,
                no_slot_type: false,
            },
            &SlotBookability::Own(Bookability {
                bookable: false,
                audiences: Audiences::everyone(),
            }),
        )
        .unwrap();
        assert_eq!(outcome.changed, 1);
    });
    after(&mut conn, &f, "slot override", |conn| {
        let (id, version) = slot_id(conn, r, "uc-2");
        manage::update_slot(
            conn,
            &actor(),
            r,
            id,
            version,
            &SlotBookability::Own(Bookability {
                bookable: true,
                audiences: Audiences::new(vec![Audience::org_type(
                    OrganisationType::parse("gp-practice").unwrap(),
                )]),
            }),
        )
        .unwrap();
    });
    let booker = Booker {
        ods_code: ods("NLO10"),
        org_type: Some("urgent-care".into()),
    };
    let (uc4, _) = slot_id(&mut conn, r, "uc-4");
    let mut booking = None;
    after(&mut conn, &f, "booking", |conn| {
        booking = Some(booking::book(conn, &actor(), r, uc4, &booker, now()).unwrap());
    });
    after(&mut conn, &f, "release", |conn| {
        booking::release(conn, &actor(), r, booking.unwrap(), now()).unwrap();
    });
    after(&mut conn, &f, "schedule edit", |conn| {
        let uc = schedule_id(conn, r, "UC");
        let uc = manage::schedule(conn, r, uc).unwrap().unwrap();
        manage::update_schedule(
            conn,
            &actor(),
            r,
            uc.id,
            uc.version,
            &ScheduleSettings {
                bookability: Bookability {
                    bookable: true,
                    audiences: Audiences::new(vec![Audience::org_type(
                        OrganisationType::parse("urgent-care").unwrap(),
                    )]),
                },
                practitioner_role: Some(PractitionerRole::parse("R0260").unwrap()),
                delivery_channel: Some(DeliveryChannel::parse("Video").unwrap()),
                schedule_type: uc.schedule_type.clone(),
            },
        )
        .unwrap();
    });
    let mut pcn = None;
    after(&mut conn, &f, "schedule bookable by a group", |conn| {
        let id = groups::save(conn, &actor(), r, None, "PCN", &[ods("C81001")]).unwrap();
        let gp = schedule_id(conn, r, "GP");
        groups::set_bookable_groups(conn, &actor(), r, Target::Schedule(gp), &[id]).unwrap();
        pcn = Some(id);
    });
    let hidden = |report: &Value, code: &str| -> i64 {
        report["practices"][0]["hidden"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["reason"] == code)
            .map(|h| h["slots"].as_i64().unwrap())
            .sum()
    };
    let emptied = after(&mut conn, &f, "the group loses its members", |conn| {
        groups::save(conn, &actor(), r, pcn, "PCN", &[]).unwrap();
    });
    // GP's free future slots: gp-3 (9 June 00:15 is past), gp-bad is still restricted.
    assert!(hidden(&emptied, "restricted-to-no-one") > 1);
    after(&mut conn, &f, "the group gets a member back", |conn| {
        groups::save(conn, &actor(), r, pcn, "PCN", &[ods("C81002")]).unwrap();
    });
    after(
        &mut conn,
        &f,
        "a rota import moving a slot and adding one",
        |conn| {
            let whole = data::document_r();
            let mut doc = crate::fixture::base_document(data::R);
            doc.schedules = whole
                .schedules
                .into_iter()
                .filter(|s| s.id == "UC")
                .collect();
            let uc5 = whole.slots.into_iter().find(|s| s.id == "uc-5").unwrap();
            doc.slots = vec![
                SlotIn {
                    id: "uc-6".into(),
                    start: local(2026, 6, 18, 10, 0),
                    end: local(2026, 6, 18, 10, 10),
                    ..uc5.clone()
                },
                SlotIn {
                    start: local(2026, 6, 17, 10, 0),
                    end: local(2026, 6, 17, 10, 10),
                    ..uc5
                },
            ];
            rota_import::import(conn, &actor(), &doc).unwrap();
        },
    );
    after(&mut conn, &f, "list size", |conn| {
        bookable::practice::upsert(conn, &actor(), &ods(data::R), "R", 3_000).unwrap();
    });
    after(&mut conn, &f, "NHS 111 ratio", |conn| {
        settings::set_nhs111_patients_per_appointment(conn, &actor(), 1_000).unwrap();
    });

    // Time alone moves "in the past" and the live day, with no change to mark anything dirty.
    let later = now() + Days::new(3);
    let cached_later = cached(&mut conn, &f, later);
    assert_ne!(cached_later, cached(&mut conn, &f, now()));
    assert_eq!(cached_later, from_scratch(&mut conn, &f, later));
}

#[test]
fn days_changed_after_the_refresh_are_read_from_the_slots_in_the_report_s_snapshot() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = data::load(&mut conn);
    let period: Period = fortnight();
    refresh_summary(&mut conn, &[f.r, f.s], &period).unwrap();
    // A change between the refresh and the report's transaction leaves its day dirty.
    diesel::sql_query("UPDATE slots SET status = 'busy' WHERE external_id = 'hub-1'")
        .execute(&mut conn)
        .unwrap();
    let stale_cache = conn
        .build_transaction()
        .read_only()
        .repeatable_read()
        .run(|conn| capacity::capacity_report_in_transaction(conn, &[f.r, f.s], &period, now()))
        .unwrap();
    assert_eq!(stale_cache.totals.exposed.booked_slots, 5);
    assert_eq!(as_json(&stale_cache), from_scratch(&mut conn, &f, now()));
}
