//! Every admin and report page in headless Chromium, one browser for all: no axe-core violation
//! at WCAG 2.2 AA, and no page wider than the viewport at 320 and at 1280 CSS pixels (wide
//! tables scroll in their own box). Error states (a form sent blank, an unknown page) are pages
//! too. The run also takes the README's screenshots (`UPDATE_SCREENSHOTS=1` writes them to
//! docs/images/; otherwise to target/screenshots/).

use std::path::PathBuf;

use bookable::db::ids::{PracticeId, SlotId};
use bookable::db::schema::{practices, slots};
use bookable::seed::demo;
use chrono::{Datelike, Days, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use thirtyfour::prelude::*;

use crate::harness::spawn_app;
use crate::support::axe;
use crate::support::browser::{BROWSERS, Browser, click, fill};
use crate::support::schedule_id;

/// What is wrong with the page shown, if anything: its axe-core violations, its error pattern
/// and its width at 320 and 1280 CSS pixels.
async fn check_page(d: &WebDriver, label: &str) -> Vec<String> {
    let mut problems: Vec<String> = axe::violations(d)
        .await
        .into_iter()
        .chain(axe::error_pattern(d).await)
        .map(|v| format!("{label}: {v}"))
        .collect();
    for width in [320, 1280] {
        axe::set_width(d, width).await;
        let (page, viewport) = axe::widths(d).await;
        if page > viewport {
            problems.push(format!(
                "{label}: {page} px wide in a {viewport} px viewport"
            ));
        }
    }
    problems
}

fn screenshot_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        root.join("docs/images")
    } else {
        root.join("target/screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[actix_web::test]
async fn every_admin_and_report_page_is_accessible_and_reflows() {
    let _permit = BROWSERS.acquire().await.unwrap();
    let app = spawn_app().await;
    let today = Utc::now().with_timezone(&London).date_naive();
    let monday = today + Days::new(u64::from(7 - today.weekday().num_days_from_monday()));
    demo::seed(&mut app.conn(), monday).unwrap();
    let mut conn = app.conn();
    let a: PracticeId = practices::table
        .filter(practices::ods_code.eq("A20047"))
        .select(practices::id)
        .first(&mut conn)
        .unwrap();
    let nurse = schedule_id(&mut conn, a, "S-NURSE");
    let slot: SlotId = slots::table
        .filter(slots::schedule_id.eq(nurse))
        .order(slots::start_at)
        .select(slots::id)
        .first(&mut conn)
        .unwrap();
    let browser = Browser::start().await;
    let d = browser.driver();
    axe::set_width(d, 1280).await;
    let mut problems = Vec::new();

    d.goto(app.url("/login")).await.unwrap();
    problems.extend(check_page(d, "sign in").await);
    click(d, "sign-in").await;
    d.query(By::Id("error-summary")).first().await.unwrap();
    problems.extend(check_page(d, "sign in, sent blank").await);
    fill(d, "username", demo::DEMO_USER).await;
    fill(d, "password", demo::DEMO_PASSWORD).await;
    click(d, "sign-in").await;
    d.query(By::Id("change-password-link"))
        .first()
        .await
        .unwrap();

    let p = "/practices/A20047";
    let pages = [
        ("your practices", "/".to_owned()),
        ("schedules", p.to_owned()),
        ("schedule", format!("{p}/schedules/{nurse}")),
        ("week", format!("{p}/week?week={monday}")),
        (
            "week, for NHS 111",
            format!("{p}/week?week={monday}&org_type=urgent-care"),
        ),
        ("slot", format!("{p}/slots/{slot}?org_type=urgent-care")),
        ("bulk edit", format!("{p}/bulk")),
        ("preview", format!("{p}/preview")),
        (
            "preview, searched",
            format!(
                "{p}/preview?org_type=urgent-care&from={monday}&to={}",
                monday + Days::new(6)
            ),
        ),
        (
            "preview, a wrong ODS code",
            format!("{p}/preview?ods_code=not-one&from={monday}&to={monday}"),
        ),
        ("sharing", format!("{p}/sharing")),
        ("how sharing works", format!("{p}/how-sharing-works")),
        (
            "week, a wrong date and ODS code",
            format!("{p}/week?week=2026-02-31&as=practice&practice_ods=nope"),
        ),
        ("users", format!("{p}/users")),
        ("appointments", format!("{p}/appointments")),
        ("temporary registrations", format!("{p}/registrations")),
        ("GP Connect requests", format!("{p}/gp-connect")),
        ("audit log", format!("{p}/audit")),
        (
            "audit log, a wrong date",
            format!("{p}/audit?from=2026-13-45"),
        ),
        ("change your password", "/account/password".to_owned()),
        ("practice report", format!("{p}/reports")),
        ("all practices report", "/reports".to_owned()),
        ("unknown page", format!("{p}/no-such-page")),
        ("unknown slot", format!("{p}/slots/999999999")),
    ];
    for (label, path) in &pages {
        d.goto(app.url(path)).await.unwrap();
        problems.extend(check_page(d, label).await);
        if *label == "schedule" {
            d.screenshot(&screenshot_path("who-can-book.png"))
                .await
                .unwrap();
        }
        if *label == "schedules" {
            d.screenshot(&screenshot_path("schedules.png"))
                .await
                .unwrap();
        }
    }
    d.goto(app.url("/account/password")).await.unwrap();
    click(d, "change-password").await;
    d.query(By::Id("error-summary")).first().await.unwrap();
    problems.extend(check_page(d, "change your password, sent blank").await);
    d.goto(app.url(&format!("{p}/users"))).await.unwrap();
    click(d, "add-user").await;
    d.query(By::Id("error-summary")).first().await.unwrap();
    problems.extend(check_page(d, "users, sent blank").await);

    browser.quit().await;
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
