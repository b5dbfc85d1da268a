//! The practice's schedules: the overview (the practice's home page) and one schedule's
//! GP Connect settings.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::Deserialize;

use super::edit_refusal;
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, audience, html, see_other, set_flash};
use crate::admin::who_can_book::{WhoSent, WhoValues};
use crate::availability::codes::{DeliveryChannel, PRACTITIONER_ROLES, PractitionerRole};
use crate::availability::groups::{self, OrgGroup};
use crate::availability::manage::{self, ScheduleRecord, ScheduleSettings};
use crate::availability::rules::Bookability;
use crate::db::ids::ScheduleId;
use crate::state::AppState;

struct ScheduleLine {
    id: ScheduleId,
    name: String,
    practitioner: String,
    location: String,
    role: String,
    channel: String,
    audience: String,
    free: usize,
    exposed: usize,
}

#[derive(Template)]
#[template(path = "admin/schedules.html")]
struct SchedulesPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    schedules: Vec<ScheduleLine>,
    weeks: i64,
}

const OVERVIEW_WEEKS: i64 = 4;

pub async fn schedules_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let now = state.clock.now();
    let (overview, groups) = run(&state, move |conn| {
        Ok((
            manage::schedule_overview(conn, practice, now, now + TimeDelta::weeks(OVERVIEW_WEEKS))?,
            groups::list(conn, practice)?,
        ))
    })
    .await?;
    let schedules = overview
        .into_iter()
        .map(|o| ScheduleLine {
            id: o.schedule.id,
            name: o.schedule.name(),
            practitioner: o.practitioner.unwrap_or_else(|| "None".into()),
            location: o.location,
            role: o
                .schedule
                .practitioner_role
                .as_deref()
                .map_or_else(|| "Not set".into(), PractitionerRole::label),
            channel: o
                .schedule
                .delivery_channel
                .clone()
                .unwrap_or_else(|| "Not set".into()),
            audience: audience(o.schedule.gpc_bookable, &o.schedule.audiences, &groups),
            free: o.free,
            exposed: o.exposed,
        })
        .collect();
    let page = SchedulesPage {
        layout: access.layout(&session, "Schedules", "schedules")?,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        schedules,
        weeks: OVERVIEW_WEEKS,
    };
    html(StatusCode::OK, &page)
}

/// The schedule form as sent.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScheduleForm {
    #[serde(deserialize_with = "forms::text")]
    bookable: String,
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
    #[serde(deserialize_with = "forms::text")]
    practitioner_role: String,
    #[serde(deserialize_with = "forms::text")]
    delivery_channel: String,
    #[serde(deserialize_with = "forms::text")]
    schedule_type: String,
    #[serde(deserialize_with = "forms::text")]
    version: String,
}

/// What the form shows.
struct ScheduleFormValues {
    bookable: bool,
    who: WhoValues,
    role: String,
    channel: String,
    schedule_type: String,
    version: i32,
}

impl ScheduleFormValues {
    fn from_record(s: &ScheduleRecord, groups: &[OrgGroup]) -> Self {
        ScheduleFormValues {
            bookable: s.gpc_bookable,
            who: WhoValues::from_audiences(&s.audiences, groups),
            role: s.practitioner_role.clone().unwrap_or_default(),
            channel: s.delivery_channel.clone().unwrap_or_default(),
            schedule_type: s.schedule_type.clone().unwrap_or_default(),
            version: s.version,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/schedule_edit.html")]
struct ScheduleEditPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    schedule_id: ScheduleId,
    name: String,
    /// The saved channel is Visit: "bookable" is not offered.
    is_visit: bool,
    form: ScheduleFormValues,
    who: WhoValues,
    errors: Errors,
    role_options: &'static [(&'static str, &'static str)],
    channel_options: Vec<&'static str>,
}

pub async fn schedule_form(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, ScheduleId)>,
) -> Result<HttpResponse, AdminError> {
    let (_, id) = path.into_inner();
    let practice = access.id();
    let (schedule, groups) = run(&state, move |conn| {
        Ok((
            manage::schedule(conn, practice, id)?.ok_or(AdminError::NotFound)?,
            groups::list(conn, practice)?,
        ))
    })
    .await?;
    let page = schedule_page(
        &session,
        &access,
        &schedule,
        ScheduleFormValues::from_record(&schedule, &groups),
        Errors::default(),
    )?;
    html(StatusCode::OK, &page)
}

fn schedule_page(
    session: &Session,
    access: &PracticeAccess,
    schedule: &ScheduleRecord,
    form: ScheduleFormValues,
    errors: Errors,
) -> Result<ScheduleEditPage, AdminError> {
    let name = schedule.name();
    Ok(ScheduleEditPage {
        layout: access.layout(session, &format!("Edit {name}"), "schedules")?,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        schedule_id: schedule.id,
        name,
        is_visit: schedule.delivery_channel.as_deref() == Some("Visit"),
        who: form.who.clone(),
        form,
        errors,
        role_options: PRACTITIONER_ROLES,
        channel_options: DeliveryChannel::ALL.iter().map(|c| c.code()).collect(),
    })
}

fn parse_schedule_form(
    form: ScheduleForm,
    groups: &[OrgGroup],
    saved: &ScheduleRecord,
    errors: &mut Errors,
) -> (ScheduleFormValues, Option<ScheduleSettings>) {
    if !matches!(form.bookable.as_str(), "yes" | "no") {
        errors.add(
            "bookable",
            "Select whether GP Connect consumers may book this schedule",
        );
    }
    let (who, audiences) = WhoValues::from_form(
        &WhoSent {
            who: &form.who,
            types: &form.who_types,
            groups: &form.who_groups,
            ods: &form.who_ods,
            keep: &form.who_keep,
        },
        groups,
        &saved.audiences,
        errors,
    );
    let values = ScheduleFormValues {
        bookable: form.bookable == "yes",
        who,
        role: form.practitioner_role,
        channel: form.delivery_channel,
        schedule_type: form.schedule_type,
        version: form.version.parse().unwrap_or(-1),
    };
    let role = (!values.role.is_empty())
        .then(|| PractitionerRole::parse(&values.role))
        .transpose()
        .unwrap_or_else(|e| {
            errors.add("practitioner_role", e.0);
            None
        });
    let channel = (!values.channel.is_empty())
        .then(|| DeliveryChannel::parse(&values.channel))
        .transpose()
        .unwrap_or_else(|e| {
            errors.add("delivery_channel", e.0);
            None
        });
    if values.schedule_type.chars().count() > 100 {
        errors.add(
            "schedule_type",
            "The schedule type must be 100 characters or fewer",
        );
    }
    if values.version < 0 {
        errors.add(
            "bookable",
            "The form is incomplete: reload the page and try again",
        );
    }
    let settings = audiences
        .filter(|_| errors.is_empty())
        .map(|audiences| ScheduleSettings {
            bookability: Bookability {
                bookable: values.bookable,
                audiences,
            },
            practitioner_role: role,
            delivery_channel: channel,
            schedule_type: (!values.schedule_type.is_empty()).then(|| values.schedule_type.clone()),
        });
    (values, settings)
}

pub async fn schedule_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, ScheduleId)>,
    Form(form): Form<ScheduleForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let (_, id) = path.into_inner();
    let actor = access.actor();
    let practice = access.id();
    let (schedule, values, result, mut errors) = run(&state, move |conn| {
        let current = manage::schedule(conn, practice, id)?.ok_or(AdminError::NotFound)?;
        let groups = groups::list(conn, practice)?;
        let mut errors = Errors::default();
        let (values, settings) = parse_schedule_form(form, &groups, &current, &mut errors);
        let version = values.version;
        let result =
            settings.map(|s| manage::update_schedule(conn, &actor, practice, id, version, &s));
        Ok((current, values, result, errors))
    })
    .await?;
    let status = match result {
        Some(Ok(saved)) => {
            set_flash(&session, &format!("Saved {}.", saved.name()))?;
            return Ok(see_other(&format!("/practices/{}", access.ods())));
        }
        Some(Err(e)) => edit_refusal(e, "bookable", "schedule", &mut errors)?,
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = schedule_page(&session, &access, &schedule, values, errors)?;
    html(status, &page)
}
