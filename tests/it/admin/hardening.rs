//! Sign-in hardening: no session row before someone signs in, expired sessions purged on a
//! schedule, the audit-log filters capped, HSTS, the `__Host-` cookie prefix and the Origin
//! check's scheme.

use bookable::admin::session_store;
use bookable::availability::manage::{self, AuditFilter};
use bookable::db::schema::admin_sessions;
use bookable::users::Role;
use diesel::prelude::*;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, ORIGIN, SET_COOKIE};

use super::{PASSWORD, add_user, client, csrf, setup, sign_in};
use crate::fixture::PRACTICE_A;
use crate::harness::spawn_app_with;

fn session_rows(conn: &mut PgConnection) -> i64 {
    admin_sessions::table.count().get_result(conn).unwrap()
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn two_hundred_anonymous_sign_in_pages_store_no_session() {
    let (app, _fx) = setup().await;
    for _ in 0..200 {
        // A new browser each time, as a crawler or an attacker would be.
        let r = client().get(app.url("/login")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(csrf(&r.text().await.unwrap()).len() == 64);
    }
    let r = client().get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&mut app.conn()), 0);

    // The sign-in form still works, and makes the one row.
    sign_in(&app, "manager.a").await;
    assert_eq!(session_rows(&mut app.conn()), 1);
}

#[actix_web::test]
async fn the_sign_in_form_needs_its_own_cookie_token() {
    let (app, _fx) = setup().await;
    // A token from one browser is worth nothing in another (no cookie, or another's).
    let page = client().get(app.url("/login")).send().await.unwrap();
    let token = csrf(&page.text().await.unwrap());
    let other = client();
    other.get(app.url("/login")).send().await.unwrap();
    for c in [client(), other] {
        let r = c
            .post(app.url("/login"))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "manager.a"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }
    // A forged cookie (the token without its signature) is refused too.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", format!("bookable_sign_in={token}"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "manager.a"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(session_rows(&mut app.conn()), 0);
}

#[actix_web::test]
async fn expired_sessions_are_purged_by_the_schedule_not_by_page_loads() {
    let (app, _fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let other = sign_in(&app, "viewer.a").await;
    diesel::update(admin_sessions::table)
        .set(admin_sessions::expires_at.eq(chrono::Utc::now() - chrono::TimeDelta::seconds(1)))
        .execute(&mut app.conn())
        .unwrap();
    // Expired: refused at once, but a page load deletes nothing.
    assert_eq!(session.get("/").await.0, StatusCode::SEE_OTHER);
    assert_eq!(other.get("/").await.0, StatusCode::SEE_OTHER);
    assert_eq!(session_rows(&mut app.conn()), 2);
    assert_eq!(session_store::purge_expired(&mut app.conn()).unwrap(), 2);
    assert_eq!(session_rows(&mut app.conn()), 0);
}

#[actix_web::test]
async fn the_audit_log_filters_are_capped_and_match_wildcards_literally() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let long = "%_".repeat(2000);
    let (status, page) = session
        .get(&format!("/practices/{PRACTICE_A}/audit?actor={long}"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Enter 100 characters or fewer"), "{page}");
    assert!(page.contains("nhsuk-error-summary"));
    // `%` and `_` match themselves: the fixture's rows are by "test", which "t_st" and "%"
    // would match as patterns.
    let entries = |actor: &str| {
        let filter = AuditFilter {
            actor: Some(actor.to_owned()),
            ..AuditFilter::default()
        };
        manage::audit_entries(&mut app.conn(), fx.a, &filter, 500)
            .unwrap()
            .len()
    };
    assert!(entries("tes") > 0);
    assert_eq!(entries("t_st"), 0);
    assert_eq!(entries("%"), 0);
    assert_eq!(entries(&"e".repeat(101)), 0, "over the cap: nothing asked");
}

#[actix_web::test]
async fn hsts_is_sent_when_set_and_not_otherwise() {
    let (app, _fx) = setup().await;
    let r = client().get(app.url("/login")).send().await.unwrap();
    assert!(r.headers().get("strict-transport-security").is_none());
    let app = spawn_app_with(|s| s.admin.hsts = true).await;
    let r = client().get(app.url("/login")).send().await.unwrap();
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );
}

#[actix_web::test]
async fn secure_cookies_get_the_host_prefix() {
    let app = spawn_app_with(|s| s.admin.cookie_secure = true).await;
    let fx = crate::fixture::load(&mut app.conn());
    add_user(&app, "manager.a", &[(fx.a, Role::Manager)]);
    // The client keeps no cookies: Secure ones would not be sent back over plain HTTP.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = bare.get(app.url("/login")).send().await.unwrap();
    let cookie = set_cookies(&page)
        .into_iter()
        .find(|c| c.starts_with("__Host-bookable_sign_in="))
        .expect("the sign-in token's cookie");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();
    let token = csrf(&page.text().await.unwrap());
    let r = bare
        .post(app.url("/login"))
        .header("cookie", pair)
        .form(&[
            ("csrf_token", token.as_str()),
            ("username", "manager.a"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("__Host-bookable_session="))
        .expect("the session cookie, prefixed");
    assert!(
        session.contains("Secure") && session.contains("Path=/"),
        "{session}"
    );
    assert!(!session.contains("Domain"), "{session}");
}

#[actix_web::test]
async fn the_origin_check_compares_the_scheme() {
    let (app, _fx) = setup().await;
    let c = client();
    let page = c.get(app.url("/login")).send().await.unwrap();
    let token = csrf(&page.text().await.unwrap());
    let host = app.address.trim_start_matches("http://").to_owned();
    let post = |origin: String| {
        c.post(app.url("/login"))
            .header(ORIGIN, origin)
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "manager.a"),
                ("password", PASSWORD),
            ])
            .send()
    };
    let r = post(format!("https://{host}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "same host, other scheme");
    let r = post(format!("http://{host}")).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/");
}
