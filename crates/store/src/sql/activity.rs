//! The activity log (the request journal).

use async_trait::async_trait;
use sqlx::{QueryBuilder, Transaction};

use super::Db;
use crate::dialect::Dialect;
use crate::sql::SqlStore;
use crate::{ActivityQuery, ActivityStore, Micros, Retention, RevokedToken, StoreError, StoreResult};
use domain::accounts::TokenHash;
use domain::activity::ActivityRecord;
use domain::activity::Exchange;
use domain::ids::AccountId;

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: i64,
    account_id: String,
    configuration_id: Option<String>,
    configuration_name: Option<String>,
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
    user_agent: Option<String>,
    /// JSON objects, stored as text.
    request_headers: Option<String>,
    request_body: Option<String>,
    response_headers: Option<String>,
    response_body: Option<String>,
    /// A JSON array of flags, stored as text: "request" / "response" (the body was cut),
    /// "request_escaped" / "response_escaped" (the body is stored [`escaped`]).
    truncated: Option<String>,
    injected: Option<String>,
}

const COLUMNS: &str =
    "account_id, configuration_id, configuration_name, at, request_id, method, path, status,
    latency_us, resource_type, resource_id, outcome, detail, tolerances, user_agent, request_headers,
    request_body, response_headers, response_body, truncated, injected";

/// The columns of the exchange (headers and bodies), each after a space and before a
/// comma in `COLUMNS`.
const EXCHANGE_COLUMNS: [&str; 4] = [
    "request_headers",
    "request_body",
    "response_headers",
    "response_body",
];

fn from_json<T: serde::de::DeserializeOwned>(text: Option<&str>) -> StoreResult<Option<T>> {
    text.map(serde_json::from_str)
        .transpose()
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

impl TryFrom<ActivityRow> for ActivityRecord {
    type Error = StoreError;
    fn try_from(row: ActivityRow) -> StoreResult<Self> {
        let truncated: Vec<String> = from_json(row.truncated.as_deref())?.unwrap_or_default();
        let flagged = |flag: &str| truncated.iter().any(|t| t == flag);
        let body = |text: Option<String>, flag: &str| {
            if flagged(flag) {
                text.map(|t| unescaped(&t))
            } else {
                text
            }
        };
        Ok(ActivityRecord {
            id: Some(row.id),
            account_id: row.account_id,
            configuration_id: row.configuration_id,
            configuration_name: row.configuration_name,
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
            user_agent: row.user_agent,
            exchange: Exchange {
                request_headers: from_json(row.request_headers.as_deref())?,
                request_body: body(row.request_body, REQUEST_ESCAPED),
                response_headers: from_json(row.response_headers.as_deref())?,
                response_body: body(row.response_body, RESPONSE_ESCAPED),
                request_body_truncated: flagged("request"),
                response_body_truncated: flagged("response"),
            },
            injected: row.injected,
        })
    }
}

/// Rows per insert statement. A batch is written as chunks of these sizes (largest
/// first), so the insert has a handful of fixed shapes the database prepares once,
/// instead of one statement text per batch size.
const CHUNKS: [usize; 4] = [64, 16, 4, 1];

const REQUEST_ESCAPED: &str = "request_escaped";
const RESPONSE_ESCAPED: &str = "response_escaped";

/// A body with a NUL character (U+0000, which a Postgres text column refuses), as
/// stored: `\` for a backslash and `\0` for a NUL, flagged in `truncated`, so the
/// journal keeps the body as sent on both backends (issue 30).
fn escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\0', "\\0")
}

fn unescaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A body as stored, and whether it was escaped.
fn stored_body(body: Option<&String>) -> (Option<String>, bool) {
    match body {
        Some(text) if text.contains('\0') => (Some(escaped(text)), true),
        other => (other.cloned(), false),
    }
}

/// A short text column (outcome, detail) cannot hold a NUL on Postgres either; it is
/// shown as U+FFFD there, on both backends.
fn storable(text: Option<&String>) -> Option<String> {
    text.map(|t| {
        if t.contains('\0') {
            t.replace('\0', "\u{fffd}")
        } else {
            t.clone()
        }
    })
}

/// One record's values in insert order, the JSON columns already encoded.
struct Encoded<'a> {
    record: &'a ActivityRecord,
    tolerances: String,
    request_headers: Option<String>,
    response_headers: Option<String>,
    request_body: Option<String>,
    response_body: Option<String>,
    truncated: Option<String>,
}

fn encode(record: &ActivityRecord) -> StoreResult<Encoded<'_>> {
    let e = &record.exchange;
    let (request_body, request_escaped) = stored_body(e.request_body.as_ref());
    let (response_body, response_escaped) = stored_body(e.response_body.as_ref());
    let truncated: Vec<&str> = [
        (e.request_body_truncated, "request"),
        (e.response_body_truncated, "response"),
        (request_escaped, REQUEST_ESCAPED),
        (response_escaped, RESPONSE_ESCAPED),
    ]
    .into_iter()
    .filter_map(|(cut, which)| cut.then_some(which))
    .collect();
    Ok(Encoded {
        record,
        tolerances: to_json(&record.tolerances)?,
        request_headers: e.request_headers.as_ref().map(to_json).transpose()?,
        response_headers: e.response_headers.as_ref().map(to_json).transpose()?,
        request_body,
        response_body,
        truncated: (!truncated.is_empty()).then(|| to_json(&truncated)).transpose()?,
    })
}

impl SqlStore<Db> {
    /// Insert activity records inside `tx`: the writer task's batches, and the records a
    /// seat change writes in its own transaction (promotions from the queue).
    pub(super) async fn insert_activity(
        tx: &mut Transaction<'static, Db>,
        records: &[ActivityRecord],
    ) -> StoreResult<()> {
        let encoded = records.iter().map(encode).collect::<StoreResult<Vec<_>>>()?;
        let mut rest = encoded.as_slice();
        for size in CHUNKS {
            while rest.len() >= size {
                let (chunk, tail) = rest.split_at(size);
                rest = tail;
                let mut qb = QueryBuilder::<Db>::new(format!("insert into activity ({COLUMNS}) "));
                qb.push_values(chunk, |mut row, e| {
                    let r = e.record;
                    row.push_bind(r.account_id.clone())
                        .push_bind(r.configuration_id.clone())
                        .push_bind(r.configuration_name.clone())
                        .push_bind(r.at)
                        .push_bind(r.request_id.clone())
                        .push_bind(r.method.clone())
                        .push_bind(r.path.clone())
                        .push_bind(i32::from(r.status))
                        .push_bind(r.latency_us)
                        .push_bind(r.resource_type.clone())
                        .push_bind(r.resource_id.clone())
                        .push_bind(storable(r.outcome.as_ref()))
                        .push_bind(storable(r.detail.as_ref()))
                        .push_bind(e.tolerances.clone())
                        .push_bind(r.user_agent.clone())
                        .push_bind(e.request_headers.clone())
                        .push_bind(e.request_body.clone())
                        .push_bind(e.response_headers.clone())
                        .push_bind(e.response_body.clone())
                        .push_bind(e.truncated.clone())
                        .push_bind(r.injected.clone());
                });
                qb.build().execute(&mut **tx).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ActivityStore for SqlStore<Db> {
    async fn record_activity(&self, records: &[ActivityRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::insert_activity(&mut tx, records).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn activity(
        &self,
        account_id: &AccountId,
        query: &ActivityQuery,
    ) -> StoreResult<Vec<ActivityRecord>> {
        // The activity views (newest first) never show headers and bodies: leave them out.
        let columns = if query.with_exchange {
            COLUMNS.to_owned()
        } else {
            EXCHANGE_COLUMNS.iter().fold(COLUMNS.to_owned(), |list, c| {
                list.replace(&format!(" {c},"), &format!(" null as {c},"))
            })
        };
        let mut qb =
            QueryBuilder::<Db>::new(format!("select id, {columns} from activity where account_id = "));
        Db::bind_text(&mut qb, account_id.to_string());
        if let Some(before) = query.before_id {
            qb.push(" and id < ");
            Db::bind_int(&mut qb, before);
        }
        if let Some(after) = query.after_id {
            qb.push(" and id > ");
            Db::bind_int(&mut qb, after);
        }
        if let Some(status) = query.status {
            qb.push(" and status = ");
            Db::bind_int(&mut qb, i64::from(status));
        }
        if let Some(method) = &query.method {
            qb.push(" and method = ");
            Db::bind_text(&mut qb, method.to_ascii_uppercase());
        }
        if let Some(prefix) = &query.path_prefix {
            // A case-sensitive prefix test in both dialects (`like` is not: SQLite folds ASCII).
            qb.push(" and substr(path, 1, cast(");
            Db::bind_int(&mut qb, i64::try_from(prefix.chars().count()).unwrap_or(i64::MAX));
            qb.push(" as integer)) = ");
            Db::bind_text(&mut qb, prefix.clone());
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
        qb.push(if query.oldest_first {
            " order by id limit "
        } else {
            " order by id desc limit "
        });
        Db::bind_int(&mut qb, i64::from(query.limit));
        let rows: Vec<ActivityRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(ActivityRecord::try_from).collect()
    }

    async fn prune_activity(&self, retention: &Retention, now: Micros) -> StoreResult<u64> {
        let mut pruned = 0;
        if let Some(max_age) = retention.max_age_micros {
            pruned += delete_activity_in_chunks(
                self.write_pool(),
                "delete from activity where id in (select id from activity where at < $1 order by id limit $2)",
                now.saturating_sub(max_age),
            )
            .await?;
        }
        if let Some(max_rows) = retention.max_rows {
            // The id below which rows are beyond the newest `max_rows`.
            let cutoff: Option<i64> =
                sqlx::query_scalar("select id from activity order by id desc limit 1 offset $1")
                    .bind(i64::try_from(max_rows).unwrap_or(i64::MAX))
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some(cutoff) = cutoff {
                pruned += delete_activity_in_chunks(
                    self.write_pool(),
                    "delete from activity where id in (select id from activity where id <= $1 order by id limit $2)",
                    cutoff,
                )
                .await?;
            }
        }
        Ok(pruned)
    }

    async fn revoked_token(&self, hash: &TokenHash) -> StoreResult<Option<RevokedToken>> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "select r.account_id, r.configuration_id, r.configuration_name from revoked_tokens r
             join accounts a on a.id = r.account_id where r.token_hash = $1",
        )
        .bind(&hash.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(account_id, configuration_id, configuration_name)| RevokedToken {
                account_id,
                configuration_id,
                configuration_name,
            },
        ))
    }
}

/// Run `delete` (`$1` = `bound`, `$2` = a chunk size) until it deletes less than a chunk:
/// small deletes, each its own statement, so a writer never waits long behind one.
async fn delete_activity_in_chunks(
    pool: &sqlx::Pool<Db>,
    delete: &'static str,
    bound: i64,
) -> StoreResult<u64> {
    const CHUNK: i64 = 1000;
    let mut deleted = 0;
    loop {
        let chunk = sqlx::query(delete)
            .bind(bound)
            .bind(CHUNK)
            .execute(pool)
            .await?
            .rows_affected();
        deleted += chunk;
        if chunk < u64::try_from(CHUNK).unwrap_or(u64::MAX) {
            return Ok(deleted);
        }
        tokio::task::yield_now().await;
    }
}
