//! The capacity reports' uptake (issue 14, item 5) with slots offered by organisation type, by
//! ODS code and by group: each organisation's bookings against everything offered to it.

use bookable::db::schema::{org_group_members, org_groups, schedules, slots};
use bookable::reports::export::Report;
use bookable::reports::period::Period;
use chrono::{Days, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde_json::json;

use super::ORG_TYPE;
use super::appointment_feed::practice_id;
use super::appointments::{book_body, local_in_days, post_book, setup_with};
use crate::fixture::{self, PRACTICE_A, bookable, slot};

#[actix_web::test]
async fn uptake_counts_each_organisations_bookings_against_its_type_its_code_and_its_groups() {
    // APPT: 4 slots open to all. NAMED: 2 slots for Z100 only. HUB: 1 slot for the group Hub
    // (Z100 a member), given below.
    let s = setup_with(|doc| {
        doc.schedules.push(fixture::schedule(
            "NAMED",
            Some("R0260"),
            "In-person",
            bookable(&[], &["Z100"]),
        ));
        doc.schedules.push(fixture::schedule(
            "HUB",
            Some("R0260"),
            "In-person",
            bookable(&[], &["Z999"]),
        ));
        doc.slots
            .push(slot("named-1100", "NAMED", local_in_days(2, 11, 0), 10));
        doc.slots
            .push(slot("named-1110", "NAMED", local_in_days(2, 11, 10), 10));
        doc.slots
            .push(slot("hub-1200", "HUB", local_in_days(2, 12, 0), 10));
    })
    .await;
    let mut conn = s.app.conn();
    let a = practice_id(&mut conn, PRACTICE_A);
    let hub: i64 = diesel::insert_into(org_groups::table)
        .values((org_groups::practice_id.eq(a.0), org_groups::name.eq("Hub")))
        .returning(org_groups::id)
        .get_result(&mut conn)
        .unwrap();
    diesel::insert_into(org_group_members::table)
        .values((
            org_group_members::group_id.eq(hub),
            org_group_members::ods_code.eq("Z100"),
        ))
        .execute(&mut conn)
        .unwrap();
    diesel::update(schedules::table.filter(schedules::external_id.eq("HUB")))
        .set(schedules::audiences.eq(vec![format!("group:{hub}")]))
        .execute(&mut conn)
        .unwrap();
    let named: i64 = slots::table
        .filter(slots::external_id.eq("named-1100"))
        .select(slots::id)
        .first(&mut conn)
        .unwrap();

    // Z100 (urgent care) books an open slot and a slot named for it; Y200 (a GP practice) one
    // open slot.
    for ids in [vec![s.free[0]], vec![bookable::db::ids::SlotId(named)]] {
        let res = post_book(&s.app, &book_body(&s, &ids)).await;
        assert_eq!(res.status, 201, "{}", res.body);
    }
    let mut practice = book_body(&s, &s.free[1..2]);
    practice["contained"][0]["identifier"][0]["value"] = json!("Y200");
    practice["contained"][0]["name"] = json!("Parkside Surgery");
    practice["contained"][0]["type"] =
        json!([{ "coding": [{ "system": ORG_TYPE, "code": "gp-practice" }] }]);
    let res = post_book(&s.app, &practice).await;
    assert_eq!(res.status, 201, "{}", res.body);

    let today = Utc::now().with_timezone(&London).date_naive();
    let period = Period::new(today, today + Days::new(6)).unwrap();
    let report = Report::load(&mut conn, &[a], &period, Utc::now()).unwrap();
    let figures = |rows: &[bookable::reports::uptake::UptakeRow], key: &str| {
        let r = rows
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .unwrap_or_else(|| panic!("{key} in {rows:?}"));
        (
            r.booked_slots,
            r.booked_appointments,
            r.offered_slots,
            r.uptake,
        )
    };
    let by_type = &report.uptake.by_org_type;
    // Only the 4 open slots are offered to a type; the named and group slots are not.
    assert_eq!(figures(by_type, "urgent-care"), (2, 2, 4, Some(50.0)));
    assert_eq!(figures(by_type, "gp-practice"), (1, 1, 4, Some(25.0)));
    assert_eq!(by_type.len(), 2, "{by_type:?}");
    let by_org = &report.uptake.by_organisation;
    assert_eq!(by_org.len(), 2, "{by_org:?}");
    // Z100: 4 open + 2 named for it + 1 for its group = 7; 2 booked = 28.6 %.
    assert_eq!(figures(by_org, "Z100"), (2, 2, 7, Some(28.6)));
    assert_eq!(figures(by_org, "Y200"), (1, 1, 4, Some(25.0)));
    let y200 = by_org
        .iter()
        .find(|r| r.key.as_deref() == Some("Y200"))
        .unwrap();
    assert_eq!(y200.label, "Parkside Surgery (Y200)");
    assert_eq!(y200.org_type.as_deref(), Some("gp-practice"));
}
