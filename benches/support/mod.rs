//! The foundation benchmark's data set, shared by the benchmarks that run on it: the synthetic
//! practices in a private PostgreSQL, full size under `cargo bench`, small when
//! `cargo test --all-targets` runs each benchmark once as a test.

use bookable::availability::query;
use bookable::db;
use bookable::db::pg_local::LocalPostgres;
use bookable::seed::synthetic;
use chrono::NaiveDate;
use diesel::prelude::*;

// Each benchmark, a crate of its own, reads only the fields it needs.
#[allow(dead_code)]
pub struct SyntheticSet {
    /// Keeps the private PostgreSQL running while the benchmark does.
    pub pg: LocalPostgres,
    pub conn: PgConnection,
    pub practices: i32,
    pub weeks: i32,
    /// The Monday the data set starts on, 2 March 2026.
    pub first_monday: NaiveDate,
    pub slots: i64,
}

/// 200 practices × 26 weeks (≈ 6 million slots) under `cargo bench`, else 2 × 3.
pub fn synthetic_set() -> SyntheticSet {
    let full = std::env::args().any(|a| a == "--bench");
    let (practices, weeks) = if full { (200, 26) } else { (2, 3) };
    let pg = LocalPostgres::start().unwrap();
    diesel::sql_query("CREATE DATABASE bench")
        .execute(&mut PgConnection::establish(&pg.url("postgres")).unwrap())
        .unwrap();
    let mut conn = PgConnection::establish(&pg.url("bench")).unwrap();
    db::migrate(&mut conn).unwrap();
    let first_monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let started = std::time::Instant::now();
    synthetic::generate(
        &mut conn,
        practices,
        weeks,
        query::local_midnight(first_monday),
    )
    .unwrap();
    let slots: i64 = bookable::db::schema::slots::table
        .count()
        .get_result(&mut conn)
        .unwrap();
    eprintln!(
        "generated {slots} slots for {practices} practices × {weeks} weeks in {:.1?}",
        started.elapsed()
    );
    SyntheticSet {
        pg,
        conn,
        practices,
        weeks,
        first_monday,
        slots,
    }
}
