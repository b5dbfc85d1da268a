-- Every GP Connect request, refused ones included (GP Connect "Cross organisation audit and
-- provenance": all API transactions SHALL be recorded, failed or rejected ones with the same
-- detail and their error code). The id is the sequence number the audit trail must carry.
CREATE TABLE gpconnect_audit (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    practice_ods TEXT NOT NULL,
    method       TEXT NOT NULL,
    path_query   TEXT NOT NULL,
    ssp_trace_id TEXT,
    ssp_from     TEXT,
    ssp_to       TEXT,
    interaction  TEXT,
    status       SMALLINT NOT NULL,
    error_code   TEXT,
    -- The JWT's claims as sent (who asked, for which organisation, from which device), when
    -- the token decoded as JSON.
    jwt_claims   JSONB
);
CREATE INDEX gpconnect_audit_practice_at_idx ON gpconnect_audit (practice_ods, at);

CREATE TRIGGER gpconnect_audit_no_update BEFORE UPDATE OR DELETE ON gpconnect_audit
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
