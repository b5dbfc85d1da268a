//! "Check your changes": the page every change of who can book goes through before it is
//! saved (the GOV.UK/NHS check-your-answers pattern), with its impact on each organisation
//! (`availability::impact`); the saved page with its undo button; and undo itself.
//!
//! A form posted without `step` shows this page, which posts the same fields back as hidden
//! ones with `step=confirm` (save) or `step=change` (the form again, as entered). A change that
//! takes slots from NHS 111 also needs `nhs111_confirmed=yes`, else the save is refused and
//! nothing changes.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::Errors;
use crate::admin::view::{Layout, html, local_day, see_other, set_flash};
use crate::availability::impact::{Impact, NotConfirmed};
use crate::availability::manage::{self, EditError, Undo};
use crate::state::AppState;

/// What the manager chose on the check page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The form was posted: show the check page.
    Check,
    /// "Change your answers": the form again, as entered.
    Change,
    /// "Save changes", with NHS 111's loss confirmed or not.
    Confirm { nhs111_confirmed: bool },
}

impl Step {
    pub fn read(step: &str, nhs111_confirmed: &str) -> Step {
        match step {
            "confirm" => Step::Confirm {
                nhs111_confirmed: nhs111_confirmed == "yes",
            },
            "change" => Step::Change,
            _ => Step::Check,
        }
    }
}

/// One organisation's line of the impact table.
struct ImpactLine {
    label: String,
    org_type: String,
    ods_code: String,
    before: usize,
    after: usize,
    change: String,
    loses: bool,
}

/// The impact as the page shows it.
struct ImpactView {
    lines: Vec<ImpactLine>,
    nhs111_lost: usize,
    minimum: i64,
    /// "Tue 8 Dec 2026: 1 slot"
    below_minimum: Vec<String>,
    needs_confirmation: bool,
    changes_anything: bool,
}

impl ImpactView {
    fn of(impact: &Impact) -> ImpactView {
        ImpactView {
            lines: impact
                .rows
                .iter()
                .map(|r| ImpactLine {
                    label: r.viewer.label.clone(),
                    org_type: r.viewer.consumer.org_type.clone().unwrap_or_default(),
                    ods_code: r
                        .viewer
                        .consumer
                        .ods_code
                        .as_ref()
                        .map(|c| c.to_string())
                        .unwrap_or_default(),
                    before: r.before,
                    after: r.after,
                    change: r.change(),
                    loses: r.after < r.before,
                })
                .collect(),
            nhs111_lost: impact.nhs111_lost(),
            minimum: impact.nhs111_daily_minimum,
            below_minimum: impact
                .days_below_minimum
                .iter()
                .map(|(day, n)| {
                    let noon = day.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
                    format!(
                        "{}: {n} {}",
                        local_day(&noon),
                        if *n == 1 { "slot" } else { "slots" }
                    )
                })
                .collect(),
            needs_confirmation: impact.needs_confirmation(),
            changes_anything: impact.changes_anything(),
        }
    }

    /// Sentences for the saved page: "NHS 111 and other urgent care services will no longer
    /// see 44 slots."
    fn sentences(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter(|l| l.before != l.after)
            .map(|l| format!("{} {}.", l.label, l.change))
            .collect()
    }
}

/// What a page puts on its check page: the heading, where the form goes, the answers in
/// words, and the fields to send again.
pub struct Check {
    pub heading: String,
    pub action: String,
    pub answers: Vec<(String, String)>,
    pub hidden: Vec<(&'static str, String)>,
    /// Extra lines above the impact (a bulk edit's matched and skipped slots).
    pub notes: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/check_changes.html")]
struct CheckPage {
    layout: Layout,
    check: Check,
    impact: ImpactView,
    errors: Errors,
    days: u64,
}

/// The check page for `impact`; `errors` (the second confirmation missing) make it a 422.
pub fn check_page(
    session: &Session,
    access: &PracticeAccess,
    current: &'static str,
    check: Check,
    impact: &Impact,
    errors: Errors,
) -> Result<HttpResponse, AdminError> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let title = if errors.is_empty() {
        check.heading.clone()
    } else {
        format!("Error: {}", check.heading)
    };
    let page = CheckPage {
        layout: access.layout(session, &title, current)?,
        check,
        impact: ImpactView::of(impact),
        errors,
        days: crate::availability::impact::DAYS_AHEAD,
    };
    html(status, &page)
}

/// The refusal of a save NHS 111's loss was not confirmed for.
pub fn not_confirmed(NotConfirmed(impact): &NotConfirmed) -> Errors {
    let mut errors = Errors::default();
    errors.add(
        "nhs111_confirmed",
        format!(
            "Confirm that NHS 111 will no longer see {} {}, or change your answers",
            impact.nhs111_lost(),
            if impact.nhs111_lost() == 1 {
                "slot"
            } else {
                "slots"
            }
        ),
    );
    errors
}

/// The session key of the last save's undo.
const SAVED_KEY: &str = "saved-change";

/// The last save, for the saved page and its undo.
#[derive(Serialize, Deserialize)]
struct Saved {
    ods: String,
    message: String,
    sentences: Vec<String>,
    /// Where "Continue" goes.
    next: String,
    undo: Option<Undo>,
}

/// After a save: keeps its undo and goes to the saved page.
pub fn saved(
    session: &Session,
    access: &PracticeAccess,
    message: String,
    impact: &Impact,
    next: String,
    undo: Option<Undo>,
) -> Result<HttpResponse, AdminError> {
    let saved = Saved {
        ods: access.ods().to_owned(),
        message,
        sentences: ImpactView::of(impact).sentences(),
        next,
        undo,
    };
    session.insert(SAVED_KEY, &saved)?;
    Ok(see_other(&format!("/practices/{}/saved", access.ods())))
}

#[derive(Template)]
#[template(path = "admin/saved.html")]
struct SavedPage {
    layout: Layout,
    ods: String,
    saved: Saved,
    errors: Errors,
}

fn saved_page(
    session: &Session,
    access: &PracticeAccess,
    saved: Saved,
    errors: Errors,
    status: StatusCode,
) -> Result<HttpResponse, AdminError> {
    let title = if errors.is_empty() {
        "Changes saved"
    } else {
        "Error: Changes saved"
    };
    let page = SavedPage {
        layout: access.layout(session, title, "schedules")?,
        ods: access.ods().to_owned(),
        saved,
        errors,
    };
    html(status, &page)
}

fn last_saved(session: &Session, access: &PracticeAccess) -> Option<Saved> {
    session
        .get::<Saved>(SAVED_KEY)
        .ok()
        .flatten()
        .filter(|s| s.ods == access.ods())
}

pub async fn saved_view(
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    match last_saved(&session, &access) {
        Some(saved) => saved_page(&session, &access, saved, Errors::default(), StatusCode::OK),
        None => Ok(see_other(&format!("/practices/{}", access.ods()))),
    }
}

pub async fn undo_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let Some(saved) = last_saved(&session, &access) else {
        set_flash(&session, "There is no change to undo.")?;
        return Ok(see_other(&format!("/practices/{}", access.ods())));
    };
    let Some(undo) = saved.undo.clone() else {
        return Ok(see_other(&saved.next));
    };
    let actor = access.actor();
    let practice = access.id();
    let result = run(&state, move |conn| {
        Ok(manage::undo(conn, &actor, practice, &undo))
    })
    .await?;
    match result {
        Ok(()) => {
            session.remove(SAVED_KEY);
            set_flash(
                &session,
                "Your change was undone: the previous settings are back.",
            )?;
            Ok(see_other(&saved.next))
        }
        Err(EditError::Stale) => {
            let mut errors = Errors::default();
            errors.add(
                "undo",
                "These settings were changed again since you saved, so nothing was undone: \
                 open them to see the current settings",
            );
            saved_page(&session, &access, saved, errors, StatusCode::CONFLICT)
        }
        Err(EditError::NotFound) => Err(AdminError::NotFound),
        Err(e) => Err(e.into()),
    }
}
