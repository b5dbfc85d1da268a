-- Uptake: the slots of appointments booked through GP Connect at the practices, starting on a
-- local day of the period, by the booker's organisation type (as it searched) and ODS code;
-- cancelled appointments counted apart (they hold no slot).
SELECT a.booking_org_type AS org_type, a.booking_ods_code AS ods_code,
       min(a.booking_org_name) AS name,
       count(*) FILTER (WHERE a.status = 'booked') AS booked_slots,
       count(DISTINCT a.id) FILTER (WHERE a.status = 'booked') AS booked,
       count(DISTINCT a.id) FILTER (WHERE a.status = 'cancelled') AS cancelled
FROM appointments a
JOIN appointment_slots l ON l.appointment_id = a.id
JOIN slots s ON s.id = l.slot_id
WHERE a.practice_id = ANY($practices) AND a.source = 'gp-connect'
  AND (s.start_at AT TIME ZONE 'Europe/London')::date BETWEEN $first_day AND $last_day
GROUP BY a.booking_org_type, a.booking_ods_code
ORDER BY a.booking_ods_code, a.booking_org_type
