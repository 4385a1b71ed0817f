-- Per-configuration throttling (docs/operations.md, "Rate limits"): sustained requests
-- per minute and the burst allowed at once; null = no limit (the default).
alter table scim_configurations add column rate_limit_per_minute bigint;
alter table scim_configurations add column rate_limit_burst bigint;
