//! The time source handlers take "now" from: the system clock in production, a clock standing
//! at a chosen instant where a test needs "now" inside its data. A leaf: it imports only chrono.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// What time it is. Cloning shares the clock: setting a fixed clock moves every clone of it.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<RwLock<DateTime<Utc>>>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stands at `at` until [`Clock::set`] moves it.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Clock(Some(Arc::new(RwLock::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            None => Utc::now(),
            Some(at) => *at.read().unwrap_or_else(|poisoned| poisoned.into_inner()),
        }
    }

    /// Moves a fixed clock (and every clone of it) to `at`.
    ///
    /// # Panics
    /// On the system clock, which only time moves.
    pub fn set(&self, at: DateTime<Utc>) {
        let fixed = self.0.as_ref().expect("the system clock can't be set");
        *fixed
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_until_set_and_its_clones_follow() {
        let at = DateTime::parse_from_rfc3339("2026-06-10T08:55:00Z")
            .unwrap()
            .to_utc();
        let clock = Clock::fixed(at);
        let clone = clock.clone();
        assert_eq!(clock.now(), at);
        clock.set(at + TimeDelta::minutes(5));
        assert_eq!(clone.now(), at + TimeDelta::minutes(5));
    }

    #[test]
    fn the_system_clock_tells_the_time() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(before <= now && now <= Utc::now());
    }
}
