-- Uptake: the groups of the practices each booking organisation is a member of (slots
-- restricted to a group are offered to its members).
SELECT m.ods_code, g.name AS group_name
FROM org_group_members m JOIN org_groups g ON g.id = m.group_id
WHERE g.practice_id = ANY($practices) AND m.ods_code = ANY($ods_codes)
