//! The users page: only a practice's admins manage its users, only its own, without ever
//! taking over or resetting another account.

use bookable::db::ids::UserId;
use bookable::db::schema::{audit_log, user_practices, users};
use bookable::users::Role;
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::admin::{PASSWORD, add_user, client, csrf};
use crate::fixture::{self, PRACTICE_A, PRACTICE_B};
use crate::harness::{TestApp, spawn_app};

async fn signed_in(app: &TestApp, username: &str, password: &str) -> Option<reqwest::Client> {
    let c = client();
    let token = csrf(
        &c.get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let r = c
        .post(app.url("/login"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    (r.status() == StatusCode::SEE_OTHER).then_some(c)
}

async fn token(app: &TestApp, c: &reqwest::Client) -> String {
    csrf(
        &c.get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
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
        .count()
        .get_result(&mut app.conn())
        .unwrap()
}

#[actix_web::test]
async fn an_admin_adds_a_user_who_can_then_sign_in() {
    let app = spawn_app().await;
    let fx = fixture::load(&mut app.conn());
    add_user(&app, "admin.a", &[(fx.a, Role::Admin)]);
    let admin = signed_in(&app, "admin.a", PASSWORD).await.unwrap();
    let page = admin
        .get(app.url(&format!("/practices/{PRACTICE_A}/users")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let t = token(&app, &admin).await;
    let r = admin
        .post(app.url(&format!("/practices/{PRACTICE_A}/users")))
        .form(&[
            ("csrf_token", t.as_str()),
            ("display_name", "Sam Reception"),
            ("username", "sam.reception"),
            ("password", "a long enough password"),
            ("role", "viewer"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(user_audit_rows(&app), 1);
    let sam = user_id(&app, "sam.reception");
    assert_eq!(role_at(&app, sam), vec![("viewer".to_owned(), fx.a.0)]);
    assert!(
        signed_in(&app, "sam.reception", "a long enough password")
            .await
            .is_some()
    );

    // Promote, then remove.
    for (role, expected) in [("manager", Some("manager")), ("remove", None)] {
        let r = admin
            .post(app.url(&format!("/practices/{PRACTICE_A}/users/{sam}")))
            .form(&[("csrf_token", t.as_str()), ("role", role)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{role}");
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
        let r = admin
            .post(app.url(&format!("/practices/{PRACTICE_A}/users")))
            .form(&[
                ("csrf_token", t.as_str()),
                ("display_name", "Someone"),
                ("username", username),
                ("password", password),
                ("role", "admin"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains(message), "{message}");
    }
    // The other practice's user was neither taken over nor given a new password.
    let b_user = user_id(&app, "only.b");
    assert_eq!(role_at(&app, b_user), vec![("manager".to_owned(), fx.b.0)]);
    assert!(signed_in(&app, "only.b", PASSWORD).await.is_some());
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
        let c = signed_in(&app, who, PASSWORD).await.unwrap();
        let t = token(&app, &c).await;
        let get = c
            .get(app.url(&format!("/practices/{PRACTICE_A}/users")))
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), StatusCode::FORBIDDEN, "{who}");
        let post = c
            .post(app.url(&format!("/practices/{PRACTICE_A}/users/{viewer}")))
            .form(&[("csrf_token", t.as_str()), ("role", "admin")])
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), StatusCode::FORBIDDEN, "{who}");
    }

    let admin = signed_in(&app, "admin.a", PASSWORD).await.unwrap();
    let t = token(&app, &admin).await;
    let get = admin
        .get(app.url(&format!("/practices/{PRACTICE_B}/users")))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::NOT_FOUND);
    for path in [
        format!("/practices/{PRACTICE_B}/users/{b_admin}"),
        format!("/practices/{PRACTICE_A}/users/{b_admin}"),
    ] {
        let r = admin
            .post(app.url(&path))
            .form(&[("csrf_token", t.as_str()), ("role", "remove")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let r = admin
        .post(app.url(&format!("/practices/{PRACTICE_B}/users")))
        .form(&[
            ("csrf_token", t.as_str()),
            ("display_name", "Intruder"),
            ("username", "intruder"),
            ("password", "a long enough password"),
            ("role", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Nor can an admin change their own access.
    let r = admin
        .post(app.url(&format!("/practices/{PRACTICE_A}/users/{me}")))
        .form(&[("csrf_token", t.as_str()), ("role", "viewer")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

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
