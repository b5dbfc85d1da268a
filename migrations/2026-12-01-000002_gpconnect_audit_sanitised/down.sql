ALTER TABLE gpconnect_audit DROP COLUMN sanitised;
