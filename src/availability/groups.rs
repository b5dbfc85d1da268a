//! Organisation groups: a practice's named sets of ODS codes ("Our PCN", "Federation hubs") that
//! schedules and slots can be made bookable by. The query module resolves membership at search
//! time, so editing a group changes what its members see at once.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::audience::{Audience, Audiences, Named};
use super::codes::OdsCode;
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{GroupId, PracticeId, ScheduleId, SlotId};
use crate::db::schema::{org_group_members, org_groups, schedules, slots};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgGroup {
    pub id: GroupId,
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error("a group needs a name")]
    NoName,
    #[error("this practice already has a group called '{0}'")]
    DuplicateName(String),
    #[error("no such group at this practice")]
    NotFound,
    #[error("{0} is already a member of this group")]
    AlreadyMember(String),
    #[error("{0} is not a member of this group (any more): reload the page to see its members")]
    NotMember(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// The practice's groups with their members, by name.
pub fn list(conn: &mut PgConnection, practice: PracticeId) -> QueryResult<Vec<OrgGroup>> {
    let groups: Vec<(GroupId, String)> = org_groups::table
        .filter(org_groups::practice_id.eq(practice))
        .order(org_groups::name)
        .select((org_groups::id, org_groups::name))
        .load(conn)?;
    let members: Vec<(GroupId, String)> = org_group_members::table
        .filter(org_group_members::group_id.eq_any(groups.iter().map(|g| g.0)))
        .order(org_group_members::ods_code)
        .select((org_group_members::group_id, org_group_members::ods_code))
        .load(conn)?;
    Ok(groups
        .into_iter()
        .map(|(id, name)| OrgGroup {
            id,
            name,
            members: members
                .iter()
                .filter(|m| m.0 == id)
                .map(|m| m.1.clone())
                .collect(),
        })
        .collect())
}

/// One group of the practice, with its members.
pub fn get(
    conn: &mut PgConnection,
    practice: PracticeId,
    id: GroupId,
) -> Result<OrgGroup, GroupError> {
    list(conn, practice)?
        .into_iter()
        .find(|g| g.id == id)
        .ok_or(GroupError::NotFound)
}

/// Creates a group (`id` None) or renames it and replaces its members, in one transaction.
pub fn save(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: Option<GroupId>,
    name: &str,
    members: &[OdsCode],
) -> Result<GroupId, GroupError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(GroupError::NoName);
    }
    conn.transaction(|conn| {
        let taken = org_groups::table
            .filter(org_groups::practice_id.eq(practice))
            .filter(org_groups::name.eq(name))
            .select(org_groups::id)
            .first::<GroupId>(conn)
            .optional()?;
        if taken.is_some_and(|t| Some(t) != id) {
            return Err(GroupError::DuplicateName(name.to_owned()));
        }
        let before = id.map(|id| get(conn, practice, id)).transpose()?;
        let id = match id {
            Some(id) => {
                diesel::update(org_groups::table.find(id))
                    .set(org_groups::name.eq(name))
                    .execute(conn)?;
                diesel::delete(org_group_members::table.filter(org_group_members::group_id.eq(id)))
                    .execute(conn)?;
                id
            }
            None => diesel::insert_into(org_groups::table)
                .values((
                    org_groups::practice_id.eq(practice),
                    org_groups::name.eq(name),
                ))
                .returning(org_groups::id)
                .get_result(conn)?,
        };
        let mut codes: Vec<&str> = members.iter().map(OdsCode::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        diesel::insert_into(org_group_members::table)
            .values(
                codes
                    .iter()
                    .map(|c| {
                        (
                            org_group_members::group_id.eq(id),
                            org_group_members::ods_code.eq(*c),
                        )
                    })
                    .collect::<Vec<_>>(),
            )
            .execute(conn)?;
        let after = get(conn, practice, id)?;
        change_log::record(
            conn,
            actor,
            Change::new(
                if before.is_some() { "update" } else { "create" },
                "org_group",
            )
            .practice(practice)
            .entity(id.0)
            .before(before.map(|g| json!(g)))
            .after(json!(after)),
        )?;
        Ok(id)
    })
}

/// Adds one organisation to a group (refused when it is a member already), audited.
pub fn add_member(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: GroupId,
    code: &OdsCode,
) -> Result<(), GroupError> {
    conn.transaction(|conn| {
        let before = get(conn, practice, id)?;
        if before.members.iter().any(|m| m == code.as_str()) {
            return Err(GroupError::AlreadyMember(code.to_string()));
        }
        diesel::insert_into(org_group_members::table)
            .values((
                org_group_members::group_id.eq(id),
                org_group_members::ods_code.eq(code.as_str()),
            ))
            .execute(conn)?;
        record_members(conn, actor, practice, "add_member", before)
    })
}

/// Takes one organisation out of a group (refused when it is not a member), audited.
pub fn remove_member(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    id: GroupId,
    code: &OdsCode,
) -> Result<(), GroupError> {
    conn.transaction(|conn| {
        let before = get(conn, practice, id)?;
        let removed = diesel::delete(
            org_group_members::table
                .filter(org_group_members::group_id.eq(id))
                .filter(org_group_members::ods_code.eq(code.as_str())),
        )
        .execute(conn)?;
        if removed == 0 {
            return Err(GroupError::NotMember(code.to_string()));
        }
        record_members(conn, actor, practice, "remove_member", before)
    })
}

/// The change-log row of a change to a group's members.
fn record_members(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    action: &str,
    before: OrgGroup,
) -> Result<(), GroupError> {
    let after = get(conn, practice, before.id)?;
    change_log::record(
        conn,
        actor,
        Change {
            practice: Some(practice),
            action,
            entity: "org_group",
            entity_id: Some(before.id.0),
            before: Some(json!(before)),
            after: Some(json!(after)),
        },
    )?;
    Ok(())
}

/// A schedule or slot whose audiences a change sets.
pub enum Target {
    Schedule(ScheduleId),
    /// A slot's audiences apply only while it overrides its schedule's bookability.
    Slot(SlotId),
}

/// Sets the groups a schedule or slot is bookable by, as audiences of their own ("and also the
/// members of Our PCN"), keeping its other audiences; every group must be the practice's own.
pub fn set_bookable_groups(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    target: Target,
    groups: &[GroupId],
) -> Result<(), GroupError> {
    conn.transaction(|conn| {
        let own: i64 = org_groups::table
            .filter(org_groups::practice_id.eq(practice))
            .filter(org_groups::id.eq_any(groups))
            .count()
            .get_result(conn)?;
        let mut ids: Vec<GroupId> = groups.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if own != ids.len() as i64 {
            return Err(GroupError::NotFound);
        }
        let with_groups = |before: &[String]| -> Result<Vec<String>, GroupError> {
            let before = Audiences::from_tokens(before).map_err(|_| GroupError::NotFound)?;
            let kept = before
                .iter()
                .filter(|a| {
                    !(a.type_code().is_none() && matches!(a.named_part(), Some(Named::Group(_))))
                })
                .cloned();
            Ok(Audiences::new(
                kept.chain(ids.iter().map(|g| Audience::group(*g)))
                    .collect(),
            )
            .tokens())
        };
        let (entity, entity_id, before, after): (&str, i64, Vec<String>, Vec<String>) = match target
        {
            Target::Schedule(id) => {
                let before: Vec<String> = schedules::table
                    .filter(schedules::practice_id.eq(practice))
                    .find(id)
                    .select(schedules::audiences)
                    .first(conn)
                    .optional()?
                    .ok_or(GroupError::NotFound)?;
                let after = with_groups(&before)?;
                diesel::update(schedules::table.find(id))
                    .set((
                        schedules::audiences.eq(&after),
                        schedules::version.eq(schedules::version + 1),
                    ))
                    .execute(conn)?;
                ("schedule", id.0, before, after)
            }
            Target::Slot(id) => {
                let before: Vec<String> = slots::table
                    .filter(slots::practice_id.eq(practice))
                    .find(id)
                    .select(slots::audiences)
                    .first(conn)
                    .optional()?
                    .ok_or(GroupError::NotFound)?;
                let after = with_groups(&before)?;
                diesel::update(slots::table.find(id))
                    .set((
                        slots::audiences.eq(&after),
                        slots::version.eq(slots::version + 1),
                    ))
                    .execute(conn)?;
                ("slot", id.0, before, after)
            }
        };
        change_log::record(
            conn,
            actor,
            Change::new("set_groups", entity)
                .practice(practice)
                .entity(entity_id)
                .before(json!({ "audiences": before }))
                .after(json!({ "audiences": after })),
        )?;
        Ok(())
    })
}
