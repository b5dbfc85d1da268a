//! Bulk edit: one GP Connect setting for every slot matching a selection (schedule, days,
//! weekdays, times, slot type).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, Weekday};
use serde::Deserialize;

use super::check::{Check, Step, check_page, not_confirmed, saved};
use super::slot::setting_answers;
use super::{SlotWho, edit_refusal, monday_of, parse_slot_setting, today};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, html, local_day, local_time};
use crate::admin::who_can_book::{WhoSent, WhoValues};
use crate::availability::audience::Audiences;
use crate::availability::groups;
use crate::availability::impact::{self, Impact, NotConfirmed};
use crate::availability::manage::{
    self, BulkOptions, BulkOutcome, EditError, RefusedSlot, SlotBookability, SlotSelection,
};
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
    #[serde(deserialize_with = "forms::text")]
    skip_refused: String,
    #[serde(deserialize_with = "forms::text")]
    fingerprint: String,
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

/// The slot type filter's value for "slots without a slot type".
const NO_SLOT_TYPE: &str = "(none)";

impl BulkForm {
    /// The fields again, for the check page.
    fn hidden(&self, fingerprint: &str) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("schedule", self.schedule.clone()),
            ("first_day", self.first_day.clone()),
            ("last_day", self.last_day.clone()),
            ("from_time", self.from_time.clone()),
            ("until_time", self.until_time.clone()),
            ("slot_type", self.slot_type.clone()),
            ("setting", self.setting.clone()),
            ("skip_refused", self.skip_refused.clone()),
            ("fingerprint", fingerprint.to_owned()),
        ];
        fields.extend(self.weekdays.iter().map(|d| ("weekdays", d.clone())));
        fields.extend(self.who_sent().hidden());
        fields
    }

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
    /// The slots that can't take the setting: (day, time, schedule, reason).
    refused: Vec<(String, String, String, String)>,
    no_slot_type: &'static str,
}

/// The bulk edit page with the choices (schedules, slot types) as they are now.
async fn bulk_page(
    state: &AppState,
    session: &Session,
    access: &PracticeAccess,
    form: BulkForm,
    (errors, refused): (Errors, Vec<RefusedSlot>),
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
        refused: refused
            .iter()
            .map(|r| {
                (
                    local_day(&r.start),
                    local_time(&r.start),
                    r.schedule.clone(),
                    forms::capitalise(&r.reason.to_string()),
                )
            })
            .collect(),
        no_slot_type: NO_SLOT_TYPE,
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
        (Errors::default(), Vec::new()),
        StatusCode::OK,
    )
    .await
}

/// What a posted bulk edit led to.
enum Posted {
    Form,
    Check(BulkOutcome, Impact),
    NotConfirmed(NotConfirmed),
    Saved(BulkOutcome, Impact),
    Refused(EditError),
}

/// The selection of the form, or None with its errors.
fn selection(form: &BulkForm, errors: &mut Errors) -> Option<SlotSelection> {
    let schedule = match form.schedule.as_str() {
        "" => None,
        s => s.parse::<ScheduleId>().map(Some).unwrap_or_else(|_| {
            errors.add("schedule", "Select a schedule from the list");
            None
        }),
    };
    let first_day = forms::date(&form.first_day, "first_day", "first day", errors);
    let last_day = forms::date(&form.last_day, "last_day", "last day", errors);
    let weekdays = form
        .weekdays
        .iter()
        .filter_map(|d| WEEKDAYS.iter().find(|w| w.0 == d).map(|w| w.2))
        .collect();
    let from_time = forms::optional_time(&form.from_time, "from_time", "start time", errors);
    let until_time = forms::optional_time(&form.until_time, "until_time", "end time", errors);
    let no_slot_type = form.slot_type == NO_SLOT_TYPE;
    match (first_day, last_day, errors.is_empty()) {
        (Some(first_day), Some(last_day), true) => Some(SlotSelection {
            schedule,
            first_day,
            last_day,
            weekdays,
            from_time,
            until_time,
            slot_type: (!form.slot_type.is_empty() && !no_slot_type)
                .then(|| form.slot_type.clone()),
            no_slot_type,
        }),
        _ => None,
    }
}

pub async fn bulk_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    Form(form): Form<BulkForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let mut errors = Errors::default();
    let selection = selection(&form, &mut errors);
    let actor = access.actor();
    let practice = access.id();
    let now = state.clock.now();
    let step = Step::read(&form.step, &form.nhs111_confirmed);
    let sent_setting = form.setting.clone();
    let who_form = (
        form.who.clone(),
        form.who_types.clone(),
        form.who_groups.clone(),
        form.who_ods.clone(),
        form.who_keep.clone(),
    );
    let options = BulkOptions {
        skip_refused: form.skip_refused == "yes",
        expected: match step {
            Step::Confirm { .. } => Some(form.fingerprint.clone()),
            _ => None,
        },
    };
    let sel = selection.clone();
    let (posted, errors, words) = run(&state, move |conn| {
        if let Some(s) = sel.as_ref().and_then(|s| s.schedule) {
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
        let (Some(sel), Some(setting), true, false) =
            (sel, setting, errors.is_empty(), step == Step::Change)
        else {
            return Ok((Posted::Form, errors, Vec::new()));
        };
        let words = setting_answers(&setting, &groups);
        let extra = match &setting {
            SlotBookability::Own(b) => impact::named_in(b.audiences.iter()),
            SlotBookability::FollowSchedule => Vec::new(),
        };
        let save = |conn: &mut diesel::PgConnection| {
            manage::bulk_update_slots_with(conn, &actor, practice, &sel, &setting, &options)
        };
        let posted = match step {
            Step::Confirm { nhs111_confirmed } => {
                match impact::apply(conn, practice, now, &extra, nhs111_confirmed, save) {
                    Ok(Ok((outcome, impact))) => Posted::Saved(outcome, impact),
                    Ok(Err(refused)) => Posted::NotConfirmed(refused),
                    Err(e) => Posted::Refused(e),
                }
            }
            _ => match impact::dry_run(conn, practice, now, &extra, save) {
                Ok((outcome, impact)) => Posted::Check(outcome, impact),
                Err(e) => Posted::Refused(e),
            },
        };
        Ok((posted, errors, words))
    })
    .await?;
    let mut errors = errors;
    let check = |fingerprint: &str, notes| Check {
        heading: "Check your bulk edit".into(),
        action: format!("/practices/{}/bulk", access.ods()),
        answers: words.clone(),
        hidden: form.hidden(fingerprint),
        notes,
    };
    let mut refused = Vec::new();
    let status = match posted {
        Posted::Saved(outcome, impact) => {
            let sel = selection.expect("a saved edit had a selection");
            let mut next = format!(
                "/practices/{}/week?week={}",
                access.ods(),
                monday_of(sel.first_day)
            );
            if let Some(s) = sel.schedule {
                next.push_str(&format!("&schedule={s}"));
            }
            let mut message = format!(
                "Bulk edit saved: {} of the {} matching slots changed.",
                outcome.changed, outcome.matched
            );
            if !outcome.skipped.is_empty() {
                message.push_str(&format!(" {} skipped.", outcome.skipped.len()));
            }
            return saved(&session, &access, message, &impact, next, outcome.undo);
        }
        Posted::Check(outcome, impact) => {
            let mut notes = vec![format!(
                "The choice matches {} slots; {} of them will change.",
                outcome.matched, outcome.changed
            )];
            if !outcome.skipped.is_empty() {
                notes.push(format!(
                    "{} slots can't take this setting and will be skipped: they stay as they are.",
                    outcome.skipped.len()
                ));
            }
            let check = check(&outcome.fingerprint, notes);
            return check_page(&session, &access, "bulk", check, &impact, errors);
        }
        Posted::NotConfirmed(not) => {
            let check = check(&form.fingerprint, Vec::new());
            return check_page(
                &session,
                &access,
                "bulk",
                check,
                &not.0,
                not_confirmed(&not),
            );
        }
        Posted::Refused(EditError::RefusedSlots {
            reason,
            count,
            slots,
        }) => {
            refused = slots;
            edit_refusal(
                EditError::RefusedSlots {
                    reason,
                    count,
                    slots: Vec::new(),
                },
                "setting",
                "slot",
                &mut errors,
            )?
        }
        Posted::Refused(e) => edit_refusal(e, "setting", "slot", &mut errors)?,
        Posted::Form if errors.is_empty() => StatusCode::OK,
        Posted::Form => StatusCode::UNPROCESSABLE_ENTITY,
    };
    bulk_page(&state, &session, &access, form, (errors, refused), status).await
}
