-- The request journal: the activity log also keeps what was exchanged (headers and
-- bodies, secrets redacted, bodies cut at `journal_body_limit`), who sent it and whether
-- the server injected a fault. No new index: the journal is written on every request and
-- read by admins and tests only.
alter table activity add column configuration_name text;
alter table activity add column user_agent text;
alter table activity add column request_headers text;
alter table activity add column request_body text;
alter table activity add column response_headers text;
alter table activity add column response_body text;
-- JSON array: which bodies were cut at the cap ("request", "response").
alter table activity add column truncated text;
-- The injected fault that answered or delayed the request, if any.
alter table activity add column injected text;
