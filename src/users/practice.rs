//! A practice's users: who has which role there, managed by the practice's admins. An admin sees and changes only the people of their own practice: a user who belongs
//! to another practice only is "not found", and no one's password is ever reset from here.

use diesel::prelude::*;
use serde::Serialize;
use serde_json::json;

use super::{Role, UserError};
use crate::change_log::{self, Actor, Change};
use crate::db::ids::{PracticeId, UserId};
use crate::db::schema::{user_practices, users as user_table};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PracticeUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum PracticeUserError {
    #[error("not found")]
    NotFound,
    #[error("that username is taken: choose another")]
    UsernameTaken,
    #[error(transparent)]
    Invalid(UserError),
    #[error("you can't change or remove your own access: ask another admin")]
    OwnAccess,
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

impl From<UserError> for PracticeUserError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Database(e) => PracticeUserError::Database(e),
            other => PracticeUserError::Invalid(other),
        }
    }
}

/// The practice's users with their roles there, by username.
pub fn list(conn: &mut PgConnection, practice: PracticeId) -> QueryResult<Vec<PracticeUser>> {
    let rows: Vec<(UserId, String, String, String)> = user_table::table
        .inner_join(user_practices::table)
        .filter(user_practices::practice_id.eq(practice))
        .order(user_table::username)
        .select((
            user_table::id,
            user_table::username,
            user_table::display_name,
            user_practices::role,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, username, display_name, role)| {
            Some(PracticeUser {
                id,
                username,
                display_name,
                role: Role::parse(&role)?,
            })
        })
        .collect())
}

/// Creates a new user with a role at this practice. An existing username is refused, never
/// taken over.
pub fn add_new(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    username: &str,
    display_name: &str,
    password: &str,
    role: Role,
) -> Result<UserId, PracticeUserError> {
    if !super::valid_username(username) {
        return Err(PracticeUserError::Invalid(UserError::BadUsername));
    }
    super::password::check(password, username).map_err(UserError::from)?;
    let hash = super::hash_password(password)?;
    conn.transaction(|conn| {
        let id: Option<UserId> = diesel::insert_into(user_table::table)
            .values((
                user_table::username.eq(username),
                user_table::display_name.eq(display_name),
                user_table::password_hash.eq(&hash),
            ))
            .on_conflict_do_nothing()
            .returning(user_table::id)
            .get_result(conn)
            .optional()?;
        let id = id.ok_or(PracticeUserError::UsernameTaken)?;
        diesel::insert_into(user_practices::table)
            .values((
                user_practices::user_id.eq(id),
                user_practices::practice_id.eq(practice),
                user_practices::role.eq(role.code()),
            ))
            .execute(conn)?;
        change_log::record(
            conn,
            actor,
            Change::new("grant", "user")
                .practice(practice)
                .entity(id.0)
                .after(json!({ "username": username, "role": role })),
        )?;
        Ok(id)
    })
}

/// Changes a user's role at this practice, or (`None`) removes their access to it.
pub fn set_role(
    conn: &mut PgConnection,
    actor: &Actor,
    practice: PracticeId,
    user: UserId,
    role: Option<Role>,
) -> Result<(), PracticeUserError> {
    if actor.user == Some(user) {
        return Err(PracticeUserError::OwnAccess);
    }
    conn.transaction(|conn| {
        let (username, before): (String, String) = user_table::table
            .inner_join(user_practices::table)
            .filter(user_practices::practice_id.eq(practice))
            .filter(user_practices::user_id.eq(user))
            .select((user_table::username, user_practices::role))
            .for_update()
            .first(conn)
            .optional()?
            .ok_or(PracticeUserError::NotFound)?;
        let row = user_practices::table
            .filter(user_practices::practice_id.eq(practice))
            .filter(user_practices::user_id.eq(user));
        match role {
            Some(r) if r.code() == before => return Ok(()),
            Some(r) => {
                diesel::update(row)
                    .set(user_practices::role.eq(r.code()))
                    .execute(conn)?;
            }
            None => {
                diesel::delete(row).execute(conn)?;
            }
        }
        change_log::record(
            conn,
            actor,
            Change::new(
                if role.is_some() {
                    "change-role"
                } else {
                    "revoke"
                },
                "user",
            )
            .practice(practice)
            .entity(user.0)
            .before(json!({ "username": username, "role": before }))
            .after(role.map(|r| json!({ "username": username, "role": r }))),
        )?;
        Ok(())
    })
}
