-- Each slot with the bookability settings in force: its own where it overrides its schedule
-- (gpc_bookable IS NOT NULL), its schedule's otherwise. The query module and the reports read
-- slots through this view so the inheritance rule is written once.
CREATE VIEW slot_effective AS
SELECT sl.id,
       sl.practice_id,
       sl.schedule_id,
       sl.external_id,
       sl.start_at,
       sl.end_at,
       sl.status,
       sl.slot_type,
       COALESCE(sl.delivery_channel, sc.delivery_channel) AS delivery_channel,
       sc.practitioner_role,
       sc.schedule_type,
       sc.location_id,
       sc.practitioner_id,
       (sl.gpc_bookable IS NOT NULL) AS overrides_schedule,
       COALESCE(sl.gpc_bookable, sc.gpc_bookable) AS gpc_bookable,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_org_types ELSE sl.bookable_org_types END
           AS bookable_org_types,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_ods_codes ELSE sl.bookable_ods_codes END
           AS bookable_ods_codes
FROM slots sl
JOIN schedules sc ON sc.id = sl.schedule_id;
