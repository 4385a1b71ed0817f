-- Groups and their members. Members live only in `group_members`, never in the group's
-- JSON document: adding or removing one member touches one row whatever the group's size.
-- Timestamps are microseconds since the Unix epoch, as for users.

create table groups (
    id               text primary key,
    account_id       text not null references accounts (id) on delete cascade,
    display_name     text not null,
    -- ASCII-lowercased displayName: displayName is caseExact=false, the IdPs' matching
    -- attribute, and unique per account (LinkedIn's groups are matched by name).
    display_name_key text not null,
    external_id      text,
    doc              text not null,
    version          bigint not null,
    created_at       bigint not null,
    updated_at       bigint not null,
    constraint groups_account_display_name_key unique (account_id, display_name_key)
);
create index groups_account_external_id on groups (account_id, external_id);
create index groups_account_updated_at on groups (account_id, updated_at);
create index groups_account_created_at on groups (account_id, created_at, id);

-- origin: 'scim' (written by an IdP) or 'admin' (added in the Account Center). A SCIM
-- replace of members only touches 'scim' rows: LinkedIn keeps directly added members.
-- The primary key serves "is u a member of g" and the member list of a group; the index
-- on member_id serves a user's `groups` and the cascade when a user is deleted. Member
-- ids are globally unique, so an (account_id, member_id) index would add nothing.
create table group_members (
    group_id   text not null references groups (id) on delete cascade,
    member_id  text not null references users (id) on delete cascade,
    account_id text not null,
    origin     text not null check (origin in ('scim', 'admin')),
    created_at bigint not null,
    primary key (group_id, member_id)
);
create index group_members_member on group_members (member_id);
