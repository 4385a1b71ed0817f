-- An account's user count (see 0004), split over 16 rows, chosen by the first hex digit
-- of the user's id: every create and delete added to the one `accounts.user_count` row,
-- which queued concurrent creates in an account behind that row's lock until commit.
-- An unfiltered list's totalResults is the sum of the account's rows (at most 16), still
-- never a count over the users table.
create table account_user_counts (
    account_id text not null references accounts (id) on delete cascade,
    shard      integer not null,
    users      bigint not null,
    primary key (account_id, shard)
);
insert into account_user_counts (account_id, shard, users)
    select id, 0, user_count from accounts where user_count <> 0;
alter table accounts drop column user_count;
