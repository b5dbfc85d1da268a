//! Retention periods: `bookable audit retain` exports and drops every month of the GP Connect
//! request trail older than the period (and nothing newer); `bookable change-log retain` removes
//! only the managers' change-log entries older than its period, after writing them to a file,
//! and the change log stays append-only for everything else.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use bookable::db::schema::{audit_log, gpconnect_audit};
use bookable::fhir::request_trail::RequestTrail;
use bookable::fhir::trail_retention;

use super::retention::{command, entry, exists};
use crate::harness::TestDb;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn folder(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("bk-{name}-{:08x}", rand::random::<u32>()));
    std::fs::create_dir(&dir).unwrap();
    dir
}

fn traces(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["ssp_trace_id"].to_string())
        .collect()
}

#[actix_web::test]
async fn the_trail_keeps_its_retention_period_and_lets_older_months_go_exported() {
    let db = TestDb::new();
    let mut conn = db.conn();
    // January to March 2025, long past; this month's rows are the writer's own.
    trail_retention::ensure_partitions(&mut conn, "2025-01-10T00:00:00Z".parse().unwrap()).unwrap();
    let (trail, writer) = RequestTrail::start(db.pool(2));
    let now = Utc::now().to_rfc3339();
    for (at, trace) in [
        ("2025-01-31T23:59:59Z", "jan"),
        ("2025-02-01T00:00:00Z", "feb-1"),
        ("2025-02-28T12:00:00Z", "feb-2"),
        (now.as_str(), "today"),
    ] {
        trail.record(entry(at, trace)).await;
    }
    assert_eq!(writer.finish().await, 4);
    let dir = folder("retain");
    let dir_arg = dir.to_str().unwrap();

    let out = command(
        &db,
        "audit",
        &["retain", "--keep-months", "0", "--export-dir", dir_arg],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("keep at least this month"),
        "{}",
        stderr(&out)
    );
    assert!(exists(&mut conn, "gpconnect_audit_y2025m01"));

    let out = command(
        &db,
        "audit",
        &["retain", "--keep-months", "3", "--export-dir", dir_arg],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Exported and dropped 2025-01: 1 GP Connect requests."),
        "{said}"
    );
    assert!(
        said.contains("Exported and dropped 2025-02: 2 GP Connect requests."),
        "{said}"
    );
    assert!(
        said.contains("Exported and dropped 2025-03: 0 GP Connect requests."),
        "{said}"
    );
    assert_eq!(
        traces(&dir.join("gpconnect-audit-2025-01.jsonl")),
        ["\"jan\""]
    );
    assert_eq!(
        traces(&dir.join("gpconnect-audit-2025-02.jsonl")),
        ["\"feb-1\"", "\"feb-2\""]
    );
    for month in ["y2025m01", "y2025m02", "y2025m03"] {
        assert!(
            !exists(&mut conn, &format!("gpconnect_audit_{month}")),
            "{month}"
        );
    }
    let left: Vec<Option<String>> = gpconnect_audit::table
        .select(gpconnect_audit::ssp_trace_id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(left, [Some("today".into())]);
    // No half-written file is left beside the exports.
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "gpconnect-audit-2025-01.jsonl",
            "gpconnect-audit-2025-02.jsonl",
            "gpconnect-audit-2025-03.jsonl"
        ]
    );

    // Run again (daily from a scheduled job): nothing more to let go.
    let out = command(
        &db,
        "audit",
        &["retain", "--keep-months", "3", "--export-dir", dir_arg],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing older than 3 months"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn log_entry(conn: &mut PgConnection, at: DateTime<Utc>, action: &str) {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(at),
            audit_log::actor.eq("Pat Manager"),
            audit_log::action.eq(action),
            audit_log::entity.eq("schedule"),
        ))
        .execute(conn)
        .unwrap();
}

#[test]
fn the_change_log_loses_only_entries_older_than_its_retention_period() {
    let db = TestDb::new();
    let mut conn = db.conn();
    let before: i64 = audit_log::table.count().get_result(&mut conn).unwrap();
    log_entry(
        &mut conn,
        "2023-05-01T09:00:00Z".parse().unwrap(),
        "edit 2023",
    );
    log_entry(
        &mut conn,
        "2024-02-01T09:00:00Z".parse().unwrap(),
        "edit 2024",
    );
    log_entry(
        &mut conn,
        Utc::now() - chrono::Duration::days(30),
        "edit last month",
    );

    // Append-only still: no update, and no delete outside the retention command.
    for sql in [
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let err = diesel::sql_query(sql).execute(&mut conn).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }

    let dir = folder("changelog");
    let file = dir.join("change-log.jsonl");
    let file_arg = file.to_str().unwrap();
    let out = command(
        &db,
        "change-log",
        &["retain", "--keep-months", "0", "--out", file_arg],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("keep at least one month"),
        "{}",
        stderr(&out)
    );

    let out = command(
        &db,
        "change-log",
        &["retain", "--keep-months", "12", "--out", file_arg],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("Removed 2 change-log entries older than 12 months"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let written: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["action"].to_string())
        .collect();
    assert_eq!(written, ["\"edit 2023\"", "\"edit 2024\""]);
    let actions: Vec<String> = audit_log::table
        .order(audit_log::id)
        .select(audit_log::action)
        .load(&mut conn)
        .unwrap();
    let kept = &actions[before as usize..];
    assert_eq!(kept, ["edit last month", "remove old change-log entries"]);
    std::fs::remove_dir_all(&dir).unwrap();
}
