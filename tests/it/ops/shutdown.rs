//! `bookable serve` stopped with SIGTERM while GP Connect consumers keep it busy: it stops
//! accepting, finishes what it had begun, writes the audit row of every request it answered and
//! exits 0.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bookable::change_log::Actor;
use bookable::db::schema::gpconnect_audit;
use bookable::practice::set_asid;
use diesel::prelude::*;

use super::process::Serve;
use crate::fhir::{ASID_A, SEARCH_SLOT, days, headers, q};
use crate::fixture::{self, PRACTICE_A};
use crate::harness::TestDb;

/// What one consumer saw: the trace ids of the requests answered, and any answer cut short.
#[derive(Default)]
struct Seen {
    answered: Vec<(String, u16)>,
    cut: Vec<String>,
    /// Why the consumer stopped: the request the server no longer took.
    ended: Option<String>,
}

/// One consumer sending searches one after another until the server stops answering (bounded
/// in count and time).
async fn consumer(url: String, answers: Arc<AtomicUsize>) -> Seen {
    let client = reqwest::Client::new();
    let mut seen = Seen::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    for _ in 0..5_000 {
        if Instant::now() > deadline {
            break;
        }
        let trace = uuid::Uuid::new_v4().to_string();
        let mut h = headers(SEARCH_SLOT, ASID_A);
        h.insert("Ssp-TraceID", trace.parse().unwrap());
        let sent = client
            .get(&url)
            .query(&q(&days("2026-06-10", "2026-06-12")))
            .headers(h)
            .send()
            .await;
        let res = match sent {
            Ok(res) => res,
            Err(e) => {
                // Refused before any answer began: the server has stopped accepting.
                seen.ended = Some(format!("{e:?}"));
                break;
            }
        };
        let status = res.status().as_u16();
        match res.bytes().await {
            Ok(body) if serde_json::from_slice::<serde_json::Value>(&body).is_ok() => {
                seen.answered.push((trace, status));
                answers.fetch_add(1, Ordering::Relaxed);
            }
            _ => seen.cut.push(trace),
        }
    }
    seen
}

#[actix_web::test]
async fn sigterm_under_load_finishes_every_request_audits_it_and_exits_0() {
    let db = TestDb::new();
    {
        let mut conn = db.conn();
        let f = fixture::load(&mut conn);
        set_asid(&mut conn, &Actor::system("test"), f.a, Some(ASID_A)).unwrap();
    }
    let mut serve = Serve::start(db.url(), &["--shutdown-timeout-s", "10"], &[]).await;
    let url = serve.url(&format!("/fhir/{PRACTICE_A}/STU3/1/gpconnect/Slot"));
    let answers = Arc::new(AtomicUsize::new(0));
    let consumers: Vec<_> = (0..12)
        .map(|_| actix_web::rt::spawn(consumer(url.clone(), answers.clone())))
        .collect();
    // Busy for a while (some hundred answers), then told to stop.
    let deadline = Instant::now() + Duration::from_secs(20);
    while answers.load(Ordering::Relaxed) < 120 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    serve.signal(libc::SIGTERM);
    let status = serve.wait(Duration::from_secs(20)).await;
    let mut answered = Vec::new();
    let mut ended = Vec::new();
    for c in consumers {
        let seen = c.await.unwrap();
        assert!(seen.cut.is_empty(), "answers cut short: {:?}", seen.cut);
        answered.extend(seen.answered);
        ended.extend(seen.ended);
    }
    assert_eq!(status.code(), Some(0), "exit status {status:?}");
    assert!(
        answered.len() > 50,
        "only {} answered; ended by {:?}; log:\n{}",
        answered.len(),
        ended.first(),
        serve.stdout()
    );
    assert!(answered.iter().all(|(_, s)| *s == 200));

    // Every answered request has its row, with the status it was answered.
    let rows: Vec<(Option<String>, i16)> = gpconnect_audit::table
        .select((gpconnect_audit::ssp_trace_id, gpconnect_audit::status))
        .load(&mut db.conn())
        .unwrap();
    let rows: std::collections::HashMap<_, _> = rows
        .into_iter()
        .filter_map(|(t, s)| Some((t?, s)))
        .collect();
    let missing: Vec<_> = answered
        .iter()
        .filter(|(t, s)| rows.get(t) != Some(&(*s as i16)))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered requests have no audit row",
        missing.len(),
        answered.len()
    );
    assert!(
        serve
            .stdout()
            .contains("every queued GP Connect audit row written"),
        "{}",
        serve.stdout()
    );
}
