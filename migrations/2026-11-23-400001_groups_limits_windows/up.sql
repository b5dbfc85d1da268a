-- The rest of GP Connect's slot availability duties: bookable by groups of organisations,
-- limits on how many slots an organisation type / organisation / group may book, and booking
-- windows (how far ahead, and until how close to the start).

CREATE TABLE org_groups (
    id           BIGSERIAL PRIMARY KEY,
    practice_id  BIGINT NOT NULL REFERENCES practices(id),
    name         TEXT NOT NULL CHECK (btrim(name) <> ''),
    UNIQUE (practice_id, name)
);

CREATE TABLE org_group_members (
    group_id  BIGINT NOT NULL REFERENCES org_groups(id) ON DELETE CASCADE,
    ods_code  TEXT NOT NULL CHECK (ods_code ~ '^[A-Z0-9]{3,10}$'),
    PRIMARY KEY (group_id, ods_code)
);
CREATE INDEX org_group_members_ods_idx ON org_group_members (ods_code, group_id);

ALTER TABLE schedules
    ADD COLUMN bookable_group_ids BIGINT[] NOT NULL DEFAULT '{}',
    -- Exposed from this many local days before the slot's day (NULL: no limit ahead).
    ADD COLUMN book_from_days INTEGER CHECK (book_from_days >= 0),
    -- Hidden this many minutes before the slot starts (NULL: until it starts).
    ADD COLUMN book_until_minutes INTEGER CHECK (book_until_minutes >= 0);

ALTER TABLE slots
    ADD COLUMN bookable_group_ids BIGINT[] NOT NULL DEFAULT '{}',
    ADD COLUMN book_from_days INTEGER CHECK (book_from_days >= 0),
    ADD COLUMN book_until_minutes INTEGER CHECK (book_until_minutes >= 0);

-- "At most max_slots slots per day/week may be booked by <one organisation type, ODS code or
-- group>", for one schedule or (schedule_id NULL) the whole practice.
CREATE TABLE booking_limits (
    id           BIGSERIAL PRIMARY KEY,
    practice_id  BIGINT NOT NULL REFERENCES practices(id),
    schedule_id  BIGINT REFERENCES schedules(id) ON DELETE CASCADE,
    org_type     TEXT,
    ods_code     TEXT CHECK (ods_code ~ '^[A-Z0-9]{3,10}$'),
    group_id     BIGINT REFERENCES org_groups(id) ON DELETE CASCADE,
    period       TEXT NOT NULL CHECK (period IN ('day', 'week')),
    max_slots    INTEGER NOT NULL CHECK (max_slots > 0),
    CHECK (num_nonnulls(org_type, ods_code, group_id) = 1)
);
CREATE INDEX booking_limits_practice_idx ON booking_limits (practice_id);

-- Bookings made through GP Connect, recorded so limits can count them. A released booking
-- stays as history; a slot has at most one booking in force.
CREATE TABLE bookings (
    id                  BIGSERIAL PRIMARY KEY,
    practice_id         BIGINT NOT NULL REFERENCES practices(id),
    slot_id             BIGINT NOT NULL REFERENCES slots(id),
    booked_by_ods       TEXT NOT NULL CHECK (booked_by_ods ~ '^[A-Z0-9]{3,10}$'),
    booked_by_org_type  TEXT,
    booked_at           TIMESTAMPTZ NOT NULL,
    released_at         TIMESTAMPTZ
);
CREATE UNIQUE INDEX bookings_one_in_force_per_slot ON bookings (slot_id) WHERE released_at IS NULL;
CREATE INDEX bookings_in_force_idx ON bookings (practice_id) WHERE released_at IS NULL;

-- New columns go last: CREATE OR REPLACE VIEW may only append.
CREATE OR REPLACE VIEW slot_effective AS
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
           AS bookable_ods_codes,
       CASE WHEN sl.gpc_bookable IS NULL THEN sc.bookable_group_ids ELSE sl.bookable_group_ids END
           AS bookable_group_ids,
       COALESCE(sl.book_from_days, sc.book_from_days) AS book_from_days,
       COALESCE(sl.book_until_minutes, sc.book_until_minutes) AS book_until_minutes
FROM slots sl
-- The practice condition is implied (a slot's schedule is its practice's); stating it lets the
-- planner read only the searched practice's schedules.
JOIN schedules sc ON sc.id = sl.schedule_id AND sc.practice_id = sl.practice_id;
