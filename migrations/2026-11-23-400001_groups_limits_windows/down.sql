DROP VIEW slot_effective;
CREATE VIEW slot_effective AS
SELECT sl.id, sl.practice_id, sl.schedule_id, sl.external_id, sl.start_at, sl.end_at, sl.status, sl.slot_type,
       COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
       sc.practitioner_role, sc.schedule_type, sc.location_id, sc.practitioner_id,
       (sl.gpc_bookable IS NOT NULL) AS overrides_schedule,
       COALESCE(sl.gpc_bookable, sc.gpc_bookable) AS gpc_bookable,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_org_types ELSE sl.bookable_org_types END AS bookable_org_types,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_ods_codes ELSE sl.bookable_ods_codes END AS bookable_ods_codes
FROM slots sl JOIN schedules sc ON sc.id = sl.schedule_id;
DROP TABLE bookings, booking_limits, org_group_members, org_groups;
ALTER TABLE slots DROP COLUMN bookable_group_ids, DROP COLUMN book_from_days, DROP COLUMN book_until_minutes;
ALTER TABLE schedules DROP COLUMN bookable_group_ids, DROP COLUMN book_from_days, DROP COLUMN book_until_minutes;
