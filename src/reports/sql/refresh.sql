-- Brings the summary of the practices' days in the period up to date: deletes the dirty marks
-- this statement's snapshot sees and recomputes those days from that same snapshot, so a change
-- committed later keeps its mark. Returns the (practice, week) pairs recomputed.
WITH marked AS (
    DELETE FROM report_summary_dirty
    WHERE practice_id = ANY($practices) AND day BETWEEN $first_day AND $last_day
    RETURNING practice_id, day
), pairs AS (
    SELECT DISTINCT practice_id, day FROM marked
), stale AS (
    DELETE FROM report_summary c USING pairs p
    WHERE c.practice_id = p.practice_id AND c.day = p.day
), fresh AS (
    INSERT INTO report_summary (practice_id, day, kind, exposed, mask, key, ods_codes,
                                group_ids, slots, secs, busy_slots, busy_secs)
    SELECT practice_id, day, kind, exposed, mask, key, ods_codes, group_ids,
           slots, secs, busy_slots, busy_secs
    FROM ({first_stage}) f
)
SELECT DISTINCT practice_id, date_trunc('week', day::timestamp)::date AS week FROM pairs
