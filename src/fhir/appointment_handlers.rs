//! The appointment interactions: Book (`POST Appointment`), Read (`GET Appointment/{id}`),
//! Amend and Cancel (`PUT Appointment/{id}`, told apart by `Ssp-InteractionID`) and Retrieve
//! (`GET Patient/{id}/Appointment`). Request bodies are FHIR JSON or XML; the answer is in the
//! negotiated format. The rules of each are the appointments domain's (`crate::appointments`); this layer
//! parses, compares bodies with the stored resource and maps the domain's errors.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono_tz::Europe::London;
use serde_json::{Map, Value};

use super::appointment_range;
use super::appointment_request as request;
use super::appointment_resource::appointment as resource;
use super::error::{FhirError, SpineCode};
use super::format::Format;
use super::handlers::{Checked, check, database_error, ok, with_practice};
use super::interaction::Interaction;
use super::node::{Node, Obj};
use crate::appointments::{self, Appointment, AppointmentError, book, change};
use crate::change_log::Actor;
use crate::db::ids::{AppointmentId, PatientId};
use crate::patients::record;
use crate::state::AppState;

fn domain_error(e: AppointmentError) -> FhirError {
    match e {
        AppointmentError::NotFound => {
            FhirError::new(SpineCode::NoRecordFound, "no such appointment here")
        }
        AppointmentError::Invalid(m) => FhirError::invalid_resource(m),
        AppointmentError::SlotTaken(m) => FhirError::new(SpineCode::DuplicateRejected, m),
        e @ AppointmentError::Stale { .. } => {
            FhirError::new(SpineCode::FhirConstraintViolation, e.to_string())
        }
        AppointmentError::Database(e) => database_error(e),
    }
}

/// Who the change log names for a GP Connect change: the requesting organisation.
fn actor(checked: &Checked) -> Actor {
    Actor::system(&format!(
        "GP Connect: {}",
        checked.requester.organization_ods
    ))
}

/// The request body as an Appointment: FHIR XML when its `Content-Type` says XML, else JSON.
fn body_resource(req: &HttpRequest, body: &[u8]) -> Result<Map<String, Value>, FhirError> {
    let xml = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("xml"));
    request::parse(body, xml)
}

fn minimal(req: &HttpRequest) -> bool {
    req.headers()
        .get("Prefer")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("return=minimal"))
}

fn base_url(req: &HttpRequest, ods: &str) -> String {
    let info = req.connection_info();
    format!(
        "{}://{}/fhir/{ods}/STU3/1/gpconnect",
        info.scheme(),
        info.host()
    )
}

/// The answer with an Appointment: its ETag, and the body unless `Prefer: return=minimal`.
fn answer(
    req: &HttpRequest,
    format: Format,
    status: StatusCode,
    a: &Appointment,
    ods: &str,
) -> HttpResponse {
    let node = resource(a);
    let mut res = if minimal(req) {
        HttpResponse::build(status).finish()
    } else {
        let mut r = ok(format, &node, true);
        *r.status_mut() = status;
        r
    };
    let headers = res.headers_mut();
    headers.insert(
        actix_web::http::header::ETAG,
        format!("W/\"{}\"", a.version)
            .parse()
            .expect("a valid header"),
    );
    if status == StatusCode::CREATED {
        let location = format!(
            "{}/Appointment/{}/_history/{}",
            base_url(req, ods),
            a.id,
            a.version
        );
        headers.insert(
            actix_web::http::header::LOCATION,
            location.parse().expect("a valid header"),
        );
    }
    res
}

/// `POST [base]/Appointment`: Book an appointment.
pub async fn book(
    req: HttpRequest,
    state: web::Data<AppState>,
    ods: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let checked = match check(&req, Interaction::BookAppointment) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let asked = body_resource(&req, &body).and_then(|r| request::new_appointment(&r));
    let actor = actor(&checked);
    let ods = ods.into_inner();
    let now = state.clock.now();
    let outcome = with_practice(&state, ods.clone(), &checked.ssp, move |conn, practice| {
        let new = asked?;
        book::book(conn, &actor, practice.id, &new, now).map_err(domain_error)
    })
    .await;
    match outcome {
        Ok(a) => answer(&req, checked.format, StatusCode::CREATED, &a, &ods),
        Err(e) => e.respond(checked.format),
    }
}

fn appointment_id(id: &str) -> Result<AppointmentId, FhirError> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(AppointmentId)
        .ok_or_else(|| {
            FhirError::new(
                SpineCode::NoRecordFound,
                format!("no appointment with id '{id}' here"),
            )
        })
}

/// `GET [base]/Appointment/{id}`: Read an appointment (future ones only).
pub async fn read(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let checked = match check(&req, Interaction::ReadAppointment) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let (ods, id) = path.into_inner();
    let now = state.clock.now();
    let outcome = with_practice(&state, ods.clone(), &checked.ssp, move |conn, practice| {
        let id = appointment_id(&id)?;
        let a = appointments::by_id(conn, practice.id, id)
            .map_err(database_error)?
            .ok_or_else(|| domain_error(AppointmentError::NotFound))?;
        if a.start < now {
            return Err(FhirError::invalid_resource(
                "the appointment is in the past: only future appointments can be read",
            ));
        }
        Ok(a)
    })
    .await;
    match outcome {
        Ok(a) => answer(&req, checked.format, StatusCode::OK, &a, &ods),
        Err(e) => e.respond(checked.format),
    }
}

/// The version an `If-Match: W/"{version}"` names (whatever it holds, compared later).
fn if_match(req: &HttpRequest) -> Result<String, FhirError> {
    let value = req
        .headers()
        .get("If-Match")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            FhirError::new(
                SpineCode::FhirConstraintViolation,
                "the If-Match header (W/\"{versionId}\" of the appointment read) is missing",
            )
        })?
        .trim();
    let tag = value.strip_prefix("W/").unwrap_or(value);
    Ok(tag.trim_matches('"').to_owned())
}

/// `PUT [base]/Appointment/{id}`: Amend or Cancel, by `Ssp-InteractionID`.
pub async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let cancel = req
        .headers()
        .get("Ssp-InteractionID")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == Interaction::CancelAppointment.id());
    let interaction = if cancel {
        Interaction::CancelAppointment
    } else {
        Interaction::AmendAppointment
    };
    let checked = match check(&req, interaction) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let (ods, id) = path.into_inner();
    let sent = body_resource(&req, &body);
    let version = if_match(&req);
    let actor = actor(&checked);
    let now = state.clock.now();
    let outcome = with_practice(&state, ods.clone(), &checked.ssp, move |conn, practice| {
        let id = appointment_id(&id)?;
        let sent = sent?;
        if sent
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|sent_id| sent_id != id.to_string())
        {
            return Err(FhirError::invalid_resource(
                "the Appointment's id is not the one in the URL",
            ));
        }
        let stored = appointments::by_id(conn, practice.id, id)
            .map_err(database_error)?
            .ok_or_else(|| domain_error(AppointmentError::NotFound))?;
        let version = version?;
        // A body written against an older version is stale (409) before its content is
        // compared with what has changed since; the locked change checks again.
        change::ensure_current(&version, stored.version).map_err(domain_error)?;
        let stored_json = stored_as_json(&stored);
        if cancel {
            let reason = request::cancellation(&sent, &stored_json)?;
            change::cancel(conn, &actor, practice.id, id, &version, &reason, now)
        } else {
            let amendment = request::amendment(&sent, &stored_json)?;
            change::amend(conn, &actor, practice.id, id, &version, &amendment, now)
        }
        .map_err(domain_error)
    })
    .await;
    match outcome {
        Ok(a) => answer(&req, checked.format, StatusCode::OK, &a, &ods),
        Err(e) => e.respond(checked.format),
    }
}

fn stored_as_json(a: &Appointment) -> Map<String, Value> {
    match serde_json::from_slice(&resource(a).to_json()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// `GET [base]/Patient/{id}/Appointment?start=ge…&start=le…`: Retrieve a patient's
/// appointments, whoever booked them, cancelled ones included.
pub async fn retrieve(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let checked = match check(&req, Interaction::RetrievePatientAppointments) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let (ods, id) = path.into_inner();
    let params = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| FhirError::bad_request(format!("the query string is malformed: {e}")));
    let format = checked.format;
    let now = state.clock.now();
    let outcome = with_practice(&state, ods, &checked.ssp, move |conn, practice| {
        let not_found = || {
            FhirError::new(
                SpineCode::PatientNotFound,
                format!("no patient with id '{id}' here"),
            )
        };
        let patient = id.parse::<i64>().map(PatientId).map_err(|_| not_found())?;
        let patient = record::by_id(conn, practice.id, patient)
            .map_err(database_error)?
            .filter(|p| !p.sensitive)
            .ok_or_else(not_found)?;
        let today = now.with_timezone(&London).date_naive();
        let range = appointment_range::parse(&params?, today)?;
        let found = appointments::for_patient(conn, practice.id, patient.id, range.from, range.to)
            .map_err(database_error)?;
        let entries: Vec<Node> = found
            .iter()
            .map(|a| Obj::new().put("resource", resource(a)).into())
            .collect();
        Ok(Obj::new()
            .put(
                "meta",
                Obj::new().put("lastUpdated", super::resources::uk_time(now)),
            )
            .put("type", "searchset")
            .put("total", Node::Int(found.len() as i64))
            .put("entry", entries)
            .resource("Bundle"))
    })
    .await;
    match outcome {
        Ok(bundle) => ok(format, &bundle, false),
        Err(e) => e.respond(format),
    }
}
