//! Reading a practice's GP Connect request trail for its admins (the admin UI's "GP Connect
//! requests" page): filtered by UK day, requesting organisation, interaction and outcome,
//! newest first, each row in words a practice manager reads.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::interaction::Interaction;
use crate::db::schema::gpconnect_audit;

/// What a request's status says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Answered,
    Refused,
    Failed,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "answered" => Some(Outcome::Answered),
            "refused" => Some(Outcome::Refused),
            "failed" => Some(Outcome::Failed),
            _ => None,
        }
    }

    fn of(status: i16) -> Outcome {
        match status {
            ..400 => Outcome::Answered,
            400..500 => Outcome::Refused,
            _ => Outcome::Failed,
        }
    }

    fn statuses(self) -> (i16, i16) {
        match self {
            Outcome::Answered => (0, 399),
            Outcome::Refused => (400, 499),
            Outcome::Failed => (500, 999),
        }
    }
}

#[derive(Debug, Default)]
pub struct TrailFilter {
    /// A day in UK time.
    pub day: Option<NaiveDate>,
    /// The requesting organisation's ODS code, as its token named it.
    pub organisation: Option<String>,
    pub interaction: Option<Interaction>,
    pub outcome: Option<Outcome>,
}

/// One request, as the page shows it.
#[derive(Debug)]
pub struct TrailLine {
    pub at: DateTime<Utc>,
    pub organisation: String,
    pub what: String,
    pub outcome: String,
    pub trace_id: String,
}

/// The words for an interaction on the page (no FHIR terms).
pub fn plain(interaction: Interaction) -> &'static str {
    match interaction {
        Interaction::SearchSlot => "Looked for free appointments",
        Interaction::ReadMetadata => "Read what this service offers",
        Interaction::ReadPractitioner => "Read a clinician's details",
        Interaction::ReadLocation => "Read a location's details",
        Interaction::ReadOrganization => "Read the practice's details",
        Interaction::SearchPatient => "Looked up a patient",
        Interaction::ReadPatient => "Read a patient's details",
        Interaction::RegisterPatient => "Registered a temporary patient",
        Interaction::BookAppointment => "Booked an appointment",
        Interaction::ReadAppointment => "Read an appointment",
        Interaction::AmendAppointment => "Changed an appointment",
        Interaction::CancelAppointment => "Cancelled an appointment",
        Interaction::RetrievePatientAppointments => "Listed a patient's appointments",
    }
}

/// Why a request was refused or failed, in words.
fn reason(code: &str) -> String {
    match code {
        "BAD_REQUEST" => "the request was not in the right form".into(),
        "INVALID_PARAMETER" => "a search value was not valid".into(),
        "INVALID_RESOURCE" => "what was sent was not valid".into(),
        "ORGANISATION_NOT_FOUND" => "the practice was not found".into(),
        "NO_RECORD_FOUND" | "PATIENT_NOT_FOUND" => "no such record".into(),
        "INTERNAL_SERVER_ERROR" => "a fault or outage on our side".into(),
        "NOT_IMPLEMENTED" => "something this service does not do".into(),
        "DUPLICATE_REJECTED" => "it was already done".into(),
        "INVALID_NHS_NUMBER" => "the NHS number was not valid".into(),
        other => other.to_lowercase().replace('_', " "),
    }
}

type Raw = (
    DateTime<Utc>,
    Option<String>,
    i16,
    Option<String>,
    Option<serde_json::Value>,
    Option<String>,
);

/// The organisation the token named: its name and ODS code, as far as given.
fn organisation(claims: Option<&serde_json::Value>) -> String {
    let org = claims.map(|c| &c["requesting_organization"]);
    let name = org.and_then(|o| o["name"].as_str()).unwrap_or("");
    let ods = org
        .and_then(|o| o["identifier"][0]["value"].as_str())
        .unwrap_or("");
    match (name.is_empty(), ods.is_empty()) {
        (false, false) => format!("{name} ({ods})"),
        (false, true) => name.to_owned(),
        (true, false) => ods.to_owned(),
        (true, true) => "Not given".to_owned(),
    }
}

/// The practice's requests matching `filter`, newest first, at most `limit`.
pub fn lines(
    conn: &mut PgConnection,
    practice_ods: &str,
    filter: &TrailFilter,
    limit: i64,
) -> QueryResult<Vec<TrailLine>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    let mut q = gpconnect_audit::table
        .filter(gpconnect_audit::practice_ods.eq(practice_ods))
        .into_boxed();
    if let Some(day) = filter.day {
        let from = crate::availability::query::local_midnight(day);
        let to = crate::availability::query::local_midnight(day + chrono::Days::new(1));
        q = q
            .filter(gpconnect_audit::at.ge(from))
            .filter(gpconnect_audit::at.lt(to));
    }
    if let Some(org) = &filter.organisation {
        q = q.filter(
            sql::<Bool>(
                "upper(jwt_claims -> 'requesting_organization' -> 'identifier' -> 0 ->> 'value') = upper(",
            )
            .bind::<Text, _>(org.clone())
            .sql(")"),
        );
    }
    if let Some(i) = filter.interaction {
        q = q.filter(gpconnect_audit::interaction.eq(i.id()));
    }
    if let Some(o) = filter.outcome {
        let (low, high) = o.statuses();
        q = q.filter(gpconnect_audit::status.between(low, high));
    }
    let rows: Vec<Raw> = q
        .order((gpconnect_audit::at.desc(), gpconnect_audit::id.desc()))
        .limit(limit)
        .select((
            gpconnect_audit::at,
            gpconnect_audit::interaction,
            gpconnect_audit::status,
            gpconnect_audit::error_code,
            gpconnect_audit::jwt_claims,
            gpconnect_audit::ssp_trace_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, interaction, status, code, claims, trace)| TrailLine {
            at,
            organisation: organisation(claims.as_ref()),
            what: interaction
                .as_deref()
                .and_then(Interaction::from_id)
                .map_or("Something this service does not offer", plain)
                .to_owned(),
            outcome: match (Outcome::of(status), code) {
                (Outcome::Answered, _) => "Answered".to_owned(),
                (Outcome::Refused, Some(c)) => format!("Refused: {}", reason(&c)),
                (Outcome::Refused, None) => "Refused".to_owned(),
                (Outcome::Failed, Some(c)) => format!("Failed: {}", reason(&c)),
                (Outcome::Failed, None) => "Failed".to_owned(),
            },
            trace_id: trace.unwrap_or_default(),
        })
        .collect())
}
