-- Account Center: when a configuration's current token was issued, and who set it: a seed
-- file ('seed') or an admin at runtime ('runtime'). A seed re-applied at start-up leaves a
-- runtime token alone (docs/account-center.md, "Seed files and runtime changes").
alter table scim_configurations add column token_created_at bigint;
alter table scim_configurations add column token_source text not null default 'seed';
-- "Last used" of a token is its configuration's latest activity record.
create index activity_configuration_at on activity (configuration_id, at);
