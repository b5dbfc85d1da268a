//! The rota import: a practice's rota from its clinical system, as a JSON document of locations,
//! practitioners, schedules and slots, identified by the clinical system's own ids, so
//! importing the same document twice changes nothing. The demo seed goes through here too.
//!
//! The whole document is validated before anything is written, then written in one
//! transaction with one audit row: a bad document leaves the database as it was. The checks
//! that need only the document (text XML can carry, ids given once) are in [`checks`].
//!
//! The optimistic-locking `version` of a schedule or slot moves only when the import sets its
//! bookability, the part practice managers edit.
//!
//! Bookability is bookable's to manage: a schedule's or slot's `bookable` is applied only when
//! the document gives it, so a re-import of the rota keeps what practice managers set.
//!
//! One file a job: [`document`] (the JSON shape), [`checks`] (the document on its own),
//! [`validate`] (the document against what the practice already has), [`write`] (the upserts).

use diesel::prelude::*;
use serde::Serialize;

use crate::availability::codes::OdsCode;
use crate::change_log::{self, Actor, Change};
pub use crate::document_import::ImportError;

mod checks;
mod document;
mod validate;
mod write;

pub use document::{BookabilityIn, ImportDocument, LocationIn, PractitionerIn, ScheduleIn, SlotIn};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub locations: usize,
    pub practitioners: usize,
    pub schedules: usize,
    pub slots: usize,
}

/// Parses and imports a JSON document.
pub fn import_json(
    conn: &mut PgConnection,
    actor: &Actor,
    json: &str,
) -> Result<ImportSummary, ImportError> {
    let doc: ImportDocument = serde_json::from_str(json)?;
    import(conn, actor, &doc)
}

/// Validates `doc` in full, then writes it in one transaction with one change log row: a bad
/// document writes nothing.
pub fn import(
    conn: &mut PgConnection,
    actor: &Actor,
    doc: &ImportDocument,
) -> Result<ImportSummary, ImportError> {
    conn.transaction(|conn| {
        let ods = OdsCode::parse(&doc.practice)
            .map_err(|_| ImportError::UnknownPractice(doc.practice.clone()))?;
        let practice = crate::practice::by_ods(conn, &ods)?
            .ok_or_else(|| ImportError::UnknownPractice(doc.practice.clone()))?;
        let pid = practice.id;
        let valid = validate::validate(conn, pid, doc)?;

        let location_map = write::upsert_locations(conn, pid, &doc.locations)?;
        let practitioner_map = write::upsert_practitioners(conn, pid, &doc.practitioners)?;
        let schedule_map = write::upsert_schedules(
            conn,
            pid,
            &doc.schedules,
            &valid.schedules,
            &location_map,
            &practitioner_map,
        )?;
        write::upsert_slots(conn, pid, &doc.slots, &valid.slots, &schedule_map)?;

        let summary = ImportSummary {
            locations: doc.locations.len(),
            practitioners: doc.practitioners.len(),
            schedules: doc.schedules.len(),
            slots: doc.slots.len(),
        };
        change_log::record(
            conn,
            actor,
            Change::new("import", "rota")
                .practice(pid)
                .after(serde_json::json!(summary)),
        )?;
        Ok(summary)
    })
}
