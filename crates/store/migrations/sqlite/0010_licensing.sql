-- LinkedIn licensing: application instances (one product contract each), license pools
-- (instance × license type × seats) and license assignments (user × product).
-- The seat invariant `used <= seats` is enforced here, not in process memory: seats are
-- taken with a guarded `update … set used = used + 1 where used < seats`, and the check
-- constraint is the last line of defence.

create table instances (
    id          text primary key,
    account_id  text not null references accounts (id) on delete cascade,
    product     text not null,
    name        text not null,
    created_at  bigint not null,
    updated_at  bigint not null,
    unique (account_id, name)
);

create table license_pools (
    id              text primary key,
    account_id      text not null references accounts (id) on delete cascade,
    instance_id     text not null references instances (id) on delete cascade,
    license_type    text not null,
    seats           bigint not null,
    used            bigint not null default 0,
    -- Promote waiting users first come, first served when a seat frees up (LinkedIn: off).
    promote_waiting boolean not null default false,
    created_at      bigint not null,
    updated_at      bigint not null,
    unique (instance_id, license_type),
    constraint license_pools_seats_check check (used >= 0 and used <= seats)
);

create table license_assignments (
    id           text primary key,
    account_id   text not null,
    user_id      text not null references users (id) on delete cascade,
    pool_id      text not null references license_pools (id) on delete cascade,
    product      text not null,
    -- assigned (provisioned, not yet activated) | activated | waiting (no seat was free)
    state        text not null,
    -- First-come-first-served order of the waiting list.
    requested_at bigint not null,
    assigned_at  bigint,
    activated_at bigint,
    unique (user_id, product)
);
create index license_assignments_pool_state on license_assignments (pool_id, state, requested_at);

-- A configuration with auto-assign on names exactly one pool (instance + license type).
alter table scim_configurations add column auto_assign_pool_id text references license_pools (id) on delete set null;
