DROP TABLE IF EXISTS audit_log, user_practices, users, slots, schedules, practitioners, locations, practices CASCADE;
DROP FUNCTION IF EXISTS bookable_refuse_visit_slot, bookable_refuse_visit_schedule, audit_log_append_only;
