//! The activity log: an account's SCIM requests, filtered and paged as an admin gives it.

use super::{Center, CenterError, CenterResult, export, invalid};
use crate::accounts::Account;
use crate::activity::ActivityRecord;
use crate::store::{ActivityQuery, StoreError};

/// Which activity records to show, newest first, as an admin gives them.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub limit: Option<u32>,
    /// Records older than this id (paging back).
    pub before: Option<i64>,
    pub status: Option<u16>,
    pub method: Option<String>,
    pub resource_id: Option<String>,
    /// A configuration's name.
    pub configuration: Option<String>,
    /// RFC 3339: records at or after this time.
    pub since: Option<String>,
    /// Only requests where a client departed from the RFC.
    pub tolerances: bool,
    /// Records newer than this id (paging forward, oldest first).
    pub after: Option<i64>,
    /// Only requests whose path (with its query) starts with this.
    pub path: Option<String>,
    /// Oldest first (the journal's order).
    pub oldest_first: bool,
    /// With the captured headers and bodies (the journal).
    pub with_exchange: bool,
}

impl Center {
    /// The activity records `filter` picks, as CSV.
    pub async fn export_activity(&self, account: &Account, filter: &ActivityFilter) -> CenterResult<String> {
        let records = self.activity(account, filter).await?;
        export::activity_csv(&records).map_err(|e| CenterError::Store(StoreError::Invalid(e.to_string())))
    }

    pub async fn activity(
        &self,
        account: &Account,
        filter: &ActivityFilter,
    ) -> CenterResult<Vec<ActivityRecord>> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let configuration_id = match given(&filter.configuration) {
            Some(name) => Some(
                self.configurations(account)
                    .await?
                    .into_iter()
                    .find(|c| c.name == name)
                    .ok_or_else(|| invalid("configuration", format!("no SCIM configuration {name:?}")))?
                    .id,
            ),
            None => None,
        };
        let since = match given(&filter.since) {
            Some(text) => Some(
                chrono::DateTime::parse_from_rfc3339(&text)
                    .map_err(|e| {
                        invalid(
                            "since",
                            format!("use an RFC 3339 time such as 2026-01-31T09:00:00Z ({e})"),
                        )
                    })?
                    .timestamp_micros(),
            ),
            None => None,
        };
        let query = ActivityQuery {
            limit: filter.limit.unwrap_or(100).clamp(1, 1000),
            before_id: filter.before,
            status: filter.status,
            method: given(&filter.method),
            resource_id: given(&filter.resource_id),
            configuration_id,
            since,
            with_tolerances: filter.tolerances,
            after_id: filter.after,
            path_prefix: given(&filter.path),
            oldest_first: filter.oldest_first,
            with_exchange: filter.with_exchange,
        };
        Ok(self.store.activity(&account.id, &query).await?)
    }
}
