//! Account Center sessions: a row per signed-in browser, deleted at sign-out, holding
//! the notes its actions leave for the next page.

use async_trait::async_trait;

use super::Db;
use crate::sql::SqlStore;
use crate::{AdminSession, Micros, SessionNote, SessionStore, StoreResult};

#[async_trait]
impl SessionStore for SqlStore<Db> {
    async fn start_session(&self, session: &AdminSession, now: Micros) -> StoreResult<()> {
        // Expired rows go at each sign-in, so the table holds live sessions only.
        let mut tx = self.begin_write().await?;
        sqlx::query("delete from admin_sessions where expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into admin_sessions (id, csrf, created_at, expires_at) values ($1, $2, $3, $4)")
            .bind(&session.id)
            .bind(&session.csrf)
            .bind(now)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn live_session(&self, id: &str, now: Micros) -> StoreResult<Option<AdminSession>> {
        let row: Option<(String, String, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "select id, csrf, expires_at, flash, token_view from admin_sessions where id = $1 and expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id, csrf, expires_at, flash, token_view)| AdminSession {
            id,
            csrf,
            expires_at,
            flash,
            token_view,
        }))
    }

    async fn end_session(&self, id: &str) -> StoreResult<()> {
        sqlx::query("delete from admin_sessions where id = $1")
            .bind(id)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn end_all_sessions(&self) -> StoreResult<u64> {
        let done = sqlx::query("delete from admin_sessions")
            .execute(self.write_pool())
            .await?;
        Ok(done.rows_affected())
    }

    async fn put_session_note(&self, id: &str, note: SessionNote, value: &str) -> StoreResult<()> {
        let sql = match note {
            SessionNote::Flash => "update admin_sessions set flash = $2 where id = $1",
            SessionNote::TokenView => "update admin_sessions set token_view = $2 where id = $1",
        };
        sqlx::query(sql)
            .bind(id)
            .bind(value)
            .execute(self.write_pool())
            .await?;
        Ok(())
    }

    async fn take_session_note(&self, id: &str, note: SessionNote, seen: &str) -> StoreResult<bool> {
        // Conditional on the value read, so of two pages loaded at once only one shows it.
        let sql = match note {
            SessionNote::Flash => "update admin_sessions set flash = null where id = $1 and flash = $2",
            SessionNote::TokenView => {
                "update admin_sessions set token_view = null where id = $1 and token_view = $2"
            }
        };
        let done = sqlx::query(sql)
            .bind(id)
            .bind(seen)
            .execute(self.write_pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
