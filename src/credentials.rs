//! Credentials of the practices' own systems for the JSON API: each is issued for the practices
//! one system serves, kept only as a SHA-256 of its secret, and can be revoked. Issuing,
//! revoking and each use are recorded in the change log.
//!
//! A secret is 32 random bytes (base64url, prefixed `bk_`), so a plain SHA-256 is enough to store
//! it: there is nothing to guess that a slow hash would protect.

use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::change_log::{self, Actor, Change};
use crate::db::ids::{CredentialId, PracticeId};
use crate::db::schema::{api_credential_practices as cp, api_credentials as c, practices};

/// A credential as listed: never its secret.
#[derive(Debug, Clone, Queryable)]
pub struct Credential {
    pub id: CredentialId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A credential with the ODS codes of the practices it may act for.
#[derive(Debug, Clone)]
pub struct Listed {
    pub credential: Credential,
    pub practices: Vec<String>,
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Issues a credential for `practices`; the secret is returned once and never stored.
pub fn issue(
    conn: &mut PgConnection,
    actor: &Actor,
    name: &str,
    for_practices: &[PracticeId],
) -> QueryResult<(CredentialId, String)> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!(
        "bk_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    conn.transaction(|conn| {
        let id: CredentialId = diesel::insert_into(c::table)
            .values((
                c::name.eq(name.trim()),
                c::secret_sha256.eq(digest(&secret)),
            ))
            .returning(c::id)
            .get_result(conn)?;
        for &p in for_practices {
            diesel::insert_into(cp::table)
                .values((cp::credential_id.eq(id), cp::practice_id.eq(p)))
                .on_conflict_do_nothing()
                .execute(conn)?;
            change_log::record(
                conn,
                actor,
                Change::new("issue", "api_credential")
                    .practice(p)
                    .entity(id.0)
                    .after(json!({ "name": name.trim() })),
            )?;
        }
        Ok((id, secret))
    })
}

/// Revokes a credential at once; false if there is none with that id (or it was revoked).
pub fn revoke(conn: &mut PgConnection, actor: &Actor, id: CredentialId) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let revoked = diesel::update(c::table.find(id).filter(c::revoked_at.is_null()))
            .set(c::revoked_at.eq(Utc::now()))
            .execute(conn)?
            == 1;
        if revoked {
            for p in practices_of(conn, id)? {
                change_log::record(
                    conn,
                    actor,
                    Change::new("revoke", "api_credential")
                        .practice(p)
                        .entity(id.0),
                )?;
            }
        }
        Ok(revoked)
    })
}

fn practices_of(conn: &mut PgConnection, id: CredentialId) -> QueryResult<Vec<PracticeId>> {
    cp::table
        .filter(cp::credential_id.eq(id))
        .select(cp::practice_id)
        .load(conn)
}

const COLUMNS: (
    c::id,
    c::name,
    c::created_at,
    c::revoked_at,
    c::last_used_at,
) = (
    c::id,
    c::name,
    c::created_at,
    c::revoked_at,
    c::last_used_at,
);

/// Every credential, or those of one practice, newest first.
pub fn list(conn: &mut PgConnection, practice: Option<PracticeId>) -> QueryResult<Vec<Listed>> {
    let mut query = c::table.select(COLUMNS).order(c::id.desc()).into_boxed();
    if let Some(p) = practice {
        query = query.filter(
            c::id.eq_any(
                cp::table
                    .filter(cp::practice_id.eq(p))
                    .select(cp::credential_id),
            ),
        );
    }
    let credentials: Vec<Credential> = query.load(conn)?;
    let ids: Vec<CredentialId> = credentials.iter().map(|c| c.id).collect();
    let links: Vec<(CredentialId, String)> = cp::table
        .inner_join(practices::table)
        .filter(cp::credential_id.eq_any(&ids))
        .select((cp::credential_id, practices::ods_code))
        .order(practices::ods_code)
        .load(conn)?;
    Ok(credentials
        .into_iter()
        .map(|credential| Listed {
            practices: links
                .iter()
                .filter(|(id, _)| *id == credential.id)
                .map(|(_, ods)| ods.clone())
                .collect(),
            credential,
        })
        .collect())
}

/// What a presented secret may do at `practice`.
#[derive(Debug)]
pub enum Authorised {
    /// A live credential for this practice; its use is recorded.
    Yes(Actor),
    /// A live credential, but not for this practice.
    OtherPractice,
    /// No live credential has this secret.
    Unknown,
}

/// Checks `secret` for `practice`, and records the use of a credential that may act for it.
pub fn authorise(
    conn: &mut PgConnection,
    secret: &str,
    practice: PracticeId,
) -> QueryResult<Authorised> {
    let found: Option<(CredentialId, String)> = c::table
        .filter(c::secret_sha256.eq(digest(secret)))
        .filter(c::revoked_at.is_null())
        .select((c::id, c::name))
        .first(conn)
        .optional()?;
    let Some((id, name)) = found else {
        return Ok(Authorised::Unknown);
    };
    if !practices_of(conn, id)?.contains(&practice) {
        return Ok(Authorised::OtherPractice);
    }
    diesel::update(c::table.find(id))
        .set(c::last_used_at.eq(Utc::now()))
        .execute(conn)?;
    Ok(Authorised::Yes(Actor::system(&format!(
        "practice system '{name}' (credential {id})"
    ))))
}
