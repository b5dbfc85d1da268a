//! The PDS FHIR API client: `GET {base}/Patient/{nhs-number}`, with a new `X-Request-ID` (a
//! UUID, required by PDS) per request.

use super::r4::{OperationOutcome, Patient};
use super::settings::PdsSettings;
use super::{PdsError, PdsLookup};
use crate::patients::nhs_number::NhsNumber;

#[derive(Debug, Clone)]
pub struct PdsClient {
    settings: PdsSettings,
    http: reqwest::Client,
}

impl PdsClient {
    pub fn new(settings: PdsSettings) -> Result<Self, PdsError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| PdsError::Unreachable(e.to_string()))?;
        Ok(PdsClient { settings, http })
    }

    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// PDS's record of this NHS number (a Retrieval Query).
    pub async fn retrieve(&self, nhs_number: &NhsNumber) -> Result<PdsLookup, PdsError> {
        let url = format!("{}/Patient/{nhs_number}", self.settings.base_url);
        let mut request = self
            .http
            .get(&url)
            .header("Accept", "application/fhir+json")
            .header("X-Request-ID", uuid::Uuid::new_v4().to_string());
        if let Some(token) = &self.settings.access_token {
            request = request.bearer_auth(token);
        }
        if let Some(key) = &self.settings.api_key {
            request = request.header("apikey", key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PdsError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| PdsError::Unreachable(e.to_string()))?;
        let unexpected = |detail: String| PdsError::Unexpected { status, detail };
        if status == 200 {
            let patient: Patient = serde_json::from_str(&body)
                .map_err(|e| unexpected(format!("not a Patient: {e}")))?;
            if patient.resource_type != "Patient" {
                return Err(unexpected(format!("a {}", patient.resource_type)));
            }
            let patient = patient.into_pds();
            if patient.nhs_number != nhs_number.to_string() {
                return Ok(PdsLookup::Superseded {
                    by: patient.nhs_number,
                });
            }
            return Ok(PdsLookup::Found(patient));
        }
        let code = serde_json::from_str::<OperationOutcome>(&body)
            .ok()
            .and_then(|o| o.code().map(str::to_owned));
        match (status, code.as_deref()) {
            (404, Some("RESOURCE_NOT_FOUND")) => Ok(PdsLookup::NotFound),
            (404, Some("INVALIDATED_RESOURCE")) => Ok(PdsLookup::Invalidated),
            (400, Some("INVALID_RESOURCE_ID")) => Ok(PdsLookup::InvalidNhsNumber),
            (_, code) => Err(unexpected(code.unwrap_or("no Spine error code").to_owned())),
        }
    }
}
