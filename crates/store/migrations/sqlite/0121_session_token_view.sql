-- A token just generated or refreshed in the Account Center, waiting for its one view:
-- the form's POST redirects to the Settings page, which shows it once and takes it, so a
-- reload neither shows it again nor mints another. Sealed (AES-GCM) with the server's
-- session key and bound to this session: the database never holds the token readable.
alter table admin_sessions add column token_view text;
