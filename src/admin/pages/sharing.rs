//! The sharing rules page: organisation groups (each with its own page, `groups.rs`), booking
//! limits, and each schedule's booking window. Who can book a schedule is its own page's "Who
//! can book?" question, not asked again here. A limit or window changes what organisations can
//! book, so each goes through the check page (`check.rs`) before it is saved. Handlers check the
//! user's role at the practice, then call the domain (`availability::{groups, limits}`).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::PgConnection;
use serde::Deserialize;

use super::check::{Check, Step, check_page, not_confirmed, saved};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html, see_other, set_flash};
use crate::availability::codes::{ORGANISATION_TYPES, OdsCode, OrganisationType};
use crate::availability::groups::{self, GroupError, OrgGroup};
use crate::availability::impact::{self, Impact, NotConfirmed, Viewer};
use crate::availability::limits::{
    self, BookingLimit, BookingWindow, LimitError, NewSubject, Period, ScheduleSharing, Subject,
    WindowTarget,
};
use crate::change_log::Actor;
use crate::db::ids::{GroupId, LimitId, PracticeId, ScheduleId};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sharing", web::get().to(sharing_page))
        .route("/groups", web::post().to(group_save))
        .route("/limits", web::post().to(limit_add))
        .route("/limits/{id}/delete", web::post().to(limit_delete))
        .route(
            "/schedules/{id}/sharing",
            web::post().to(schedule_sharing_save),
        );
}

struct LimitRow {
    id: LimitId,
    scope: String,
    who: String,
    period: &'static str,
    max_slots: i32,
}

struct ScheduleRow {
    id: ScheduleId,
    name: String,
    from_days: String,
    until_minutes: String,
}

#[derive(Template)]
#[template(path = "admin/sharing.html")]
struct SharingPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    groups: Vec<OrgGroup>,
    limits: Vec<LimitRow>,
    schedules: Vec<ScheduleRow>,
    errors: Errors,
    limit_ods_code: String,
    limit_max: String,
    org_type_options: &'static [(&'static str, &'static str)],
}

/// What the user typed in the form that was refused, shown again as entered.
#[derive(Default)]
struct Entered {
    /// A schedule's window: its id, the days ahead and the minutes before.
    window: Option<(ScheduleId, String, String)>,
    limit_ods_code: String,
    limit_max: String,
}

struct Data {
    groups: Vec<OrgGroup>,
    limits: Vec<BookingLimit>,
    schedules: Vec<ScheduleSharing>,
}

fn load(conn: &mut PgConnection, practice: PracticeId) -> Result<Data, AdminError> {
    Ok(Data {
        groups: groups::list(conn, practice)?,
        limits: limits::list(conn, practice)?,
        schedules: limits::schedule_sharing(conn, practice)?,
    })
}

fn schedule_name(s: &ScheduleSharing) -> String {
    s.schedule_type
        .clone()
        .unwrap_or_else(|| s.external_id.clone())
}

fn page(
    session: &Session,
    access: &PracticeAccess,
    data: Data,
    errors: Errors,
    entered: Entered,
) -> Result<SharingPage, AdminError> {
    let Data {
        groups,
        limits,
        schedules,
    } = data;
    let l = access.layout(session, "Sharing rules", "sharing")?;
    let group_name = |id: GroupId| {
        groups
            .iter()
            .find(|g| g.id == id)
            .map_or_else(|| format!("group {id}"), |g| g.name.clone())
    };
    let limits = limits
        .iter()
        .map(|l| LimitRow {
            id: l.id,
            scope: match l.schedule {
                None => "Whole practice".to_owned(),
                Some(s) => schedules
                    .iter()
                    .find(|x| x.id == s)
                    .map_or_else(|| s.to_string(), schedule_name),
            },
            who: match &l.subject {
                Subject::OrgType(t) => OrganisationType::label(t),
                Subject::Ods(o) => format!("ODS code {o}"),
                Subject::Group(g) => format!("Group: {}", group_name(*g)),
            },
            period: match l.period {
                Period::Day => "a day",
                Period::Week => "a week",
            },
            max_slots: l.max_slots,
        })
        .collect();
    let schedules = schedules
        .iter()
        .map(|s| {
            let (from_days, until_minutes) = match &entered.window {
                Some((id, days, minutes)) if *id == s.id => (days.clone(), minutes.clone()),
                _ => (
                    s.from_days.map(|d| d.to_string()).unwrap_or_default(),
                    s.until_minutes.map(|m| m.to_string()).unwrap_or_default(),
                ),
            };
            ScheduleRow {
                id: s.id,
                name: schedule_name(s),
                from_days,
                until_minutes,
            }
        })
        .collect();
    Ok(SharingPage {
        layout: l,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        groups,
        limits,
        schedules,
        errors,
        limit_ods_code: entered.limit_ods_code,
        limit_max: entered.limit_max,
        org_type_options: ORGANISATION_TYPES,
    })
}

async fn sharing_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let data = run(&state, move |conn| load(conn, practice)).await?;
    html(
        StatusCode::OK,
        &page(
            &session,
            &access,
            data,
            Errors::default(),
            Entered::default(),
        )?,
    )
}

/// Runs a change for a manager; on a refusal re-renders the page with the message, on success
/// redirects back to it with `done` as the flash message.
async fn change<F>(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    done: &'static str,
    entered: Entered,
    f: F,
) -> Result<HttpResponse, AdminError>
where
    F: FnOnce(&mut PgConnection, &Actor, PracticeId) -> Result<Errors, AdminError> + Send + 'static,
{
    access.require_manager()?;
    let actor = access.actor();
    let practice = access.id();
    let (errors, data) = run(&state, move |conn| {
        let errors = f(conn, &actor, practice)?;
        Ok((errors, load(conn, practice)?))
    })
    .await?;
    if errors.is_empty() {
        set_flash(&session, done)?;
        return Ok(see_other(&format!("/practices/{}/sharing", access.ods())));
    }
    html(
        StatusCode::UNPROCESSABLE_ENTITY,
        &page(&session, &access, data, errors, entered)?,
    )
}

fn group_error(e: GroupError, errors: &mut Errors, field: &'static str) -> Result<(), AdminError> {
    match e {
        GroupError::Database(e) => Err(e.into()),
        GroupError::NotFound => Err(AdminError::NotFound),
        other => {
            errors.add(field, forms::capitalise(&other.to_string()));
            Ok(())
        }
    }
}

fn limit_error(e: LimitError, errors: &mut Errors, field: &'static str) -> Result<(), AdminError> {
    match e {
        LimitError::Database(e) => Err(e.into()),
        LimitError::NotFound => Err(AdminError::NotFound),
        other => {
            errors.add(field, forms::capitalise(&other.to_string()));
            Ok(())
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GroupForm {
    #[serde(deserialize_with = "forms::text")]
    group_name: String,
    #[serde(deserialize_with = "forms::text")]
    group_members: String,
}

/// Creates a group (it changes who can book nothing until "Who can book?" names it); its
/// members are then added and removed on its own page.
async fn group_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(form): Form<GroupForm>,
) -> Result<HttpResponse, AdminError> {
    change(
        state,
        session,
        access,
        "Created the group. Add it to a schedule's \"Who can book?\" to let its members book.",
        Entered::default(),
        move |conn, actor, practice| {
            let mut errors = Errors::default();
            let members = forms::ods_codes(&form.group_members, "group_members", &mut errors);
            if members.is_empty() && errors.is_empty() {
                errors.add(
                    "group_members",
                    "Enter the ODS codes of the group's organisations",
                );
            }
            if errors.is_empty()
                && let Err(e) =
                    groups::save(conn, actor, practice, None, &form.group_name, &members)
            {
                group_error(e, &mut errors, "group_name")?;
            }
            Ok(errors)
        },
    )
    .await
}

/// What a posted limit or window change led to.
enum Posted {
    Check(Impact),
    NotConfirmed(NotConfirmed),
    Saved(Impact),
    Refused(LimitError),
    Change,
}

/// A limit or window change through the check page: its step, the page's words, and the
/// flash message once saved.
struct Checked {
    step: Step,
    check: Check,
    done: String,
    extra: Vec<Viewer>,
    /// The field a refusal is shown on.
    field: &'static str,
}

/// Shows the check page for `f`, or saves it once confirmed; a refusal re-renders the sharing
/// page with the message, "change your answers" with what was entered.
async fn checked<F>(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    c: Checked,
    entered: Entered,
    f: F,
) -> Result<HttpResponse, AdminError>
where
    F: Fn(&mut PgConnection, &Actor, PracticeId) -> Result<(), LimitError> + Send + 'static,
{
    access.require_manager()?;
    let actor = access.actor();
    let practice = access.id();
    let now = state.clock.now();
    let (step, extra) = (c.step, c.extra.clone());
    let (posted, data) = run(&state, move |conn| {
        let change = |conn: &mut PgConnection| f(conn, &actor, practice);
        let posted = match step {
            Step::Confirm { nhs111_confirmed } => {
                match impact::apply(conn, practice, now, &extra, nhs111_confirmed, change) {
                    Ok(Ok(((), impact))) => Posted::Saved(impact),
                    Ok(Err(refused)) => Posted::NotConfirmed(refused),
                    Err(e) => Posted::Refused(e),
                }
            }
            Step::Check => match impact::dry_run(conn, practice, now, &extra, change) {
                Ok(((), impact)) => Posted::Check(impact),
                Err(e) => Posted::Refused(e),
            },
            Step::Change => Posted::Change,
        };
        Ok((posted, load(conn, practice)?))
    })
    .await?;
    let (errors, status) = match posted {
        Posted::Check(impact) => {
            return check_page(
                &session,
                &access,
                "sharing",
                c.check,
                &impact,
                Errors::default(),
            );
        }
        Posted::NotConfirmed(refused) => {
            let errors = not_confirmed(&refused);
            return check_page(&session, &access, "sharing", c.check, &refused.0, errors);
        }
        Posted::Saved(impact) => {
            let next = format!("/practices/{}/sharing", access.ods());
            return saved(&session, &access, c.done, &impact, next, None);
        }
        Posted::Refused(e) => {
            let mut errors = Errors::default();
            limit_error(e, &mut errors, c.field)?;
            (errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Posted::Change => (Errors::default(), StatusCode::OK),
    };
    html(status, &page(&session, &access, data, errors, entered)?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LimitForm {
    #[serde(deserialize_with = "forms::text")]
    limit_schedule: String,
    #[serde(deserialize_with = "forms::text")]
    limit_kind: String,
    #[serde(deserialize_with = "forms::text")]
    limit_org_type: String,
    #[serde(deserialize_with = "forms::text")]
    limit_ods_code: String,
    #[serde(deserialize_with = "forms::text")]
    limit_group: String,
    #[serde(deserialize_with = "forms::text")]
    limit_period: String,
    #[serde(deserialize_with = "forms::text")]
    limit_max: String,
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

impl LimitForm {
    fn hidden(&self) -> Vec<(&'static str, String)> {
        vec![
            ("limit_schedule", self.limit_schedule.clone()),
            ("limit_kind", self.limit_kind.clone()),
            ("limit_org_type", self.limit_org_type.clone()),
            ("limit_ods_code", self.limit_ods_code.clone()),
            ("limit_group", self.limit_group.clone()),
            ("limit_period", self.limit_period.clone()),
            ("limit_max", self.limit_max.clone()),
        ]
    }
}

/// A new limit as the form describes it, or the form's errors.
struct NewLimit {
    schedule: Option<ScheduleId>,
    subject: NewSubject,
    period: Period,
    max: i32,
}

fn parse_limit(form: &LimitForm, errors: &mut Errors) -> Result<Option<NewLimit>, AdminError> {
    let schedule = match form.limit_schedule.as_str() {
        "" | "practice" => None,
        s => Some(
            s.parse()
                .map(ScheduleId)
                .map_err(|_| AdminError::NotFound)?,
        ),
    };
    let subject = match form.limit_kind.as_str() {
        "org-type" => match OrganisationType::parse(&form.limit_org_type) {
            Ok(t) => Some(NewSubject::OrgType(t)),
            Err(e) => {
                errors.add("limit_org_type", e.0);
                None
            }
        },
        "ods" => match OdsCode::parse(&form.limit_ods_code) {
            Ok(o) => Some(NewSubject::Ods(o)),
            Err(e) => {
                errors.add("limit_ods_code", e.0);
                None
            }
        },
        "group" => match form.limit_group.parse() {
            Ok(g) => Some(NewSubject::Group(GroupId(g))),
            Err(_) => {
                errors.add("limit_group", "Select a group");
                None
            }
        },
        _ => {
            errors.add("limit_kind", "Select whose bookings the limit counts");
            None
        }
    };
    let period = Period::parse(&form.limit_period);
    if period.is_none() {
        errors.add("limit_period", "Select a day or a week");
    }
    let max: Option<i32> = form.limit_max.parse().ok();
    if max.is_none() {
        errors.add(
            "limit_max",
            "Enter the number of slots as a whole number from 1 to 10,000",
        );
    }
    Ok(match (subject, period, max) {
        (Some(subject), Some(period), Some(max)) if errors.is_empty() => Some(NewLimit {
            schedule,
            subject,
            period,
            max,
        }),
        _ => None,
    })
}

async fn limit_add(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(form): Form<LimitForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let entered = Entered {
        window: None,
        limit_ods_code: form.limit_ods_code.clone(),
        limit_max: form.limit_max.clone(),
    };
    let mut errors = Errors::default();
    let Some(limit) = parse_limit(&form, &mut errors)? else {
        let practice = access.id();
        let data = run(&state, move |conn| load(conn, practice)).await?;
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&session, &access, data, errors, entered)?,
        );
    };
    let who = match &limit.subject {
        NewSubject::OrgType(t) => OrganisationType::label(t.code()),
        NewSubject::Ods(o) => format!("ODS code {o}"),
        NewSubject::Group(_) => "A group".to_owned(),
    };
    let extra = match &limit.subject {
        NewSubject::Ods(o) => vec![Viewer::named(o)],
        _ => Vec::new(),
    };
    let c = Checked {
        step: Step::read(&form.step, &form.nhs111_confirmed),
        check: Check {
            heading: "Check the new booking limit".into(),
            action: format!("/practices/{}/limits", access.ods()),
            answers: vec![
                ("Bookings by".into(), who),
                (
                    "At most".into(),
                    format!(
                        "{} {}",
                        limit.max,
                        match limit.period {
                            Period::Day => "a day",
                            Period::Week => "a week",
                        }
                    ),
                ),
            ],
            hidden: form.hidden(),
            notes: Vec::new(),
        },
        done: "Added the booking limit.".into(),
        extra,
        field: "limit_max",
    };
    checked(
        state,
        session,
        access,
        c,
        entered,
        move |conn, actor, practice| {
            let subject = match &limit.subject {
                NewSubject::OrgType(t) => NewSubject::OrgType(*t),
                NewSubject::Ods(o) => NewSubject::Ods(o.clone()),
                NewSubject::Group(g) => NewSubject::Group(*g),
            };
            limits::add(
                conn,
                actor,
                practice,
                limit.schedule,
                subject,
                limit.period,
                limit.max,
            )
            .map(|_| ())
        },
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StepForm {
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

async fn limit_delete(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, i64)>,
    Form(form): Form<StepForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let (_, id) = path.into_inner();
    let practice = access.id();
    let limit = run(&state, move |conn| {
        limits::list(conn, practice)?
            .into_iter()
            .find(|l| l.id == LimitId(id))
            .ok_or(AdminError::NotFound)
    })
    .await?;
    let extra = match &limit.subject {
        Subject::Ods(o) => OdsCode::parse(o)
            .map(|o| vec![Viewer::named(&o)])
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let c = Checked {
        step: Step::read(&form.step, &form.nhs111_confirmed),
        check: Check {
            heading: "Check the booking limit you are removing".into(),
            action: format!("/practices/{}/limits/{id}/delete", access.ods()),
            answers: vec![(
                "Remove the limit".into(),
                forms::capitalise(&limit.describe()),
            )],
            hidden: Vec::new(),
            notes: Vec::new(),
        },
        done: "Removed the booking limit.".into(),
        extra,
        field: "limit_max",
    };
    checked(
        state,
        session,
        access,
        c,
        Entered::default(),
        move |conn, actor, practice| limits::remove(conn, actor, practice, LimitId(id)),
    )
    .await
}

/// An optional whole number ("" is none); its range is checked by the domain
/// (`limits::BookingWindow::check`), which words the refusal.
fn optional_count(text: &str, field: &'static str, errors: &mut Errors, what: &str) -> Option<i32> {
    if text.is_empty() {
        return None;
    }
    match text.parse::<i32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.add(
                field,
                format!("Enter {what} as a whole number, or leave it empty"),
            );
            None
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ScheduleSharingForm {
    #[serde(deserialize_with = "forms::text")]
    from_days: String,
    #[serde(deserialize_with = "forms::text")]
    until_minutes: String,
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

async fn schedule_sharing_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, i64)>,
    Form(form): Form<ScheduleSharingForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let (_, schedule) = path.into_inner();
    let schedule = ScheduleId(schedule);
    let mut errors = Errors::default();
    let window = BookingWindow {
        from_days: optional_count(&form.from_days, "from_days", &mut errors, "the days ahead"),
        until_minutes: optional_count(
            &form.until_minutes,
            "until_minutes",
            &mut errors,
            "the minutes before",
        ),
    };
    // Refused before anything is written, each on its own field.
    if let Err(e) = window.check() {
        let field = match e {
            LimitError::UntilMinutesOutOfRange => "until_minutes",
            _ => "from_days",
        };
        limit_error(e, &mut errors, field)?;
    }
    let entered = Entered {
        window: Some((schedule, form.from_days.clone(), form.until_minutes.clone())),
        ..Entered::default()
    };
    let practice = access.id();
    let name = run(&state, move |conn| {
        limits::schedule_sharing(conn, practice)?
            .iter()
            .find(|s| s.id == schedule)
            .map(schedule_name)
            .ok_or(AdminError::NotFound)
    })
    .await?;
    if !errors.is_empty() {
        let data = run(&state, move |conn| load(conn, practice)).await?;
        return html(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(&session, &access, data, errors, entered)?,
        );
    }
    let side = |n: Option<i32>, unit: &str| {
        n.map_or_else(|| "No limit".to_owned(), |n| format!("{n} {unit}"))
    };
    let c = Checked {
        step: Step::read(&form.step, &form.nhs111_confirmed),
        check: Check {
            heading: format!("Check the booking window of {name}"),
            action: format!("/practices/{}/schedules/{schedule}/sharing", access.ods()),
            answers: vec![
                ("Bookable from".into(), side(window.from_days, "days ahead")),
                (
                    "Until".into(),
                    side(window.until_minutes, "minutes before the start"),
                ),
            ],
            hidden: vec![
                ("from_days", form.from_days.clone()),
                ("until_minutes", form.until_minutes.clone()),
            ],
            notes: Vec::new(),
        },
        done: format!("Saved the booking window of {name}."),
        extra: Vec::new(),
        field: "from_days",
    };
    checked(
        state,
        session,
        access,
        c,
        entered,
        move |conn, actor, practice| {
            limits::set_window(
                conn,
                actor,
                practice,
                WindowTarget::Schedule(schedule),
                window,
            )
        },
    )
    .await
}
