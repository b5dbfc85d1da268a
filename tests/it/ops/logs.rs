//! `bookable serve --log-format json`: its standard output is JSON lines, one per request
//! answered, carrying the GP Connect `Ssp-TraceID` and the practice.

use std::time::{Duration, Instant};

use bookable::change_log::Actor;
use bookable::practice::set_asid;

use super::process::Serve;
use crate::fhir::{ASID_A, SEARCH_SLOT, days, headers, q};
use crate::fixture::{self, PRACTICE_A};
use crate::harness::TestDb;

#[actix_web::test]
async fn json_logs_carry_the_trace_id_and_the_practice_of_each_request() {
    let db = TestDb::new();
    {
        let mut conn = db.conn();
        let f = fixture::load(&mut conn);
        set_asid(&mut conn, &Actor::system("test"), f.a, Some(ASID_A)).unwrap();
    }
    let serve = Serve::start(db.url(), &["--log-format", "json"], &[]).await;
    let trace = uuid::Uuid::new_v4().to_string();
    let mut h = headers(SEARCH_SLOT, ASID_A);
    h.insert("Ssp-TraceID", trace.parse().unwrap());
    let r = reqwest::Client::new()
        .get(serve.url(&format!("/fhir/{PRACTICE_A}/STU3/1/gpconnect/Slot")))
        .query(&q(&days("2026-06-10", "2026-06-12")))
        .headers(h)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let deadline = Instant::now() + Duration::from_secs(5);
    let line = loop {
        let out = serve.stdout();
        let lines: Vec<serde_json::Value> = out
            .lines()
            .filter(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        if let Some(line) = lines
            .into_iter()
            .find(|l| l["message"] == "request" && l["ssp_trace_id"] == trace.as_str())
        {
            break line;
        }
        assert!(
            Instant::now() < deadline,
            "no request line for {trace}: {out}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(line["practice"], PRACTICE_A);
    assert_eq!(line["status"], 200);
    assert_eq!(line["method"], "GET");
    assert_eq!(
        line["path"],
        format!("/fhir/{PRACTICE_A}/STU3/1/gpconnect/Slot")
    );
    assert_eq!(line["level"], "INFO");
    assert!(line["timestamp"].is_string());
    // Every line of the output is JSON (the start-up lines and the rest).
    for l in serve.stdout().lines() {
        serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"));
    }
}
