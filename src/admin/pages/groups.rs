//! One organisation group's page: its members, each with "Remove", and "Add an
//! organisation". Every change goes through the check page (a member added or taken out changes
//! what it can book), one organisation at a time, so nothing silently replaces the members.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::check::{Check, Step, check_page, not_confirmed, saved};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html};
use crate::availability::codes::OdsCode;
use crate::availability::groups::{self, GroupError, OrgGroup};
use crate::availability::impact::{self, Impact, NotConfirmed, Viewer};
use crate::availability::manage::Undo;
use crate::db::ids::GroupId;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/groups/{id}", web::get().to(group_page))
        .route("/groups/{id}/members", web::post().to(member_add))
        .route("/groups/{id}/members/remove", web::post().to(member_remove));
}

#[derive(Template)]
#[template(path = "admin/group.html")]
struct GroupPage {
    layout: Layout,
    ods: String,
    can_edit: bool,
    group: OrgGroup,
    errors: Errors,
    /// The code as entered in "Add an organisation".
    ods_code: String,
}

fn render(
    session: &Session,
    access: &PracticeAccess,
    group: OrgGroup,
    errors: Errors,
    ods_code: String,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let title = if errors.is_empty() {
        group.name.clone()
    } else {
        format!("Error: {}", group.name)
    };
    let page = GroupPage {
        layout: access.layout(session, &title, "sharing")?,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        group,
        errors,
        ods_code,
    };
    html(status, &page)
}

fn group_error(e: GroupError) -> Result<String, AdminError> {
    match e {
        GroupError::Database(e) => Err(e.into()),
        GroupError::NotFound => Err(AdminError::NotFound),
        other => Ok(forms::capitalise(&other.to_string())),
    }
}

async fn group_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, GroupId)>,
) -> Result<HttpResponse, AdminError> {
    let (_, id) = path.into_inner();
    let practice = access.id();
    let group = run(&state, move |conn| {
        groups::get(conn, practice, id).map_err(|e| match e {
            GroupError::Database(e) => e.into(),
            _ => AdminError::NotFound,
        })
    })
    .await?;
    render(
        &session,
        &access,
        group,
        Errors::default(),
        String::new(),
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MemberForm {
    #[serde(deserialize_with = "forms::text")]
    ods_code: String,
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

/// What a posted member change led to.
enum Posted {
    Check(Impact),
    NotConfirmed(NotConfirmed),
    Saved(Impact),
    Refused(String),
}

async fn member_add(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, GroupId)>,
    Form(form): Form<MemberForm>,
) -> Result<HttpResponse, AdminError> {
    member_change(state, session, access, path.into_inner().1, form, true).await
}

async fn member_remove(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, GroupId)>,
    Form(form): Form<MemberForm>,
) -> Result<HttpResponse, AdminError> {
    member_change(state, session, access, path.into_inner().1, form, false).await
}

async fn member_change(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    id: GroupId,
    form: MemberForm,
    add: bool,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let actor = access.actor();
    let practice = access.id();
    let now = state.clock.now();
    let step = Step::read(&form.step, &form.nhs111_confirmed);
    let code = OdsCode::parse_organisation(&form.ods_code);
    let entered = form.ods_code.clone();
    let code_for_run = code.clone();
    let (group, posted) = run(&state, move |conn| {
        let group = groups::get(conn, practice, id).map_err(|e| match e {
            GroupError::Database(e) => e.into(),
            _ => AdminError::NotFound,
        })?;
        let Ok(code) = code_for_run else {
            return Ok((group, None));
        };
        let change = |conn: &mut diesel::PgConnection| {
            if add {
                groups::add_member(conn, &actor, practice, id, &code)
            } else {
                groups::remove_member(conn, &actor, practice, id, &code)
            }
        };
        let extra = [Viewer::named(&code)];
        let posted = match step {
            Step::Confirm { nhs111_confirmed } => {
                match impact::apply(conn, practice, now, &extra, nhs111_confirmed, change) {
                    Ok(Ok(((), impact))) => Posted::Saved(impact),
                    Ok(Err(refused)) => Posted::NotConfirmed(refused),
                    Err(e) => Posted::Refused(group_error(e)?),
                }
            }
            _ => match impact::dry_run(conn, practice, now, &extra, change) {
                Ok(((), impact)) => Posted::Check(impact),
                Err(e) => Posted::Refused(group_error(e)?),
            },
        };
        Ok((group, Some(posted)))
    })
    .await?;
    let back = format!("/practices/{}/groups/{id}", access.ods());
    let code = match code {
        Ok(c) => c,
        Err(e) => {
            let mut errors = Errors::default();
            errors.add("ods_code", e.0);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(&session, &access, group, errors, entered, status);
        }
    };
    let (verb, action) = if add {
        ("Add", format!("{back}/members"))
    } else {
        ("Remove", format!("{back}/members/remove"))
    };
    let check = Check {
        heading: format!("Check your change to {}", group.name),
        action,
        answers: vec![(format!("{verb} organisation"), code.to_string())],
        hidden: vec![("ods_code", code.to_string())],
        notes: Vec::new(),
    };
    match posted {
        Some(Posted::Check(impact)) if step != Step::Change => check_page(
            &session,
            &access,
            "sharing",
            check,
            &impact,
            Errors::default(),
        ),
        Some(Posted::NotConfirmed(refused)) => {
            let errors = not_confirmed(&refused);
            check_page(&session, &access, "sharing", check, &refused.0, errors)
        }
        Some(Posted::Saved(impact)) => {
            let message = if add {
                format!("Added {code} to {}.", group.name)
            } else {
                format!("Removed {code} from {}.", group.name)
            };
            let undo = Undo::GroupMember {
                group: id,
                code: code.to_string(),
                added: add,
            };
            saved(&session, &access, message, &impact, back, Some(undo))
        }
        Some(Posted::Refused(message)) => {
            let mut errors = Errors::default();
            errors.add("ods_code", message);
            render(
                &session,
                &access,
                group,
                errors,
                entered,
                StatusCode::CONFLICT,
            )
        }
        Some(Posted::Check(_)) | None => render(
            &session,
            &access,
            group,
            Errors::default(),
            entered,
            StatusCode::OK,
        ),
    }
}
