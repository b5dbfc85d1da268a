//! Passwords per NIST 800-63B (the shipped common-password list, no all-space, 12 to 256
//! characters) on the command line, the Users page and "Change your password"; a reset or a
//! change ends the user's sessions; sign-in, failed sign-in, lock-out and sign-out in the
//! change log.

use bookable::db::schema::{audit_log, users};
use diesel::prelude::*;
use reqwest::StatusCode;
use reqwest::header::LOCATION;

use super::{PASSWORD, client, csrf, setup, sign_in, try_sign_in};
use crate::fixture::PRACTICE_A;
use crate::harness::TestApp;

fn cli_user_add(app: &TestApp, username: &str, password: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bookable"))
        .env("DATABASE_URL", app.db.url())
        .env("RUST_LOG", "warn")
        .env("BOOKABLE_PASSWORD", password)
        .args([
            "user",
            "add",
            "--username",
            username,
            "--display-name",
            "Jo Bloggs",
            "--practice",
            &format!("{PRACTICE_A}:manager"),
        ])
        .output()
        .unwrap()
}

fn user_exists(app: &TestApp, username: &str) -> bool {
    users::table
        .filter(users::username.eq(username))
        .count()
        .get_result::<i64>(&mut app.conn())
        .unwrap()
        == 1
}

fn logged(app: &TestApp, action: &str) -> Vec<serde_json::Value> {
    audit_log::table
        .filter(audit_log::action.eq(action))
        .order(audit_log::id)
        .select(audit_log::after)
        .load::<Option<serde_json::Value>>(&mut app.conn())
        .unwrap()
        .into_iter()
        .flatten()
        .collect()
}

#[actix_web::test]
async fn the_command_line_refuses_weak_passwords_and_a_reset_ends_the_users_sessions() {
    let (app, _fx) = setup().await;
    for (password, message) in [
        ("aaaaaaaaaaaa", "one character repeated"),
        ("            ", "only spaces"),
        ("1QAZ2WSX3EDC", "too common"),
        ("short", "at least 12 characters"),
    ] {
        let out = cli_user_add(&app, "jo.bloggs", password);
        assert!(!out.status.success(), "{password:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{password:?}: {stderr}");
    }
    assert!(!user_exists(&app, "jo.bloggs"));

    // manager.a signs in twice; a reset of their password from the command line ends both.
    let first = sign_in(&app, "manager.a").await;
    let second = sign_in(&app, "manager.a").await;
    assert_eq!(first.get("/").await.0, StatusCode::OK);
    let out = cli_user_add(&app, "manager.a", "a brand new passphrase");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in [&first, &second] {
        assert_eq!(s.get("/").await.0, StatusCode::SEE_OTHER, "signed out");
    }
    assert_eq!(logged(&app, "reset-password").len(), 1);
    let r = try_sign_in(&client(), &app, "manager.a", PASSWORD).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
}

#[actix_web::test]
async fn the_users_page_refuses_a_common_password() {
    let (app, fx) = setup().await;
    super::add_user(&app, "admin.a", &[(fx.a, bookable::users::Role::Admin)]);
    let admin = sign_in(&app, "admin.a").await;
    let token = csrf(&admin.get(&format!("/practices/{PRACTICE_A}/users")).await.1);
    let (status, _, page) = admin
        .post(
            &format!("/practices/{PRACTICE_A}/users"),
            &[
                ("csrf_token", &token),
                ("display_name", "New Person"),
                ("username", "new.person"),
                ("password", "qwertyuiopasdfghjkl"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("That password is too common"), "{page}");
    assert!(!user_exists(&app, "new.person"));
}

#[actix_web::test]
async fn change_your_password_needs_the_current_one_and_signs_out_elsewhere() {
    let (app, _fx) = setup().await;
    let me = sign_in(&app, "manager.a").await;
    let elsewhere = sign_in(&app, "manager.a").await;
    let (status, page) = me.get("/account/password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Change your password"));
    let token = csrf(&page);
    let change = |current: &'static str, new: &'static str, again: &'static str| {
        let token = token.clone();
        let me = &me;
        async move {
            me.post(
                "/account/password",
                &[
                    ("csrf_token", token.as_str()),
                    ("current_password", current),
                    ("new_password", new),
                    ("confirm_password", again),
                ],
            )
            .await
        }
    };
    for (current, new, again, message) in [
        (
            "not my password",
            "another good passphrase",
            "another good passphrase",
            "Your current password is not right",
        ),
        (
            PASSWORD,
            "1qaz2wsx3edc",
            "1qaz2wsx3edc",
            "That password is too common",
        ),
        (
            PASSWORD,
            "            ",
            "            ",
            "The password must not be only spaces",
        ),
        (
            PASSWORD,
            "another good passphrase",
            "another good passphrasf",
            "The new passwords do not match",
        ),
    ] {
        let (status, _, page) = change(current, new, again).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(page.contains(message), "{message}: {page}");
        assert!(page.contains("nhsuk-error-summary"));
    }
    // Without the form's token: refused before anything runs.
    let (status, _, _) = me
        .post(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another good passphrase"),
                ("confirm_password", "another good passphrase"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        elsewhere.get("/").await.0,
        StatusCode::OK,
        "nothing changed yet"
    );

    let (status, headers, _) = change(
        PASSWORD,
        "another good passphrase",
        "another good passphrase",
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/");
    assert_eq!(me.get("/").await.0, StatusCode::OK, "still signed in here");
    assert_eq!(
        elsewhere.get("/").await.0,
        StatusCode::SEE_OTHER,
        "signed out elsewhere"
    );
    let r = try_sign_in(&client(), &app, "manager.a", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = try_sign_in(&client(), &app, "manager.a", "another good passphrase").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rows = logged(&app, "change-password");
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].to_string().contains("argon2"), "never the hash");
}

#[actix_web::test]
async fn sign_in_events_are_in_the_change_log_and_lock_outs_only_once() {
    let (app, _fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    assert_eq!(logged(&app, "sign-in").len(), 1);
    assert_eq!(logged(&app, "sign-in")[0]["username"], "manager.a");
    let token = session.token().await;
    let (status, _, _) = session.post("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(logged(&app, "sign-out").len(), 1);

    // Five wrong passwords are five failures; the next ten are refused by the limit and
    // logged as one lock-out.
    let c = client();
    for _ in 0..15 {
        try_sign_in(&c, &app, "viewer.a", "wrong password!!").await;
    }
    let failed = logged(&app, "sign-in-failed");
    assert_eq!(failed.len(), 5);
    assert_eq!(failed[0]["username"], "viewer.a");
    assert_eq!(logged(&app, "sign-in-locked-out").len(), 1);
}
