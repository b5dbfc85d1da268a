//! The admin UI's settings: session key, cookie policy, session lifetimes, sign-in limits and
//! the proxies trusted to say who the client is.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::cookie::Key;

/// The admin UI's settings, in `AppState::admin`. The defaults suit tests and the demo (plain
/// HTTP on loopback, a session key made at start); `bookable serve` sets `cookie_secure`.
#[derive(Clone)]
pub struct AdminSettings {
    /// Encrypts the session cookie (64 bytes). Sessions themselves live in PostgreSQL.
    pub session_key: Key,
    /// Send the session cookie only over HTTPS (its name then gets the `__Host-` prefix).
    pub cookie_secure: bool,
    /// Send `Strict-Transport-Security` (served over TLS, or behind an HTTPS proxy).
    pub hsts: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: chrono::TimeDelta,
    /// A session ends this long after sign-in, however active.
    pub max_session: chrono::TimeDelta,
    /// Failed-or-not sign-in attempts allowed per window (a minute) for one username, and for
    /// one client address, counted in PostgreSQL across every instance (`sign_in_limits`).
    pub login_attempts_per_account: NonZeroU32,
    pub login_attempts_per_address: NonZeroU32,
    pub sign_in_window: std::time::Duration,
    /// Peers whose `X-Forwarded-For` names the client (`BOOKABLE_TRUSTED_PROXIES`); from any
    /// other peer the header is ignored.
    pub trusted_proxies: Vec<IpAddr>,
}

/// How often the background housekeeping forgets sign-in limit keys that have recovered.
pub const LIMITER_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

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
            hsts: false,
            idle_timeout: chrono::TimeDelta::minutes(30),
            max_session: chrono::TimeDelta::hours(12),
            login_attempts_per_account: per_account,
            login_attempts_per_address: per_address,
            sign_in_window: std::time::Duration::from_secs(60),
            trusted_proxies: Vec::new(),
        }
    }
}

impl AdminSettings {
    /// For `bookable serve` and the demo: `BOOKABLE_SESSION_KEY` (base64 of at least 64 random
    /// bytes; unset: a new key at each start, which signs everyone out on restart),
    /// `BOOKABLE_COOKIE_SECURE` (`true`/`false`; unset: `secure_by_default`), `BOOKABLE_HSTS`
    /// (`true`/`false`; unset: whether the server itself runs TLS, `tls`) and
    /// `BOOKABLE_TRUSTED_PROXIES` (IP addresses, comma-separated).
    pub fn from_env(secure_by_default: bool, tls: bool) -> anyhow::Result<Self> {
        use base64::Engine;
        let flag = |name: &str, default: bool| match std::env::var(name) {
            Ok(v) => v
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} must be true or false")),
            Err(_) => Ok(default),
        };
        let cookie_secure = flag("BOOKABLE_COOKIE_SECURE", secure_by_default)?;
        let hsts = flag("BOOKABLE_HSTS", tls)?;
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
        let trusted_proxies = match std::env::var("BOOKABLE_TRUSTED_PROXIES") {
            Ok(v) => v
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse().map_err(|_| {
                        anyhow::anyhow!("BOOKABLE_TRUSTED_PROXIES: '{a}' is not an IP address")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            Err(_) => Vec::new(),
        };
        let defaults = AdminSettings::default();
        Ok(AdminSettings {
            hsts,
            trusted_proxies,
            ..AdminSettings::new(
                session_key,
                cookie_secure,
                defaults.login_attempts_per_account,
                defaults.login_attempts_per_address,
            )
        })
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
