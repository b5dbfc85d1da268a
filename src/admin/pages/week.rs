//! The week view: a week of the practice's slots, each with whom it is offered to and, when it
//! is hidden, why; optionally whether one chosen organisation can book each, and why not (the
//! query module's explanation). Filters: one schedule, free slots only, hidden slots only.

use std::collections::HashMap;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, NaiveDate};
use serde::Deserialize;

use super::looking::{Chooser, LookingQuery, looking};
use super::{consumer_label, monday_of, today};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{DateInput, Errors};
use crate::admin::view::{Layout, audience, html, local_day, local_time};
use crate::appointments::listing;
use crate::availability::codes::ORGANISATION_TYPES;
use crate::availability::limits;
use crate::availability::manage;
use crate::availability::query::{self, Consumer};
use crate::db::ids::{ScheduleId, SlotId};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct WeekQuery {
    schedule: Option<String>,
    week: Option<String>,
    week_day: Option<String>,
    week_month: Option<String>,
    week_year: Option<String>,
    #[serde(flatten)]
    looking: LookingQuery,
    /// "yes": free slots only.
    free: Option<String>,
    /// "yes": only the slots not offered (to the chosen organisation, else to anyone).
    hidden: Option<String>,
}

struct WeekSlot {
    id: SlotId,
    time: String,
    schedule: String,
    slot_type: String,
    channel: String,
    status: String,
    own_setting: bool,
    exposed: bool,
    audience: String,
    hidden_because: Vec<String>,
    /// For the chosen consumer: None when no consumer is chosen.
    visible_to_consumer: Option<bool>,
    consumer_reasons: Vec<String>,
    /// For a slot an appointment holds: who booked it, and how.
    booked_by: Option<String>,
}

struct WeekDay {
    day: String,
    slots: Vec<WeekSlot>,
}

#[derive(Template)]
#[template(path = "admin/week.html")]
struct WeekPage {
    layout: Layout,
    ods: String,
    schedules: Vec<(ScheduleId, String)>,
    schedule: Option<ScheduleId>,
    week_input: DateInput,
    week_label: String,
    previous: NaiveDate,
    next: NaiveDate,
    chooser: Chooser,
    show_nobody: bool,
    org_type: String,
    ods_code: String,
    free_only: bool,
    hidden_only: bool,
    consumer: Option<String>,
    /// The chosen organisation's type and ODS code, for the slots' links.
    consumer_type: String,
    consumer_ods: String,
    days: Vec<WeekDay>,
    count: usize,
    errors: Errors,
    org_type_options: &'static [(&'static str, &'static str)],
}

impl WeekPage {
    fn is_schedule(&self, id: &ScheduleId) -> bool {
        self.schedule == Some(*id)
    }

    /// The page's query string for another week, keeping the schedule, the filters and the
    /// organisation chosen.
    fn query(&self, week: &NaiveDate) -> String {
        let mut q = format!("week={week}");
        if let Some(s) = self.schedule {
            q.push_str(&format!("&schedule={s}"));
        }
        if self.free_only {
            q.push_str("&free=yes");
        }
        if self.hidden_only {
            q.push_str("&hidden=yes");
        }
        let chosen = self.chooser.query();
        if !chosen.is_empty() {
            q.push('&');
            q.push_str(&chosen);
        }
        q
    }

    /// The query string choosing the same organisation on a slot's page.
    fn slot_query(&self) -> String {
        format!(
            "org_type={}&ods_code={}",
            self.consumer_type, self.consumer_ods
        )
    }
}

pub async fn week_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    q: web::Query<WeekQuery>,
) -> Result<HttpResponse, AdminError> {
    let q = q.into_inner();
    let mut errors = Errors::default();
    let sent = DateInput::sent(
        "week",
        q.week.as_deref(),
        [&q.week_day, &q.week_month, &q.week_year].map(|p| p.as_deref()),
    );
    let week = monday_of(
        sent.as_ref()
            .and_then(|d| d.parse("week's date", &mut errors))
            .unwrap_or_else(|| today(&state)),
    );
    let week_input = match sent {
        Some(d) if errors.has("week") => d,
        _ => DateInput::of("week", week),
    };
    let schedule = q
        .schedule
        .as_deref()
        .and_then(|s| s.parse::<ScheduleId>().ok());
    let practice = access.id();
    let groups = run(&state, move |conn| {
        Ok(crate::availability::groups::list(conn, practice)?)
    })
    .await?;
    let (chooser, consumer) = looking(&q.looking, &groups, &mut errors);
    let chosen = consumer.clone();
    let now = state.clock.now();
    let (schedules, slots, exposure, for_consumer, limits, booked) = run(&state, move |conn| {
        if let Some(s) = schedule {
            manage::schedule(conn, practice, s)?.ok_or(AdminError::NotFound)?;
        }
        let from = query::local_midnight(week);
        let to = query::local_midnight(week + Days::new(7));
        let schedules = manage::schedule_names(conn, practice)?;
        let slots = manage::slots_between(conn, practice, schedule, from, to)?;
        let exposure = query::explain_between(conn, practice, from, to, &Consumer::default(), now)?;
        let for_consumer = match &chosen {
            Some(c) => Some(query::explain_between(conn, practice, from, to, c, now)?),
            None => None,
        };
        let limits = limits::list(conn, practice)?;
        let booked = listing::booked_slots(conn, practice, from, to)?;
        Ok((schedules, slots, exposure, for_consumer, limits, booked))
    })
    .await?;
    let exposure: HashMap<SlotId, query::SlotExposure> =
        exposure.into_iter().map(|e| (e.slot_id, e)).collect();
    let for_consumer: Option<HashMap<SlotId, query::SlotExposure>> =
        for_consumer.map(|v| v.into_iter().map(|e| (e.slot_id, e)).collect());
    let schedule_names: HashMap<ScheduleId, String> = schedules.iter().cloned().collect();
    let free_only = q.free.as_deref() == Some("yes");
    let hidden_only = q.hidden.as_deref() == Some("yes");
    let mut days: Vec<WeekDay> = Vec::new();
    let mut count = 0;
    for s in slots {
        let day = local_day(&s.start_at);
        let e = exposure.get(&s.id);
        let exposed = e.is_some_and(manage::exposed_to_someone);
        let hidden_because = e
            .map(|e| {
                e.reasons
                    .iter()
                    .filter(|r| !manage::depends_on_consumer(**r))
                    .map(|r| e.explanation(*r, &limits))
                    .collect()
            })
            .unwrap_or_default();
        let (visible_to_consumer, consumer_reasons) =
            match for_consumer.as_ref().and_then(|m| m.get(&s.id)) {
                Some(c) => (Some(c.visible()), c.explanations(&limits)),
                None => (None, vec![]),
            };
        let offered = visible_to_consumer.unwrap_or(exposed);
        if (free_only && s.status != "free") || (hidden_only && offered) {
            continue;
        }
        count += 1;
        let slot = WeekSlot {
            id: s.id,
            time: format!("{}–{}", local_time(&s.start_at), local_time(&s.end_at)),
            schedule: schedule_names
                .get(&s.schedule_id)
                .cloned()
                .unwrap_or_default(),
            slot_type: s.slot_type.clone().unwrap_or_else(|| "None".into()),
            channel: s
                .delivery_channel
                .clone()
                .unwrap_or_else(|| "Not set".into()),
            status: match s.status.as_str() {
                "free" => "Free".to_owned(),
                "busy" => "Booked".to_owned(),
                other => other.to_owned(),
            },
            own_setting: s.overrides_schedule,
            exposed,
            audience: audience(s.gpc_bookable, &s.audiences, &groups),
            hidden_because,
            visible_to_consumer,
            consumer_reasons,
            booked_by: booked.get(&s.id).map(|b| {
                let how = if b.gp_connect {
                    "booked through GP Connect"
                } else {
                    "booked in the practice's clinical system"
                };
                format!("{} ({}), {how}", b.org_name, b.org_ods_code)
            }),
        };
        match days.last_mut() {
            Some(d) if d.day == day => d.slots.push(slot),
            _ => days.push(WeekDay {
                day,
                slots: vec![slot],
            }),
        }
    }
    let page = WeekPage {
        layout: access.layout(&session, "Week view", "week")?,
        ods: access.ods().to_owned(),
        schedules,
        schedule,
        week_input,
        week_label: format!("Week of {}", local_day(&query::local_midnight(week))),
        previous: week - Days::new(7),
        next: week + Days::new(7),
        org_type: chooser.org_type.clone(),
        ods_code: chooser.ods_code.clone(),
        chooser,
        show_nobody: true,
        free_only,
        hidden_only,
        consumer: consumer.as_ref().map(consumer_label),
        consumer_type: consumer
            .as_ref()
            .and_then(|c| c.org_type.clone())
            .unwrap_or_default(),
        consumer_ods: consumer
            .as_ref()
            .and_then(|c| c.ods_code.as_ref().map(|o| o.to_string()))
            .unwrap_or_default(),
        days,
        count,
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
