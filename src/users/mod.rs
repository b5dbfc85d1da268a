//! Users of the admin UI, their per-practice roles, and argon2id password hashing; what a
//! password must be in [`password`]; a practice's own users, as its admins manage them, in
//! [`practice`].

pub mod password;
pub mod practice;

use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use diesel::prelude::*;
use serde::Serialize;

use crate::change_log::{self, Actor, Change};
use crate::db::ids::{PracticeId, UserId};
use crate::db::schema::{user_practices, users};

pub use password::PasswordProblem;

/// What a user may do at a practice. Ordered: each role can do what the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Manager,
    Admin,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Manager, Role::Admin]
            .into_iter()
            .find(|r| r.code() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(
        "username must be 3 to 64 characters: lower-case letters, digits, '.', '_', '@' or '-'"
    )]
    BadUsername,
    #[error(transparent)]
    Password(#[from] PasswordProblem),
    #[error("the current password is not right")]
    WrongPassword,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// An argon2id hash (the crate's default parameters: m=19456 KiB, t=2, p=1, OWASP's setting).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    })
}

pub fn valid_username(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._@-".contains(&b))
}

/// Ends every session of `user`, wherever signed in: after a password reset or change,
/// whoever knew the old password is signed out.
pub fn end_sessions(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM admin_sessions WHERE state->>'uid' = $1")
        .bind::<diesel::sql_types::Text, _>(user.0.to_string())
        .execute(conn)
}

/// Changes the user's own password: the current one must be right, the new one must pass
/// [`password::check`]. Ends all the user's sessions (the caller renews its own); one
/// change-log row (no hash in it).
pub fn change_own_password(
    conn: &mut PgConnection,
    actor: &Actor,
    user: UserId,
    current: &str,
    new: &str,
) -> Result<(), UserError> {
    let (username, stored): (String, String) = users::table
        .find(user)
        .select((users::username, users::password_hash))
        .first(conn)?;
    if !verify_password(current, &stored) {
        return Err(UserError::WrongPassword);
    }
    password::check(new, &username)?;
    let hash = hash_password(new)?;
    conn.transaction(|conn| {
        diesel::update(users::table.find(user))
            .set(users::password_hash.eq(&hash))
            .execute(conn)?;
        let ended = end_sessions(conn, user)?;
        change_log::record(
            conn,
            actor,
            Change::new("change-password", "user")
                .entity(user.0)
                .after(serde_json::json!({ "username": username, "sessions_ended": ended })),
        )?;
        Ok(())
    })
}

/// Creates a user with a role at each given practice, or, when the username exists, resets its
/// password (ending all its sessions) and adds or changes those roles.
pub fn upsert(
    conn: &mut PgConnection,
    actor: &Actor,
    username: &str,
    display_name: &str,
    password: &str,
    roles: &[(PracticeId, Role)],
) -> Result<UserId, UserError> {
    if !valid_username(username) {
        return Err(UserError::BadUsername);
    }
    password::check(password, username)?;
    let hash = hash_password(password)?;
    conn.transaction::<_, UserError, _>(|conn| {
        let existing: Option<UserId> = users::table
            .filter(users::username.eq(username))
            .select(users::id)
            .for_update()
            .first(conn)
            .optional()?;
        let id: UserId = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::display_name.eq(display_name),
                users::password_hash.eq(&hash),
            ))
            .on_conflict(users::username)
            .do_update()
            .set((
                users::display_name.eq(display_name),
                users::password_hash.eq(&hash),
            ))
            .returning(users::id)
            .get_result(conn)?;
        if existing.is_some() {
            let ended = end_sessions(conn, id)?;
            change_log::record(
                conn,
                actor,
                Change::new("reset-password", "user")
                    .entity(id.0)
                    .after(serde_json::json!({ "username": username, "sessions_ended": ended })),
            )?;
        }
        for (practice, role) in roles {
            diesel::insert_into(user_practices::table)
                .values((
                    user_practices::user_id.eq(id),
                    user_practices::practice_id.eq(practice),
                    user_practices::role.eq(role.code()),
                ))
                .on_conflict((user_practices::user_id, user_practices::practice_id))
                .do_update()
                .set(user_practices::role.eq(role.code()))
                .execute(conn)?;
            change_log::record(
                conn,
                actor,
                Change::new("grant", "user")
                    .practice(*practice)
                    .entity(id.0)
                    .after(serde_json::json!({ "username": username, "role": role })),
            )?;
        }
        Ok(id)
    })
}
