//! The sharing rules page: organisation groups, booking limits, and each schedule's groups and
//! booking window (GP Connect slot availability management). Handlers check the user's role at
//! the practice, then call the domain (`availability::{groups, limits}`).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use diesel::{Connection, PgConnection};
use serde::Deserialize;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html, see_other, set_flash};
use crate::availability::codes::{ORGANISATION_TYPES, OdsCode, OrganisationType};
use crate::availability::groups::{self, GroupError, OrgGroup, Target};
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
    groups: Vec<(GroupId, String, bool)>,
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
                groups: groups
                    .iter()
                    .map(|g| (g.id, g.name.clone(), s.group_ids.contains(&g.id.0)))
                    .collect(),
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
    group_id: String,
    #[serde(deserialize_with = "forms::text")]
    group_members: String,
}

async fn group_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(form): Form<GroupForm>,
) -> Result<HttpResponse, AdminError> {
    let id = form.group_id.parse().ok().map(GroupId);
    change(
        state,
        session,
        access,
        "Saved the group.",
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
                && let Err(e) = groups::save(conn, actor, practice, id, &form.group_name, &members)
            {
                group_error(e, &mut errors, "group_name")?;
            }
            Ok(errors)
        },
    )
    .await
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
}

async fn limit_add(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(form): Form<LimitForm>,
) -> Result<HttpResponse, AdminError> {
    let period = Period::parse(&form.limit_period);
    let max: Option<i32> = form.limit_max.parse().ok();
    let entered = Entered {
        window: None,
        limit_ods_code: form.limit_ods_code.clone(),
        limit_max: form.limit_max.clone(),
    };
    change(
        state,
        session,
        access,
        "Added the booking limit.",
        entered,
        move |conn, actor, practice| {
            let mut errors = Errors::default();
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
            if period.is_none() {
                errors.add("limit_period", "Select a day or a week");
            }
            if max.is_none() {
                errors.add(
                    "limit_max",
                    "Enter the number of slots as a whole number from 1 to 10,000",
                );
            }
            if let (Some(subject), Some(period), Some(max), true) =
                (subject, period, max, errors.is_empty())
                && let Err(e) = limits::add(conn, actor, practice, schedule, subject, period, max)
            {
                limit_error(e, &mut errors, "limit_max")?;
            }
            Ok(errors)
        },
    )
    .await
}

async fn limit_delete(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AdminError> {
    let (_, id) = path.into_inner();
    change(
        state,
        session,
        access,
        "Removed the booking limit.",
        Entered::default(),
        move |conn, actor, practice| {
            let mut errors = Errors::default();
            if let Err(e) = limits::remove(conn, actor, practice, LimitId(id)) {
                limit_error(e, &mut errors, "limit_max")?;
            }
            Ok(errors)
        },
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
    #[serde(deserialize_with = "forms::texts")]
    groups: Vec<String>,
}

async fn schedule_sharing_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, i64)>,
    Form(form): Form<ScheduleSharingForm>,
) -> Result<HttpResponse, AdminError> {
    let (_, schedule) = path.into_inner();
    let schedule = ScheduleId(schedule);
    let mut parse_errors = Errors::default();
    let window = BookingWindow {
        from_days: optional_count(
            &form.from_days,
            "from_days",
            &mut parse_errors,
            "the days ahead",
        ),
        until_minutes: optional_count(
            &form.until_minutes,
            "until_minutes",
            &mut parse_errors,
            "the minutes before",
        ),
    };
    let group_ids: Vec<GroupId> = form
        .groups
        .iter()
        .filter_map(|g| g.parse().ok())
        .map(GroupId)
        .collect();
    let entered = Entered {
        window: Some((schedule, form.from_days.clone(), form.until_minutes.clone())),
        ..Entered::default()
    };
    change(
        state,
        session,
        access,
        "Saved the schedule's sharing rules.",
        entered,
        move |conn, actor, practice| {
            if !parse_errors.is_empty() {
                return Ok(parse_errors);
            }
            let mut errors = Errors::default();
            // Refused before anything is written, each on its own field.
            if let Err(e) = window.check() {
                let field = match e {
                    LimitError::UntilMinutesOutOfRange => "until_minutes",
                    _ => "from_days",
                };
                limit_error(e, &mut errors, field)?;
                return Ok(errors);
            }
            // One transaction: groups and window change together or not at all.
            let result = conn.transaction(|conn| {
                groups::set_bookable_groups(
                    conn,
                    actor,
                    practice,
                    Target::Schedule(schedule),
                    &group_ids,
                )
                .map_err(|e| match e {
                    GroupError::Database(d) => LimitError::Database(d),
                    _ => LimitError::NotFound,
                })?;
                limits::set_window(
                    conn,
                    actor,
                    practice,
                    WindowTarget::Schedule(schedule),
                    window,
                )
            });
            if let Err(e) = result {
                limit_error(e, &mut errors, "from_days")?;
            }
            Ok(errors)
        },
    )
    .await
}
