-- How many users each account has, kept by the store in the same transaction as every
-- insert and delete of a user: an unfiltered list (Okta "Import users" paging through
-- an account) reads its totalResults here instead of counting every row, which grows
-- with the account (about 50 ms per request at 1M users).
-- Numbered 0004 to leave room for migrations on other branches.
alter table accounts add column user_count bigint not null default 0;
update accounts set user_count = (select count(*) from users u where u.account_id = accounts.id);
