-- Settings of the capacity reports: one row. The NHS 111 direct booking minimum is one
-- appointment a day per this many registered patients (GP contract 2019/20: 3,000; NHS England
-- asked for 1 per 500 in 2020), so it is data, not code.
CREATE TABLE report_settings (
    id                           BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    nhs111_patients_per_appointment INTEGER NOT NULL DEFAULT 3000
        CHECK (nhs111_patients_per_appointment > 0),
    updated_at                   TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO report_settings DEFAULT VALUES;
