//! A Visit slot or schedule can never be GP Connect bookable: refused by the domain, and
//! impossible in the database whatever path writes it.

use bookable::change_log::Actor;
use bookable::rota_import::{self, ImportError, SlotIn};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};

use crate::fixture::{self, bookable, local, slot};
use crate::harness::TestDb;

fn assert_refused(result: QueryResult<usize>) {
    match result {
        Err(Error::DatabaseError(DatabaseErrorKind::CheckViolation, info)) => {
            assert!(info.message().contains("Visit"), "{}", info.message());
        }
        other => panic!("expected the visit_never_bookable check to refuse, got {other:?}"),
    }
}

#[test]
fn raw_sql_cannot_store_a_bookable_visit() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::load(&mut conn);
    assert_refused(
        diesel::sql_query(
            "INSERT INTO slots (practice_id, schedule_id, external_id, start_at, end_at, status, slot_type, gpc_bookable)
             SELECT practice_id, id, 'raw-visit', now(), now() + interval '15 minutes', 'free', 'Home visit', true
             FROM schedules WHERE external_id = 'VISIT' AND practice_id = (SELECT id FROM practices WHERE ods_code = 'A20047')",
        )
        .execute(&mut conn),
    );
    assert_refused(
        diesel::sql_query("UPDATE schedules SET gpc_bookable = true WHERE external_id = 'VISIT'")
            .execute(&mut conn),
    );
    assert_refused(
        diesel::sql_query(
            "UPDATE schedules SET delivery_channel = 'Visit' WHERE external_id = 'OPEN'",
        )
        .execute(&mut conn),
    );
    assert_refused(
        diesel::sql_query(
            "UPDATE slots SET delivery_channel = 'Visit' WHERE external_id = 'open-free'",
        )
        .execute(&mut conn),
    );
    // Not bookable, a Visit slot is stored like any other.
    diesel::sql_query("UPDATE slots SET delivery_channel = 'Visit' WHERE external_id = 'off-free'")
        .execute(&mut conn)
        .unwrap();
}

#[test]
fn the_import_refuses_visit_marked_bookable_with_a_reason() {
    let db = TestDb::new();
    let mut conn = db.conn();
    fixture::create_practice(&mut conn, fixture::PRACTICE_A, 1000);
    let mut doc = fixture::document_a();
    doc.schedules.push(fixture::schedule(
        "VISIT2",
        Some("R0260"),
        "Visit",
        bookable(&["urgent-care"], &[]),
    ));
    doc.slots.push(SlotIn {
        delivery_channel: Some("Visit".into()),
        ..slot("open-visit", "OPEN", local(2026, 6, 11, 9, 0), 30)
    });
    let err = rota_import::import(&mut conn, &Actor::system("test"), &doc).unwrap_err();
    let ImportError::Invalid(errors) = err else {
        panic!("expected Invalid, got {err:?}")
    };
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("schedules[6] (id 'VISIT2'): can't be GP Connect bookable: a Visit"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].contains("slots[")
            && errors[1].contains("open-visit")
            && errors[1].contains("Visit"),
        "{}",
        errors[1]
    );
}
