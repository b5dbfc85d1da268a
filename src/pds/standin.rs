//! A local stand-in for the PDS FHIR API, for the demo and the tests: `GET /Patient/{nhs}`
//! answered from a file of test patients, in the JSON shape and with the errors of PDS.
//!
//! The file (`bookable pds-standin --patients FILE`):
//!
//! ```json
//! { "patients": [ { "resourceType": "Patient", "id": "9000000009", ... } ],
//!   "superseded": [ { "nhs_number": "9000000017", "replaced_by": "9000000009" } ],
//!   "invalidated": [ "9000000025" ] }
//! ```
//!
//! `patients` are PDS R4 Patient resources, served as they are (a deceased one has
//! `deceasedDateTime`, a sensitive one `meta.security` code `R`); a superseded number is
//! answered with its replacement's record (whose `id` differs, as PDS does); an invalidated
//! one with 404 `INVALIDATED_RESOURCE`; an unknown one with 404 `RESOURCE_NOT_FOUND`; a malformed
//! one with 400 `INVALID_RESOURCE_ID`. Like PDS, it wants an `X-Request-ID` UUID, and echoes it.

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde::Deserialize;
use serde_json::Value;

use super::r4::operation_outcome;
use crate::patients::nhs_number::NhsNumber;

/// The stand-in's patients of the demo (README lists them).
pub const DEMO_PATIENTS: &str = include_str!("demo_patients.json");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StandinFile {
    patients: Vec<Value>,
    #[serde(default)]
    superseded: Vec<Superseded>,
    #[serde(default)]
    invalidated: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Superseded {
    nhs_number: String,
    replaced_by: String,
}

/// What the stand-in serves.
#[derive(Debug, Clone, Default)]
pub struct StandinPatients {
    patients: HashMap<String, Value>,
    superseded: HashMap<String, String>,
    invalidated: HashSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StandinFileError {
    #[error("not a stand-in patients file: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("patients[{0}] is not a Patient resource with an NHS number as its id")]
    NotAPatient(usize),
    #[error("superseded number {0} is replaced by {1}, which is not in patients")]
    UnknownReplacement(String, String),
}

impl StandinPatients {
    pub fn parse(json: &str) -> Result<Self, StandinFileError> {
        let file: StandinFile = serde_json::from_str(json)?;
        let mut patients = HashMap::new();
        for (i, p) in file.patients.into_iter().enumerate() {
            let id = match (p["resourceType"].as_str(), p["id"].as_str()) {
                (Some("Patient"), Some(id)) if NhsNumber::parse(id).is_ok() => id.to_owned(),
                _ => return Err(StandinFileError::NotAPatient(i)),
            };
            patients.insert(id, p);
        }
        let mut superseded = HashMap::new();
        for s in file.superseded {
            if !patients.contains_key(&s.replaced_by) {
                return Err(StandinFileError::UnknownReplacement(
                    s.nhs_number,
                    s.replaced_by,
                ));
            }
            superseded.insert(s.nhs_number, s.replaced_by);
        }
        Ok(StandinPatients {
            patients,
            superseded,
            invalidated: file.invalidated.into_iter().collect(),
        })
    }
}

/// Serves the stand-in on `listener` (run the returned server on an actix runtime).
pub fn run(listener: TcpListener, patients: StandinPatients) -> std::io::Result<Server> {
    let patients = web::Data::new(patients);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(patients.clone())
            .route("/Patient/{id}", web::get().to(retrieve))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn retrieve(
    req: HttpRequest,
    id: web::Path<String>,
    data: web::Data<StandinPatients>,
) -> HttpResponse {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let Some(request_id) = request_id else {
        return error(
            actix_web::http::StatusCode::BAD_REQUEST,
            operation_outcome(
                "required",
                "MISSING_VALUE",
                "Missing value - 'X-Request-ID' header",
            ),
            None,
        );
    };
    if uuid::Uuid::parse_str(&request_id).is_err() {
        return error(
            actix_web::http::StatusCode::BAD_REQUEST,
            operation_outcome(
                "value",
                "INVALID_VALUE",
                "Invalid value - 'X-Request-ID' header must be a UUID",
            ),
            Some(&request_id),
        );
    }
    let id = id.into_inner();
    if NhsNumber::parse(&id).is_err() {
        return error(
            actix_web::http::StatusCode::BAD_REQUEST,
            operation_outcome("value", "INVALID_RESOURCE_ID", "Resource Id is invalid"),
            Some(&request_id),
        );
    }
    if data.invalidated.contains(&id) {
        return error(
            actix_web::http::StatusCode::NOT_FOUND,
            operation_outcome(
                "processing",
                "INVALIDATED_RESOURCE",
                "Resource that has been marked as invalid was requested - invalid resources \
                 cannot be retrieved",
            ),
            Some(&request_id),
        );
    }
    let current = data.superseded.get(&id).unwrap_or(&id);
    match data.patients.get(current) {
        Some(patient) => {
            let version = patient["meta"]["versionId"].as_str().unwrap_or("1");
            HttpResponse::Ok()
                .content_type("application/fhir+json")
                .insert_header(("ETag", format!("W/\"{version}\"")))
                .insert_header(("X-Request-ID", request_id))
                .json(patient)
        }
        None => error(
            actix_web::http::StatusCode::NOT_FOUND,
            operation_outcome("not-found", "RESOURCE_NOT_FOUND", "Resource not found"),
            Some(&request_id),
        ),
    }
}

fn error(
    status: actix_web::http::StatusCode,
    outcome: Value,
    request_id: Option<&str>,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.content_type("application/fhir+json");
    if let Some(id) = request_id {
        response.insert_header(("X-Request-ID", id.to_owned()));
    }
    response.json(outcome)
}
