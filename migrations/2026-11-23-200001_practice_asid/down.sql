ALTER TABLE practices DROP COLUMN asid;
