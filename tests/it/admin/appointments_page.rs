//! End to end in headless Chromium: a practice's admin opens the Appointments page from the
//! practice menu of the demo and sees the GP Connect bookings by organisation, the patient by
//! initials and the NHS number's last digits only, and nothing of what the appointment is for.

use bookable::change_log::Actor;
use bookable::seed::demo;
use chrono::Utc;
use chrono_tz::Europe::London;
use thirtyfour::prelude::*;

use crate::harness::spawn_app;
use crate::support::browser::{BROWSERS, Browser, click, fill, page, text};

#[actix_web::test]
async fn an_admin_finds_the_gp_connect_bookings_from_the_practice_menu() {
    let _permit = BROWSERS.acquire().await.unwrap();
    let app = spawn_app().await;
    let today = Utc::now().with_timezone(&London).date_naive();
    {
        let mut conn = app.conn();
        demo::seed(&mut conn, today).unwrap();
        bookable::patients::import::import_json(
            &mut conn,
            &Actor::system("test"),
            bookable::patients::import::DEMO_PATIENTS,
        )
        .unwrap();
        bookable::seed::appointments::seed(&mut conn, today).unwrap();
    }
    let browser = Browser::start().await;
    let d = browser.driver();

    d.goto(app.url("/")).await.unwrap();
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
    d.query(By::LinkText("Appointments"))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        d.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/practices/A20047/appointments")
    );
    assert_eq!(text(d, By::Tag("h1")).await, "Appointments");

    // NHS 111 and the neighbouring practice, each with its own table.
    let nhs111 = text(d, By::Css("table[data-organisation='NLO10']")).await;
    for ends in ["…009", "…068", "…017"] {
        assert!(nhs111.contains(ends), "{ends}: {nhs111}");
    }
    assert!(nhs111.contains("Cancelled"), "{nhs111}");
    let hillview = d
        .query(By::Css("table[data-organisation='B82617']"))
        .all_from_selector()
        .await
        .unwrap();
    assert_eq!(
        hillview.len(),
        1,
        "Hillview Surgery's booking has its table"
    );

    // No full NHS number, no clinical text.
    let html = page(d).await;
    for private in [
        "9000000009",
        "9000000068",
        "Call back arranged by NHS 111",
        "Patient asked for a chaperone",
        "Patient no longer needs the appointment",
    ] {
        assert!(!html.contains(private), "{private} shown");
    }
    browser.quit().await;
}
