//! What the resource tables (users, groups) share: read, lock, touch, list and delete
//! one record, and read the membership table's references.

use sqlx::{QueryBuilder, Transaction};

use super::Db;
use crate::dialect::Dialect;
use crate::query::Target;
use crate::sql::{
    CHUNK, ListView, RECORD_COLUMNS, RecordRow, SqlStore, USERS, distinct, list_queries, push_in,
};
use crate::{ListRequest, Micros, Page, Reference, References, ResourceRecord, StoreError, StoreResult};
use domain::ids::AccountId;
use scim::cursor::Cursor;

/// A membership-table row seen from one side: the owner, the related id and its display.
#[derive(sqlx::FromRow)]
struct ReferenceRow {
    owner: String,
    id: String,
    display: String,
}

impl SqlStore<Db> {
    pub(super) async fn get_record(
        &self,
        table: &str,
        account_id: &AccountId,
        id: &str,
    ) -> StoreResult<Option<ResourceRecord>> {
        let row: Option<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {RECORD_COLUMNS} from {table} where account_id = $1 and id = $2"
        )))
        .bind(account_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(ResourceRecord::from))
    }

    /// Read a record inside a write transaction, holding its row lock until commit.
    pub(super) async fn lock_record(
        tx: &mut Transaction<'static, Db>,
        table: &str,
        account_id: &AccountId,
        id: &str,
    ) -> StoreResult<ResourceRecord> {
        let row: Option<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {RECORD_COLUMNS} from {table} where account_id = $1 and id = $2{}",
            Db::LOCK_ROW
        )))
        .bind(account_id)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
        row.map(ResourceRecord::from).ok_or(StoreError::NotFound)
    }

    /// Bump a record's version and lastModified without changing its document
    /// (a group whose membership changed).
    pub(super) async fn touch_record(
        tx: &mut Transaction<'static, Db>,
        table: &str,
        account_id: &AccountId,
        id: &str,
        now: Micros,
    ) -> StoreResult<ResourceRecord> {
        let row: RecordRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update {table} set version = version + 1, updated_at = $3
             where account_id = $1 and id = $2
             returning {RECORD_COLUMNS}"
        )))
        .bind(account_id)
        .bind(id)
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(row.into())
    }

    /// A page of `table`'s records, each read as a row `R` of `columns` (aliased `r`).
    pub(super) async fn list_records<R>(
        &self,
        table: &str,
        columns: &str,
        target: &Target,
        account_id: &AccountId,
        query: &ListRequest,
        view: ListView<'_>,
    ) -> StoreResult<Page<ResourceRecord>>
    where
        R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Into<ResourceRecord> + Send + Unpin,
    {
        let (mut count_qb, mut page_qb) =
            list_queries::<Db>(table, columns, target, account_id, query, view, "")?;
        if query.filter.is_none() && view.scope.is_none() && table == USERS {
            // An account's user count is kept with every insert and delete of a user;
            // counting the rows instead grows with the account (see the migrations).
            let total: i64 = sqlx::query_scalar(
                "select cast(coalesce(sum(users), 0) as bigint) from account_user_counts where account_id = $1",
            )
            .bind(account_id)
            .fetch_one(&self.pool)
            .await?;
            let total = total.max(0) as u64;
            if query.count == 0 || query.start_index > total {
                return Ok(Page {
                    total,
                    items: Vec::new(),
                    more: false,
                });
            }
            let rows: Vec<R> = page_qb.build_query_as().fetch_all(&self.pool).await?;
            let (items, more) = cursor_page(query, rows.into_iter().map(Into::into).collect());
            return Ok(Page { total, items, more });
        }
        let (items, more) = if query.count == 0 {
            (Vec::new(), false)
        } else {
            let rows: Vec<R> = page_qb.build_query_as().fetch_all(&self.pool).await?;
            cursor_page(query, rows.into_iter().map(Into::into).collect())
        };
        // An index-paged page that is not full, or an empty first page, is the end of the
        // result: it tells the total without counting (a lookup by userName is one
        // statement). A cursor page does not know how many rows precede it.
        let before = query.start_index.saturating_sub(1);
        let seen = items.len() as u64;
        let ends =
            query.cursor.is_none() && query.count > 0 && seen < query.count && (seen > 0 || before == 0);
        let total = if ends {
            before + seen
        } else {
            let counted: i64 = count_qb.build_query_scalar().fetch_one(&self.pool).await?;
            counted.max(0) as u64
        };
        Ok(Page { total, items, more })
    }

    pub(super) async fn delete_record(
        &self,
        table: &str,
        account_id: &AccountId,
        id: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "delete from {table} where account_id = $1 and id = $2"
        )))
        .bind(account_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }

    /// The `(owner, id, display)` rows of `select` (which ends in `where`) for these
    /// owners, chunked; `owner` is the column the owner ids are matched against.
    pub(super) async fn references(
        &self,
        select: &str,
        owner: &str,
        order: &str,
        account_id: &AccountId,
        owners: &[String],
    ) -> StoreResult<References> {
        let mut out = References::new();
        for chunk in distinct(owners).chunks(CHUNK) {
            let mut qb = QueryBuilder::<Db>::new(select);
            qb.push(" gm.account_id = ");
            qb.push_bind(account_id.to_owned());
            qb.push(" and ");
            push_in(&mut qb, owner, chunk);
            qb.push(format!(" order by {order}"));
            let rows: Vec<ReferenceRow> = qb.build_query_as().fetch_all(&self.pool).await?;
            for row in rows {
                out.entry(row.owner).or_default().push(Reference {
                    id: row.id,
                    display: row.display,
                });
            }
        }
        Ok(out)
    }
}

/// A cursor page reads one row beyond it (see `list_queries`) to tell whether more
/// follow, and a previous page is read backwards: trim and order it, and say whether
/// rows lie beyond it.
fn cursor_page(query: &ListRequest, mut items: Vec<ResourceRecord>) -> (Vec<ResourceRecord>, bool) {
    let more = query.cursor.is_some() && items.len() as u64 > query.count;
    if more {
        items.truncate(usize::try_from(query.count).unwrap_or(usize::MAX));
    }
    if matches!(query.cursor, Some(Cursor::Before(_))) {
        items.reverse();
    }
    (items, more)
}
