-- The summary cache gains NHS 111's rows (kind 'nhs111': per schedule, the slots urgent care
-- could book, inside their booking windows): every day cached before them is recomputed.
INSERT INTO report_summary_dirty (practice_id, day)
SELECT DISTINCT practice_id, day FROM report_summary;
