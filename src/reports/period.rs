//! Report periods: whole Europe/London local days, and the ISO weeks they touch.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Europe::London;
use serde::Serialize;

use crate::availability::query::local_midnight;

/// A report period: whole Europe/London local days, first to last inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the period ends before it starts")]
    Negative,
    #[error("the period is longer than {} days", Period::MAX_DAYS)]
    TooLong,
}

impl Period {
    /// 53 weeks: a year on a page, and a bound on the work one request may ask for.
    pub const MAX_DAYS: i64 = 371;
    pub const DEFAULT_DAYS: u64 = 28;

    pub fn new(first: NaiveDate, last: NaiveDate) -> Result<Self, PeriodError> {
        if last < first {
            return Err(PeriodError::Negative);
        }
        if (last - first).num_days() + 1 > Self::MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { first, last })
    }

    /// The next four weeks from today (Europe/London), today included.
    pub fn next_four_weeks(now: DateTime<Utc>) -> Self {
        let today = local_day(now);
        Period {
            first: today,
            last: today + Days::new(Self::DEFAULT_DAYS - 1),
        }
    }

    /// Local midnight starting the first day.
    pub fn start(&self) -> DateTime<Utc> {
        local_midnight(self.first)
    }

    /// Local midnight after the last day.
    pub fn end(&self) -> DateTime<Utc> {
        local_midnight(self.last + Days::new(1))
    }

    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        self.first.iter_days().take_while({
            let last = self.last;
            move |d| *d <= last
        })
    }

    /// The Mondays of the ISO weeks the period touches.
    pub fn weeks(&self) -> Vec<NaiveDate> {
        let last = self.last;
        monday(self.first)
            .iter_weeks()
            .take_while(|m| *m <= last)
            .collect()
    }
}

pub fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

fn monday(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

/// ISO week label, e.g. `2026-W48`.
pub fn iso_week(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn periods_cover_whole_local_days_and_iso_weeks() {
        let p = Period::new(d(2026, 10, 21), d(2026, 10, 27)).unwrap();
        assert_eq!(p.days().count(), 7);
        assert_eq!(p.weeks(), vec![d(2026, 10, 19), d(2026, 10, 26)]);
        assert_eq!(p.start().to_rfc3339(), "2026-10-20T23:00:00+00:00");
        // Clocks go back on 25 October: the last day ends at midnight GMT.
        assert_eq!(p.end().to_rfc3339(), "2026-10-28T00:00:00+00:00");
        assert_eq!(iso_week(d(2026, 12, 28)), "2026-W53");
        assert_eq!(
            Period::new(d(2026, 1, 2), d(2026, 1, 1)),
            Err(PeriodError::Negative)
        );
        assert!(Period::new(d(2026, 1, 1), d(2027, 1, 6)).is_ok());
        assert_eq!(
            Period::new(d(2026, 1, 1), d(2027, 1, 7)),
            Err(PeriodError::TooLong)
        );
    }

    #[test]
    fn the_default_period_is_four_weeks_from_the_local_today() {
        // 23:30 UTC on 30 June is 00:30 on 1 July in London.
        let now = "2026-06-30T23:30:00Z".parse().unwrap();
        let p = Period::next_four_weeks(now);
        assert_eq!((p.first, p.last), (d(2026, 7, 1), d(2026, 7, 28)));
    }
}
