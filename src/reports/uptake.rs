//! Uptake: the slots organisations booked through GP Connect against the slots offered to
//! them, by organisation type and by organisation, over the report's period.
//!
//! - **Booked**: slots of appointments booked through GP Connect (status booked) that start on
//!   a local day of the period, counted under the organisation type the booker searched as
//!   (its contained Organization's type; "not given" when none) and under its ODS code.
//!   Cancelled appointments are counted apart (they hold no slot).
//! - **Offered** to a type T: the capacity report's "by organisation type" exposed slots of T
//!   (booked or free). Offered to an organisation: those of its type, plus the exposed slots
//!   restricted to its ODS code or to a group of the practice it is a member of.
//! - **Uptake**: booked over offered, per cent to one decimal place (`None` when nothing was
//!   offered).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::Serialize;

use super::figures::CapacityReport;
use super::period::Period;
use crate::availability::codes::OrganisationType;
use crate::db::ids::PracticeId;
use crate::db::named::{Statement, Value};

/// GP Connect bookings by organisation type and ODS code: `$practices`, `$first_day`, `$last_day`.
static BOOKED: LazyLock<Statement> =
    LazyLock::new(|| Statement::unprepared(include_str!("sql/uptake_booked.sql").to_owned()));

/// The groups the booking organisations `$ods_codes` are members of at `$practices`.
static GROUPS: LazyLock<Statement> =
    LazyLock::new(|| Statement::unprepared(include_str!("sql/uptake_groups.sql").to_owned()));

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UptakeRow {
    /// The organisation type code, or the ODS code.
    pub key: Option<String>,
    pub label: String,
    /// The organisation type the organisation booked as (by organisation only).
    pub org_type: Option<String>,
    pub booked_slots: i64,
    pub booked_appointments: i64,
    pub cancelled_appointments: i64,
    pub offered_slots: i64,
    pub uptake: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Uptake {
    pub by_org_type: Vec<UptakeRow>,
    pub by_organisation: Vec<UptakeRow>,
}

#[derive(QueryableByName)]
struct Booked {
    #[diesel(sql_type = Nullable<Text>)]
    org_type: Option<String>,
    #[diesel(sql_type = Text)]
    ods_code: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    booked_slots: i64,
    #[diesel(sql_type = BigInt)]
    booked: i64,
    #[diesel(sql_type = BigInt)]
    cancelled: i64,
}

#[derive(QueryableByName)]
struct Membership {
    #[diesel(sql_type = Text)]
    ods_code: String,
    #[diesel(sql_type = Text)]
    group_name: String,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// The uptake of `practices` over `period`, against what `capacity` (the same period's
/// capacity report) says was offered.
pub fn uptake(
    conn: &mut PgConnection,
    practices: &[PracticeId],
    period: &Period,
    capacity: &CapacityReport,
) -> QueryResult<Uptake> {
    let ids = Value::Int8Array(practices.iter().map(|p| p.0).collect());
    let booked: Vec<Booked> = BOOKED
        .query()
        .bind("practices", ids.clone())
        .bind("first_day", Value::Date(Some(period.first)))
        .bind("last_day", Value::Date(Some(period.last)))
        .load(conn)?;
    let codes = booked.iter().map(|b| b.ods_code.clone()).collect();
    let memberships: Vec<Membership> = GROUPS
        .query()
        .bind("practices", ids)
        .bind("ods_codes", Value::TextArray(codes))
        .load(conn)?;
    let offered_to_type = |t: Option<&str>| {
        capacity
            .by_org_type
            .iter()
            .find(|r| r.key.as_deref() == t && t.is_some())
            .map_or(0, |r| r.total.slots)
    };
    let named = |key: &str| {
        capacity
            .by_named_organisation
            .iter()
            .find(|r| r.key.as_deref() == Some(key))
            .map_or(0, |r| r.total.slots)
    };
    let mut by_type: BTreeMap<Option<String>, (i64, i64, i64)> = capacity
        .org_types
        .iter()
        .map(|t| (Some((*t).to_owned()), (0, 0, 0)))
        .collect();
    let mut by_organisation = Vec::new();
    for b in &booked {
        let e = by_type.entry(b.org_type.clone()).or_default();
        e.0 += b.booked_slots;
        e.1 += b.booked;
        e.2 += b.cancelled;
        let groups: i64 = memberships
            .iter()
            .filter(|m| m.ods_code == b.ods_code)
            .map(|m| named(&format!("group:{}", m.group_name)))
            .sum();
        let offered = offered_to_type(b.org_type.as_deref()) + named(&b.ods_code) + groups;
        by_organisation.push(UptakeRow {
            key: Some(b.ods_code.clone()),
            label: format!("{} ({})", b.name, b.ods_code),
            org_type: b.org_type.clone(),
            booked_slots: b.booked_slots,
            booked_appointments: b.booked,
            cancelled_appointments: b.cancelled,
            offered_slots: offered,
            uptake: percent(b.booked_slots, offered),
        });
    }
    let by_org_type = by_type
        .into_iter()
        .map(|(t, (slots, booked, cancelled))| {
            let offered = offered_to_type(t.as_deref());
            UptakeRow {
                label: t
                    .as_deref()
                    .map_or_else(|| "Type not given".into(), OrganisationType::label),
                key: t.clone(),
                org_type: t,
                booked_slots: slots,
                booked_appointments: booked,
                cancelled_appointments: cancelled,
                offered_slots: offered,
                uptake: percent(slots, offered),
            }
        })
        .collect();
    Ok(Uptake {
        by_org_type,
        by_organisation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booked_sql() {
        insta::assert_snapshot!(BOOKED.sql());
    }

    #[test]
    fn groups_sql() {
        insta::assert_snapshot!(GROUPS.sql());
    }
}
