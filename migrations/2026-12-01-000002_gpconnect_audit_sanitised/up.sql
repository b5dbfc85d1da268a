-- Whether the row had to be changed to be stored: characters PostgreSQL cannot hold in TEXT or
-- JSONB (NUL) were removed from what the request sent.
ALTER TABLE gpconnect_audit ADD COLUMN sanitised BOOLEAN NOT NULL DEFAULT false;
