//! What a change does to who can book, shown before it is saved ("NHS 111 will no longer see
//! 44 slots").
//!
//! The change itself runs — the very domain function that will save it — inside a
//! transaction, and the query module ([`query::free_slots`]) counts, before and after it, the
//! free slots of the next four weeks each organisation the practice deals with can book: NHS
//! 111 (urgent care), each organisation type, each organisation named in who can book, each
//! group. [`dry_run`] then rolls the transaction back; [`apply`] keeps it unless the change
//! takes slots away from NHS 111 and the manager has not confirmed that. No rule of the query
//! module is copied here: only its answers are counted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Europe::London;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};

use super::audience::{Audience, GP_PRACTICE, Named, URGENT_CARE, type_phrase};
use super::codes::OdsCode;
use super::groups;
use super::query::{self, Consumer, SearchWindow};
use crate::db::ids::{PracticeId, ScheduleId};
use crate::db::schema::practices;
use crate::reports::settings;

/// How far ahead the impact is counted.
pub const DAYS_AHEAD: u64 = 28;

/// An organisation, or a kind of organisation, whose view of the slots is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// For a practice manager: "NHS 111 and other urgent care services", "Y03032 (a GP
    /// practice)", "Our PCN (as its member C81001)".
    pub label: String,
    /// What the organisation sends when it searches.
    pub consumer: Consumer,
}

impl Viewer {
    pub fn nhs111() -> Viewer {
        Viewer {
            label: type_phrase(URGENT_CARE),
            consumer: Consumer::new(Some(URGENT_CARE), None),
        }
    }

    fn of_type(code: &str) -> Viewer {
        Viewer {
            label: type_phrase(code),
            consumer: Consumer::new(Some(code), None),
        }
    }

    /// A named organisation as it searches: a GP practice's code (a letter and 5 digits)
    /// with the GP practice type, any other code alone.
    pub fn named(code: &OdsCode) -> Viewer {
        let b = code.as_str().as_bytes();
        let practice =
            b.len() == 6 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit);
        if practice {
            Viewer {
                label: format!("{code} (a GP practice)"),
                consumer: Consumer::new(Some(GP_PRACTICE), Some(code.clone())),
            }
        } else {
            Viewer {
                label: code.to_string(),
                consumer: Consumer::new(None, Some(code.clone())),
            }
        }
    }

    fn is_nhs111(&self) -> bool {
        self.consumer == Viewer::nhs111().consumer
    }
}

/// One organisation's free slots in the next four weeks, now and after the change.
#[derive(Debug, Clone)]
pub struct ViewerImpact {
    pub viewer: Viewer,
    pub before: usize,
    pub after: usize,
}

impl ViewerImpact {
    /// "will no longer see 44 slots", "will also see 23 slots", "no change".
    pub fn change(&self) -> String {
        let slots = |n: usize| if n == 1 { "slot" } else { "slots" };
        match self.after.cmp(&self.before) {
            std::cmp::Ordering::Less => {
                let n = self.before - self.after;
                format!("will no longer see {n} {}", slots(n))
            }
            std::cmp::Ordering::Greater => {
                let n = self.after - self.before;
                format!("will also see {n} {}", slots(n))
            }
            std::cmp::Ordering::Equal => "no change".into(),
        }
    }
}

/// A change's impact on who can book.
#[derive(Debug, Clone)]
pub struct Impact {
    /// NHS 111 first, then the organisation types, named organisations and groups.
    pub rows: Vec<ViewerImpact>,
    /// The practice's NHS 111 daily minimum (the reports' figure).
    pub nhs111_daily_minimum: i64,
    /// Weekdays of the four weeks that NHS 111 could book at least the minimum on before the
    /// change and not after: (day, free slots after).
    pub days_below_minimum: Vec<(NaiveDate, usize)>,
}

impl Impact {
    pub fn nhs111(&self) -> &ViewerImpact {
        self.rows
            .iter()
            .find(|r| r.viewer.is_nhs111())
            .expect("NHS 111 is always counted")
    }

    /// Slots NHS 111 can book now and not after the change.
    pub fn nhs111_lost(&self) -> usize {
        let n = self.nhs111();
        n.before.saturating_sub(n.after)
    }

    /// Whether saving needs the manager to confirm a second time: NHS 111 loses slots, or
    /// falls below its daily minimum.
    pub fn needs_confirmation(&self) -> bool {
        self.nhs111_lost() > 0 || !self.days_below_minimum.is_empty()
    }

    pub fn changes_anything(&self) -> bool {
        self.rows.iter().any(|r| r.before != r.after)
    }
}

/// The windows of the next four weeks from `today` (local days), each within the query
/// module's 14-day limit.
fn windows(today: NaiveDate) -> [SearchWindow; 2] {
    let window = |first: u64, last: u64| {
        SearchWindow::local_days(today + Days::new(first), today + Days::new(last))
            .expect("14 local days are a valid window")
    };
    [window(0, 13), window(14, DAYS_AHEAD - 1)]
}

fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&London).date_naive()
}

/// The free slots `consumer` can book in the next four weeks, as the query module answers.
fn free_slots_ahead(
    conn: &mut PgConnection,
    practice: PracticeId,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> QueryResult<Vec<query::FreeSlot>> {
    let mut slots = Vec::new();
    for window in windows(today(now)) {
        slots.extend(query::free_slots(conn, practice, &window, consumer, now)?.slots);
    }
    Ok(slots)
}

/// How many free slots of each schedule `consumer` can book in the next four weeks.
pub fn bookable_by_schedule(
    conn: &mut PgConnection,
    practice: PracticeId,
    consumer: &Consumer,
    now: DateTime<Utc>,
) -> QueryResult<HashMap<ScheduleId, usize>> {
    let mut counts = HashMap::new();
    for slot in free_slots_ahead(conn, practice, consumer, now)? {
        *counts.entry(slot.schedule_id).or_default() += 1;
    }
    Ok(counts)
}

#[derive(QueryableByName)]
struct Token {
    #[diesel(sql_type = Text)]
    token: String,
}

/// Everyone whose view is counted: NHS 111, each organisation type, each organisation named
/// in who can book (schedules, and slots of the next four weeks), each group (as its first
/// member), and `extra`, once each.
fn viewers(
    conn: &mut PgConnection,
    practice: PracticeId,
    now: DateTime<Utc>,
    extra: &[Viewer],
) -> QueryResult<Vec<Viewer>> {
    let [first, last] = windows(today(now));
    let tokens: Vec<Token> = diesel::sql_query(
        "SELECT DISTINCT unnest(audiences) AS token FROM schedules WHERE practice_id = $1 \
         UNION SELECT DISTINCT unnest(audiences) FROM slots \
         WHERE practice_id = $1 AND start_at >= $2 AND start_at < $3",
    )
    .bind::<BigInt, _>(practice.0)
    .bind::<Timestamptz, _>(first.start())
    .bind::<Timestamptz, _>(last.end())
    .load(conn)?;
    let named: BTreeSet<OdsCode> = tokens
        .iter()
        .filter_map(|t| Audience::parse_token(&t.token).ok())
        .filter_map(|a| match a.named_part() {
            Some(Named::Ods(c)) => Some(c.clone()),
            _ => None,
        })
        .collect();
    let mut list = vec![Viewer::nhs111(), Viewer::of_type(GP_PRACTICE)];
    list.extend(named.iter().map(Viewer::named));
    for g in groups::list(conn, practice)? {
        let Some(member) = g.members.first().and_then(|m| OdsCode::parse(m).ok()) else {
            continue;
        };
        list.push(Viewer {
            label: format!("{} (as its member {member})", g.name),
            ..Viewer::named(&member)
        });
    }
    list.extend(extra.iter().cloned());
    let mut seen = BTreeSet::new();
    list.retain(|v| {
        seen.insert((
            v.consumer.org_type.clone(),
            v.consumer.ods_code.as_ref().map(|c| c.to_string()),
        ))
    });
    Ok(list)
}

/// Each viewer's free slots, and NHS 111's per local weekday.
struct Counts {
    totals: Vec<usize>,
    nhs111_days: BTreeMap<NaiveDate, usize>,
}

fn count(
    conn: &mut PgConnection,
    practice: PracticeId,
    viewers: &[Viewer],
    now: DateTime<Utc>,
) -> QueryResult<Counts> {
    let mut counts = Counts {
        totals: Vec::with_capacity(viewers.len()),
        nhs111_days: BTreeMap::new(),
    };
    for v in viewers {
        let slots = free_slots_ahead(conn, practice, &v.consumer, now)?;
        if v.is_nhs111() {
            for s in &slots {
                *counts
                    .nhs111_days
                    .entry(s.start.with_timezone(&London).date_naive())
                    .or_default() += 1;
            }
        }
        counts.totals.push(slots.len());
    }
    Ok(counts)
}

fn nhs111_daily_minimum(conn: &mut PgConnection, practice: PracticeId) -> QueryResult<i64> {
    let list_size: i32 = practices::table
        .find(practice)
        .select(practices::list_size)
        .first(conn)?;
    let ratio = settings::nhs111_patients_per_appointment(conn)?;
    Ok(settings::nhs111_daily_minimum(list_size, ratio))
}

fn impact(
    viewers: Vec<Viewer>,
    before: Counts,
    after: Counts,
    minimum: i64,
    now: DateTime<Utc>,
) -> Impact {
    let start = today(now);
    let days_below_minimum = (0..DAYS_AHEAD)
        .map(|d| start + Days::new(d))
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .filter_map(|d| {
            let was = before.nhs111_days.get(&d).copied().unwrap_or(0);
            let will = after.nhs111_days.get(&d).copied().unwrap_or(0);
            let at_least = |n: usize| i64::try_from(n).unwrap_or(i64::MAX) >= minimum;
            (at_least(was) && !at_least(will)).then_some((d, will))
        })
        .collect();
    Impact {
        rows: viewers
            .into_iter()
            .zip(before.totals.into_iter().zip(after.totals))
            .map(|(viewer, (before, after))| ViewerImpact {
                viewer,
                before,
                after,
            })
            .collect(),
        nhs111_daily_minimum: minimum,
        days_below_minimum,
    }
}

/// Why [`measure`] left a transaction.
enum Abort<E> {
    /// The change was measured and is not kept.
    RolledBack,
    Failed(E),
    Database(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Abort<E> {
    fn from(e: diesel::result::Error) -> Self {
        Abort::Database(e)
    }
}

/// Runs `change` in a transaction between two counts; keeps it when `keep` says so for its
/// impact. Returns the change's result, its impact and whether it was kept.
fn measure<T, E>(
    conn: &mut PgConnection,
    practice: PracticeId,
    now: DateTime<Utc>,
    extra: &[Viewer],
    keep: impl FnOnce(&Impact) -> bool,
    change: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<(T, Impact, bool), E>
where
    E: From<diesel::result::Error>,
{
    let mut measured = None;
    let result = conn.transaction(|conn| -> Result<(), Abort<E>> {
        let viewers = viewers(conn, practice, now, extra)?;
        let minimum = nhs111_daily_minimum(conn, practice)?;
        let before = count(conn, practice, &viewers, now)?;
        let value = change(conn).map_err(Abort::Failed)?;
        let after = count(conn, practice, &viewers, now)?;
        let impact = impact(viewers, before, after, minimum, now);
        let kept = keep(&impact);
        measured = Some((value, impact, kept));
        if kept { Ok(()) } else { Err(Abort::RolledBack) }
    });
    match result {
        Ok(()) | Err(Abort::RolledBack) => Ok(measured.expect("measured before leaving")),
        Err(Abort::Failed(e)) => Err(e),
        Err(Abort::Database(e)) => Err(e.into()),
    }
}

/// What `change` would do, without doing it: it runs, is counted, and is rolled back.
/// `extra` adds organisations to count (say, the codes a change names for the first time).
pub fn dry_run<T, E>(
    conn: &mut PgConnection,
    practice: PracticeId,
    now: DateTime<Utc>,
    extra: &[Viewer],
    change: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<(T, Impact), E>
where
    E: From<diesel::result::Error>,
{
    measure(conn, practice, now, extra, |_| false, change).map(|(t, impact, _)| (t, impact))
}

/// A change refused because it needs a second confirmation the manager has not given.
#[derive(Debug)]
pub struct NotConfirmed(pub Impact);

/// Saves `change` with its impact, unless it [needs confirmation](Impact::needs_confirmation)
/// and `confirmed` is false: then nothing is changed and the impact comes back as refused.
pub fn apply<T, E>(
    conn: &mut PgConnection,
    practice: PracticeId,
    now: DateTime<Utc>,
    extra: &[Viewer],
    confirmed: bool,
    change: impl FnOnce(&mut PgConnection) -> Result<T, E>,
) -> Result<Result<(T, Impact), NotConfirmed>, E>
where
    E: From<diesel::result::Error>,
{
    let (value, impact, kept) = measure(
        conn,
        practice,
        now,
        extra,
        |i| confirmed || !i.needs_confirmation(),
        change,
    )?;
    Ok(if kept {
        Ok((value, impact))
    } else {
        Err(NotConfirmed(impact))
    })
}

/// The organisations named in `audiences`, to count them even before they are saved.
pub fn named_in<'a>(audiences: impl IntoIterator<Item = &'a Audience>) -> Vec<Viewer> {
    audiences
        .into_iter()
        .filter_map(|a| match a.named_part() {
            Some(Named::Ods(c)) => Some(Viewer::named(c)),
            _ => None,
        })
        .collect()
}
