//! GP Connect errors: an OperationOutcome profiled GPConnect-OperationOutcome-1, one issue of
//! severity `error` with one Spine error code, and the HTTP status the error handling guidance
//! gives that code.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::format::{Format, Unsupported};
use super::node::{Node, Obj};
use super::profiles::{OPERATION_OUTCOME_PROFILE, SPINE_ERROR_SYSTEM};

/// The Spine error codes bookable returns (CodeSystem Spine-ErrorOrWarningCode-1), each with
/// its display, FHIR issue type and HTTP status from the GP Connect error handling guidance.
/// A refusal's code is left on its response (an extension) for the request trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpineCode {
    BadRequest,
    InvalidParameter,
    InvalidResource,
    OrganisationNotFound,
    PractitionerNotFound,
    NoRecordFound,
    PatientNotFound,
    InvalidIdentifierSystem,
    InvalidNhsNumber,
    InvalidPatientDemographics,
    DuplicateRejected,
    FhirConstraintViolation,
    UnsupportedMediaType,
    NotImplemented,
    InternalServerError,
}

impl SpineCode {
    pub fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "BAD_REQUEST",
            Self::InvalidParameter => "INVALID_PARAMETER",
            Self::InvalidResource => "INVALID_RESOURCE",
            Self::OrganisationNotFound => "ORGANISATION_NOT_FOUND",
            Self::PractitionerNotFound => "PRACTITIONER_NOT_FOUND",
            Self::NoRecordFound => "NO_RECORD_FOUND",
            Self::PatientNotFound => "PATIENT_NOT_FOUND",
            Self::InvalidIdentifierSystem => "INVALID_IDENTIFIER_SYSTEM",
            Self::InvalidNhsNumber => "INVALID_NHS_NUMBER",
            Self::InvalidPatientDemographics => "INVALID_PATIENT_DEMOGRAPHICS",
            Self::DuplicateRejected => "DUPLICATE_REJECTED",
            Self::FhirConstraintViolation => "FHIR_CONSTRAINT_VIOLATION",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotImplemented => "NOT_IMPLEMENTED",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }

    pub fn display(self) -> &'static str {
        match self {
            Self::BadRequest => "Bad request",
            Self::InvalidParameter => "Invalid parameter",
            Self::InvalidResource => "Invalid validation of resource",
            Self::OrganisationNotFound => "Organisation not found",
            Self::PractitionerNotFound => "Practitioner not found",
            Self::NoRecordFound => "No record found",
            Self::PatientNotFound => "Patient not found",
            Self::InvalidIdentifierSystem => "Invalid identifier system",
            Self::InvalidNhsNumber => "Invalid NHS number",
            Self::InvalidPatientDemographics => "Invalid patient demographics",
            Self::DuplicateRejected => "Create would lead to creation of a duplicate resource",
            Self::FhirConstraintViolation => "FHIR constraint violation",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::NotImplemented => "Not implemented",
            Self::InternalServerError => "Unexpected internal server error",
        }
    }

    /// OperationOutcome.issue.code (FHIR issue-type).
    fn issue_type(self) -> &'static str {
        match self {
            Self::BadRequest | Self::InvalidParameter | Self::InvalidResource => "invalid",
            Self::OrganisationNotFound
            | Self::PractitionerNotFound
            | Self::NoRecordFound
            | Self::PatientNotFound => "not-found",
            Self::InvalidIdentifierSystem | Self::InvalidNhsNumber => "value",
            Self::InvalidPatientDemographics => "business-rule",
            Self::DuplicateRejected => "duplicate",
            Self::FhirConstraintViolation => "conflict",
            Self::UnsupportedMediaType | Self::NotImplemented => "not-supported",
            Self::InternalServerError => "processing",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::BadRequest
            | Self::InvalidIdentifierSystem
            | Self::InvalidNhsNumber
            | Self::InvalidPatientDemographics => StatusCode::BAD_REQUEST,
            Self::DuplicateRejected => StatusCode::CONFLICT,
            Self::InvalidParameter | Self::InvalidResource => StatusCode::UNPROCESSABLE_ENTITY,
            Self::OrganisationNotFound
            | Self::PractitionerNotFound
            | Self::NoRecordFound
            | Self::PatientNotFound => StatusCode::NOT_FOUND,
            Self::FhirConstraintViolation => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error to send as an OperationOutcome, with diagnostics for the consumer's integrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirError {
    pub code: SpineCode,
    pub diagnostics: String,
    /// Set when the service is unavailable for a while: answered 503 with `Retry-After` (in
    /// seconds) rather than the code's own status.
    pub retry_after: Option<u32>,
}

/// Seconds a consumer is asked to wait before retrying while the database is unavailable.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl From<crate::db::DbError> for FhirError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!(error = %e, "database work could not run");
        FhirError {
            retry_after: Some(RETRY_AFTER_SECONDS),
            ..FhirError::internal("the service is temporarily unavailable: try again shortly")
        }
    }
}

impl From<Unsupported> for FhirError {
    fn from(e: Unsupported) -> Self {
        FhirError::new(SpineCode::UnsupportedMediaType, e.0)
    }
}

impl FhirError {
    pub fn new(code: SpineCode, diagnostics: impl Into<String>) -> Self {
        FhirError {
            code,
            diagnostics: diagnostics.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::BadRequest, diagnostics)
    }

    pub fn invalid_parameter(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::InvalidParameter, diagnostics)
    }

    pub fn invalid_resource(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::InvalidResource, diagnostics)
    }

    pub fn internal(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::InternalServerError, diagnostics)
    }

    pub fn status(&self) -> StatusCode {
        match self.retry_after {
            Some(_) => StatusCode::SERVICE_UNAVAILABLE,
            None => self.code.status(),
        }
    }

    pub fn operation_outcome(&self) -> Node {
        let coding = Obj::new()
            .put("system", SPINE_ERROR_SYSTEM)
            .put("code", self.code.code())
            .put("display", self.code.display());
        let issue = Obj::new()
            .put("severity", "error")
            .put("code", self.code.issue_type())
            .put(
                "details",
                Obj::new().put("coding", vec![Node::from(coding)]),
            )
            .put("diagnostics", &self.diagnostics);
        Obj::new()
            .put(
                "meta",
                Obj::new().put("profile", vec![OPERATION_OUTCOME_PROFILE]),
            )
            .put("issue", vec![Node::from(issue)])
            .resource("OperationOutcome")
    }

    /// The response, logged at `warn` (inside the request's Ssp-TraceID span).
    pub fn respond(&self, format: Format) -> HttpResponse {
        tracing::warn!(
            status = self.status().as_u16(),
            code = self.code.code(),
            diagnostics = %self.diagnostics,
            "GP Connect request refused"
        );
        let body = self.operation_outcome();
        let mut res = HttpResponse::build(self.status())
            .content_type(format.content_type())
            .body(match format {
                Format::Json => body.to_json(),
                Format::Xml => body.to_xml(),
            });
        if let Some(seconds) = self.retry_after {
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(seconds),
            );
        }
        res.extensions_mut().insert(self.code);
        res
    }
}
