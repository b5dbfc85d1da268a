DROP INDEX bookings_in_force_idx;
CREATE INDEX bookings_in_force_idx ON bookings (practice_id) WHERE released_at IS NULL;
DROP TRIGGER slots_start_to_bookings ON slots;
DROP FUNCTION slots_start_to_bookings();
DROP TRIGGER bookings_slot_start ON bookings;
DROP FUNCTION bookings_slot_start();
ALTER TABLE bookings DROP COLUMN slot_start_at;
