//! The activity log's storage, for both dialects.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{ActivityQuery, ActivityStore, StoreError, StoreResult};
use crate::activity::ActivityRecord;

macro_rules! activity_store {
    ($db:ty) => {
        #[async_trait]
        impl ActivityStore for SqlStore<$db> {
            async fn record_activity(&self, records: &[ActivityRecord]) -> StoreResult<()> {
                if records.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "insert into activity (account_id, configuration_id, at, request_id, method, path, status,
                                           latency_us, resource_type, resource_id, outcome, detail, tolerances) ",
                );
                let mut tolerances = Vec::with_capacity(records.len());
                for r in records {
                    tolerances.push(serde_json::to_string(&r.tolerances).map_err(|e| StoreError::Invalid(e.to_string()))?);
                }
                qb.push_values(records.iter().zip(tolerances), |mut row, (r, tolerances)| {
                    row.push_bind(r.account_id.clone())
                        .push_bind(r.configuration_id.clone())
                        .push_bind(r.at)
                        .push_bind(r.request_id.clone())
                        .push_bind(r.method.clone())
                        .push_bind(r.path.clone())
                        .push_bind(i32::from(r.status))
                        .push_bind(r.latency_us)
                        .push_bind(r.resource_type.clone())
                        .push_bind(r.resource_id.clone())
                        .push_bind(r.outcome.clone())
                        .push_bind(r.detail.clone())
                        .push_bind(tolerances);
                });
                qb.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn activity(&self, account_id: &str, query: &ActivityQuery) -> StoreResult<Vec<ActivityRecord>> {
                let mut qb = QueryBuilder::<$db>::new(
                    "select id, account_id, configuration_id, at, request_id, method, path, status, latency_us,
                            resource_type, resource_id, outcome, detail, tolerances
                     from activity where account_id = ",
                );
                <$db as Dialect>::bind_text(&mut qb, account_id.to_owned());
                if let Some(before) = query.before_id {
                    qb.push(" and id < ");
                    <$db as Dialect>::bind_int(&mut qb, before);
                }
                if let Some(status) = query.status {
                    qb.push(" and status = ");
                    <$db as Dialect>::bind_int(&mut qb, i64::from(status));
                }
                if let Some(method) = &query.method {
                    qb.push(" and method = ");
                    <$db as Dialect>::bind_text(&mut qb, method.to_ascii_uppercase());
                }
                if let Some(resource_id) = &query.resource_id {
                    qb.push(" and resource_id = ");
                    <$db as Dialect>::bind_text(&mut qb, resource_id.clone());
                }
                if let Some(configuration_id) = &query.configuration_id {
                    qb.push(" and configuration_id = ");
                    <$db as Dialect>::bind_text(&mut qb, configuration_id.clone());
                }
                if let Some(since) = query.since {
                    qb.push(" and at >= ");
                    <$db as Dialect>::bind_int(&mut qb, since);
                }
                if query.with_tolerances {
                    qb.push(" and tolerances <> '[]'");
                }
                qb.push(" order by id desc limit ");
                <$db as Dialect>::bind_int(&mut qb, i64::from(query.limit));
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        let tolerances: String = row.try_get("tolerances")?;
                        let status: i32 = row.try_get("status")?;
                        Ok(ActivityRecord {
                            id: Some(row.try_get("id")?),
                            account_id: row.try_get("account_id")?,
                            configuration_id: row.try_get("configuration_id")?,
                            at: row.try_get("at")?,
                            request_id: row.try_get("request_id")?,
                            method: row.try_get("method")?,
                            path: row.try_get("path")?,
                            status: u16::try_from(status).unwrap_or_default(),
                            latency_us: row.try_get("latency_us")?,
                            resource_type: row.try_get("resource_type")?,
                            resource_id: row.try_get("resource_id")?,
                            outcome: row.try_get("outcome")?,
                            detail: row.try_get("detail")?,
                            tolerances: serde_json::from_str(&tolerances).map_err(|e| StoreError::Invalid(e.to_string()))?,
                        })
                    })
                    .collect()
            }
        }
    };
}

activity_store!(Sqlite);
activity_store!(Postgres);
