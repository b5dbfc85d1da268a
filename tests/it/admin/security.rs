//! Signing in and out, sessions and their limits, sign-in rate limits, the security headers and
//! CSRF.

use super::*;

#[actix_web::test]
async fn sign_in_makes_a_server_side_session_and_sign_out_ends_it() {
    let (app, _fx) = setup().await;
    let client = client();
    let r = try_sign_in(&client, &app, "manager.a", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("bookable_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("bookable_session=")
        .to_owned();

    // The session lives in PostgreSQL, under a hash that is not the cookie.
    let hashes: Vec<Vec<u8>> = admin_sessions::table
        .select(admin_sessions::key_hash)
        .load(&mut app.conn())
        .unwrap();
    assert!(!hashes.is_empty());
    assert!(
        hashes
            .iter()
            .all(|h| h.len() == 32 && !value.as_bytes().windows(32).any(|w| w == h.as_slice()))
    );

    let session = Session {
        client,
        base: app.address.clone(),
    };
    let (status, home) = session.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains(&format!("/practices/{PRACTICE_A}")));
    assert!(
        !home.contains(PRACTICE_B),
        "only the user's own practices are listed"
    );

    // Sign out, then replay the old cookie from another client: the session is gone.
    let token = session.token().await;
    let (status, headers, _) = session.post("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/login?signed_out=1");
    let (status, _) = session.get(&format!("/practices/{PRACTICE_A}")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed out: back to sign-in");
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url(&format!("/practices/{PRACTICE_A}")))
        .header("cookie", format!("bookable_session={value}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert_eq!(replay.headers()[LOCATION], "/login");
}

#[actix_web::test]
async fn an_expired_session_no_longer_signs_in() {
    let (app, _fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    assert_eq!(
        session.get(&format!("/practices/{PRACTICE_A}")).await.0,
        StatusCode::OK
    );
    diesel::update(admin_sessions::table)
        .set(admin_sessions::expires_at.eq(chrono::Utc::now() - chrono::TimeDelta::seconds(1)))
        .execute(&mut app.conn())
        .unwrap();
    assert_eq!(
        session.get(&format!("/practices/{PRACTICE_A}")).await.0,
        StatusCode::SEE_OTHER
    );
}

#[actix_web::test]
async fn a_session_ends_twelve_hours_after_sign_in_however_active() {
    let (app, _fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let home = format!("/practices/{PRACTICE_A}");
    assert_eq!(session.get(&home).await.0, StatusCode::OK);
    let signed_in_13_hours_ago = (chrono::Utc::now() - chrono::TimeDelta::hours(13)).timestamp();
    diesel::sql_query(
        "UPDATE admin_sessions SET state = jsonb_set(state, '{at}', to_jsonb($1::text))",
    )
    .bind::<diesel::sql_types::Text, _>(signed_in_13_hours_ago.to_string())
    .execute(&mut app.conn())
    .unwrap();
    assert_eq!(session.get(&home).await.0, StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn wrong_passwords_are_rate_limited_per_account() {
    let (app, _fx) = setup().await;
    let client = client();
    for _ in 0..5 {
        let r = try_sign_in(&client, &app, "manager.a", "wrong password!!").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Enter a correct username and password")
        );
    }
    // Even the right password is refused until the limit refills.
    let r = try_sign_in(&client, &app, "manager.a", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Too many sign-in attempts")
    );
    // Another account is not locked out by them.
    let r = try_sign_in(&client, &app, "viewer.a", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[actix_web::test]
async fn sign_in_attempts_are_rate_limited_per_address_across_accounts() {
    let (app, _fx) = setup().await;
    let client = client();
    // 30 a minute from one address (a burst of 30, then one more every 2 s), over twenty
    // accounts in turn, so no account reaches its own limit of five before the address does.
    let started = std::time::Instant::now();
    let mut refused_at = None;
    for i in 0..60 {
        let r = try_sign_in(
            &client,
            &app,
            &format!("guess.{}", i % 20),
            "wrong password!!",
        )
        .await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(i);
            break;
        }
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused_at = refused_at.expect("the address was limited");
    let refilled = started.elapsed().as_secs() as usize / 2 + 1;
    assert!(
        (30..=30 + refilled).contains(&refused_at),
        "refused at attempt {refused_at}"
    );
    assert!(
        refused_at / 20 + 1 < 5,
        "by the address limit, not the account's"
    );
}

#[actix_web::test]
async fn admin_pages_carry_the_security_headers_and_the_api_does_not() {
    let app = spawn_app().await;
    let r = reqwest::get(app.url("/login")).await.unwrap();
    let h = r.headers();
    assert_eq!(
        h["content-security-policy"],
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["cache-control"], "no-store");
    let r = reqwest::get(app.url("/health")).await.unwrap();
    assert!(r.headers().get("content-security-policy").is_none());
    assert!(
        r.headers().get("set-cookie").is_none(),
        "no session outside the admin UI"
    );
}

#[actix_web::test]
async fn a_post_without_a_valid_csrf_token_changes_nothing() {
    let (app, fx) = setup().await;
    let session = sign_in(&app, "manager.a").await;
    let conn = &mut app.conn();
    let open = schedule_id(conn, fx.a, "OPEN");
    let before = schedule_state(conn, open);
    let audit_before = audit_rows(conn, fx.a);
    let path = format!("/practices/{PRACTICE_A}/schedules/{open}");
    let v = before.3.to_string();

    let mut missing = schedule_form("", &v, "no");
    missing.retain(|(k, _)| *k != "csrf_token");
    let (status, _, body) = session.post(&path, &missing).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("This form has expired"));
    let wrong = "0".repeat(64);
    let (status, _, _) = session.post(&path, &schedule_form(&wrong, &v, "no")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The right token from a foreign origin.
    let token = session.token().await;
    let r = session
        .client
        .post(app.url(&path))
        .header("origin", "https://evil.example")
        .form(&schedule_form(&token, &v, "no"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Sign-out needs the token too.
    let (status, _, _) = session.post("/logout", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    assert_eq!(schedule_state(conn, open), before);
    assert_eq!(audit_rows(conn, fx.a), audit_before);
    // The same form with the token is saved.
    let (status, _, _) = session.post(&path, &schedule_form(&token, &v, "no")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!schedule_state(conn, open).0);
}
