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

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Nullable, Text};
use serde::Serialize;

use super::figures::CapacityReport;
use super::period::Period;
use crate::availability::codes::OrganisationType;
use crate::db::ids::PracticeId;

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
    let ids: Vec<i64> = practices.iter().map(|p| p.0).collect();
    let booked: Vec<Booked> = diesel::sql_query(
        "SELECT a.booking_org_type AS org_type, a.booking_ods_code AS ods_code,
                min(a.booking_org_name) AS name,
                count(*) FILTER (WHERE a.status = 'booked') AS booked_slots,
                count(DISTINCT a.id) FILTER (WHERE a.status = 'booked') AS booked,
                count(DISTINCT a.id) FILTER (WHERE a.status = 'cancelled') AS cancelled
         FROM appointments a
         JOIN appointment_slots l ON l.appointment_id = a.id
         JOIN slots s ON s.id = l.slot_id
         WHERE a.practice_id = ANY($1) AND a.source = 'gp-connect'
           AND (s.start_at AT TIME ZONE 'Europe/London')::date BETWEEN $2 AND $3
         GROUP BY a.booking_org_type, a.booking_ods_code
         ORDER BY a.booking_ods_code, a.booking_org_type",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(&ids)
    .bind::<Date, _>(period.first)
    .bind::<Date, _>(period.last)
    .load(conn)?;
    let codes: Vec<&str> = booked.iter().map(|b| b.ods_code.as_str()).collect();
    let memberships: Vec<Membership> = diesel::sql_query(
        "SELECT m.ods_code, g.name AS group_name
         FROM org_group_members m JOIN org_groups g ON g.id = m.group_id
         WHERE g.practice_id = ANY($1) AND m.ods_code = ANY($2)",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(&ids)
    .bind::<diesel::sql_types::Array<Text>, _>(&codes)
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
