-- Accounts (tenants), their SCIM configurations (each owning one bearer token) and users.
-- Timestamps are microseconds since the Unix epoch in both dialects, so ordering and
-- comparisons behave identically on SQLite and Postgres.

create table accounts (
    id          text primary key,
    name        text not null unique,
    fidelity    jsonb not null,
    created_at  bigint not null,
    updated_at  bigint not null
);

create table scim_configurations (
    id               text primary key,
    account_id       text not null references accounts (id) on delete cascade,
    name             text not null,
    client_profile   text not null,
    token_hash       text not null unique,
    token_expires_at bigint,
    created_at       bigint not null,
    updated_at       bigint not null,
    unique (account_id, name)
);

create table users (
    id            text primary key,
    account_id    text not null references accounts (id) on delete cascade,
    user_name     text not null,
    -- ASCII-lowercased userName: userName is caseExact=false and unique per account.
    user_name_key text not null,
    external_id   text,
    -- ASCII-lowercased displayName, for index-backed case-insensitive filters.
    display_name_key text,
    active        boolean not null,
    doc           jsonb not null,
    version       bigint not null,
    created_at    bigint not null,
    updated_at    bigint not null,
    constraint users_account_user_name_key unique (account_id, user_name_key)
);
create index users_account_external_id on users (account_id, external_id);
create index users_account_display_name on users (account_id, display_name_key);
create index users_account_updated_at on users (account_id, updated_at);
create index users_account_created_at on users (account_id, created_at, id);

-- One row per email value, so `emails.value eq` (and `emails[value eq …]`) is index-backed.
create table user_emails (
    user_id    text not null references users (id) on delete cascade,
    account_id text not null,
    value_key  text not null,
    primary key (user_id, value_key)
);
create index user_emails_account_value on user_emails (account_id, value_key);
