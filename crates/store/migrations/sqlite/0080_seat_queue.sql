-- Seats go through a first-come-first-served queue, always: a freed seat goes at once to
-- the longest-waiting license of its pool, so the per-pool `promote_waiting` switch
-- ("the next write that asks gets it") is gone.
alter table license_pools drop column promote_waiting;

-- Data written before the queue may show free seats beside waiting licenses (the
-- freed seat stayed free until the next write). Hand those seats to the longest
-- waiting, in arrival order, so the invariant "no free seat beside a waiting user"
-- holds from the first request on.
update license_assignments
set state = 'assigned', assigned_at = cast((julianday('now') - 2440587.5) * 86400000000 as integer)
where id in (
    select ranked.id
    from (
        select a.id, a.pool_id,
               row_number() over (partition by a.pool_id order by a.requested_at, a.requested_seq) as place
        from license_assignments a
        where a.state = 'waiting'
    ) ranked
    join license_pools p on p.id = ranked.pool_id
    where ranked.place <= p.seats - p.used
);

update license_pools
set used = (
    select count(*) from license_assignments a
    where a.pool_id = license_pools.id and a.state <> 'waiting'
);
