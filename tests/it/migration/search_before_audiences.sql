-- The slot search as the query module generated it before the migration …_audiences
-- (its insta snapshot at f3bf4c5): the reference the migration test compares against.
-- The common table expressions of the search and the explanation (see query/mod.rs):
-- params: each parameter bound once, so the statement is prepared with one plan;
-- consumer_groups: the practice's organisation groups the consumer's ODS code belongs to;
-- exhausted: the (scope, period) pairs where a booking limit applying to the consumer is used
-- up by the bookings in force (Europe/London local days or ISO weeks).
WITH params AS MATERIALIZED (
    SELECT $practice::int8 AS practice, $window_start::timestamptz AS window_start,
           $window_end::timestamptz AS window_end, $org_type::text AS org_type,
           $ods_code::text AS ods_code, $now::timestamptz AS now, $slot::int8 AS slot,
           $starting_from::timestamptz AS starting_from,
           $starting_before::timestamptz AS starting_before
), consumer_groups AS (
    SELECT COALESCE(array_agg(m.group_id), '{}') AS ids
    FROM org_group_members m JOIN org_groups g ON g.id = m.group_id
    WHERE g.practice_id = (SELECT practice FROM params) AND m.ods_code = (SELECT ods_code FROM params)
), exhausted AS MATERIALIZED (
    SELECT bl.id AS limit_id, bl.schedule_id, bl.period, used.period_start
    FROM booking_limits bl
    JOIN LATERAL (
        SELECT CASE bl.period
                   WHEN 'day' THEN (bs.start_at AT TIME ZONE 'Europe/London')::date
                   ELSE date_trunc('week', bs.start_at AT TIME ZONE 'Europe/London')::date
               END AS period_start,
               count(*) AS booked
        FROM bookings b JOIN slots bs ON bs.id = b.slot_id
        WHERE b.practice_id = (SELECT practice FROM params) AND b.released_at IS NULL
          AND (bl.schedule_id IS NULL OR bs.schedule_id = bl.schedule_id)
          AND (b.booked_by_org_type = bl.org_type OR b.booked_by_ods = bl.ods_code
               OR EXISTS (SELECT 1 FROM org_group_members gm
                          WHERE gm.group_id = bl.group_id AND gm.ods_code = b.booked_by_ods))
        GROUP BY 1
    ) used ON used.booked >= bl.max_slots
    WHERE bl.practice_id = (SELECT practice FROM params)
      AND (bl.org_type = (SELECT org_type FROM params) OR bl.ods_code = (SELECT ods_code FROM params)
           OR bl.group_id IN (SELECT unnest(ids) FROM consumer_groups))
)
-- The free slots of the practice in the window that pass every rule of the rule table.
-- Schedule, location and practitioner details travel once, on each schedule's first slot, and
-- locations and practitioners are looked up for those rows only.
SELECT s.id, s.schedule_id, s.start_at, s.end_at, s.slot_type, s.delivery_channel,
       s.location_id, s.practitioner_id,
       CASE WHEN s.first THEN s.schedule_type END AS schedule_type,
       CASE WHEN s.first THEN s.practitioner_role END AS practitioner_role,
       l.name AS location_name, l.address_lines, l.postcode, l.phone,
       p.family_name, p.given_name, p.prefix, p.sds_user_id, p.sds_role_profile_id,
       p.gender
FROM (
    SELECT e.id, e.schedule_id, e.start_at, e.end_at, e.slot_type, e.delivery_channel,
           e.location_id, e.practitioner_id, e.schedule_type, e.practitioner_role,
           row_number() OVER (PARTITION BY e.schedule_id ORDER BY e.start_at, e.id) = 1
               AS first
    FROM slot_effective e
    WHERE e.practice_id = (SELECT practice FROM params)
      AND e.start_at >= (SELECT window_start FROM params) AND e.start_at < (SELECT window_end FROM params) AND e.end_at <= (SELECT window_end FROM params)
      AND NOT (e.status <> 'free')
      AND NOT (NOT e.gpc_bookable)
      AND NOT (e.delivery_channel IS NOT DISTINCT FROM 'Visit')
      AND NOT (e.practitioner_role IS NULL)
      AND NOT (COALESCE(btrim(e.slot_type), '') = '')
      AND NOT (cardinality(e.bookable_org_types) > 0 AND NOT COALESCE((SELECT org_type FROM params) = ANY(e.bookable_org_types), false))
      AND NOT ((cardinality(e.bookable_ods_codes) > 0 OR cardinality(e.bookable_group_ids) > 0) AND NOT COALESCE((SELECT ods_code FROM params) = ANY(e.bookable_ods_codes), false) AND NOT e.bookable_group_ids && (SELECT ids FROM consumer_groups))
      AND NOT (e.book_from_days IS NOT NULL AND ((SELECT now FROM params) AT TIME ZONE 'Europe/London')::date < (e.start_at AT TIME ZONE 'Europe/London')::date - e.book_from_days)
      AND NOT (e.book_until_minutes IS NOT NULL AND e.start_at - make_interval(mins => e.book_until_minutes) < (SELECT now FROM params))
      AND NOT (EXISTS (SELECT 1 FROM exhausted x WHERE (x.schedule_id IS NULL OR x.schedule_id = e.schedule_id) AND x.period_start = CASE x.period WHEN 'day' THEN (e.start_at AT TIME ZONE 'Europe/London')::date ELSE date_trunc('week', e.start_at AT TIME ZONE 'Europe/London')::date END))
) s
LEFT JOIN locations l ON s.first AND l.id = s.location_id
LEFT JOIN practitioners p ON s.first AND p.id = s.practitioner_id
ORDER BY s.start_at, s.id
