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

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use serde::{Deserialize, Serialize};

use crate::availability::codes::{DeliveryChannel, OdsCode, OrganisationType, PractitionerRole};
use crate::availability::rules::{Exposable, check_can_be_bookable};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{LocationId, PracticeId, PractitionerId, ScheduleId};
use crate::db::schema::{locations, practitioners, schedules, slots};

mod checks;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportDocument {
    /// ODS code of a practice bookable already knows.
    pub practice: String,
    #[serde(default)]
    pub locations: Vec<LocationIn>,
    #[serde(default)]
    pub practitioners: Vec<PractitionerIn>,
    #[serde(default)]
    pub schedules: Vec<ScheduleIn>,
    #[serde(default)]
    pub slots: Vec<SlotIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub address: Vec<String>,
    pub postcode: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PractitionerIn {
    pub id: String,
    pub family_name: String,
    pub given_name: Option<String>,
    pub prefix: Option<String>,
    pub sds_user_id: Option<String>,
    pub sds_role_profile_id: Option<String>,
    pub gender: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookabilityIn {
    pub gp_connect: bool,
    #[serde(default)]
    pub org_types: Vec<String>,
    #[serde(default)]
    pub ods_codes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    pub id: String,
    /// The `id` of a location in this document or already imported.
    pub location: String,
    pub practitioner: Option<String>,
    pub schedule_type: Option<String>,
    pub practitioner_role: Option<String>,
    pub delivery_channel: Option<String>,
    pub bookable: Option<BookabilityIn>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotIn {
    pub id: String,
    pub schedule: String,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub status: String,
    pub slot_type: Option<String>,
    pub delivery_channel: Option<String>,
    /// Absent: the slot follows its schedule (or keeps its override, on re-import).
    pub bookable: Option<BookabilityIn>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the import is not valid JSON of the expected shape: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("unknown practice '{0}': create it first (bookable practice add)")]
    UnknownPractice(String),
    #[error("the import was rejected and nothing was written:\n- {}", .0.join("\n- "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

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

/// Schedule settings the slot checks need, from the document or the database.
#[derive(Clone)]
struct ScheduleFacts {
    bookable: bool,
    channel: Option<DeliveryChannel>,
    role: Option<String>,
}

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

        let known_locations: Vec<String> = locations::table
            .filter(locations::practice_id.eq(pid))
            .select(locations::external_id)
            .load(conn)?;
        let known_practitioners: Vec<String> = practitioners::table
            .filter(practitioners::practice_id.eq(pid))
            .select(practitioners::external_id)
            .load(conn)?;
        let known_schedules: Vec<(String, bool, Option<String>, Option<String>)> = schedules::table
            .filter(schedules::practice_id.eq(pid))
            .select((
                schedules::external_id,
                schedules::gpc_bookable,
                schedules::delivery_channel,
                schedules::practitioner_role,
            ))
            .load(conn)?;

        // No query before the writes carries a string of the document (a NUL, which PostgreSQL
        // can't store, would fail it): the checks below list every problem first.
        let mut errors = checks::check(doc);
        let location_ids: std::collections::HashSet<&str> = known_locations
            .iter()
            .map(String::as_str)
            .chain(doc.locations.iter().map(|l| l.id.as_str()))
            .collect();
        let practitioner_ids: std::collections::HashSet<&str> = known_practitioners
            .iter()
            .map(String::as_str)
            .chain(doc.practitioners.iter().map(|p| p.id.as_str()))
            .collect();
        let mut schedule_facts: HashMap<String, ScheduleFacts> = known_schedules
            .into_iter()
            .map(|(id, bookable, channel, role)| {
                let channel = channel.and_then(|c| DeliveryChannel::parse(&c).ok());
                (
                    id,
                    ScheduleFacts {
                        bookable,
                        channel,
                        role,
                    },
                )
            })
            .collect();

        for (i, l) in doc.locations.iter().enumerate() {
            let at = format!("locations[{i}] (id '{}')", l.id);
            require_id(&mut errors, &at, &l.id);
            if l.name.trim().is_empty() {
                errors.push(format!("{at}: name is empty"));
            }
        }
        for (i, p) in doc.practitioners.iter().enumerate() {
            let at = format!("practitioners[{i}] (id '{}')", p.id);
            require_id(&mut errors, &at, &p.id);
            if p.family_name.trim().is_empty() {
                errors.push(format!("{at}: family_name is empty"));
            }
            if let Some(g) = &p.gender
                && !["male", "female", "other", "unknown"].contains(&g.as_str())
            {
                errors.push(format!(
                    "{at}: gender '{g}' is not one of male, female, other, unknown"
                ));
            }
        }
        let mut schedule_bookability = Vec::with_capacity(doc.schedules.len());
        for (i, s) in doc.schedules.iter().enumerate() {
            let at = format!("schedules[{i}] (id '{}')", s.id);
            require_id(&mut errors, &at, &s.id);
            if !location_ids.contains(s.location.as_str()) {
                errors.push(format!("{at}: unknown location '{}'", s.location));
            }
            if let Some(p) = &s.practitioner
                && !practitioner_ids.contains(p.as_str())
            {
                errors.push(format!("{at}: unknown practitioner '{p}'"));
            }
            let channel = parse_channel(&mut errors, &at, s.delivery_channel.as_deref());
            if let Some(role) = &s.practitioner_role
                && let Err(e) = PractitionerRole::parse(role)
            {
                errors.push(format!("{at}: {e}"));
            }
            let bookability = s
                .bookable
                .as_ref()
                .map(|b| parse_bookability(&mut errors, &at, b));
            let previous = schedule_facts.get(&s.id).cloned();
            let bookable = match &bookability {
                Some(b) => b.0,
                None => previous.as_ref().is_some_and(|p| p.bookable),
            };
            if bookable {
                let target = Exposable {
                    channel,
                    practitioner_role: s.practitioner_role.as_deref(),
                    slot_type: None,
                };
                if let Err(refusal) = check_can_be_bookable(&target) {
                    errors.push(format!("{at}: can't be GP Connect bookable: {refusal}"));
                }
            }
            schedule_facts.insert(
                s.id.clone(),
                ScheduleFacts {
                    bookable,
                    channel,
                    role: s.practitioner_role.clone(),
                },
            );
            schedule_bookability.push(bookability);
        }
        let mut slot_bookability = Vec::with_capacity(doc.slots.len());
        for (i, s) in doc.slots.iter().enumerate() {
            let at = format!("slots[{i}] (id '{}')", s.id);
            require_id(&mut errors, &at, &s.id);
            if s.end <= s.start {
                errors.push(format!(
                    "{at}: end {} is not after start {}",
                    s.end.to_rfc3339(),
                    s.start.to_rfc3339()
                ));
            }
            if s.status != "free" && s.status != "busy" {
                errors.push(format!("{at}: status '{}' is not free or busy", s.status));
            }
            let channel = parse_channel(&mut errors, &at, s.delivery_channel.as_deref());
            let bookability = s
                .bookable
                .as_ref()
                .map(|b| parse_bookability(&mut errors, &at, b));
            match schedule_facts.get(&s.schedule) {
                None => errors.push(format!("{at}: unknown schedule '{}'", s.schedule)),
                Some(sched) => {
                    let channel = channel.or(sched.channel);
                    let target = Exposable {
                        channel,
                        practitioner_role: sched.role.as_deref(),
                        slot_type: Some(s.slot_type.as_deref()),
                    };
                    match &bookability {
                        Some((true, ..)) => {
                            if let Err(refusal) = check_can_be_bookable(&target) {
                                errors
                                    .push(format!("{at}: can't be GP Connect bookable: {refusal}"));
                            }
                        }
                        // A slot following a bookable schedule: only Visit is forbidden outright;
                        // a missing slot type just keeps it hidden (and reported as such).
                        None if sched.bookable && channel == Some(DeliveryChannel::Visit) => errors
                            .push(format!(
                                "{at}: a Visit slot can't follow its GP Connect bookable schedule; \
                             give it \"bookable\": {{\"gp_connect\": false}}"
                            )),
                        _ => {}
                    }
                }
            }
            slot_bookability.push(bookability);
        }
        if !errors.is_empty() {
            return Err(ImportError::Invalid(errors));
        }

        let location_map = upsert_locations(conn, pid, &doc.locations)?;
        let practitioner_map = upsert_practitioners(conn, pid, &doc.practitioners)?;
        let schedule_map = upsert_schedules(
            conn,
            pid,
            &doc.schedules,
            &schedule_bookability,
            &location_map,
            &practitioner_map,
        )?;
        upsert_slots(conn, pid, &doc.slots, &slot_bookability, &schedule_map)?;

        let summary = ImportSummary {
            locations: doc.locations.len(),
            practitioners: doc.practitioners.len(),
            schedules: doc.schedules.len(),
            slots: doc.slots.len(),
        };
        change_log::record(
            conn,
            actor,
            Change {
                practice: Some(pid),
                action: "import",
                entity: "rota",
                entity_id: None,
                before: None,
                after: Some(serde_json::json!(summary)),
            },
        )?;
        Ok(summary)
    })
}

fn require_id(errors: &mut Vec<String>, at: &str, id: &str) {
    if id.trim().is_empty() {
        errors.push(format!("{at}: id is empty"));
    }
}

fn parse_channel(
    errors: &mut Vec<String>,
    at: &str,
    code: Option<&str>,
) -> Option<DeliveryChannel> {
    code.and_then(|c| {
        DeliveryChannel::parse(c)
            .map_err(|e| errors.push(format!("{at}: {e}")))
            .ok()
    })
}

/// (bookable, organisation type codes, ODS codes), validated.
type ParsedBookability = (bool, Vec<String>, Vec<String>);

fn parse_bookability(errors: &mut Vec<String>, at: &str, b: &BookabilityIn) -> ParsedBookability {
    let mut org_types = Vec::new();
    for t in &b.org_types {
        match OrganisationType::parse(t) {
            Ok(t) if !org_types.contains(&t.code().to_owned()) => {
                org_types.push(t.code().to_owned())
            }
            Ok(_) => {}
            Err(e) => errors.push(format!("{at}: {e}")),
        }
    }
    let mut ods_codes = Vec::new();
    for c in &b.ods_codes {
        match OdsCode::parse(c) {
            Ok(c) if !ods_codes.contains(&c.as_str().to_owned()) => {
                ods_codes.push(c.as_str().to_owned())
            }
            Ok(_) => {}
            Err(e) => errors.push(format!("{at}: {e}")),
        }
    }
    (b.gp_connect, org_types, ods_codes)
}

fn upsert_locations(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[LocationIn],
) -> QueryResult<HashMap<String, LocationId>> {
    let values: Vec<_> = rows
        .iter()
        .map(|l| {
            (
                locations::practice_id.eq(pid),
                locations::external_id.eq(&l.id),
                locations::name.eq(&l.name),
                locations::address_lines.eq(&l.address),
                locations::postcode.eq(&l.postcode),
                locations::phone.eq(&l.phone),
            )
        })
        .collect();
    if !values.is_empty() {
        diesel::insert_into(locations::table)
            .values(&values)
            .on_conflict((locations::practice_id, locations::external_id))
            .do_update()
            .set((
                locations::name.eq(excluded(locations::name)),
                locations::address_lines.eq(excluded(locations::address_lines)),
                locations::postcode.eq(excluded(locations::postcode)),
                locations::phone.eq(excluded(locations::phone)),
            ))
            .execute(conn)?;
    }
    Ok(locations::table
        .filter(locations::practice_id.eq(pid))
        .select((locations::external_id, locations::id))
        .load::<(String, LocationId)>(conn)?
        .into_iter()
        .collect())
}

fn upsert_practitioners(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[PractitionerIn],
) -> QueryResult<HashMap<String, PractitionerId>> {
    let values: Vec<_> = rows
        .iter()
        .map(|p| {
            (
                practitioners::practice_id.eq(pid),
                practitioners::external_id.eq(&p.id),
                practitioners::family_name.eq(&p.family_name),
                practitioners::given_name.eq(&p.given_name),
                practitioners::prefix.eq(&p.prefix),
                practitioners::sds_user_id.eq(&p.sds_user_id),
                practitioners::sds_role_profile_id.eq(&p.sds_role_profile_id),
                practitioners::gender.eq(&p.gender),
            )
        })
        .collect();
    if !values.is_empty() {
        diesel::insert_into(practitioners::table)
            .values(&values)
            .on_conflict((practitioners::practice_id, practitioners::external_id))
            .do_update()
            .set((
                practitioners::family_name.eq(excluded(practitioners::family_name)),
                practitioners::given_name.eq(excluded(practitioners::given_name)),
                practitioners::prefix.eq(excluded(practitioners::prefix)),
                practitioners::sds_user_id.eq(excluded(practitioners::sds_user_id)),
                practitioners::sds_role_profile_id.eq(excluded(practitioners::sds_role_profile_id)),
                practitioners::gender.eq(excluded(practitioners::gender)),
            ))
            .execute(conn)?;
    }
    Ok(practitioners::table
        .filter(practitioners::practice_id.eq(pid))
        .select((practitioners::external_id, practitioners::id))
        .load::<(String, PractitionerId)>(conn)?
        .into_iter()
        .collect())
}

fn upsert_schedules(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[ScheduleIn],
    bookability: &[Option<ParsedBookability>],
    location_map: &HashMap<String, LocationId>,
    practitioner_map: &HashMap<String, PractitionerId>,
) -> QueryResult<HashMap<String, ScheduleId>> {
    for (s, b) in rows.iter().zip(bookability) {
        let rota = (
            schedules::location_id.eq(location_map[&s.location]),
            schedules::practitioner_id.eq(s.practitioner.as_ref().map(|p| practitioner_map[p])),
            schedules::schedule_type.eq(&s.schedule_type),
            schedules::practitioner_role.eq(&s.practitioner_role),
            schedules::delivery_channel.eq(&s.delivery_channel),
        );
        match b {
            Some((bookable, types, codes)) => {
                let settings = (
                    schedules::gpc_bookable.eq(*bookable),
                    schedules::bookable_org_types.eq(types),
                    schedules::bookable_ods_codes.eq(codes),
                );
                diesel::insert_into(schedules::table)
                    .values((
                        schedules::practice_id.eq(pid),
                        schedules::external_id.eq(&s.id),
                        rota,
                        settings,
                    ))
                    .on_conflict((schedules::practice_id, schedules::external_id))
                    .do_update()
                    .set((
                        rota,
                        settings,
                        schedules::version.eq(schedules::version + 1),
                    ))
                    .execute(conn)?
            }
            None => diesel::insert_into(schedules::table)
                .values((
                    schedules::practice_id.eq(pid),
                    schedules::external_id.eq(&s.id),
                    rota,
                ))
                .on_conflict((schedules::practice_id, schedules::external_id))
                .do_update()
                .set(rota)
                .execute(conn)?,
        };
    }
    Ok(schedules::table
        .filter(schedules::practice_id.eq(pid))
        .select((schedules::external_id, schedules::id))
        .load::<(String, ScheduleId)>(conn)?
        .into_iter()
        .collect())
}

/// Rows per INSERT: well under PostgreSQL's 65,535 bind parameters.
const SLOT_BATCH: usize = 2_000;

fn upsert_slots(
    conn: &mut PgConnection,
    pid: PracticeId,
    rows: &[SlotIn],
    bookability: &[Option<ParsedBookability>],
    schedule_map: &HashMap<String, ScheduleId>,
) -> QueryResult<()> {
    let rota = |s: &SlotIn| {
        (
            slots::practice_id.eq(pid),
            slots::schedule_id.eq(schedule_map[&s.schedule]),
            slots::external_id.eq(s.id.clone()),
            slots::start_at.eq(s.start.with_timezone(&Utc)),
            slots::end_at.eq(s.end.with_timezone(&Utc)),
            slots::status.eq(s.status.clone()),
            slots::slot_type.eq(s.slot_type.clone()),
            slots::delivery_channel.eq(s.delivery_channel.clone()),
        )
    };
    let rota_update = (
        slots::schedule_id.eq(excluded(slots::schedule_id)),
        slots::start_at.eq(excluded(slots::start_at)),
        slots::end_at.eq(excluded(slots::end_at)),
        slots::status.eq(excluded(slots::status)),
        slots::slot_type.eq(excluded(slots::slot_type)),
        slots::delivery_channel.eq(excluded(slots::delivery_channel)),
    );
    let (with, without): (Vec<_>, Vec<_>) =
        rows.iter().zip(bookability).partition(|(_, b)| b.is_some());

    for chunk in without.chunks(SLOT_BATCH) {
        let values: Vec<_> = chunk.iter().map(|(s, _)| rota(s)).collect();
        diesel::insert_into(slots::table)
            .values(&values)
            .on_conflict((slots::practice_id, slots::external_id))
            .do_update()
            .set(rota_update)
            .execute(conn)?;
    }
    for chunk in with.chunks(SLOT_BATCH) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(s, b)| {
                let (bookable, types, codes) = b.as_ref().expect("partitioned on Some").clone();
                (
                    rota(s),
                    slots::gpc_bookable.eq(Some(bookable)),
                    slots::bookable_org_types.eq(types),
                    slots::bookable_ods_codes.eq(codes),
                )
            })
            .collect();
        diesel::insert_into(slots::table)
            .values(&values)
            .on_conflict((slots::practice_id, slots::external_id))
            .do_update()
            .set((
                rota_update,
                slots::gpc_bookable.eq(excluded(slots::gpc_bookable)),
                slots::bookable_org_types.eq(excluded(slots::bookable_org_types)),
                slots::bookable_ods_codes.eq(excluded(slots::bookable_ods_codes)),
                // Bookability set by the import: a manager editing this slot must reload.
                slots::version.eq(slots::version + 1),
            ))
            .execute(conn)?;
    }
    Ok(())
}
