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
    /// Send the session cookie only over HTTPS (its name then gets the `__Host-` prefix).
    pub cookie_secure: bool,
    /// Send `Strict-Transport-Security` (served over TLS, or behind an HTTPS proxy).
    pub hsts: bool,
    /// A session ends after this long without a request.
    pub idle_timeout: chrono::TimeDelta,
    /// A session ends this long after sign-in, however active.
    pub max_session: chrono::TimeDelta,
    /// Failed-or-not sign-in attempts allowed per minute for one username, and for one address.
    pub login_attempts_per_account: NonZeroU32,
    pub login_attempts_per_address: NonZeroU32,
    limiters: Arc<LoginLimiters>,
}

/// How often the background housekeeping forgets the sign-in limiters' idle keys.
pub const LIMITER_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

struct LoginLimiters {
    account: DefaultKeyedRateLimiter<String>,
    address: DefaultKeyedRateLimiter<String>,
    /// One change-log row per username per window for its lock-out, however many attempts.
    lock_out_noted: DefaultKeyedRateLimiter<String>,
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
            hsts: false,
            idle_timeout: chrono::TimeDelta::minutes(30),
            max_session: chrono::TimeDelta::hours(12),
            login_attempts_per_account: per_account,
            login_attempts_per_address: per_address,
            limiters: Arc::new(LoginLimiters::new(
                per_account,
                per_address,
                std::time::Duration::from_secs(60),
            )),
        }
    }

    /// The same limits counted over `window` instead of a minute (tests use a short one).
    pub fn with_sign_in_window(mut self, window: std::time::Duration) -> Self {
        self.limiters = Arc::new(LoginLimiters::new(
            self.login_attempts_per_account,
            self.login_attempts_per_address,
            window,
        ));
        self
    }
}

impl LoginLimiters {
    fn new(per_account: NonZeroU32, per_address: NonZeroU32, window: std::time::Duration) -> Self {
        // `n` attempts per window, all of them at once if need be (governor's per_minute(n)).
        let quota = |n: NonZeroU32| {
            Quota::with_period(window / n.get())
                .unwrap_or_else(|| Quota::per_minute(n))
                .allow_burst(n)
        };
        LoginLimiters {
            account: RateLimiter::keyed(quota(per_account)),
            address: RateLimiter::keyed(quota(per_address)),
            lock_out_noted: RateLimiter::keyed(quota(NonZeroU32::MIN)),
        }
    }
}

impl AdminSettings {
    /// For `bookable serve` and the demo: `BOOKABLE_SESSION_KEY` (base64 of at least 64 random
    /// bytes; unset: a new key at each start, which signs everyone out on restart),
    /// `BOOKABLE_COOKIE_SECURE` (`true`/`false`; unset: `secure_by_default`) and `BOOKABLE_HSTS`
    /// (`true`/`false`; unset: whether the server itself runs TLS, `tls`).
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
        let defaults = AdminSettings::default();
        Ok(AdminSettings {
            hsts,
            ..AdminSettings::new(
                session_key,
                cookie_secure,
                defaults.login_attempts_per_account,
                defaults.login_attempts_per_address,
            )
        })
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

    /// Forgets every username and address whose limit has fully recovered (it would behave
    /// exactly as if never tried), so the limiters hold only the keys tried within the last
    /// window: run every [`LIMITER_SWEEP`] by the admin housekeeping.
    pub fn forget_idle_sign_in_keys(&self) {
        for limiter in [
            &self.limiters.account,
            &self.limiters.address,
            &self.limiters.lock_out_noted,
        ] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Whether a lock-out of `username` is to be written to the change log: the first refusal
    /// of each window only, so a flood of attempts can't flood the log.
    pub(super) fn note_lock_out(&self, username: &str) -> bool {
        self.limiters
            .lock_out_noted
            .check_key(&username.to_owned())
            .is_ok()
    }

    /// How many usernames and addresses the sign-in limiters remember.
    pub fn sign_in_keys_held(&self) -> usize {
        self.limiters.account.len()
            + self.limiters.address.len()
            + self.limiters.lock_out_noted.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_sign_in_limiters_forget_keys_once_their_window_has_passed() {
        let settings = AdminSettings::default().with_sign_in_window(Duration::from_millis(200));
        for i in 0..500 {
            settings.allow_sign_in_attempt(
                &format!("user{i}"),
                &format!("10.0.{}.{}", i / 256, i % 256),
            );
        }
        assert_eq!(settings.sign_in_keys_held(), 1000);
        // Nothing is forgotten while its window is open: the limit still counts it.
        settings.forget_idle_sign_in_keys();
        assert_eq!(settings.sign_in_keys_held(), 1000);
        std::thread::sleep(Duration::from_millis(300));
        settings.allow_sign_in_attempt("recent", "10.9.9.9");
        settings.forget_idle_sign_in_keys();
        assert_eq!(
            settings.sign_in_keys_held(),
            2,
            "only the recent attempt's keys remain"
        );
    }

    #[test]
    fn a_short_window_still_limits() {
        let settings = AdminSettings::default().with_sign_in_window(Duration::from_secs(60));
        let allowed = (0..10)
            .filter(|_| settings.allow_sign_in_attempt("jo", "10.0.0.1"))
            .count();
        assert_eq!(allowed, 5);
    }
}
