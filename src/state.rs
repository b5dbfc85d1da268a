//! What every handler can reach: the connection pool, the clock and each area's settings. A
//! leaf: it imports only the settings types and the clock, never the areas' handlers.

use crate::admin::AdminSettings;
use crate::api::ApiSettings;
use crate::clock::Clock;
use crate::db::DbPool;
use crate::pds::client::PdsClient;

/// Each area keeps its own settings in a field of its own, with defaults fit for tests and the
/// demo, so `AppState::new(pool)` is always a working server. Making one starts nothing: the
/// GP Connect audit writer is started by `server::serve`.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    /// The admin UI's session, cookie and sign-in settings.
    pub admin: AdminSettings,
    /// The practice systems' JSON API token (switched off without one).
    pub api: ApiSettings,
    /// The PDS FHIR API (none: GP Connect Register a patient is refused, and Find a patient
    /// does not return records whose NHS number was never verified).
    pub pds: Option<PdsClient>,
    /// Where handlers take "now" from (the time of a search, a booking, a report).
    pub clock: Clock,
}

impl AppState {
    pub fn new(pool: DbPool) -> Self {
        AppState {
            admin: AdminSettings::default(),
            api: ApiSettings::default(),
            pds: None,
            clock: Clock::system(),
            pool,
        }
    }
}
