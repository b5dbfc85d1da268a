//! The clinical system's own appointments (any delivery channel, home visits included), sent
//! through the JSON API so Read and Retrieve return a patient's appointments whoever booked
//! them. Upserted by the clinical system's id, all or nothing: every problem of the document is
//! listed and nothing is written unless there are none. A booked one holds its slots (they are
//! busy); a cancelled one, or a slot it no longer lists, frees them unless something else holds
//! them. These appointments never count against GP Connect booking limits and make no event
//! (the feed tells the clinical system what GP Connect did, not what it did itself).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{COMMENT_MAX, DESCRIPTION_MAX, Telecom, by_id, events};
use crate::availability::codes::{OdsCode, OrganisationType};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{AppointmentId, PatientId, PracticeId, SlotId};
use crate::db::schema::{appointment_slots, appointments, bookings, patients, practices, slots};

/// The longest clinical-system id bookable keeps (GP Connect logical ids are at most 64).
pub const ID_MAX: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentDocument {
    /// The practice's ODS code (must be the practice of the call).
    pub practice: String,
    pub appointments: Vec<AppointmentIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentIn {
    /// The clinical system's id of the appointment.
    pub id: String,
    /// `booked` or `cancelled`.
    pub status: String,
    pub patient_nhs_number: String,
    /// The slots' ids in the clinical system (as in the rota import): adjacent, one schedule.
    pub slots: Vec<String>,
    pub description: String,
    #[serde(default)]
    pub comment: Option<String>,
    /// Required when cancelled, refused when booked.
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// Who booked it; the practice itself when left out.
    #[serde(default)]
    pub booking_organisation: Option<OrganisationIn>,
    /// When it was booked (default: when bookable first hears of it).
    #[serde(default)]
    pub created: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationIn {
    pub ods_code: String,
    pub name: String,
    #[serde(default)]
    pub org_type: Option<String>,
    #[serde(default)]
    pub telecom: Vec<Telecom>,
}

#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("the appointments were rejected: {}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A slot of the practice as the document's checks need it.
#[derive(Debug, Clone)]
struct SlotRow {
    id: SlotId,
    external_id: String,
    schedule: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// An appointment of the document once checked: what the row will hold.
struct Planned {
    existing: Option<AppointmentId>,
    external_id: String,
    patient: PatientId,
    booked: bool,
    slots: Vec<SlotId>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    org: (String, Option<String>, String, serde_json::Value),
    description: String,
    comment: Option<String>,
    reason: Option<String>,
    created: DateTime<Utc>,
}

/// Upserts every appointment of `doc` at `practice`, or none.
pub fn upsert(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    doc: &AppointmentDocument,
    at: DateTime<Utc>,
) -> Result<Summary, InboundError> {
    conn.transaction(|conn| {
        let plans = check(conn, practice, doc, at)?;
        let mut summary = Summary::default();
        for plan in &plans {
            match write(conn, actor, practice, plan, at)? {
                Written::Created => summary.created += 1,
                Written::Updated => summary.updated += 1,
                Written::Unchanged => summary.unchanged += 1,
            }
        }
        Ok(summary)
    })
}

fn check(
    conn: &mut PgConnection,
    practice: PracticeId,
    doc: &AppointmentDocument,
    at: DateTime<Utc>,
) -> Result<Vec<Planned>, InboundError> {
    let mut problems = Vec::new();
    let (practice_ods, practice_name): (String, String) = practices::table
        .find(practice)
        .select((practices::ods_code, practices::name))
        .first(conn)?;
    let mut seen = BTreeSet::new();
    for a in &doc.appointments {
        if !seen.insert(a.id.as_str()) {
            problems.push(format!("appointment '{}': sent more than once", a.id));
        }
    }
    // Locks: the clinical system's appointments first, then the slots (GP Connect's changes
    // lock an appointment before its slots too).
    let ids: Vec<&str> = seen.iter().copied().collect();
    let existing: BTreeMap<String, AppointmentId> = appointments::table
        .filter(appointments::practice_id.eq(practice))
        .filter(appointments::external_id.eq_any(&ids))
        .order(appointments::id)
        .select((
            appointments::external_id.assume_not_null(),
            appointments::id,
        ))
        .for_update()
        .load::<(String, AppointmentId)>(conn)?
        .into_iter()
        .collect();
    let slot_names: Vec<&str> = doc
        .appointments
        .iter()
        .flat_map(|a| a.slots.iter().map(String::as_str))
        .collect();
    let found: BTreeMap<String, SlotRow> = slots::table
        .filter(slots::practice_id.eq(practice))
        .filter(slots::external_id.eq_any(&slot_names))
        .order(slots::id)
        .select((
            slots::id,
            slots::external_id,
            slots::schedule_id,
            slots::start_at,
            slots::end_at,
        ))
        .for_update()
        .load::<(SlotId, String, i64, DateTime<Utc>, DateTime<Utc>)>(conn)?
        .into_iter()
        .map(|(id, external_id, schedule, start, end)| {
            (
                external_id.clone(),
                SlotRow {
                    id,
                    external_id,
                    schedule,
                    start,
                    end,
                },
            )
        })
        .collect();
    let slot_ids: Vec<SlotId> = found.values().map(|s| s.id).collect();
    let holders = holders(conn, &slot_ids)?;
    let nhs_numbers: Vec<&str> = doc
        .appointments
        .iter()
        .map(|a| a.patient_nhs_number.as_str())
        .collect();
    let patients: BTreeMap<String, PatientId> = patients::table
        .filter(patients::practice_id.eq(practice))
        .filter(patients::nhs_number.eq_any(&nhs_numbers))
        .select((patients::nhs_number, patients::id))
        .load::<(String, PatientId)>(conn)?
        .into_iter()
        .collect();
    // Which appointment of the document holds each slot, to find two holding one.
    let mut claimed: BTreeMap<SlotId, &str> = BTreeMap::new();
    let mut plans = Vec::new();
    for a in &doc.appointments {
        let before = problems.len();
        let mut problem = |text: String| problems.push(format!("appointment '{}': {text}", a.id));
        if a.id.trim().is_empty() || a.id.chars().count() > ID_MAX {
            problem(format!("the id must be 1 to {ID_MAX} characters"));
        }
        let booked = match a.status.as_str() {
            "booked" => true,
            "cancelled" => false,
            other => {
                problem(format!(
                    "status '{other}' is neither 'booked' nor 'cancelled'"
                ));
                true
            }
        };
        let reason = a
            .cancellation_reason
            .as_deref()
            .filter(|r| !r.trim().is_empty());
        match (booked, reason) {
            (false, None) => problem("a cancelled appointment needs a cancellation_reason".into()),
            (true, Some(_)) => {
                problem("a booked appointment can't have a cancellation_reason".into())
            }
            _ => {}
        }
        if a.description.trim().is_empty() {
            problem("the description is empty".into());
        }
        if a.description.chars().count() > DESCRIPTION_MAX {
            problem(format!(
                "the description is longer than the {DESCRIPTION_MAX} characters bookable stores"
            ));
        }
        if a.comment
            .as_deref()
            .is_some_and(|c| c.chars().count() > COMMENT_MAX)
        {
            problem(format!(
                "the comment is longer than the {COMMENT_MAX} characters bookable stores"
            ));
        }
        let patient = patients.get(&a.patient_nhs_number).copied();
        if patient.is_none() {
            problem(format!(
                "no patient with NHS number '{}' in this practice's patient list",
                a.patient_nhs_number
            ));
        }
        let org = match &a.booking_organisation {
            None => Some((practice_ods.clone(), None, practice_name.clone(), json!([]))),
            Some(o) => {
                let ods = OdsCode::parse(&o.ods_code);
                if let Err(e) = &ods {
                    problem(format!("booking_organisation.ods_code: {e}"));
                }
                if let Some(Err(e)) = o.org_type.as_deref().map(OrganisationType::parse) {
                    problem(format!("booking_organisation.org_type: {e}"));
                }
                if o.name.trim().is_empty() {
                    problem("booking_organisation.name is empty".into());
                }
                ods.ok().map(|ods| {
                    (
                        ods.to_string(),
                        o.org_type.clone(),
                        o.name.clone(),
                        json!(o.telecom),
                    )
                })
            }
        };
        let mut rows: Vec<&SlotRow> = Vec::new();
        let mut names = BTreeSet::new();
        if a.slots.is_empty() {
            problem("no slot is listed".into());
        }
        for name in &a.slots {
            if !names.insert(name) {
                problem(format!("slot '{name}' is listed twice"));
            }
            match found.get(name) {
                Some(row) => rows.push(row),
                None => problem(format!("no slot '{name}' at this practice")),
            }
        }
        rows.sort_by_key(|r| r.start);
        rows.dedup_by_key(|r| r.id);
        for pair in rows.windows(2) {
            if pair[1].schedule != pair[0].schedule {
                problem("the slots are not all of one schedule".into());
            } else if pair[1].start != pair[0].end {
                problem(format!(
                    "slots '{}' and '{}' are not adjacent",
                    pair[0].external_id, pair[1].external_id
                ));
            }
        }
        let this = existing.get(&a.id).copied();
        if booked {
            for row in &rows {
                if let Some(other) = holders.get(&row.id).filter(|h| h.held_by_other(this)) {
                    problem(format!("slot '{}' is already {other}", row.external_id));
                }
                if let Some(first) = claimed.insert(row.id, &a.id) {
                    problem(format!(
                        "slot '{}' is also booked by appointment '{first}' of this document",
                        row.external_id
                    ));
                }
            }
        }
        if problems.len() > before {
            continue;
        }
        let (Some(patient), Some(org), Some(first), Some(last)) =
            (patient, org, rows.first(), rows.last())
        else {
            continue;
        };
        plans.push(Planned {
            existing: this,
            external_id: a.id.clone(),
            patient,
            booked,
            slots: rows.iter().map(|r| r.id).collect(),
            start: first.start,
            end: last.end,
            org,
            description: a.description.clone(),
            comment: a.comment.clone(),
            reason: (!booked).then(|| reason.unwrap_or_default().to_owned()),
            created: a.created.map_or(at, |c| c.with_timezone(&Utc)),
        });
    }
    if problems.is_empty() {
        Ok(plans)
    } else {
        Err(InboundError::Invalid(problems))
    }
}

/// What holds a slot now: booked appointments and GP Connect bookings in force.
#[derive(Debug, Default)]
struct Holder {
    appointments: Vec<AppointmentId>,
    bookings: usize,
}

impl Holder {
    fn held_by_other(&self, this: Option<AppointmentId>) -> bool {
        self.appointments.iter().any(|a| Some(*a) != this) || self.bookings > 0
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.appointments.first() {
            Some(a) => write!(f, "held by appointment {a}"),
            None => write!(f, "booked through GP Connect"),
        }
    }
}

fn holders(conn: &mut PgConnection, slot_ids: &[SlotId]) -> QueryResult<BTreeMap<SlotId, Holder>> {
    let mut held: BTreeMap<SlotId, Holder> = BTreeMap::new();
    let by_appointment: Vec<(SlotId, AppointmentId, Option<i64>)> = appointment_slots::table
        .inner_join(appointments::table)
        .filter(appointment_slots::slot_id.eq_any(slot_ids))
        .filter(appointments::status.eq("booked"))
        .select((
            appointment_slots::slot_id,
            appointments::id,
            appointment_slots::booking_id,
        ))
        .load(conn)?;
    let mut of_appointments = BTreeSet::new();
    for (slot, appointment, booking) in by_appointment {
        held.entry(slot).or_default().appointments.push(appointment);
        of_appointments.extend(booking);
    }
    let in_force: Vec<(SlotId, i64)> = bookings::table
        .filter(bookings::slot_id.eq_any(slot_ids))
        .filter(bookings::released_at.is_null())
        .select((bookings::slot_id, bookings::id))
        .load(conn)?;
    for (slot, booking) in in_force {
        if !of_appointments.contains(&booking) {
            held.entry(slot).or_default().bookings += 1;
        }
    }
    Ok(held)
}

enum Written {
    Created,
    Updated,
    Unchanged,
}

fn write(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    plan: &Planned,
    at: DateTime<Utc>,
) -> Result<Written, InboundError> {
    let before = match plan.existing {
        Some(id) => by_id(conn, practice, id)?,
        None => None,
    };
    let old_slots: Vec<SlotId> = before
        .as_ref()
        .map(|b| b.slots.iter().map(|s| s.id).collect())
        .unwrap_or_default();
    let status = if plan.booked { "booked" } else { "cancelled" };
    let (ods, org_type, org_name, telecom) = &plan.org;
    if let Some(b) = &before {
        let same = b.status.code() == status
            && old_slots == plan.slots
            && b.patient == plan.patient
            && b.description == plan.description
            && b.comment == plan.comment
            && b.cancellation_reason == plan.reason
            && b.booking_organisation.ods_code.as_str() == ods
            && &b.booking_organisation.org_type == org_type
            && &b.booking_organisation.name == org_name
            && json!(b.booking_organisation.telecom) == *telecom;
        if same {
            return Ok(Written::Unchanged);
        }
    }
    let values = (
        appointments::patient_id.eq(plan.patient),
        appointments::status.eq(status),
        appointments::start_at.eq(plan.start),
        appointments::end_at.eq(plan.end),
        appointments::booking_ods_code.eq(ods),
        appointments::booking_org_type.eq(org_type),
        appointments::booking_org_name.eq(org_name),
        appointments::booking_org_telecom.eq(telecom),
        appointments::description.eq(&plan.description),
        appointments::comment.eq(&plan.comment),
        appointments::cancellation_reason.eq(&plan.reason),
        appointments::cancelled_at.eq((!plan.booked).then_some(at)),
    );
    let id: AppointmentId = match plan.existing {
        Some(id) => {
            diesel::update(appointments::table.find(id))
                .set((values, appointments::version.eq(appointments::version + 1)))
                .execute(conn)?;
            diesel::delete(
                appointment_slots::table.filter(appointment_slots::appointment_id.eq(id)),
            )
            .execute(conn)?;
            id
        }
        None => diesel::insert_into(appointments::table)
            .values((
                values,
                appointments::practice_id.eq(practice),
                appointments::source.eq("practice-system"),
                appointments::external_id.eq(&plan.external_id),
                appointments::created.eq(plan.created),
                appointments::recorded_at.eq(at),
            ))
            .returning(appointments::id)
            .get_result(conn)?,
    };
    let links: Vec<_> = plan
        .slots
        .iter()
        .map(|slot| {
            (
                appointment_slots::appointment_id.eq(id),
                appointment_slots::slot_id.eq(*slot),
            )
        })
        .collect();
    diesel::insert_into(appointment_slots::table)
        .values(links)
        .execute(conn)?;
    // Slots this appointment no longer holds are free again unless something else holds them.
    let held_now: Vec<SlotId> = if plan.booked {
        plan.slots.clone()
    } else {
        Vec::new()
    };
    let released: Vec<SlotId> = old_slots
        .iter()
        .chain(&plan.slots)
        .filter(|s| !held_now.contains(s))
        .copied()
        .collect();
    let still_held = holders(conn, &released)?;
    let free: Vec<SlotId> = released
        .into_iter()
        .filter(|s| !still_held.contains_key(s))
        .collect();
    diesel::update(slots::table.filter(slots::id.eq_any(&free)))
        .set(slots::status.eq("free"))
        .execute(conn)?;
    diesel::update(slots::table.filter(slots::id.eq_any(&held_now)))
        .set(slots::status.eq("busy"))
        .execute(conn)?;
    let after = by_id(conn, practice, id)?.ok_or(diesel::result::Error::NotFound)?;
    change_log::record(
        conn,
        actor,
        Change::new(
            if before.is_some() { "update" } else { "record" },
            "appointment",
        )
        .practice(practice)
        .entity(id.0)
        .before(before.as_ref().map(events::summary))
        .after(events::summary(&after)),
    )?;
    Ok(if before.is_some() {
        Written::Updated
    } else {
        Written::Created
    })
}
