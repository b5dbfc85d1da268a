//! Practice isolation route by route, and roles: a viewer sees but cannot change.

use super::*;

#[actix_web::test]
async fn a_user_of_practice_a_gets_404_on_every_practice_b_route() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let b_schedule = schedule_id(conn, fx.b, "OPEN");
    let b_slot = fx.id("b-open-free");
    let b_before = (schedule_state(conn, b_schedule), slot_state(conn, b_slot));
    let a = PRACTICE_A;
    let b = PRACTICE_B;
    let gets = [
        format!("/practices/{b}"),
        format!("/practices/{b}/schedules/{b_schedule}"),
        format!("/practices/{b}/week"),
        format!("/practices/{b}/week?schedule={b_schedule}&week=2026-06-08"),
        format!("/practices/{b}/slots/{b_slot}"),
        format!("/practices/{b}/slots/{b_slot}?org_type=urgent-care"),
        format!("/practices/{b}/bulk"),
        format!("/practices/{b}/preview?from=2026-06-10&to=2026-06-10"),
        format!("/practices/{b}/audit"),
        // B's records through A's pages.
        format!("/practices/{a}/schedules/{b_schedule}"),
        format!("/practices/{a}/week?schedule={b_schedule}"),
        format!("/practices/{a}/slots/{b_slot}"),
        // A practice that doesn't exist, and one that isn't an ODS code.
        "/practices/Z99999".to_owned(),
        "/practices/not-a-code!/audit".to_owned(),
    ];
    for path in &gets {
        let (status, body) = session.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
        assert!(
            !body.contains("Practice B82617"),
            "GET {path} leaks B's name"
        );
    }
    let token = session.token().await;
    let slot_form = [
        ("csrf_token", token.as_str()),
        ("version", "1"),
        ("setting", "yes"),
    ];
    let bulk = |schedule: String| {
        vec![
            ("csrf_token".to_owned(), token.clone()),
            ("schedule".to_owned(), schedule),
            ("first_day".to_owned(), "2026-06-10".to_owned()),
            ("last_day".to_owned(), "2026-06-10".to_owned()),
            ("setting".to_owned(), "yes".to_owned()),
        ]
    };
    let posts: Vec<(String, Vec<(String, String)>)> = vec![
        (
            format!("/practices/{b}/schedules/{b_schedule}"),
            schedule_form(&token, "1", "no")
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ),
        (
            format!("/practices/{a}/schedules/{b_schedule}"),
            schedule_form(&token, "1", "no")
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ),
        (
            format!("/practices/{b}/slots/{b_slot}"),
            slot_form
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        (
            format!("/practices/{a}/slots/{b_slot}"),
            slot_form
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        (format!("/practices/{b}/bulk"), bulk(String::new())),
        (format!("/practices/{a}/bulk"), bulk(b_schedule.to_string())),
    ];
    for (path, form) in &posts {
        let r = session
            .client
            .post(app.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    assert_eq!(
        (schedule_state(conn, b_schedule), slot_state(conn, b_slot)),
        b_before
    );
    assert_eq!(audit_rows(conn, fx.b), 0);
    // The same routes answer for A's own records.
    let a_schedule = schedule_id(conn, fx.a, "OPEN");
    for path in [
        format!("/practices/{a}"),
        format!("/practices/{a}/schedules/{a_schedule}"),
        format!("/practices/{a}/week?schedule={a_schedule}&week=2026-06-08"),
        format!("/practices/{a}/slots/{}", fx.id("open-free")),
        format!("/practices/{a}/bulk"),
        format!("/practices/{a}/preview"),
        format!("/practices/{a}/audit"),
    ] {
        assert_eq!(session.get(&path).await.0, StatusCode::OK, "GET {path}");
    }
}

#[actix_web::test]
async fn a_viewer_sees_but_cannot_change() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "viewer.a").await;
    let conn = &mut app.conn();
    let open = schedule_id(conn, fx.a, "OPEN");
    let before = schedule_state(conn, open);
    let (status, page) = session
        .get(&format!("/practices/{PRACTICE_A}/schedules/{open}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !page.contains("save-schedule"),
        "no save button for a viewer"
    );
    let token = csrf(&page);
    let v = before.3.to_string();
    let (status, _, body) = session
        .post(
            &format!("/practices/{PRACTICE_A}/schedules/{open}"),
            &schedule_form(&token, &v, "no"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("viewer"));
    let slot = fx.id("open-free");
    let (status, _, _) = session
        .post(
            &format!("/practices/{PRACTICE_A}/slots/{slot}"),
            &[("csrf_token", &token), ("version", "1"), ("setting", "no")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = session
        .post(
            &format!("/practices/{PRACTICE_A}/bulk"),
            &[
                ("csrf_token", &token),
                ("first_day", "2026-06-10"),
                ("last_day", "2026-06-10"),
                ("setting", "no"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(schedule_state(conn, open), before);
    assert_eq!(slot_state(conn, slot).0, None);
    assert_eq!(audit_rows(conn, fx.a), 0);
}
