//! What NHS 111 could really book: the slots urgent care may book inside their booking windows
//! (the summary's `nhs111` rows), capped by the booking limits set for urgent care.
//!
//! A limit for urgent care ("NHS 111 may book at most 6 a day") caps its scope: one schedule,
//! or the whole practice. Each day takes what its schedules' limits let through, then what the
//! practice's limits let through of their sum. A weekly limit is used up day by day in date
//! order from the first day of the week inside the period: a practice exposing 6 a day under a
//! limit of 20 a week offers 6, 6, 6, 2 and then 0. Limits for one organisation (an ODS code)
//! or a group are not NHS 111's as a whole and are left out.
//!
//! **Still free to book** (the days after today): the free slots among them, capped by what
//! the limits have left after the bookings urgent care holds that day and that week (bookings
//! in force, counted as the query module counts them for a limit: by the organisation type the
//! booker searched as).

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamptz};

use super::capacity::NHS111_ORG_TYPE;
use super::period::Period;
use crate::availability::query::local_midnight;

/// The tightest day and week limits of one scope (`None`: no limit of that period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Caps {
    pub day: Option<i64>,
    pub week: Option<i64>,
}

impl Caps {
    fn add(&mut self, week: bool, max: i64) {
        let cap = if week { &mut self.week } else { &mut self.day };
        *cap = Some(cap.map_or(max, |c| c.min(max)));
    }

    /// What the caps let through of `wanted` on a day that has used `day_used` and whose week
    /// has used `week_used`.
    fn allow(self, wanted: i64, day_used: i64, week_used: i64) -> i64 {
        let mut n = wanted;
        if let Some(d) = self.day {
            n = n.min(d - day_used);
        }
        if let Some(w) = self.week {
            n = n.min(w - week_used);
        }
        n.max(0)
    }
}

/// One practice's limits for urgent care: the practice's own and each schedule's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub practice: Caps,
    pub schedules: HashMap<i64, Caps>,
}

impl Limits {
    fn of(&self, schedule: Option<i64>) -> Caps {
        schedule
            .and_then(|s| self.schedules.get(&s).copied())
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.practice == Caps::default() && self.schedules.is_empty()
    }
}

/// One day's slots for NHS 111 of a practice: per schedule with a limit of its own (`Some`)
/// and the rest together (`None`).
pub type DayGroups = Vec<(Option<i64>, i64)>;

/// Bookings urgent care holds, per (schedule, local day).
pub type Used = HashMap<(i64, NaiveDate), i64>;

fn monday(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// Slots NHS 111 could book on each day of `days` (in date order), the weekly limits used up
/// day by day.
pub fn offered(limits: &Limits, days: &[(NaiveDate, DayGroups)]) -> Vec<i64> {
    let mut schedule_weeks: HashMap<(i64, NaiveDate), i64> = HashMap::new();
    let mut practice_weeks: HashMap<NaiveDate, i64> = HashMap::new();
    days.iter()
        .map(|(date, groups)| {
            let week = monday(*date);
            let mut through = 0;
            for (schedule, slots) in groups {
                through += match schedule {
                    Some(s) => {
                        let used = schedule_weeks.entry((*s, week)).or_default();
                        let n = limits.of(*schedule).allow(*slots, 0, *used);
                        *used += n;
                        n
                    }
                    None => *slots,
                };
            }
            let used = practice_weeks.entry(week).or_default();
            let n = limits.practice.allow(through, 0, *used);
            *used += n;
            n
        })
        .collect()
}

/// Slots NHS 111 could still book on `date`: `free` per group, after the bookings it holds.
pub fn free_to_book(limits: &Limits, date: NaiveDate, free: &DayGroups, used: &Used) -> i64 {
    let week = monday(date);
    let booked = |schedule: Option<i64>, in_week: bool| -> i64 {
        used.iter()
            .filter(|((s, d), _)| {
                schedule.is_none_or(|x| x == *s)
                    && if in_week {
                        monday(*d) == week
                    } else {
                        *d == date
                    }
            })
            .map(|(_, n)| n)
            .sum()
    };
    let through: i64 = free
        .iter()
        .map(|(schedule, slots)| match schedule {
            Some(s) => {
                limits
                    .of(*schedule)
                    .allow(*slots, booked(Some(*s), false), booked(Some(*s), true))
            }
            None => *slots,
        })
        .sum();
    if limits.practice == Caps::default() {
        return through;
    }
    limits
        .practice
        .allow(through, booked(None, false), booked(None, true))
}

/// The limits of organisation type `$2` at practices `$1`.
const LIMITS_SQL: &str = "SELECT practice_id, schedule_id, period, max_slots::bigint AS max_slots \
     FROM booking_limits WHERE practice_id = ANY($1) AND org_type = $2";

/// The bookings in force that organisation type `$2` holds at practices `$1` on slots starting
/// from `$3` to before `$4`, per practice, schedule and local day: what a limit counts.
const USED_SQL: &str = "SELECT b.practice_id, s.schedule_id, \
            (s.start_at AT TIME ZONE 'Europe/London')::date AS day, count(*) AS booked \
     FROM bookings b JOIN slots s ON s.id = b.slot_id \
     WHERE b.practice_id = ANY($1) AND b.released_at IS NULL \
       AND b.booked_by_org_type = $2 AND s.start_at >= $3 AND s.start_at < $4 \
     GROUP BY 1, 2, 3";

#[derive(QueryableByName)]
struct LimitRow {
    #[diesel(sql_type = BigInt)]
    practice_id: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    schedule_id: Option<i64>,
    #[diesel(sql_type = Text)]
    period: String,
    #[diesel(sql_type = BigInt)]
    max_slots: i64,
}

/// The urgent-care limits of `practices`, by practice.
pub fn limits(conn: &mut PgConnection, practices: &[i64]) -> QueryResult<HashMap<i64, Limits>> {
    let rows: Vec<LimitRow> = diesel::sql_query(LIMITS_SQL)
        .bind::<Array<BigInt>, _>(practices)
        .bind::<Text, _>(NHS111_ORG_TYPE)
        .load(conn)?;
    let mut out: HashMap<i64, Limits> = HashMap::new();
    for r in rows {
        let l = out.entry(r.practice_id).or_default();
        let caps = match r.schedule_id {
            Some(s) => l.schedules.entry(s).or_default(),
            None => &mut l.practice,
        };
        caps.add(r.period == "week", r.max_slots);
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct UsedRow {
    #[diesel(sql_type = BigInt)]
    practice_id: i64,
    #[diesel(sql_type = BigInt)]
    schedule_id: i64,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = BigInt)]
    booked: i64,
}

/// The bookings urgent care holds at `practices` on the slots of the whole weeks of the days
/// after `now` in `period`, by practice.
pub fn used(
    conn: &mut PgConnection,
    practices: &[i64],
    period: &Period,
    now: DateTime<Utc>,
) -> QueryResult<HashMap<i64, Used>> {
    let tomorrow = super::period::local_day(now) + Days::new(1);
    if practices.is_empty() || tomorrow > period.last {
        return Ok(HashMap::new());
    }
    let from = monday(tomorrow.max(period.first));
    let until = monday(period.last) + Days::new(7);
    let rows: Vec<UsedRow> = diesel::sql_query(USED_SQL)
        .bind::<Array<BigInt>, _>(practices)
        .bind::<Text, _>(NHS111_ORG_TYPE)
        .bind::<Timestamptz, _>(local_midnight(from))
        .bind::<Timestamptz, _>(local_midnight(until))
        .load(conn)?;
    let mut out: HashMap<i64, Used> = HashMap::new();
    for r in rows {
        out.entry(r.practice_id)
            .or_default()
            .insert((r.schedule_id, r.day), r.booked);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, n).unwrap()
    }

    fn practice(day: Option<i64>, week: Option<i64>) -> Limits {
        Limits {
            practice: Caps { day, week },
            schedules: HashMap::new(),
        }
    }

    /// The statements as sent, for review.
    #[test]
    fn limits_and_used_sql() {
        insta::assert_snapshot!("limits_sql", LIMITS_SQL);
        insta::assert_snapshot!("used_sql", USED_SQL);
    }

    #[test]
    fn a_daily_limit_caps_each_day() {
        let days: Vec<_> = (8..=12).map(|n| (d(n), vec![(None, 23)])).collect();
        assert_eq!(offered(&practice(Some(6), None), &days), [6; 5]);
        assert_eq!(offered(&Limits::default(), &days), [23; 5]);
    }

    #[test]
    fn a_weekly_limit_is_used_up_day_by_day_and_starts_again_on_monday() {
        // Monday 8 to Monday 15 June, 6 a day, 20 a week.
        let days: Vec<_> = (8..=15).map(|n| (d(n), vec![(None, 6)])).collect();
        assert_eq!(
            offered(&practice(Some(10), Some(20)), &days),
            [6, 6, 6, 2, 0, 0, 0, 6]
        );
    }

    #[test]
    fn a_schedule_s_limit_caps_its_slots_only_and_the_practice_s_caps_the_sum() {
        let mut limits = practice(Some(8), None);
        limits.schedules.insert(
            7,
            Caps {
                day: Some(2),
                week: None,
            },
        );
        let days = vec![
            (d(8), vec![(Some(7), 5), (None, 3)]),
            (d(9), vec![(Some(7), 5), (None, 9)]),
        ];
        assert_eq!(offered(&limits, &days), [5, 8]);
    }

    #[test]
    fn still_free_to_book_is_what_the_limits_leave_after_urgent_care_s_bookings() {
        let mut limits = practice(Some(6), Some(20));
        limits.schedules.insert(
            7,
            Caps {
                day: Some(3),
                week: None,
            },
        );
        // Urgent care holds 2 of schedule 7 on Tuesday and 14 earlier that week.
        let used: Used = [((7, d(9)), 2), ((5, d(8)), 14)].into_iter().collect();
        let free = vec![(Some(7), 4), (None, 10)];
        // Schedule 7: 3 - 2 = 1; with the other 10, 11; the practice: min(6 - 2, 20 - 16) = 4.
        assert_eq!(free_to_book(&limits, d(9), &free, &used), 4);
        // Wednesday: schedule 7 has 3 left that day; the week has 4 left.
        assert_eq!(free_to_book(&limits, d(10), &free, &used), 4);
        // Without limits, every free slot.
        assert_eq!(free_to_book(&Limits::default(), d(9), &free, &used), 14);
    }
}
