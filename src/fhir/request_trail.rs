//! The GP Connect request trail (the audit GP Connect requires of a provider, kept apart from
//! the managers' change log): one `gpconnect_audit` row per request, refused ones included,
//! with the SSP headers, the JWT's claims (who asked, for which organisation, from which device),
//! the status and the Spine error code.
//!
//! Rows are written by a thread of their own, in batches of whatever has queued since its last
//! insert, so a search pays for a channel send rather than a round trip and a commit. The channel
//! is bounded: when the writer falls behind, requests wait for it rather than go unaudited.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

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
}

/// Where the GP Connect layer sends trail rows; cloning shares the one writer.
#[derive(Clone)]
pub struct RequestTrail(SyncSender<Entry>);

/// Rows a request may queue ahead of the writer before it waits.
const QUEUE: usize = 4096;
/// Rows per INSERT (PostgreSQL allows 65,535 parameters; 11 per row).
const BATCH: usize = 1000;

impl RequestTrail {
    /// Starts the writer thread; it ends when the last `RequestTrail` is dropped, after writing
    /// what was queued.
    pub fn start(pool: DbPool) -> Self {
        let (sender, receiver) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("gpconnect-audit".into())
            .spawn(move || write_batches(&pool, &receiver))
            .expect("start the GP Connect audit writer");
        RequestTrail(sender)
    }

    pub fn record(&self, entry: Entry) {
        if let Err(e) = self.0.send(entry) {
            tracing::error!(entry = ?e.0, "the GP Connect audit writer has stopped");
        }
    }
}

fn write_batches(pool: &DbPool, receiver: &Receiver<Entry>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        batch.extend(receiver.try_iter().take(BATCH - 1));
        let written = pool.get().map_err(|e| e.to_string()).and_then(|mut conn| {
            diesel::insert_into(gpconnect_audit::table)
                .values(&batch)
                .execute(&mut conn)
                .map_err(|e| e.to_string())
        });
        if let Err(error) = written {
            // The rows are not lost to the operator: they go to the log instead.
            for entry in &batch {
                tracing::error!(%error, ?entry, "GP Connect audit row not written");
            }
        }
    }
}
