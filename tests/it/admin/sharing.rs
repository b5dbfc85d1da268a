//! The sharing rules pages: groups, limits and booking windows edited through the admin UI,
//! with the practice isolation, CSRF and audit every admin change has.

use bookable::availability::limits;
use bookable::availability::query::{self, Consumer};
use bookable::availability::{codes::OdsCode, groups};
use bookable::db::schema::{audit_log, booking_limits, org_groups, schedules};
use bookable::users::Role;
use chrono::Utc;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::fixture::{self, Fixture, day};
use crate::harness::{TestApp, spawn_app};
use crate::support::schedule_id;
use crate::support::web::{Session, add_user, sign_in};

struct Manager {
    session: Session,
    app: TestApp,
    f: Fixture,
}

impl Manager {
    async fn new(role: Role) -> Manager {
        let app = spawn_app().await;
        let f = fixture::load(&mut app.conn());
        add_user(&app, "sharing.user", &[(f.a, role)]);
        let session = sign_in(&app, "sharing.user").await;
        Manager { session, app, f }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        self.session.get(path).await
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let (status, _, body) = self.session.submit(path, form).await;
        (status, body)
    }

    fn audit_rows(&self) -> i64 {
        audit_log::table
            .count()
            .get_result(&mut self.app.conn())
            .unwrap()
    }

    fn schedule(&self, external: &str) -> i64 {
        schedule_id(&mut self.app.conn(), self.f.a, external).0
    }
}

#[actix_web::test]
async fn a_manager_creates_a_group_gives_it_a_schedule_and_its_members_see_the_slots() {
    let m = Manager::new(Role::Manager).await;
    let before = m.audit_rows();
    let (status, _) = m
        .post(
            "/practices/A20047/groups",
            &[
                ("group_id", ""),
                ("group_name", "Our PCN"),
                ("group_members", "c81001, C81002"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(m.audit_rows(), before + 1);
    let (_, page) = m.get("/practices/A20047/sharing").await;
    assert!(
        page.contains("Our PCN") && page.contains("C81001, C81002"),
        "{page}"
    );
    for link in ["/practices/A20047/sharing", "/practices/A20047/reports"] {
        assert!(
            page.contains(&format!("href=\"{link}\"")),
            "the menu links {link}"
        );
        assert_eq!(m.get(link).await.0, StatusCode::OK, "{link}");
    }

    let group = groups::list(&mut m.app.conn(), m.f.a).unwrap()[0]
        .id
        .to_string();
    let ods_schedule = m.schedule("ODS");
    // The group becomes an audience on the schedule's own "Who can book?" (the sharing page
    // no longer asks it again).
    let (_, form) = m
        .get(&format!("/practices/A20047/schedules/{ods_schedule}"))
        .await;
    let version = crate::support::web::hidden(&form, "version");
    let (status, _) = m
        .post(
            &format!("/practices/A20047/schedules/{ods_schedule}"),
            &[
                ("version", &version),
                ("bookable", "yes"),
                ("who", "chosen"),
                ("who_ods", "Y03032"),
                ("who_groups", &group),
                ("practitioner_role", "R0620"),
                ("delivery_channel", "In-person"),
                ("schedule_type", "ODS session"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        !m.get("/practices/A20047/sharing")
            .await
            .1
            .contains("name=\"groups\""),
        "no group checkboxes repeating \"Who can book?\""
    );
    // The booking window goes through its check page first.
    let path = format!("/practices/A20047/schedules/{ods_schedule}/sharing");
    let window = [("from_days", "300"), ("until_minutes", "")];
    let (status, check) = m.post(&path, &window).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        check.contains("Check the booking window of ODS session"),
        "{check}"
    );
    assert_eq!(
        m.audit_rows(),
        before + 2,
        "nothing saved by the check page"
    );
    let (status, _) = m
        .post(&path, &[window[0], window[1], ("step", "confirm")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        m.audit_rows(),
        before + 3,
        "one row for the schedule, one for the window"
    );

    let w = query::SearchWindow::local_days(day(2026, 6, 10), day(2026, 6, 10)).unwrap();
    let member = Consumer::new(None, Some(OdsCode::parse("C81002").unwrap()));
    let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 6, 1, 9, 0, 0).unwrap();
    let seen = query::free_slots(&mut m.app.conn(), m.f.a, &w, &member, at)
        .unwrap()
        .slot_ids();
    assert!(
        seen.contains(&m.f.id("ods-free")),
        "the group's member sees the schedule's slot"
    );
}

#[actix_web::test]
async fn limits_are_added_and_removed_and_bad_input_changes_nothing() {
    let m = Manager::new(Role::Manager).await;
    let count = || {
        booking_limits::table
            .count()
            .get_result::<i64>(&mut m.app.conn())
            .unwrap()
    };
    let before = m.audit_rows();
    for (form, field_error) in [
        (
            vec![
                ("limit_kind", "ods"),
                ("limit_ods_code", "not ods"),
                ("limit_period", "day"),
                ("limit_max", "3"),
            ],
            "is not an ODS code",
        ),
        (
            vec![
                ("limit_kind", "org-type"),
                ("limit_org_type", "urgent-care"),
                ("limit_period", "day"),
                ("limit_max", "0"),
            ],
            "A limit must allow from 1 to 10,000 slots",
        ),
        (
            vec![
                ("limit_kind", "org-type"),
                ("limit_org_type", "urgent-care"),
                ("limit_period", "month"),
                ("limit_max", "2"),
            ],
            "Select a day or a week",
        ),
    ] {
        let (status, page) = m.post("/practices/A20047/limits", &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            page.contains("There is a problem") && page.contains(field_error),
            "{field_error}"
        );
    }
    assert_eq!((count(), m.audit_rows()), (0, before));

    let (status, _) = m
        .post(
            "/practices/A20047/limits",
            &[
                ("limit_schedule", "practice"),
                ("limit_kind", "org-type"),
                ("limit_org_type", "urgent-care"),
                ("limit_period", "week"),
                ("limit_max", "5"),
                ("step", "confirm"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = m.get("/practices/A20047/sharing").await;
    assert!(
        page.contains("Whole practice") && page.contains("5 a week"),
        "{page}"
    );
    let limit = limits::list(&mut m.app.conn(), m.f.a).unwrap()[0].id;
    let (status, _) = m
        .post(
            &format!("/practices/A20047/limits/{limit}/delete"),
            &[("step", "confirm")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!((count(), m.audit_rows()), (0, before + 2));
}

#[actix_web::test]
async fn sharing_rules_are_isolated_per_practice_and_read_only_for_viewers() {
    let m = Manager::new(Role::Manager).await;
    let b_group = groups::save(
        &mut m.app.conn(),
        &bookable::change_log::Actor::system("test"),
        m.f.b,
        None,
        "B hubs",
        &[OdsCode::parse("H00001").unwrap()],
    )
    .unwrap();
    let b_schedule = schedules::table
        .filter(schedules::practice_id.eq(m.f.b))
        .select(schedules::id)
        .first::<bookable::db::ids::ScheduleId>(&mut m.app.conn())
        .unwrap();
    let before = m.audit_rows();
    assert_eq!(
        m.get("/practices/B82617/sharing").await.0,
        StatusCode::NOT_FOUND
    );
    let b_group = b_group.to_string();
    for (path, form) in [
        (
            "/practices/B82617/groups".to_owned(),
            vec![("group_name", "Mine now"), ("group_members", "C81001")],
        ),
        (
            format!("/practices/A20047/groups/{b_group}/members"),
            vec![("ods_code", "C81001"), ("step", "confirm")],
        ),
        (
            format!("/practices/A20047/schedules/{b_schedule}/sharing"),
            vec![("from_days", "3")],
        ),
        (
            "/practices/A20047/limits".to_owned(),
            vec![
                ("limit_schedule", &b_schedule.to_string()),
                ("limit_kind", "org-type"),
                ("limit_org_type", "urgent-care"),
                ("limit_period", "day"),
                ("limit_max", "1"),
            ],
        ),
    ] {
        let (status, page) = m.post(&path, &form).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "POST {path}");
        assert!(!page.contains("B hubs"), "POST {path} leaks B's group");
    }
    let names: Vec<String> = org_groups::table
        .select(org_groups::name)
        .load(&mut m.app.conn())
        .unwrap();
    assert_eq!(names, vec!["B hubs"]);
    assert_eq!(m.audit_rows(), before);

    let viewer = Manager::new(Role::Viewer).await;
    let (status, page) = viewer.get("/practices/A20047/sharing").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("id=\"add-limit\""), "no forms for a viewer");
    let (status, _) = viewer
        .post(
            "/practices/A20047/groups",
            &[("group_name", "X"), ("group_members", "C81001")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn the_slot_page_names_the_limit_or_window_that_hides_a_slot() {
    use bookable::availability::booking::{self, Booker};
    use bookable::availability::codes::OrganisationType;
    use bookable::availability::limits::{BookingWindow, NewSubject, Period, WindowTarget};
    use bookable::change_log::Actor;
    let m = Manager::new(Role::Viewer).await;
    let conn = &mut m.app.conn();
    let actor = Actor::system("test");
    let uc = OrganisationType::parse("urgent-care").unwrap();
    limits::add(
        conn,
        &actor,
        m.f.a,
        None,
        NewSubject::OrgType(uc),
        Period::Day,
        1,
    )
    .unwrap();
    let nlo = |c: &str| OdsCode::parse(c).unwrap();
    let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 6, 1, 9, 0, 0).unwrap();
    booking::book(
        conn,
        &actor,
        m.f.a,
        m.f.id("type-free"),
        &Booker {
            ods_code: nlo("NLO10"),
            org_type: Some("urgent-care".into()),
        },
        at,
    )
    .unwrap();
    let open = m.f.id("open-free");
    let (status, page) = m
        .get(&format!(
            "/practices/A20047/slots/{open}?org_type=urgent-care&ods_code=NLO11"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("at most 1 a day booked by Urgent care (NHS 111), across the practice"),
        "{page}"
    );

    let schedule = bookable::db::ids::ScheduleId(m.schedule("OPEN"));
    let window = BookingWindow {
        from_days: None,
        until_minutes: Some(30),
    };
    limits::set_window(
        conn,
        &actor,
        m.f.a,
        WindowTarget::Schedule(schedule),
        window,
    )
    .unwrap();
    let (_, page) = m
        .get(&format!(
            "/practices/A20047/slots/{open}?org_type=gp-practice"
        ))
        .await;
    assert!(
        page.contains("may book it until 30 minutes before it starts"),
        "{page}"
    );
}
