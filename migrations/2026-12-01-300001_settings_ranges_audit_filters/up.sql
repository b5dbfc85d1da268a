-- Numeric settings within the ranges the domain enforces (src/availability/limits.rs,
-- src/practice.rs, src/reports/settings.rs), so no path around it can store a value that takes
-- pages down. A booking window opening more than 365 days ahead is stored as 365 (the same
-- slots are open: none is that far ahead); other values out of range were never accepted by a
-- sensible practice and are left for the CHECKs' NOT VALID (new writes only).
UPDATE schedules SET book_from_days = 365 WHERE book_from_days > 365;
UPDATE slots SET book_from_days = 365 WHERE book_from_days > 365;
ALTER TABLE schedules
    ADD CONSTRAINT schedules_book_from_days_range CHECK (book_from_days <= 365),
    ADD CONSTRAINT schedules_book_until_minutes_range CHECK (book_until_minutes <= 10080) NOT VALID;
ALTER TABLE slots
    ADD CONSTRAINT slots_book_from_days_range CHECK (book_from_days <= 365),
    ADD CONSTRAINT slots_book_until_minutes_range CHECK (book_until_minutes <= 10080) NOT VALID;
ALTER TABLE booking_limits
    ADD CONSTRAINT booking_limits_max_slots_range CHECK (max_slots <= 10000) NOT VALID;
ALTER TABLE practices
    ADD CONSTRAINT practices_list_size_range CHECK (list_size <= 1000000) NOT VALID;
ALTER TABLE report_settings
    ADD CONSTRAINT report_settings_ratio_range CHECK (nhs111_patients_per_appointment <= 100000)
    NOT VALID;

-- The audit log page filters one practice's rows by record (type and number) and orders by
-- time: served by this index; the other filters (action, who, days) run over the rows of
-- audit_log_practice_at_idx with patterns capped at 100 characters.
CREATE INDEX audit_log_practice_record_idx ON audit_log (practice_id, entity, entity_id, at DESC);
