//! The check-your-changes page over HTTP: its before and after counts are the query module's
//! (`query::free_slots` for each organisation shown), NHS 111's loss needs a second
//! confirmation, a stale check page is refused, and a save can be undone once, in one audited
//! change.

use bookable::availability::codes::OdsCode;
use bookable::availability::query::{self, Consumer, SearchWindow};
use bookable::db::ids::PracticeId;
use bookable::db::schema::audit_log;
use bookable::users::Role;
use chrono::{DateTime, Days, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use reqwest::StatusCode;
use reqwest::header::LOCATION;

use super::{ScheduleState, SlotState, audit_rows, schedule_state, slot_state};
use crate::fixture::{self, Fixture};
use crate::harness::TestApp;
use crate::support::schedule_id;
use crate::support::web::{Session, add_user, csrf, hidden, sign_in};

/// Eight days before the fixture's June slots: the next four weeks hold all of them.
fn now() -> DateTime<Utc> {
    "2026-06-02T08:00:00Z".parse().unwrap()
}

async fn setup() -> (TestApp, Fixture, Session) {
    let app =
        crate::harness::spawn_app_with(|s| s.clock = bookable::clock::Clock::fixed(now())).await;
    let fx = fixture::load(&mut app.conn());
    add_user(&app, "manager.a", &[(fx.a, Role::Manager)]);
    let session = sign_in(&app, "manager.a").await;
    (app, fx, session)
}

/// One line of the impact table: what the organisation sends, its label, before and after.
#[derive(Debug)]
pub(super) struct Row {
    pub consumer: Consumer,
    pub label: String,
    pub before: usize,
    pub after: usize,
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} in the page"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

pub(super) fn impact_rows(html: &str) -> Vec<Row> {
    html.split("<tr class=\"nhsuk-table__row impact-row\"")
        .skip(1)
        .map(|row| {
            let org_type = between(row, "data-org-type=\"", "\"");
            let ods = between(row, "data-ods-code=\"", "\"");
            Row {
                consumer: Consumer::new(
                    Some(org_type).filter(|t| !t.is_empty()),
                    Some(ods)
                        .filter(|o| !o.is_empty())
                        .map(|o| OdsCode::parse(o).unwrap()),
                ),
                label: between(row, "impact-label\">", "<").to_owned(),
                before: between(row, "impact-before\">", "<").parse().unwrap(),
                after: between(row, "impact-after\">", "<").parse().unwrap(),
            }
        })
        .collect()
}

/// The check page's hidden fields (the form as posted), CSRF token first.
fn check_fields(html: &str) -> Vec<(String, String)> {
    let form = between(
        html,
        "<form method=\"post\" action=\"/practices/A20047/",
        "</form>",
    );
    form.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|f| {
            let name = f[..f.find('"').unwrap()].to_owned();
            let value = between(f, "value=\"", "\"")
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&quot;", "\"")
                .replace("&amp;", "&");
            (name, value)
        })
        .collect()
}

/// Posts the check page's form back with `step` and `extra` fields.
async fn confirm(
    session: &Session,
    path: &str,
    check: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let fields = check_fields(check);
    let mut form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form.push(("step", "confirm"));
    form.extend_from_slice(extra);
    session.post(path, &form).await
}

/// The free slots of the next four weeks `consumer` can book, as the query module answers.
fn bookable_ahead(conn: &mut PgConnection, practice: PracticeId, consumer: &Consumer) -> usize {
    bookable_ahead_at(conn, practice, consumer, now())
}

/// The free slots of the four weeks from `now` that `consumer` can book (the query module).
pub(super) fn bookable_ahead_at(
    conn: &mut PgConnection,
    practice: PracticeId,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> usize {
    let today = now.with_timezone(&London).date_naive();
    [(0, 13), (14, 27)]
        .into_iter()
        .map(|(first, last)| {
            let window =
                SearchWindow::local_days(today + Days::new(first), today + Days::new(last))
                    .unwrap();
            query::free_slots(conn, practice, &window, consumer, now)
                .unwrap()
                .slots
                .len()
        })
        .sum()
}

/// The TYPE schedule (NHS 111 only) changed to "only Y03032": the failure.
fn only_y03032<'a>(token: &'a str, version: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf_token", token),
        ("version", version),
        ("bookable", "yes"),
        ("who", "chosen"),
        ("who_ods", "Y03032"),
        ("practitioner_role", "R0260"),
        ("delivery_channel", "Telephone"),
        ("schedule_type", "TYPE session"),
    ]
}

/// Posts the schedule form (no step): the check page.
async fn check_type_schedule(session: &Session, path: &str) -> String {
    let (_, form) = session.get(path).await;
    let (token, version) = (csrf(&form), hidden(&form, "version"));
    let (status, _, page) = session.post(path, &only_y03032(&token, &version)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page
}

#[actix_web::test]
async fn the_check_page_counts_what_the_query_module_answers_before_and_after() {
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let id = schedule_id(&mut conn, fx.a, "TYPE");
    let path = format!("/practices/A20047/schedules/{id}");
    let before_state = schedule_state(&mut conn, id);
    let audits = audit_rows(&mut conn, fx.a);

    let page = check_type_schedule(&session, &path).await;
    let rows = impact_rows(&page);
    let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "NHS 111 and other urgent care services",
            "Other GP practices",
            "A11111 (a GP practice)",
            "Y03032 (a GP practice)"
        ]
    );
    // Nothing is saved by the check page (the dry run is rolled back).
    assert_eq!(schedule_state(&mut conn, id), before_state);
    assert_eq!(audit_rows(&mut conn, fx.a), audits);
    for r in &rows {
        assert_eq!(
            r.before,
            bookable_ahead(&mut conn, fx.a, &r.consumer),
            "{}",
            r.label
        );
    }
    assert_eq!(
        (rows[0].before, rows[0].after),
        (6, 5),
        "NHS 111 loses type-free"
    );
    assert_eq!((rows[3].before, rows[3].after), (6, 7), "Y03032 gains it");
    assert!(page.contains("NHS 111 will no longer see 1 slot in the next 28 days"));
    assert!(page.contains("will no longer see 1 slot</strong>"));

    let (status, headers, _) =
        confirm(&session, &path, &page, &[("nhs111_confirmed", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/practices/A20047/saved");
    for r in &rows {
        assert_eq!(
            r.after,
            bookable_ahead(&mut conn, fx.a, &r.consumer),
            "{}",
            r.label
        );
    }
    assert_eq!(audit_rows(&mut conn, fx.a), audits + 1);
    let (_, saved) = session.get("/practices/A20047/saved").await;
    assert!(saved.contains("Saved TYPE session."), "{saved}");
    assert!(saved.contains("NHS 111 and other urgent care services will no longer see 1 slot."));
    assert!(saved.contains("id=\"undo\""));
}

#[actix_web::test]
async fn losing_nhs_111_slots_is_refused_without_the_second_confirmation() {
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let id = schedule_id(&mut conn, fx.a, "TYPE");
    let path = format!("/practices/A20047/schedules/{id}");
    let before_state = schedule_state(&mut conn, id);
    let audits = audit_rows(&mut conn, fx.a);
    let page = check_type_schedule(&session, &path).await;
    assert!(page.contains("id=\"nhs111_confirmed\""));

    let (status, _, refused) = confirm(&session, &path, &page, &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("<title>Error: "), "the NHS error pattern");
    assert!(
        refused.contains(
            "<a href=\"#nhs111_confirmed\">Confirm that NHS 111 will no longer see 1 slot"
        )
    );
    assert_eq!(
        schedule_state(&mut conn, id),
        before_state,
        "nothing changed"
    );
    assert_eq!(audit_rows(&mut conn, fx.a), audits);
    // The refusal keeps the answers, so confirming from it saves.
    let (status, _, _) = confirm(&session, &path, &refused, &[("nhs111_confirmed", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(schedule_state(&mut conn, id).1, ["ods:Y03032"]);
}

#[actix_web::test]
async fn a_change_nhs_111_keeps_its_slots_in_saves_without_a_second_confirmation() {
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let id = schedule_id(&mut conn, fx.a, "TYPE");
    let path = format!("/practices/A20047/schedules/{id}");
    let (_, form) = session.get(&path).await;
    let (token, version) = (csrf(&form), hidden(&form, "version"));
    let mut fields = only_y03032(&token, &version);
    fields.push(("who_types", "urgent-care"));
    let (status, _, page) = session.post(&path, &fields).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("nhs111-warning"), "NHS 111 loses nothing");
    let (status, _, _) = confirm(&session, &path, &page, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        schedule_state(&mut conn, id).1,
        ["type:urgent-care", "ods:Y03032"]
    );
}

#[actix_web::test]
async fn a_check_page_gone_stale_is_refused_and_changes_nothing() {
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let id = schedule_id(&mut conn, fx.a, "TYPE");
    let path = format!("/practices/A20047/schedules/{id}");
    let page = check_type_schedule(&session, &path).await;
    // Someone else saves the schedule meanwhile.
    diesel::update(bookable::db::schema::schedules::table.find(id))
        .set((
            bookable::db::schema::schedules::delivery_channel.eq("Video"),
            bookable::db::schema::schedules::version
                .eq(bookable::db::schema::schedules::version + 1),
        ))
        .execute(&mut conn)
        .unwrap();
    let theirs: ScheduleState = schedule_state(&mut conn, id);
    let audits = audit_rows(&mut conn, fx.a);
    let (status, _, body) = confirm(&session, &path, &page, &[("nhs111_confirmed", "yes")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("someone else saved a change") || body.contains("Someone else saved"));
    assert_eq!(schedule_state(&mut conn, id), theirs);
    assert_eq!(audit_rows(&mut conn, fx.a), audits);
}

fn undo_rows(conn: &mut PgConnection, practice: PracticeId) -> i64 {
    audit_log::table
        .filter(audit_log::practice_id.eq(practice))
        .filter(audit_log::action.eq("undo"))
        .count()
        .get_result(conn)
        .unwrap()
}

#[actix_web::test]
async fn undo_restores_the_previous_settings_in_one_audited_change() {
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let id = schedule_id(&mut conn, fx.a, "TYPE");
    let path = format!("/practices/A20047/schedules/{id}");
    let original = schedule_state(&mut conn, id);
    let page = check_type_schedule(&session, &path).await;
    confirm(&session, &path, &page, &[("nhs111_confirmed", "yes")]).await;
    let audits = audit_rows(&mut conn, fx.a);
    let (_, saved) = session.get("/practices/A20047/saved").await;
    let (status, headers, _) = session
        .post(
            "/practices/A20047/undo",
            &[("csrf_token", csrf(&saved).as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/practices/A20047");
    let restored = schedule_state(&mut conn, id);
    assert_eq!(
        (&restored.0, &restored.1, &restored.2),
        (&original.0, &original.1, &original.2)
    );
    assert_eq!(restored.3, original.3 + 2, "saved, then undone");
    assert_eq!(
        audit_rows(&mut conn, fx.a),
        audits + 1,
        "one change-log row"
    );
    assert_eq!(undo_rows(&mut conn, fx.a), 1);
    // Once only: the undo is used up.
    let token = session.token().await;
    session
        .post("/practices/A20047/undo", &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(schedule_state(&mut conn, id), restored);
}

#[actix_web::test]
async fn undo_is_refused_when_the_slot_changed_since() {
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let slot = fx.id("open-free");
    let path = format!("/practices/A20047/slots/{slot}");
    let (_, form) = session.get(&path).await;
    let (status, _, page) = session
        .post(
            &path,
            &[
                ("csrf_token", csrf(&form).as_str()),
                ("version", hidden(&form, "version").as_str()),
                ("setting", "no"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Check your changes to the slot on"));
    let (status, _, _) = confirm(&session, &path, &page, &[("nhs111_confirmed", "yes")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Someone changes the slot again.
    diesel::update(bookable::db::schema::slots::table.find(slot))
        .set((
            bookable::db::schema::slots::gpc_bookable.eq(Some(true)),
            bookable::db::schema::slots::version.eq(bookable::db::schema::slots::version + 1),
        ))
        .execute(&mut conn)
        .unwrap();
    let theirs: SlotState = slot_state(&mut conn, slot);
    let (_, saved) = session.get("/practices/A20047/saved").await;
    let (status, _, body) = session
        .post(
            "/practices/A20047/undo",
            &[("csrf_token", csrf(&saved).as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("nothing was undone"));
    assert_eq!(slot_state(&mut conn, slot), theirs);
    assert_eq!(undo_rows(&mut conn, fx.a), 0);
}

#[actix_web::test]
async fn a_group_gains_and_loses_members_one_at_a_time_through_the_check_page() {
    use bookable::availability::groups::{self, Target};
    let (app, fx, session) = setup().await;
    let mut conn = app.conn();
    let actor = bookable::change_log::Actor::system("test");
    let hubs = groups::save(
        &mut conn,
        &actor,
        fx.a,
        None,
        "Hubs",
        &[OdsCode::parse("C81001").unwrap()],
    )
    .unwrap();
    let type_schedule = schedule_id(&mut conn, fx.a, "TYPE");
    groups::set_bookable_groups(
        &mut conn,
        &actor,
        fx.a,
        Target::Schedule(type_schedule),
        &[hubs],
    )
    .unwrap();
    let members = |conn: &mut PgConnection| groups::get(conn, fx.a, hubs).unwrap().members;
    let page_path = format!("/practices/A20047/groups/{hubs}");
    let (status, page) = session.get(&page_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"remove-C81001\""));

    // Adding Y12345: it will also see the TYPE slot.
    let add = format!("{page_path}/members");
    let (status, _, check) = session
        .post(
            &add,
            &[("csrf_token", csrf(&page).as_str()), ("ods_code", "y12345")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{check}");
    let rows = impact_rows(&check);
    let y = rows
        .iter()
        .find(|r| r.label == "Y12345 (a GP practice)")
        .unwrap();
    assert_eq!(y.after, y.before + 1);
    for r in &rows {
        assert_eq!(
            r.before,
            bookable_ahead(&mut conn, fx.a, &r.consumer),
            "{}",
            r.label
        );
    }
    assert_eq!(members(&mut conn), ["C81001"], "nothing saved yet");
    let (status, headers, _) = confirm(&session, &add, &check, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/practices/A20047/saved");
    assert_eq!(
        members(&mut conn),
        ["C81001", "Y12345"],
        "added, none replaced"
    );
    for r in &rows {
        assert_eq!(
            r.after,
            bookable_ahead(&mut conn, fx.a, &r.consumer),
            "{}",
            r.label
        );
    }
    // Undone in one change.
    let (_, saved) = session.get("/practices/A20047/saved").await;
    assert!(saved.contains("Added Y12345 to Hubs."), "{saved}");
    let (status, _, _) = session
        .post(
            "/practices/A20047/undo",
            &[("csrf_token", csrf(&saved).as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(members(&mut conn), ["C81001"]);
    assert_eq!(undo_rows(&mut conn, fx.a), 1);

    // Removing C81001: the group's row (as its member) loses the TYPE slot.
    let remove = format!("{page_path}/members/remove");
    let token = session.token().await;
    let (status, _, check) = session
        .post(
            &remove,
            &[("csrf_token", token.as_str()), ("ods_code", "C81001")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{check}");
    let group_row = impact_rows(&check)
        .into_iter()
        .find(|r| r.label == "Hubs (as its member C81001)")
        .unwrap();
    assert_eq!(group_row.after + 1, group_row.before);
    let (status, _, _) = confirm(&session, &remove, &check, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(members(&mut conn).is_empty());
    // A second removal (a stale page) is refused and changes nothing.
    let (status, _, body) = confirm(&session, &remove, &check, &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.contains("C81001 is not a member of this group"),
        "{body}"
    );
}
