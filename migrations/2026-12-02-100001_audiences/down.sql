-- Back to one restriction pair. Lossy where audiences can't be one pair: the types, codes and
-- groups the audiences name are kept, and the pair applies them together.
DROP VIEW slot_effective;
ALTER TABLE schedules
    ADD COLUMN bookable_org_types TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN bookable_ods_codes TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN bookable_group_ids BIGINT[] NOT NULL DEFAULT '{}';
ALTER TABLE slots
    ADD COLUMN bookable_org_types TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN bookable_ods_codes TEXT[] NOT NULL DEFAULT '{}',
    ADD COLUMN bookable_group_ids BIGINT[] NOT NULL DEFAULT '{}';
UPDATE schedules SET bookable_org_types = audience_types(audiences),
       bookable_ods_codes = audience_ods_codes(audiences),
       bookable_group_ids = audience_group_ids(audiences)
 WHERE cardinality(audiences) > 0;
UPDATE slots SET bookable_org_types = audience_types(audiences),
       bookable_ods_codes = audience_ods_codes(audiences),
       bookable_group_ids = audience_group_ids(audiences)
 WHERE cardinality(audiences) > 0;
ALTER TABLE schedules DROP COLUMN audiences;
ALTER TABLE slots DROP COLUMN audiences;
CREATE VIEW slot_effective AS
SELECT sl.id, sl.practice_id, sl.schedule_id, sl.external_id, sl.start_at, sl.end_at, sl.status,
       sl.slot_type, COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
       sc.practitioner_role, sc.schedule_type, sc.location_id, sc.practitioner_id,
       (sl.gpc_bookable IS NOT NULL) AS overrides_schedule,
       COALESCE(sl.gpc_bookable, sc.gpc_bookable) AS gpc_bookable,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_org_types ELSE sl.bookable_org_types END
           AS bookable_org_types,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_ods_codes ELSE sl.bookable_ods_codes END
           AS bookable_ods_codes,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_group_ids ELSE sl.bookable_group_ids END
           AS bookable_group_ids,
       COALESCE(sl.book_from_days, sc.book_from_days) AS book_from_days,
       COALESCE(sl.book_until_minutes, sc.book_until_minutes) AS book_until_minutes
FROM slots sl
JOIN schedules sc ON sc.id = sl.schedule_id AND sc.practice_id = sl.practice_id;
CREATE OR REPLACE FUNCTION report_summary_groups_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
DROP FUNCTION audiences_well_formed(TEXT[]), audience_types(TEXT[]), audience_ods_codes(TEXT[]),
    audience_group_ids(TEXT[]), audience_type(TEXT), audience_ods(TEXT), audience_group(TEXT),
    audience_well_formed(TEXT);
