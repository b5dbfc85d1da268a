//! Undoing a save: the settings a save replaced, kept by the save itself, restored in one
//! transaction with one change-log row ("undo"), and refused when any of the records changed
//! since (its version is no longer the one the save left).

use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{EditError, ScheduleRecord};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{GroupId, PracticeId, ScheduleId, SlotId};
use crate::db::schema::{org_group_members, org_groups, schedules, slots};

/// What a save replaced, and the versions it left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Undo {
    Schedule {
        id: ScheduleId,
        /// The version the save left.
        version: i32,
        before: ScheduleState,
    },
    /// One slot's own setting (the slot page) or many (a bulk edit).
    Slots(Vec<SlotUndo>),
    /// An organisation added to a group (`added`), or taken out of it.
    GroupMember {
        group: GroupId,
        code: String,
        added: bool,
    },
}

/// A schedule's settings as the schedule form sets them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleState {
    pub gpc_bookable: bool,
    /// Audience tokens, as stored.
    pub audiences: Vec<String>,
    pub practitioner_role: Option<String>,
    pub delivery_channel: Option<String>,
    pub schedule_type: Option<String>,
}

impl ScheduleState {
    pub(super) fn of(s: &ScheduleRecord) -> ScheduleState {
        ScheduleState {
            gpc_bookable: s.gpc_bookable,
            audiences: s.audiences.tokens(),
            practitioner_role: s.practitioner_role.clone(),
            delivery_channel: s.delivery_channel.clone(),
            schedule_type: s.schedule_type.clone(),
        }
    }
}

/// A slot's own setting before a save (`gpc_bookable` None: it followed its schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotUndo {
    pub id: SlotId,
    /// The version the save left.
    pub version: i32,
    pub gpc_bookable: Option<bool>,
    /// Audience tokens, as stored.
    pub audiences: Vec<String>,
}

/// Restores what `undo` kept, all of it or (when anything changed since) none.
pub fn undo(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    undo: &Undo,
) -> Result<(), EditError> {
    conn.transaction(|conn| match undo {
        Undo::Schedule {
            id,
            version,
            before,
        } => {
            let now: ScheduleRecord = schedules::table
                .filter(schedules::id.eq(*id))
                .filter(schedules::practice_id.eq(practice))
                .select(ScheduleRecord::as_select())
                .for_update()
                .first(conn)
                .optional()?
                .ok_or(EditError::NotFound)?;
            if now.version != *version {
                return Err(EditError::Stale);
            }
            diesel::update(schedules::table.find(*id))
                .set((
                    schedules::gpc_bookable.eq(before.gpc_bookable),
                    schedules::audiences.eq(&before.audiences),
                    schedules::practitioner_role.eq(&before.practitioner_role),
                    schedules::delivery_channel.eq(&before.delivery_channel),
                    schedules::schedule_type.eq(&before.schedule_type),
                    schedules::version.eq(schedules::version + 1),
                ))
                .execute(conn)?;
            change_log::record(
                conn,
                actor,
                Change::edit(practice, "undo", "schedule", id.0)
                    .before(json!(ScheduleState::of(&now)))
                    .after(json!(before)),
            )?;
            Ok(())
        }
        Undo::Slots(list) => {
            let ids: Vec<i64> = list.iter().map(|s| s.id.0).collect();
            let now: Vec<(SlotId, Option<bool>, Vec<String>, i32)> = slots::table
                .filter(slots::practice_id.eq(practice))
                .filter(slots::id.eq_any(&ids))
                .select((
                    slots::id,
                    slots::gpc_bookable,
                    slots::audiences,
                    slots::version,
                ))
                .for_update()
                .load(conn)?;
            let unchanged = now.len() == list.len()
                && list
                    .iter()
                    .all(|u| now.iter().any(|n| n.0 == u.id && n.3 == u.version));
            if !unchanged {
                return Err(EditError::Stale);
            }
            for u in list {
                diesel::update(slots::table.find(u.id))
                    .set((
                        slots::gpc_bookable.eq(u.gpc_bookable),
                        slots::audiences.eq(&u.audiences),
                        slots::version.eq(slots::version + 1),
                    ))
                    .execute(conn)?;
            }
            let state = |id: SlotId, bookable: &Option<bool>, audiences: &Vec<String>| {
                json!({ "slot": id, "gpc_bookable": bookable, "audiences": audiences })
            };
            change_log::record(
                conn,
                actor,
                Change {
                    practice: Some(practice),
                    action: "undo",
                    entity: "slot",
                    entity_id: (list.len() == 1).then(|| list[0].id.0),
                    before: Some(json!(
                        now.iter()
                            .map(|n| state(n.0, &n.1, &n.2))
                            .collect::<Vec<_>>()
                    )),
                    after: Some(json!(
                        list.iter()
                            .map(|u| state(u.id, &u.gpc_bookable, &u.audiences))
                            .collect::<Vec<_>>()
                    )),
                },
            )?;
            Ok(())
        }
        Undo::GroupMember { group, code, added } => {
            let ours: i64 = org_groups::table
                .filter(org_groups::practice_id.eq(practice))
                .filter(org_groups::id.eq(*group))
                .count()
                .get_result(conn)?;
            if ours == 0 {
                return Err(EditError::NotFound);
            }
            let member = org_group_members::table
                .filter(org_group_members::group_id.eq(*group))
                .filter(org_group_members::ods_code.eq(code));
            let restored = if *added {
                diesel::delete(member).execute(conn)?
            } else {
                diesel::insert_into(org_group_members::table)
                    .values((
                        org_group_members::group_id.eq(*group),
                        org_group_members::ods_code.eq(code),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)?
            };
            if restored == 0 {
                return Err(EditError::Stale);
            }
            let state = |member: bool| json!({ "member": code, "in_group": member });
            change_log::record(
                conn,
                actor,
                Change::edit(practice, "undo", "org_group", group.0)
                    .before(state(*added))
                    .after(state(!*added)),
            )?;
            Ok(())
        }
    })
}
