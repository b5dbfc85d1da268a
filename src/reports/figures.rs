//! The capacity report's figures and shape: what [`super::capacity::capacity_report`] returns
//! and the pages, charts and downloads show.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::exposure::HiddenCapacityReason;
use super::period::Period;
use crate::db::ids::PracticeId;

/// Exposed slots and minutes, booked (busy) and still free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub slots: i64,
    pub minutes: i64,
    pub booked_slots: i64,
    pub booked_minutes: i64,
    pub free_slots: i64,
    pub free_minutes: i64,
}

impl Figures {
    pub(super) fn new(slots: i64, minutes: i64, booked_slots: i64, booked_minutes: i64) -> Self {
        Figures {
            slots,
            minutes,
            booked_slots,
            booked_minutes,
            free_slots: slots - booked_slots,
            free_minutes: minutes - booked_minutes,
        }
    }

    /// The two added together.
    pub(super) fn plus(&self, other: &Figures) -> Figures {
        Figures::new(
            self.slots + other.slots,
            self.minutes + other.minutes,
            self.booked_slots + other.booked_slots,
            self.booked_minutes + other.booked_minutes,
        )
    }
}

/// The exposed figures against the whole appointment book (every slot, exposed or not).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Totals {
    pub exposed: Figures,
    pub book_slots: i64,
    pub book_minutes: i64,
    /// Exposed share of the book, in per cent to one decimal place; `None` for an empty book.
    pub exposed_share_of_slots: Option<f64>,
    pub exposed_share_of_minutes: Option<f64>,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

impl Totals {
    pub(super) fn new(exposed: Figures, book_slots: i64, book_minutes: i64) -> Self {
        Totals {
            exposed,
            book_slots,
            book_minutes,
            exposed_share_of_slots: percent(exposed.slots, book_slots),
            exposed_share_of_minutes: percent(exposed.minutes, book_minutes),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DayCapacity {
    pub date: NaiveDate,
    pub totals: Totals,
    /// Per organisation type, in the order of [`CapacityReport::org_types`].
    pub by_org_type: Vec<Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekCapacity {
    /// The Monday the ISO week starts on (the days outside the period are not counted).
    pub monday: NaiveDate,
    pub iso_week: String,
    pub totals: Totals,
}

/// One value of a breakdown: its figures over the period and per week.
#[derive(Debug, Clone, Serialize)]
pub struct BreakdownRow {
    /// The code (organisation type, ODS code, `group:<name>`, channel, role, slot type);
    /// `None` for "not set" or, for named organisations, "not restricted to named organisations".
    pub key: Option<String>,
    pub label: String,
    pub total: Figures,
    /// In the order of [`CapacityReport::weeks`].
    pub weeks: Vec<Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HiddenCount {
    pub reason: HiddenCapacityReason,
    pub message: &'static str,
    pub slots: i64,
    pub minutes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PracticeCapacity {
    pub practice_id: PracticeId,
    pub ods_code: String,
    pub name: String,
    pub list_size: i32,
    pub totals: Totals,
    /// In the order of [`CapacityReport::weeks`].
    pub weeks: Vec<Totals>,
    pub nhs111_daily_minimum: i64,
    /// Weekdays of the period on which the NHS 111 minimum is not met.
    pub nhs111_days_short: usize,
    /// The fewest slots NHS 111 could book on a weekday of the period (none without weekdays).
    pub nhs111_fewest_on_a_weekday: Option<i64>,
    /// Free, bookable slots no consumer can see, by reason (a slot may have several).
    pub hidden: Vec<HiddenCount>,
}

/// One practice's day against the NHS 111 direct booking minimum.
#[derive(Debug, Clone, Serialize)]
pub struct Nhs111Day {
    pub ods_code: String,
    pub date: NaiveDate,
    pub list_size: i32,
    pub required: i64,
    /// Slots exposed to `urgent-care` inside their booking windows (booked and free: the
    /// contract counts slots made available), before the booking limits.
    pub offered: Figures,
    /// What NHS 111 could book of them within the booking limits for urgent care
    /// ([`super::nhs111`]): the figure the minimum is checked against.
    pub within_limits: i64,
    /// For the days after the report's: how many NHS 111 could still book (free, within what
    /// the limits leave after its bookings).
    pub free_to_book: Option<i64>,
    pub weekend: bool,
    /// A weekday (Monday to Friday) on which NHS 111 could book fewer slots than required.
    pub short: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CapacityReport {
    pub period: Period,
    pub generated_at: DateTime<Utc>,
    pub nhs111_patients_per_appointment: i32,
    /// Organisation type codes of GPConnect-OrganisationType-1, the order of `by_org_type`.
    pub org_types: Vec<&'static str>,
    pub practices: Vec<PracticeCapacity>,
    pub totals: Totals,
    pub days: Vec<DayCapacity>,
    pub weeks: Vec<WeekCapacity>,
    pub by_org_type: Vec<BreakdownRow>,
    pub by_named_organisation: Vec<BreakdownRow>,
    pub by_channel: Vec<BreakdownRow>,
    pub by_role: Vec<BreakdownRow>,
    pub by_slot_type: Vec<BreakdownRow>,
    pub nhs111: Vec<Nhs111Day>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_per_cent_to_one_place() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
    }
}
