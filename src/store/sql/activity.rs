//! The activity log.

use async_trait::async_trait;
use sqlx::QueryBuilder;

use super::Db;
use crate::activity::ActivityRecord;
use crate::ids::AccountId;
use crate::store::dialect::Dialect;
use crate::store::sql::SqlStore;
use crate::store::{ActivityQuery, ActivityStore, Micros, StoreError, StoreResult};

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: i64,
    account_id: String,
    configuration_id: Option<String>,
    at: Micros,
    request_id: Option<String>,
    method: String,
    path: String,
    status: i32,
    latency_us: i64,
    resource_type: Option<String>,
    resource_id: Option<String>,
    outcome: Option<String>,
    detail: Option<String>,
    /// A JSON array of tolerance names, stored as text.
    tolerances: String,
}

impl TryFrom<ActivityRow> for ActivityRecord {
    type Error = StoreError;
    fn try_from(row: ActivityRow) -> StoreResult<Self> {
        Ok(ActivityRecord {
            id: Some(row.id),
            account_id: row.account_id,
            configuration_id: row.configuration_id,
            at: row.at,
            request_id: row.request_id,
            method: row.method,
            path: row.path,
            status: u16::try_from(row.status).unwrap_or_default(),
            latency_us: row.latency_us,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            outcome: row.outcome,
            detail: row.detail,
            tolerances: serde_json::from_str(&row.tolerances)
                .map_err(|e| StoreError::Invalid(e.to_string()))?,
        })
    }
}

#[async_trait]
impl ActivityStore for SqlStore<Db> {
    async fn record_activity(&self, records: &[ActivityRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<Db>::new(
            "insert into activity (account_id, configuration_id, at, request_id, method, path, status,
                                   latency_us, resource_type, resource_id, outcome, detail, tolerances) ",
        );
        let mut tolerances = Vec::with_capacity(records.len());
        for r in records {
            tolerances
                .push(serde_json::to_string(&r.tolerances).map_err(|e| StoreError::Invalid(e.to_string()))?);
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

    async fn activity(
        &self,
        account_id: &AccountId,
        query: &ActivityQuery,
    ) -> StoreResult<Vec<ActivityRecord>> {
        let mut qb = QueryBuilder::<Db>::new(
            "select id, account_id, configuration_id, at, request_id, method, path, status, latency_us,
                    resource_type, resource_id, outcome, detail, tolerances
             from activity where account_id = ",
        );
        Db::bind_text(&mut qb, account_id.to_string());
        if let Some(before) = query.before_id {
            qb.push(" and id < ");
            Db::bind_int(&mut qb, before);
        }
        if let Some(status) = query.status {
            qb.push(" and status = ");
            Db::bind_int(&mut qb, i64::from(status));
        }
        if let Some(method) = &query.method {
            qb.push(" and method = ");
            Db::bind_text(&mut qb, method.to_ascii_uppercase());
        }
        if let Some(resource_id) = &query.resource_id {
            qb.push(" and resource_id = ");
            Db::bind_text(&mut qb, resource_id.clone());
        }
        if let Some(configuration_id) = &query.configuration_id {
            qb.push(" and configuration_id = ");
            Db::bind_text(&mut qb, configuration_id.to_string());
        }
        if let Some(since) = query.since {
            qb.push(" and at >= ");
            Db::bind_int(&mut qb, since);
        }
        if query.with_tolerances {
            qb.push(" and tolerances <> '[]'");
        }
        qb.push(" order by id desc limit ");
        Db::bind_int(&mut qb, i64::from(query.limit));
        let rows: Vec<ActivityRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(ActivityRecord::try_from).collect()
    }
}
