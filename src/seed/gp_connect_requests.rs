//! The demo's GP Connect request trail at A20047: requests of the last three days from NHS 111
//! and a neighbouring practice, answered, refused and failed, so the admin UI's "GP Connect
//! requests" page has a row of every kind. The trail is append-only, so it is seeded once.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use serde_json::json;

use crate::db::schema::gpconnect_audit;
use crate::fhir::interaction::Interaction;
use crate::fhir::request_trail::Entry;

const PRACTICE: &str = "A20047";
/// Trace ids of the seeded rows begin so; their presence means the trail was seeded.
const TRACE_PREFIX: &str = "demo-seed-";

/// (days before today, UK time, organisation, interaction, status, error code, path)
type Request = (
    u64,
    (u32, u32),
    (&'static str, &'static str),
    Interaction,
    i16,
    Option<&'static str>,
    &'static str,
);

const NHS111: (&str, &str) = ("NHS 111 Yorkshire", "NLO10");
const NEIGHBOUR: (&str, &str) = ("Hillview Surgery", "B82617");

const REQUESTS: &[Request] = &[
    (
        0,
        (8, 2),
        NHS111,
        Interaction::ReadMetadata,
        200,
        None,
        "/metadata",
    ),
    (
        0,
        (8, 3),
        NHS111,
        Interaction::SearchSlot,
        200,
        None,
        "/Slot?start=ge…&end=le…",
    ),
    (
        0,
        (8, 4),
        NHS111,
        Interaction::SearchPatient,
        200,
        None,
        "/Patient?identifier=…",
    ),
    (
        0,
        (8, 5),
        NHS111,
        Interaction::BookAppointment,
        201,
        None,
        "/Appointment",
    ),
    (
        0,
        (9, 40),
        NEIGHBOUR,
        Interaction::SearchSlot,
        400,
        Some("INVALID_PARAMETER"),
        "/Slot?start=…",
    ),
    (
        0,
        (9, 41),
        NEIGHBOUR,
        Interaction::SearchSlot,
        200,
        None,
        "/Slot?start=ge…&end=le…",
    ),
    (
        1,
        (14, 10),
        NHS111,
        Interaction::ReadPatient,
        404,
        Some("PATIENT_NOT_FOUND"),
        "/Patient/…",
    ),
    (
        1,
        (14, 12),
        NHS111,
        Interaction::RegisterPatient,
        200,
        None,
        "/Patient/$gpc.registerpatient",
    ),
    (
        1,
        (16, 30),
        NEIGHBOUR,
        Interaction::AmendAppointment,
        200,
        None,
        "/Appointment/…",
    ),
    (
        2,
        (11, 0),
        NHS111,
        Interaction::SearchSlot,
        503,
        Some("INTERNAL_SERVER_ERROR"),
        "/Slot?start=ge…&end=le…",
    ),
    (
        2,
        (11, 5),
        NHS111,
        Interaction::CancelAppointment,
        200,
        None,
        "/Appointment/…",
    ),
];

fn at(today: NaiveDate, days_before: u64, (h, m): (u32, u32)) -> DateTime<Utc> {
    let day = today - chrono::Days::new(days_before);
    let local = day.and_hms_opt(h, m, 0).expect("a valid time");
    London
        .from_local_datetime(&local)
        .earliest()
        .expect("no clock change between 08:00 and 17:00")
        .with_timezone(&Utc)
}

/// Seeds the trail's rows, once (a second run finds them and adds none).
pub fn seed(conn: &mut PgConnection, today: NaiveDate) -> QueryResult<()> {
    let seeded: i64 = gpconnect_audit::table
        .filter(gpconnect_audit::practice_ods.eq(PRACTICE))
        .filter(gpconnect_audit::ssp_trace_id.like(format!("{TRACE_PREFIX}%")))
        .count()
        .get_result(conn)?;
    if seeded > 0 {
        return Ok(());
    }
    let rows: Vec<Entry> = REQUESTS
        .iter()
        .enumerate()
        .map(
            |(n, &(days, time, (name, ods), interaction, status, code, path))| Entry {
                at: at(today, days, time),
                practice_ods: PRACTICE.to_owned(),
                method: match interaction {
                    Interaction::BookAppointment | Interaction::RegisterPatient => "POST",
                    Interaction::AmendAppointment | Interaction::CancelAppointment => "PUT",
                    _ => "GET",
                }
                .to_owned(),
                path_query: format!("/fhir/{PRACTICE}/STU3/1/gpconnect{path}"),
                ssp_trace_id: Some(format!("{TRACE_PREFIX}{n:04}")),
                ssp_from: Some("200000000115".to_owned()),
                ssp_to: Some("200000000359".to_owned()),
                interaction: Some(interaction.id().to_owned()),
                status,
                error_code: code,
                jwt_claims: Some(json!({
                    "requesting_organization": {
                        "resourceType": "Organization",
                        "name": name,
                        "identifier": [{
                            "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                            "value": ods
                        }]
                    }
                })),
                sanitised: false,
            },
        )
        .collect();
    // The month partitions from the oldest row's on, so no row waits in the default partition.
    if let Some(oldest) = rows.iter().map(|r| r.at).min() {
        crate::fhir::trail_retention::ensure_partitions(conn, oldest)?;
    }
    diesel::insert_into(gpconnect_audit::table)
        .values(&rows)
        .execute(conn)?;
    Ok(())
}
