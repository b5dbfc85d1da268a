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
    WHERE e.practice_id = {PRACTICE}
      AND e.start_at >= {START} AND e.start_at < {END} AND e.end_at <= {END}
      {visible}
) s
-- OFFSET 0 keeps each lookup a subquery of its own, so `s.first` gates it (a one-time filter)
-- rather than filtering its result: the other rows look nothing up.
LEFT JOIN LATERAL (
    SELECT l.name, l.address_lines, l.postcode, l.phone FROM locations l
    WHERE s.first AND l.id = s.location_id OFFSET 0
) l ON true
LEFT JOIN LATERAL (
    SELECT p.family_name, p.given_name, p.prefix, p.sds_user_id, p.sds_role_profile_id, p.gender
    FROM practitioners p WHERE s.first AND p.id = s.practitioner_id OFFSET 0
) p ON true
ORDER BY s.start_at, s.id
