//! The admin UI's settings: session key, cookie policy, session lifetimes and sign-in limits.

use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::cookie::Key;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The admin UI's settings, in `AppState::admin`. The defaults suit tests and the demo (plain
/// HTTP on loopback, a session key made at start); `bookable serve` sets `cookie_secure`.
#[derive(Clone)]
pub struct AdminSettings {
    /// Encrypts the session cookie (64 bytes). Sessions themselves live in PostgreSQL.
    pub session_key: Key,
    /// Send the session cookie only over HTTPS.
    pub cookie_secure: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: chrono::TimeDelta,
    /// A session ends this long after sign-in, however active.
    pub max_session: chrono::TimeDelta,
    /// Failed-or-not sign-in attempts allowed per minute for one username, and for one address.
    pub login_attempts_per_account: NonZeroU32,
    pub login_attempts_per_address: NonZeroU32,
    limiters: Arc<LoginLimiters>,
}

struct LoginLimiters {
    account: DefaultKeyedRateLimiter<String>,
    address: DefaultKeyedRateLimiter<String>,
}

impl AdminSettings {
    pub fn new(
        session_key: Key,
        cookie_secure: bool,
        per_account: NonZeroU32,
        per_address: NonZeroU32,
    ) -> Self {
        AdminSettings {
            session_key,
            cookie_secure,
            idle_timeout: chrono::TimeDelta::minutes(30),
            max_session: chrono::TimeDelta::hours(12),
            login_attempts_per_account: per_account,
            login_attempts_per_address: per_address,
            limiters: Arc::new(LoginLimiters {
                account: RateLimiter::keyed(Quota::per_minute(per_account)),
                address: RateLimiter::keyed(Quota::per_minute(per_address)),
            }),
        }
    }
}

impl AdminSettings {
    /// For `bookable serve` and the demo: `BOOKABLE_SESSION_KEY` (base64 of at least 64 random
    /// bytes; unset: a new key at each start, which signs everyone out on restart) and
    /// `BOOKABLE_COOKIE_SECURE` (`true`/`false`; unset: `secure_by_default`).
    pub fn from_env(secure_by_default: bool) -> anyhow::Result<Self> {
        use base64::Engine;
        let cookie_secure = match std::env::var("BOOKABLE_COOKIE_SECURE") {
            Ok(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("BOOKABLE_COOKIE_SECURE must be true or false"))?,
            Err(_) => secure_by_default,
        };
        let session_key = match std::env::var("BOOKABLE_SESSION_KEY") {
            Ok(v) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .map_err(|e| anyhow::anyhow!("BOOKABLE_SESSION_KEY is not base64: {e}"))?;
                anyhow::ensure!(
                    bytes.len() >= 64,
                    "BOOKABLE_SESSION_KEY must hold at least 64 bytes"
                );
                Key::from(&bytes)
            }
            Err(_) => Key::generate(),
        };
        let defaults = AdminSettings::default();
        Ok(AdminSettings::new(
            session_key,
            cookie_secure,
            defaults.login_attempts_per_account,
            defaults.login_attempts_per_address,
        ))
    }
}

impl AdminSettings {
    /// Counts one sign-in attempt against both limits; false when either is used up.
    pub(super) fn allow_sign_in_attempt(&self, username: &str, address: &str) -> bool {
        let account_ok = self
            .limiters
            .account
            .check_key(&username.to_owned())
            .is_ok();
        let address_ok = self.limiters.address.check_key(&address.to_owned()).is_ok();
        account_ok && address_ok
    }
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings::new(
            Key::generate(),
            false,
            NonZeroU32::new(5).expect("non-zero"),
            NonZeroU32::new(30).expect("non-zero"),
        )
    }
}
