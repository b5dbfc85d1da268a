//! The JSON import: idempotent on external ids, all or nothing, and clear about bad input.

use bookable::change_log::Actor;
use bookable::db::schema::{audit_log, schedules, slots};
use bookable::ingest::{self, ImportError, SlotIn};
use diesel::prelude::*;

use crate::fixture::{self, local, slot};
use crate::harness::TestDb;

fn counts(conn: &mut PgConnection) -> (i64, i64, i64) {
    (
        schedules::table.count().get_result(conn).unwrap(),
        slots::table.count().get_result(conn).unwrap(),
        audit_log::table.count().get_result(conn).unwrap(),
    )
}

fn import_json(conn: &mut PgConnection, json: &str) -> Result<ingest::ImportSummary, ImportError> {
    ingest::import_json(conn, &Actor::system("test"), json)
}

#[test]
fn importing_the_same_document_twice_changes_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let before: Vec<(String, i64, i32)> = slots::table
        .select((slots::external_id, slots::id, slots::version))
        .order(slots::id)
        .load::<(String, bookable::db::ids::SlotId, i32)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(e, id, v)| (e, id.0, v))
        .collect();
    let (s1, n1, a1) = counts(&mut conn);
    let json = serde_json::to_string(&fixture::document_a()).unwrap();
    let summary = import_json(&mut conn, &json).unwrap();
    assert_eq!(summary.slots, fixture::document_a().slots.len());
    let after: Vec<(String, i64, i32)> = slots::table
        .select((slots::external_id, slots::id, slots::version))
        .order(slots::id)
        .load::<(String, bookable::db::ids::SlotId, i32)>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|(e, id, v)| (e, id.0, v))
        .collect();
    let overridden = ["open-override-off", "open-override-ods", "off-override-on"];
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, b.1), (&a.0, a.1), "same slots, same ids");
        let bumped = if overridden.contains(&b.0.as_str()) {
            1
        } else {
            0
        };
        assert_eq!(
            a.2,
            b.2 + bumped,
            "{}: version moves only where the import sets bookability",
            b.0
        );
    }
    assert_eq!(
        counts(&mut conn),
        (s1, n1, a1 + 1),
        "one audit row per import, no new rows"
    );
    assert_eq!(f.ids.len() as i64, n1);
}

#[test]
fn a_reimport_without_bookability_keeps_what_managers_set() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    diesel::sql_query(
        "UPDATE schedules SET bookable_org_types = '{gp-practice}' WHERE external_id = 'OPEN'",
    )
    .execute(&mut conn)
    .unwrap();
    let mut doc = fixture::document_a();
    for s in &mut doc.schedules {
        s.bookable = None;
    }
    doc.slots.retain(|s| s.bookable.is_none());
    doc.slots[0].status = "busy".into();
    ingest::import(&mut conn, &Actor::system("test"), &doc).unwrap();
    let (types, status): (Vec<String>, String) = schedules::table
        .inner_join(slots::table)
        .filter(schedules::external_id.eq("OPEN"))
        .filter(slots::external_id.eq(&doc.slots[0].id))
        .select((schedules::bookable_org_types, slots::status))
        .first(&mut conn)
        .unwrap();
    assert_eq!(types, vec!["gp-practice"], "bookability kept");
    assert_eq!(status, "busy", "rota updated");
}

fn assert_rejected(conn: &mut PgConnection, json: &str, expected: &str) {
    let before = counts(conn);
    let err = import_json(conn, json).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(expected),
        "expected {expected:?} in:\n{message}"
    );
    assert_eq!(counts(conn), before, "nothing written");
}

#[test]
fn bad_documents_are_rejected_with_a_clear_message_and_write_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let doc = || fixture::document_a();
    let json = |d: &ingest::ImportDocument| serde_json::to_string(d).unwrap();

    let mut unknown_practice = doc();
    unknown_practice.practice = "Z99999".into();
    assert_rejected(
        &mut conn,
        &json(&unknown_practice),
        "unknown practice 'Z99999'",
    );

    // A valid new slot first, so "writes nothing" also covers the rows before the bad one.
    let mut end_before_start = doc();
    end_before_start
        .slots
        .push(slot("new-ok", "OPEN", local(2026, 6, 12, 9, 0), 15));
    let mut bad = slot("backwards", "OPEN", local(2026, 6, 12, 10, 0), 15);
    std::mem::swap(&mut bad.start, &mut bad.end);
    end_before_start.slots.push(bad);
    assert_rejected(
        &mut conn,
        &json(&end_before_start),
        "slots[24] (id 'backwards'): end 2026-06-12T10:00:00+01:00 is not after start 2026-06-12T10:15:00+01:00",
    );

    let mut channel = doc();
    channel.slots.push(SlotIn {
        delivery_channel: Some("Carrier pigeon".into()),
        ..slot("pigeon", "OPEN", local(2026, 6, 12, 9, 0), 15)
    });
    assert_rejected(
        &mut conn,
        &json(&channel),
        "unknown delivery channel 'Carrier pigeon'",
    );

    let mut role = doc();
    role.schedules[0].practitioner_role = Some("R9999".into());
    assert_rejected(
        &mut conn,
        &json(&role),
        "schedules[0] (id 'OPEN'): unknown practitioner role 'R9999'",
    );

    let mut no_role = doc();
    no_role.schedules[1].practitioner_role = None;
    assert_rejected(
        &mut conn,
        &json(&no_role),
        "schedules[1] (id 'TYPE'): can't be GP Connect bookable: it has no practitioner role",
    );

    let mut visit = doc();
    visit.schedules[5].bookable = fixture::bookable(&[], &[]);
    assert_rejected(
        &mut conn,
        &json(&visit),
        "schedules[5] (id 'VISIT'): can't be GP Connect bookable: a Visit",
    );

    let mut org_type = doc();
    org_type.schedules[1].bookable = fixture::bookable(&["oncology"], &[]);
    assert_rejected(
        &mut conn,
        &json(&org_type),
        "unknown organisation type 'oncology'",
    );

    let mut ods = doc();
    ods.schedules[2].bookable = fixture::bookable(&[], &["not an ods code"]);
    assert_rejected(
        &mut conn,
        &json(&ods),
        "'not an ods code' is not an ODS code",
    );

    let mut dangling = doc();
    dangling.slots.push(slot(
        "orphan",
        "NO-SUCH-SCHEDULE",
        local(2026, 6, 12, 9, 0),
        15,
    ));
    assert_rejected(
        &mut conn,
        &json(&dangling),
        "unknown schedule 'NO-SUCH-SCHEDULE'",
    );

    assert_rejected(
        &mut conn,
        r#"{"practice": "A20047", "slots": [ {"id": "x"} "#,
        "not valid JSON",
    );
    assert_rejected(
        &mut conn,
        r#"{"practice": "A20047", "slotz": []}"#,
        "unknown field `slotz`",
    );
    let bad_time = r#"{"practice":"A20047","slots":[{"id":"x","schedule":"OPEN","start":"2026-06-12T09:00:00","end":"2026-06-12T09:15:00+01:00","status":"free"}]}"#;
    assert_rejected(&mut conn, bad_time, "not valid JSON");
}
