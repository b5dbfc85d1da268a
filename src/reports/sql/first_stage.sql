SELECT kind, practice_id, day, exposed,
       CASE kind WHEN 'pd' THEN ot_mask WHEN 'ph' THEN hidden END AS mask,
       CASE kind WHEN 'channel' THEN channel WHEN 'role' THEN role
                 WHEN 'slot-type' THEN slot_type WHEN 'nhs111' THEN schedule END AS key,
       ods_codes, group_ids, slots, secs, busy_slots, busy_secs
FROM (
   SELECT {kind} AS kind, {columns},
          count(*) AS slots, sum(secs) AS secs,
          count(*) FILTER (WHERE busy) AS busy_slots,
          COALESCE(sum(secs) FILTER (WHERE busy), 0) AS busy_secs
   FROM (
       SELECT e.practice_id, p.day, ({exposed}) AS exposed, e.status <> 'free' AS busy,
              CASE WHEN {exposed} THEN {ot_mask} END AS ot_mask,
              CASE WHEN e.status = 'free' AND e.gpc_bookable THEN {hidden_mask} END
                  AS hidden,
              e.delivery_channel AS channel, e.practitioner_role AS role, e.slot_type,
              audience_ods_codes(e.audiences) AS ods_codes,
              audience_group_ids(e.audiences) AS group_ids,
              date_part('epoch', e.end_at - e.start_at) AS secs,
              {nhs111} AS nhs111, e.schedule_id::text AS schedule
       FROM slot_effective e
       JOIN {pairs} p ON p.practice_id = e.practice_id
            AND p.day = (e.start_at AT TIME ZONE 'Europe/London')::date
       -- One index range scan per practice over the days' span, then a hash join:
       -- a range join per day costs a practice's slots for every day.
       WHERE e.practice_id = ANY(ARRAY(SELECT DISTINCT practice_id FROM {pairs}))
         AND e.start_at >= (SELECT min(day) FROM {pairs})::timestamp
                           AT TIME ZONE 'Europe/London'
         AND e.start_at < (SELECT max(day) + 1 FROM {pairs})::timestamp
                          AT TIME ZONE 'Europe/London'
   ) b
   GROUP BY GROUPING SETS ({sets})
) g
-- Only exposed slots are broken down, only free bookable ones can be hidden, and NHS 111's
-- rows are the slots it could book (per schedule, booked or free).
WHERE CASE kind WHEN 'pd' THEN true WHEN 'ph' THEN hidden IS NOT NULL
                WHEN 'nhs111' THEN nhs111 ELSE COALESCE(exposed, false) END
