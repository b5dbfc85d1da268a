-- The managers' change log stays forever unless an operator sets a retention period: then
-- `bookable change-log retain` removes the entries older than it (after writing them to a file).
-- The log stays append-only for everything else: an update is always refused, and a delete only
-- inside a transaction that has set bookable.change_log_retention (as that command does).
CREATE FUNCTION change_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('bookable.change_log_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
DROP TRIGGER audit_log_no_update ON audit_log;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION change_log_append_only();
CREATE INDEX audit_log_at_idx ON audit_log (at);
