//! The appointment event feed the practice's clinical system reads (issue 14, item 4): paging
//! with `after=`, long-polling, credential scope, and nothing lost when the server is killed
//! between a booking and its delivery.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bookable::availability::codes::OdsCode;
use bookable::change_log::Actor;
use bookable::credentials;
use bookable::db::ids::PracticeId;
use serde_json::{Value, json};

use super::appointments::{
    AMEND, API_TOKEN, BOOK, CANCEL, CANCELLATION_REASON, Setup, book_body, post_book, put, setup,
    with_scope,
};
use crate::fixture::{PRACTICE_A, PRACTICE_B};

/// Reads the feed of practice A at `address` with these query parameters and `token`.
async fn feed_at(address: &str, token: &str, query: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!(
            "{address}/api/practices/{PRACTICE_A}/appointment-events?{query}"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_eq!(
        resp.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    (status, resp.json().await.unwrap())
}

async fn feed(s: &Setup, query: &str) -> Value {
    let (status, body) = feed_at(&s.app.address, API_TOKEN, query).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn kinds(page: &Value) -> Vec<&str> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect()
}

#[actix_web::test]
async fn the_feed_pages_with_after_in_order_with_slot_ids_and_nhs_number() {
    let s = setup().await;
    // booked, amended, cancelled (first appointment), booked (second).
    let first = post_book(&s.app, &book_body(&s, &s.free[..1])).await.json();
    let id = first["id"].as_str().unwrap().to_owned();
    let mut edit = first.clone();
    edit["description"] = json!("Follow-up video call");
    let amended = put(&s.app, AMEND, &id, "W/\"1\"", &edit).await.json();
    let mut cancel = amended.clone();
    cancel["status"] = json!("cancelled");
    cancel["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "url": CANCELLATION_REASON, "valueString": "Patient is better" }));
    assert_eq!(
        put(&s.app, CANCEL, &id, "W/\"2\"", &cancel).await.status,
        200
    );
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[1..3]))
            .await
            .status,
        201
    );

    let page = feed(&s, "after=0&limit=2").await;
    assert_eq!(kinds(&page), ["booked", "amended"]);
    let events = page["events"].as_array().unwrap();
    let booked = &events[0]["appointment"];
    assert_eq!(booked["appointment_id"].to_string(), id);
    assert_eq!(booked["patient_nhs_number"], "9000000009");
    assert_eq!(booked["slot_ids"], json!(["appt-0900"]));
    assert_eq!(booked["status"], "booked");
    assert_eq!(booked["booking_organisation"]["ods_code"], "Z100");
    assert_eq!(
        events[1]["appointment"]["description"],
        "Follow-up video call"
    );
    assert!(events[0]["seq"].as_i64() < events[1]["seq"].as_i64());
    let last = page["last_seq"].as_i64().unwrap();
    assert_eq!(Some(last), events[1]["seq"].as_i64());

    let page = feed(&s, &format!("after={last}&limit=2")).await;
    assert_eq!(kinds(&page), ["cancelled", "booked"]);
    let events = page["events"].as_array().unwrap();
    assert_eq!(
        events[0]["appointment"]["cancellation_reason"],
        "Patient is better"
    );
    assert_eq!(
        events[1]["appointment"]["slot_ids"],
        json!(["appt-0910", "appt-0920"])
    );
    let last = page["last_seq"].as_i64().unwrap();
    let end = feed(&s, &format!("after={last}")).await;
    assert_eq!(end["events"], json!([]));
    assert_eq!(end["last_seq"].as_i64(), Some(last));
    // Reading again from an earlier cursor delivers the same events again (at-least-once).
    assert_eq!(
        kinds(&feed(&s, "after=0").await),
        ["booked", "amended", "cancelled", "booked"]
    );
}

#[actix_web::test]
async fn a_waiting_read_answers_when_an_event_is_written_and_else_when_the_wait_ends() {
    let s = setup().await;
    let started = Instant::now();
    let empty = feed(&s, "after=0&wait=1").await;
    assert_eq!(empty["events"], json!([]));
    assert_eq!(empty["last_seq"], 0);
    assert!(started.elapsed() >= Duration::from_secs(1));

    let address = s.app.address.clone();
    let waiting = tokio::spawn(async move {
        (
            feed_at(&address, API_TOKEN, "after=0&wait=20").await,
            Instant::now(),
        )
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "the read waits for an event");
    let booked_at = Instant::now();
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[..1])).await.status,
        201
    );
    let ((status, page), answered_at) = waiting.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(kinds(&page), ["booked"]);
    // Woken by the booking (the feed looks every 200 ms), not by the end of its wait.
    assert!(answered_at.duration_since(booked_at) < Duration::from_secs(5));
}

#[actix_web::test]
async fn the_feed_is_scoped_to_the_practices_of_the_credential_and_checks_its_parameters() {
    let s = setup().await;
    assert_eq!(
        post_book(&s.app, &book_body(&s, &s.free[..1])).await.status,
        201
    );
    let mut conn = s.app.conn();
    let (a, b) = (
        practice_id(&mut conn, PRACTICE_A),
        practice_id(&mut conn, PRACTICE_B),
    );
    let actor = Actor::system("test");
    let (_, for_a) = credentials::issue(&mut conn, &actor, "clinical system A", &[a]).unwrap();
    let (_, for_b) = credentials::issue(&mut conn, &actor, "clinical system B", &[b]).unwrap();
    let (status, page) = feed_at(&s.app.address, &for_a, "after=0").await;
    assert_eq!((status, kinds(&page)), (200, vec!["booked"]));
    let (status, body) = feed_at(&s.app.address, &for_b, "after=0").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.get("events").is_none());
    assert_eq!(feed_at(&s.app.address, "wrong", "after=0").await.0, 401);
    let (status, body) = feed_at(
        &s.app.address,
        &for_a,
        "after=-1&wait=31&limit=0&colour=red",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["problems"].as_array().unwrap().len(), 4, "{body}");
}

pub fn practice_id(conn: &mut diesel::PgConnection, ods: &str) -> PracticeId {
    bookable::practice::by_ods(conn, &OdsCode::parse(ods).unwrap())
        .unwrap()
        .unwrap()
        .id
}

/// `bookable serve`, a real process on the test's database.
struct Serve {
    child: Child,
    address: String,
}

impl Serve {
    async fn start(database_url: &str) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("http://127.0.0.1:{port}");
        let child = Command::new(env!("CARGO_BIN_EXE_bookable"))
            .env("DATABASE_URL", database_url)
            .env("BOOKABLE_API_TOKEN", API_TOKEN)
            .env("BOOKABLE_DB_POOL_SIZE", "4")
            .env("RUST_LOG", "warn")
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(format!("{address}/ready")).await
                && r.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "serve did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Serve { child, address }
    }

    /// SIGKILL: no shutdown of any kind.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[actix_web::test]
async fn an_event_booked_before_the_server_is_killed_is_delivered_after_the_restart() {
    let s = setup().await;
    let url = s.app.db.url().to_owned();
    let before = Serve::start(&url).await;
    let res = reqwest::Client::new()
        .post(format!(
            "{}/fhir/{PRACTICE_A}/STU3/1/gpconnect/Appointment",
            before.address
        ))
        .headers(with_scope(BOOK, "patient/*.write"))
        .header("Content-Type", "application/fhir+json")
        .body(serde_json::to_vec(&book_body(&s, &s.free[..1])).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let booked: Value = res.json().await.unwrap();
    // Killed before any reader has seen the event.
    before.kill();
    let after = Serve::start(&url).await;
    let (status, page) = feed_at(&after.address, API_TOKEN, "after=0&wait=5").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(kinds(&page), ["booked"]);
    assert_eq!(
        page["events"][0]["appointment"]["appointment_id"].to_string(),
        booked["id"].as_str().unwrap()
    );
    assert_eq!(
        page["events"][0]["appointment"]["slot_ids"],
        json!(["appt-0900"])
    );
}
