-- The ASID (Spine accredited system id) of each practice's GP Connect endpoint. Consumers send it
-- as Ssp-To; the FHIR layer refuses a request whose Ssp-To is not the practice's ASID.
-- NULL: the practice is not yet registered for GP Connect, so no request to it is accepted.
ALTER TABLE practices ADD COLUMN asid TEXT CHECK (asid ~ '^[0-9]{1,20}$');
