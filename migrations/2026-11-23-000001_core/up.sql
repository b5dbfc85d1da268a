-- Core model of bookable: practices, their rota (locations, practitioners, schedules, slots),
-- the GP Connect bookability of schedules and slots, users and the audit log.
-- Times are timestamptz (UTC); codes are validated in src/availability/codes.rs and pinned here
-- with CHECK constraints so no path around the domain can store a code GP Connect doesn't know.

CREATE TABLE practices (
    id          BIGSERIAL PRIMARY KEY,
    ods_code    TEXT NOT NULL UNIQUE CHECK (ods_code ~ '^[A-Z0-9]{3,10}$'),
    name        TEXT NOT NULL CHECK (name <> ''),
    list_size   INTEGER NOT NULL DEFAULT 0 CHECK (list_size >= 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE locations (
    id           BIGSERIAL PRIMARY KEY,
    practice_id  BIGINT NOT NULL REFERENCES practices(id),
    external_id  TEXT NOT NULL,
    name         TEXT NOT NULL CHECK (name <> ''),
    address_lines TEXT[] NOT NULL DEFAULT '{}',
    postcode     TEXT,
    phone        TEXT,
    UNIQUE (practice_id, external_id)
);

CREATE TABLE practitioners (
    id                  BIGSERIAL PRIMARY KEY,
    practice_id         BIGINT NOT NULL REFERENCES practices(id),
    external_id         TEXT NOT NULL,
    family_name         TEXT NOT NULL CHECK (family_name <> ''),
    given_name          TEXT,
    prefix              TEXT,
    sds_user_id         TEXT,
    sds_role_profile_id TEXT,
    gender              TEXT CHECK (gender IN ('male', 'female', 'other', 'unknown')),
    UNIQUE (practice_id, external_id)
);

CREATE TABLE schedules (
    id                 BIGSERIAL PRIMARY KEY,
    practice_id        BIGINT NOT NULL REFERENCES practices(id),
    external_id        TEXT NOT NULL,
    location_id        BIGINT NOT NULL REFERENCES locations(id),
    practitioner_id    BIGINT REFERENCES practitioners(id),
    -- GP Connect Schedule.serviceCategory.text: the session name / rota type.
    schedule_type      TEXT,
    -- SDS job role code from GPConnect-PractitionerRole-1 (checked in the domain).
    practitioner_role  TEXT CHECK (practitioner_role ~ '^R[0-9]{4}$'),
    -- Default delivery channel for the schedule's slots (a slot may override it).
    delivery_channel   TEXT CHECK (delivery_channel IN ('In-person', 'Telephone', 'Video', 'Visit')),
    gpc_bookable       BOOLEAN NOT NULL DEFAULT false,
    -- Empty arrays mean "no restriction of that kind".
    bookable_org_types TEXT[] NOT NULL DEFAULT '{}',
    bookable_ods_codes TEXT[] NOT NULL DEFAULT '{}',
    version            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (practice_id, external_id)
);
CREATE INDEX schedules_practice_idx ON schedules (practice_id);

CREATE TABLE slots (
    id                 BIGSERIAL PRIMARY KEY,
    -- Denormalised from the schedule so the slot search is one index range scan per practice.
    practice_id        BIGINT NOT NULL REFERENCES practices(id),
    schedule_id        BIGINT NOT NULL REFERENCES schedules(id),
    external_id        TEXT NOT NULL,
    start_at           TIMESTAMPTZ NOT NULL,
    end_at             TIMESTAMPTZ NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('free', 'busy')),
    -- GP Connect Slot.serviceType.text: the practice's slot type.
    slot_type          TEXT,
    -- NULL: the schedule's delivery channel applies.
    delivery_channel   TEXT CHECK (delivery_channel IN ('In-person', 'Telephone', 'Video', 'Visit')),
    -- NULL: the slot inherits its schedule's bookability and restrictions.
    -- Not NULL: this slot's own bookability, with its own restriction arrays.
    gpc_bookable       BOOLEAN,
    bookable_org_types TEXT[] NOT NULL DEFAULT '{}',
    bookable_ods_codes TEXT[] NOT NULL DEFAULT '{}',
    version            INTEGER NOT NULL DEFAULT 1,
    CHECK (end_at > start_at),
    UNIQUE (practice_id, external_id)
);
CREATE INDEX slots_practice_start_idx ON slots (practice_id, start_at) INCLUDE (end_at, status);
CREATE INDEX slots_schedule_start_idx ON slots (schedule_id, start_at);

-- Visit slots are never GP Connect bookable (GP Connect 1.2.7, #826). The domain refuses it with a
-- reason; these triggers make it impossible for any other path (SQL console, a future bug) too.
CREATE FUNCTION bookable_refuse_visit_slot() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sched schedules%ROWTYPE;
BEGIN
    SELECT * INTO sched FROM schedules WHERE id = NEW.schedule_id;
    IF COALESCE(NEW.gpc_bookable, sched.gpc_bookable)
       AND COALESCE(NEW.delivery_channel, sched.delivery_channel) = 'Visit' THEN
        RAISE EXCEPTION 'slot %: a Visit slot can never be GP Connect bookable', NEW.external_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'visit_never_bookable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER slots_visit_never_bookable BEFORE INSERT OR UPDATE ON slots
    FOR EACH ROW EXECUTE FUNCTION bookable_refuse_visit_slot();

CREATE FUNCTION bookable_refuse_visit_schedule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.gpc_bookable AND NEW.delivery_channel = 'Visit' THEN
        RAISE EXCEPTION 'schedule %: a Visit schedule can never be GP Connect bookable', NEW.external_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'visit_never_bookable';
    END IF;
    IF EXISTS (SELECT 1 FROM slots s WHERE s.schedule_id = NEW.id
                 AND COALESCE(s.gpc_bookable, NEW.gpc_bookable)
                 AND COALESCE(s.delivery_channel, NEW.delivery_channel) = 'Visit') THEN
        RAISE EXCEPTION 'schedule %: it has Visit slots, which can never be GP Connect bookable', NEW.external_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'visit_never_bookable';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER schedules_visit_never_bookable BEFORE INSERT OR UPDATE ON schedules
    FOR EACH ROW EXECUTE FUNCTION bookable_refuse_visit_schedule();

CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._@-]{3,64}$'),
    display_name   TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE user_practices (
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    practice_id  BIGINT NOT NULL REFERENCES practices(id),
    role         TEXT NOT NULL CHECK (role IN ('viewer', 'manager', 'admin')),
    PRIMARY KEY (user_id, practice_id)
);

-- Append-only: every change a user (or an import) makes, with before and after.
CREATE TABLE audit_log (
    id           BIGSERIAL PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    practice_id  BIGINT REFERENCES practices(id),
    user_id      BIGINT REFERENCES users(id),
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    entity       TEXT NOT NULL,
    entity_id    BIGINT,
    before       JSONB,
    after        JSONB
);
CREATE INDEX audit_log_practice_at_idx ON audit_log (practice_id, at DESC);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
