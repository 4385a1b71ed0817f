//! Snapshots: an account's rows out as JSON, and back in one transaction.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::{QueryBuilder, Row as _};

use super::Db;
use crate::dialect::Dialect;
use crate::sql::SqlStore;
use crate::{Micros, SnapshotStore, StoreError, StoreResult};
use domain::accounts::{Account, BearerToken};
use domain::ids::PoolId;
use domain::snapshot::{ColumnType, FORMAT, Row, Snapshot, SnapshotAccount, TABLES, TOKEN_HASH};

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// A column as the select reads it: JSON as text (jsonb on Postgres).
fn select_expr(column: &str, kind: ColumnType) -> String {
    match kind {
        ColumnType::Json => format!("cast({column} as text) as {column}"),
        _ => column.to_owned(),
    }
}

fn read_value(row: &<Db as sqlx::Database>::Row, column: &str, kind: ColumnType) -> StoreResult<Value> {
    Ok(match kind {
        ColumnType::Text => row
            .try_get::<Option<String>, _>(column)?
            .map_or(Value::Null, Value::String),
        ColumnType::Int => row
            .try_get::<Option<i64>, _>(column)?
            .map_or(Value::Null, Value::from),
        ColumnType::Bool => row
            .try_get::<Option<bool>, _>(column)?
            .map_or(Value::Null, Value::Bool),
        ColumnType::Json => match row.try_get::<Option<String>, _>(column)? {
            Some(text) => serde_json::from_str(&text).map_err(invalid)?,
            None => Value::Null,
        },
    })
}

fn bind_value(qb: &mut QueryBuilder<Db>, value: Option<&Value>, kind: ColumnType) -> StoreResult<()> {
    let value = value.filter(|v| !v.is_null());
    match kind {
        ColumnType::Text => {
            let text = value
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid(format!("{v}: not a string")))
                })
                .transpose()?;
            qb.push_bind(text);
        }
        ColumnType::Int => {
            let n = value
                .map(|v| v.as_i64().ok_or_else(|| invalid(format!("{v}: not an integer"))))
                .transpose()?;
            qb.push_bind(n);
        }
        ColumnType::Bool => {
            let b = value
                .map(|v| v.as_bool().ok_or_else(|| invalid(format!("{v}: not a boolean"))))
                .transpose()?;
            qb.push_bind(b);
        }
        ColumnType::Json => {
            qb.push_bind(value.map(Value::to_string));
            qb.push(Db::JSON_PARAM);
        }
    }
    Ok(())
}

#[async_trait]
impl SnapshotStore for SqlStore<Db> {
    async fn export_snapshot(&self, account: &Account, token_hashes: bool) -> StoreResult<Snapshot> {
        let mut tables = std::collections::BTreeMap::new();
        for table in TABLES {
            let columns: Vec<_> = table
                .columns
                .iter()
                .filter(|(c, _)| token_hashes || *c != TOKEN_HASH)
                .collect();
            let list: Vec<String> = columns.iter().map(|(c, k)| select_expr(c, *k)).collect();
            let sql = format!(
                "select {} from {} where account_id = $1 order by {}",
                list.join(", "),
                table.name,
                table.order_by
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(account.id.to_string())
                .fetch_all(&self.pool)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let mut values = Row::new();
                for (column, kind) in &columns {
                    values.insert((*column).to_owned(), read_value(row, column, *kind)?);
                }
                out.push(values);
            }
            tables.insert(table.name.to_owned(), out);
        }
        let fidelity: String =
            sqlx::query_scalar("select cast(fidelity as text) from accounts where id = $1")
                .bind(account.id.to_string())
                .fetch_one(&self.pool)
                .await?;
        Ok(Snapshot {
            format: FORMAT.to_owned(),
            account: SnapshotAccount {
                name: account.name.clone(),
                fidelity: serde_json::from_str(&fidelity).map_err(invalid)?,
            },
            tables,
        })
    }

    async fn restore_snapshot(&self, account: &Account, snapshot: &Snapshot, now: Micros) -> StoreResult<()> {
        let account_id = account.id.to_string();
        let mut tx = self.begin_write().await?;
        // Configurations first drop their pool reference; then rows go, references last.
        sqlx::query("update scim_configurations set auto_assign_pool_id = null where account_id = $1")
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        for table in TABLES.iter().rev() {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "delete from {} where account_id = $1",
                table.name
            )))
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        }
        for table in TABLES {
            for row in snapshot.tables.get(table.name).into_iter().flatten() {
                let mut qb = QueryBuilder::<Db>::new(format!("insert into {} (account_id", table.name));
                let mut columns: Vec<(&str, ColumnType)> = table.columns.to_vec();
                if table.name == "scim_configurations" && !row.contains_key(TOKEN_HASH) {
                    columns.retain(|(c, _)| *c != TOKEN_HASH);
                    qb.push(", ").push(TOKEN_HASH);
                }
                for (column, _) in &columns {
                    qb.push(", ").push(*column);
                }
                qb.push(") values (");
                qb.push_bind(account_id.clone());
                if table.name == "scim_configurations" && !row.contains_key(TOKEN_HASH) {
                    // No hash in the snapshot: a token nobody holds, until refreshed.
                    qb.push(", ").push_bind(BearerToken::generate().hash().0);
                }
                for (column, kind) in &columns {
                    qb.push(", ");
                    bind_value(&mut qb, row.get(*column), *kind)?;
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
        }
        let mut qb = QueryBuilder::<Db>::new("update accounts set fidelity = ");
        qb.push_bind(snapshot.account.fidelity.to_string());
        qb.push(Db::JSON_PARAM);
        qb.push(" where id = ");
        qb.push_bind(account_id.clone());
        qb.build().execute(&mut *tx).await?;
        // No free seat beside a waiting user, even from a snapshot taken before the queue.
        let pools: Vec<PoolId> =
            sqlx::query_scalar("select id from license_pools where account_id = $1 order by id")
                .bind(&account_id)
                .fetch_all(&mut *tx)
                .await?;
        for pool in &pools {
            Self::serve_queue(&mut tx, pool, now).await?;
        }
        // The user count (see migration 0070) starts again from the restored rows.
        sqlx::query("delete from account_user_counts where account_id = $1")
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "insert into account_user_counts (account_id, shard, users)
             select $1, 0, count(*) from users where account_id = $1",
        )
        .bind(&account_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        // Restored configurations carry other token hashes.
        self.principals_changed().await;
        Ok(())
    }
}
