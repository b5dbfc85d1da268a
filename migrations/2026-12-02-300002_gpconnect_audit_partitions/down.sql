DROP TABLE gpconnect_audit_exports;
CREATE TABLE gpconnect_audit_unpartitioned (LIKE gpconnect_audit INCLUDING DEFAULTS);
INSERT INTO gpconnect_audit_unpartitioned SELECT * FROM gpconnect_audit;
ALTER SEQUENCE gpconnect_audit_id_seq OWNED BY gpconnect_audit_unpartitioned.id;
DROP TABLE gpconnect_audit;
DROP FUNCTION gpconnect_audit_partition(TIMESTAMPTZ);
ALTER TABLE gpconnect_audit_unpartitioned RENAME TO gpconnect_audit;
ALTER TABLE gpconnect_audit ADD PRIMARY KEY (id);
CREATE INDEX gpconnect_audit_practice_at_idx ON gpconnect_audit (practice_ods, at);
CREATE TRIGGER gpconnect_audit_no_update BEFORE UPDATE OR DELETE ON gpconnect_audit
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
