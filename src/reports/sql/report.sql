-- The capacity report in one statement. The first stage comes from the summary cache, except
-- for the days still marked dirty in this snapshot, computed live, and the hidden capacity of
-- the current local day, whose "in the past" depends on the time. The reason-code parameter
-- lists the hidden-capacity reasons in the order of the masks' bits.
WITH today AS (
    SELECT ($now::timestamptz AT TIME ZONE 'Europe/London')::date AS day
), live_pairs AS (
    SELECT DISTINCT practice_id, day FROM report_summary_dirty
    WHERE practice_id = ANY($practices) AND day BETWEEN $first_day AND $last_day
), today_pairs AS (
    SELECT p AS practice_id, today.day FROM unnest($practices::bigint[]) p, today
    WHERE today.day BETWEEN $first_day AND $last_day
      AND NOT EXISTS (SELECT 1 FROM live_pairs l
                      WHERE l.practice_id = p AND l.day = today.day)
), live AS MATERIALIZED (
    {live}
    UNION ALL
    {today}
), live_weeks AS (
    SELECT DISTINCT practice_id, date_trunc('week', day::timestamp)::date AS week
    FROM live_pairs
), full_weeks AS (
    -- The weeks wholly inside the period, per practice, with no dirty day.
    SELECT p AS practice_id, w::date AS week
    FROM unnest($practices::bigint[]) p,
         generate_series(date_trunc('week', $first_day::timestamp), $last_day::timestamp,
                         interval '1 week') w
    WHERE w::date >= $first_day AND w::date + 6 <= $last_day
    EXCEPT
    SELECT practice_id, week FROM live_weeks
), part_days AS (
    -- The other days of the period, whose breakdowns are read per day.
    SELECT p AS practice_id, d::date AS day
    FROM unnest($practices::bigint[]) p, generate_series($first_day::date, $last_day::date, interval '1 day') d
    WHERE NOT EXISTS (SELECT 1 FROM full_weeks f
                      WHERE f.practice_id = p AND f.week = date_trunc('week', d)::date)
), pd AS (
    SELECT practice_id, day, date_trunc('week', day::timestamp)::date AS week, exposed,
           mask AS ot_mask, slots, secs, busy_slots, busy_secs
    FROM ({pd}) s
), totals AS (
    SELECT {total_kind} AS kind, practice_id, day, week,
           sum(slots) AS book_slots, sum(secs) AS book_secs,
           COALESCE(sum(slots) FILTER (WHERE exposed), 0) AS slots,
           COALESCE(sum(secs) FILTER (WHERE exposed), 0) AS secs,
           COALESCE(sum(busy_slots) FILTER (WHERE exposed), 0) AS busy,
           COALESCE(sum(busy_secs) FILTER (WHERE exposed), 0) AS busy_secs
    FROM pd
    GROUP BY GROUPING SETS ({total_sets})
), ot AS (
    SELECT {ot_kind} AS kind, t.code, practice_id, day, week,
           sum(slots) AS slots, sum(secs) AS secs,
           sum(busy_slots) AS busy, sum(busy_secs) AS busy_secs
    FROM pd CROSS JOIN unnest($org_types::text[]) WITH ORDINALITY AS t(code, i)
    WHERE pd.exposed AND pd.ot_mask & (1 << (t.i::int - 1)) <> 0
    GROUP BY GROUPING SETS ({ot_sets})
), breakdowns AS (
    SELECT c.kind, c.key, c.ods_codes, c.group_ids, c.week,
           c.slots, c.secs, c.busy_slots, c.busy_secs
    FROM report_summary_week c JOIN full_weeks f USING (practice_id, week)
    UNION ALL
    SELECT s.kind, s.key, s.ods_codes, s.group_ids,
           date_trunc('week', s.day::timestamp)::date,
           s.slots, s.secs, s.busy_slots, s.busy_secs
    FROM ({breakdown_days}) s
), dims AS (
    SELECT s.kind, s.key, s.week, s.slots, s.secs, s.busy_slots, s.busy_secs
    FROM breakdowns s WHERE s.kind <> 'named'
    UNION ALL
    SELECT s.kind, n.key, s.week, s.slots, s.secs, s.busy_slots, s.busy_secs
    FROM breakdowns s CROSS JOIN LATERAL (
        SELECT c AS key FROM unnest(s.ods_codes) AS c
        UNION ALL
        SELECT 'group:' || og.name FROM org_groups og WHERE og.id = ANY(s.group_ids)
        UNION ALL
        SELECT NULL WHERE cardinality(s.ods_codes) = 0 AND cardinality(s.group_ids) = 0
    ) n
    WHERE s.kind = 'named'
)
SELECT kind, practice_id, day, week, NULL AS key,
       book_slots::bigint, round(book_secs / 60)::bigint AS book_minutes,
       slots::bigint, round(secs / 60)::bigint AS minutes,
       busy::bigint, round(busy_secs / 60)::bigint AS busy_minutes
FROM totals
UNION ALL
SELECT kind, practice_id, day, week, code, NULL, NULL, slots::bigint,
       round(secs / 60)::bigint, busy::bigint, round(busy_secs / 60)::bigint
FROM ot
UNION ALL
SELECT kind || CASE WHEN GROUPING(week) = 0 THEN '-week' ELSE '' END, NULL, NULL, week,
       key, NULL, NULL, sum(slots)::bigint, round(sum(secs) / 60)::bigint,
       sum(busy_slots)::bigint, round(sum(busy_secs) / 60)::bigint
FROM dims
GROUP BY GROUPING SETS ((kind, key, week), (kind, key))
UNION ALL
SELECT 'practice-hidden', s.practice_id, NULL, NULL, r.code,
       sum(s.slots)::bigint, round(sum(s.secs) / 60)::bigint, 0, 0, 0, 0
FROM ({ph}) s CROSS JOIN unnest($reason_codes::text[]) WITH ORDINALITY AS r(code, i)
WHERE s.mask & (1 << (r.i::int - 1)) <> 0
GROUP BY s.practice_id, r.code
UNION ALL
-- NHS 111's slots per practice and day, apart for each schedule a booking limit for urgent care
-- covers (the limits are applied by reports::nhs111).
SELECT 'nhs111', u.practice_id, u.day, NULL, l.schedule_id::text, NULL, NULL,
       sum(u.slots)::bigint, round(sum(u.secs) / 60)::bigint,
       sum(u.busy_slots)::bigint, round(sum(u.busy_secs) / 60)::bigint
FROM ({nhs111}) u
LEFT JOIN (SELECT DISTINCT schedule_id FROM booking_limits
           WHERE practice_id = ANY($practices) AND org_type = {nhs111_type}
             AND schedule_id IS NOT NULL) l ON l.schedule_id = u.key::bigint
GROUP BY u.practice_id, u.day, l.schedule_id
