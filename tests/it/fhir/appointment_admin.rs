//! What the admin UI shows of appointments (issue 14, item 5): the Appointments page lists
//! upcoming GP Connect bookings and cancellations by organisation with no clinical text and
//! the patient by initials and the NHS number's last digits (for viewers too); the week view
//! shows who booked a slot and whether through GP Connect.

use bookable::users::Role;
use chrono::{Datelike, Days, Utc};
use chrono_tz::Europe::London;
use reqwest::StatusCode;
use serde_json::json;

use super::appointment_feed::practice_id;
use super::appointments::{
    API_TOKEN, CANCEL, CANCELLATION_REASON, book_body, post_book, put, setup,
};
use crate::fixture::{PRACTICE_A, PRACTICE_B};
use crate::support::web::{add_user, sign_in};

#[actix_web::test]
async fn the_appointments_page_and_the_week_view_show_who_booked_without_clinical_text() {
    let s = setup().await;
    // Booked, and booked then cancelled, by North Ambulance Service (Z100).
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[..1])).await.status,
        201
    );
    let second = post_book(&s.app, &book_body(&s, &s.free[1..2]))
        .await
        .json();
    let mut cancel = second.clone();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Feeling much better" }));
    let id = second["id"].as_str().unwrap();
    assert_eq!(
        put(&s.app, CANCEL, id, "W/\"1\"", &cancel).await.status,
        200
    );
    // The clinical system's own home visit.
    let own = json!({ "practice": PRACTICE_A, "appointments": [{
        "id": "EMIS-1", "status": "booked", "patient_nhs_number": "9000000009",
        "slots": ["home-1000"], "description": "Home visit for leg ulcer dressing" }] });
    let resp = reqwest::Client::new()
        .post(
            s.app
                .url(&format!("/api/practices/{PRACTICE_A}/appointments")),
        )
        .bearer_auth(API_TOKEN)
        .json(&own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (a, b) = {
        let mut conn = s.app.conn();
        (
            practice_id(&mut conn, PRACTICE_A),
            practice_id(&mut conn, PRACTICE_B),
        )
    };
    add_user(&s.app, "viewer.a", &[(a, Role::Viewer)]);
    add_user(&s.app, "viewer.b", &[(b, Role::Viewer)]);
    let session = sign_in(&s.app, "viewer.a").await;
    let (status, page) = session
        .get(&format!("/practices/{PRACTICE_A}/appointments"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("href=\"/practices/{PRACTICE_A}/appointments\"")));
    assert!(page.contains("North Ambulance Service (Z100)"), "{page}");
    assert!(page.contains("Urgent care"), "{page}");
    assert!(page.contains("1 booked · 1 cancelled"), "{page}");
    assert!(page.contains("…009"));
    assert_eq!(
        page.matches("<td class=\"nhsuk-table__cell\">S</td>")
            .count(),
        2
    );
    // The clinical system's own appointments are not GP Connect bookings.
    assert!(!page.contains("<h2 class=\"nhsuk-heading-m\">Practice A20047"));
    for private in [
        "Follow-up call",
        "Patient prefers mornings",
        "Feeling much better",
        "leg ulcer",
        "9000000009",
        "Smith",
    ] {
        assert!(!page.contains(private), "{private} shown");
    }

    // The week view of the slots' week.
    let day = Utc::now()
        .with_timezone(&London)
        .date_naive()
        .checked_add_days(Days::new(2))
        .unwrap();
    let monday = day - Days::new(day.weekday().num_days_from_monday().into());
    let (status, week) = session
        .get(&format!("/practices/{PRACTICE_A}/week?week={monday}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let row = |slot| {
        let start = week.find(&format!("id=\"slot-{slot}\"")).unwrap();
        let end = start + week[start..].find("</tr>").unwrap();
        week[start..end].to_owned()
    };
    assert!(
        row(s.free[0]).contains("North Ambulance Service (Z100), booked through GP Connect"),
        "{}",
        row(s.free[0])
    );
    assert!(
        !row(s.free[1]).contains("booked through"),
        "cancelled: free again"
    );
    assert!(
        row(s.visit).contains("booked in the practice&#39;s clinical system")
            || row(s.visit).contains("booked in the practice's clinical system"),
        "{}",
        row(s.visit)
    );
    assert!(!week.contains("leg ulcer"));

    // Another practice's user: not found.
    let other = sign_in(&s.app, "viewer.b").await;
    let (status, _) = other
        .get(&format!("/practices/{PRACTICE_A}/appointments"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_reports_add_uptake_by_organisation_type_and_organisation_against_what_was_offered() {
    use bookable::reports::export::Report;
    use bookable::reports::period::Period;
    let s = setup().await;
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[..1])).await.status,
        201
    );
    let second = post_book(&s.app, &book_body(&s, &s.free[1..2]))
        .await
        .json();
    let mut cancel = second.clone();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Feeling much better" }));
    let id = second["id"].as_str().unwrap();
    assert_eq!(
        put(&s.app, CANCEL, id, "W/\"1\"", &cancel).await.status,
        200
    );
    let mut conn = s.app.conn();
    let a = practice_id(&mut conn, PRACTICE_A);
    let today = Utc::now().with_timezone(&London).date_naive();
    let period = Period::new(today, today + Days::new(6)).unwrap();
    let report = Report::load(&mut conn, &[a], &period, Utc::now()).unwrap();
    // The four APPT slots are open to everyone: offered to each type and to Z100.
    let urgent = report
        .uptake
        .by_org_type
        .iter()
        .find(|r| r.key.as_deref() == Some("urgent-care"))
        .unwrap();
    assert_eq!(
        (
            urgent.booked_slots,
            urgent.booked_appointments,
            urgent.cancelled_appointments,
            urgent.offered_slots,
            urgent.uptake
        ),
        (1, 1, 1, 4, Some(25.0))
    );
    let practices = report
        .uptake
        .by_org_type
        .iter()
        .find(|r| r.key.as_deref() == Some("gp-practice"))
        .unwrap();
    assert_eq!((practices.booked_slots, practices.uptake), (0, Some(0.0)));
    let [org] = report.uptake.by_organisation.as_slice() else {
        panic!("{:?}", report.uptake.by_organisation)
    };
    assert_eq!(org.label, "North Ambulance Service (Z100)");
    assert_eq!((org.booked_slots, org.offered_slots), (1, 4));

    // On the report page and as CSV.
    add_user(&s.app, "viewer.a", &[(a, Role::Viewer)]);
    let session = sign_in(&s.app, "viewer.a").await;
    let (status, page) = session
        .get(&format!("/practices/{PRACTICE_A}/reports"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("GP Connect bookings by organisation, against slots offered"));
    let (status, csv) = session
        .get(&format!(
            "/practices/{PRACTICE_A}/reports/uptake-organisations.csv?from={today}&to={}",
            today + Days::new(6)
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        csv.contains("North Ambulance Service (Z100),Z100,urgent-care,1,1,1,4,25.0"),
        "{csv}"
    );
}
