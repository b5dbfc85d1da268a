DROP VIEW slot_effective;
