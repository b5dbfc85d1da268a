//! One slot: its own GP Connect setting (or "as its schedule"), why it could not be made
//! bookable, and how a chosen consumer sees it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono_tz::Europe::London;
use serde::Deserialize;

use super::check::{Check, Step, check_page, not_confirmed, saved};
use super::{SlotWho, consumer_from, consumer_label, edit_refusal, monday_of, parse_slot_setting};
use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{self, Errors, Form};
use crate::admin::view::{Layout, audience, html, local_day, local_time};
use crate::admin::who_can_book::{WhoSent, WhoValues};
use crate::availability::codes::{DeliveryChannel, ORGANISATION_TYPES};
use crate::availability::groups::{self, OrgGroup};
use crate::availability::impact::{self, Impact, NotConfirmed};
use crate::availability::limits;
use crate::availability::manage::{self, SlotBookability, Undo};
use crate::availability::query::{self, Consumer};
use crate::availability::rules;
use crate::db::ids::SlotId;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct ConsumerQuery {
    org_type: Option<String>,
    ods_code: Option<String>,
}

/// The slot form as sent.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SlotForm {
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
    version: String,
    #[serde(deserialize_with = "forms::text")]
    step: String,
    #[serde(deserialize_with = "forms::text")]
    nhs111_confirmed: String,
}

impl SlotForm {
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
            ("setting", self.setting.clone()),
            ("version", self.version.clone()),
        ];
        fields.extend(self.who_sent().hidden());
        fields
    }
}

/// What the form shows.
struct SlotFormValues {
    /// follow, yes or no
    setting: String,
    version: i32,
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
    who: WhoValues,
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

fn slot_page(
    session: &Session,
    access: &PracticeAccess,
    (slot, groups): (manage::SlotRecord, &[OrgGroup]),
    form: Option<(SlotFormValues, WhoValues)>,
    errors: Errors,
    consumer: (String, String, Option<Consumer>),
    explained: Option<(bool, Vec<String>)>,
) -> Result<SlotPage, AdminError> {
    let (form, who) = form.unwrap_or_else(|| {
        (
            SlotFormValues {
                setting: if !slot.overrides_schedule {
                    "follow".into()
                } else if slot.gpc_bookable {
                    "yes".into()
                } else {
                    "no".into()
                },
                version: slot.version,
            },
            WhoValues::from_audiences(&slot.audiences, groups),
        )
    });
    Ok(SlotPage {
        layout: access.layout(session, "Slot", "week")?,
        ods: access.ods().to_owned(),
        can_edit: access.can_edit(),
        when: format!(
            "{} {}–{}",
            local_day(&slot.start_at),
            local_time(&slot.start_at),
            local_time(&slot.end_at)
        ),
        refusal: slot_refusal(&slot),
        audience: audience(slot.gpc_bookable, &slot.audiences, groups),
        slot,
        form,
        who,
        errors,
        org_type_options: ORGANISATION_TYPES,
        org_type: consumer.0,
        ods_code: consumer.1,
        consumer: consumer.2.as_ref().map(consumer_label),
        explained,
    })
}

pub async fn slot_form(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, SlotId)>,
    q: web::Query<ConsumerQuery>,
) -> Result<HttpResponse, AdminError> {
    let (_, id) = path.into_inner();
    let q = q.into_inner();
    let mut errors = Errors::default();
    let consumer = consumer_from(&q.org_type, &q.ods_code, &mut errors);
    let chosen = consumer.clone();
    let practice = access.id();
    let now = state.clock.now();
    let (slot, groups, explained) = run(&state, move |conn| {
        let slot = manage::slot(conn, practice, id)?.ok_or(AdminError::NotFound)?;
        let groups = groups::list(conn, practice)?;
        let explained = match &chosen {
            Some(c) => query::explain(conn, practice, id, c, now, None)?
                .map(|e| -> Result<_, AdminError> {
                    let limits = limits::list(conn, practice)?;
                    Ok((e.visible(), e.explanations(&limits)))
                })
                .transpose()?,
            None => None,
        };
        Ok((slot, groups, explained))
    })
    .await?;
    let page = slot_page(
        &session,
        &access,
        (slot, &groups),
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

/// What a posted slot form led to.
enum Posted {
    Form,
    Check(Impact),
    NotConfirmed(NotConfirmed),
    Saved(Impact, Option<Undo>),
    Refused(manage::EditError),
}

/// A slot setting in words, for the check page and the bulk edit's.
pub(super) fn setting_answers(
    setting: &SlotBookability,
    groups: &[OrgGroup],
) -> Vec<(String, String)> {
    let (how, who) = match setting {
        SlotBookability::FollowSchedule => (
            "Follow the schedule",
            "Whoever the schedule lets book".to_owned(),
        ),
        SlotBookability::Own(b) if b.bookable => ("Bookable", audience(true, &b.audiences, groups)),
        SlotBookability::Own(_) => ("Not bookable", "No one".to_owned()),
    };
    vec![
        ("GP Connect bookability".into(), how.into()),
        ("Who can book".into(), who),
    ]
}

pub async fn slot_save(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    path: web::Path<(String, SlotId)>,
    Form(form): Form<SlotForm>,
) -> Result<HttpResponse, AdminError> {
    access.require_manager()?;
    let (_, id) = path.into_inner();
    let version = form.version.parse::<i32>().ok();
    let actor = access.actor();
    let practice = access.id();
    let now = state.clock.now();
    let step = Step::read(&form.step, &form.nhs111_confirmed);
    let hidden = form.hidden();
    let (slot, groups, values, posted, mut errors, words) = run(&state, move |conn| {
        let slot = manage::slot(conn, practice, id)?.ok_or(AdminError::NotFound)?;
        let groups = groups::list(conn, practice)?;
        let mut errors = Errors::default();
        let (who, setting) = parse_slot_setting(
            &SlotWho {
                setting: &form.setting,
                who: form.who_sent(),
            },
            &groups,
            &slot.audiences,
            &mut errors,
        );
        if version.is_none() {
            errors.add(
                "setting",
                "The form is incomplete: reload the page and try again",
            );
        }
        let values = SlotFormValues {
            setting: form.setting.clone(),
            version: version.unwrap_or(0),
        };
        let (Some(setting), Some(v), false) = (setting, version, step == Step::Change) else {
            return Ok((
                slot,
                groups,
                (values, who),
                Posted::Form,
                errors,
                Vec::new(),
            ));
        };
        let words = setting_answers(&setting, &groups);
        let extra = match &setting {
            SlotBookability::Own(b) => impact::named_in(b.audiences.iter()),
            SlotBookability::FollowSchedule => Vec::new(),
        };
        let save = |conn: &mut diesel::PgConnection| {
            manage::update_slot(conn, &actor, practice, id, v, &setting)
        };
        let posted = match step {
            Step::Confirm { nhs111_confirmed } => {
                match impact::apply(conn, practice, now, &extra, nhs111_confirmed, save) {
                    Ok(Ok((undo, impact))) => Posted::Saved(impact, undo),
                    Ok(Err(refused)) => Posted::NotConfirmed(refused),
                    Err(e) => Posted::Refused(e),
                }
            }
            _ => match impact::dry_run(conn, practice, now, &extra, save) {
                Ok((_, impact)) => Posted::Check(impact),
                Err(e) => Posted::Refused(e),
            },
        };
        Ok((slot, groups, (values, who), posted, errors, words))
    })
    .await?;
    let when = format!(
        "{} {}",
        local_day(&slot.start_at),
        local_time(&slot.start_at)
    );
    let check = Check {
        heading: format!("Check your changes to the slot on {when}"),
        action: format!("/practices/{}/slots/{id}", access.ods()),
        answers: words,
        hidden,
        notes: Vec::new(),
    };
    let status = match posted {
        Posted::Saved(impact, undo) => {
            return saved(
                &session,
                &access,
                format!("Saved the slot on {when}."),
                &impact,
                format!("/practices/{}/slots/{id}", access.ods()),
                undo,
            );
        }
        Posted::Check(impact) => {
            return check_page(&session, &access, "week", check, &impact, errors);
        }
        Posted::NotConfirmed(refused) => {
            let errors = not_confirmed(&refused);
            return check_page(&session, &access, "week", check, &refused.0, errors);
        }
        Posted::Refused(e) => edit_refusal(e, "setting", "slot", &mut errors)?,
        Posted::Form if errors.is_empty() => StatusCode::OK,
        Posted::Form => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = slot_page(
        &session,
        &access,
        (slot, &groups),
        Some(values),
        errors,
        (String::new(), String::new(), None),
        None,
    )?;
    html(status, &page)
}
