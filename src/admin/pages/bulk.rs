//! Bulk edit: one GP Connect setting for every slot matching a selection (schedule, days,
//! weekdays, times, slot type).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, Weekday};
use serde::Deserialize;

use super::{SlotWho, edit_refusal, monday_of, parse_slot_setting, today};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html, see_other, set_flash};
use crate::admin::who_can_book::{WhoSent, WhoValues};
use crate::availability::audience::Audiences;
use crate::availability::groups;
use crate::availability::manage::{self, SlotSelection};
use crate::db::ids::ScheduleId;
use crate::state::AppState;

/// The bulk edit form as sent, and as shown again after a refusal.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BulkForm {
    #[serde(deserialize_with = "forms::text")]
    schedule: String,
    #[serde(deserialize_with = "forms::text")]
    first_day: String,
    #[serde(deserialize_with = "forms::text")]
    last_day: String,
    #[serde(deserialize_with = "forms::texts")]
    weekdays: Vec<String>,
    #[serde(deserialize_with = "forms::text")]
    from_time: String,
    #[serde(deserialize_with = "forms::text")]
    until_time: String,
    #[serde(deserialize_with = "forms::text")]
    slot_type: String,
    #[serde(deserialize_with = "forms::text")]
    setting: String,
    #[serde(deserialize_with = "forms::text")]
    who: String,
    #[serde(deserialize_with = "forms::texts")]
    who_types: Vec<String>,
    #[serde(deserialize_with = "forms::texts")]
    who_groups: Vec<String>,
    #[serde(deserialize_with = "forms::text")]
    who_ods: String,
    #[serde(deserialize_with = "forms::texts")]
    who_keep: Vec<String>,
}

impl BulkForm {
    fn who_sent(&self) -> WhoSent<'_> {
        WhoSent {
            who: &self.who,
            types: &self.who_types,
            groups: &self.who_groups,
            ods: &self.who_ods,
            keep: &self.who_keep,
        }
    }

    fn has_weekday(&self, day: &str) -> bool {
        self.weekdays.iter().any(|d| d == day)
    }
}

const WEEKDAYS: [(&str, &str, Weekday); 7] = [
    ("mon", "Monday", Weekday::Mon),
    ("tue", "Tuesday", Weekday::Tue),
    ("wed", "Wednesday", Weekday::Wed),
    ("thu", "Thursday", Weekday::Thu),
    ("fri", "Friday", Weekday::Fri),
    ("sat", "Saturday", Weekday::Sat),
    ("sun", "Sunday", Weekday::Sun),
];

#[derive(Template)]
#[template(path = "admin/bulk.html")]
struct BulkPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    schedules: Vec<(ScheduleId, String)>,
    slot_types: Vec<String>,
    form: BulkForm,
    who: WhoValues,
    errors: Errors,
    weekdays: [(&'static str, &'static str, Weekday); 7],
}

/// The bulk edit page with the choices (schedules, slot types) as they are now.
async fn bulk_page(
    state: &AppState,
    session: &Session,
    access: &PracticeAccess,
    form: BulkForm,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let (schedules, slot_types, groups) = run(state, move |conn| {
        Ok((
            manage::schedule_names(conn, practice)?,
            manage::slot_types(conn, practice)?,
            groups::list(conn, practice)?,
        ))
    })
    .await?;
    let who = match form.who.as_str() {
        "" => WhoValues::from_audiences(&Audiences::everyone(), &groups),
        _ => {
            WhoValues::from_form(
                &form.who_sent(),
                &groups,
                &Audiences::everyone(),
                &mut Errors::default(),
            )
            .0
        }
    };
    let page = BulkPage {
        layout: access.layout(session, "Bulk edit", "bulk")?,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        schedules,
        slot_types,
        form,
        who,
        errors,
        weekdays: WEEKDAYS,
    };
    html(status, &page)
}

pub async fn bulk_form(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let monday = monday_of(today(&state));
    let form = BulkForm {
        first_day: monday.to_string(),
        last_day: (monday + Days::new(6)).to_string(),
        ..BulkForm::default()
    };
    bulk_page(
        &state,
        &session,
        &access,
        form,
        Errors::default(),
        StatusCode::OK,
    )
    .await
}

pub async fn bulk_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(form): Form<BulkForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let mut errors = Errors::default();
    let schedule = match form.schedule.as_str() {
        "" => None,
        s => s.parse::<ScheduleId>().map(Some).unwrap_or_else(|_| {
            errors.add("schedule", "Select a schedule from the list");
            None
        }),
    };
    let first_day = forms::date(&form.first_day, "first_day", "first day", &mut errors);
    let last_day = forms::date(&form.last_day, "last_day", "last day", &mut errors);
    let weekdays = form
        .weekdays
        .iter()
        .filter_map(|d| WEEKDAYS.iter().find(|w| w.0 == d).map(|w| w.2))
        .collect();
    let from_time = forms::optional_time(&form.from_time, "from_time", "start time", &mut errors);
    let until_time = forms::optional_time(&form.until_time, "until_time", "end time", &mut errors);
    let selection = match (first_day, last_day, errors.is_empty()) {
        (Some(first_day), Some(last_day), true) => Some(SlotSelection {
            schedule,
            first_day,
            last_day,
            weekdays,
            from_time,
            until_time,
            slot_type: (!form.slot_type.is_empty()).then(|| form.slot_type.clone()),
        }),
        _ => None,
    };
    let actor = access.actor();
    let practice = access.id();
    let sent_setting = form.setting.clone();
    let who_form = (
        form.who.clone(),
        form.who_types.clone(),
        form.who_groups.clone(),
        form.who_ods.clone(),
        form.who_keep.clone(),
    );
    let (result, errors) = run(&state, move |conn| {
        if let Some(s) = schedule {
            manage::schedule(conn, practice, s)?.ok_or(AdminError::NotFound)?;
        }
        let groups = groups::list(conn, practice)?;
        let (who, types, group_ids, ods, keep) = &who_form;
        let (_, setting) = parse_slot_setting(
            &SlotWho {
                setting: &sent_setting,
                who: WhoSent {
                    who,
                    types,
                    groups: group_ids,
                    ods,
                    keep,
                },
            },
            &groups,
            &Audiences::everyone(),
            &mut errors,
        );
        let selection = selection.filter(|_| errors.is_empty());
        Ok((
            match (selection, setting) {
                (Some(sel), Some(setting)) => Some((
                    sel.clone(),
                    manage::bulk_update_slots(conn, &actor, practice, &sel, &setting),
                )),
                _ => None,
            },
            errors,
        ))
    })
    .await?;
    let mut errors = errors;
    let status = match result {
        Some((sel, Ok(outcome))) => {
            set_flash(
                &session,
                &format!(
                    "Bulk edit saved: {} of the {} matching slots changed.",
                    outcome.changed, outcome.matched
                ),
            )?;
            let mut to = format!(
                "/practices/{}/week?week={}",
                access.ods(),
                monday_of(sel.first_day)
            );
            if let Some(s) = sel.schedule {
                to.push_str(&format!("&schedule={s}"));
            }
            return Ok(see_other(&to));
        }
        Some((_, Err(e))) => edit_refusal(e, "setting", "slot", &mut errors)?,
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    bulk_page(&state, &session, &access, form, errors, status).await
}
