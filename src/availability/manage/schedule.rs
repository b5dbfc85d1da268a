//! A schedule's settings: reading one, the names of all, and saving the schedule form.

use diesel::prelude::*;

use crate::availability::audience::Audiences;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use serde::Serialize;
use serde_json::{Value, json};

use super::{EditError, ScheduleState, Undo};
use crate::availability::codes::{DeliveryChannel, PractitionerRole};
use crate::availability::rules::{Bookability, Exposable, Refusal, check_can_be_bookable};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{PracticeId, ScheduleId};
use crate::db::schema::schedules;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A schedule as the admin UI shows and edits it.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = schedules)]
pub struct ScheduleRecord {
    pub id: ScheduleId,
    pub practice_id: PracticeId,
    pub external_id: String,
    pub schedule_type: Option<String>,
    pub practitioner_role: Option<String>,
    pub delivery_channel: Option<String>,
    pub gpc_bookable: bool,
    pub audiences: Audiences,
    pub version: i32,
}

/// The name the admin UI shows for a schedule: its schedule type, else its clinical system id.
fn schedule_display_name(schedule_type: Option<&str>, external_id: &str) -> String {
    schedule_type.map_or_else(|| format!("Schedule {external_id}"), str::to_owned)
}

impl ScheduleRecord {
    pub fn name(&self) -> String {
        schedule_display_name(self.schedule_type.as_deref(), &self.external_id)
    }

    fn audit_state(&self) -> Value {
        json!({
            "gpc_bookable": self.gpc_bookable,
            "audiences": self.audiences,
            "practitioner_role": self.practitioner_role,
            "delivery_channel": self.delivery_channel,
            "schedule_type": self.schedule_type,
            "version": self.version,
        })
    }
}

/// What the schedule form sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    pub bookability: Bookability,
    pub practitioner_role: Option<PractitionerRole>,
    pub delivery_channel: Option<DeliveryChannel>,
    pub schedule_type: Option<String>,
}

pub fn schedule(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: ScheduleId,
) -> QueryResult<Option<ScheduleRecord>> {
    schedules::table
        .filter(schedules::id.eq(id))
        .filter(schedules::practice_id.eq(practice))
        .select(ScheduleRecord::as_select())
        .first(conn)
        .optional()
}

/// Sets a schedule's bookability, role, channel and type, if `expected_version` is still its
/// version. Returns the schedule as saved and what it replaced (None: nothing changed).
pub fn update_schedule(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: ScheduleId,
    expected_version: i32,
    settings: &ScheduleSettings,
) -> Result<(ScheduleRecord, Option<Undo>), EditError> {
    conn.transaction(|conn| {
        let before: ScheduleRecord = schedules::table
            .filter(schedules::id.eq(id))
            .filter(schedules::practice_id.eq(practice))
            .select(ScheduleRecord::as_select())
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(EditError::NotFound)?;
        if before.version != expected_version {
            return Err(EditError::Stale);
        }
        let channel = settings.delivery_channel.map(DeliveryChannel::code);
        let role = settings.practitioner_role.map(|r| r.code());
        if settings.bookability.bookable {
            check_can_be_bookable(&Exposable {
                channel: settings.delivery_channel,
                practitioner_role: role,
                slot_type: None,
            })
            .map_err(EditError::Refused)?;
        }
        // Slots that would become bookable Visit slots through this schedule.
        let visit_slots: Count = diesel::sql_query(
            "SELECT count(*) AS n FROM slots WHERE schedule_id = $1 \
             AND COALESCE(delivery_channel, $2) = 'Visit' AND COALESCE(gpc_bookable, $3)",
        )
        .bind::<BigInt, _>(id.0)
        .bind::<Nullable<Text>, _>(channel)
        .bind::<Bool, _>(settings.bookability.bookable)
        .get_result(conn)?;
        if visit_slots.n > 0 {
            return Err(EditError::Refused(Refusal::Visit));
        }
        let audiences = &settings.bookability.audiences;
        let unchanged = before.gpc_bookable == settings.bookability.bookable
            && before.audiences == *audiences
            && before.practitioner_role.as_deref() == role
            && before.delivery_channel.as_deref() == channel
            && before.schedule_type == settings.schedule_type;
        if unchanged {
            return Ok((before, None));
        }
        let after: ScheduleRecord = diesel::update(schedules::table.find(id))
            .set((
                schedules::gpc_bookable.eq(settings.bookability.bookable),
                schedules::audiences.eq(audiences),
                schedules::practitioner_role.eq(role),
                schedules::delivery_channel.eq(channel),
                schedules::schedule_type.eq(&settings.schedule_type),
                schedules::version.eq(schedules::version + 1),
            ))
            .returning(ScheduleRecord::as_returning())
            .get_result(conn)?;
        change_log::record(
            conn,
            actor,
            Change::edit(practice, "update", "schedule", id.0)
                .before(before.audit_state())
                .after(after.audit_state()),
        )?;
        let undo = Undo::Schedule {
            id,
            version: after.version,
            before: ScheduleState::of(&before),
        };
        Ok((after, Some(undo)))
    })
}

/// Every schedule of a practice with its name, in the schedules list's order.
pub fn schedule_names(
    conn: &mut PgConnection,
    practice: PracticeId,
) -> QueryResult<Vec<(ScheduleId, String)>> {
    let rows: Vec<(ScheduleId, Option<String>, String)> = schedules::table
        .filter(schedules::practice_id.eq(practice))
        .order((schedules::schedule_type, schedules::id))
        .select((
            schedules::id,
            schedules::schedule_type,
            schedules::external_id,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, external)| (id, schedule_display_name(kind.as_deref(), &external)))
        .collect())
}
