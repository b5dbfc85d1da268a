//! The admin pages. Each handler: who is signed in (else to /login), their role at the practice
//! in the path (else 404), then the domain, then a template.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, Days, NaiveDate, TimeDelta, Utc, Weekday};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde::Deserialize;
use serde_json::Value;

use super::auth::{self, Access, SignedIn, layout, run, see_other, set_flash};
use super::error::AdminError;
use super::forms::{self, Errors, FormData};
use super::view::{
    self, Layout, PracticeNav, audience, html, local_day, local_stamp, local_time, role_display,
};
use crate::availability::codes::{
    DeliveryChannel, ORGANISATION_TYPES, OdsCode, PRACTITIONER_ROLES, PractitionerRole,
};
use crate::availability::limits;
use crate::availability::manage::{
    self, AuditFilter, EditError, ScheduleRecord, ScheduleSettings, SlotBookability, SlotSelection,
};
use crate::availability::query::{self, Consumer, SearchWindow};
use crate::availability::rules::{self, Bookability};
use crate::change_log::Actor;
use crate::db::ids::{ScheduleId, SlotId};
use crate::db::schema::{practices, user_practices};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/practices", web::get().to(to_index))
        .service(
            web::scope("/practices/{ods}")
                .route("", web::get().to(schedules_page))
                .route("/schedules/{id}", web::get().to(schedule_form))
                .route("/schedules/{id}", web::post().to(schedule_save))
                .route("/week", web::get().to(week_page))
                .route("/slots/{id}", web::get().to(slot_form))
                .route("/slots/{id}", web::post().to(slot_save))
                .route("/bulk", web::get().to(bulk_form))
                .route("/bulk", web::post().to(bulk_save))
                .route("/preview", web::get().to(preview_page))
                .route("/audit", web::get().to(audit_page))
                .configure(super::sharing::routes)
                .configure(super::staff_pages::routes),
        );
}

pub(super) fn actor(user: &SignedIn) -> Actor {
    Actor {
        user: Some(user.id),
        name: user.display_name.clone(),
    }
}

pub(super) fn practice_layout(
    session: &Session,
    user: &SignedIn,
    access: &Access,
    title: &str,
    current: &'static str,
) -> Result<Layout, AdminError> {
    let mut l = layout(session, user, format!("{title} – {}", access.practice.name))?;
    l.practice = Some(PracticeNav {
        ods: access.practice.ods_code.clone(),
        name: access.practice.name.clone(),
        role: access.role.code(),
        current,
    });
    Ok(l)
}

fn channel_options() -> Vec<&'static str> {
    DeliveryChannel::ALL.iter().map(|c| c.code()).collect()
}

fn org_type_label(code: &str) -> String {
    view::org_type_display(code)
}

fn consumer_from(
    org_type: &Option<String>,
    ods: &Option<String>,
    errors: &mut Errors,
) -> Option<Consumer> {
    let org_type = org_type.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let ods = ods.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if org_type.is_none() && ods.is_none() {
        return None;
    }
    let ods = match ods.map(OdsCode::parse).transpose() {
        Ok(o) => o,
        Err(e) => {
            errors.add("ods_code", e.0);
            return None;
        }
    };
    Some(Consumer::new(org_type, ods))
}

fn consumer_label(c: &Consumer) -> String {
    let mut parts = Vec::new();
    if let Some(t) = &c.org_type {
        parts.push(org_type_label(t));
    }
    if let Some(o) = &c.ods_code {
        parts.push(format!("ODS {o}"));
    }
    parts.join(", ")
}

// ---------------------------------------------------------------- index

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    layout: Layout,
    practices: Vec<(String, String, &'static str)>,
}

async fn index(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
) -> Result<HttpResponse, AdminError> {
    let id = user.id;
    let rows: Vec<(String, String, String)> = run(&state, move |conn| {
        Ok(practices::table
            .inner_join(user_practices::table)
            .filter(user_practices::user_id.eq(id))
            .order(practices::ods_code)
            .select((practices::ods_code, practices::name, user_practices::role))
            .load(conn)?)
    })
    .await?;
    let practices = rows
        .into_iter()
        .filter_map(|(ods, name, role)| Some((ods, name, crate::users::Role::parse(&role)?.code())))
        .collect();
    let page = IndexPage {
        layout: layout(&session, &user, "Your practices".into())?,
        practices,
    };
    html(StatusCode::OK, &page)
}

async fn to_index() -> HttpResponse {
    see_other("/")
}

// ---------------------------------------------------------------- schedules

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

async fn schedules_page(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let ods = path.into_inner();
    let uid = user.id;
    let (access, overview) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        let now = Utc::now();
        let overview = manage::schedule_overview(
            conn,
            access.id(),
            now,
            now + TimeDelta::weeks(OVERVIEW_WEEKS),
        )?;
        Ok((access, overview))
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
                .map_or_else(|| "Not set".into(), role_display),
            channel: o
                .schedule
                .delivery_channel
                .clone()
                .unwrap_or_else(|| "Not set".into()),
            audience: audience(
                o.schedule.gpc_bookable,
                &o.schedule.bookable_org_types,
                &o.schedule.bookable_ods_codes,
            ),
            free: o.free,
            exposed: o.exposed,
        })
        .collect();
    let page = SchedulesPage {
        layout: practice_layout(&session, &user, &access, "Schedules", "schedules")?,
        ods: access.practice.ods_code.clone(),
        can_edit: access.can_edit(),
        schedules,
        weeks: OVERVIEW_WEEKS,
    };
    html(StatusCode::OK, &page)
}

struct ScheduleFormValues {
    bookable: bool,
    org_types: Vec<String>,
    ods_codes: String,
    role: String,
    channel: String,
    schedule_type: String,
    version: i32,
}

impl ScheduleFormValues {
    fn from_record(s: &ScheduleRecord) -> Self {
        ScheduleFormValues {
            bookable: s.gpc_bookable,
            org_types: s.bookable_org_types.clone(),
            ods_codes: s.bookable_ods_codes.join(", "),
            role: s.practitioner_role.clone().unwrap_or_default(),
            channel: s.delivery_channel.clone().unwrap_or_default(),
            schedule_type: s.schedule_type.clone().unwrap_or_default(),
            version: s.version,
        }
    }

    fn has_org_type(&self, code: &str) -> bool {
        self.org_types.iter().any(|t| t == code)
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
    errors: Errors,
    org_type_options: &'static [(&'static str, &'static str)],
    role_options: &'static [(&'static str, &'static str)],
    channel_options: Vec<&'static str>,
}

async fn schedule_form(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<(String, ScheduleId)>,
) -> Result<HttpResponse, AdminError> {
    let (ods, id) = path.into_inner();
    let uid = user.id;
    let (access, schedule) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        let schedule = manage::schedule(conn, access.id(), id)?.ok_or(AdminError::NotFound)?;
        Ok((access, schedule))
    })
    .await?;
    let page = schedule_page(
        &session,
        &user,
        &access,
        &schedule,
        ScheduleFormValues::from_record(&schedule),
        Errors::default(),
    )?;
    html(StatusCode::OK, &page)
}

fn schedule_page(
    session: &Session,
    user: &SignedIn,
    access: &Access,
    schedule: &ScheduleRecord,
    form: ScheduleFormValues,
    errors: Errors,
) -> Result<ScheduleEditPage, AdminError> {
    let name = schedule.name();
    Ok(ScheduleEditPage {
        layout: practice_layout(session, user, access, &format!("Edit {name}"), "schedules")?,
        ods: access.practice.ods_code.clone(),
        can_edit: access.can_edit(),
        schedule_id: schedule.id,
        name,
        is_visit: schedule.delivery_channel.as_deref() == Some("Visit"),
        form,
        errors,
        org_type_options: ORGANISATION_TYPES,
        role_options: PRACTITIONER_ROLES,
        channel_options: channel_options(),
    })
}

fn parse_schedule_form(
    form: &FormData,
    errors: &mut Errors,
) -> (ScheduleFormValues, Option<ScheduleSettings>) {
    let values = ScheduleFormValues {
        bookable: form.get("bookable") == Some("yes"),
        org_types: form
            .all("org_types")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ods_codes: form.get("ods_codes").unwrap_or_default().to_owned(),
        role: form.get("practitioner_role").unwrap_or_default().to_owned(),
        channel: form.get("delivery_channel").unwrap_or_default().to_owned(),
        schedule_type: form.get("schedule_type").unwrap_or_default().to_owned(),
        version: form
            .get("version")
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1),
    };
    if !matches!(form.get("bookable"), Some("yes" | "no")) {
        errors.add(
            "bookable",
            "Select whether GP Connect consumers may book this schedule",
        );
    }
    let org_types = forms::org_types(form, "org_types", errors);
    let ods_codes = forms::ods_codes(&values.ods_codes, "ods_codes", errors);
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
    let settings = errors.is_empty().then(|| ScheduleSettings {
        bookability: Bookability {
            bookable: values.bookable,
            org_types,
            ods_codes,
        },
        practitioner_role: role,
        delivery_channel: channel,
        schedule_type: (!values.schedule_type.is_empty()).then(|| values.schedule_type.clone()),
    });
    (values, settings)
}

/// The status and the error shown by the form for a refused save.
fn edit_refusal(
    e: EditError,
    field: &'static str,
    what: &str,
    errors: &mut Errors,
) -> Result<StatusCode, AdminError> {
    match e {
        EditError::Stale => {
            errors.add(field, EditError::Stale.to_string());
            Ok(StatusCode::CONFLICT)
        }
        EditError::Refused(r) => {
            errors.add(
                field,
                format!("This {what} can't be made GP Connect bookable: {r}"),
            );
            Ok(StatusCode::UNPROCESSABLE_ENTITY)
        }
        e @ (EditError::RefusedSlots { .. } | EditError::Invalid(_)) => {
            errors.add(field, forms::capitalise(&e.to_string()));
            Ok(StatusCode::UNPROCESSABLE_ENTITY)
        }
        other => Err(other.into()),
    }
}

async fn schedule_save(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<(String, ScheduleId)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AdminError> {
    let (ods, id) = path.into_inner();
    let form = FormData(form.into_inner());
    let mut errors = Errors::default();
    let (values, settings) = parse_schedule_form(&form, &mut errors);
    let uid = user.id;
    let actor = actor(&user);
    let (access, schedule, result) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        access.require_manager()?;
        let current = manage::schedule(conn, access.id(), id)?.ok_or(AdminError::NotFound)?;
        let result = match settings {
            Some(s) => Some(manage::update_schedule(
                conn,
                &actor,
                access.id(),
                id,
                values.version,
                &s,
            )),
            None => None,
        };
        Ok((access, current, result))
    })
    .await?;
    let status = match result {
        Some(Ok(saved)) => {
            set_flash(&session, &format!("Saved {}.", saved.name()))?;
            return Ok(see_other(&format!(
                "/practices/{}",
                access.practice.ods_code
            )));
        }
        Some(Err(e)) => edit_refusal(e, "bookable", "schedule", &mut errors)?,
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = schedule_page(&session, &user, &access, &schedule, values, errors)?;
    html(status, &page)
}

// ---------------------------------------------------------------- week view

#[derive(Deserialize, Default)]
struct WeekQuery {
    schedule: Option<String>,
    week: Option<String>,
    org_type: Option<String>,
    ods_code: Option<String>,
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
    week: NaiveDate,
    week_label: String,
    previous: NaiveDate,
    next: NaiveDate,
    org_type: String,
    ods_code: String,
    consumer: Option<String>,
    days: Vec<WeekDay>,
    count: usize,
    errors: Errors,
    org_type_options: &'static [(&'static str, &'static str)],
}

impl WeekPage {
    fn is_schedule(&self, id: &ScheduleId) -> bool {
        self.schedule == Some(*id)
    }

    fn query(&self, week: &NaiveDate) -> String {
        let mut q = format!("week={week}");
        if let Some(s) = self.schedule {
            q.push_str(&format!("&schedule={s}"));
        }
        q
    }
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

fn today() -> NaiveDate {
    Utc::now().with_timezone(&London).date_naive()
}

async fn week_page(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<WeekQuery>,
) -> Result<HttpResponse, AdminError> {
    let ods = path.into_inner();
    let q = q.into_inner();
    let mut errors = Errors::default();
    let week = monday_of(
        q.week
            .as_deref()
            .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
            .unwrap_or_else(today),
    );
    let schedule = q
        .schedule
        .as_deref()
        .and_then(|s| s.parse::<ScheduleId>().ok());
    let consumer = consumer_from(&q.org_type, &q.ods_code, &mut errors);
    let uid = user.id;
    let chosen = consumer.clone();
    let (access, schedules, slots, exposure, for_consumer, limits) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        if let Some(s) = schedule {
            manage::schedule(conn, access.id(), s)?.ok_or(AdminError::NotFound)?;
        }
        let from = query::local_midnight(week);
        let to = query::local_midnight(week + Days::new(7));
        let schedules = manage::schedule_names(conn, access.id())?;
        let slots = manage::slots_between(conn, access.id(), schedule, from, to)?;
        let exposure = query::explain_between(
            conn,
            access.id(),
            from,
            to,
            &Consumer::default(),
            Utc::now(),
        )?;
        let for_consumer = match &chosen {
            Some(c) => Some(query::explain_between(
                conn,
                access.id(),
                from,
                to,
                c,
                Utc::now(),
            )?),
            None => None,
        };
        let limits = limits::list(conn, access.id())?;
        Ok((access, schedules, slots, exposure, for_consumer, limits))
    })
    .await?;
    let exposure: std::collections::HashMap<SlotId, query::SlotExposure> =
        exposure.into_iter().map(|e| (e.slot_id, e)).collect();
    let for_consumer: Option<std::collections::HashMap<SlotId, query::SlotExposure>> =
        for_consumer.map(|v| v.into_iter().map(|e| (e.slot_id, e)).collect());
    let schedule_names: std::collections::HashMap<ScheduleId, String> =
        schedules.iter().cloned().collect();
    let mut days: Vec<WeekDay> = Vec::new();
    let count = slots.len();
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
            status: s.status.clone(),
            own_setting: s.overrides_schedule,
            exposed,
            audience: audience(s.gpc_bookable, &s.bookable_org_types, &s.bookable_ods_codes),
            hidden_because,
            visible_to_consumer,
            consumer_reasons,
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
        layout: practice_layout(&session, &user, &access, "Week view", "week")?,
        ods: access.practice.ods_code.clone(),
        schedules,
        schedule,
        week,
        week_label: format!("Week of {}", local_day(&query::local_midnight(week))),
        previous: week - Days::new(7),
        next: week + Days::new(7),
        org_type: q.org_type.unwrap_or_default(),
        ods_code: q.ods_code.unwrap_or_default(),
        consumer: consumer.as_ref().map(consumer_label),
        days,
        count,
        errors,
        org_type_options: ORGANISATION_TYPES,
    };
    html(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- one slot

#[derive(Deserialize, Default)]
struct ConsumerQuery {
    org_type: Option<String>,
    ods_code: Option<String>,
}

struct SlotFormValues {
    /// follow, yes or no
    setting: String,
    org_types: Vec<String>,
    ods_codes: String,
    version: i32,
}

impl SlotFormValues {
    fn has_org_type(&self, code: &str) -> bool {
        self.org_types.iter().any(|t| t == code)
    }
}

#[derive(Template)]
#[template(path = "admin/slot_edit.html")]
struct SlotPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    slot: manage::SlotRecord,
    when: String,
    /// Why "bookable" is not offered for this slot (the write-side rules), if it isn't.
    refusal: Option<String>,
    audience: String,
    form: SlotFormValues,
    errors: Errors,
    org_type_options: &'static [(&'static str, &'static str)],
    org_type: String,
    ods_code: String,
    consumer: Option<String>,
    /// For the chosen consumer: visible, and why not.
    explained: Option<(bool, Vec<String>)>,
}

impl SlotPage {
    fn week_link(&self) -> String {
        format!(
            "/practices/{}/week?schedule={}&week={}",
            self.ods,
            self.slot.schedule_id,
            monday_of(self.slot.start_at.with_timezone(&London).date_naive())
        )
    }
}

/// Why the slot could never be made bookable as it is, in the rules' words.
fn slot_refusal(slot: &manage::SlotRecord) -> Option<String> {
    let channel = slot
        .delivery_channel
        .as_deref()
        .and_then(|c| DeliveryChannel::parse(c).ok());
    rules::check_can_be_bookable(&rules::Exposable {
        channel,
        practitioner_role: slot.practitioner_role.as_deref(),
        slot_type: Some(slot.slot_type.as_deref()),
    })
    .err()
    .map(|r| r.to_string())
}

#[allow(clippy::too_many_arguments)]
fn slot_page(
    session: &Session,
    user: &SignedIn,
    access: &Access,
    slot: manage::SlotRecord,
    form: Option<SlotFormValues>,
    errors: Errors,
    consumer: (String, String, Option<Consumer>),
    explained: Option<(bool, Vec<String>)>,
) -> Result<SlotPage, AdminError> {
    let form = form.unwrap_or_else(|| SlotFormValues {
        setting: if !slot.overrides_schedule {
            "follow".into()
        } else if slot.gpc_bookable {
            "yes".into()
        } else {
            "no".into()
        },
        org_types: if slot.overrides_schedule {
            slot.bookable_org_types.clone()
        } else {
            vec![]
        },
        ods_codes: if slot.overrides_schedule {
            slot.bookable_ods_codes.join(", ")
        } else {
            String::new()
        },
        version: slot.version,
    });
    Ok(SlotPage {
        layout: practice_layout(session, user, access, "Slot", "week")?,
        ods: access.practice.ods_code.clone(),
        can_edit: access.can_edit(),
        when: format!(
            "{} {}–{}",
            local_day(&slot.start_at),
            local_time(&slot.start_at),
            local_time(&slot.end_at)
        ),
        refusal: slot_refusal(&slot),
        audience: audience(
            slot.gpc_bookable,
            &slot.bookable_org_types,
            &slot.bookable_ods_codes,
        ),
        slot,
        form,
        errors,
        org_type_options: ORGANISATION_TYPES,
        org_type: consumer.0,
        ods_code: consumer.1,
        consumer: consumer.2.as_ref().map(consumer_label),
        explained,
    })
}

async fn slot_form(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<(String, SlotId)>,
    q: web::Query<ConsumerQuery>,
) -> Result<HttpResponse, AdminError> {
    let (ods, id) = path.into_inner();
    let q = q.into_inner();
    let mut errors = Errors::default();
    let consumer = consumer_from(&q.org_type, &q.ods_code, &mut errors);
    let uid = user.id;
    let chosen = consumer.clone();
    let (access, slot, explained) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        let slot = manage::slot(conn, access.id(), id)?.ok_or(AdminError::NotFound)?;
        let explained = match &chosen {
            Some(c) => query::explain(conn, access.id(), id, c, Utc::now(), None)?
                .map(|e| -> Result<_, AdminError> {
                    let limits = limits::list(conn, access.id())?;
                    Ok((e.visible(), e.explanations(&limits)))
                })
                .transpose()?,
            None => None,
        };
        Ok((access, slot, explained))
    })
    .await?;
    let page = slot_page(
        &session,
        &user,
        &access,
        slot,
        None,
        errors,
        (
            q.org_type.unwrap_or_default(),
            q.ods_code.unwrap_or_default(),
            consumer,
        ),
        explained,
    )?;
    html(StatusCode::OK, &page)
}

fn parse_slot_setting(form: &FormData, errors: &mut Errors) -> Option<SlotBookability> {
    let org_types = forms::org_types(form, "org_types", errors);
    let ods_codes = forms::ods_codes(
        form.get("ods_codes").unwrap_or_default(),
        "ods_codes",
        errors,
    );
    let setting = match form.get("setting") {
        Some("follow") => SlotBookability::FollowSchedule,
        Some(v @ ("yes" | "no")) => SlotBookability::Own(Bookability {
            bookable: v == "yes",
            org_types,
            ods_codes,
        }),
        _ => {
            errors.add("setting", "Select who may book the slots");
            return None;
        }
    };
    errors.is_empty().then_some(setting)
}

async fn slot_save(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<(String, SlotId)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AdminError> {
    let (ods, id) = path.into_inner();
    let form = FormData(form.into_inner());
    let mut errors = Errors::default();
    let setting = parse_slot_setting(&form, &mut errors);
    let version = form.get("version").and_then(|v| v.parse::<i32>().ok());
    if version.is_none() {
        errors.add(
            "setting",
            "The form is incomplete: reload the page and try again",
        );
    }
    let values = SlotFormValues {
        setting: form.get("setting").unwrap_or_default().to_owned(),
        org_types: form
            .all("org_types")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ods_codes: form.get("ods_codes").unwrap_or_default().to_owned(),
        version: version.unwrap_or(0),
    };
    let uid = user.id;
    let actor = actor(&user);
    let (access, result) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        access.require_manager()?;
        let result = match (setting, version) {
            (Some(s), Some(v)) => Some(manage::update_slot(conn, &actor, access.id(), id, v, &s)),
            _ => None,
        };
        Ok((access, result))
    })
    .await?;
    let status = match result {
        Some(Ok(())) => {
            set_flash(&session, "Slot saved.")?;
            return Ok(see_other(&format!(
                "/practices/{}/slots/{id}",
                access.practice.ods_code
            )));
        }
        Some(Err(e)) => edit_refusal(e, "setting", "slot", &mut errors)?,
        None => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let practice = access.id();
    let slot = run(&state, move |conn| {
        manage::slot(conn, practice, id)?.ok_or(AdminError::NotFound)
    })
    .await?;
    let page = slot_page(
        &session,
        &user,
        &access,
        slot,
        Some(values),
        errors,
        (String::new(), String::new(), None),
        None,
    )?;
    html(status, &page)
}

// ---------------------------------------------------------------- bulk edit

struct BulkFormValues {
    schedule: String,
    first_day: String,
    last_day: String,
    weekdays: Vec<String>,
    from_time: String,
    until_time: String,
    slot_type: String,
    setting: String,
    org_types: Vec<String>,
    ods_codes: String,
}

impl BulkFormValues {
    fn has_org_type(&self, code: &str) -> bool {
        self.org_types.iter().any(|t| t == code)
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
    form: BulkFormValues,
    errors: Errors,
    org_type_options: &'static [(&'static str, &'static str)],
    weekdays: [(&'static str, &'static str, Weekday); 7],
}

async fn bulk_context(
    state: &AppState,
    uid: crate::db::ids::UserId,
    ods: String,
) -> Result<(Access, Vec<(ScheduleId, String)>, Vec<String>), AdminError> {
    run(state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        let schedules = manage::schedule_names(conn, access.id())?;
        let types = manage::slot_types(conn, access.id())?;
        Ok((access, schedules, types))
    })
    .await
}

async fn bulk_form(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let (access, schedules, slot_types) = bulk_context(&state, user.id, path.into_inner()).await?;
    let monday = monday_of(today());
    let page = BulkPage {
        layout: practice_layout(&session, &user, &access, "Bulk edit", "bulk")?,
        ods: access.practice.ods_code.clone(),
        can_edit: access.can_edit(),
        schedules,
        slot_types,
        form: BulkFormValues {
            schedule: String::new(),
            first_day: monday.to_string(),
            last_day: (monday + Days::new(6)).to_string(),
            weekdays: vec![],
            from_time: String::new(),
            until_time: String::new(),
            slot_type: String::new(),
            setting: String::new(),
            org_types: vec![],
            ods_codes: String::new(),
        },
        errors: Errors::default(),
        org_type_options: ORGANISATION_TYPES,
        weekdays: WEEKDAYS,
    };
    html(StatusCode::OK, &page)
}

async fn bulk_save(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AdminError> {
    let ods = path.into_inner();
    let form = FormData(form.into_inner());
    let mut errors = Errors::default();
    let schedule = form.get("schedule").map(|s| s.parse::<ScheduleId>());
    let schedule = match schedule {
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            errors.add("schedule", "Select a schedule from the list");
            None
        }
        None => None,
    };
    let first_day = forms::date(&form, "first_day", "first day", &mut errors);
    let last_day = forms::date(&form, "last_day", "last day", &mut errors);
    let weekdays = form
        .all("weekdays")
        .into_iter()
        .filter_map(|d| WEEKDAYS.iter().find(|w| w.0 == d).map(|w| w.2))
        .collect();
    let from_time = forms::optional_time(&form, "from_time", "start time", &mut errors);
    let until_time = forms::optional_time(&form, "until_time", "end time", &mut errors);
    let setting = parse_slot_setting(&form, &mut errors);
    let values = BulkFormValues {
        schedule: form.get("schedule").unwrap_or_default().to_owned(),
        first_day: form.get("first_day").unwrap_or_default().to_owned(),
        last_day: form.get("last_day").unwrap_or_default().to_owned(),
        weekdays: form
            .all("weekdays")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        from_time: form.get("from_time").unwrap_or_default().to_owned(),
        until_time: form.get("until_time").unwrap_or_default().to_owned(),
        slot_type: form.get("slot_type").unwrap_or_default().to_owned(),
        setting: form.get("setting").unwrap_or_default().to_owned(),
        org_types: form
            .all("org_types")
            .into_iter()
            .map(str::to_owned)
            .collect(),
        ods_codes: form.get("ods_codes").unwrap_or_default().to_owned(),
    };
    let selection = match (first_day, last_day, errors.is_empty()) {
        (Some(first_day), Some(last_day), true) => Some(SlotSelection {
            schedule,
            first_day,
            last_day,
            weekdays,
            from_time,
            until_time,
            slot_type: form.get("slot_type").map(str::to_owned),
        }),
        _ => None,
    };
    let uid = user.id;
    let actor = actor(&user);
    let ods_path = ods.clone();
    let (access, result) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods_path)?;
        access.require_manager()?;
        if let Some(s) = schedule {
            manage::schedule(conn, access.id(), s)?.ok_or(AdminError::NotFound)?;
        }
        let result = match (selection, setting) {
            (Some(sel), Some(setting)) => Some((
                sel.clone(),
                manage::bulk_update_slots(conn, &actor, access.id(), &sel, &setting),
            )),
            _ => None,
        };
        Ok((access, result))
    })
    .await?;
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
                access.practice.ods_code,
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
    // The form again, with the choices as they are now.
    let (access, schedules, slot_types) = bulk_context(&state, user.id, ods).await?;
    let page = BulkPage {
        layout: practice_layout(&session, &user, &access, "Bulk edit", "bulk")?,
        ods: access.practice.ods_code.clone(),
        can_edit: access.can_edit(),
        schedules,
        slot_types,
        form: values,
        errors,
        org_type_options: ORGANISATION_TYPES,
        weekdays: WEEKDAYS,
    };
    html(status, &page)
}

// ---------------------------------------------------------------- preview

#[derive(Deserialize, Default)]
struct PreviewQuery {
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

async fn preview_page(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<PreviewQuery>,
) -> Result<HttpResponse, AdminError> {
    let ods = path.into_inner();
    let q = q.into_inner();
    let mut errors = Errors::default();
    let form = FormData(
        [("from", &q.from), ("to", &q.to)]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
            .collect(),
    );
    let searched = q.from.is_some() || q.to.is_some();
    let start = today();
    let (from, to) = if searched {
        (
            forms::date(&form, "from", "first day", &mut errors),
            forms::date(&form, "to", "last day", &mut errors),
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
    let uid = user.id;
    let run_search = searched && errors.is_empty();
    let c = consumer.clone();
    let (access, result) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        let result = match (run_search, window) {
            (true, Some(w)) => Some(query::free_slots(conn, access.id(), &w, &c, Utc::now())?),
            _ => None,
        };
        Ok((access, result))
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
        layout: practice_layout(&session, &user, &access, "Preview as a consumer", "preview")?,
        ods: access.practice.ods_code.clone(),
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

// ---------------------------------------------------------------- audit log

#[derive(Deserialize, Default)]
struct AuditQuery {
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

async fn audit_page(
    state: web::Data<AppState>,
    session: Session,
    user: SignedIn,
    path: web::Path<String>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    let ods = path.into_inner();
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
    let uid = user.id;
    let (access, entries) = run(&state, move |conn| {
        let access = Access::load(conn, uid, &ods)?;
        let entries = manage::audit_entries(conn, access.id(), &filter, AUDIT_LIMIT)?;
        Ok((access, entries))
    })
    .await?;
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
        layout: practice_layout(&session, &user, &access, "Audit log", "audit")?,
        ods: access.practice.ods_code.clone(),
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
        let before =
            serde_json::json!({"gpc_bookable": false, "bookable_org_types": [], "version": 1});
        let after =
            serde_json::json!({"gpc_bookable": true, "bookable_org_types": [], "version": 2});
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

    #[test]
    fn weeks_start_on_monday() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(monday_of(d), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    }
}
