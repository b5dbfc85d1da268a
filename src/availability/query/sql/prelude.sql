-- The common table expressions of the search and the explanation (see query/mod.rs):
-- params: each parameter bound once, so the statement is prepared with one plan;
-- consumer_groups: the practice's organisation groups the consumer's ODS code belongs to;
-- consumer_audiences: the audience tokens the consumer matches (audience.rs, the four cases);
-- span: the instants the statement's slots start in ([starting_from, starting_before), or the one
-- slot's start), and the Europe/London ISO weeks around them (their local days lie inside);
-- exhausted: the (scope, period) pairs where a booking limit applying to the consumer is used
-- up by the bookings in force (Europe/London local days or ISO weeks), counting only the
-- bookings of slots starting in span's weeks: a practice's history costs a search nothing.
WITH params AS MATERIALIZED (
    SELECT $practice::int8 AS practice, $window_start::timestamptz AS window_start,
           $window_end::timestamptz AS window_end, $org_type::text AS org_type,
           $ods_code::text AS ods_code, $now::timestamptz AS now, $slot::int8 AS slot,
           $starting_from::timestamptz AS starting_from,
           $starting_before::timestamptz AS starting_before
), span AS MATERIALIZED (
    SELECT first_start, after_start,
           date_trunc('week', first_start AT TIME ZONE 'Europe/London')
               AT TIME ZONE 'Europe/London' AS weeks_from,
           (date_trunc('week', after_start AT TIME ZONE 'Europe/London') + interval '7 days')
               AT TIME ZONE 'Europe/London' AS weeks_to
    FROM (
        SELECT CASE WHEN p.slot IS NULL THEN COALESCE(p.starting_from, '-infinity')
                    ELSE COALESCE(s.start_at, 'infinity') END AS first_start,
               CASE WHEN p.slot IS NULL THEN COALESCE(p.starting_before, 'infinity')
                    ELSE COALESCE(s.start_at + interval '1 microsecond', 'infinity') END
                   AS after_start
        FROM params p LEFT JOIN slots s ON s.id = p.slot
    ) r
), consumer_groups AS (
    SELECT COALESCE(array_agg(m.group_id), '{}') AS ids
    FROM org_group_members m JOIN org_groups g ON g.id = m.group_id
    WHERE g.practice_id = {PRACTICE} AND m.ods_code = {O}
), consumer_audiences AS (
    -- The four-case table applied to one audience: a type alone is matched by a consumer that
    -- sent that type, a named organisation (or group) alone by one that sent that ODS code (or
    -- a member's), and the two together only by a consumer that sent both.
    SELECT array_remove(ARRAY['type:' || {T}, 'ods:' || {O}, 'type:' || {T} || '+ods:' || {O}],
                        NULL)
           || ARRAY(SELECT 'group:' || g FROM unnest(c.ids) g)
           || ARRAY(SELECT 'type:' || {T} || '+group:' || g FROM unnest(c.ids) g
                    WHERE {T} IS NOT NULL) AS tokens
    FROM consumer_groups c
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
        WHERE b.practice_id = {PRACTICE} AND b.released_at IS NULL
          AND b.slot_start_at >= (SELECT weeks_from FROM span)
          AND b.slot_start_at < (SELECT weeks_to FROM span)
          AND (bl.schedule_id IS NULL OR bs.schedule_id = bl.schedule_id)
          AND (b.booked_by_org_type = bl.org_type OR b.booked_by_ods = bl.ods_code
               OR EXISTS (SELECT 1 FROM org_group_members gm
                          WHERE gm.group_id = bl.group_id AND gm.ods_code = b.booked_by_ods))
        GROUP BY 1
    ) used ON used.booked >= bl.max_slots
    WHERE bl.practice_id = {PRACTICE}
      AND (bl.org_type = {T} OR bl.ods_code = {O}
           OR bl.group_id IN (SELECT unnest(ids) FROM consumer_groups))
)
