//! actix-session state kept in PostgreSQL, keyed by a SHA-256 of the session key: the key itself
//! lives only in the user's (encrypted) cookie.

use std::collections::HashMap;

use actix_session::storage::{
    LoadError, SaveError, SessionKey, SessionStore, UpdateError, generate_session_key,
};
use actix_web::cookie::time::Duration;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbPool;
use crate::db::schema::admin_sessions;

#[derive(Clone)]
pub struct PgSessionStore {
    pool: DbPool,
}

impl PgSessionStore {
    pub fn new(pool: DbPool) -> Self {
        PgSessionStore { pool }
    }

    async fn run<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection) -> anyhow::Result<T> + Send + 'static,
    {
        crate::db::run(&self.pool, f).await
    }
}

fn key_hash(key: &SessionKey) -> Vec<u8> {
    Sha256::digest(key.as_ref().as_bytes()).to_vec()
}

fn expiry(ttl: &Duration) -> DateTime<Utc> {
    Utc::now() + TimeDelta::seconds(ttl.whole_seconds())
}

/// Deletes every session whose time is up (they are refused from then on regardless): run on
/// a schedule by the admin housekeeping, never by a page load.
pub fn purge_expired(conn: &mut PgConnection) -> anyhow::Result<usize> {
    Ok(
        diesel::delete(admin_sessions::table.filter(admin_sessions::expires_at.le(Utc::now())))
            .execute(conn)?,
    )
}

impl SessionStore for PgSessionStore {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        let hash = key_hash(session_key);
        let state = self
            .run(move |conn| {
                Ok(admin_sessions::table
                    .find(hash)
                    .filter(admin_sessions::expires_at.gt(Utc::now()))
                    .select(admin_sessions::state)
                    .first::<serde_json::Value>(conn)
                    .optional()?)
            })
            .await
            .map_err(LoadError::Other)?;
        state
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(
        &self,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, SaveError> {
        let state =
            serde_json::to_value(session_state).map_err(|e| SaveError::Serialization(e.into()))?;
        let key = generate_session_key();
        let hash = key_hash(&key);
        let expires = expiry(ttl);
        self.run(move |conn| {
            diesel::insert_into(admin_sessions::table)
                .values((
                    admin_sessions::key_hash.eq(hash),
                    admin_sessions::state.eq(state),
                    admin_sessions::expires_at.eq(expires),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let state = serde_json::to_value(&session_state)
            .map_err(|e| UpdateError::Serialization(e.into()))?;
        let hash = key_hash(&session_key);
        let expires = expiry(ttl);
        let updated = self
            .run(move |conn| {
                Ok(diesel::update(
                    admin_sessions::table
                        .find(hash)
                        .filter(admin_sessions::expires_at.gt(Utc::now())),
                )
                .set((
                    admin_sessions::state.eq(state),
                    admin_sessions::expires_at.eq(expires),
                ))
                .execute(conn)?)
            })
            .await
            .map_err(UpdateError::Other)?;
        if updated == 1 {
            Ok(session_key)
        } else {
            // The session ended meanwhile (signed out elsewhere, or expired): start a new,
            // empty one rather than bring the old sign-in back to life under a new key.
            self.save(HashMap::new(), ttl).await.map_err(|e| match e {
                SaveError::Serialization(e) => UpdateError::Serialization(e),
                SaveError::Other(e) => UpdateError::Other(e),
            })
        }
    }

    async fn update_ttl(&self, session_key: &SessionKey, ttl: &Duration) -> anyhow::Result<()> {
        let hash = key_hash(session_key);
        let expires = expiry(ttl);
        self.run(move |conn| {
            diesel::update(
                admin_sessions::table
                    .find(hash)
                    .filter(admin_sessions::expires_at.gt(Utc::now())),
            )
            .set(admin_sessions::expires_at.eq(expires))
            .execute(conn)?;
            Ok(())
        })
        .await
    }

    async fn delete(&self, session_key: &SessionKey) -> anyhow::Result<()> {
        let hash = key_hash(session_key);
        self.run(move |conn| {
            diesel::delete(admin_sessions::table.find(hash)).execute(conn)?;
            Ok(())
        })
        .await
    }
}
