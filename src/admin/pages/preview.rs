//! Preview as a consumer: the free slots a chosen consumer would find, over a few days, as the
//! query module answers GP Connect.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Days;
use serde::Deserialize;

use super::{consumer_from, consumer_label, today};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors};
use crate::admin::view::{Layout, html, local_day, local_time};
use crate::availability::codes::ORGANISATION_TYPES;
use crate::availability::query::{self, Consumer, SearchWindow};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    org_type: Option<String>,
    ods_code: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

struct PreviewSlot {
    day: String,
    time: String,
    slot_type: String,
    channel: String,
    schedule: String,
    practitioner: String,
    location: String,
}

#[derive(Template)]
#[template(path = "admin/preview.html")]
struct PreviewPage {
    layout: Layout,
    ods: String,
    org_type: String,
    ods_code: String,
    from: String,
    to: String,
    consumer: String,
    slots: Vec<PreviewSlot>,
    searched: bool,
    errors: Errors,
    org_type_options: &'static [(&'static str, &'static str)],
}

pub async fn preview_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AdminError> {
    let q = q.into_inner();
    let mut errors = Errors::default();
    let searched = q.from.is_some() || q.to.is_some();
    let start = today(&state);
    let (from, to) = if searched {
        (
            forms::date(
                q.from.as_deref().unwrap_or_default(),
                "from",
                "first day",
                &mut errors,
            ),
            forms::date(
                q.to.as_deref().unwrap_or_default(),
                "to",
                "last day",
                &mut errors,
            ),
        )
    } else {
        (Some(start), Some(start + Days::new(6)))
    };
    let window = match (from, to) {
        (Some(f), Some(t)) => match SearchWindow::local_days(f, t) {
            Ok(w) => Some(w),
            Err(e) => {
                errors.add("to", forms::capitalise(&e.to_string()));
                None
            }
        },
        _ => None,
    };
    let consumer = consumer_from(&q.org_type, &q.ods_code, &mut errors).unwrap_or_default();
    let run_search = searched && errors.is_empty();
    let c = consumer.clone();
    let practice = access.id();
    let now = state.clock.now();
    let result = run(&state, move |conn| {
        Ok(match (run_search, window) {
            (true, Some(w)) => Some(query::free_slots(conn, practice, &w, &c, now)?),
            _ => None,
        })
    })
    .await?;
    let slots = result
        .map(|r| {
            r.slots
                .iter()
                .map(|s| {
                    let schedule = r.schedules.iter().find(|x| x.id == s.schedule_id);
                    let location = schedule
                        .and_then(|x| r.locations.iter().find(|l| l.id == x.location_id))
                        .map(|l| l.name.clone())
                        .unwrap_or_default();
                    let practitioner = schedule
                        .and_then(|x| x.practitioner_id)
                        .and_then(|p| r.practitioners.iter().find(|x| x.id == p))
                        .map(|p| {
                            [
                                p.prefix.clone(),
                                p.given_name.clone(),
                                Some(p.family_name.clone()),
                            ]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                        })
                        .unwrap_or_default();
                    PreviewSlot {
                        day: local_day(&s.start),
                        time: format!("{}–{}", local_time(&s.start), local_time(&s.end)),
                        slot_type: s.slot_type.clone(),
                        channel: s
                            .delivery_channel
                            .map_or_else(|| "Not set".into(), |c| c.code().to_owned()),
                        schedule: schedule
                            .and_then(|x| x.schedule_type.clone())
                            .unwrap_or_default(),
                        practitioner,
                        location,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let consumer_text = if consumer == Consumer::default() {
        "a consumer that sends neither an organisation type nor an ODS code".to_owned()
    } else {
        consumer_label(&consumer)
    };
    let page = PreviewPage {
        layout: access.layout(&session, "Preview as a consumer", "preview")?,
        ods: access.ods().to_owned(),
        org_type: q.org_type.unwrap_or_default(),
        ods_code: q.ods_code.unwrap_or_default(),
        from: q.from.unwrap_or_else(|| start.to_string()),
        to: q.to.unwrap_or_else(|| (start + Days::new(6)).to_string()),
        consumer: consumer_text,
        slots,
        searched: run_search,
        errors,
        org_type_options: ORGANISATION_TYPES,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html(status, &page)
}
