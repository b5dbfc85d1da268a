//! Every numeric setting is refused outside its range by the domain, so the admin forms and
//! the command line refuse alike (the JSON API sets none): a booking window of 3,000,000 days
//! once took the practice's home page and week view down for every user.

use bookable::availability::limits::{self, BookingWindow, LimitError, WindowTarget};
use bookable::change_log::Actor;
use bookable::db::schema::{booking_limits, practices, report_settings, schedules};
use diesel::prelude::*;
use reqwest::StatusCode;

use super::{schedule_id, setup, sign_in};
use crate::fixture::PRACTICE_A;

fn window(conn: &mut PgConnection, id: i64) -> (Option<i32>, Option<i32>) {
    schedules::table
        .find(id)
        .select((schedules::book_from_days, schedules::book_until_minutes))
        .first(conn)
        .unwrap()
}

#[actix_web::test]
async fn a_booking_window_of_3_000_000_days_is_refused_on_the_form_and_the_pages_keep_working() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let open = schedule_id(&mut app.conn(), fx.a, "OPEN");
    let path = format!("/practices/{PRACTICE_A}/schedules/{}/sharing", open.0);
    let token = csrf_of(&session, "sharing").await;
    let (status, _, page) = session
        .post(
            &path,
            &[
                ("csrf_token", &token),
                ("from_days", "3000000"),
                ("until_minutes", "30"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("The days ahead must be from 0 to 365"),
        "{page}"
    );
    assert!(
        page.contains("nhsuk-error-summary"),
        "the NHS.UK error summary"
    );
    assert!(
        page.contains("value=\"3000000\""),
        "the entered text is kept"
    );
    assert!(page.contains("value=\"30\""), "the entered text is kept");
    assert_eq!(
        window(&mut app.conn(), open.0),
        (None, None),
        "nothing saved"
    );

    let (status, _, page) = session
        .post(&path, &[("csrf_token", &token), ("until_minutes", "20000")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("The minutes before must be from 0 to 10,080"),
        "{page}"
    );

    // 365 days is the most, and saves.
    let (status, _, _) = session
        .post(
            &path,
            &[
                ("csrf_token", &token),
                ("from_days", "365"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(window(&mut app.conn(), open.0), (Some(365), None));
    for page in [
        format!("/practices/{PRACTICE_A}"),
        format!("/practices/{PRACTICE_A}/week?schedule={}", open.0),
    ] {
        assert_eq!(session.get(&page).await.0, StatusCode::OK, "{page}");
    }
}

async fn csrf_of(session: &super::Session, page: &str) -> String {
    super::csrf(
        &session
            .get(&format!("/practices/{PRACTICE_A}/{page}"))
            .await
            .1,
    )
}

#[actix_web::test]
async fn a_booking_limit_over_10_000_is_refused_with_the_entered_text_kept() {
    let (app, _fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let token = csrf_of(&session, "sharing").await;
    let (status, _, page) = session
        .post(
            &format!("/practices/{PRACTICE_A}/limits"),
            &[
                ("csrf_token", &token),
                ("limit_schedule", "practice"),
                ("limit_kind", "ods"),
                ("limit_ods_code", "Y12345"),
                ("limit_period", "day"),
                ("limit_max", "3000000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains("A limit must allow from 1 to 10,000 slots"),
        "{page}"
    );
    assert!(page.contains("value=\"3000000\""));
    assert!(page.contains("value=\"Y12345\""));
    let limits: i64 = booking_limits::table
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(limits, 0);
}

#[actix_web::test]
async fn the_domain_refuses_out_of_range_windows_whoever_calls() {
    let (app, fx) = setup().await;
    let open = schedule_id(&mut app.conn(), fx.a, "OPEN");
    let actor = Actor::system("test");
    for (window, expected) in [
        (
            BookingWindow {
                from_days: Some(3_000_000),
                until_minutes: None,
            },
            "the days ahead must be from 0 to 365",
        ),
        (
            BookingWindow {
                from_days: Some(-1),
                until_minutes: None,
            },
            "the days ahead must be from 0 to 365",
        ),
        (
            BookingWindow {
                from_days: None,
                until_minutes: Some(i32::MAX),
            },
            "the minutes before must be from 0 to 10,080 (one week)",
        ),
    ] {
        let e = limits::set_window(
            &mut app.conn(),
            &actor,
            fx.a,
            WindowTarget::Schedule(open),
            window,
        )
        .unwrap_err();
        assert!(!matches!(e, LimitError::Database(_)));
        assert_eq!(e.to_string(), expected);
    }
    assert_eq!(window(&mut app.conn(), open.0), (None, None));
}

fn bookable_cli(app: &crate::harness::TestApp) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_bookable"));
    cmd.env("DATABASE_URL", app.db.url())
        .env("RUST_LOG", "warn");
    cmd
}

#[actix_web::test]
async fn the_command_line_refuses_out_of_range_list_sizes_and_ratios() {
    let (app, _fx) = setup().await;
    let out = bookable_cli(&app)
        .args([
            "practice",
            "add",
            "--ods",
            "Y99999",
            "--name",
            "Big",
            "--list-size",
            "3000000",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the list size must be from 0 to 1,000,000 registered patients"),
        "{stderr}"
    );
    let created: i64 = practices::table
        .filter(practices::ods_code.eq("Y99999"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(created, 0);

    let out = bookable_cli(&app)
        .args([
            "report-settings",
            "--nhs111-patients-per-appointment",
            "3000000",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("from 1 to 100,000 registered patients"),
        "{stderr}"
    );
    let ratio: i32 = report_settings::table
        .select(report_settings::nhs111_patients_per_appointment)
        .first(&mut app.conn())
        .unwrap();
    assert_eq!(ratio, 3000);
}
