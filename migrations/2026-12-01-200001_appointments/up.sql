-- Appointments: booked over GP Connect (Book an appointment) or sent by the practice's clinical
-- system. The row's id is the GP Connect logical id (`Appointment/{id}`); `version` is its
-- meta.versionId and moves on every change. Text limits are bookable's (docs/gp-connect.md):
-- description and comment carry no clinical information and are stored exactly as sent.
CREATE TABLE appointments (
    id                  BIGSERIAL PRIMARY KEY,
    practice_id         BIGINT NOT NULL REFERENCES practices(id),
    patient_id          BIGINT NOT NULL REFERENCES patients(id),
    -- 'gp-connect' (booked through GP Connect) or 'practice-system' (the clinical system's own).
    source              TEXT NOT NULL CHECK (source IN ('gp-connect', 'practice-system')),
    -- The clinical system's id of its own bookings.
    external_id         TEXT,
    status              TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    -- First slot's start, last slot's end (kept with the row for Retrieve).
    start_at            TIMESTAMPTZ NOT NULL,
    end_at              TIMESTAMPTZ NOT NULL CHECK (end_at > start_at),
    -- The booking organisation (the contained Organization), stored whole.
    booking_ods_code    TEXT NOT NULL,
    booking_org_type    TEXT,
    booking_org_name    TEXT NOT NULL,
    -- [{"system": ..., "value": ..., "use": ...}]
    booking_org_telecom JSONB NOT NULL DEFAULT '[]',
    description         TEXT NOT NULL CHECK (char_length(description) <= 1000),
    comment             TEXT CHECK (char_length(comment) <= 2000),
    cancellation_reason TEXT,
    -- Business identifiers sent on Book: [{"system": ..., "value": ...}].
    identifiers         JSONB NOT NULL DEFAULT '[]',
    -- Appointment.created as sent by the consumer.
    created             TIMESTAMPTZ NOT NULL,
    recorded_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    cancelled_at        TIMESTAMPTZ,
    version             INTEGER NOT NULL DEFAULT 1,
    CHECK ((status = 'cancelled') = (cancellation_reason IS NOT NULL)),
    UNIQUE (practice_id, external_id)
);
CREATE INDEX appointments_patient_start_idx ON appointments (patient_id, start_at);

-- The slots of an appointment, and for a GP Connect booking the booking row that holds each
-- slot under the booking limits (released when the appointment is cancelled).
CREATE TABLE appointment_slots (
    appointment_id BIGINT NOT NULL REFERENCES appointments(id),
    slot_id        BIGINT NOT NULL REFERENCES slots(id),
    booking_id     BIGINT REFERENCES bookings(id),
    PRIMARY KEY (appointment_id, slot_id)
);
CREATE INDEX appointment_slots_slot_idx ON appointment_slots (slot_id);

-- The ordered, durable feed of what GP Connect did to appointments, for the practice's
-- clinical system. Written in the transaction of the change; writers of one practice take a
-- transaction-scoped advisory lock before their row, so `seq` order is commit order per practice
-- and a reader paging with `after=` never skips a row committed late.
CREATE TABLE appointment_events (
    seq            BIGSERIAL PRIMARY KEY,
    practice_id    BIGINT NOT NULL REFERENCES practices(id),
    appointment_id BIGINT NOT NULL REFERENCES appointments(id),
    kind           TEXT NOT NULL CHECK (kind IN ('booked', 'amended', 'cancelled')),
    at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The appointment as it stood after the change, its slots' import ids and the patient's
    -- NHS number.
    payload        JSONB NOT NULL
);
CREATE INDEX appointment_events_practice_seq_idx ON appointment_events (practice_id, seq);
