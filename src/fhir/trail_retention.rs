//! Keeping the GP Connect request trail: `gpconnect_audit` is partitioned by calendar month
//! (UTC); partitions are made ahead of time by the trail's writer, a month is exported whole as
//! JSON lines (`bookable audit export`) and only then dropped (`bookable audit drop`), which
//! refuses a month not exported, one that gained rows since its export, and the current month.
//! `bookable audit retain` does both for every month older than the retention period.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz};

use crate::db::schema::{gpconnect_audit, gpconnect_audit_exports};

/// A calendar month of the trail, in UTC: `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(NaiveDate);

impl std::str::FromStr for Month {
    type Err = RetentionError;

    fn from_str(s: &str) -> Result<Month, RetentionError> {
        let bad = || RetentionError::BadMonth(s.to_owned());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let first = NaiveDate::from_ymd_opt(
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            1,
        )
        .ok_or_else(bad)?;
        Ok(Month(first))
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m"))
    }
}

impl Month {
    pub fn of(at: DateTime<Utc>) -> Month {
        Month(at.date_naive().with_day(1).expect("day 1 exists"))
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    fn next(self) -> Month {
        Month(self.0 + Months::new(1))
    }

    fn back(self, months: u32) -> Month {
        Month(self.0 - Months::new(months))
    }

    /// The month a partition's table name stands for (`None` for the default partition).
    fn of_partition(name: &str) -> Option<Month> {
        let (y, m) = name.strip_prefix("gpconnect_audit_y")?.split_once('m')?;
        format!("{y}-{m}").parse().ok()
    }

    fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.0.and_time(chrono::NaiveTime::MIN))
    }

    /// The partition's table name, as `gpconnect_audit_partition()` names it.
    fn partition(self) -> String {
        format!("gpconnect_audit_y{}m{:02}", self.0.year(), self.0.month())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("'{0}' is not a month: give it as YYYY-MM, e.g. 2026-11")]
    BadMonth(String),
    #[error("{0} has not been exported: run `bookable audit export --month {0}` first")]
    NotExported(Month),
    #[error(
        "{month} has {now} rows but {exported} were exported: export it again before dropping it"
    )]
    ChangedSinceExport {
        month: Month,
        exported: i64,
        now: i64,
    },
    #[error("{0} is this month or later: only a month that has ended can be dropped")]
    NotOver(Month),
    #[error("{0} has no partition (already dropped, or never written)")]
    NoPartition(Month),
    #[error("keep at least this month and the one before it (--keep-months 1 or more)")]
    NothingKept,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

/// Makes the partitions of the month of `now` and of the two after it, if missing.
pub fn ensure_partitions(conn: &mut PgConnection, now: DateTime<Utc>) -> QueryResult<()> {
    let mut month = Month::of(now);
    for _ in 0..3 {
        diesel::sql_query("SELECT gpconnect_audit_partition($1)")
            .bind::<Timestamptz, _>(month.start())
            .execute(conn)?;
        month = month.next();
    }
    Ok(())
}

/// One trail row as exported (a JSON object per line).
#[derive(Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = gpconnect_audit)]
struct Row {
    id: i64,
    at: DateTime<Utc>,
    practice_ods: String,
    method: String,
    path_query: String,
    ssp_trace_id: Option<String>,
    ssp_from: Option<String>,
    ssp_to: Option<String>,
    interaction: Option<String>,
    status: i16,
    error_code: Option<String>,
    jwt_claims: Option<serde_json::Value>,
    sanitised: bool,
}

/// Rows read at a time (by id), so a month of millions is never held at once.
const PAGE: i64 = 10_000;

fn in_month(month: Month) -> (DateTime<Utc>, DateTime<Utc>) {
    (month.start(), month.next().start())
}

/// Writes every row of `month`, in sequence order, to `out` as JSON lines, and records the
/// export (`file`: where it went) so the month may be dropped. Returns the rows written.
pub fn export(
    conn: &mut PgConnection,
    month: Month,
    out: &mut impl Write,
    file: &str,
) -> Result<i64, RetentionError> {
    let (from, to) = in_month(month);
    // One snapshot for the pages and the count, so the count is what was written.
    conn.build_transaction()
        .repeatable_read()
        .read_write()
        .run(|conn| {
            let mut after = i64::MIN;
            let mut written = 0;
            loop {
                let page: Vec<Row> = gpconnect_audit::table
                    .filter(gpconnect_audit::at.ge(from))
                    .filter(gpconnect_audit::at.lt(to))
                    .filter(gpconnect_audit::id.gt(after))
                    .order(gpconnect_audit::id)
                    .limit(PAGE)
                    .select(Row::as_select())
                    .load(conn)?;
                let Some(last) = page.last() else { break };
                after = last.id;
                for row in &page {
                    serde_json::to_writer(&mut *out, row).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                }
                written += page.len() as i64;
            }
            out.flush()?;
            diesel::insert_into(gpconnect_audit_exports::table)
                .values((
                    gpconnect_audit_exports::month.eq(month.first_day()),
                    gpconnect_audit_exports::rows.eq(written),
                    gpconnect_audit_exports::file.eq(file),
                    gpconnect_audit_exports::exported_at.eq(Utc::now()),
                ))
                .on_conflict(gpconnect_audit_exports::month)
                .do_update()
                .set((
                    gpconnect_audit_exports::rows.eq(written),
                    gpconnect_audit_exports::file.eq(file),
                    gpconnect_audit_exports::exported_at.eq(Utc::now()),
                ))
                .execute(conn)?;
            Ok(written)
        })
}

/// Drops `month`'s partition, once it has ended and been exported with every row it holds
/// now. Returns the rows dropped.
pub fn drop_month(
    conn: &mut PgConnection,
    month: Month,
    now: DateTime<Utc>,
) -> Result<i64, RetentionError> {
    if month >= Month::of(now) {
        return Err(RetentionError::NotOver(month));
    }
    conn.transaction(|conn| {
        let exported: Option<i64> = gpconnect_audit_exports::table
            .find(month.first_day())
            .select(gpconnect_audit_exports::rows)
            .first(conn)
            .optional()?;
        let Some(exported) = exported else {
            return Err(RetentionError::NotExported(month));
        };
        let partition = month.partition();
        let found: NameOrNull = diesel::sql_query("SELECT to_regclass($1)::text AS name")
            .bind::<Text, _>(&partition)
            .get_result(conn)?;
        let Some(name) = found.name else {
            return Err(RetentionError::NoPartition(month));
        };
        let (from, to) = in_month(month);
        let now_rows: i64 = gpconnect_audit::table
            .filter(gpconnect_audit::at.ge(from))
            .filter(gpconnect_audit::at.lt(to))
            .count()
            .get_result(conn)?;
        if now_rows != exported {
            return Err(RetentionError::ChangedSinceExport {
                month,
                exported,
                now: now_rows,
            });
        }
        // The month's rows are known to be in the export: detach and drop the partition (no
        // row trigger fires: the trail stays append-only for everything else).
        diesel::sql_query(format!(
            "ALTER TABLE gpconnect_audit DETACH PARTITION \"{name}\""
        ))
        .execute(conn)?;
        diesel::sql_query(format!("DROP TABLE \"{name}\"")).execute(conn)?;
        diesel::update(gpconnect_audit_exports::table.find(month.first_day()))
            .set(gpconnect_audit_exports::dropped_at.eq(Utc::now()))
            .execute(conn)?;
        Ok(now_rows)
    })
}

/// How long the trail is kept: this month and the `keep_months` before it; every older month
/// is exported to `export_dir` (`gpconnect-audit-YYYY-MM.jsonl`) and then dropped, oldest first.
/// Returns each month let go with its rows. Stops at the first month it cannot let go, so a
/// month is never dropped without its export on disk.
pub fn retain(
    conn: &mut PgConnection,
    keep_months: u32,
    export_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Vec<(Month, i64)>, RetentionError> {
    if keep_months == 0 {
        return Err(RetentionError::NothingKept);
    }
    // One retention run at a time (a second waits, then finds nothing left to let go).
    diesel::sql_query("SELECT pg_advisory_lock(hashtext('gpconnect_audit_retain'))")
        .execute(conn)?;
    let result = retain_locked(conn, Month::of(now).back(keep_months), export_dir, now);
    diesel::sql_query("SELECT pg_advisory_unlock(hashtext('gpconnect_audit_retain'))")
        .execute(conn)?;
    result
}

fn retain_locked(
    conn: &mut PgConnection,
    oldest_kept: Month,
    export_dir: &Path,
    now: DateTime<Utc>,
) -> Result<Vec<(Month, i64)>, RetentionError> {
    let partitions: Vec<Name> = diesel::sql_query(
        "SELECT c.relname::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'gpconnect_audit'::regclass",
    )
    .load(conn)?;
    let mut old: Vec<Month> = partitions
        .iter()
        .filter_map(|p| Month::of_partition(&p.name))
        .filter(|m| *m < oldest_kept)
        .collect();
    old.sort();
    let mut let_go = Vec::new();
    for month in old {
        let path = export_dir.join(format!("gpconnect-audit-{month}.jsonl"));
        let label = path.display().to_string();
        // Written beside, synced, then renamed: the file is whole once it has its name.
        let part = export_dir.join(format!(".gpconnect-audit-{month}.jsonl.part"));
        let file = std::fs::File::create(&part)?;
        let mut writer = std::io::BufWriter::new(file);
        export(conn, month, &mut writer, &label)?;
        writer
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        std::fs::rename(&part, &path)?;
        let rows = drop_month(conn, month, now)?;
        let_go.push((month, rows));
    }
    Ok(let_go)
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct NameOrNull {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_read_as_yyyy_mm() {
        let m: Month = "2026-11".parse().unwrap();
        assert_eq!(m.to_string(), "2026-11");
        assert_eq!(m.partition(), "gpconnect_audit_y2026m11");
        assert_eq!(m.next().to_string(), "2026-12");
        assert_eq!(
            "2026-12".parse::<Month>().unwrap().next().to_string(),
            "2027-01"
        );
        assert_eq!(m.back(11).to_string(), "2025-12");
        assert_eq!(
            Month::of_partition("gpconnect_audit_y2025m07").map(|m| m.to_string()),
            Some("2025-07".into())
        );
        assert_eq!(Month::of_partition("gpconnect_audit_default"), None);
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-11-01"] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }
}
