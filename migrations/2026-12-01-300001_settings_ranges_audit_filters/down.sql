DROP INDEX audit_log_practice_record_idx;
ALTER TABLE report_settings DROP CONSTRAINT report_settings_ratio_range;
ALTER TABLE practices DROP CONSTRAINT practices_list_size_range;
ALTER TABLE booking_limits DROP CONSTRAINT booking_limits_max_slots_range;
ALTER TABLE slots
    DROP CONSTRAINT slots_book_from_days_range,
    DROP CONSTRAINT slots_book_until_minutes_range;
ALTER TABLE schedules
    DROP CONSTRAINT schedules_book_from_days_range,
    DROP CONSTRAINT schedules_book_until_minutes_range;
