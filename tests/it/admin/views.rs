//! The read-only pages: the consumer preview and the explanation, the audit log's filters, the
//! week view in UK local time.

use super::*;

#[actix_web::test]
async fn the_preview_and_the_explanation_come_from_the_query_module() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let window = bookable::availability::query::SearchWindow::local_days(
        fixture::day(2026, 6, 10),
        fixture::day(2026, 6, 10),
    )
    .unwrap();
    for (org_type, ods) in [
        ("", ""),
        ("urgent-care", ""),
        ("", "Y03032"),
        ("urgent-care", "A11111"),
    ] {
        let consumer = bookable::availability::query::Consumer::new(
            (!org_type.is_empty()).then_some(org_type),
            (!ods.is_empty()).then(|| bookable::availability::codes::OdsCode::parse(ods).unwrap()),
        );
        let expected = bookable::availability::query::free_slots(
            conn,
            fx.a,
            &window,
            &consumer,
            crate::fixture::before_every_slot(),
        )
        .unwrap();
        let (status, page) = session
            .get(&format!("/practices/{PRACTICE_A}/preview?org_type={org_type}&ods_code={ods}&from=2026-06-10&to=2026-06-10"))
            .await;
        assert_eq!(status, StatusCode::OK);
        let rows = page.matches("<tr class=\"nhsuk-table__row\">").count();
        assert_eq!(rows, expected.slots.len(), "{org_type}/{ods}");
        assert!(page.contains(&format!("{} slots for", expected.slots.len())));
    }
    let (status, page) = session
        .get(&format!(
            "/practices/{PRACTICE_A}/preview?from=2026-06-01&to=2026-06-30"
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("longer than 14 days"));

    // Why is the ODS-restricted slot hidden from urgent care?
    let slot = fx.id("open-override-ods");
    let (_, page) = session
        .get(&format!(
            "/practices/{PRACTICE_A}/slots/{slot}?org_type=urgent-care"
        ))
        .await;
    assert!(
        page.contains("This organisation is in none of these"),
        "{page}"
    );
    let (_, page) = session
        .get(&format!(
            "/practices/{PRACTICE_A}/slots/{slot}?ods_code=A11111"
        ))
        .await;
    assert!(page.contains("This slot is visible to this consumer."));
}

#[actix_web::test]
async fn the_audit_log_filters_by_record_action_person_and_day() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let slot = fx.id("open-free");
    let path = format!("/practices/{PRACTICE_A}/slots/{slot}");
    let (_, page) = session.get(&path).await;
    let (status, _, _) = save(&session, &path, &page, &[("setting", "no")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::London)
        .date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let row = format!("data-record=\"slot-{slot}\"");
    let audit = |q: String| {
        let session = &session;
        async move {
            let (status, page) = session
                .get(&format!("/practices/{PRACTICE_A}/audit?{q}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{q}");
            page
        }
    };
    for (q, shown) in [
        (format!("entity=slot&entity_id={slot}"), true),
        ("entity=schedule".to_owned(), false),
        ("action=update&actor=manager".to_owned(), true),
        ("action=bulk-update".to_owned(), false),
        ("actor=someone+else".to_owned(), false),
        (format!("from={today}&to={today}"), true),
        (format!("from={tomorrow}"), false),
    ] {
        assert_eq!(audit(q.clone()).await.contains(&row), shown, "{q}");
    }
    // The practice's own import is there too, from the system actor; B's is not.
    let all = audit(String::new()).await;
    assert!(all.contains("Practice A20047"));
    assert!(!all.contains("Practice B82617"));
}

#[actix_web::test]
async fn the_week_view_shows_uk_local_times_exposure_and_why_hidden() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let open = schedule_id(conn, fx.a, "OPEN");
    let (status, page) = session
        .get(&format!(
            "/practices/{PRACTICE_A}/week?schedule={open}&week=2026-06-10&org_type=urgent-care"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Week of Mon 8 Jun 2026"));
    let row = |name: &str| {
        let id = fx.id(name);
        let start = page.find(&format!("id=\"slot-{id}\"")).expect(name);
        let end = page[start..].find("</tr>").unwrap() + start;
        page[start..end].to_owned()
    };
    // 09:00 BST is 08:00 UTC: shown as the practice sees it.
    let free = row("open-free");
    assert!(free.contains("09:00–09:15"), "{free}");
    assert!(free.contains("data-exposed=\"true\""));
    assert!(free.contains("Any organisation using GP Connect"));
    assert!(free.contains("Can book"));
    let ods = row("open-override-ods");
    assert!(
        ods.contains("A11111") && ods.contains("(own setting)"),
        "{ods}"
    );
    assert!(
        ods.contains("This organisation is in none of these"),
        "{ods}"
    );
    let busy = row("open-busy");
    assert!(busy.contains("data-exposed=\"false\"") && busy.contains("already booked"));
    let notype = row("open-notype");
    assert!(notype.contains("no slot type"), "{notype}");
    // Another schedule's slot is not in this schedule's week.
    assert!(!page.contains(&format!("id=\"slot-{}\"", fx.id("type-free"))));
}
