//! A fixed data set for the rules: one schedule per kind of bookability, slots that each
//! exercise one rule, windows across both 2026 clock changes, and a second practice.

use std::collections::{BTreeMap, BTreeSet};

use bookable::availability::codes::OdsCode;
use bookable::change_log::Actor;
use bookable::db::ids::{PracticeId, SlotId};
use bookable::db::schema::slots;
use bookable::practice;
use bookable::rota_import::{
    self, BookabilityIn, ImportDocument, LocationIn, PractitionerIn, ScheduleIn, SlotIn,
};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;

pub const PRACTICE_A: &str = "A20047";
pub const PRACTICE_B: &str = "B82617";

/// A time before every slot of the fixture (its first is on 23 March 2026): searches and
/// bookings "now" see the whole rota, none of it started.
pub fn before_every_slot() -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

pub struct Fixture {
    pub a: PracticeId,
    pub b: PracticeId,
    /// External id → slot id, for both practices (external ids are unique across the fixture).
    pub ids: BTreeMap<String, SlotId>,
}

impl Fixture {
    pub fn names(&self, ids: impl IntoIterator<Item = SlotId>) -> BTreeSet<String> {
        let by_id: BTreeMap<SlotId, &String> = self.ids.iter().map(|(k, v)| (*v, k)).collect();
        ids.into_iter().map(|id| by_id[&id].clone()).collect()
    }

    pub fn id(&self, name: &str) -> SlotId {
        self.ids[name]
    }
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Local wall-clock time in Europe/London.
pub fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    London
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .earliest()
        .unwrap()
        .fixed_offset()
}

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

pub fn bookable(types: &[&str], codes: &[&str]) -> Option<BookabilityIn> {
    Some(BookabilityIn {
        gp_connect: true,
        org_types: types.iter().map(|s| s.to_string()).collect(),
        ods_codes: codes.iter().map(|s| s.to_string()).collect(),
    })
}

pub fn not_bookable() -> Option<BookabilityIn> {
    Some(BookabilityIn {
        gp_connect: false,
        org_types: vec![],
        ods_codes: vec![],
    })
}

pub fn schedule(
    id: &str,
    role: Option<&str>,
    channel: &str,
    b: Option<BookabilityIn>,
) -> ScheduleIn {
    ScheduleIn {
        id: id.into(),
        location: "L1".into(),
        practitioner: Some("P1".into()),
        schedule_type: Some(format!("{id} session")),
        practitioner_role: role.map(str::to_owned),
        delivery_channel: Some(channel.into()),
        bookable: b,
    }
}

pub fn slot(id: &str, schedule: &str, start: DateTime<FixedOffset>, minutes: i64) -> SlotIn {
    SlotIn {
        id: id.into(),
        schedule: schedule.into(),
        start,
        end: start + chrono::TimeDelta::minutes(minutes),
        status: "free".into(),
        slot_type: Some("Routine appointment".into()),
        delivery_channel: None,
        bookable: None,
    }
}

pub fn base_document(practice: &str) -> ImportDocument {
    ImportDocument {
        practice: practice.into(),
        locations: vec![LocationIn {
            id: "L1".into(),
            name: format!("{practice} Health Centre"),
            address: vec!["1 High Street".into(), "Leeds".into()],
            postcode: Some("LS1 6AE".into()),
            phone: None,
        }],
        practitioners: vec![PractitionerIn {
            id: "P1".into(),
            family_name: "Okafor".into(),
            given_name: Some("Amelia".into()),
            prefix: Some("Dr".into()),
            sds_user_id: Some("G1234567".into()),
            sds_role_profile_id: Some("100000000001".into()),
            gender: Some("female".into()),
        }],
        schedules: vec![],
        slots: vec![],
    }
}

/// Practice A's rota: the fixed data set the query tests pin.
pub fn document_a() -> ImportDocument {
    let mut doc = base_document(PRACTICE_A);
    doc.schedules = vec![
        schedule("OPEN", Some("R0260"), "In-person", bookable(&[], &[])),
        schedule(
            "TYPE",
            Some("R0260"),
            "Telephone",
            bookable(&["urgent-care"], &[]),
        ),
        schedule(
            "ODS",
            Some("R0620"),
            "In-person",
            bookable(&[], &["Y03032"]),
        ),
        schedule(
            "BOTH",
            Some("R0260"),
            "Video",
            bookable(&["urgent-care"], &["Y03032"]),
        ),
        schedule("OFF", Some("R0260"), "In-person", not_bookable()),
        schedule("VISIT", Some("R0260"), "Visit", not_bookable()),
    ];
    let at = |h, m| local(2026, 6, 10, h, m);
    let mut slots = vec![
        slot("open-free", "OPEN", at(9, 0), 15),
        SlotIn {
            status: "busy".into(),
            ..slot("open-busy", "OPEN", at(9, 15), 15)
        },
        SlotIn {
            slot_type: None,
            ..slot("open-notype", "OPEN", at(9, 30), 15)
        },
        SlotIn {
            bookable: not_bookable(),
            ..slot("open-override-off", "OPEN", at(9, 45), 15)
        },
        SlotIn {
            bookable: bookable(&[], &["A11111"]),
            ..slot("open-override-ods", "OPEN", at(10, 0), 15)
        },
        slot("open-early", "OPEN", at(8, 50), 20),
        slot("open-edge", "OPEN", at(16, 45), 15),
        slot("open-late", "OPEN", at(16, 50), 20),
        slot("type-free", "TYPE", at(10, 0), 10),
        slot("ods-free", "ODS", at(10, 0), 15),
        slot("both-free", "BOTH", at(11, 0), 15),
        slot("off-free", "OFF", at(11, 0), 15),
        SlotIn {
            bookable: bookable(&[], &[]),
            ..slot("off-override-on", "OFF", at(11, 15), 15)
        },
        slot("visit-free", "VISIT", at(12, 0), 30),
        // Spring: clocks go forward at 01:00 GMT on Sunday 29 March 2026.
        slot("mar-first", "OPEN", local(2026, 3, 23, 0, 15), 15),
        slot("mar-change", "OPEN", local(2026, 3, 29, 9, 0), 15),
        slot("mar-last", "OPEN", local(2026, 4, 5, 23, 30), 15),
        slot("mar-next", "OPEN", local(2026, 4, 6, 0, 15), 15),
        // Autumn: clocks go back at 02:00 BST on Sunday 25 October 2026.
        slot("oct-before", "OPEN", local(2026, 10, 18, 23, 30), 15),
        slot("oct-first", "OPEN", local(2026, 10, 19, 0, 15), 15),
        slot("oct-change", "OPEN", local(2026, 10, 25, 9, 0), 15),
        slot("oct-last", "OPEN", local(2026, 11, 1, 23, 30), 15),
        slot("oct-next", "OPEN", local(2026, 11, 2, 0, 0), 15),
    ];
    slots.sort_by_key(|s| s.start);
    doc.slots = slots;
    doc
}

/// Practice B: the same kind of open slot at the same time, which A's searches must never see.
pub fn document_b() -> ImportDocument {
    let mut doc = base_document(PRACTICE_B);
    doc.schedules = vec![schedule(
        "OPEN",
        Some("R0260"),
        "In-person",
        bookable(&[], &[]),
    )];
    doc.slots = vec![slot("b-open-free", "OPEN", local(2026, 6, 10, 9, 0), 15)];
    doc
}

pub fn create_practice(conn: &mut PgConnection, ods: &str, list_size: i32) -> PracticeId {
    practice::upsert(
        conn,
        &Actor::system("test"),
        &OdsCode::parse(ods).unwrap(),
        &format!("Practice {ods}"),
        list_size,
    )
    .unwrap()
    .id
}

pub fn load(conn: &mut PgConnection) -> Fixture {
    create_practice(conn, PRACTICE_A, 9_000);
    create_practice(conn, PRACTICE_B, 7_500);
    rota_import::import(conn, &Actor::system("test"), &document_a()).unwrap();
    rota_import::import(conn, &Actor::system("test"), &document_b()).unwrap();
    load_ids(conn)
}

/// The fixture's practices and slot ids as they are now (after further imports).
pub fn load_ids(conn: &mut PgConnection) -> Fixture {
    let mut practice = |ods: &str| {
        practice::by_ods(conn, &OdsCode::parse(ods).unwrap())
            .unwrap()
            .unwrap()
            .id
    };
    let (a, b) = (practice(PRACTICE_A), practice(PRACTICE_B));
    let ids = slots::table
        .select((slots::external_id, slots::id))
        .load::<(String, SlotId)>(conn)
        .unwrap()
        .into_iter()
        .collect();
    Fixture { a, b, ids }
}
