//! Edits: optimistic locking, one change-log row per change, bulk edits all or nothing, and
//! the Visit refusal however it is asked for.

use super::*;

#[actix_web::test]
async fn a_stale_save_is_refused_with_a_reload_message() {
    let (app, fx) = setup().await;
    let first = sign_in(&app, "manager.a").await;
    add_user(&app, "manager.two", &[(fx.a, Role::Manager)]);
    let second = sign_in(&app, "manager.two").await;
    let conn = &mut app.conn();
    let open = schedule_id(conn, fx.a, "OPEN");
    let path = format!("/practices/{PRACTICE_A}/schedules/{open}");
    let (_, page1) = first.get(&path).await;
    let (status, _, _) = save_schedule(&second, &path, "no").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved = schedule_state(conn, open);
    let (status, _, body) = first
        .post(
            &path,
            &schedule_form(&csrf(&page1), &hidden_version(&page1), "yes"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("reload the page"), "{body}");
    assert!(body.contains("nhsuk-error-summary"));
    assert_eq!(schedule_state(conn, open), saved, "no silent overwrite");

    // The same for a slot.
    let slot = fx.id("open-free");
    let slot_path = format!("/practices/{PRACTICE_A}/slots/{slot}");
    let (_, s1) = first.get(&slot_path).await;
    let (_, s2) = second.get(&slot_path).await;
    let (status, _, _) = save(&second, &slot_path, &s2, &[("setting", "no")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, body) = save(
        &first,
        &slot_path,
        &s1,
        &[("setting", "yes"), ("who", "chosen"), ("who_ods", "Y03032")],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("reload the page"));
    assert_eq!(slot_state(conn, slot).0, Some(false));
}

#[actix_web::test]
async fn every_change_leaves_exactly_one_audit_row() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let open = schedule_id(conn, fx.a, "OPEN");
    let path = format!("/practices/{PRACTICE_A}/schedules/{open}");
    let (status, _, _) = save_schedule(&session, &path, "yes").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(audit_rows(conn, fx.a), 1);
    let (action, entity, entity_id, before, after): (
        String,
        String,
        Option<i64>,
        Option<serde_json::Value>,
        Option<serde_json::Value>,
    ) = audit_log::table
        .filter(audit_log::user_id.is_not_null())
        .filter(audit_log::practice_id.is_not_null())
        .select((
            audit_log::action,
            audit_log::entity,
            audit_log::entity_id,
            audit_log::before,
            audit_log::after,
        ))
        .first(conn)
        .unwrap();
    assert_eq!(
        (action.as_str(), entity.as_str(), entity_id),
        ("update", "schedule", Some(open.0))
    );
    assert_eq!(before.unwrap()["audiences"], serde_json::json!([]));
    assert_eq!(
        after.unwrap()["audiences"],
        serde_json::json!(["type:urgent-care"])
    );

    // Saving the same settings again changes nothing and records nothing.
    let (status, _, _) = save_schedule(&session, &path, "yes").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(audit_rows(conn, fx.a), 1);

    // One slot override: one more row.
    let slot = fx.id("open-free");
    let slot_path = format!("/practices/{PRACTICE_A}/slots/{slot}");
    let (_, page) = session.get(&slot_path).await;
    let (status, _, _) = save(
        &session,
        &slot_path,
        &page,
        &[("setting", "yes"), ("who", "chosen"), ("who_ods", "y03032")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        slot_state(conn, slot),
        (Some(true), vec!["ods:Y03032".to_owned()], 2)
    );
    assert_eq!(audit_rows(conn, fx.a), 2);

    // The audit page shows both, filterable by record type.
    let (_, log) = session
        .get(&format!("/practices/{PRACTICE_A}/audit?entity=slot"))
        .await;
    assert!(log.contains(&format!("data-record=\"slot-{slot}\"")));
    assert!(!log.contains(&format!("data-record=\"schedule-{open}\"")));
    assert!(log.contains("Y03032"));
}

#[actix_web::test]
async fn a_bulk_edit_is_all_or_nothing_with_one_audit_row_per_slot_changed() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let all_on_day: Vec<SlotId> = slots::table
        .filter(slots::practice_id.eq(fx.a))
        .filter(slots::external_id.ne_all(["open-early", "open-late", "open-edge"]))
        .filter(slots::start_at.ge(fixture::local(2026, 6, 10, 0, 0)))
        .filter(slots::start_at.lt(fixture::local(2026, 6, 11, 0, 0)))
        .select(slots::id)
        .load(conn)
        .unwrap();
    let states = |conn: &mut PgConnection| {
        all_on_day
            .iter()
            .map(|s| slot_state(conn, *s))
            .collect::<Vec<_>>()
    };
    let before = states(conn);
    let token = session.token().await;
    let path = format!("/practices/{PRACTICE_A}/bulk");
    // The whole practice's day includes the home visit: refused, and nothing changes.
    let (status, _, body) = session
        .post(
            &path,
            &[
                ("csrf_token", &token),
                ("first_day", "2026-06-10"),
                ("last_day", "2026-06-10"),
                ("setting", "yes"),
                ("who", "chosen"),
                ("who_types", "urgent-care"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("1 of the selected slots can&#39;t be made GP Connect bookable")
            || body.contains("1 of the selected slots can't be made GP Connect bookable"),
        "{body}"
    );
    assert!(body.contains("Visit"));
    assert_eq!(states(conn), before);
    assert_eq!(audit_rows(conn, fx.a), 0);

    // Wednesday mornings from 09:00 of schedule OPEN, with a slot type: only those change.
    let open = schedule_id(conn, fx.a, "OPEN");
    let open_id = open.to_string();
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("schedule", &open_id),
        ("first_day", "2026-06-08"),
        ("last_day", "2026-06-14"),
        ("weekdays", "wed"),
        ("from_time", "09:00"),
        ("until_time", "12:00"),
        ("slot_type", "Routine appointment"),
        ("setting", "yes"),
        ("who", "chosen"),
        ("who_ods", "B82617"),
    ];
    // First the check page, which changes nothing; then saved from it.
    let (status, _, check) = session.post(&path, &form).await;
    assert_eq!(status, StatusCode::OK, "{check}");
    assert!(check.contains("The choice matches 4 slots; 4 of them will change."));
    assert_eq!(states(conn), before);
    let fingerprint = hidden(&check, "fingerprint");
    form.extend([
        ("fingerprint", fingerprint.as_str()),
        ("step", "confirm"),
        ("nhs111_confirmed", "yes"),
    ]);
    let (status, headers, _) = session.post(&path, &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/practices/A20047/saved");
    // open-free 09:00, open-busy 09:15, open-override-off 09:45, open-override-ods 10:00 match;
    // open-notype has no slot type; open-early starts 08:50.
    let changed = [
        "open-free",
        "open-busy",
        "open-override-off",
        "open-override-ods",
    ];
    for name in changed {
        assert_eq!(slot_state(conn, fx.id(name)).0, Some(true), "{name}");
        assert_eq!(
            slot_state(conn, fx.id(name)).1,
            vec!["ods:B82617".to_owned()],
            "{name}"
        );
    }
    for name in ["open-notype", "open-early", "type-free", "visit-free"] {
        assert_ne!(
            slot_state(conn, fx.id(name)).1,
            vec!["ods:B82617".to_owned()],
            "{name}"
        );
    }
    let bulk_rows: i64 = audit_log::table
        .filter(audit_log::action.eq("bulk-update"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(bulk_rows, changed.len() as i64);
    let (_, saved) = session.get("/practices/A20047/saved").await;
    assert!(saved.contains("Bulk edit saved: 4 of the 4 matching slots changed."));
    assert!(
        saved.contains("week=2026-06-08"),
        "continues to the week edited"
    );
}

#[actix_web::test]
async fn forged_requests_to_make_a_visit_bookable_are_refused() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let visit = schedule_id(conn, fx.a, "VISIT");
    let path = format!("/practices/{PRACTICE_A}/schedules/{visit}");
    let (_, page) = session.get(&path).await;
    assert!(
        !page.contains("id=\"bookable-yes\""),
        "the form never offers it"
    );
    let before = schedule_state(conn, visit);
    let (token, v) = (csrf(&page), hidden_version(&page));
    let mut forged = schedule_form(&token, &v, "yes");
    for field in forged.iter_mut() {
        if field.0 == "delivery_channel" {
            field.1 = "Visit";
        }
    }
    let (status, _, body) = session.post(&path, &forged).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("a Visit (home visit) slot can never be GP Connect bookable"),
        "{body}"
    );
    assert_eq!(schedule_state(conn, visit), before);

    let slot = fx.id("visit-free");
    let slot_path = format!("/practices/{PRACTICE_A}/slots/{slot}");
    let (_, page) = session.get(&slot_path).await;
    assert!(!page.contains("id=\"setting-yes\""));
    let (status, _, body) = save(&session, &slot_path, &page, &[("setting", "yes")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("home visit"), "{body}");
    assert_eq!(slot_state(conn, slot).0, None);

    // A slot without a slot type, and a schedule without a role, likewise.
    let notype = fx.id("open-notype");
    let p = format!("/practices/{PRACTICE_A}/slots/{notype}");
    let (_, page) = session.get(&p).await;
    assert!(
        !page.contains("id=\"setting-yes\""),
        "not offered without a slot type"
    );
    assert!(page.contains("it has no slot type"));
    let (status, _, body) = save(&session, &p, &page, &[("setting", "yes")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("it has no slot type"), "{body}");
    let open = schedule_id(conn, fx.a, "OPEN");
    let p = format!("/practices/{PRACTICE_A}/schedules/{open}");
    let (_, page) = session.get(&p).await;
    let (token, v) = (csrf(&page), hidden_version(&page));
    let mut no_role = schedule_form(&token, &v, "yes");
    no_role.retain(|(k, _)| *k != "practitioner_role");
    let (status, _, body) = session.post(&p, &no_role).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("it has no practitioner role"), "{body}");
    assert_eq!(audit_rows(conn, fx.a), 0);
}

#[actix_web::test]
async fn the_database_trigger_refusing_visit_reads_as_the_same_refusal() {
    use bookable::availability::manage::EditError;
    use bookable::availability::rules::Refusal;
    let (app, fx) = setup().await;
    // A path around the domain (a console, a future bug): the trigger refuses, and the error
    // maps to the refusal the forms show.
    let err = diesel::update(slots::table.find(fx.id("visit-free")))
        .set(slots::gpc_bookable.eq(Some(true)))
        .execute(&mut app.conn())
        .unwrap_err();
    assert!(matches!(
        EditError::from(err),
        EditError::Refused(Refusal::Visit)
    ));
    assert_eq!(slot_state(&mut app.conn(), fx.id("visit-free")).0, None);
}

#[actix_web::test]
async fn a_malformed_ods_code_is_refused_with_the_entered_text_kept_and_nothing_changed() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let slot = fx.id("open-free");
    let slot_path = format!("/practices/{PRACTICE_A}/slots/{slot}");
    let before = slot_state(conn, slot);
    let (_, page) = session.get(&slot_path).await;
    let (status, _, body) = save(
        &session,
        &slot_path,
        &page,
        &[
            ("setting", "yes"),
            ("who", "chosen"),
            ("who_types", "urgent-care"),
            ("who_ods", "Y03032, 12-XYZ"),
        ],
    )
    .await;
    assert_ne!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(body.contains("nhsuk-error-summary"));
    assert!(
        body.contains("href=\"#who_ods\""),
        "the summary links to the field: {body}"
    );
    assert!(body.contains("12-XYZ is not one"), "{body}");
    assert!(
        body.contains("value=\"Y03032, 12-XYZ\""),
        "the entered text is kept"
    );
    assert!(
        body.contains("who_ods-error"),
        "the field is described by its error"
    );
    assert_eq!(slot_state(conn, slot), before, "nothing changed");
    assert_eq!(audit_rows(conn, fx.a), 0);
}
