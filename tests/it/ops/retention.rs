//! The GP Connect request trail partitioned by month: rows written across a month boundary land
//! in their months' partitions, the writer makes partitions ahead, and `bookable audit export`
//! and `drop` keep a month only until it is exported (refusing otherwise).

use chrono::{DateTime, Datelike, Months, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;

use bookable::db::schema::gpconnect_audit;
use bookable::fhir::request_trail::{Entry, RequestTrail};
use bookable::fhir::trail_retention;

use crate::harness::TestDb;

pub(super) fn entry(at: &str, trace: &str) -> Entry {
    Entry {
        at: at.parse::<DateTime<Utc>>().unwrap(),
        practice_ods: "A20047".into(),
        method: "GET".into(),
        path_query: "/fhir/A20047/STU3/1/gpconnect/metadata".into(),
        ssp_trace_id: Some(trace.into()),
        ssp_from: None,
        ssp_to: None,
        interaction: None,
        status: 200,
        error_code: None,
        jwt_claims: Some(serde_json::json!({ "iss": "https://consumer.example/" })),
        sanitised: false,
    }
}

#[derive(QueryableByName)]
struct Placed {
    #[diesel(sql_type = Text)]
    partition: String,
    #[diesel(sql_type = Text)]
    trace: String,
}

pub(super) fn exists(conn: &mut PgConnection, table: &str) -> bool {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS found")
        .bind::<Text, _>(table)
        .get_result::<Found>(conn)
        .unwrap()
        .found
}

fn bookable(db: &TestDb, args: &[&str]) -> std::process::Output {
    command(db, "audit", args)
}

/// `bookable <area> <args…>` on the test's database, run to its end.
pub(super) fn command(db: &TestDb, area: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_bookable"))
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .arg(area)
        .args(args)
        .output()
        .unwrap()
}

#[actix_web::test]
async fn months_are_partitioned_exported_and_dropped_only_once_exported() {
    let db = TestDb::new();
    let mut conn = db.conn();
    // Partitions for the past months the test writes (the writer makes them from now on).
    trail_retention::ensure_partitions(&mut conn, "2026-10-15T00:00:00Z".parse().unwrap()).unwrap();

    let (trail, writer) = RequestTrail::start(db.pool(2));
    for (at, trace) in [
        ("2026-10-31T23:59:59.999Z", "oct-1"),
        ("2026-10-31T23:59:59.999999Z", "oct-2"),
        ("2026-11-01T00:00:00Z", "nov-1"),
        ("2026-11-01T00:00:00.000001Z", "nov-2"),
        ("2026-11-30T23:00:00Z", "nov-3"),
    ] {
        trail.record(entry(at, trace)).await;
    }
    assert_eq!(writer.finish().await, 5);
    // Each in its month's partition, whatever the database's time zone.
    let placed: Vec<Placed> = diesel::sql_query(
        "SELECT tableoid::regclass::text AS partition, ssp_trace_id AS trace
         FROM gpconnect_audit ORDER BY id",
    )
    .load(&mut conn)
    .unwrap();
    let placed: Vec<_> = placed
        .iter()
        .map(|p| (p.trace.as_str(), p.partition.as_str()))
        .collect();
    assert_eq!(
        placed,
        [
            ("oct-1", "gpconnect_audit_y2026m10"),
            ("oct-2", "gpconnect_audit_y2026m10"),
            ("nov-1", "gpconnect_audit_y2026m11"),
            ("nov-2", "gpconnect_audit_y2026m11"),
            ("nov-3", "gpconnect_audit_y2026m11"),
        ]
    );
    // The writer made this month's and the next two months' partitions.
    let in_two = Utc::now().date_naive().with_day(1).unwrap() + Months::new(2);
    assert!(exists(
        &mut conn,
        &format!("gpconnect_audit_y{}m{:02}", in_two.year(), in_two.month())
    ));

    // Not exported: refused, nothing dropped.
    let out = bookable(&db, &["drop", "--month", "2026-10"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "2026-10 has not been exported: run `bookable audit export --month 2026-10` first"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(exists(&mut conn, "gpconnect_audit_y2026m10"));

    // Exported: every row of the month, in order, as JSON lines; then dropped.
    let file = std::env::temp_dir().join(format!("bk-audit-{}.jsonl", std::process::id()));
    let out = bookable(
        &db,
        &[
            "export",
            "--month",
            "2026-10",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    std::fs::remove_file(&file).unwrap();
    let traces: Vec<_> = lines.iter().map(|l| l["ssp_trace_id"].clone()).collect();
    assert_eq!(traces, ["oct-1", "oct-2"]);
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["jwt_claims"]["iss"], "https://consumer.example/");
    assert!(lines[0]["id"].as_i64().unwrap() < lines[1]["id"].as_i64().unwrap());
    let out = bookable(&db, &["drop", "--month", "2026-10"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!exists(&mut conn, "gpconnect_audit_y2026m10"));
    let left: Vec<Option<String>> = gpconnect_audit::table
        .select(gpconnect_audit::ssp_trace_id)
        .order(gpconnect_audit::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        left,
        [
            Some("nov-1".into()),
            Some("nov-2".into()),
            Some("nov-3".into())
        ]
    );

    // A month that gained a row after its export is refused until exported again.
    let file = std::env::temp_dir().join(format!("bk-audit-nov-{}.jsonl", std::process::id()));
    let out = bookable(
        &db,
        &[
            "export",
            "--month",
            "2026-11",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.status.success());
    std::fs::remove_file(&file).unwrap();
    let (trail, writer) = RequestTrail::start(db.pool(2));
    trail
        .record(entry("2026-11-15T12:00:00Z", "nov-late"))
        .await;
    writer.finish().await;
    let out = bookable(&db, &["drop", "--month", "2026-11"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2026-11 has 4 rows but 3 were exported"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(exists(&mut conn, "gpconnect_audit_y2026m11"));

    // This month is never dropped, exported or not.
    let this_month = Utc::now().format("%Y-%m").to_string();
    let out = bookable(&db, &["drop", "--month", &this_month]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only a month that has ended"));
    let out = bookable(&db, &["drop", "--month", "2026-13"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a month"));
}
