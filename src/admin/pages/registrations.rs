//! Temporary registrations: the patients other organisations registered at the practice through
//! GP Connect, when and by whom, so the practice can follow them up. Any role may read it.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::view::{Layout, html, local_stamp};
use crate::patients::temporary;
use crate::state::AppState;

/// The most rows the page shows.
const LIMIT: i64 = 500;

struct Row {
    when: String,
    patient: String,
    nhs_number: String,
    birth_date: String,
    organisation: String,
    what: &'static str,
    still_registered: &'static str,
}

#[derive(Template)]
#[template(path = "admin/registrations.html")]
struct RegistrationsPage {
    layout: Layout,
    rows: Vec<Row>,
    limit: i64,
}

/// `123 456 7890`, as the NHS writes NHS numbers for people.
fn spaced(nhs: &str) -> String {
    match (nhs.get(..3), nhs.get(3..6), nhs.get(6..)) {
        (Some(a), Some(b), Some(c)) => format!("{a} {b} {c}"),
        _ => nhs.to_owned(),
    }
}

pub async fn registrations_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
) -> Result<HttpResponse, AdminError> {
    let practice = access.id();
    let list = run(&state, move |conn| {
        Ok(temporary::list(conn, practice, LIMIT)?)
    })
    .await?;
    let rows = list
        .into_iter()
        .map(|r| Row {
            when: local_stamp(&r.registered_at),
            patient: format!(
                "{} {}",
                r.given_names.join(" "),
                r.family_name.to_uppercase()
            ),
            nhs_number: spaced(&r.nhs_number),
            birth_date: r.birth_date.format("%-d %b %Y").to_string(),
            organisation: match r.org_name {
                Some(name) => format!("{name} ({})", r.org_ods_code),
                None => r.org_ods_code,
            },
            what: if r.kind == "reactivated" {
                "Former patient registered again"
            } else {
                "New temporary patient"
            },
            still_registered: if r.active { "Yes" } else { "No" },
        })
        .collect();
    let page = RegistrationsPage {
        layout: access.layout(&session, "Temporary registrations", "registrations")?,
        rows,
        limit: LIMIT,
    };
    html(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    #[test]
    fn nhs_numbers_are_shown_in_three_groups() {
        assert_eq!(super::spaced("9000000009"), "900 000 0009");
    }
}
