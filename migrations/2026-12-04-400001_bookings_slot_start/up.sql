-- Booking limits count the bookings in force of the local days and ISO weeks a search (or an
-- explanation, or a booking's check) looks at, not every booking of the practice's history:
-- each booking carries its slot's start, so those bookings are one range scan of an index.
-- Triggers keep the copy equal to the slot's start (a rota import may move a slot); they are
-- ENABLE ALWAYS, so writes with session_replication_role = replica keep it too.
ALTER TABLE bookings ADD COLUMN slot_start_at TIMESTAMPTZ;
UPDATE bookings b SET slot_start_at = s.start_at FROM slots s WHERE s.id = b.slot_id;
ALTER TABLE bookings ALTER COLUMN slot_start_at SET NOT NULL;

CREATE FUNCTION bookings_slot_start() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT start_at INTO NEW.slot_start_at FROM slots WHERE id = NEW.slot_id;
    RETURN NEW;
END $$;
CREATE TRIGGER bookings_slot_start BEFORE INSERT OR UPDATE OF slot_id, slot_start_at ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_slot_start();
ALTER TABLE bookings ENABLE ALWAYS TRIGGER bookings_slot_start;

CREATE FUNCTION slots_start_to_bookings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings SET slot_start_at = NEW.start_at WHERE slot_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER slots_start_to_bookings AFTER UPDATE OF start_at ON slots
    FOR EACH ROW WHEN (OLD.start_at IS DISTINCT FROM NEW.start_at)
    EXECUTE FUNCTION slots_start_to_bookings();
ALTER TABLE slots ENABLE ALWAYS TRIGGER slots_start_to_bookings;

DROP INDEX bookings_in_force_idx;
CREATE INDEX bookings_in_force_idx ON bookings (practice_id, slot_start_at) WHERE released_at IS NULL;
