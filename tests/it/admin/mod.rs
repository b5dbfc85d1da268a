//! The admin UI over HTTP against a real server and database, one file per concern: sign-in
//! and security, practice isolation and roles, edits, the read-only pages, users, sharing
//! rules, and end to end in a browser. The rows and forms the files share are here; the
//! client and sign-in are `crate::support::web`.

mod accessibility;
mod appointments_page;
mod e2e;
mod e2e_tasks;
mod edits;
mod hardening;
mod impact;
mod isolation;
mod passwords;
mod practice_systems;
mod security;
mod settings_ranges;
mod sharing;
mod users;
mod views;

use bookable::db::ids::{ScheduleId, SlotId};
use bookable::db::schema::{admin_sessions, audit_log, schedules, slots};
use bookable::users::Role;
use diesel::prelude::*;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};

use crate::fixture::{self, Fixture, PRACTICE_A, PRACTICE_B};
use crate::harness::{TestApp, spawn_app};
use crate::support::schedule_id;
use crate::support::web::{
    PASSWORD, Session, add_user, client, csrf, hidden, sign_in, try_sign_in,
};

/// The hidden version field of a form.
fn hidden_version(html: &str) -> String {
    hidden(html, "version")
}

/// Posts `fields` to `path` with the CSRF token and the record's version of `page`, the form as
/// it was loaded, confirmed as from its check page.
async fn save(
    session: &Session,
    path: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, HeaderMap, String) {
    let (token, version) = (csrf(page), hidden_version(page));
    let mut form = vec![
        ("csrf_token", token.as_str()),
        ("version", version.as_str()),
        ("step", "confirm"),
        ("nhs111_confirmed", "yes"),
    ];
    form.extend_from_slice(fields);
    session.post(path, &form).await
}

fn audit_rows(conn: &mut PgConnection, practice: bookable::db::ids::PracticeId) -> i64 {
    audit_log::table
        .filter(audit_log::practice_id.eq(practice))
        .filter(audit_log::user_id.is_not_null())
        .count()
        .get_result(conn)
        .unwrap()
}

type SlotState = (Option<bool>, Vec<String>, i32);

fn slot_state(conn: &mut PgConnection, id: SlotId) -> SlotState {
    slots::table
        .find(id)
        .select((slots::gpc_bookable, slots::audiences, slots::version))
        .first(conn)
        .unwrap()
}

type ScheduleState = (bool, Vec<String>, Option<String>, i32);

fn schedule_state(conn: &mut PgConnection, id: ScheduleId) -> ScheduleState {
    schedules::table
        .find(id)
        .select((
            schedules::gpc_bookable,
            schedules::audiences,
            schedules::delivery_channel,
            schedules::version,
        ))
        .first(conn)
        .unwrap()
}

/// Both practices' rota, a manager of A only and a viewer of A.
async fn setup() -> (TestApp, Fixture) {
    let app = crate::harness::spawn_app_with(|s| {
        s.clock = bookable::clock::Clock::fixed(fixture::before_every_slot())
    })
    .await;
    let fx = fixture::load(&mut app.conn());
    add_user(&app, "manager.a", &[(fx.a, Role::Manager)]);
    add_user(&app, "viewer.a", &[(fx.a, Role::Viewer)]);
    (app, fx)
}

/// Loads a schedule's form and saves it with the usual settings, bookable or not.
async fn save_schedule(
    session: &Session,
    path: &str,
    bookable: &str,
) -> (StatusCode, HeaderMap, String) {
    let (_, page) = session.get(path).await;
    let (token, version) = (csrf(&page), hidden_version(&page));
    session
        .post(path, &schedule_form(&token, &version, bookable))
        .await
}

fn schedule_form<'a>(
    token: &'a str,
    version: &'a str,
    bookable: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf_token", token),
        ("version", version),
        ("bookable", bookable),
        ("who", "chosen"),
        ("who_types", "urgent-care"),
        ("who_ods", ""),
        ("practitioner_role", "R0260"),
        ("delivery_channel", "In-person"),
        ("schedule_type", "GP morning surgery"),
        // Saved at once, as confirmed on its check page (tests/it/admin/impact.rs has the page).
        ("step", "confirm"),
        ("nhs111_confirmed", "yes"),
    ]
}
