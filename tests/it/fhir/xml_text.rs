//! FHIR XML stays well-formed whatever text is stored: characters XML 1.0 forbids, put in the
//! database directly (bypassing the rota import, which refuses them), never reach a response.

use bookable::db::ids::{LocationId, PractitionerId};
use bookable::db::schema::{locations, practitioners};
use diesel::prelude::*;

use super::{
    ASID_A, READ_LOCATION, READ_PRACTITIONER, SEARCH_SLOT, app_with_fixture, days, gpc_get,
    headers, q,
};
use crate::fixture::PRACTICE_A;

/// Every character XML 1.0 forbids that PostgreSQL can store (all but U+0000).
const FORBIDDEN: &str = "\u{1}\u{2}\u{3}\u{4}\u{5}\u{6}\u{7}\u{8}\u{b}\u{c}\u{e}\u{f}\u{10}\u{11}\
                         \u{12}\u{13}\u{14}\u{15}\u{16}\u{17}\u{18}\u{19}\u{1a}\u{1b}\u{1c}\u{1d}\
                         \u{1e}\u{1f}\u{fffe}\u{ffff}";

/// XML 1.0's `Char` production, written out here rather than taken from the code under test.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// Reads `xml` to its end with quick-xml, checking every attribute value is XML text; returns
/// the attribute values.
fn parse(xml: &str) -> Vec<String> {
    use quick_xml::events::Event;
    assert!(
        xml.chars().all(xml_char),
        "a forbidden character in {xml:?}"
    );
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut values = Vec::new();
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("{e}: {xml:?}"))
        {
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.unwrap();
                    let v = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned();
                    assert!(v.chars().all(xml_char), "{v:?}");
                    values.push(v);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    values
}

#[actix_web::test]
async fn a_bundle_and_reads_whose_stored_text_holds_forbidden_characters_parse() {
    let (app, f) = app_with_fixture().await;
    let mut conn = app.conn();
    let dirty = |s: &str| format!("{s} {FORBIDDEN} end");
    let location: LocationId = locations::table
        .filter(locations::practice_id.eq(f.a))
        .select(locations::id)
        .first(&mut conn)
        .unwrap();
    let practitioner: PractitionerId = practitioners::table
        .filter(practitioners::practice_id.eq(f.a))
        .select(practitioners::id)
        .first(&mut conn)
        .unwrap();
    diesel::update(locations::table.filter(locations::id.eq(location)))
        .set(locations::name.eq(dirty("Health Centre")))
        .execute(&mut conn)
        .unwrap();
    diesel::update(practitioners::table.filter(practitioners::id.eq(practitioner)))
        .set(practitioners::family_name.eq(dirty("Smith")))
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(
        "UPDATE schedules SET schedule_type = COALESCE(schedule_type, 'Session') || $1 \
         WHERE practice_id = $2",
    )
    .bind::<diesel::sql_types::Text, _>(format!(" {FORBIDDEN}"))
    .bind::<diesel::sql_types::BigInt, _>(f.a.0)
    .execute(&mut conn)
    .unwrap();
    let n = diesel::sql_query(
        "UPDATE slots SET slot_type = slot_type || $1 WHERE practice_id = $2 AND slot_type <> ''",
    )
    .bind::<diesel::sql_types::Text, _>(format!(" {FORBIDDEN}"))
    .bind::<diesel::sql_types::BigInt, _>(f.a.0)
    .execute(&mut conn)
    .unwrap();
    assert!(n > 0);

    let mut params = days("2026-06-10", "2026-06-10");
    params.push(("_include:recurse", "Schedule:actor:Practitioner".into()));
    params.push(("_include:recurse", "Schedule:actor:Location".into()));
    params.push(("_format", "xml".into()));
    let bundle = gpc_get(
        &app,
        PRACTICE_A,
        "/Slot",
        &q(&params),
        headers(SEARCH_SLOT, ASID_A),
    )
    .await;
    assert_eq!(bundle.status, 200, "{}", bundle.body);
    let values = parse(&bundle.body);
    let replaced = "\u{fffd}".repeat(FORBIDDEN.chars().count());
    for stored in ["Health Centre", "Smith"] {
        let expected = format!("{stored} {replaced} end");
        assert!(values.contains(&expected), "{expected:?} in {values:?}");
    }
    assert!(
        values.iter().filter(|v| v.ends_with(&replaced)).count() >= 2,
        "slot and schedule types: {values:?}"
    );

    for (path, interaction, stored) in [
        (
            format!("/Location/{}", location.0),
            READ_LOCATION,
            "Health Centre",
        ),
        (
            format!("/Practitioner/{}", practitioner.0),
            READ_PRACTITIONER,
            "Smith",
        ),
    ] {
        let read = gpc_get(
            &app,
            PRACTICE_A,
            &path,
            &[("_format", "xml")],
            headers(interaction, ASID_A),
        )
        .await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert!(parse(&read.body).contains(&format!("{stored} {replaced} end")));
    }
}
