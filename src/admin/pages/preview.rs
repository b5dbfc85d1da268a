//! Preview: the free slots a chosen organisation (NHS 111, a neighbouring practice, a member of
//! one of the practice's groups, or any type and ODS code) would find over a few days, exactly
//! as the query module answers GP Connect, grouped by schedule.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Days;
use serde::Deserialize;

use super::looking::{Chooser, LookingQuery, looking};
use super::{consumer_label, today};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{DateInput, Errors};
use crate::admin::view::{Layout, html, local_day, local_time};
use crate::availability::codes::ORGANISATION_TYPES;
use crate::availability::groups;
use crate::availability::query::{self, Consumer, SearchWindow};
use crate::db::ids::ScheduleId;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    #[serde(flatten)]
    looking: LookingQuery,
    from: Option<String>,
    from_day: Option<String>,
    from_month: Option<String>,
    from_year: Option<String>,
    to: Option<String>,
    to_day: Option<String>,
    to_month: Option<String>,
    to_year: Option<String>,
}

struct PreviewSlot {
    day: String,
    time: String,
    slot_type: String,
    channel: String,
    practitioner: String,
    location: String,
}

/// One schedule's slots in the preview.
struct PreviewSchedule {
    id: ScheduleId,
    name: String,
    slots: Vec<PreviewSlot>,
}

#[derive(Template)]
#[template(path = "admin/preview.html")]
struct PreviewPage {
    layout: Layout,
    ods: String,
    chooser: Chooser,
    show_nobody: bool,
    org_type: String,
    ods_code: String,
    from: DateInput,
    to: DateInput,
    consumer: String,
    schedules: Vec<PreviewSchedule>,
    total: usize,
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
    let start = today(&state);
    let sent = |field, iso: &Option<String>, parts: [&Option<String>; 3]| {
        DateInput::sent(field, iso.as_deref(), parts.map(|p| p.as_deref()))
    };
    let from = sent("from", &q.from, [&q.from_day, &q.from_month, &q.from_year]);
    let to = sent("to", &q.to, [&q.to_day, &q.to_month, &q.to_year]);
    let searched = from.is_some() || to.is_some();
    let from = from.unwrap_or_else(|| DateInput::of("from", start));
    let to = to.unwrap_or_else(|| DateInput::of("to", start + Days::new(6)));
    let window = match (
        from.parse("first day", &mut errors),
        to.parse("last day", &mut errors),
    ) {
        (Some(f), Some(t)) => match SearchWindow::local_days(f, t) {
            Ok(w) => Some(w),
            Err(e) => {
                errors.add("to", crate::admin::forms::capitalise(&e.to_string()));
                None
            }
        },
        _ => None,
    };
    let practice = access.id();
    let groups = run(&state, move |conn| Ok(groups::list(conn, practice)?)).await?;
    let (chooser, consumer) = looking(&q.looking, &groups, &mut errors);
    let consumer = consumer.unwrap_or_default();
    let run_search = searched && errors.is_empty();
    let c = consumer.clone();
    let now = state.clock.now();
    let result = run(&state, move |conn| {
        Ok(match (run_search, window) {
            (true, Some(w)) => Some(query::free_slots(conn, practice, &w, &c, now)?),
            _ => None,
        })
    })
    .await?;
    let mut schedules: Vec<PreviewSchedule> = Vec::new();
    let mut total = 0;
    if let Some(r) = &result {
        total = r.slots.len();
        for s in &r.slots {
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
            let name = schedule
                .and_then(|x| x.schedule_type.clone())
                .unwrap_or_default();
            let slot = PreviewSlot {
                day: local_day(&s.start),
                time: format!("{}–{}", local_time(&s.start), local_time(&s.end)),
                slot_type: s.slot_type.clone(),
                channel: s
                    .delivery_channel
                    .map_or_else(|| "Not set".into(), |c| c.code().to_owned()),
                practitioner,
                location,
            };
            match schedules.iter_mut().find(|x| x.id == s.schedule_id) {
                Some(x) => x.slots.push(slot),
                None => schedules.push(PreviewSchedule {
                    id: s.schedule_id,
                    name,
                    slots: vec![slot],
                }),
            }
        }
    }
    let consumer_text = if consumer == Consumer::default() {
        "an organisation that gives neither its type nor its ODS code".to_owned()
    } else {
        consumer_label(&consumer)
    };
    let page = PreviewPage {
        layout: access.layout(&session, "Preview", "preview")?,
        ods: access.ods().to_owned(),
        org_type: chooser.org_type.clone(),
        ods_code: chooser.ods_code.clone(),
        chooser,
        show_nobody: false,
        from,
        to,
        consumer: consumer_text,
        schedules,
        total,
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
