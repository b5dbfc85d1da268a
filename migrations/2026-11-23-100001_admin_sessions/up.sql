-- Server-side sessions of the admin UI (actix-session state kept in PostgreSQL). Only a SHA-256
-- of the session key is stored, so a copy of this table can't be used to take over a session.
CREATE TABLE admin_sessions (
    key_hash    BYTEA PRIMARY KEY CHECK (octet_length(key_hash) = 32),
    state       JSONB NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX admin_sessions_expires_idx ON admin_sessions (expires_at);
