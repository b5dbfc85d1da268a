//! What every page shows around its content (layout, one-off messages, redirects), and UK
//! local formatting of times and labels.

use actix_session::Session;
use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;
use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;

use super::error::AdminError;
use super::security::csrf_token;

use crate::availability::audience::Audiences;
use crate::availability::groups::OrgGroup;

/// The header and navigation of a page.
pub struct Layout {
    pub title: String,
    /// The signed-in user's display name.
    pub user: Option<String>,
    pub csrf: String,
    pub practice: Option<PracticeNav>,
    /// A one-off success message (after a save).
    pub flash: Option<String>,
}

pub struct PracticeNav {
    pub ods: String,
    pub name: String,
    pub role: &'static str,
    /// Which navigation item is current: schedules, week, bulk, preview or audit.
    pub current: &'static str,
}

impl PracticeNav {
    pub fn is(&self, item: &str) -> bool {
        self.current == item
    }
}

/// A rendered page with its status.
pub fn html(status: StatusCode, page: &impl Template) -> Result<HttpResponse, AdminError> {
    let body = error_title(page.render()?);
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// The id of the error summary (`error_summary.html`), which a page shows when a form has errors.
const ERROR_SUMMARY: &str = r#"id="error-summary""#;

/// The NHS.UK error pattern's title: a page that shows an error summary has a title starting
/// "Error: ", whichever page and template it is, so screen readers announce it first.
fn error_title(body: String) -> String {
    if body.contains(ERROR_SUMMARY) && !body.contains("<title>Error: ") {
        body.replacen("<title>", "<title>Error: ", 1)
    } else {
        body
    }
}

/// The session key of the one-off message shown by the next page.
const FLASH_KEY: &str = "flash";

/// The layout of a page for a signed-in user (by display name); takes the one-off message, if
/// any.
pub fn layout(session: &Session, user: &str, title: String) -> Result<Layout, AdminError> {
    let flash = session.remove_as::<String>(FLASH_KEY).and_then(Result::ok);
    Ok(Layout {
        title,
        user: Some(user.to_owned()),
        csrf: csrf_token(session)?,
        practice: None,
        flash,
    })
}

pub fn set_flash(session: &Session, message: &str) -> Result<(), AdminError> {
    session.insert(FLASH_KEY, message)?;
    Ok(())
}

pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// "Mon 24 Nov 2026"
pub fn local_day(t: &DateTime<Utc>) -> String {
    t.with_timezone(&London).format("%a %-d %b %Y").to_string()
}

/// "08:30"
pub fn local_time(t: &DateTime<Utc>) -> String {
    t.with_timezone(&London).format("%H:%M").to_string()
}

/// "Tue 24 Nov 08:30": a slot, as a manager knows it.
pub fn local_day_time(t: &DateTime<Utc>) -> String {
    t.with_timezone(&London)
        .format("%a %-d %b %H:%M")
        .to_string()
}

/// "Tue 24 Nov 2026 08:30": when something happened.
pub fn local_when(t: &DateTime<Utc>) -> String {
    t.with_timezone(&London)
        .format("%a %-d %b %Y %H:%M")
        .to_string()
}

/// "24 Nov 2026 08:30:05 GMT"
pub fn local_stamp(t: &DateTime<Utc>) -> String {
    t.with_timezone(&London)
        .format("%-d %b %Y %H:%M:%S %Z")
        .to_string()
}

/// "NHS 111 and other urgent care services, Y03032" — who can book, in words.
pub fn audience(bookable: bool, audiences: &Audiences, groups: &[OrgGroup]) -> String {
    if !bookable {
        return "Not bookable".into();
    }
    audiences.describe(&|g| groups.iter().find(|x| x.id == g).map(|x| x.name.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_shown_in_uk_local_time_across_the_clock_change() {
        let winter = Utc.with_ymd_and_hms(2026, 11, 24, 8, 30, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 6, 10, 8, 30, 0).unwrap();
        assert_eq!(local_time(&winter), "08:30");
        assert_eq!(local_time(&summer), "09:30");
        assert_eq!(local_day(&winter), "Tue 24 Nov 2026");
        assert_eq!(local_stamp(&summer), "10 Jun 2026 09:30:00 BST");
        assert_eq!(local_day_time(&summer), "Wed 10 Jun 09:30");
        assert_eq!(local_when(&winter), "Tue 24 Nov 2026 08:30");
    }

    #[test]
    fn a_page_with_an_error_summary_has_error_in_its_title() {
        let page = r#"<title>Users – bookable</title><div id="error-summary">"#;
        assert_eq!(
            error_title(page.into()),
            r#"<title>Error: Users – bookable</title><div id="error-summary">"#
        );
        assert_eq!(
            error_title(error_title(page.into())),
            error_title(page.into())
        );
        let fine = "<title>Users – bookable</title>";
        assert_eq!(error_title(fine.into()), fine);
    }

    #[test]
    fn audiences_read_as_sentences() {
        let a = Audiences::from_tokens(&["type:urgent-care", "ods:Y03032"]).unwrap();
        assert_eq!(audience(false, &a, &[]), "Not bookable");
        assert_eq!(
            audience(true, &Audiences::everyone(), &[]),
            "Any organisation using GP Connect"
        );
        assert_eq!(
            audience(true, &a, &[]),
            "NHS 111 and other urgent care services, Y03032"
        );
    }
}
