//! Where PDS is and how bookable signs in to it.

use std::time::Duration;

/// The PDS FHIR API: its base URL (the client adds `/Patient/{nhs-number}`) and the
/// credentials a deployment needs: an OAuth 2.0 access token (`Authorization: Bearer`) and, for
/// gateways that want one, an API key (`apikey` header). Getting and refreshing the token
/// (NHS England's signed-JWT flow) is the deployment's job; bookable sends what it is given.
#[derive(Debug, Clone)]
pub struct PdsSettings {
    /// e.g. `https://int.api.service.nhs.uk/personal-demographics/FHIR/R4`
    pub base_url: String,
    pub access_token: Option<String>,
    pub api_key: Option<String>,
    /// How long one request to PDS may take.
    pub timeout: Duration,
}

impl PdsSettings {
    pub fn new(base_url: &str) -> Self {
        PdsSettings {
            base_url: base_url.trim_end_matches('/').to_owned(),
            access_token: None,
            api_key: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// From `BOOKABLE_PDS_URL`, `BOOKABLE_PDS_TOKEN` and `BOOKABLE_PDS_API_KEY`; `None` when no
    /// URL is set (no PDS: Register is refused, never-traced records are not returned by Find).
    pub fn from_env() -> Option<Self> {
        let url = std::env::var("BOOKABLE_PDS_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let mut settings = PdsSettings::new(&url);
        settings.access_token = std::env::var("BOOKABLE_PDS_TOKEN").ok();
        settings.api_key = std::env::var("BOOKABLE_PDS_API_KEY").ok();
        Some(settings)
    }
}
