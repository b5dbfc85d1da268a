//! The admin pages, one file per page. Each practice page starts from [`PracticeAccess`] (who
//! is signed in, else to /login; their role at the practice in the path, else 404), reads its
//! form as a typed struct ([`crate::admin::forms::Form`]), then calls the domain and renders a
//! template. What several pages share (reading a consumer, the refusal of an edit, weeks) is
//! here.
//!
//! [`PracticeAccess`]: crate::admin::access::PracticeAccess

mod account;
mod appointments;
mod audit;
mod bulk;
mod check;
mod gp_connect;
mod groups;
mod how_sharing_works;
mod index;
mod looking;
mod preview;
mod registrations;
mod schedules;
mod sharing;
mod slot;
mod users;
mod week;

use actix_web::http::StatusCode;
use actix_web::web;
use chrono::{Datelike, Days, NaiveDate};
use chrono_tz::Europe::London;

use super::auth;
use super::error::AdminError;
use super::forms::{self, Errors};
use crate::admin::who_can_book::{WhoSent, WhoValues};
use crate::availability::audience::Audiences;
use crate::availability::codes::{OdsCode, OrganisationType};
use crate::availability::groups::OrgGroup;
use crate::availability::manage::{EditError, SlotBookability};
use crate::availability::query::Consumer;
use crate::availability::rules::Bookability;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index::index))
        .route("/login", web::get().to(auth::login_form))
        .route("/login", web::post().to(auth::login))
        .route("/logout", web::post().to(auth::logout))
        .route("/practices", web::get().to(index::to_index))
        .route("/account/password", web::get().to(account::password_form))
        .route("/account/password", web::post().to(account::password_save))
        .service(
            web::scope("/practices/{ods}")
                .route("", web::get().to(schedules::schedules_page))
                .route("/schedules/{id}", web::get().to(schedules::schedule_form))
                .route("/schedules/{id}", web::post().to(schedules::schedule_save))
                .route("/week", web::get().to(week::week_page))
                .route("/slots/{id}", web::get().to(slot::slot_form))
                .route("/slots/{id}", web::post().to(slot::slot_save))
                .route("/bulk", web::get().to(bulk::bulk_form))
                .route("/bulk", web::post().to(bulk::bulk_save))
                .route("/saved", web::get().to(check::saved_view))
                .route("/undo", web::post().to(check::undo_save))
                .route("/preview", web::get().to(preview::preview_page))
                .route(
                    "/how-sharing-works",
                    web::get().to(how_sharing_works::how_sharing_works_page),
                )
                .route("/audit", web::get().to(audit::audit_page))
                .route("/gp-connect", web::get().to(gp_connect::gp_connect_page))
                .route(
                    "/appointments",
                    web::get().to(appointments::appointments_page),
                )
                .route(
                    "/registrations",
                    web::get().to(registrations::registrations_page),
                )
                .configure(sharing::routes)
                .configure(groups::routes)
                .configure(users::routes)
                .default_service(web::to(crate::admin::error::not_found)),
        );
}

/// The consumer chosen on a page (organisation type and/or ODS code), if any.
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
        parts.push(OrganisationType::label(t));
    }
    if let Some(o) = &c.ods_code {
        parts.push(format!("ODS {o}"));
    }
    parts.join(", ")
}

/// The "Who can book?" question of the slot and bulk edit forms, as sent.
struct SlotWho<'a> {
    setting: &'a str,
    who: WhoSent<'a>,
}

/// The slot setting of the slot and bulk edit forms: "follow" the schedule, "no", or "yes"
/// with who can book (asked only then), and the question as the form shows it again.
fn parse_slot_setting(
    sent: &SlotWho<'_>,
    groups: &[OrgGroup],
    saved: &Audiences,
    errors: &mut Errors,
) -> (WhoValues, Option<SlotBookability>) {
    let mut who_errors = Errors::default();
    let (who, audiences) = WhoValues::from_form(&sent.who, groups, saved, &mut who_errors);
    let setting = match sent.setting {
        "follow" => Some(SlotBookability::FollowSchedule),
        "no" => Some(SlotBookability::Own(Bookability {
            bookable: false,
            audiences: Audiences::everyone(),
        })),
        "yes" => {
            errors.0.append(&mut who_errors.0);
            audiences.map(|audiences| {
                SlotBookability::Own(Bookability {
                    bookable: true,
                    audiences,
                })
            })
        }
        _ => {
            errors.add("setting", "Select whether the slots can be booked");
            None
        }
    };
    (who, setting.filter(|_| errors.is_empty()))
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

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// Today in the UK, by the server's clock.
fn today(state: &AppState) -> NaiveDate {
    state.clock.now().with_timezone(&London).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(monday_of(d), NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
    }
}
