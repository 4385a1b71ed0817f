-- First come, first served needs a total order: requests made at the same clock instant
-- (a manual clock that stands still, or a coarse system clock) are served in the order
-- they were recorded, not by their random ids. SQLite's rowid grows with each insert;
-- the trigger copies it into `requested_seq`, the column both dialects order by.
alter table license_assignments add column requested_seq bigint;
update license_assignments set requested_seq = rowid;
create trigger license_assignments_requested_seq after insert on license_assignments
begin
    update license_assignments set requested_seq = new.rowid where rowid = new.rowid;
end;
drop index license_assignments_pool_state;
create index license_assignments_pool_state on license_assignments (pool_id, state, requested_at, requested_seq);
