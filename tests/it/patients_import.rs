//! The patient import: idempotent on NHS number, validated whole, written in one transaction
//! with a change-log row per patient created or changed.

use bookable::change_log::Actor;
use bookable::db::schema::{audit_log, patients};
use bookable::patients::import::{self, ImportError, ImportSummary};
use bookable::patients::record::{self, RegistrationType, Standing};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::fixture::{self, PRACTICE_A, PRACTICE_B};
use crate::harness::TestDb;

fn run(conn: &mut PgConnection, doc: &Value) -> Result<ImportSummary, ImportError> {
    import::import_json(conn, &Actor::system("test"), &doc.to_string())
}

fn counts(conn: &mut PgConnection) -> (i64, i64) {
    (
        patients::table.count().get_result(conn).unwrap(),
        audit_log::table
            .filter(audit_log::entity.eq("patient"))
            .count()
            .get_result(conn)
            .unwrap(),
    )
}

pub fn patient(nhs: &str, family: &str) -> Value {
    json!({
        "nhs_number": nhs,
        "verified": true,
        "name": {"family": family, "given": ["Jane", "Anne"], "prefix": "Mrs"},
        "other_names": [{"use": "maiden", "family": "Jones", "given": ["Jane"]}],
        "birth_date": "1968-03-14",
        "gender": "female",
        "addresses": [{"use": "home", "lines": ["1 Trevelyan Square", "Leeds"], "postcode": "LS1 6AE"}],
        "telecom": [{"system": "phone", "value": "01632 960587", "use": "home"},
                    {"system": "email", "value": "jane@example.com"}],
        "language": "en",
        "interpreter_required": false,
        "registration": {"type": "regular", "start": "2010-04-01"},
        "status": "active",
        "preferred_branch": "L1"
    })
}

fn document(practice: &str, patients: Vec<Value>) -> Value {
    json!({"practice": practice, "patients": patients})
}

#[test]
fn imports_every_field_and_a_second_import_changes_nothing() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let doc = document(
        PRACTICE_A,
        vec![
            patient("9000000009", "Smith"),
            patient("9434765919", "Brown"),
        ],
    );
    let first = run(&mut conn, &doc).unwrap();
    assert_eq!(
        first,
        ImportSummary {
            created: 2,
            updated: 0,
            unchanged: 0
        }
    );
    let p = record::by_nhs_number(&mut conn, f.a, "9000000009")
        .unwrap()
        .unwrap();
    assert_eq!(p.family_name, "Smith");
    assert_eq!(p.given_names, ["Jane", "Anne"]);
    assert_eq!(p.name_prefix.as_deref(), Some("Mrs"));
    assert_eq!(p.other_names()[0].use_, "maiden");
    assert_eq!(p.birth_date, fixture::day(1968, 3, 14));
    assert_eq!(p.addresses()[0].postcode.as_deref(), Some("LS1 6AE"));
    assert_eq!(p.telecoms().len(), 2);
    assert_eq!(p.registration_type(), RegistrationType::Regular);
    assert!(p.preferred_branch_id.is_some());
    assert_eq!(p.standing(), Standing::Findable);
    assert_eq!(p.version, 1);
    assert_eq!(counts(&mut conn), (2, 2), "one change-log row per patient");

    let again = run(&mut conn, &doc).unwrap();
    assert_eq!(again.unchanged, 2);
    assert_eq!(counts(&mut conn), (2, 2), "nothing written the second time");
    let same = record::by_nhs_number(&mut conn, f.a, "9000000009")
        .unwrap()
        .unwrap();
    assert_eq!((same.id, same.version), (p.id, 1), "same id, same version");
}

#[test]
fn a_changed_patient_moves_only_its_own_version_and_is_logged_before_and_after() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let mut smith = patient("9000000009", "Smith");
    let brown = patient("9434765919", "Brown");
    run(
        &mut conn,
        &document(PRACTICE_A, vec![smith.clone(), brown.clone()]),
    )
    .unwrap();
    smith["status"] = json!("left");
    smith["registration"]["end"] = json!("2026-11-30");
    let summary = run(&mut conn, &document(PRACTICE_A, vec![smith, brown])).unwrap();
    assert_eq!((summary.updated, summary.unchanged), (1, 1));
    let left = record::by_nhs_number(&mut conn, f.a, "9000000009")
        .unwrap()
        .unwrap();
    assert_eq!(left.version, 2);
    assert_eq!(left.standing(), Standing::Hidden);
    let other = record::by_nhs_number(&mut conn, f.a, "9434765919")
        .unwrap()
        .unwrap();
    assert_eq!(other.version, 1);
    let (action, before, after): (String, Option<Value>, Option<Value>) = audit_log::table
        .filter(audit_log::entity.eq("patient"))
        .filter(audit_log::entity_id.eq(left.id.0))
        .order(audit_log::id.desc())
        .select((audit_log::action, audit_log::before, audit_log::after))
        .first(&mut conn)
        .unwrap();
    assert_eq!(action, "update");
    assert_eq!(before.unwrap()["active"], json!(true));
    assert_eq!(after.unwrap()["active"], json!(false));
}

#[test]
fn a_bad_document_is_refused_whole_with_every_problem_listed() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let good = patient("9000000009", "Smith");
    let mut bad_check = patient("9000000008", "Check");
    bad_check["preferred_branch"] = json!("NOWHERE");
    let duplicate = patient("9000000009", "Again");
    let mut worse = patient("9434765919", " ");
    worse["birth_date"] = json!("14/03/1968");
    worse["gender"] = json!("f");
    worse["registration"] = json!({"type": "gms", "start": "2020-01-02", "end": "2020-01-01"});
    worse["status"] = json!("gone");
    worse["telecom"] = json!([{"system": "pager", "value": "", "use": "car"}]);
    worse["addresses"] = json!([{"use": "home", "lines": ["a"]}, {"use": "home", "lines": ["b"]}]);
    let doc = document(PRACTICE_A, vec![good, bad_check, duplicate, worse]);
    let Err(ImportError::Invalid(problems)) = run(&mut conn, &doc) else {
        panic!("refused")
    };
    let all = problems.join("\n");
    for expected in [
        "patients[1] (NHS number '9000000008'): '9000000008' is not an NHS number: its check digit is wrong",
        "patients[1] (NHS number '9000000008'): unknown location 'NOWHERE'",
        "patients[2] (NHS number '9000000009'): NHS number 9000000009 is also patients[0]",
        "patients[3] (NHS number '9434765919'): name.family is empty",
        "birth_date '14/03/1968' is not a date",
        "gender 'f' is not one of",
        "registration.type 'gms' is not regular or temporary",
        "status 'gone' is not active or left",
        "telecom[0]: system 'pager'",
        "telecom[0]: value is empty",
        "telecom[0]: use 'car'",
        "addresses[1]: a second 'home' address",
    ] {
        assert!(all.contains(expected), "missing «{expected}» in:\n{all}");
    }
    assert_eq!(counts(&mut conn), (0, 0), "nothing written");
}

#[test]
fn a_registration_ending_before_it_starts_is_refused() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let mut p = patient("9000000009", "Smith");
    p["registration"] = json!({"type": "temporary", "start": "2020-01-02", "end": "2020-01-01"});
    let Err(ImportError::Invalid(problems)) = run(&mut conn, &document(PRACTICE_A, vec![p])) else {
        panic!("refused")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("registration.end 2020-01-01 is before its start 2020-01-02"));
}

#[test]
fn malformed_json_unknown_fields_and_unknown_practices_are_refused() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    let actor = Actor::system("test");
    assert!(matches!(
        import::import_json(
            &mut conn,
            &actor,
            "{\"practice\": \"A20047\", \"patients\": [}"
        ),
        Err(ImportError::Malformed(_))
    ));
    let mut extra = patient("9000000009", "Smith");
    extra["religion"] = json!("none");
    assert!(matches!(
        run(&mut conn, &document(PRACTICE_A, vec![extra])),
        Err(ImportError::Malformed(_))
    ));
    assert!(matches!(
        run(
            &mut conn,
            &document("Z99999", vec![patient("9000000009", "Smith")])
        ),
        Err(ImportError::UnknownPractice(_))
    ));
    assert_eq!(counts(&mut conn), (0, 0));
}

#[test]
fn practices_keep_their_own_lists_and_locations() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    run(
        &mut conn,
        &document(PRACTICE_A, vec![patient("9000000009", "Smith")]),
    )
    .unwrap();
    // The same NHS number at practice B is another record, with B's own location L1.
    run(
        &mut conn,
        &document(PRACTICE_B, vec![patient("9000000009", "Smith")]),
    )
    .unwrap();
    let a = record::by_nhs_number(&mut conn, f.a, "9000000009")
        .unwrap()
        .unwrap();
    let b = record::by_nhs_number(&mut conn, f.b, "9000000009")
        .unwrap()
        .unwrap();
    assert_ne!(a.id, b.id);
    assert_ne!(a.preferred_branch_id, b.preferred_branch_id);
    assert!(record::by_id(&mut conn, f.b, a.id).unwrap().is_none());
}

#[test]
fn a_reimport_does_not_undo_a_verification_made_on_pds() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let f = fixture::load(&mut conn);
    let mut p = patient("9000000009", "Smith");
    p["verified"] = json!(false);
    run(&mut conn, &document(PRACTICE_A, vec![p.clone()])).unwrap();
    let before = record::by_nhs_number(&mut conn, f.a, "9000000009")
        .unwrap()
        .unwrap();
    assert_eq!(before.standing(), Standing::NeverTraced);
    let verified = bookable::patients::write::mark_verified_on_pds(
        &mut conn,
        &Actor::system("test"),
        before.id,
    )
    .unwrap();
    assert_eq!(
        (verified.standing(), verified.version),
        (Standing::Findable, 2)
    );
    let summary = run(&mut conn, &document(PRACTICE_A, vec![p])).unwrap();
    assert_eq!(summary.unchanged, 1);
    let after = record::by_id(&mut conn, f.a, before.id).unwrap().unwrap();
    assert!(after.nhs_number_verified);
}

#[test]
fn the_demo_patients_import_onto_the_demo_practices_in_every_state() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    bookable::seed::demo::seed(&mut conn, today).unwrap();
    let actor = Actor::system("demo");
    let first = import::import_json(&mut conn, &actor, import::DEMO_PATIENTS).unwrap();
    assert_eq!(first.created, 10);
    let again = import::import_json(&mut conn, &actor, import::DEMO_PATIENTS).unwrap();
    assert_eq!(again.unchanged, 10, "the demo can start again on its data");
    let all: Vec<record::Patient> = patients::table
        .select(record::Patient::as_select())
        .load(&mut conn)
        .unwrap();
    let standing = |nhs: &str| all.iter().find(|p| p.nhs_number == nhs).unwrap().standing();
    assert_eq!(standing("9000000009"), Standing::Findable);
    assert_eq!(standing("9000000017"), Standing::NeverTraced);
    for hidden in ["9000000025", "9000000033", "9000000041"] {
        assert_eq!(standing(hidden), Standing::Hidden, "{hidden}");
    }
    let temporary = all.iter().find(|p| p.nhs_number == "9000000068").unwrap();
    assert_eq!(temporary.registration_type(), RegistrationType::Temporary);
}
