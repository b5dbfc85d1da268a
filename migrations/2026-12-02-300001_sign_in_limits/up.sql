-- Sign-in rate limits, shared by every instance on this database (issue 16): one row per
-- username (kind 'account'), client address ('address') and lock-out note ('lock_out'), as a
-- generic cell rate algorithm: `tat` is the key's theoretical arrival time, an attempt is
-- allowed while `tat` is at most (window - window / limit) ahead of now, and each allowed
-- attempt moves it on by window / limit. `allowed` is the last attempt's answer.
CREATE TABLE sign_in_limits (
    kind    TEXT NOT NULL CHECK (kind IN ('account', 'address', 'lock_out')),
    key     TEXT NOT NULL,
    tat     TIMESTAMPTZ NOT NULL,
    allowed BOOLEAN NOT NULL,
    PRIMARY KEY (kind, key)
);
-- The housekeeping forgets keys that have fully recovered (tat in the past).
CREATE INDEX sign_in_limits_tat_idx ON sign_in_limits (tat);
