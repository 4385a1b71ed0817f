-- The tokens a configuration no longer accepts (refreshed, or the configuration deleted),
-- with the configuration they named: a request that still presents one is refused and
-- recorded in the journal against that configuration. Written by triggers, so every
-- path that replaces or removes a token is covered. No foreign key: an account's
-- deletion cascades to its configurations, whose triggers write here.
create table revoked_tokens (
    token_hash         text primary key,
    account_id         text not null,
    configuration_id   text not null,
    configuration_name text not null
);
create trigger scim_configurations_token_revoked after update of token_hash on scim_configurations
when old.token_hash <> new.token_hash
begin
    insert or replace into revoked_tokens (token_hash, account_id, configuration_id, configuration_name)
    values (old.token_hash, old.account_id, old.id, old.name);
end;
create trigger scim_configurations_deleted after delete on scim_configurations
begin
    insert or replace into revoked_tokens (token_hash, account_id, configuration_id, configuration_name)
    values (old.token_hash, old.account_id, old.id, old.name);
end;
