//! GP Connect requests: every request other organisations' systems made to the practice's
//! GP Connect service, answered or refused, for the practice's admins (who is looking up
//! appointments, and whether it worked). Filtered by day, organisation, what was asked and what
//! happened.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::admin::access::PracticeAccess;
use crate::admin::auth::run;
use crate::admin::error::AdminError;
use crate::admin::forms::{DateInput, Errors};
use crate::admin::view::{Layout, html, local_stamp};
use crate::fhir::interaction::Interaction;
use crate::fhir::trail_query::{self, Outcome, TrailFilter};
use crate::state::AppState;

/// The most rows the page shows.
const LIMIT: i64 = 500;
/// An ODS code is at most 10 characters; anything longer is refused.
const MAX_ORGANISATION: usize = 10;

#[derive(Deserialize, Default)]
pub struct TrailQuery {
    /// A link's day (`2026-12-08`); the form sends `day_day`, `day_month`, `day_year`.
    day: Option<String>,
    day_day: Option<String>,
    day_month: Option<String>,
    day_year: Option<String>,
    organisation: Option<String>,
    interaction: Option<String>,
    outcome: Option<String>,
}

struct Row {
    when: String,
    organisation: String,
    what: String,
    outcome: String,
    trace_id: String,
}

#[derive(Template)]
#[template(path = "admin/gp_connect.html")]
struct TrailPage {
    layout: Layout,
    ods: String,
    day: DateInput,
    organisation: String,
    interaction: String,
    outcome: String,
    /// (value, words) of each interaction served.
    interactions: Vec<(String, &'static str)>,
    rows: Vec<Row>,
    limit: i64,
    errors: Errors,
}

/// The filter's value for an interaction: its id without the common prefix.
fn key(i: Interaction) -> &'static str {
    i.id()
        .trim_start_matches("urn:nhs:names:services:gpconnect:fhir:")
}

pub async fn gp_connect_page(
    state: web::Data<AppState>,
    session: Session,
    access: PracticeAccess,
    q: web::Query<TrailQuery>,
) -> Result<HttpResponse, AdminError> {
    if !access.is_admin() {
        return Err(AdminError::Forbidden(
            "Only admins of this practice can see its GP Connect requests.",
        ));
    }
    let q = q.into_inner();
    let clean = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
    let day = DateInput::sent(
        "day",
        q.day.as_deref(),
        [&q.day_day, &q.day_month, &q.day_year].map(|p| p.as_deref()),
    )
    .unwrap_or_else(|| DateInput::blank("day"));
    let (organisation, interaction, outcome) = (
        clean(&q.organisation),
        clean(&q.interaction),
        clean(&q.outcome),
    );
    let mut errors = Errors::default();
    let mut filter = TrailFilter {
        day: day.parse_optional("day", &mut errors),
        ..TrailFilter::default()
    };
    if organisation.chars().count() > MAX_ORGANISATION {
        errors.add(
            "organisation",
            format!("Enter an ODS code of {MAX_ORGANISATION} characters or fewer"),
        );
    } else if !organisation.is_empty() {
        filter.organisation = Some(organisation.clone());
    }
    if !interaction.is_empty() {
        match Interaction::ALL
            .into_iter()
            .find(|i| key(*i) == interaction)
        {
            Some(i) => filter.interaction = Some(i),
            None => errors.add("interaction", "Choose one of the requests listed"),
        }
    }
    if !outcome.is_empty() {
        match Outcome::parse(&outcome) {
            Some(o) => filter.outcome = Some(o),
            None => errors.add("outcome", "Choose answered, refused or failed"),
        }
    }
    let (status, rows) = if errors.is_empty() {
        let ods = access.ods().to_owned();
        let lines = run(&state, move |conn| {
            Ok(trail_query::lines(conn, &ods, &filter, LIMIT)?)
        })
        .await?;
        let rows = lines
            .into_iter()
            .map(|l| Row {
                when: local_stamp(&l.at),
                organisation: l.organisation,
                what: l.what,
                outcome: l.outcome,
                trace_id: l.trace_id,
            })
            .collect();
        (StatusCode::OK, rows)
    } else {
        (StatusCode::UNPROCESSABLE_ENTITY, Vec::new())
    };
    let page = TrailPage {
        layout: access.layout(&session, "GP Connect requests", "gp_connect")?,
        ods: access.ods().to_owned(),
        day,
        organisation,
        interaction,
        outcome,
        interactions: Interaction::ALL
            .into_iter()
            .map(|i| (key(i).to_owned(), trail_query::plain(i)))
            .collect(),
        rows,
        limit: LIMIT,
        errors,
    };
    html(status, &page)
}
