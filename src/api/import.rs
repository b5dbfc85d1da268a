//! The documents a practice system sends whole: its rota, its patient list and its own
//! appointments (README, "Importing a rota", "Importing patients", "Appointments and the practice
//! system"). One handler takes each: the credential checked before the body is read, the body
//! parsed, a document naming another practice than the path's refused, then the domain's import,
//! all or nothing: `200` with counts, or `422` listing every problem with nothing written.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::{Caller, body, for_practice};
use crate::appointments::inbound;
use crate::document_import::ImportError;
use crate::patients::import as patient_import;
use crate::rota_import;
use crate::state::AppState;

/// A document the JSON API takes for one practice.
trait Document: DeserializeOwned + Send + 'static {
    type Summary: Serialize + Send + 'static;
    /// The largest body taken (bytes).
    const LIMIT: usize;
    /// The ODS code the document names.
    fn practice(&self) -> &str;
    /// The answer to a body that is not the document's JSON.
    fn malformed(e: serde_json::Error) -> ApiError {
        ImportError::Malformed(e).into()
    }
    fn import(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Self::Summary, ApiError>;
}

impl Document for rota_import::ImportDocument {
    type Summary = rota_import::ImportSummary;
    const LIMIT: usize = body::DOCUMENT_LIMIT;
    fn practice(&self) -> &str {
        &self.practice
    }
    fn import(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        _: DateTime<Utc>,
    ) -> Result<Self::Summary, ApiError> {
        Ok(rota_import::import(conn, &caller.actor, self)?)
    }
}

/// A list larger than [`body::PATIENTS_LIMIT`] is sent in several documents (the import never
/// removes a patient a document leaves out).
impl Document for patient_import::PatientDocument {
    type Summary = patient_import::ImportSummary;
    const LIMIT: usize = body::PATIENTS_LIMIT;
    fn practice(&self) -> &str {
        &self.practice
    }
    fn import(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        _: DateTime<Utc>,
    ) -> Result<Self::Summary, ApiError> {
        Ok(patient_import::import(conn, &caller.actor, self)?)
    }
}

/// The clinical system's own appointments, upserted by its id (booked or cancelled).
impl Document for inbound::AppointmentDocument {
    type Summary = inbound::Summary;
    const LIMIT: usize = body::APPOINTMENTS_LIMIT;
    fn practice(&self) -> &str {
        &self.practice
    }
    fn malformed(e: serde_json::Error) -> ApiError {
        ApiError::BadRequest(format!("the body is not the expected JSON: {e}"))
    }
    fn import(
        &self,
        conn: &mut PgConnection,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Self::Summary, ApiError> {
        inbound::upsert(conn, &caller.actor, caller.practice, self, now).map_err(|e| match e {
            inbound::InboundError::Invalid(problems) => ApiError::Invalid {
                message: "the appointments were rejected and nothing was written".into(),
                problems,
            },
            inbound::InboundError::Database(e) => ApiError::internal(e),
        })
    }
}

async fn import<D: Document>(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ods = path.into_inner();
    for_practice(&state, &req, ods.clone(), |_, _| Ok(())).await?;
    let json = body::read_document(&req, payload, D::LIMIT).await?;
    let now = state.clock.now();
    let summary = for_practice(&state, &req, ods.clone(), move |conn, caller| {
        let doc: D = serde_json::from_str(&json).map_err(D::malformed)?;
        if !doc.practice().eq_ignore_ascii_case(&ods) {
            return Err(ApiError::Invalid {
                message: "the document is for another practice".into(),
                problems: vec![format!(
                    "practice: '{}' is not {ods}, the practice of this call",
                    doc.practice()
                )],
            });
        }
        doc.import(conn, &caller, now)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(summary))
}

/// The routes of this file, inside the `/api` scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/practices/{ods}/rota",
        web::post().to(import::<rota_import::ImportDocument>),
    )
    .route(
        "/practices/{ods}/patients",
        web::post().to(import::<patient_import::PatientDocument>),
    )
    .route(
        "/practices/{ods}/appointments",
        web::post().to(import::<inbound::AppointmentDocument>),
    );
}
