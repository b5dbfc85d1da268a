//! The JSON import: idempotent on external ids, all or nothing, and clear about bad input.

use bookable::change_log::Actor;
use bookable::db::ids::SlotId;
use bookable::db::schema::{audit_log, schedules, slots};
use bookable::rota_import::{self, ImportError, SlotIn};
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

fn import_json(
    conn: &mut PgConnection,
    json: &str,
) -> Result<rota_import::ImportSummary, ImportError> {
    rota_import::import_json(conn, &Actor::system("test"), json)
}

/// Each slot's external id, id and version, in id order.
fn slot_versions(conn: &mut PgConnection) -> Vec<(String, SlotId, i32)> {
    slots::table
        .select((slots::external_id, slots::id, slots::version))
        .order(slots::id)
        .load(conn)
        .unwrap()
}

#[test]
fn importing_the_same_document_twice_changes_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let before = slot_versions(&mut conn);
    let (s1, n1, a1) = counts(&mut conn);
    let json = serde_json::to_string(&fixture::document_a()).unwrap();
    let summary = import_json(&mut conn, &json).unwrap();
    assert_eq!(summary.slots, fixture::document_a().slots.len());
    let after = slot_versions(&mut conn);
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
        "UPDATE schedules SET audiences = '{type:gp-practice}' WHERE external_id = 'OPEN'",
    )
    .execute(&mut conn)
    .unwrap();
    let mut doc = fixture::document_a();
    for s in &mut doc.schedules {
        s.bookable = None;
    }
    doc.slots.retain(|s| s.bookable.is_none());
    doc.slots[0].status = "busy".into();
    rota_import::import(&mut conn, &Actor::system("test"), &doc).unwrap();
    let (types, status): (Vec<String>, String) = schedules::table
        .inner_join(slots::table)
        .filter(schedules::external_id.eq("OPEN"))
        .filter(slots::external_id.eq(&doc.slots[0].id))
        .select((schedules::audiences, slots::status))
        .first(&mut conn)
        .unwrap();
    assert_eq!(types, vec!["type:gp-practice"], "bookability kept");
    assert_eq!(status, "busy", "rota updated");
}

/// The tables an import writes to.
const WRITTEN_TABLES: [&str; 5] = [
    "locations",
    "practitioners",
    "schedules",
    "slots",
    "audit_log",
];

/// Every row an import can write, as text in a stable order: the state "nothing written" compares.
fn written_rows(conn: &mut PgConnection) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let mut rows = Vec::new();
    for table in WRITTEN_TABLES {
        let sql = format!("SELECT '{table} ' || t::text AS row FROM {table} t ORDER BY t.id");
        rows.extend(
            diesel::sql_query(sql)
                .load::<Row>(conn)
                .unwrap()
                .into_iter()
                .map(|r| r.row),
        );
    }
    rows
}

/// Practice A's document (already imported by the fixture) with changes of every kind the
/// import writes: a renamed and a new location, a new practitioner, a changed and a new
/// schedule, a slot booked and a new slot. A bad document carries them too, so an import that
/// wrote anything before failing leaves a trace.
fn with_changes(mut doc: rota_import::ImportDocument) -> rota_import::ImportDocument {
    doc.locations[0].name = "Renamed Health Centre".into();
    doc.locations.push(rota_import::LocationIn {
        id: "L2".into(),
        name: "Branch Surgery".into(),
        address: vec!["2 Low Street".into()],
        postcode: None,
        phone: None,
    });
    doc.practitioners.push(rota_import::PractitionerIn {
        id: "P2".into(),
        family_name: "Nguyen".into(),
        given_name: None,
        prefix: None,
        sds_user_id: None,
        sds_role_profile_id: None,
        gender: None,
    });
    doc.schedules[0].schedule_type = Some("Changed session".into());
    doc.schedules.push(rota_import::ScheduleIn {
        location: "L2".into(),
        practitioner: Some("P2".into()),
        ..fixture::schedule("NEW", Some("R0260"), "In-person", fixture::not_bookable())
    });
    let booked = doc.slots.iter_mut().find(|s| s.id == "open-free").unwrap();
    booked.status = "busy".into();
    doc.slots
        .push(slot("new-ok", "NEW", local(2026, 6, 12, 9, 0), 15));
    doc
}

fn assert_rejected(conn: &mut PgConnection, json: &str, expected: &str) {
    let before = written_rows(conn);
    let err = import_json(conn, json).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(expected),
        "expected {expected:?} in:\n{message}"
    );
    assert_eq!(written_rows(conn), before, "nothing written");
}

#[test]
fn bad_documents_are_rejected_with_a_clear_message_and_write_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let doc = || with_changes(fixture::document_a());
    let json = |d: &rota_import::ImportDocument| serde_json::to_string(d).unwrap();

    let mut unknown_practice = doc();
    unknown_practice.practice = "Z99999".into();
    assert_rejected(
        &mut conn,
        &json(&unknown_practice),
        "unknown practice 'Z99999'",
    );

    let mut end_before_start = doc();
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

/// Every string field of the document holding each character XML 1.0 forbids (a NUL among
/// them, which PostgreSQL can't store): each problem listed, nothing written.
#[test]
fn characters_xml_forbids_are_refused_in_every_string_field() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let forbidden = "\u{0}\u{1}\u{8}\u{b}\u{c}\u{e}\u{1f}\u{fffe}\u{ffff}";
    let codes = "U+0000, U+0001, U+0008, U+000B, U+000C, U+000E, U+001F, U+FFFE, U+FFFF";
    let bad = |s: &str| format!("{s}{forbidden}");
    let mut doc = with_changes(fixture::document_a());
    let l = doc.locations.len() - 1;
    let loc = &mut doc.locations[l];
    loc.id = bad("L2");
    loc.name = bad("Branch");
    loc.address = vec![bad("2 Low Street")];
    loc.postcode = Some(bad("LS1"));
    loc.phone = Some(bad("0113"));
    let p = doc.practitioners.len() - 1;
    let pr = &mut doc.practitioners[p];
    pr.id = bad("P2");
    pr.family_name = bad("Nguyen");
    pr.given_name = Some(bad("An"));
    pr.prefix = Some(bad("Dr"));
    pr.sds_user_id = Some(bad("1"));
    pr.sds_role_profile_id = Some(bad("2"));
    pr.gender = Some(bad("female"));
    let s = doc.schedules.len() - 1;
    let sc = &mut doc.schedules[s];
    sc.id = bad("NEW");
    sc.location = bad("L2");
    sc.practitioner = Some(bad("P2"));
    sc.schedule_type = Some(bad("Session"));
    sc.practitioner_role = Some(bad("R0260"));
    sc.delivery_channel = Some(bad("In-person"));
    sc.bookable = fixture::bookable(&[bad("urgent-care").as_str()], &[bad("NLO10").as_str()]);
    let n = doc.slots.len() - 1;
    let sl = &mut doc.slots[n];
    sl.id = bad("new-ok");
    sl.schedule = bad("NEW");
    sl.status = bad("free");
    sl.slot_type = Some(bad("Routine"));
    sl.delivery_channel = Some(bad("In-person"));
    sl.bookable = fixture::bookable(&[bad("urgent-care").as_str()], &[bad("NLO10").as_str()]);
    let mut practice = fixture::document_a();
    practice.practice = bad("A20047");

    let before = written_rows(&mut conn);
    let message = rota_import::import(&mut conn, &Actor::system("test"), &doc)
        .unwrap_err()
        .to_string();
    let fields = [
        format!("locations[{l}]: id"),
        format!("locations[{l}]: name"),
        format!("locations[{l}]: address[0]"),
        format!("locations[{l}]: postcode"),
        format!("locations[{l}]: phone"),
        format!("practitioners[{p}]: id"),
        format!("practitioners[{p}]: family_name"),
        format!("practitioners[{p}]: given_name"),
        format!("practitioners[{p}]: prefix"),
        format!("practitioners[{p}]: sds_user_id"),
        format!("practitioners[{p}]: sds_role_profile_id"),
        format!("practitioners[{p}]: gender"),
        format!("schedules[{s}]: id"),
        format!("schedules[{s}]: location"),
        format!("schedules[{s}]: practitioner"),
        format!("schedules[{s}]: schedule_type"),
        format!("schedules[{s}]: practitioner_role"),
        format!("schedules[{s}]: delivery_channel"),
        format!("schedules[{s}]: bookable.org_types[0]"),
        format!("schedules[{s}]: bookable.ods_codes[0]"),
        format!("slots[{n}]: id"),
        format!("slots[{n}]: schedule"),
        format!("slots[{n}]: status"),
        format!("slots[{n}]: slot_type"),
        format!("slots[{n}]: delivery_channel"),
        format!("slots[{n}]: bookable.org_types[0]"),
        format!("slots[{n}]: bookable.ods_codes[0]"),
    ];
    for field in &fields {
        let line = format!("{field} contains a character that is not allowed in text ({codes})");
        assert!(message.contains(&line), "expected {line:?} in:\n{message}");
    }
    assert_eq!(written_rows(&mut conn), before, "nothing written");
    // A NUL alone; and one in the ODS code, which is not an ODS code.
    let mut nul = fixture::document_a();
    nul.slots[0].slot_type = Some("Rout\u{0}ine".into());
    assert_rejected(
        &mut conn,
        &serde_json::to_string(&nul).unwrap(),
        "slots[0]: slot_type contains a character that is not allowed in text (U+0000)",
    );
    assert!(rota_import::import(&mut conn, &Actor::system("test"), &practice).is_err());
    assert_eq!(written_rows(&mut conn), before, "nothing written");
    // Tab, LF and CR are text.
    let mut fine = fixture::document_a();
    fine.slots[0].slot_type = Some("Routine\t(line one)\r\nline two".into());
    rota_import::import(&mut conn, &Actor::system("test"), &fine).unwrap();
}

/// The same id twice in one document, for each kind of row: each repeat listed, nothing written.
#[test]
fn an_id_given_twice_in_one_document_is_refused() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let mut doc = with_changes(fixture::document_a());
    let (l, p, s, n) = (
        doc.locations.len(),
        doc.practitioners.len(),
        doc.schedules.len(),
        doc.slots.len(),
    );
    doc.locations.push(doc.locations[0].clone());
    doc.practitioners.push(doc.practitioners[0].clone());
    doc.schedules.push(doc.schedules[0].clone());
    doc.slots.push(doc.slots[0].clone());
    doc.slots.push(doc.slots[0].clone());
    let json = serde_json::to_string(&doc).unwrap();
    for expected in [
        format!(
            "locations[{l}] (id {:?}): the same id as locations[0]",
            doc.locations[0].id
        ),
        format!(
            "practitioners[{p}] (id {:?}): the same id as practitioners[0]",
            doc.practitioners[0].id
        ),
        format!(
            "schedules[{s}] (id {:?}): the same id as schedules[0]",
            doc.schedules[0].id
        ),
        format!(
            "slots[{n}] (id {:?}): the same id as slots[0]",
            doc.slots[0].id
        ),
        format!(
            "slots[{}] (id {:?}): the same id as slots[0]",
            n + 1,
            doc.slots[0].id
        ),
    ] {
        assert_rejected(&mut conn, &json, &expected);
    }
}

/// A document that passes validation but fails while being written (PostgreSQL refuses its last
/// new slot: a trigger of this test's database), after the locations, practitioners, schedules
/// and the slots without bookability of its changes were sent: the transaction takes them all
/// back.
#[test]
fn a_document_failing_while_it_is_written_leaves_nothing_behind() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    diesel::sql_query(
        "CREATE FUNCTION refuse_slot() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF NEW.external_id = 'refused-by-the-database' THEN RAISE EXCEPTION 'refused'; END IF; \
         RETURN NEW; END $$",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "CREATE TRIGGER refuse_slot BEFORE INSERT ON slots FOR EACH ROW EXECUTE FUNCTION refuse_slot()",
    )
    .execute(&mut conn)
    .unwrap();
    let before = written_rows(&mut conn);

    let mut doc = with_changes(fixture::document_a());
    doc.slots.push(SlotIn {
        bookable: fixture::not_bookable(),
        ..slot(
            "refused-by-the-database",
            "OPEN",
            local(2026, 6, 12, 11, 0),
            15,
        )
    });
    let err = rota_import::import(&mut conn, &Actor::system("test"), &doc).unwrap_err();
    assert!(
        matches!(err, ImportError::Database(_)),
        "fails while writing, not in validation: {err}"
    );
    assert_eq!(written_rows(&mut conn), before, "nothing written");

    // The same changes without the duplicate are written: the check above can see them.
    rota_import::import(
        &mut conn,
        &Actor::system("test"),
        &with_changes(fixture::document_a()),
    )
    .unwrap();
    let after = written_rows(&mut conn);
    for table in WRITTEN_TABLES {
        let of = |rows: &[String]| -> Vec<String> {
            rows.iter()
                .filter(|r| r.starts_with(&format!("{table} ")))
                .cloned()
                .collect()
        };
        assert_ne!(of(&after), of(&before), "{table}: the changes touch it");
    }
}
