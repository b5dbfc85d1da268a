//! End to end in real headless Chromium (Debian's chromium and chromium-driver, which
//! scripts/test installs): a practice manager signs in to the demo data, changes bookability
//! through the forms, sees the refusal for a home visit and the preview change, and signs out.

use bookable::db::ids::{PracticeId, ScheduleId, SlotId};
use bookable::db::schema::{practices, slots};
use bookable::seed::demo;
use chrono::{Datelike, Days, NaiveDate, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use thirtyfour::prelude::*;

use crate::harness::{TestApp, spawn_app};
use crate::support::browser::{
    BROWSERS, Browser, choose, click, fill, page, set_checked, set_value, text,
};
use crate::support::schedule_id;

/// The "Exposed" count of a schedule on the schedules page.
async fn exposed_count(d: &WebDriver, schedule: ScheduleId) -> usize {
    text(d, By::Css(format!("#schedule-{schedule} td:nth-child(8)")))
        .await
        .trim()
        .parse()
        .unwrap()
}

/// The number of slots the preview page reports for a consumer over a week.
async fn preview(
    d: &WebDriver,
    app: &TestApp,
    query: &str,
    monday: NaiveDate,
    slot_type: &str,
) -> (usize, usize) {
    let sunday = monday + Days::new(6);
    d.goto(app.url(&format!(
        "/practices/A20047/preview?{query}&from={monday}&to={sunday}"
    )))
    .await
    .unwrap();
    let heading = text(d, By::Id("preview-result")).await;
    let total = heading.split(' ').next().unwrap().parse().unwrap();
    let of_type = page(d).await.matches(&format!(">{slot_type}<")).count();
    (total, of_type)
}

/// Saves from the check page a form led to, ticking NHS 111's confirmation when it is asked
/// for; returns the saved page's message and continues to the page after it.
pub(super) async fn save_checked(d: &WebDriver) -> String {
    d.query(By::Id("confirm-change")).first().await.unwrap();
    if d.find(By::Id("nhs111_confirmed")).await.is_ok() {
        set_checked(d, "nhs111_confirmed", true).await;
    }
    click(d, "confirm-change").await;
    let message = text(d, By::Id("saved-message")).await;
    click(d, "continue").await;
    message
}

fn ids(conn: &mut PgConnection, monday: NaiveDate) -> (PracticeId, ScheduleId, ScheduleId, SlotId) {
    let a: PracticeId = practices::table
        .filter(practices::ods_code.eq("A20047"))
        .select(practices::id)
        .first(conn)
        .unwrap();
    let hca = schedule_id(conn, a, "S-HCA");
    let visit = schedule_id(conn, a, "S-VISIT");
    let first_free_hca: SlotId = slots::table
        .filter(slots::schedule_id.eq(hca))
        .filter(slots::status.eq("free"))
        .filter(slots::start_at.ge(bookable::availability::query::local_midnight(monday)))
        .order(slots::start_at)
        .select(slots::id)
        .first(conn)
        .unwrap();
    (a, hca, visit, first_free_hca)
}

#[actix_web::test]
async fn a_practice_manager_changes_bookability_in_the_browser() {
    let _permit = BROWSERS.acquire().await.unwrap();
    let app = spawn_app().await;
    // Four weeks of the demo rota from the Monday after next, so every weekday is ahead.
    let today = Utc::now().with_timezone(&London).date_naive();
    let monday = today + Days::new(u64::from(7 - today.weekday().num_days_from_monday()) + 7);
    demo::seed(&mut app.conn(), monday).unwrap();
    let (_a, hca, visit, slot) = ids(&mut app.conn(), monday);
    let browser = Browser::start().await;
    let d = browser.driver();

    // Sign in with the demo login.
    d.goto(app.url("/")).await.unwrap();
    assert!(d.current_url().await.unwrap().path().ends_with("/login"));
    fill(d, "username", demo::DEMO_USER).await;
    fill(d, "password", demo::DEMO_PASSWORD).await;
    click(d, "sign-in").await;
    d.query(By::LinkText("Riverside Medical Practice (A20047)"))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let row = d
        .query(By::Id(format!("schedule-{hca}")))
        .first()
        .await
        .unwrap();
    assert!(row.text().await.unwrap().contains("Phlebotomy clinic"));
    assert_eq!(
        exposed_count(d, hca).await,
        0,
        "not bookable: nothing exposed"
    );

    // Blood tests are not offered to anyone yet.
    assert_eq!(
        preview(d, &app, "org_type=urgent-care", monday, "Blood test")
            .await
            .1,
        0
    );

    // Make the phlebotomy schedule bookable by urgent care only.
    d.goto(app.url(&format!("/practices/A20047/schedules/{hca}")))
        .await
        .unwrap();
    click(d, "bookable-yes").await;
    click(d, "who-chosen").await;
    set_checked(d, "who-urgent-care", true).await;
    set_checked(d, "who-gp-practice", false).await;
    fill(d, "who_ods", "").await;
    click(d, "save-schedule").await;
    assert!(save_checked(d).await.contains("Saved Phlebotomy clinic."));
    assert!(exposed_count(d, hca).await > 0, "exposed once bookable");
    let row = text(d, By::Id(format!("schedule-{hca}"))).await;
    assert!(
        row.contains("NHS 111 and other urgent care services"),
        "{row}"
    );
    let (_, urgent_blood) = preview(d, &app, "org_type=urgent-care", monday, "Blood test").await;
    // Mon–Fri, 12 slots a day, about a third booked.
    assert!(urgent_blood > 20, "{urgent_blood}");
    assert_eq!(
        preview(d, &app, "org_type=gp-practice", monday, "Blood test")
            .await
            .1,
        0
    );

    // Make one of its slots bookable by one ODS code only.
    d.goto(app.url(&format!("/practices/A20047/slots/{slot}")))
        .await
        .unwrap();
    click(d, "setting-yes").await;
    click(d, "who-chosen").await;
    set_checked(d, "who-urgent-care", false).await;
    set_checked(d, "who-gp-practice", false).await;
    fill(d, "who_ods", "Y03032").await;
    click(d, "save-slot").await;
    assert!(save_checked(d).await.contains("Saved the slot on"));
    assert_eq!(
        text(d, By::Id("slot-audience")).await,
        "Y03032 (this slot's own setting)"
    );
    assert_eq!(
        preview(d, &app, "org_type=urgent-care", monday, "Blood test")
            .await
            .1,
        urgent_blood - 1
    );
    assert_eq!(
        preview(d, &app, "ods_code=Y03032", monday, "Blood test")
            .await
            .1,
        1
    );
    // And why urgent care no longer sees it.
    d.goto(app.url(&format!(
        "/practices/A20047/slots/{slot}?org_type=urgent-care"
    )))
    .await
    .unwrap();
    assert!(
        text(d, By::Id("explanation"))
            .await
            .contains("This organisation is in none of these")
    );

    // A home visit: the slot form doesn't offer it, and a bulk edit including visits is refused.
    let visit_slot: SlotId = slots::table
        .filter(slots::schedule_id.eq(visit))
        .select(slots::id)
        .first(&mut app.conn())
        .unwrap();
    d.goto(app.url(&format!("/practices/A20047/slots/{visit_slot}")))
        .await
        .unwrap();
    assert!(
        d.find(By::Id("setting-yes")).await.is_err(),
        "Visit is never offered"
    );
    d.goto(app.url("/practices/A20047/bulk")).await.unwrap();
    choose(d, "schedule", &visit.to_string()).await;
    set_value(d, "first_day", &monday.to_string()).await;
    set_value(d, "last_day", &(monday + Days::new(6)).to_string()).await;
    click(d, "setting-yes").await;
    click(d, "save-bulk").await;
    let summary = text(d, By::Id("error-summary")).await;
    assert!(
        summary.contains("can't be made GP Connect bookable"),
        "{summary}"
    );
    assert!(summary.contains("Visit"), "{summary}");

    // Bulk-edit the week: no blood tests on Monday and Tuesday mornings, for anyone.
    d.goto(app.url("/practices/A20047/bulk")).await.unwrap();
    choose(d, "schedule", &hca.to_string()).await;
    set_value(d, "first_day", &monday.to_string()).await;
    set_value(d, "last_day", &(monday + Days::new(6)).to_string()).await;
    set_checked(d, "weekday-mon", true).await;
    set_checked(d, "weekday-tue", true).await;
    click(d, "setting-no").await;
    click(d, "save-bulk").await;
    let saved = save_checked(d).await;
    assert!(
        saved.contains("Bulk edit saved: 24 of the 24 matching slots changed."),
        "{saved}"
    );
    let (_, after_bulk) = preview(d, &app, "org_type=urgent-care", monday, "Blood test").await;
    let monday_tuesday_free: usize = slots::table
        .filter(slots::schedule_id.eq(hca))
        .filter(slots::status.eq("free"))
        .filter(slots::start_at.ge(bookable::availability::query::local_midnight(monday)))
        .filter(
            slots::start_at.lt(bookable::availability::query::local_midnight(
                monday + Days::new(2),
            )),
        )
        .filter(slots::id.ne(slot))
        .count()
        .get_result::<i64>(&mut app.conn())
        .unwrap() as usize;
    assert_eq!(after_bulk, urgent_blood - 1 - monday_tuesday_free);
    assert_eq!(
        preview(d, &app, "ods_code=Y03032", monday, "Blood test")
            .await
            .1,
        0
    );

    // Sign out: the pages are gone.
    click(d, "sign-out").await;
    assert!(d.query(By::Id("signed-out")).first().await.is_ok());
    d.goto(app.url("/practices/A20047")).await.unwrap();
    assert!(d.current_url().await.unwrap().path().ends_with("/login"));
    browser.quit().await;
}
