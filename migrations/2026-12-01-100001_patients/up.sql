-- The practice's patient list, fed by its clinical system (the patient import) and by GP Connect
-- Register a patient (temporary registrations). One row per NHS number per practice; the row's
-- id is the GP Connect logical id (`Patient/{id}`) and never changes. Codes are validated in
-- src/patients/ and pinned here so no other path can store one GP Connect doesn't know.
CREATE TABLE patients (
    id                   BIGSERIAL PRIMARY KEY,
    practice_id          BIGINT NOT NULL REFERENCES practices(id),
    -- 10 digits; the Modulus 11 check digit is checked in the domain (NhsNumber).
    nhs_number           TEXT NOT NULL CHECK (nhs_number ~ '^[0-9]{10}$'),
    -- Whether the NHS number is verified (traced on PDS, by the practice system or bookable).
    nhs_number_verified  BOOLEAN NOT NULL DEFAULT false,
    -- When bookable itself verified the number on PDS (GP Connect #921 and Register).
    pds_verified_at      TIMESTAMPTZ,
    -- The official name: one, as GP Connect requires.
    family_name          TEXT NOT NULL CHECK (family_name <> ''),
    given_names          TEXT[] NOT NULL DEFAULT '{}',
    name_prefix          TEXT,
    -- Other names: [{"use": "usual"|"nickname"|"maiden"|..., "family": ..., "given": [...]}].
    other_names          JSONB NOT NULL DEFAULT '[]',
    birth_date           DATE NOT NULL,
    gender               TEXT CHECK (gender IN ('male', 'female', 'other', 'unknown')),
    -- [{"use": "home"|"temp", "lines": [...], "city": ..., "district": ..., "postcode": ...}]
    addresses            JSONB NOT NULL DEFAULT '[]',
    -- [{"system": "phone"|"email", "value": ..., "use": "home"|"work"|"mobile"|"temp"}]
    telecoms             JSONB NOT NULL DEFAULT '[]',
    -- nhsCommunication: the preferred language (a CareConnect-HumanLanguage-1 code) and whether
    -- an interpreter is needed.
    language             TEXT,
    interpreter_required BOOLEAN,
    -- 'R' regular (GMS) or 'T' temporary (CareConnect-RegistrationType-1).
    registration_type    TEXT NOT NULL CHECK (registration_type IN ('R', 'T')),
    registration_start   DATE NOT NULL,
    registration_end     DATE CHECK (registration_end IS NULL OR registration_end >= registration_start),
    -- false: the patient has left the practice.
    active               BOOLEAN NOT NULL DEFAULT true,
    deceased             BOOLEAN NOT NULL DEFAULT false,
    -- PDS sensitive (S-flag): never disclosed through GP Connect.
    sensitive            BOOLEAN NOT NULL DEFAULT false,
    preferred_branch_id  BIGINT REFERENCES locations(id),
    -- GP Connect meta.versionId: moves on every change of the record's content.
    version              INTEGER NOT NULL DEFAULT 1,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- One record per NHS number per practice: the import is idempotent on it, and two
    -- concurrent GP Connect registrations of one number can't both create a record.
    UNIQUE (practice_id, nhs_number)
);

-- Every temporary registration made through GP Connect, for the practice to follow up: who
-- (the patient), when, and by which organisation.
CREATE TABLE patient_registrations (
    id              BIGSERIAL PRIMARY KEY,
    practice_id     BIGINT NOT NULL REFERENCES practices(id),
    patient_id      BIGINT NOT NULL REFERENCES patients(id),
    registered_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- 'created' (a new record) or 'reactivated' (a former patient's record made active again).
    kind            TEXT NOT NULL CHECK (kind IN ('created', 'reactivated')),
    -- The registering organisation, from the JWT's requesting_organization.
    org_ods_code    TEXT NOT NULL,
    org_name        TEXT,
    -- The consumer's ASID (Ssp-From) and the request's Ssp-TraceID.
    ssp_from        TEXT,
    ssp_trace_id    TEXT
);
CREATE INDEX patient_registrations_practice_at_idx
    ON patient_registrations (practice_id, registered_at DESC);
