-- Account Center sign-in sessions, kept server-side so that signing out (or "sign out
-- everywhere") ends a session on every replica and across restarts: a cookie copied
-- before sign-out is refused afterwards. The cookie names the row; the row holds the
-- session's CSRF token.
create table admin_sessions (
    id text primary key,
    csrf text not null,
    created_at bigint not null,
    expires_at bigint not null
);
create index admin_sessions_expiry on admin_sessions (expires_at);
