//! The admin UI's "GP Connect requests" page: a practice's GP Connect audit trail for its
//! admins, in plain English, filtered by day, organisation, request and outcome; no other
//! practice's requests; not for managers; a bad filter is a clear error.

use std::time::Duration;

use bookable::users::Role;
use diesel::prelude::*;

use crate::fhir::{
    ASID_A, ASID_B, READ_METADATA, SEARCH_SLOT, app_with_fixture, days, gpc_get, headers, q, search,
};
use crate::fixture::{PRACTICE_A, PRACTICE_B};
use crate::support::web::{add_user, sign_in};

#[actix_web::test]
async fn admins_read_their_practices_gp_connect_requests_in_plain_english() {
    let (app, f) = app_with_fixture().await;
    add_user(&app, "admin.a", &[(f.a, Role::Admin)]);
    add_user(&app, "manager.a", &[(f.a, Role::Manager)]);
    let params = days("2026-06-10", "2026-06-12");
    assert_eq!(search(&app, &q(&params)).await.status, 200);
    assert_eq!(search(&app, &q(&params)).await.status, 200);
    let mut no_jwt = headers(SEARCH_SLOT, ASID_A);
    no_jwt.remove("Authorization");
    assert_eq!(
        gpc_get(&app, PRACTICE_A, "/Slot", &[], no_jwt).await.status,
        400
    );
    assert_eq!(
        gpc_get(
            &app,
            PRACTICE_A,
            "/metadata",
            &[],
            headers(READ_METADATA, ASID_A)
        )
        .await
        .status,
        200
    );
    // Another practice's request.
    assert_eq!(
        gpc_get(
            &app,
            PRACTICE_B,
            "/metadata",
            &[],
            headers(READ_METADATA, ASID_B)
        )
        .await
        .status,
        200
    );
    // The writer thread has written all five.
    for _ in 0..100 {
        let n: i64 = bookable::db::schema::gpconnect_audit::table
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        if n == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let admin = sign_in(&app, "admin.a").await;
    let page = format!("/practices/{PRACTICE_A}/gp-connect");
    let (status, html) = admin.get(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("4 requests"), "{html}");
    assert_eq!(
        html.matches("Looked for free appointments").count(),
        3 + 1,
        "3 rows and the filter's option"
    );
    assert!(html.contains("Read what this service offers"));
    assert!(html.contains("Leeds NHS 111 (Y03032)"));
    assert!(html.contains("Refused: the request was not in the right form"));
    assert!(
        html.contains("5a6e2a1c-0d7b-4f0e-9d43-2b8a3f1e6c70"),
        "the trace id as a reference"
    );
    assert!(
        !html.contains("urn:nhs:names"),
        "no FHIR terms shown: {html}"
    );
    // The practice menu links to it for admins.
    assert!(html.contains(&format!("href=\"/practices/{PRACTICE_A}/gp-connect\"")));

    let (_, refused) = admin.get(&format!("{page}?outcome=refused")).await;
    assert!(refused.contains("1 requests"), "{refused}");
    let (_, searches) = admin
        .get(&format!(
            "{page}?interaction=rest%3Asearch%3Aslot-1&outcome=answered"
        ))
        .await;
    assert!(searches.contains("2 requests"), "{searches}");
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    let (_, today_page) = admin
        .get(&format!("{page}?day={today}&organisation=y03032"))
        .await;
    // The refused one sent no token, so names no organisation.
    assert!(today_page.contains("3 requests"), "{today_page}");
    let (_, yesterday) = admin
        .get(&format!("{page}?day={}", today - chrono::Days::new(1)))
        .await;
    assert!(
        yesterday.contains("No GP Connect requests match"),
        "{yesterday}"
    );
    let (_, other_org) = admin.get(&format!("{page}?organisation=X99999")).await;
    assert!(other_org.contains("No GP Connect requests match"));

    // A bad filter: the NHS.UK error pattern, nothing listed.
    let (status, bad) = admin
        .get(&format!("{page}?day=2026-02-30&outcome=maybe"))
        .await;
    assert_eq!(status, 422);
    assert!(bad.contains("Enter a real date, like 2026-11-24"));
    assert!(bad.contains("Choose answered, refused or failed"));
    assert!(bad.contains("nhsuk-error-summary"));
    assert!(!bad.contains("id=\"requests\""));

    // Managers don't see it, nor its menu item.
    let manager = sign_in(&app, "manager.a").await;
    let (status, _) = manager.get(&page).await;
    assert_eq!(status, 403);
    let (_, home) = manager.get(&format!("/practices/{PRACTICE_A}")).await;
    assert!(!home.contains("/gp-connect"));
    // Another practice's page is not found.
    let (status, _) = admin
        .get(&format!("/practices/{PRACTICE_B}/gp-connect"))
        .await;
    assert_eq!(status, 404);
}
