-- Each slot of the practice (one slot, or those starting in [from, to): span's) with the codes of the
-- rules of the rule table that hide it (and the search window's, when there is one) and the
-- booking limits used up for it; with its audiences, the names of the groups they name and the
-- audience tokens the consumer matches, so a message can say why none of them matched.
SELECT e.id, array_remove(ARRAY[{reasons}], NULL) AS reasons,
       e.audiences, (SELECT tokens FROM consumer_audiences) AS consumer_audiences,
       ARRAY(SELECT og.id FROM org_groups og
             WHERE og.id = ANY(audience_group_ids(e.audiences)) ORDER BY og.id) AS group_ids,
       ARRAY(SELECT og.name FROM org_groups og
             WHERE og.id = ANY(audience_group_ids(e.audiences)) ORDER BY og.id) AS group_names,
       e.book_from_days, e.book_until_minutes,
       ARRAY(SELECT x.limit_id FROM exhausted x WHERE {limit_used_up} ORDER BY 1)
           AS limits_reached
FROM slot_effective e
WHERE e.practice_id = {PRACTICE}
  AND ({SLOT} IS NULL OR e.id = {SLOT})
  AND e.start_at >= (SELECT first_start FROM span) AND e.start_at < (SELECT after_start FROM span)
ORDER BY e.start_at, e.id
