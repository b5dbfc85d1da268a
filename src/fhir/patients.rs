//! GP Connect's patient interactions (Foundations 1.2.7) for a practice:
//!
//! | request                                                    | Ssp-InteractionID (`urn:nhs:names:services:gpconnect:fhir:` + …) | scope |
//! |------------------------------------------------------------|------------------------------------------|-------------------|
//! | `GET Patient?identifier=https://fhir.nhs.uk/Id/nhs-number\|{nhs}` | `rest:search:patient-1`            | `patient/*.read`  |
//! | `GET Patient/{id}`                                         | `rest:read:patient-1`                    | `patient/*.read`  |
//! | `POST Patient/$gpc.registerpatient`                        | `operation:gpc.registerpatient-1`        | `patient/*.write` |
//!
//! Which patients are returned, and what a registration does, is the patients domain's
//! (`patients::find`, `patients::registration`); this layer reads the request and writes the
//! answer. Find never errs for a patient it does not return (unknown, deceased, left,
//! S-flagged, unverifiable): the Bundle is empty. Read answers 404 `PATIENT_NOT_FOUND` for an
//! unknown or S-flagged patient.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, web};

use super::error::{FhirError, SpineCode};
use super::handlers::{check, database_error, ok, with_practice};
use super::interaction::Interaction;
use super::patient_resource::{patient, searchset};
use super::register_request;
use crate::db::ids::PatientId;
use crate::patients::find::{FindError, find};
use crate::patients::nhs_number::{NHS_NUMBER_SYSTEM, NhsNumber};
use crate::patients::record;
use crate::patients::registration::{RegisterError, Registrar, register};
use crate::practice::Practice;
use crate::state::AppState;

/// The practice's service root URL, as the consumer addressed it.
fn base_url(req: &HttpRequest, practice: &Practice) -> String {
    let info = req.connection_info();
    format!(
        "{}://{}/fhir/{}/STU3/1/gpconnect",
        info.scheme(),
        info.host(),
        practice.ods_code
    )
}

/// The NHS number of Find a patient's one `identifier` parameter.
pub fn find_parameter(query: &str) -> Result<NhsNumber, FhirError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|e| FhirError::bad_request(format!("the query string is malformed: {e}")))?;
    let identifiers: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "identifier")
        .map(|(_, v)| v.as_str())
        .collect();
    let identifier = match identifiers.as_slice() {
        [one] => *one,
        [] => {
            return Err(FhirError::bad_request(format!(
                "the identifier parameter is missing: Patient?identifier={NHS_NUMBER_SYSTEM}|{{NHS number}}"
            )));
        }
        _ => {
            return Err(FhirError::bad_request(
                "the identifier parameter is sent more than once",
            ));
        }
    };
    let Some((system, value)) = identifier.split_once('|') else {
        return Err(FhirError::invalid_parameter(format!(
            "the identifier parameter '{identifier}' has no system: send {NHS_NUMBER_SYSTEM}|{{NHS number}}"
        )));
    };
    if system.trim().is_empty() {
        return Err(FhirError::invalid_parameter(
            "the identifier parameter's system is empty",
        ));
    }
    if value.trim().is_empty() {
        return Err(FhirError::invalid_parameter(
            "the identifier parameter's value is empty",
        ));
    }
    if system != NHS_NUMBER_SYSTEM {
        return Err(FhirError::new(
            SpineCode::InvalidIdentifierSystem,
            format!("the identifier system '{system}' is not supported: use {NHS_NUMBER_SYSTEM}"),
        ));
    }
    NhsNumber::parse(value).map_err(|e| {
        FhirError::new(
            SpineCode::InvalidNhsNumber,
            format!("the identifier parameter: {e}"),
        )
    })
}

impl From<FindError> for FhirError {
    fn from(e: FindError) -> Self {
        tracing::error!(error = %e, "Find a patient failed");
        FhirError::internal("the patient could not be looked up")
    }
}

impl From<RegisterError> for FhirError {
    fn from(e: RegisterError) -> Self {
        let diagnostics = e.to_string();
        match e {
            RegisterError::NoPds => FhirError::internal(diagnostics),
            RegisterError::Pds(_) => {
                tracing::error!(%diagnostics, "Register a patient: PDS failed");
                FhirError::internal(diagnostics)
            }
            RegisterError::NotVerified(n) if n.is_number_problem() => {
                FhirError::new(SpineCode::InvalidNhsNumber, diagnostics)
            }
            RegisterError::NotVerified(_) | RegisterError::Deceased | RegisterError::Sensitive => {
                FhirError::new(SpineCode::InvalidPatientDemographics, diagnostics)
            }
            RegisterError::FamilyNameDiffers => FhirError::bad_request(diagnostics),
            RegisterError::AlreadyActive => {
                FhirError::new(SpineCode::DuplicateRejected, diagnostics)
            }
            RegisterError::Unavailable(_) | RegisterError::Database(_) => {
                tracing::error!(%diagnostics, "Register a patient: database failed");
                FhirError::internal("the registration could not be recorded")
            }
        }
    }
}

/// `GET [base]/Patient?identifier=…`: Find a patient.
pub async fn find_patient(
    req: HttpRequest,
    state: web::Data<AppState>,
    ods: web::Path<String>,
) -> HttpResponse {
    let checked = match check(&req, Interaction::SearchPatient) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let format = checked.format;
    let answer = async {
        let practice =
            with_practice(&state, ods.into_inner(), &checked.ssp, |_, p| Ok(p.clone())).await?;
        let nhs_number = find_parameter(req.query_string())?;
        let found = find(&state.pool, state.pds.as_ref(), practice.id, nhs_number).await?;
        let patients: Vec<_> = found.into_iter().collect();
        Ok::<_, FhirError>(searchset(&patients, &base_url(&req, &practice)))
    };
    match answer.await {
        Ok(bundle) => ok(format, &bundle, false),
        Err(e) => e.respond(format),
    }
}

/// `GET [base]/Patient/{id}`: Read a patient.
pub async fn read_patient(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let checked = match check(&req, Interaction::ReadPatient) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let (ods, id) = path.into_inner();
    let outcome = with_practice(&state, ods, &checked.ssp, move |conn, practice| {
        let missing = || {
            FhirError::new(
                SpineCode::PatientNotFound,
                format!("no patient with id '{id}' here"),
            )
        };
        let numeric: i64 = id.parse().map_err(|_| missing())?;
        let found = record::by_id(conn, practice.id, PatientId(numeric)).map_err(database_error)?;
        match found {
            Some(p) if !p.sensitive => Ok(patient(&p)),
            _ => Err(missing()),
        }
    })
    .await;
    match outcome {
        Ok(resource) => ok(checked.format, &resource, true),
        Err(e) => e.respond(checked.format),
    }
}

/// `POST [base]/Patient/$gpc.registerpatient`: Register a patient (a temporary registration).
pub async fn register_patient(
    req: HttpRequest,
    state: web::Data<AppState>,
    ods: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let checked = match check(&req, Interaction::RegisterPatient) {
        Ok(c) => c,
        Err((format, e)) => return e.respond(format),
    };
    let format = checked.format;
    let answer = async {
        let practice =
            with_practice(&state, ods.into_inner(), &checked.ssp, |_, p| Ok(p.clone())).await?;
        let xml = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("xml"));
        if xml {
            return Err(FhirError::new(
                SpineCode::UnsupportedMediaType,
                "Register a patient takes a JSON body (application/fhir+json)",
            ));
        }
        let request = register_request::parse(&body)?;
        let claims = super::jwt::claims_as_sent(
            req.headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        );
        let registrar = Registrar {
            ods_code: checked.requester.organization_ods.clone(),
            org_name: claims
                .as_ref()
                .and_then(|c| c["requesting_organization"]["name"].as_str())
                .map(str::to_owned),
            ssp_from: Some(checked.ssp.from_asid.to_string()),
            ssp_trace_id: Some(checked.ssp.trace_id.clone()),
        };
        let registered = register(
            &state.pool,
            state.pds.as_ref(),
            practice.id,
            request,
            registrar,
        )
        .await?;
        tracing::info!(
            practice = %practice.ods_code,
            patient = %registered.id,
            requesting_organization = %checked.requester.organization_ods,
            "patient registered (temporary) through GP Connect"
        );
        Ok(searchset(&[registered], &base_url(&req, &practice)))
    };
    match answer.await {
        Ok(bundle) => ok(format, &bundle, false),
        Err(e) => e.respond(format),
    }
}
