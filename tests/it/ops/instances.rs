//! Two `bookable serve` processes on one database, as behind a load balancer: a session made on
//! one works on the other, the per-account sign-in limit holds across both, and both write one
//! GP Connect audit trail without gaps or duplicates. And the client address behind a trusted
//! proxy.

use std::num::NonZeroU32;
use std::time::Duration;

use base64::Engine;
use bookable::change_log::Actor;
use bookable::db::schema::gpconnect_audit;
use bookable::practice::set_asid;
use bookable::users::{self, Role};
use diesel::prelude::*;

use super::process::Serve;
use super::{PASSWORD, sign_in, try_sign_in};
use crate::fhir::{ASID_A, SEARCH_SLOT, days, headers, q};
use crate::fixture::{self, PRACTICE_A};
use crate::harness::{TestDb, spawn_app_with};

async fn searches(url: String, n: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut traces = Vec::new();
    for _ in 0..n {
        let trace = uuid::Uuid::new_v4().to_string();
        let mut h = headers(SEARCH_SLOT, ASID_A);
        h.insert("Ssp-TraceID", trace.parse().unwrap());
        let r = client
            .get(&url)
            .query(&q(&days("2026-06-10", "2026-06-12")))
            .headers(h)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
        traces.push(trace);
    }
    traces
}

#[actix_web::test]
async fn two_instances_share_sessions_sign_in_limits_and_the_audit_trail() {
    let db = TestDb::new();
    {
        let mut conn = db.conn();
        let f = fixture::load(&mut conn);
        set_asid(&mut conn, &Actor::system("test"), f.a, Some(ASID_A)).unwrap();
        for name in ["manager.jo", "manager.sam"] {
            users::upsert(
                &mut conn,
                &Actor::system("test"),
                name,
                name,
                PASSWORD,
                &[(f.a, Role::Manager)],
            )
            .unwrap();
        }
    }
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 64]>());
    let env = [("BOOKABLE_SESSION_KEY", key.as_str())];
    let mut one = Serve::start(db.url(), &[], &env).await;
    let mut two = Serve::start(db.url(), &[], &env).await;

    // Signed in on one, served on the other (the cookie jar holds it for both: same host).
    let client = sign_in(&one.address, "manager.jo").await;
    let page = client
        .get(two.url(&format!("/practices/{PRACTICE_A}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "the session made on one works on two");

    // Five attempts per account and minute, wherever they land.
    for (i, base) in [&one, &two, &one, &two, &one].iter().enumerate() {
        let c = crate::support::web::client();
        let page = c
            .get(format!("{}/login", base.address))
            .send()
            .await
            .unwrap();
        let token = crate::support::web::csrf(&page.text().await.unwrap());
        let r = c
            .post(format!("{}/login", base.address))
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", "manager.sam"),
                ("password", "not the password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    for s in [&two, &one] {
        let r = try_sign_in(&crate::support::web::client(), &s.address, "manager.sam").await;
        assert_eq!(r.status(), 429, "the right password, over the limit");
    }

    // Both answer GP Connect at once; one trail, one sequence.
    let path = format!("/fhir/{PRACTICE_A}/STU3/1/gpconnect/Slot");
    let a = actix_web::rt::spawn(searches(one.url(&path), 40));
    let b = actix_web::rt::spawn(searches(two.url(&path), 40));
    let mut sent = a.await.unwrap();
    sent.extend(b.await.unwrap());
    for s in [&one, &two] {
        s.signal(libc::SIGTERM);
    }
    assert_eq!(one.wait(Duration::from_secs(20)).await.code(), Some(0));
    assert_eq!(two.wait(Duration::from_secs(20)).await.code(), Some(0));
    let rows: Vec<(i64, Option<String>)> = gpconnect_audit::table
        .select((gpconnect_audit::id, gpconnect_audit::ssp_trace_id))
        .order(gpconnect_audit::id)
        .load(&mut db.conn())
        .unwrap();
    assert_eq!(rows.len(), sent.len(), "one row per request, no more");
    let mut traces: Vec<_> = rows.iter().filter_map(|(_, t)| t.clone()).collect();
    traces.sort();
    sent.sort();
    assert_eq!(traces, sent, "every request's row, none twice");
    let first = rows[0].0;
    for (n, (id, _)) in rows.iter().enumerate() {
        assert_eq!(*id, first + n as i64, "sequence numbers without a gap");
    }
}

/// Attempts from `forwarded_for` (through the test's loopback peer) until refused; how many
/// were let through.
async fn attempts_allowed(base: &str, forwarded_for: &str) -> usize {
    for n in 0..10 {
        let c = crate::support::web::client();
        let page = c.get(format!("{base}/login")).send().await.unwrap();
        let token = crate::support::web::csrf(&page.text().await.unwrap());
        let r = c
            .post(format!("{base}/login"))
            .header("X-Forwarded-For", forwarded_for)
            .form(&[
                ("csrf_token", token.as_str()),
                ("username", format!("nobody{n}").as_str()),
                ("password", "not the password"),
            ])
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            return n;
        }
        assert_eq!(r.status(), 401);
    }
    10
}

#[actix_web::test]
async fn the_client_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy() {
    let limited = |trusted: bool| {
        move |state: &mut bookable::state::AppState| {
            state.admin.login_attempts_per_address = NonZeroU32::new(3).unwrap();
            if trusted {
                state.admin.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            }
        }
    };
    // Behind the trusted proxy (the test's own address), each client has its own limit; a
    // client's own forged entry before the proxy's is not believed.
    let app = spawn_app_with(limited(true)).await;
    assert_eq!(attempts_allowed(&app.address, "198.51.100.1").await, 3);
    assert_eq!(attempts_allowed(&app.address, "198.51.100.2").await, 3);
    assert_eq!(
        attempts_allowed(&app.address, "198.51.100.7, 198.51.100.2").await,
        0,
        "the address the proxy saw"
    );
    // Not trusted: the header is ignored, every attempt is the peer's.
    let app = spawn_app_with(limited(false)).await;
    assert_eq!(attempts_allowed(&app.address, "198.51.100.1").await, 3);
    assert_eq!(attempts_allowed(&app.address, "198.51.100.2").await, 0);
}
