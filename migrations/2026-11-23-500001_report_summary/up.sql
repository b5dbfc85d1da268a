-- A cache of the capacity report's first stage per (practice, Europe/London local day), so a
-- report over many practices sums a few rows per day instead of every slot (BENCHMARKS.md).
-- The rows hold what does not depend on the time of the report; the report adds "in the past"
-- itself and reads the current day's slots live.

CREATE TABLE report_summary (
    practice_id  BIGINT NOT NULL,
    day          DATE NOT NULL,
    -- 'pd' (exposed or not, with the organisation types' bit mask), 'ph' (free, bookable
    -- slots by hidden-capacity bit mask, "in the past" left out), 'channel', 'role',
    -- 'slot-type' (by `key`) and 'named' (by ODS codes and group ids): src/reports/capacity.rs.
    kind         TEXT NOT NULL,
    exposed      BOOLEAN,
    mask         INTEGER,
    key          TEXT,
    ods_codes    TEXT[],
    group_ids    BIGINT[],
    slots        BIGINT NOT NULL,
    secs         DOUBLE PRECISION NOT NULL,
    busy_slots   BIGINT NOT NULL,
    busy_secs    DOUBLE PRECISION NOT NULL
);
CREATE INDEX report_summary_pair_idx ON report_summary (practice_id, day);

-- The breakdown rows ('channel', 'role', 'slot-type', 'named') summed per practice and ISO week
-- (`week` is its Monday): a report reads these for the weeks wholly inside its period and
-- without a dirty day, a fifth of the rows. Recomputed with the days.
CREATE TABLE report_summary_week (
    practice_id  BIGINT NOT NULL,
    week         DATE NOT NULL,
    kind         TEXT NOT NULL,
    key          TEXT,
    ods_codes    TEXT[],
    group_ids    BIGINT[],
    slots        BIGINT NOT NULL,
    secs         DOUBLE PRECISION NOT NULL,
    busy_slots   BIGINT NOT NULL,
    busy_secs    DOUBLE PRECISION NOT NULL
);
CREATE INDEX report_summary_week_idx ON report_summary_week (practice_id, week);

-- Days whose summary is out of date. Not unique on purpose: each writing statement adds its
-- own rows without waiting on anyone, and a refresh deletes only the rows its snapshot sees,
-- so a change committed after that snapshot keeps its day dirty.
CREATE TABLE report_summary_dirty (
    practice_id  BIGINT NOT NULL,
    day          DATE NOT NULL
);
CREATE INDEX report_summary_dirty_pair_idx ON report_summary_dirty (practice_id, day);

-- Statement-level triggers (per-row ones would slow bulk edits). They are ENABLE ALWAYS so
-- that writes with session_replication_role = replica (the synthetic data set) are seen too.

-- Slots: the days a statement's rows were on, before and after.
CREATE FUNCTION report_summary_slots_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_summary_dirty (practice_id, day)
        SELECT DISTINCT practice_id, (start_at AT TIME ZONE 'Europe/London')::date FROM new_rows;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO report_summary_dirty (practice_id, day)
        SELECT practice_id, (start_at AT TIME ZONE 'Europe/London')::date FROM new_rows
        UNION
        SELECT practice_id, (start_at AT TIME ZONE 'Europe/London')::date FROM old_rows;
    ELSE
        INSERT INTO report_summary_dirty (practice_id, day)
        SELECT DISTINCT practice_id, (start_at AT TIME ZONE 'Europe/London')::date FROM old_rows;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER report_summary_slots_insert AFTER INSERT ON slots
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_slots_changed();
CREATE TRIGGER report_summary_slots_update AFTER UPDATE ON slots
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_slots_changed();
CREATE TRIGGER report_summary_slots_delete AFTER DELETE ON slots
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_slots_changed();
CREATE FUNCTION report_summary_slots_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_summary;
    DELETE FROM report_summary_week;
    DELETE FROM report_summary_dirty;
    RETURN NULL;
END $$;
CREATE TRIGGER report_summary_slots_truncate AFTER TRUNCATE ON slots
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_slots_truncated();

-- Schedules: slots inherit their bookability, role, channel and type of session, so every day
-- of an updated schedule's slots. (A schedule has no slots when inserted, and deleting one
-- deletes or needs no slots, which the slot triggers see.)
CREATE FUNCTION report_summary_schedules_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_summary_dirty (practice_id, day)
    SELECT DISTINCT sl.practice_id, (sl.start_at AT TIME ZONE 'Europe/London')::date
    FROM slots sl
    WHERE sl.schedule_id IN (SELECT id FROM new_rows UNION SELECT id FROM old_rows);
    RETURN NULL;
END $$;
CREATE TRIGGER report_summary_schedules_update AFTER UPDATE ON schedules
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_schedules_changed();

-- Groups: whether a group has members decides the "restricted to no one" hidden reason of the
-- slots bookable by it. Members changed: the days of the slots of those groups; a group
-- deleted (its members go by cascade): the same, found through the deleted rows' practice.
CREATE FUNCTION report_summary_groups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed BIGINT[];
    practice_ids BIGINT[];
BEGIN
    IF TG_TABLE_NAME = 'org_groups' THEN
        SELECT array_agg(id), array_agg(DISTINCT practice_id) INTO changed, practice_ids
        FROM old_rows;
    ELSE
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT group_id) INTO changed FROM new_rows;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT group_id) INTO changed FROM old_rows;
        ELSE
            SELECT array_agg(DISTINCT group_id) INTO changed
            FROM (SELECT group_id FROM new_rows UNION ALL SELECT group_id FROM old_rows) m;
        END IF;
        SELECT array_agg(DISTINCT practice_id) INTO practice_ids
        FROM org_groups WHERE id = ANY(changed);
    END IF;
    INSERT INTO report_summary_dirty (practice_id, day)
    SELECT DISTINCT e.practice_id, (e.start_at AT TIME ZONE 'Europe/London')::date
    FROM slot_effective e
    WHERE e.practice_id = ANY(practice_ids) AND e.bookable_group_ids && changed;
    RETURN NULL;
END $$;
CREATE TRIGGER report_summary_members_insert AFTER INSERT ON org_group_members
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_groups_changed();
CREATE TRIGGER report_summary_members_update AFTER UPDATE ON org_group_members
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_groups_changed();
CREATE TRIGGER report_summary_members_delete AFTER DELETE ON org_group_members
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_groups_changed();
CREATE TRIGGER report_summary_groups_delete AFTER DELETE ON org_groups
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_summary_groups_changed();

ALTER TABLE slots ENABLE ALWAYS TRIGGER report_summary_slots_insert;
ALTER TABLE slots ENABLE ALWAYS TRIGGER report_summary_slots_update;
ALTER TABLE slots ENABLE ALWAYS TRIGGER report_summary_slots_delete;
ALTER TABLE slots ENABLE ALWAYS TRIGGER report_summary_slots_truncate;
ALTER TABLE schedules ENABLE ALWAYS TRIGGER report_summary_schedules_update;
ALTER TABLE org_group_members ENABLE ALWAYS TRIGGER report_summary_members_insert;
ALTER TABLE org_group_members ENABLE ALWAYS TRIGGER report_summary_members_update;
ALTER TABLE org_group_members ENABLE ALWAYS TRIGGER report_summary_members_delete;
ALTER TABLE org_groups ENABLE ALWAYS TRIGGER report_summary_groups_delete;

-- The slots already there have no summary yet.
INSERT INTO report_summary_dirty (practice_id, day)
SELECT DISTINCT practice_id, (start_at AT TIME ZONE 'Europe/London')::date FROM slots;
