-- Who can book (issue 12): each schedule's and slot's single (organisation types, ODS codes,
-- groups) restriction becomes a list of audiences, any one of which lets a consumer see the
-- slot. An audience is stored as one text token (src/availability/audience.rs):
--   'type:urgent-care'             an organisation type
--   'ods:Y03032'                   a named organisation
--   'group:12'                     an organisation group of the practice
--   'type:gp-practice+ods:Y03032'  a type and a named organisation together (also '+group:12')
-- A consumer (type T, ODS code O, in groups G) matches an audience under the specification's
-- four-case table applied to that audience alone, which is "the tokens its filters spell"
-- (see sql/prelude.sql of the query module); no audiences = every consumer.

CREATE FUNCTION audience_well_formed(a TEXT) RETURNS BOOLEAN
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN a ~ '^(type:[^+:]+(\+(ods:[A-Z0-9]{3,10}|group:[0-9]+))?|ods:[A-Z0-9]{3,10}|group:[0-9]+)$';

-- The parts of one audience token (NULL where it has none).
CREATE FUNCTION audience_type(a TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN substring(a FROM '^type:([^+:]+)');
CREATE FUNCTION audience_ods(a TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN substring(a FROM 'ods:([A-Z0-9]{3,10})$');
CREATE FUNCTION audience_group(a TEXT) RETURNS BIGINT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN substring(a FROM 'group:([0-9]+)$')::bigint;

-- The organisation types, ODS codes and groups a list of audiences names (the reports' lists).
CREATE FUNCTION audience_types(a TEXT[]) RETURNS TEXT[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT audience_type(x) FROM unnest(a) x
                 WHERE audience_type(x) IS NOT NULL ORDER BY 1);
CREATE FUNCTION audience_ods_codes(a TEXT[]) RETURNS TEXT[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT audience_ods(x) FROM unnest(a) x
                 WHERE audience_ods(x) IS NOT NULL ORDER BY 1);
CREATE FUNCTION audience_group_ids(a TEXT[]) RETURNS BIGINT[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT DISTINCT audience_group(x) FROM unnest(a) x
                 WHERE audience_group(x) IS NOT NULL ORDER BY 1);

CREATE FUNCTION audiences_well_formed(a TEXT[]) RETURNS BOOLEAN
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT COALESCE(bool_and(audience_well_formed(x)), true) FROM unnest(a) x);

-- Today's restriction pair as audiences: under the four-case table a consumer passes the pair
-- when it matches a type (if any are named) and a named organisation (if any are named), so
-- the pair is the audiences "type t and named n" for every t and n; only types: one audience
-- per type; only named organisations: one per code or group; neither: none (everyone).
CREATE FUNCTION pg_temp.restriction_audiences(types TEXT[], codes TEXT[], groups BIGINT[])
    RETURNS TEXT[] LANGUAGE sql IMMUTABLE AS $$
    WITH named AS (
        SELECT 'ods:' || c AS n FROM unnest(codes) c
        UNION SELECT 'group:' || g FROM unnest(groups) g
    )
    SELECT ARRAY(
        SELECT DISTINCT a FROM (
            SELECT 'type:' || t AS a FROM unnest(types) t
             WHERE NOT EXISTS (SELECT 1 FROM named)
            UNION ALL
            SELECT n FROM named WHERE cardinality(types) = 0
            UNION ALL
            SELECT 'type:' || t || '+' || n FROM unnest(types) t, named
        ) x ORDER BY a)
$$;

ALTER TABLE schedules
    ADD COLUMN audiences TEXT[] NOT NULL DEFAULT '{}'
        CONSTRAINT schedules_audiences_well_formed CHECK (audiences_well_formed(audiences));
ALTER TABLE slots
    ADD COLUMN audiences TEXT[] NOT NULL DEFAULT '{}'
        CONSTRAINT slots_audiences_well_formed CHECK (audiences_well_formed(audiences));

UPDATE schedules
   SET audiences = pg_temp.restriction_audiences(bookable_org_types, bookable_ods_codes,
                                                 bookable_group_ids)
 WHERE cardinality(bookable_org_types) + cardinality(bookable_ods_codes)
       + cardinality(bookable_group_ids) > 0;
-- A slot's restriction arrays count only while it has its own setting.
UPDATE slots
   SET audiences = pg_temp.restriction_audiences(bookable_org_types, bookable_ods_codes,
                                                 bookable_group_ids)
 WHERE gpc_bookable IS NOT NULL
   AND cardinality(bookable_org_types) + cardinality(bookable_ods_codes)
       + cardinality(bookable_group_ids) > 0;

DROP VIEW slot_effective;
ALTER TABLE schedules
    DROP COLUMN bookable_org_types, DROP COLUMN bookable_ods_codes, DROP COLUMN bookable_group_ids;
ALTER TABLE slots
    DROP COLUMN bookable_org_types, DROP COLUMN bookable_ods_codes, DROP COLUMN bookable_group_ids;

-- Each slot with the settings in force: its own where it overrides its schedule
-- (gpc_bookable IS NOT NULL), its schedule's otherwise; who can book comes with bookable.
CREATE VIEW slot_effective AS
SELECT sl.id,
       sl.practice_id,
       sl.schedule_id,
       sl.external_id,
       sl.start_at,
       sl.end_at,
       sl.status,
       sl.slot_type,
       COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
       sc.practitioner_role,
       sc.schedule_type,
       sc.location_id,
       sc.practitioner_id,
       (sl.gpc_bookable IS NOT NULL) AS overrides_schedule,
       COALESCE(sl.gpc_bookable, sc.gpc_bookable) AS gpc_bookable,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.audiences ELSE sl.audiences END AS audiences,
       COALESCE(sl.book_from_days, sc.book_from_days) AS book_from_days,
       COALESCE(sl.book_until_minutes, sc.book_until_minutes) AS book_until_minutes
FROM slots sl
-- The practice condition is implied (a slot's schedule is its practice's); stating it lets the
-- planner read only the searched practice's schedules.
JOIN schedules sc ON sc.id = sl.schedule_id AND sc.practice_id = sl.practice_id;

-- The report summary's group trigger (migration …_report_summary) found the slots of changed
-- groups through the dropped column; now through the audiences naming them.
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
    WHERE e.practice_id = ANY(practice_ids) AND audience_group_ids(e.audiences) && changed;
    RETURN NULL;
END $$;
