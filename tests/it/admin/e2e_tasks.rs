//! The three everyday tasks of issue 12 in headless Chromium on the demo data, each through
//! its check page, whose numbers must be exactly what the query module answers before and
//! after the save: (a) next Tuesday morning's GP session for NHS 111 only; (b) the neighbouring
//! practice Y03032 added to the telephone triage without NHS 111 losing any slot; (c) why a
//! slot is hidden from NHS 111, fixed from its page, and undone.

use bookable::availability::query::Consumer;
use bookable::db::ids::{GroupId, PracticeId, SlotId};
use bookable::db::schema::{org_groups, practices, slots};
use bookable::seed::demo;
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use thirtyfour::prelude::*;

use super::e2e::save_checked;
use super::impact::{Row, bookable_ahead_at, impact_rows};
use crate::harness::TestApp;
use crate::support::browser::{
    BROWSERS, Browser, choose, click, fill, flash, page, set_checked, set_value, text,
};
use crate::support::schedule_id;

/// Monday 7 December 2026, 07:00 UK time: the demo's four weeks start today.
fn now() -> DateTime<Utc> {
    "2026-12-07T07:00:00Z".parse().unwrap()
}

fn today() -> NaiveDate {
    now().with_timezone(&London).date_naive()
}

/// The check page's rows, each checked against the query module before the save.
async fn checked_rows(d: &WebDriver, app: &TestApp, a: PracticeId) -> Vec<Row> {
    d.query(By::Id("impact")).first().await.unwrap();
    let rows = impact_rows(&page(d).await);
    assert!(!rows.is_empty());
    let mut conn = app.conn();
    for r in &rows {
        assert_eq!(
            r.before,
            bookable_ahead_at(&mut conn, a, &r.consumer, now()),
            "now, for {}",
            r.label
        );
    }
    rows
}

/// After the save: every row's "after" is what the query module answers now.
fn assert_after(app: &TestApp, a: PracticeId, rows: &[Row]) {
    let mut conn = app.conn();
    for r in rows {
        assert_eq!(
            r.after,
            bookable_ahead_at(&mut conn, a, &r.consumer, now()),
            "after, for {}",
            r.label
        );
    }
}

fn row<'r>(rows: &'r [Row], label: &str) -> &'r Row {
    rows.iter()
        .find(|r| r.label == label)
        .unwrap_or_else(|| panic!("a row for {label}: {rows:?}"))
}

const NHS111: &str = "NHS 111 and other urgent care services";

fn nhs111() -> Consumer {
    Consumer::new(Some("urgent-care"), None)
}

#[actix_web::test]
async fn a_practice_manager_does_the_three_tasks_through_the_check_page() {
    let _permit = BROWSERS.acquire().await.unwrap();
    let app =
        crate::harness::spawn_app_with(|s| s.clock = bookable::clock::Clock::fixed(now())).await;
    demo::seed(&mut app.conn(), today()).unwrap();
    let mut conn = app.conn();
    let a: PracticeId = practices::table
        .filter(practices::ods_code.eq("A20047"))
        .select(practices::id)
        .first(&mut conn)
        .unwrap();
    let morning = schedule_id(&mut conn, a, "S-GP-AM");
    let triage = schedule_id(&mut conn, a, "S-GP-TEL");
    let pcn: GroupId = org_groups::table
        .filter(org_groups::practice_id.eq(a))
        .filter(org_groups::name.eq("Our PCN"))
        .select(org_groups::id)
        .first(&mut conn)
        .unwrap();
    let browser = Browser::start().await;
    let d = browser.driver();
    d.goto(app.url("/login")).await.unwrap();
    fill(d, "username", demo::DEMO_USER).await;
    fill(d, "password", demo::DEMO_PASSWORD).await;
    click(d, "sign-in").await;
    d.query(By::LinkText("Riverside Medical Practice (A20047)"))
        .first()
        .await
        .unwrap();

    // (a) Next Tuesday morning's GP session: NHS 111 only.
    let tuesday = today() + Days::new(1);
    d.goto(app.url("/practices/A20047/bulk")).await.unwrap();
    choose(d, "schedule", &morning.to_string()).await;
    set_value(d, "first_day", &tuesday.to_string()).await;
    set_value(d, "last_day", &tuesday.to_string()).await;
    set_value(d, "until_time", "12:00").await;
    click(d, "setting-yes").await;
    click(d, "who-chosen").await;
    set_checked(d, "who-urgent-care", true).await;
    set_checked(d, "who-gp-practice", false).await;
    set_checked(d, &format!("who-group-{pcn}"), false).await;
    fill(d, "who_ods", "").await;
    click(d, "save-bulk").await;
    let rows = checked_rows(d, &app, a).await;
    let notes = text(d, By::ClassName("bookable-check-note")).await;
    assert_eq!(
        notes,
        "The choice matches 18 slots; 18 of them will change."
    );
    // The session already was NHS 111's; its last slot, Y03032's alone, is booked: no one's
    // count moves, and the page says so.
    assert!(rows.iter().all(|r| r.before == r.after), "{rows:?}");
    assert!(d.find(By::Id("no-impact")).await.is_ok());
    assert!(d.find(By::Id("nhs111-warning")).await.is_err());
    let saved = save_checked(d).await;
    assert_eq!(
        saved,
        "Bulk edit saved: 18 of the 18 matching slots changed."
    );
    assert_after(&app, a, &rows);
    let tuesday_slots: Vec<Vec<String>> = slots::table
        .filter(slots::schedule_id.eq(morning))
        .filter(slots::start_at.ge(bookable::availability::query::local_midnight(tuesday)))
        .filter(
            slots::start_at.lt(bookable::availability::query::local_midnight(
                tuesday + Days::new(1),
            )),
        )
        .select(slots::audiences)
        .load(&mut app.conn())
        .unwrap();
    assert_eq!(tuesday_slots.len(), 18);
    assert!(tuesday_slots.iter().all(|t| t == &["type:urgent-care"]));
    // The schedules list now says those slots have their own setting.
    d.goto(app.url("/practices/A20047")).await.unwrap();
    let own = text(d, By::Id(format!("own-setting-{morning}"))).await;
    assert!(own.contains("slots have their own setting"), "{own}");

    // (b) Y03032 for the telephone triage's next two weeks, first the natural way: "only
    // Y03032". Untyped slots are refused and listed; the rest goes on to the check page,
    // which warns that NHS 111 would lose slots.
    let nhs111_before = bookable_ahead_at(&mut app.conn(), a, &nhs111(), now());
    d.goto(app.url("/practices/A20047/bulk")).await.unwrap();
    choose(d, "schedule", &triage.to_string()).await;
    set_value(d, "first_day", &today().to_string()).await;
    set_value(d, "last_day", &(today() + Days::new(13)).to_string()).await;
    click(d, "setting-yes").await;
    click(d, "who-chosen").await;
    set_checked(d, "who-urgent-care", false).await;
    set_checked(d, "who-gp-practice", false).await;
    set_checked(d, &format!("who-group-{pcn}"), false).await;
    fill(d, "who_ods", "Y03032").await;
    click(d, "save-bulk").await;
    let refused = text(d, By::Id("refused-slots")).await;
    assert!(refused.contains("GP telephone triage"), "{refused}");
    assert!(
        refused.contains("14:00"),
        "the untyped first call of each session"
    );
    click(d, "skip-refused").await;
    let rows = checked_rows(d, &app, a).await;
    let lost = row(&rows, NHS111).before - row(&rows, NHS111).after;
    assert!(lost > 0);
    let warning = text(d, By::Id("nhs111-warning")).await;
    assert!(
        warning.contains(&format!("NHS 111 will no longer see {lost} slots")),
        "{warning}"
    );
    // Change the answers: NHS 111, other practices and Our PCN as well as Y03032.
    click(d, "change-answers").await;
    assert_eq!(
        d.query(By::Id("who_ods"))
            .first()
            .await
            .unwrap()
            .value()
            .await
            .unwrap()
            .as_deref(),
        Some("Y03032"),
        "the answers are kept"
    );
    set_checked(d, "who-urgent-care", true).await;
    set_checked(d, "who-gp-practice", true).await;
    set_checked(d, &format!("who-group-{pcn}"), true).await;
    assert!(
        d.find(By::Id("skipping")).await.is_ok(),
        "still skipping them"
    );
    click(d, "save-bulk").await;
    let rows = checked_rows(d, &app, a).await;
    assert!(d.find(By::Id("nhs111-warning")).await.is_err());
    let nhs = row(&rows, NHS111);
    assert_eq!((nhs.before, nhs.after), (nhs111_before, nhs111_before));
    let y = row(&rows, "Y03032 (a GP practice)");
    assert_eq!(
        y.before, y.after,
        "Y03032 could already book them as a GP practice"
    );
    save_checked(d).await;
    assert_after(&app, a, &rows);
    assert_eq!(
        bookable_ahead_at(&mut app.conn(), a, &nhs111(), now()),
        nhs111_before,
        "NHS 111 lost none"
    );

    // (c) Why is a free morning slot hidden from NHS 111? Its own setting names Y03032 only;
    // fixed from its page by following the schedule again.
    let hidden: SlotId = slots::table
        .filter(slots::schedule_id.eq(morning))
        .filter(slots::status.eq("free"))
        .filter(slots::gpc_bookable.eq(Some(true)))
        .filter(slots::audiences.eq(vec!["ods:Y03032".to_owned()]))
        .filter(
            slots::start_at.ge(bookable::availability::query::local_midnight(
                today() + Days::new(2),
            )),
        )
        .order(slots::start_at)
        .select(slots::id)
        .first(&mut app.conn())
        .unwrap();
    d.goto(app.url(&format!(
        "/practices/A20047/slots/{hidden}?org_type=urgent-care"
    )))
    .await
    .unwrap();
    let why = text(d, By::Id("explanation")).await;
    assert!(
        why.contains("This slot is hidden from this consumer"),
        "{why}"
    );
    click(d, "setting-follow").await;
    click(d, "save-slot").await;
    let rows = checked_rows(d, &app, a).await;
    let nhs = row(&rows, NHS111);
    assert_eq!(nhs.after, nhs.before + 1, "NHS 111 will also see this slot");
    assert_eq!(
        text(d, By::ClassName("impact-change")).await,
        "will also see 1 slot"
    );
    click(d, "confirm-change").await;
    assert!(
        text(d, By::Id("saved-impact"))
            .await
            .contains("NHS 111 and other urgent care services will also see 1 slot.")
    );
    assert_after(&app, a, &rows);
    // Undo puts Y03032's own setting back, in one change.
    click(d, "undo").await;
    assert!(flash(d).await.contains("Your change was undone"));
    assert_eq!(
        text(d, By::Id("slot-audience")).await,
        "Y03032 (this slot's own setting)"
    );
    assert_eq!(
        bookable_ahead_at(&mut app.conn(), a, &nhs111(), now()),
        nhs.before
    );
    browser.quit().await;
}
