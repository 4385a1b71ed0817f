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
create function remember_revoked_token() returns trigger language plpgsql as $$
begin
    insert into revoked_tokens (token_hash, account_id, configuration_id, configuration_name)
    values (old.token_hash, old.account_id, old.id, old.name)
    on conflict (token_hash) do update
        set account_id = excluded.account_id,
            configuration_id = excluded.configuration_id,
            configuration_name = excluded.configuration_name;
    return null;
end
$$;
create trigger scim_configurations_token_revoked after update of token_hash on scim_configurations
    for each row when (old.token_hash is distinct from new.token_hash)
    execute function remember_revoked_token();
create trigger scim_configurations_deleted after delete on scim_configurations
    for each row execute function remember_revoked_token();
