//! Booking limits ("at most N slots per day or week may be booked by organisation type T, ODS
//! code O or group G", per schedule or for the whole practice) and booking windows ("exposed
//! from D days before the slot until M minutes before it starts"). The query module applies
//! both; this module stores them, checked and audited.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::audience::{Audiences, Named};
use super::codes::{OdsCode, OrganisationType};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{GroupId, LimitId, PracticeId, ScheduleId, SlotId};
use crate::db::schema::{booking_limits, org_groups, schedules, slots};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// A Europe/London local day.
    Day,
    /// An ISO week (Monday to Sunday), in Europe/London local time.
    Week,
}

impl Period {
    pub fn code(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        [Period::Day, Period::Week]
            .into_iter()
            .find(|p| p.code() == s)
    }
}

/// Whose bookings a limit counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    OrgType(String),
    Ods(String),
    Group(GroupId),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookingLimit {
    pub id: LimitId,
    /// `None`: the limit counts bookings across the whole practice.
    pub schedule: Option<ScheduleId>,
    pub subject: Subject,
    pub period: Period,
    pub max_slots: i32,
    /// The schedule's type (session name) or external id, for messages.
    pub schedule_name: Option<String>,
    /// The group's name, for a group's limit.
    pub group_name: Option<String>,
}

impl BookingLimit {
    /// "at most 6 a day booked by Urgent care (NHS 111), across the practice"
    pub fn describe(&self) -> String {
        let who = match &self.subject {
            Subject::OrgType(t) => {
                OrganisationType::parse(t).map_or_else(|_| t.clone(), |t| t.display().to_owned())
            }
            Subject::Ods(o) => format!("ODS code {o}"),
            Subject::Group(_) => format!("the group {}", self.group_name.as_deref().unwrap_or("?")),
        };
        let period = match self.period {
            Period::Day => "a day",
            Period::Week => "a week",
        };
        let scope = match &self.schedule_name {
            Some(name) => format!("in {name}"),
            None => "across the practice".to_owned(),
        };
        format!(
            "at most {} {period} booked by {who}, {scope}",
            self.max_slots
        )
    }
}

/// A booking window opens at most this many days ahead (a year; a larger one would take
/// dates out of PostgreSQL's range and is no practice's intent).
pub const BOOK_FROM_DAYS: std::ops::RangeInclusive<i32> = 0..=365;
/// A booking window closes at most this many minutes (a week) before the slot starts.
pub const BOOK_UNTIL_MINUTES: std::ops::RangeInclusive<i32> = 0..=10_080;
/// A booking limit allows from 1 to this many slots a day or a week.
pub const MAX_SLOTS: std::ops::RangeInclusive<i32> = 1..=10_000;

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("a limit must allow from 1 to 10,000 slots")]
    MaxSlotsOutOfRange,
    #[error("no such schedule, group or limit at this practice")]
    NotFound,
    #[error("the days ahead must be from 0 to 365")]
    FromDaysOutOfRange,
    #[error("the minutes before must be from 0 to 10,080 (one week)")]
    UntilMinutesOutOfRange,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

type LimitRow = (
    (
        LimitId,
        Option<ScheduleId>,
        Option<String>,
        Option<String>,
        Option<GroupId>,
        String,
        i32,
    ),
    Option<(Option<String>, String)>,
    Option<String>,
);

fn from_row(
    ((id, schedule, org_type, ods, group, period, max_slots), sched, group_name): LimitRow,
) -> BookingLimit {
    let subject = match (org_type, ods, group) {
        (Some(t), _, _) => Subject::OrgType(t),
        (_, Some(o), _) => Subject::Ods(o),
        (_, _, Some(g)) => Subject::Group(g),
        _ => unreachable!("CHECK (num_nonnulls(org_type, ods_code, group_id) = 1)"),
    };
    let period = Period::parse(&period).expect("CHECK (period IN ('day', 'week'))");
    let schedule_name =
        sched.map(|(schedule_type, external_id)| schedule_type.unwrap_or(external_id));
    BookingLimit {
        id,
        schedule,
        subject,
        period,
        max_slots,
        schedule_name,
        group_name,
    }
}

pub fn list(conn: &mut PgConnection, practice: PracticeId) -> QueryResult<Vec<BookingLimit>> {
    Ok(booking_limits::table
        .left_join(schedules::table.on(schedules::id.nullable().eq(booking_limits::schedule_id)))
        .left_join(org_groups::table.on(org_groups::id.nullable().eq(booking_limits::group_id)))
        .filter(booking_limits::practice_id.eq(practice))
        .order(booking_limits::id)
        .select((
            (
                booking_limits::id,
                booking_limits::schedule_id,
                booking_limits::org_type,
                booking_limits::ods_code,
                booking_limits::group_id,
                booking_limits::period,
                booking_limits::max_slots,
            ),
            (schedules::schedule_type, schedules::external_id).nullable(),
            org_groups::name.nullable(),
        ))
        .load::<LimitRow>(conn)?
        .into_iter()
        .map(from_row)
        .collect())
}

/// The subject of a new limit, validated.
pub enum NewSubject {
    OrgType(OrganisationType),
    Ods(OdsCode),
    Group(GroupId),
}

pub fn add(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    schedule: Option<ScheduleId>,
    subject: NewSubject,
    period: Period,
    max_slots: i32,
) -> Result<LimitId, LimitError> {
    if !MAX_SLOTS.contains(&max_slots) {
        return Err(LimitError::MaxSlotsOutOfRange);
    }
    conn.transaction(|conn| {
        if let Some(s) = schedule {
            let own: i64 = schedules::table
                .filter(schedules::practice_id.eq(practice))
                .find(s)
                .count()
                .get_result(conn)?;
            if own == 0 {
                return Err(LimitError::NotFound);
            }
        }
        let (org_type, ods, group) = match &subject {
            NewSubject::OrgType(t) => (Some(t.code().to_owned()), None, None),
            NewSubject::Ods(o) => (None, Some(o.as_str().to_owned()), None),
            NewSubject::Group(g) => {
                let own: i64 = org_groups::table
                    .filter(org_groups::practice_id.eq(practice))
                    .find(g)
                    .count()
                    .get_result(conn)?;
                if own == 0 {
                    return Err(LimitError::NotFound);
                }
                (None, None, Some(*g))
            }
        };
        let id: LimitId = diesel::insert_into(booking_limits::table)
            .values((
                booking_limits::practice_id.eq(practice),
                booking_limits::schedule_id.eq(schedule),
                booking_limits::org_type.eq(&org_type),
                booking_limits::ods_code.eq(&ods),
                booking_limits::group_id.eq(group),
                booking_limits::period.eq(period.code()),
                booking_limits::max_slots.eq(max_slots),
            ))
            .returning(booking_limits::id)
            .get_result(conn)?;
        let limit = list(conn, practice)?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(LimitError::NotFound)?;
        change_log::record(
            conn,
            actor,
            Change::new("create", "booking_limit")
                .practice(practice)
                .entity(id.0)
                .after(json!(limit)),
        )?;
        Ok(id)
    })
}

pub fn remove(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: LimitId,
) -> Result<(), LimitError> {
    conn.transaction(|conn| {
        let limit = list(conn, practice)?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(LimitError::NotFound)?;
        diesel::delete(booking_limits::table.find(id)).execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change::new("delete", "booking_limit")
                .practice(practice)
                .entity(id.0)
                .before(json!(limit)),
        )?;
        Ok(())
    })
}

/// "Exposed from `from_days` local days before the slot's day until `until_minutes` before it
/// starts"; `None` leaves that side open (for a slot: follows its schedule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BookingWindow {
    pub from_days: Option<i32>,
    pub until_minutes: Option<i32>,
}

impl BookingWindow {
    /// Each side, when set, within its range ([`BOOK_FROM_DAYS`], [`BOOK_UNTIL_MINUTES`]).
    pub fn check(&self) -> Result<(), LimitError> {
        if self.from_days.is_some_and(|d| !BOOK_FROM_DAYS.contains(&d)) {
            return Err(LimitError::FromDaysOutOfRange);
        }
        if self
            .until_minutes
            .is_some_and(|m| !BOOK_UNTIL_MINUTES.contains(&m))
        {
            return Err(LimitError::UntilMinutesOutOfRange);
        }
        Ok(())
    }
}

pub enum WindowTarget {
    Schedule(ScheduleId),
    Slot(SlotId),
}

pub fn set_window(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    target: WindowTarget,
    window: BookingWindow,
) -> Result<(), LimitError> {
    window.check()?;
    conn.transaction(|conn| {
        let (entity, id, before) = match target {
            WindowTarget::Schedule(id) => {
                let (from_days, until_minutes) = schedules::table
                    .filter(schedules::practice_id.eq(practice))
                    .find(id)
                    .select((schedules::book_from_days, schedules::book_until_minutes))
                    .first(conn)
                    .optional()?
                    .ok_or(LimitError::NotFound)?;
                diesel::update(schedules::table.find(id))
                    .set((
                        schedules::book_from_days.eq(window.from_days),
                        schedules::book_until_minutes.eq(window.until_minutes),
                        schedules::version.eq(schedules::version + 1),
                    ))
                    .execute(conn)?;
                (
                    "schedule",
                    id.0,
                    BookingWindow {
                        from_days,
                        until_minutes,
                    },
                )
            }
            WindowTarget::Slot(id) => {
                let (from_days, until_minutes) = slots::table
                    .filter(slots::practice_id.eq(practice))
                    .find(id)
                    .select((slots::book_from_days, slots::book_until_minutes))
                    .first(conn)
                    .optional()?
                    .ok_or(LimitError::NotFound)?;
                diesel::update(slots::table.find(id))
                    .set((
                        slots::book_from_days.eq(window.from_days),
                        slots::book_until_minutes.eq(window.until_minutes),
                        slots::version.eq(slots::version + 1),
                    ))
                    .execute(conn)?;
                (
                    "slot",
                    id.0,
                    BookingWindow {
                        from_days,
                        until_minutes,
                    },
                )
            }
        };
        change_log::record(
            conn,
            actor,
            Change::new("set_booking_window", entity)
                .practice(practice)
                .entity(id)
                .before(json!(before))
                .after(json!(window)),
        )?;
        Ok(())
    })
}

/// A schedule's sharing rules as the admin UI shows them: the groups that are audiences of
/// their own, and its booking window.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleSharing {
    pub id: ScheduleId,
    pub schedule_type: Option<String>,
    pub external_id: String,
    pub group_ids: Vec<i64>,
    pub from_days: Option<i32>,
    pub until_minutes: Option<i32>,
}

pub fn schedule_sharing(
    conn: &mut PgConnection,
    practice: PracticeId,
) -> QueryResult<Vec<ScheduleSharing>> {
    schedules::table
        .filter(schedules::practice_id.eq(practice))
        .order((schedules::schedule_type, schedules::external_id))
        .select((
            schedules::id,
            schedules::schedule_type,
            schedules::external_id,
            schedules::audiences,
            schedules::book_from_days,
            schedules::book_until_minutes,
        ))
        .load::<(
            ScheduleId,
            Option<String>,
            String,
            Vec<String>,
            Option<i32>,
            Option<i32>,
        )>(conn)?
        .into_iter()
        .map(
            |(id, schedule_type, external_id, audiences, from_days, until_minutes)| {
                let audiences = Audiences::from_tokens(&audiences)
                    .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
                Ok(ScheduleSharing {
                    id,
                    schedule_type,
                    external_id,
                    group_ids: audiences
                        .iter()
                        .filter(|a| a.type_code().is_none())
                        .filter_map(|a| match a.named_part() {
                            Some(Named::Group(g)) => Some(g.0),
                            _ => None,
                        })
                        .collect(),
                    from_days,
                    until_minutes,
                })
            },
        )
        .collect()
}
