-- Each slot of the practice (one slot, or those starting in [from, to)) with the codes of the
-- rules of the rule table that hide it (and the search window's, when there is one) and the
-- booking limits used up for it.
SELECT e.id, array_remove(ARRAY[{reasons}], NULL) AS reasons,
       e.bookable_org_types, e.bookable_ods_codes, e.book_from_days, e.book_until_minutes,
       ARRAY(SELECT x.limit_id FROM exhausted x WHERE {limit_used_up} ORDER BY 1)
           AS limits_reached
FROM slot_effective e
WHERE e.practice_id = {PRACTICE}
  AND ({SLOT} IS NULL OR e.id = {SLOT})
  AND ({FROM} IS NULL OR (e.start_at >= {FROM} AND e.start_at < {TO}))
ORDER BY e.start_at, e.id
