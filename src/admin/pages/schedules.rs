//! The practice's schedules: the overview (the practice's home page) and one schedule's
//! GP Connect settings.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::TimeDelta;
use serde::Deserialize;

use super::check::{Check, Step, check_page, not_confirmed, saved};
use super::{edit_refusal, today};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, audience, html};
use crate::admin::who_can_book::{WhoSent, WhoValues};
use crate::availability::codes::{DeliveryChannel, PRACTITIONER_ROLES, PractitionerRole};
use crate::availability::groups::{self, OrgGroup};
use crate::availability::impact::{self, Impact, NotConfirmed, Viewer};
use crate::availability::manage::{self, ScheduleRecord, ScheduleSettings, Undo};
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
    /// Free slots NHS 111 can book in the next four weeks, as the query module answers.
    nhs111: usize,
    /// Slots with a setting of their own.
    own_setting: usize,
}

/// The days "make them follow the schedule" covers (a bulk edit from today).
struct FollowRange {
    first_day: String,
    last_day: String,
}

impl FollowRange {
    fn from(today: chrono::NaiveDate) -> FollowRange {
        FollowRange {
            first_day: today.to_string(),
            last_day: (today + chrono::Days::new(manage::OWN_SETTING_DAYS - 1)).to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/schedules.html")]
struct SchedulesPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    schedules: Vec<ScheduleLine>,
    weeks: i64,
    follow: FollowRange,
}

const OVERVIEW_WEEKS: i64 = impact::DAYS_AHEAD as i64 / 7;

pub async fn schedules_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let now = state.clock.now();
    let (overview, groups, nhs111) = run(&state, move |conn| {
        Ok((
            manage::schedule_overview(conn, practice, now, now + TimeDelta::weeks(OVERVIEW_WEEKS))?,
            groups::list(conn, practice)?,
            impact::bookable_by_schedule(conn, practice, &Viewer::nhs111().consumer, now)?,
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
            nhs111: nhs111.get(&o.schedule.id).copied().unwrap_or(0),
            own_setting: o.own_setting,
        })
        .collect();
    let page = SchedulesPage {
        layout: access.layout(&session, "Schedules", "schedules")?,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        schedules,
        weeks: OVERVIEW_WEEKS,
        follow: FollowRange::from(today(&state)),
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
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

impl ScheduleForm {
    fn who_sent(&self) -> WhoSent<'_> {
        WhoSent {
            who: &self.who,
            types: &self.who_types,
            groups: &self.who_groups,
            ods: &self.who_ods,
            keep: &self.who_keep,
        }
    }

    /// The fields again, for the check page.
    fn hidden(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("bookable", self.bookable.clone()),
            ("practitioner_role", self.practitioner_role.clone()),
            ("delivery_channel", self.delivery_channel.clone()),
            ("schedule_type", self.schedule_type.clone()),
            ("version", self.version.clone()),
        ];
        fields.extend(self.who_sent().hidden());
        fields
    }
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
    /// Slots of this schedule with their own setting, which this form doesn't reach.
    own_setting: usize,
    follow: FollowRange,
}

pub async fn schedule_form(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, ScheduleId)>,
) -> Result<HttpResponse, AdminError> {
    let (_, id) = path.into_inner();
    let practice = access.id();
    let today = today(&state);
    let (schedule, groups, own) = run(&state, move |conn| {
        Ok((
            manage::schedule(conn, practice, id)?.ok_or(AdminError::NotFound)?,
            groups::list(conn, practice)?,
            manage::own_settings(conn, practice, today)?,
        ))
    })
    .await?;
    let page = schedule_page(
        &session,
        &access,
        (&schedule, own_setting(&own, id), today),
        ScheduleFormValues::from_record(&schedule, &groups),
        Errors::default(),
    )?;
    html(StatusCode::OK, &page)
}

fn own_setting(own: &std::collections::HashMap<ScheduleId, usize>, id: ScheduleId) -> usize {
    own.get(&id).copied().unwrap_or(0)
}

fn schedule_page(
    session: &Session,
    access: &PracticeAccess,
    (schedule, own_setting, today): (&ScheduleRecord, usize, chrono::NaiveDate),
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
        own_setting,
        follow: FollowRange::from(today),
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
    let (who, audiences) = WhoValues::from_form(&form.who_sent(), groups, &saved.audiences, errors);
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
    if values.schedule_type.is_empty() {
        errors.add(
            "schedule_type",
            "Enter the schedule type, for example GP morning surgery: organisations booking see it",
        );
    } else if values.schedule_type.chars().count() > 100 {
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

/// What a posted schedule form led to.
enum Posted {
    /// Back to the form: its own errors, or "change your answers".
    Form,
    Check(Impact, Vec<(String, String)>),
    NotConfirmed(NotConfirmed, Vec<(String, String)>),
    Saved(String, Impact, Option<Undo>),
    Refused(manage::EditError),
}

/// The schedule's settings in words, for the check page.
fn answers(s: &ScheduleSettings, groups: &[OrgGroup]) -> Vec<(String, String)> {
    let not_set = || "Not set".to_owned();
    vec![
        (
            "Bookable through GP Connect".into(),
            if s.bookability.bookable { "Yes" } else { "No" }.into(),
        ),
        (
            "Who can book".into(),
            audience(s.bookability.bookable, &s.bookability.audiences, groups),
        ),
        (
            "Practitioner role".into(),
            s.practitioner_role
                .map_or_else(not_set, |r| PractitionerRole::label(r.code())),
        ),
        (
            "Delivery channel".into(),
            s.delivery_channel
                .map_or_else(not_set, |c| c.code().to_owned()),
        ),
        (
            "Schedule type".into(),
            s.schedule_type.clone().unwrap_or_else(not_set),
        ),
    ]
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
    let now = state.clock.now();
    let step = Step::read(&form.step, &form.nhs111_confirmed);
    let hidden = form.hidden();
    let today = today(&state);
    let (schedule, values, posted, mut errors, own) = run(&state, move |conn| {
        let current = manage::schedule(conn, practice, id)?.ok_or(AdminError::NotFound)?;
        let groups = groups::list(conn, practice)?;
        let own = own_setting(&manage::own_settings(conn, practice, today)?, id);
        let mut errors = Errors::default();
        let (values, settings) = parse_schedule_form(form, &groups, &current, &mut errors);
        let version = values.version;
        let Some(settings) = settings.filter(|_| step != Step::Change) else {
            return Ok((current, values, Posted::Form, errors, own));
        };
        let extra = impact::named_in(settings.bookability.audiences.iter());
        let save = |conn: &mut diesel::PgConnection| {
            manage::update_schedule(conn, &actor, practice, id, version, &settings)
        };
        let words = answers(&settings, &groups);
        let posted = match step {
            Step::Confirm { nhs111_confirmed } => {
                match impact::apply(conn, practice, now, &extra, nhs111_confirmed, save) {
                    Ok(Ok(((saved, undo), impact))) => Posted::Saved(saved.name(), impact, undo),
                    Ok(Err(refused)) => Posted::NotConfirmed(refused, words),
                    Err(e) => Posted::Refused(e),
                }
            }
            _ => match impact::dry_run(conn, practice, now, &extra, save) {
                Ok((_, impact)) => Posted::Check(impact, words),
                Err(e) => Posted::Refused(e),
            },
        };
        Ok((current, values, posted, errors, own))
    })
    .await?;
    let check = |answers| Check {
        heading: format!("Check your changes to {}", schedule.name()),
        action: format!("/practices/{}/schedules/{id}", access.ods()),
        answers,
        hidden,
        notes: Vec::new(),
    };
    let status = match posted {
        Posted::Saved(name, impact, undo) => {
            return saved(
                &session,
                &access,
                format!("Saved {name}."),
                &impact,
                format!("/practices/{}", access.ods()),
                undo,
            );
        }
        Posted::Check(impact, answers) => {
            return check_page(
                &session,
                &access,
                "schedules",
                check(answers),
                &impact,
                errors,
            );
        }
        Posted::NotConfirmed(refused, answers) => {
            let errors = not_confirmed(&refused);
            return check_page(
                &session,
                &access,
                "schedules",
                check(answers),
                &refused.0,
                errors,
            );
        }
        Posted::Refused(e) => edit_refusal(e, "bookable", "schedule", &mut errors)?,
        Posted::Form if errors.is_empty() => StatusCode::OK,
        Posted::Form => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = schedule_page(&session, &access, (&schedule, own, today), values, errors)?;
    html(status, &page)
}
