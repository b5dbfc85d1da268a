//! The admin UI's "GP Connect requests" page: a practice's GP Connect audit trail for its
//! admins, in plain English, filtered by day, organisation, request and outcome; no other
//! practice's requests; not for managers; a bad filter is a clear error. And end to end in
//! headless Chromium: an admin opens it from the practice menu and narrows it with the filters.

use std::time::Duration;

use bookable::users::Role;
use diesel::prelude::*;
use thirtyfour::prelude::*;

use crate::fhir::{
    ASID_A, ASID_B, READ_METADATA, SEARCH_SLOT, app_with_fixture, days, gpc_get, headers, q, search,
};
use crate::fixture::{PRACTICE_A, PRACTICE_B};
use crate::harness::TestApp;
use crate::support::browser::{BROWSERS, Browser, choose, click, fill, text};
use crate::support::web::{PASSWORD, add_user, sign_in};

/// Waits until the writer thread has written `rows` trail rows.
async fn trail_written(app: &TestApp, rows: i64) {
    for _ in 0..100 {
        let n: i64 = bookable::db::schema::gpconnect_audit::table
            .count()
            .get_result(&mut app.conn())
            .unwrap();
        if n == rows {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the trail never had {rows} rows");
}

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
    trail_written(&app, 5).await;

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
    assert!(bad.contains("id=\"day-error\""), "{bad}");
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

#[actix_web::test]
async fn an_admin_narrows_the_gp_connect_requests_in_the_browser() {
    let _permit = BROWSERS.acquire().await.unwrap();
    let (app, f) = app_with_fixture().await;
    add_user(&app, "admin.a", &[(f.a, Role::Admin)]);
    let params = days("2026-06-10", "2026-06-12");
    assert_eq!(search(&app, &q(&params)).await.status, 200);
    assert_eq!(search(&app, &q(&params)).await.status, 200);
    let mut no_jwt = headers(SEARCH_SLOT, ASID_A);
    no_jwt.remove("Authorization");
    let refused = gpc_get(&app, PRACTICE_A, "/Slot", &[], no_jwt).await;
    assert_eq!(refused.status, 400);
    let metadata = gpc_get(
        &app,
        PRACTICE_A,
        "/metadata",
        &[],
        headers(READ_METADATA, ASID_A),
    );
    assert_eq!(metadata.await.status, 200);
    trail_written(&app, 4).await;

    let browser = Browser::start().await;
    let d = browser.driver();
    d.goto(app.url("/")).await.unwrap();
    fill(d, "username", "admin.a").await;
    fill(d, "password", PASSWORD).await;
    click(d, "sign-in").await;
    d.goto(app.url(&format!("/practices/{PRACTICE_A}")))
        .await
        .unwrap();
    d.query(By::LinkText("GP Connect requests"))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(text(d, By::Tag("h1")).await, "GP Connect requests");
    let rows = |d: &WebDriver| {
        let d = d.clone();
        async move {
            let mut found = Vec::new();
            for row in d.find_all(By::Css("#requests tbody tr")).await.unwrap() {
                found.push(row.text().await.unwrap());
            }
            found
        }
    };
    let all = rows(d).await;
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(
        all.iter()
            .filter(|r| r.contains("Looked for free appointments"))
            .count(),
        3
    );

    // Only what was refused: the search without its token, saying why.
    choose(d, "outcome", "refused").await;
    click(d, "filter").await;
    let refused = rows(d).await;
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].contains("Refused: the request was not in the right form"),
        "{refused:?}"
    );
    // The filter is in the address (a page an admin can send on) and stays chosen.
    assert!(
        d.current_url()
            .await
            .unwrap()
            .query()
            .unwrap()
            .contains("outcome=refused")
    );

    // The answered slot searches.
    choose(d, "outcome", "answered").await;
    choose(d, "interaction", "rest:search:slot-1").await;
    click(d, "filter").await;
    let searches = rows(d).await;
    assert_eq!(searches.len(), 2, "{searches:?}");
    assert!(
        searches
            .iter()
            .all(|r| r.contains("Looked for free appointments"))
    );
    assert!(
        searches
            .iter()
            .all(|r| r.contains("Leeds NHS 111 (Y03032)"))
    );
    browser.quit().await;
}
