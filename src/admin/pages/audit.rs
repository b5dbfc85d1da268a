//! The audit log page: the practice's change log, filtered, in words: each record by what a
//! manager knows it by ("Tue 8 Dec 08:30, GP morning surgery"), each change's fields before and
//! after, a bulk edit as one entry that opens to list its slots; no internal versions or ids.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::Value;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{DateInput, Errors, capitalise};
use crate::admin::view::{Layout, audience, html, local_day_time, local_when};
use crate::availability::audience::Audiences;
use crate::availability::groups::{self, OrgGroup};
use crate::availability::manage::{self, AuditEntry, AuditFilter};
use crate::db::ids::{PracticeId, ScheduleId, SlotId};
use crate::db::schema::slots;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    from: Option<String>,
    from_day: Option<String>,
    from_month: Option<String>,
    from_year: Option<String>,
    to: Option<String>,
    to_day: Option<String>,
    to_month: Option<String>,
    to_year: Option<String>,
}

/// A change's fields in words: (field, before, after).
type Changes = Vec<(String, String, String)>;

/// One change, or one bulk edit (its slots in `items`), as the page lists it.
struct AuditLine {
    when: String,
    actor: String,
    what: String,
    /// The record in words: "Tue 8 Dec 08:30, GP morning surgery", a schedule's name.
    record: String,
    /// `entity-id`, for the row's `data-record` (never shown).
    key: String,
    changes: Vec<(String, String, String)>,
    /// A bulk edit's slots (key, record, change).
    items: Vec<(String, String, Changes)>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    ods: String,
    q: AuditQueryValues,
    from: DateInput,
    to: DateInput,
    entries: Vec<AuditLine>,
    limit: i64,
    errors: Errors,
}

struct AuditQueryValues {
    entity: String,
    entity_id: String,
    action: String,
    actor: String,
}

const AUDIT_LIMIT: i64 = 500;

/// The record types the filter offers, in words.
const ENTITIES: &[(&str, &str)] = &[
    ("schedule", "Schedules"),
    ("slot", "Slots"),
    ("org_group", "Groups"),
    ("booking_limit", "Booking limits"),
    ("practice", "The practice"),
    ("user", "Users and sign-ins"),
];

/// The actions the filter offers, in words.
const ACTIONS: &[(&str, &str)] = &[
    ("update", "Changed"),
    ("bulk-update", "Bulk edit"),
    ("import", "Rota import"),
    ("create", "Added"),
    ("delete", "Removed"),
    ("grant", "Access given"),
];

/// What happened, in words.
fn action_words(action: &str, entity: &str) -> String {
    let thing = match entity {
        "schedule" => "a schedule",
        "slot" => "a slot",
        "org_group" => "a group",
        "booking_limit" => "a booking limit",
        "practice" => "the practice",
        "practice_asid" => "the practice's GP Connect registration",
        "user" => "a user",
        "rota" => "the rota",
        "patient" => "a patient",
        "booking" => "a booking",
        "api_credential" => "a practice system's key",
        "report_settings" => "the report settings",
        _ => "a record",
    };
    let verb = match action {
        "update" => "Changed",
        "create" => "Added",
        "delete" => "Removed",
        "import" => "Imported",
        "grant" => "Gave access to",
        "book" => "Booked",
        "release" => "Released",
        "set_groups" => "Changed the groups of",
        "set_booking_window" => "Changed the booking window of",
        "issue" => "Issued",
        "revoke" => "Withdrew",
        "sign-in" | "login" => return "Signed in".into(),
        "sign-out" | "logout" => return "Signed out".into(),
        other => return capitalise(&other.replace(['_', '-'], " ")),
    };
    format!("{verb} {thing}")
}

/// A field's name in words; None for what is internal (versions, ids).
fn field_words(field: &str) -> Option<String> {
    Some(
        match field {
            "version" | "id" | "practice_id" | "schedule_id" | "user_id" => return None,
            "gpc_bookable" => "Bookable",
            "audiences" => "Who can book",
            "practitioner_role" => "Practitioner role",
            "delivery_channel" => "How the appointment happens",
            "schedule_type" => "Schedule type",
            "slot_type" => "Slot type",
            "status" => "Status",
            "from_days" => "Booking opens (days before)",
            "until_minutes" => "Booking closes (minutes before)",
            "members" => "Members",
            "name" => "Name",
            "role" => "Role",
            other => return Some(capitalise(&other.replace('_', " "))),
        }
        .to_owned(),
    )
}

/// A value in words (who can book as audiences, yes/no for true/false).
fn show_json(field: &str, v: Option<&Value>, groups: &[OrgGroup]) -> String {
    match v {
        None | Some(Value::Null) => "–".into(),
        Some(Value::Bool(b)) => if *b { "Yes" } else { "No" }.into(),
        Some(Value::Array(a)) if field == "audiences" => {
            let tokens: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            Audiences::from_tokens(&tokens)
                .map_or_else(|_| tokens.join(", "), |a| audience(true, &a, groups))
        }
        Some(Value::Array(a)) if a.is_empty() => "none".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The fields that differ between before and after, as (field, before, after), in words;
/// internal ones (versions) left out.
fn changes(
    before: Option<&Value>,
    after: Option<&Value>,
    groups: &[OrgGroup],
) -> Vec<(String, String, String)> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .filter_map(|k| {
            Some((
                field_words(k)?,
                show_json(k, b.get(k), groups),
                show_json(k, a.get(k), groups),
            ))
        })
        .collect()
}

/// The names of the records the entries are about: slots by day, time and schedule, schedules
/// by name.
struct Names {
    schedules: HashMap<i64, String>,
    slots: HashMap<i64, String>,
}

impl Names {
    fn load(
        conn: &mut PgConnection,
        practice: PracticeId,
        entries: &[AuditEntry],
    ) -> QueryResult<Names> {
        let schedules: HashMap<i64, String> = manage::schedule_names(conn, practice)?
            .into_iter()
            .map(|(id, name)| (id.0, name))
            .collect();
        let slot_ids: Vec<SlotId> = entries
            .iter()
            .filter(|e| e.entity == "slot")
            .filter_map(|e| e.entity_id.map(SlotId))
            .collect();
        let rows: Vec<(SlotId, ScheduleId, DateTime<Utc>)> = slots::table
            .filter(slots::practice_id.eq(practice))
            .filter(slots::id.eq_any(&slot_ids))
            .select((slots::id, slots::schedule_id, slots::start_at))
            .load(conn)?;
        let slots = rows
            .into_iter()
            .map(|(id, schedule, start)| {
                let name = schedules.get(&schedule.0).cloned().unwrap_or_default();
                (id.0, format!("{}, {name}", local_day_time(&start)))
            })
            .collect();
        Ok(Names { schedules, slots })
    }

    fn record(&self, e: &AuditEntry) -> String {
        let id = e.entity_id.unwrap_or_default();
        match e.entity.as_str() {
            "slot" => self
                .slots
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "A slot no longer in the rota".into()),
            "schedule" => self
                .schedules
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "A schedule no longer in the rota".into()),
            _ => e
                .after
                .as_ref()
                .or(e.before.as_ref())
                .and_then(|v| v.get("name").or_else(|| v.get("username")))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_default(),
        }
    }
}

/// The entries as lines, newest first, each bulk edit (its rows share the moment, the person
/// and the action) one line holding its slots.
fn lines(entries: Vec<AuditEntry>, names: &Names, groups: &[OrgGroup]) -> Vec<AuditLine> {
    let mut out: Vec<AuditLine> = Vec::new();
    let mut last: Option<(DateTime<Utc>, String)> = None;
    for e in entries {
        let key = format!("{}-{}", e.entity, e.entity_id.unwrap_or_default());
        let record = names.record(&e);
        let change = changes(e.before.as_ref(), e.after.as_ref(), groups);
        let moment = (e.at, e.actor.clone());
        if e.action == "bulk-update"
            && last.as_ref() == Some(&moment)
            && let Some(line) = out.last_mut()
        {
            line.items.push((key, record, change));
            line.what = format!("Bulk edit of {} slots", line.items.len());
            continue;
        }
        let bulk = e.action == "bulk-update";
        last = bulk.then_some(moment);
        out.push(AuditLine {
            when: local_when(&e.at),
            what: if bulk {
                "Bulk edit of 1 slot".into()
            } else {
                action_words(&e.action, &e.entity)
            },
            actor: e.actor,
            record: if bulk { String::new() } else { record.clone() },
            changes: if bulk { Vec::new() } else { change.clone() },
            items: if bulk {
                vec![(key.clone(), record, change)]
            } else {
                Vec::new()
            },
            key,
        });
    }
    out
}

pub async fn audit_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    let q = q.into_inner();
    let mut errors = Errors::default();
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let sent = |field, iso: &Option<String>, parts: [&Option<String>; 3]| {
        DateInput::sent(field, iso.as_deref(), parts.map(|p| p.as_deref()))
            .unwrap_or_else(|| DateInput::blank(field))
    };
    let from = sent("from", &q.from, [&q.from_day, &q.from_month, &q.from_year]);
    let to = sent("to", &q.to, [&q.to_day, &q.to_month, &q.to_year]);
    // A record number comes only from links (a slot's or schedule's history), never typed.
    let entity_id = clean(&q.entity_id).and_then(|v| v.parse::<i64>().ok());
    let filter = AuditFilter {
        entity: clean(&q.entity),
        entity_id,
        action: clean(&q.action),
        actor: clean(&q.actor),
        first_day: from.parse_optional("first day", &mut errors),
        last_day: to.parse_optional("last day", &mut errors),
    };
    let too_long = filter.too_long();
    for field in too_long.iter().copied() {
        errors.add(
            field,
            format!("Enter {} characters or fewer", AuditFilter::MAX_TEXT),
        );
    }
    let practice = access.id();
    let run_query = too_long.is_empty() && errors.is_empty();
    let (entries, names, groups) = run(&state, move |conn| {
        let entries = if run_query {
            manage::audit_entries(conn, practice, &filter, AUDIT_LIMIT)?
        } else {
            Vec::new()
        };
        let names = Names::load(conn, practice, &entries)?;
        Ok((entries, names, groups::list(conn, practice)?))
    })
    .await?;
    let count = entries.len() as i64;
    let page = AuditPage {
        layout: access.layout(&session, "Audit log", "audit")?,
        ods: access.ods().to_owned(),
        q: AuditQueryValues {
            entity: q.entity.unwrap_or_default(),
            entity_id: q.entity_id.unwrap_or_default(),
            action: q.action.unwrap_or_default(),
            actor: q.actor.unwrap_or_default(),
        },
        from,
        to,
        entries: lines(entries, &names, &groups),
        limit: if count == AUDIT_LIMIT { AUDIT_LIMIT } else { 0 },
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_changes_list_only_the_fields_that_differ() {
        let before = serde_json::json!({"gpc_bookable": false, "audiences": [], "version": 1});
        let after = serde_json::json!({"gpc_bookable": true, "audiences": [], "version": 2});
        assert_eq!(
            changes(Some(&before), Some(&after), &[]),
            vec![("Bookable".to_owned(), "No".to_owned(), "Yes".to_owned())],
            "the version is internal"
        );
        let before = serde_json::json!({"audiences": ["type:urgent-care"]});
        let after = serde_json::json!({"audiences": ["type:urgent-care", "ods:Y03032"]});
        assert_eq!(
            changes(Some(&before), Some(&after), &[]),
            vec![(
                "Who can book".to_owned(),
                "NHS 111 and other urgent care services".to_owned(),
                "NHS 111 and other urgent care services, Y03032".to_owned()
            )]
        );
    }

    fn entry(at: DateTime<Utc>, action: &str, id: i64) -> AuditEntry {
        AuditEntry {
            id,
            at,
            actor: "Jo Bloggs".into(),
            action: action.into(),
            entity: "slot".into(),
            entity_id: Some(id),
            before: Some(serde_json::json!({"gpc_bookable": true, "version": 1})),
            after: Some(serde_json::json!({"gpc_bookable": false, "version": 2})),
        }
    }

    #[test]
    fn a_bulk_edit_is_one_line_listing_its_slots_by_day_time_and_schedule() {
        use chrono::TimeZone;
        let at = Utc.with_ymd_and_hms(2026, 12, 8, 8, 30, 0).unwrap();
        let later = at + chrono::Duration::minutes(5);
        let names = Names {
            schedules: HashMap::new(),
            slots: HashMap::from([
                (1, "Tue 8 Dec 08:30, GP morning surgery".to_owned()),
                (2, "Tue 8 Dec 08:40, GP morning surgery".to_owned()),
            ]),
        };
        let lines = lines(
            vec![
                entry(later, "update", 1),
                entry(at, "bulk-update", 1),
                entry(at, "bulk-update", 2),
            ],
            &names,
            &[],
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].what, "Changed a slot");
        assert_eq!(lines[0].record, "Tue 8 Dec 08:30, GP morning surgery");
        assert_eq!(lines[1].what, "Bulk edit of 2 slots");
        assert_eq!(lines[1].when, "Tue 8 Dec 2026 08:30");
        assert_eq!(lines[1].items[1].1, "Tue 8 Dec 08:40, GP morning surgery");
        assert_eq!(
            lines[1].items[1].2,
            vec![("Bookable".to_owned(), "Yes".to_owned(), "No".to_owned())]
        );
    }
}
