//! The GP Connect request trail (the audit GP Connect requires of a provider, kept apart from
//! the managers' change log): one `gpconnect_audit` row per request, refused ones included,
//! with the SSP headers, the JWT's claims (who asked, for which organisation, from which device),
//! the status and the Spine error code.
//!
//! Rows are written by a thread of their own, in batches of whatever has queued since its last
//! insert, so a search pays for a channel send rather than a round trip and a commit. The channel
//! is bounded: when the writer falls behind, requests wait for it (asynchronously: their actix
//! worker goes on serving others) rather than go unaudited.
//!
//! No request can cost another its row: what PostgreSQL cannot store (NUL in TEXT or JSONB) is
//! removed before the row is queued, and the row says it was (`sanitised`); if a batch is still
//! refused, its rows are written one by one, so only a row that cannot be stored at all goes to
//! the log instead.
//!
//! On shutdown ([`TrailWriter::finish`], after the server has answered its last request) the
//! writer stops taking rows, writes every row still queued and ends; the caller waits for it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;
use tokio::sync::mpsc::{Receiver, Sender, channel};

use crate::db::DbPool;
use crate::db::schema::gpconnect_audit;

#[derive(Debug, Insertable)]
#[diesel(table_name = gpconnect_audit)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub practice_ods: String,
    pub method: String,
    pub path_query: String,
    pub ssp_trace_id: Option<String>,
    pub ssp_from: Option<String>,
    pub ssp_to: Option<String>,
    pub interaction: Option<String>,
    pub status: i16,
    pub error_code: Option<&'static str>,
    pub jwt_claims: Option<Value>,
    /// Set by [`Entry::sanitise`] when something had to be removed.
    pub sanitised: bool,
}

impl Entry {
    /// Removes what PostgreSQL cannot store (NUL, in text and anywhere in the claims' JSON),
    /// noting that it did.
    fn sanitise(&mut self) {
        let mut changed = false;
        for text in [
            &mut self.practice_ods,
            &mut self.method,
            &mut self.path_query,
        ] {
            changed |= strip_nul(text);
        }
        for text in [
            &mut self.ssp_trace_id,
            &mut self.ssp_from,
            &mut self.ssp_to,
            &mut self.interaction,
        ]
        .into_iter()
        .flatten()
        {
            changed |= strip_nul(text);
        }
        if let Some(claims) = &mut self.jwt_claims {
            changed |= strip_nul_json(claims);
        }
        self.sanitised |= changed;
    }
}

fn strip_nul(text: &mut String) -> bool {
    if !text.contains('\0') {
        return false;
    }
    text.retain(|c| c != '\0');
    true
}

fn strip_nul_json(value: &mut Value) -> bool {
    match value {
        Value::String(s) => strip_nul(s),
        Value::Array(items) => items.iter_mut().fold(false, |c, v| strip_nul_json(v) | c),
        Value::Object(map) => {
            let mut changed = false;
            if map.keys().any(|k| k.contains('\0')) {
                let entries = std::mem::take(map);
                for (mut k, v) in entries {
                    strip_nul(&mut k);
                    map.insert(k, v);
                }
                changed = true;
            }
            map.values_mut().fold(changed, |c, v| strip_nul_json(v) | c)
        }
        _ => false,
    }
}

/// What the writer thread receives: a row, or the signal to write what is queued and end.
enum Queued {
    Row(Box<Entry>),
    Finish,
}

/// Where the GP Connect layer sends trail rows; cloning shares the one writer.
#[derive(Clone)]
pub struct RequestTrail(Sender<Queued>);

/// The writer thread itself, for shutdown.
pub struct TrailWriter {
    sender: Sender<Queued>,
    thread: std::thread::JoinHandle<u64>,
}

/// Rows requests may queue ahead of the writer before they wait.
const QUEUE: usize = 4096;
/// Rows per INSERT (PostgreSQL allows 65,535 parameters; 12 per row).
const BATCH: usize = 1000;

impl RequestTrail {
    /// Starts the writer thread; it ends at [`TrailWriter::finish`] (or when every sender is
    /// dropped), after writing what was queued.
    pub fn start(pool: DbPool) -> (Self, TrailWriter) {
        let (sender, receiver) = channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("gpconnect-audit".into())
            .spawn(move || write_batches(&pool, receiver))
            .expect("start the GP Connect audit writer");
        (RequestTrail(sender.clone()), TrailWriter { sender, thread })
    }

    /// False once the writer thread has stopped (readiness).
    pub fn is_running(&self) -> bool {
        !self.0.is_closed()
    }

    /// Rows queued ahead of the writer now (metrics).
    pub fn queued(&self) -> usize {
        self.0.max_capacity() - self.0.capacity()
    }

    /// Queues the row, waiting (without blocking the worker) while the queue is full.
    pub async fn record(&self, mut entry: Entry) {
        entry.sanitise();
        if let Err(e) = self.0.send(Queued::Row(Box::new(entry))).await
            && let Queued::Row(entry) = e.0
        {
            tracing::error!(?entry, "the GP Connect audit writer has stopped");
        }
    }
}

impl TrailWriter {
    /// Stops taking rows, waits until every row already queued is written, and returns how
    /// many rows the writer wrote in its life. Call it once the server has stopped, so every
    /// answered request's row is queued.
    pub async fn finish(self) -> u64 {
        // A full queue makes this wait its turn behind the rows, as a request would.
        let _ = self.sender.send(Queued::Finish).await;
        drop(self.sender);
        let thread = self.thread;
        actix_web::web::block(move || thread.join())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0)
    }
}

/// How often the writer makes sure the month partitions ahead exist (`trail_retention`).
const PARTITIONS_AHEAD_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Makes this month's and the next two months' partitions, if missing; true once done.
fn partitions_ahead(pool: &DbPool) -> bool {
    let made = pool
        .checkout()
        .map_err(|e| e.to_string())
        .and_then(|mut conn| {
            super::trail_retention::ensure_partitions(&mut conn, chrono::Utc::now())
                .map_err(|e| e.to_string())
        });
    match made {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "GP Connect audit partitions ahead not made (tried again later)");
            false
        }
    }
}

/// The writer's loop; returns the rows written.
fn write_batches(pool: &DbPool, mut receiver: Receiver<Queued>) -> u64 {
    let mut queued = Vec::with_capacity(BATCH);
    let mut rows = Vec::with_capacity(BATCH);
    let mut written = 0;
    let mut ahead = partitions_ahead(pool).then(std::time::Instant::now);
    while receiver.blocking_recv_many(&mut queued, BATCH) > 0 {
        if ahead.is_none_or(|at| at.elapsed() > PARTITIONS_AHEAD_EVERY) {
            ahead = partitions_ahead(pool)
                .then(std::time::Instant::now)
                .or(ahead);
        }
        for q in queued.drain(..) {
            match q {
                Queued::Row(entry) => rows.push(*entry),
                // Nothing more can be sent; what is queued is still received, then `None`.
                Queued::Finish => receiver.close(),
            }
        }
        if !rows.is_empty() {
            written += write(pool, &rows);
            rows.clear();
        }
    }
    written
}

/// Writes the batch in one INSERT; if that is refused, row by row, so one row the database
/// refuses costs no other its place. Returns the rows written.
fn write(pool: &DbPool, batch: &[Entry]) -> u64 {
    let mut conn = match pool.checkout() {
        Ok(conn) => conn,
        Err(e) => {
            log_unwritten(&e.to_string(), batch);
            return 0;
        }
    };
    let insert = |conn: &mut PgConnection, rows: &[Entry]| {
        diesel::insert_into(gpconnect_audit::table)
            .values(rows)
            .execute(conn)
    };
    if insert(&mut conn, batch).is_ok() {
        return batch.len() as u64;
    }
    let mut written = 0;
    for entry in batch {
        match insert(&mut conn, std::slice::from_ref(entry)) {
            Ok(_) => written += 1,
            Err(e) => log_unwritten(&e.to_string(), std::slice::from_ref(entry)),
        }
    }
    written
}

/// The rows are not lost to the operator: they go to the log instead.
fn log_unwritten(error: &str, rows: &[Entry]) {
    metrics::counter!(crate::telemetry::metrics::AUDIT_WRITE_FAILURES).increment(rows.len() as u64);
    for entry in rows {
        tracing::error!(%error, ?entry, "GP Connect audit row not written");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(path: &str, claims: Value) -> Entry {
        Entry {
            at: Utc::now(),
            practice_ods: "A20047".into(),
            method: "GET".into(),
            path_query: path.into(),
            ssp_trace_id: Some("t\0".into()),
            ssp_from: None,
            ssp_to: None,
            interaction: None,
            status: 200,
            error_code: None,
            jwt_claims: Some(claims),
            sanitised: false,
        }
    }

    #[test]
    fn nul_is_removed_everywhere_and_the_row_says_so() {
        let mut e = entry(
            "/fhir/A\0/metadata",
            json!({ "iss\0": ["a\0", { "b": "c\0" }], "n": 1 }),
        );
        e.sanitise();
        assert!(e.sanitised);
        assert_eq!(e.path_query, "/fhir/A/metadata");
        assert_eq!(e.ssp_trace_id.as_deref(), Some("t"));
        assert_eq!(
            e.jwt_claims,
            Some(json!({ "iss": ["a", { "b": "c" }], "n": 1 }))
        );
    }

    #[test]
    fn a_clean_row_is_left_alone() {
        let mut e = entry("/fhir/A20047/metadata", json!({ "iss": "x" }));
        e.ssp_trace_id = Some("t".into());
        e.sanitise();
        assert!(!e.sanitised);
    }
}
