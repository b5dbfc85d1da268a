//! The users page: only a practice's admins manage its users, only its own, without ever
//! taking over or resetting another account.

use bookable::db::ids::UserId;
use bookable::db::schema::{audit_log, user_practices, users};
use bookable::users::Role;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::fixture::{self, PRACTICE_A, PRACTICE_B};
use crate::harness::{TestApp, spawn_app};
use crate::support::web::{PASSWORD, add_user, client, sign_in, try_sign_in};

/// Whether `username` can sign in with `password`.
async fn can_sign_in(app: &TestApp, username: &str, password: &str) -> bool {
    try_sign_in(&client(), app, username, password)
        .await
        .status()
        == StatusCode::SEE_OTHER
}

fn user_id(app: &TestApp, username: &str) -> UserId {
    users::table
        .filter(users::username.eq(username))
        .select(users::id)
        .first(&mut app.conn())
        .unwrap()
}

fn role_at(app: &TestApp, user: UserId) -> Vec<(String, i64)> {
    user_practices::table
        .filter(user_practices::user_id.eq(user))
        .select((user_practices::role, user_practices::practice_id))
        .load::<(String, bookable::db::ids::PracticeId)>(&mut app.conn())
        .unwrap()
        .into_iter()
        .map(|(r, p)| (r, p.0))
        .collect()
}

fn user_audit_rows(app: &TestApp) -> i64 {
    audit_log::table
        .filter(audit_log::entity.eq("user"))
        .filter(audit_log::user_id.is_not_null())
        // Changes to a practice's users, not anyone's sign-ins (which belong to no practice).
        .filter(audit_log::practice_id.is_not_null())
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn an_admin_adds_a_user_who_can_then_sign_in() {
    let app = spawn_app().await;
    let fx = fixture::load(&mut app.conn());
    add_user(&app, "admin.a", &[(fx.a, Role::Admin)]);
    let admin = sign_in(&app, "admin.a").await;
    let users_page = format!("/practices/{PRACTICE_A}/users");
    assert_eq!(admin.get(&users_page).await.0, StatusCode::OK);
    let (status, _, _) = admin
        .submit(
            &users_page,
            &[
                ("display_name", "Sam Reception"),
                ("username", "sam.reception"),
                ("password", "a long enough password"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(user_audit_rows(&app), 1);
    let sam = user_id(&app, "sam.reception");
    assert_eq!(role_at(&app, sam), vec![("viewer".to_owned(), fx.a.0)]);
    assert!(can_sign_in(&app, "sam.reception", "a long enough password").await);

    // Promote, then remove.
    for (role, expected) in [("manager", Some("manager")), ("remove", None)] {
        let (status, _, _) = admin
            .submit(&format!("{users_page}/{sam}"), &[("role", role)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{role}");
        assert_eq!(
            role_at(&app, sam),
            expected
                .map(|r| vec![(r.to_owned(), fx.a.0)])
                .unwrap_or_default()
        );
    }
    assert_eq!(user_audit_rows(&app), 3);

    // A short password and a taken username are refused with field errors.
    add_user(&app, "only.b", &[(fx.b, Role::Manager)]);
    for (username, password, message) in [
        ("new.person", "short", "at least 12 characters"),
        ("only.b", "another long password", "That username is taken"),
    ] {
        let (status, _, body) = admin
            .submit(
                &users_page,
                &[
                    ("display_name", "Someone"),
                    ("username", username),
                    ("password", password),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains(message), "{message}");
    }
    // The other practice's user was neither taken over nor given a new password.
    let b_user = user_id(&app, "only.b");
    assert_eq!(role_at(&app, b_user), vec![("manager".to_owned(), fx.b.0)]);
    assert!(can_sign_in(&app, "only.b", PASSWORD).await);
    assert_eq!(user_audit_rows(&app), 3);
}

#[actix_web::test]
async fn only_a_practices_admins_manage_only_its_users() {
    let app = spawn_app().await;
    let fx = fixture::load(&mut app.conn());
    add_user(&app, "admin.a", &[(fx.a, Role::Admin)]);
    add_user(&app, "manager.a", &[(fx.a, Role::Manager)]);
    add_user(&app, "viewer.a", &[(fx.a, Role::Viewer)]);
    add_user(&app, "admin.b", &[(fx.b, Role::Admin)]);
    let b_admin = user_id(&app, "admin.b");
    let me = user_id(&app, "admin.a");
    let viewer = user_id(&app, "viewer.a");

    for who in ["manager.a", "viewer.a"] {
        let c = sign_in(&app, who).await;
        let (status, _) = c.get(&format!("/practices/{PRACTICE_A}/users")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        let (status, _, _) = c
            .submit(
                &format!("/practices/{PRACTICE_A}/users/{viewer}"),
                &[("role", "admin")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }

    let admin = sign_in(&app, "admin.a").await;
    let (status, _) = admin.get(&format!("/practices/{PRACTICE_B}/users")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in [
        format!("/practices/{PRACTICE_B}/users/{b_admin}"),
        format!("/practices/{PRACTICE_A}/users/{b_admin}"),
    ] {
        let (status, _, _) = admin.submit(&path, &[("role", "remove")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = admin
        .submit(
            &format!("/practices/{PRACTICE_B}/users"),
            &[
                ("display_name", "Intruder"),
                ("username", "intruder"),
                ("password", "a long enough password"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nor can an admin change their own access.
    let (status, _, _) = admin
        .submit(
            &format!("/practices/{PRACTICE_A}/users/{me}"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    assert_eq!(role_at(&app, b_admin), vec![("admin".to_owned(), fx.b.0)]);
    assert_eq!(role_at(&app, me), vec![("admin".to_owned(), fx.a.0)]);
    assert_eq!(role_at(&app, viewer), vec![("viewer".to_owned(), fx.a.0)]);
    assert_eq!(user_audit_rows(&app), 0);
    let intruders: i64 = users::table
        .filter(users::username.eq("intruder"))
        .count()
        .get_result(&mut app.conn())
        .unwrap();
    assert_eq!(intruders, 0);
}
