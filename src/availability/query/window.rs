//! Search windows: instant ranges limited in Europe/London local days.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;

/// A search window: an instant range of at most 14 Europe/London local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchWindow {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the end of the search window is before its start")]
    Negative,
    #[error("the search window is longer than {max} days (counted in UK local time)", max = SearchWindow::MAX_LOCAL_DAYS)]
    TooLong,
}

impl SearchWindow {
    pub const MAX_LOCAL_DAYS: i64 = 14;

    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, WindowError> {
        if end < start {
            return Err(WindowError::Negative);
        }
        let local_span =
            end.with_timezone(&London).naive_local() - start.with_timezone(&London).naive_local();
        if local_span > chrono::TimeDelta::days(Self::MAX_LOCAL_DAYS) {
            return Err(WindowError::TooLong);
        }
        Ok(SearchWindow { start, end })
    }

    /// From local midnight at the start of `first` to local midnight after `last`.
    pub fn local_days(first: NaiveDate, last: NaiveDate) -> Result<Self, WindowError> {
        let after_last = last
            .checked_add_days(Days::new(1))
            .ok_or(WindowError::TooLong)?;
        SearchWindow::new(local_midnight(first), local_midnight(after_last))
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
}

/// The instant a local day starts in Europe/London (midnight always exists there: the clocks
/// change at 01:00 GMT).
pub fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    London
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .expect("midnight exists in Europe/London")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn london(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        London
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn fourteen_local_days_are_accepted_across_both_clock_changes() {
        let spring = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let w = SearchWindow::local_days(spring(23), NaiveDate::from_ymd_opt(2026, 4, 5).unwrap());
        assert!(
            w.is_ok(),
            "spring window of 14 local days (13 d 23 h) is accepted"
        );
        let autumn = SearchWindow::local_days(
            NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
        );
        assert!(
            autumn.is_ok(),
            "autumn window of 14 local days (14 d 1 h) is accepted"
        );
        let fifteen = SearchWindow::local_days(
            NaiveDate::from_ymd_opt(2026, 10, 19).unwrap(),
            NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
        );
        assert_eq!(fifteen, Err(WindowError::TooLong));
    }

    #[test]
    fn negative_windows_are_refused_and_empty_ones_allowed() {
        let t = london(2026, 6, 1, 9);
        assert_eq!(
            SearchWindow::new(t, t - chrono::TimeDelta::seconds(1)),
            Err(WindowError::Negative)
        );
        assert!(SearchWindow::new(t, t).is_ok());
    }

    #[test]
    fn local_days_start_at_local_midnight() {
        let w = SearchWindow::local_days(
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
            NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        )
        .unwrap();
        assert_eq!(w.start().to_rfc3339(), "2026-06-30T23:00:00+00:00");
        assert_eq!(w.end().to_rfc3339(), "2026-07-01T23:00:00+00:00");
    }
}
