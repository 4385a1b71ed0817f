-- License assignment rules of a SCIM configuration (docs/licensing.md, "License rules"):
-- an ordered JSON array of {"filter": SCIM filter text, "pool_id": pool}; the
-- configuration's auto-assign pool is their fallback.
alter table scim_configurations add column license_rules jsonb not null default '[]';
