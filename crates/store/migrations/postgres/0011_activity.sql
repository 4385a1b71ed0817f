-- The provisioning log: one row per authenticated SCIM request.
create table activity (
    id               bigint generated always as identity primary key,
    account_id       text not null references accounts (id) on delete cascade,
    configuration_id text,
    at               bigint not null,
    request_id       text,
    method           text not null,
    path             text not null,
    status           integer not null,
    latency_us       bigint not null,
    resource_type    text,
    resource_id      text,
    -- created | updated | disabled | deleted | read | listed … plus licensing outcomes
    outcome          text,
    detail           text,
    -- JSON array of the tolerances (client departures from RFC 7644) that fired.
    tolerances       text not null default '[]'
);
create index activity_account_at on activity (account_id, at desc, id desc);
create index activity_account_resource on activity (account_id, resource_id);
