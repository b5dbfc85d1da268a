-- The GP Connect request trail partitioned by calendar month (UTC), so a month can be exported
-- and dropped whole (`bookable audit export` / `drop`) instead of deleted row by row. The id
-- keeps its sequence (the trail's sequence number); the primary key must hold the partition
-- key, so it is (id, at). Every row is kept.
ALTER TABLE gpconnect_audit RENAME TO gpconnect_audit_unpartitioned;
ALTER INDEX gpconnect_audit_pkey RENAME TO gpconnect_audit_unpartitioned_pkey;
ALTER INDEX gpconnect_audit_practice_at_idx RENAME TO gpconnect_audit_unpartitioned_practice_at_idx;

CREATE TABLE gpconnect_audit (
    id           BIGINT NOT NULL DEFAULT nextval('gpconnect_audit_id_seq'),
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
    jwt_claims   JSONB,
    sanitised    BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);
ALTER SEQUENCE gpconnect_audit_id_seq OWNED BY gpconnect_audit.id;
CREATE INDEX gpconnect_audit_practice_at_idx ON gpconnect_audit (practice_ods, at);
CREATE TRIGGER gpconnect_audit_no_update BEFORE UPDATE OR DELETE ON gpconnect_audit
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- The partition of the UTC month holding `moment`, created if missing: gpconnect_audit_yYYYYmMM.
-- Under an advisory lock, so instances creating the same one at once take turns.
CREATE FUNCTION gpconnect_audit_partition(moment TIMESTAMPTZ) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    first TIMESTAMPTZ := date_trunc('month', moment AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    name  TEXT := to_char(first AT TIME ZONE 'UTC', '"gpconnect_audit_y"YYYY"m"MM');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('gpconnect_audit_partition'));
    IF to_regclass(name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF gpconnect_audit FOR VALUES FROM (%L) TO (%L)',
            name, first, first + INTERVAL '1 month');
    END IF;
    RETURN name;
END $$;

-- Rows no month partition takes (a clock far off) still go somewhere; the writer creates this
-- month's and the next two months' partitions ahead, so normally it stays empty.
CREATE TABLE gpconnect_audit_default PARTITION OF gpconnect_audit DEFAULT;

DO $$
DECLARE m TIMESTAMPTZ;
BEGIN
    FOR m IN SELECT DISTINCT date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
             FROM gpconnect_audit_unpartitioned
             UNION SELECT now() UNION SELECT now() + INTERVAL '1 month'
    LOOP
        PERFORM gpconnect_audit_partition(m);
    END LOOP;
END $$;
INSERT INTO gpconnect_audit SELECT * FROM gpconnect_audit_unpartitioned;
DROP TABLE gpconnect_audit_unpartitioned;

-- Months exported by `bookable audit export`, so `drop` refuses one not exported (or that has
-- gained rows since).
CREATE TABLE gpconnect_audit_exports (
    month       DATE PRIMARY KEY CHECK (extract(day FROM month) = 1),
    rows        BIGINT NOT NULL,
    file        TEXT NOT NULL,
    exported_at TIMESTAMPTZ NOT NULL,
    dropped_at  TIMESTAMPTZ
);
