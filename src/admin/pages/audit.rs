//! The audit log page: the practice's change log, filtered, with each change's fields before
//! and after.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::Errors;
use crate::admin::view::{Layout, html, local_stamp};
use crate::availability::manage::{self, AuditFilter};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    entity: Option<String>,
    entity_id: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct AuditLine {
    when: String,
    actor: String,
    action: String,
    entity: String,
    changes: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    layout: Layout,
    ods: String,
    q: AuditQueryValues,
    entries: Vec<AuditLine>,
    limit: i64,
    errors: Errors,
}

struct AuditQueryValues {
    entity: String,
    entity_id: String,
    action: String,
    actor: String,
    from: String,
    to: String,
}

const AUDIT_LIMIT: i64 = 500;

fn show_json(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "–".into(),
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

/// The fields that differ between before and after, as (field, before, after).
fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<(String, String, String)> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| {
            (
                k.replace('_', " "),
                show_json(b.get(k)),
                show_json(a.get(k)),
            )
        })
        .collect()
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
    let day = |v: &Option<String>, field: &'static str, errors: &mut Errors| {
        clean(v).and_then(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok().or_else(|| {
                errors.add(field, "Enter a real date, like 2026-11-24");
                None
            })
        })
    };
    let entity_id = clean(&q.entity_id).and_then(|v| {
        v.parse::<i64>().ok().or_else(|| {
            errors.add("entity_id", "The record number must be a whole number");
            None
        })
    });
    let filter = AuditFilter {
        entity: clean(&q.entity),
        entity_id,
        action: clean(&q.action),
        actor: clean(&q.actor),
        first_day: day(&q.from, "from", &mut errors),
        last_day: day(&q.to, "to", &mut errors),
    };
    let too_long = filter.too_long();
    for field in too_long.iter().copied() {
        errors.add(
            field,
            format!("Enter {} characters or fewer", AuditFilter::MAX_TEXT),
        );
    }
    let practice = access.id();
    let entries = if too_long.is_empty() {
        run(&state, move |conn| {
            Ok(manage::audit_entries(conn, practice, &filter, AUDIT_LIMIT)?)
        })
        .await?
    } else {
        Vec::new()
    };
    let entries = entries
        .into_iter()
        .map(|e| AuditLine {
            when: local_stamp(&e.at),
            actor: e.actor,
            action: e.action,
            entity: match e.entity_id {
                Some(id) => format!("{} {id}", e.entity),
                None => e.entity,
            },
            changes: changes(e.before.as_ref(), e.after.as_ref()),
        })
        .collect();
    let page = AuditPage {
        layout: access.layout(&session, "Audit log", "audit")?,
        ods: access.ods().to_owned(),
        q: AuditQueryValues {
            entity: q.entity.unwrap_or_default(),
            entity_id: q.entity_id.unwrap_or_default(),
            action: q.action.unwrap_or_default(),
            actor: q.actor.unwrap_or_default(),
            from: q.from.unwrap_or_default(),
            to: q.to.unwrap_or_default(),
        },
        entries,
        limit: AUDIT_LIMIT,
        errors,
    };
    html(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_changes_list_only_the_fields_that_differ() {
        let before = serde_json::json!({"gpc_bookable": false, "audiences": [], "version": 1});
        let after = serde_json::json!({"gpc_bookable": true, "audiences": [], "version": 2});
        assert_eq!(
            changes(Some(&before), Some(&after)),
            vec![
                (
                    "gpc bookable".to_owned(),
                    "false".to_owned(),
                    "true".to_owned()
                ),
                ("version".to_owned(), "1".to_owned(), "2".to_owned()),
            ]
        );
    }
}
