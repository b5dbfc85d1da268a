-- Credentials of the practices' own systems (their clinical systems) for the JSON API, each
-- scoped to the practices it serves. Only a SHA-256 of each secret is kept: the secret is shown
-- once, when issued.
CREATE TABLE api_credentials (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    secret_sha256 BYTEA NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ
);

CREATE TABLE api_credential_practices (
    credential_id BIGINT NOT NULL REFERENCES api_credentials (id) ON DELETE CASCADE,
    practice_id   BIGINT NOT NULL REFERENCES practices (id) ON DELETE CASCADE,
    PRIMARY KEY (credential_id, practice_id)
);
CREATE INDEX api_credential_practices_practice ON api_credential_practices (practice_id);
