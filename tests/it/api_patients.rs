//! `POST /api/practices/{ODS}/patients`: the patient import over HTTP, all or nothing, with
//! every problem listed, and bodies bounded.

use bookable::api::ApiSettings;
use bookable::db::schema::{audit_log, patients};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::fixture::{self, PRACTICE_A};
use crate::harness::{TestApp, spawn_app_with};
use crate::patients_import::patient;

const TOKEN: &str = "test-api-token-patients-0123";

async fn app() -> TestApp {
    let app = spawn_app_with(|s| s.api = ApiSettings::with_all_practices_token(TOKEN)).await;
    fixture::load(&mut app.conn());
    app
}

async fn post(app: &TestApp, ods: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(app.url(&format!("/api/practices/{ods}/patients")))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn written(app: &TestApp) -> (i64, i64) {
    let mut conn = app.conn();
    (
        patients::table.count().get_result(&mut conn).unwrap(),
        audit_log::table
            .filter(audit_log::entity.eq("patient"))
            .count()
            .get_result(&mut conn)
            .unwrap(),
    )
}

#[actix_web::test]
async fn imports_then_changes_nothing_the_second_time() {
    let app = app().await;
    let doc = json!({"practice": PRACTICE_A, "patients": [patient("9000000009", "Smith")]});
    let (status, body) = post(&app, PRACTICE_A, doc.to_string().into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"created": 1, "updated": 0, "unchanged": 0}));
    let (_, again) = post(&app, PRACTICE_A, doc.to_string().into_bytes()).await;
    assert_eq!(again["unchanged"], 1);
    assert_eq!(written(&app), (1, 1));
}

#[actix_web::test]
async fn bad_documents_are_refused_with_every_problem_and_nothing_written() {
    let app = app().await;
    let mut bad = patient("9000000008", "Check");
    bad["preferred_branch"] = json!("NOWHERE");
    let doc = json!({"practice": PRACTICE_A, "patients": [
        patient("9000000009", "Smith"), bad, patient("9000000009", "Twice")]});
    let (status, body) = post(&app, PRACTICE_A, doc.to_string().into_bytes()).await;
    assert_eq!(status, 422, "{body}");
    let problems: Vec<&str> = body["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("check digit is wrong"));
    assert!(problems[1].contains("unknown location 'NOWHERE'"));
    assert!(problems[2].contains("is also patients[0]"));

    let (status, body) = post(
        &app,
        PRACTICE_A,
        b"{\"practice\": \"A20047\", \"patients\": [".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("not valid JSON"));

    let other = json!({"practice": "B82617", "patients": [patient("9000000009", "Smith")]});
    let (status, _) = post(&app, PRACTICE_A, other.to_string().into_bytes()).await;
    assert_eq!(status, 422, "a document for another practice");

    // 10 MB: refused before it is read whole.
    let (status, body) = post(&app, PRACTICE_A, vec![b' '; 10 * 1024 * 1024]).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(written(&app), (0, 0));
}
