//! What the admin pages show of appointments: never the description, comment or cancellation
//! reason (free text that may hold clinical information), and the patient only by initials
//! and the last digits of the NHS number.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::ids::{AppointmentId, PracticeId, SlotId};
use crate::db::schema::{appointment_slots, appointments, patients, slots};

/// How many digits of the NHS number the pages show.
pub const NHS_DIGITS_SHOWN: usize = 3;

/// A GP Connect appointment as the Appointments page lists it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: AppointmentId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub cancelled: bool,
    pub booked_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub org_ods_code: String,
    pub org_type: Option<String>,
    pub org_name: String,
    /// "J S": the first letter of each given name and of the family name.
    pub patient_initials: String,
    /// The NHS number's last [`NHS_DIGITS_SHOWN`] digits.
    pub nhs_number_ends: String,
}

pub fn initials(given_names: &[String], family_name: &str) -> String {
    given_names
        .iter()
        .map(String::as_str)
        .chain([family_name])
        .filter_map(|n| n.trim().chars().next())
        .flat_map(char::to_uppercase)
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn last_digits(nhs_number: &str) -> String {
    let start = nhs_number.len().saturating_sub(NHS_DIGITS_SHOWN);
    nhs_number.get(start..).unwrap_or_default().to_owned()
}

type Row = (
    AppointmentId,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    String,
    Option<String>,
    String,
    Vec<String>,
    String,
    String,
);

/// The practice's GP Connect appointments starting at or after `from`, booked and cancelled,
/// in start order, at most `limit`.
pub fn upcoming_gp_connect(
    conn: &mut PgConnection,
    practice: PracticeId,
    from: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Listed>> {
    let rows: Vec<Row> = appointments::table
        .inner_join(patients::table)
        .filter(appointments::practice_id.eq(practice))
        .filter(appointments::source.eq("gp-connect"))
        .filter(appointments::start_at.ge(from))
        .order((appointments::start_at, appointments::id))
        .limit(limit)
        .select((
            appointments::id,
            appointments::start_at,
            appointments::end_at,
            appointments::status,
            appointments::recorded_at,
            appointments::cancelled_at,
            appointments::booking_ods_code,
            appointments::booking_org_type,
            appointments::booking_org_name,
            patients::given_names,
            patients::family_name,
            patients::nhs_number,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| Listed {
            id: r.0,
            start: r.1,
            end: r.2,
            cancelled: r.3 == "cancelled",
            booked_at: r.4,
            cancelled_at: r.5,
            org_ods_code: r.6,
            org_type: r.7,
            org_name: r.8,
            patient_initials: initials(&r.9, &r.10),
            nhs_number_ends: last_digits(&r.11),
        })
        .collect())
}

/// Who holds a booked slot: the booking organisation, and whether it booked through GP Connect
/// (else the appointment is the clinical system's own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotBooking {
    pub org_name: String,
    pub org_ods_code: String,
    pub gp_connect: bool,
}

/// The booked appointments holding the practice's slots that start in [from, to).
pub fn booked_slots(
    conn: &mut PgConnection,
    practice: PracticeId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> QueryResult<HashMap<SlotId, SlotBooking>> {
    let rows: Vec<(SlotId, String, String, String)> = appointment_slots::table
        .inner_join(appointments::table)
        .inner_join(slots::table)
        .filter(appointments::practice_id.eq(practice))
        .filter(appointments::status.eq("booked"))
        .filter(slots::start_at.ge(from))
        .filter(slots::start_at.lt(to))
        .select((
            appointment_slots::slot_id,
            appointments::booking_org_name,
            appointments::booking_ods_code,
            appointments::source,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(slot, org_name, org_ods_code, source)| {
            (
                slot,
                SlotBooking {
                    org_name,
                    org_ods_code,
                    gp_connect: source == "gp-connect",
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patients_are_shown_by_initials_and_the_last_digits() {
        assert_eq!(initials(&["jane".into(), "Mary".into()], "Smith"), "J M S");
        assert_eq!(initials(&[], "Okafor"), "O");
        assert_eq!(last_digits("9000000009"), "009");
        assert_eq!(last_digits("12"), "12");
    }
}
