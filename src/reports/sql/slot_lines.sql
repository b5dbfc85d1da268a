-- Slots of the practices in the period, in the words practices use: the detail table's and the
-- hidden capacity's (the reasons column and the condition are filled in per list).
SELECT e.id, pr.ods_code, e.start_at AT TIME ZONE 'Europe/London' AS local_start,
       round(date_part('epoch', e.end_at - e.start_at) / 60)::bigint AS minutes,
       e.schedule_type, e.slot_type, e.delivery_channel,
       NULLIF(concat_ws(' ', p.prefix, p.given_name, p.family_name), '') AS practitioner,
       e.practitioner_role, e.status, audience_types(e.audiences) AS bookable_org_types,
       audience_ods_codes(e.audiences) AS bookable_ods_codes,
       CASE WHEN cardinality(e.audiences) = 0 THEN '{}'::text[]
            ELSE ARRAY(SELECT og.name FROM org_groups og
                       WHERE og.id = ANY(audience_group_ids(e.audiences)) ORDER BY og.name) END
           AS groups,
       {reasons} AS reasons
FROM slot_effective e
JOIN practices pr ON pr.id = e.practice_id
LEFT JOIN practitioners p ON p.id = e.practitioner_id
WHERE e.practice_id = ANY($practices) AND pr.id = ANY($practices)
  AND e.start_at >= $period_start AND e.start_at < $period_end
  AND {condition}
ORDER BY pr.ods_code, e.start_at, e.id
