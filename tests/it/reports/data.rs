//! The fixed data set of the report tests: practice R10001 (9,000 patients) over the fortnight
//! Monday 8 – Sunday 21 June 2026, with one slot per case; practice S20002 (3,000 patients) with
//! two slots; and, for the NHS 111 minimum, four practices with the same urgent-care week.
//! Every figure the tests check is worked out by hand in `capacity.rs` from the lists below.

use bookable::change_log::Actor;
use bookable::db::ids::PracticeId;
use bookable::rota_import::{self, ImportDocument, SlotIn};
use chrono::{DateTime, FixedOffset};
use diesel::prelude::*;

use crate::fixture::{
    base_document, bookable, create_practice, local, not_bookable, schedule, slot,
};

pub const R: &str = "R10001";
pub const S: &str = "S20002";

fn june(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
    local(2026, 6, d, h, m)
}

fn typed(
    id: &str,
    schedule: &str,
    start: DateTime<FixedOffset>,
    minutes: i64,
    slot_type: &str,
) -> SlotIn {
    SlotIn {
        slot_type: Some(slot_type.into()),
        ..slot(id, schedule, start, minutes)
    }
}

fn busy(s: SlotIn) -> SlotIn {
    SlotIn {
        status: "busy".into(),
        ..s
    }
}

/// Practice R10001's fortnight. Exposed: the 15 slots of GP, UC, NURSE, HUB, `off-on` and
/// `gp-bad`; not exposed: `gp-notype`, `gp-off`, `off-1`, `visit-1`, `norole-1`; outside the
/// period: `before-1`, `after-1`.
pub fn document_r() -> ImportDocument {
    let mut doc = base_document(R);
    let mut nurse = schedule(
        "NURSE",
        Some("R0620"),
        "In-person",
        bookable(&["gp-practice"], &["Y03032"]),
    );
    nurse.schedule_type = Some("Nurse clinic, Room 2".into());
    doc.schedules = vec![
        schedule("GP", Some("R0260"), "In-person", bookable(&[], &[])),
        schedule(
            "UC",
            Some("R0260"),
            "Telephone",
            bookable(&["urgent-care"], &[]),
        ),
        nurse,
        schedule(
            "HUB",
            Some("R0270"),
            "Video",
            bookable(&[], &["Y03032", "A11111"]),
        ),
        schedule("OFF", Some("R0260"), "In-person", not_bookable()),
        schedule("VISIT", Some("R0260"), "Visit", not_bookable()),
        schedule("NOROLE", None, "In-person", not_bookable()),
    ];
    doc.slots = vec![
        typed("gp-1", "GP", june(8, 9, 0), 10, "Routine"),
        busy(typed("gp-2", "GP", june(8, 9, 10), 10, "Routine")),
        // 00:15 BST on Tuesday is 23:15 UTC on Monday: it counts on Tuesday.
        typed("gp-3", "GP", june(9, 0, 15), 15, "Routine"),
        typed("gp-4", "GP", june(15, 9, 0), 20, "Long"),
        SlotIn {
            slot_type: None,
            ..slot("gp-notype", "GP", june(8, 9, 20), 10)
        },
        SlotIn {
            bookable: not_bookable(),
            ..typed("gp-off", "GP", june(8, 9, 30), 10, "Routine")
        },
        // Made bookable for an organisation type GP Connect doesn't have, below.
        typed("gp-bad", "GP", june(10, 9, 0), 10, "Routine"),
        busy(typed("uc-1", "UC", june(8, 8, 0), 10, "Urgent")),
        typed("uc-2", "UC", june(8, 8, 10), 10, "Urgent"),
        typed("uc-3", "UC", june(9, 8, 0), 10, "Urgent"),
        typed("uc-4", "UC", june(15, 8, 0), 10, "Urgent"),
        typed("uc-5", "UC", june(13, 10, 0), 10, "Urgent"),
        SlotIn {
            bookable: bookable(&["urgent-care"], &["Y03032"]),
            ..typed("uc-ods", "UC", june(10, 8, 0), 10, "Urgent")
        },
        typed(
            "nurse-1",
            "NURSE",
            june(9, 14, 0),
            15,
            "Dressing, \"large\"",
        ),
        busy(typed(
            "nurse-2",
            "NURSE",
            june(16, 14, 0),
            15,
            "Dressing, \"large\"",
        )),
        typed("hub-1", "HUB", june(11, 18, 30), 30, "Extended access"),
        typed("off-1", "OFF", june(8, 10, 0), 10, "Routine"),
        SlotIn {
            bookable: bookable(&["gp-practice"], &[]),
            ..typed("off-on", "OFF", june(15, 10, 0), 10, "Routine")
        },
        typed("visit-1", "VISIT", june(10, 13, 0), 30, "Home visit"),
        typed("norole-1", "NOROLE", june(11, 9, 0), 10, "Routine"),
        typed("before-1", "GP", june(7, 23, 30), 10, "Routine"),
        typed("after-1", "GP", june(22, 0, 0), 10, "Routine"),
    ];
    doc
}

pub fn document_s() -> ImportDocument {
    let mut doc = base_document(S);
    doc.schedules = vec![schedule(
        "GP",
        Some("R0260"),
        "In-person",
        bookable(&[], &[]),
    )];
    doc.slots = vec![
        typed("s-1", "GP", june(8, 11, 0), 10, "Routine"),
        busy(typed("s-2", "GP", june(9, 11, 0), 10, "Routine")),
    ];
    doc
}

/// Sets what no write path of bookable allows any more, as data from before those checks (or
/// from an SQL console) would have it: a bookable Visit slot (with the Visit trigger off for
/// this one statement), a bookable schedule without a practitioner role, and a slot bookable
/// only by an organisation type GP Connect doesn't have.
fn break_r(conn: &mut PgConnection) {
    conn.transaction::<_, diesel::result::Error, _>(|conn| {
        diesel::sql_query("SET LOCAL session_replication_role = replica").execute(conn)?;
        diesel::sql_query("UPDATE slots SET gpc_bookable = true WHERE external_id = 'visit-1'")
            .execute(conn)?;
        Ok(())
    })
    .unwrap();
    diesel::sql_query("UPDATE schedules SET gpc_bookable = true WHERE external_id = 'NOROLE'")
        .execute(conn)
        .unwrap();
    diesel::sql_query(
        "UPDATE slots SET gpc_bookable = true, audiences = '{type:oncology}' \
         WHERE external_id = 'gp-bad'",
    )
    .execute(conn)
    .unwrap();
}

pub struct Loaded {
    pub r: PracticeId,
    pub s: PracticeId,
}

pub fn load(conn: &mut PgConnection) -> Loaded {
    let r = create_practice(conn, R, 9_000);
    let s = create_practice(conn, S, 3_000);
    rota_import::import(conn, &Actor::system("test"), &document_r()).unwrap();
    rota_import::import(conn, &Actor::system("test"), &document_s()).unwrap();
    break_r(conn);
    Loaded { r, s }
}

/// The NHS 111 week (Monday 8 – Sunday 14 June 2026) of a practice: slots exposed to
/// `urgent-care` Monday 3 (one booked), Tuesday 2, Wednesday 1, Thursday 0, Friday 1,
/// Saturday 1, Sunday 0; plus slots that don't count (only for gp-practice, only for a named
/// 111 provider, not bookable).
pub fn nhs111_document(ods: &str) -> ImportDocument {
    let mut doc = base_document(ods);
    doc.schedules = vec![
        schedule(
            "UC",
            Some("R0260"),
            "Telephone",
            bookable(&["urgent-care"], &[]),
        ),
        schedule("OPEN", Some("R0260"), "In-person", bookable(&[], &[])),
        schedule(
            "GPP",
            Some("R0260"),
            "In-person",
            bookable(&["gp-practice"], &[]),
        ),
        schedule("OFF", Some("R0260"), "In-person", not_bookable()),
    ];
    doc.slots = vec![
        busy(typed("mon-1", "UC", june(8, 8, 0), 10, "Urgent")),
        typed("mon-2", "UC", june(8, 8, 10), 10, "Urgent"),
        typed("mon-3", "OPEN", june(8, 9, 0), 10, "Routine"),
        typed("mon-gpp", "GPP", june(8, 9, 10), 10, "Routine"),
        SlotIn {
            bookable: bookable(&["urgent-care"], &["NLO10"]),
            ..typed("mon-named", "UC", june(8, 8, 20), 10, "Urgent")
        },
        typed("tue-1", "UC", june(9, 8, 0), 10, "Urgent"),
        typed("tue-2", "OPEN", june(9, 9, 0), 10, "Routine"),
        typed("wed-1", "UC", june(10, 8, 0), 10, "Urgent"),
        typed("thu-off", "OFF", june(11, 8, 0), 10, "Urgent"),
        typed("fri-1", "UC", june(12, 8, 0), 10, "Urgent"),
        typed("sat-1", "UC", june(13, 8, 0), 10, "Urgent"),
    ];
    doc
}
