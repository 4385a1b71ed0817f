-- Cursor paging needs a total creation order: resources created at the same clock
-- instant (a manual clock that stands still) follow the order they were inserted, not
-- their random ids, so a resource created during a walk sorts after every resource
-- already there. SQLite's rowid grows with each insert; the trigger copies it into
-- `created_seq`, the column both dialects order by.
alter table users add column created_seq bigint;
update users set created_seq = rowid;
create trigger users_created_seq after insert on users
begin
    update users set created_seq = new.rowid where rowid = new.rowid;
end;
drop index users_account_created_at;
create index users_account_created_at on users (account_id, created_at, created_seq);

alter table groups add column created_seq bigint;
update groups set created_seq = rowid;
create trigger groups_created_seq after insert on groups
begin
    update groups set created_seq = new.rowid where rowid = new.rowid;
end;
drop index groups_account_created_at;
create index groups_account_created_at on groups (account_id, created_at, created_seq);
