-- Recomputes the practices' weeks (Mondays) of report_summary_week from the days, after the
-- refresh of the days (a later statement, so it sees the new days).
WITH w AS (
    SELECT * FROM unnest($practices::bigint[], $weeks::date[]) AS w(practice_id, week)
), stale AS (
    DELETE FROM report_summary_week c USING w
    WHERE c.practice_id = w.practice_id AND c.week = w.week
)
INSERT INTO report_summary_week (practice_id, week, kind, key, ods_codes, group_ids,
                                 slots, secs, busy_slots, busy_secs)
SELECT c.practice_id, w.week, c.kind, c.key, c.ods_codes, c.group_ids,
       sum(c.slots), sum(c.secs), sum(c.busy_slots), sum(c.busy_secs)
FROM w JOIN report_summary c ON c.practice_id = w.practice_id
     AND c.day BETWEEN w.week AND w.week + 6
WHERE c.kind IN ({breakdown_kinds})
GROUP BY c.practice_id, w.week, c.kind, c.key, c.ods_codes, c.group_ids
