//! The document checked against what the practice already has: every reference resolves, every
//! code is one GP Connect knows, and nothing would become bookable that can't be. Every problem
//! is listed; nothing is written here.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::{BookabilityIn, ImportDocument, ImportError, checks};
use crate::availability::audience::{Audiences, Named};
use crate::availability::codes::{DeliveryChannel, OdsCode, OrganisationType, PractitionerRole};
use crate::availability::rules::{Exposable, check_can_be_bookable};
use crate::db::ids::PracticeId;
use crate::db::schema::{locations, practitioners, schedules};

/// Schedule settings the slot checks need, from the document or the database.
#[derive(Clone)]
struct ScheduleFacts {
    bookable: bool,
    channel: Option<DeliveryChannel>,
    role: Option<String>,
}

/// (bookable, who can book as stored audience tokens), validated.
pub(super) type ParsedBookability = (bool, Vec<String>);

/// What the writes take from a valid document: each schedule's and slot's bookability, in
/// document order (`None`: the document gives none).
pub(super) struct Valid {
    pub schedules: Vec<Option<ParsedBookability>>,
    pub slots: Vec<Option<ParsedBookability>>,
}

/// The document checked against the practice `pid`; every problem in [`ImportError::Invalid`].
pub(super) fn validate(
    conn: &mut PgConnection,
    pid: PracticeId,
    doc: &ImportDocument,
) -> Result<Valid, ImportError> {
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
    let location_ids: HashSet<&str> = known_locations
        .iter()
        .map(String::as_str)
        .chain(doc.locations.iter().map(|l| l.id.as_str()))
        .collect();
    let practitioner_ids: HashSet<&str> = known_practitioners
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
                            errors.push(format!("{at}: can't be GP Connect bookable: {refusal}"));
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
    Ok(Valid {
        schedules: schedule_bookability,
        slots: slot_bookability,
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

/// A document's (organisation types, ODS codes) pair is read as the audiences the four-case
/// table makes of it (`Audiences::from_restriction`), so an import answers searches as before.
fn parse_bookability(errors: &mut Vec<String>, at: &str, b: &BookabilityIn) -> ParsedBookability {
    let mut org_types = Vec::new();
    for t in &b.org_types {
        match OrganisationType::parse(t) {
            Ok(t) => org_types.push(t),
            Err(e) => errors.push(format!("{at}: {e}")),
        }
    }
    let mut named = Vec::new();
    for c in &b.ods_codes {
        match OdsCode::parse(c) {
            Ok(c) => named.push(Named::Ods(c)),
            Err(e) => errors.push(format!("{at}: {e}")),
        }
    }
    (
        b.gp_connect,
        Audiences::from_restriction(&org_types, &named).tokens(),
    )
}
