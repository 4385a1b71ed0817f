//! Persistence: one Store API, implemented once in SQL (`sql.rs`) for two dialects,
//! SQLite (the embedded default) and Postgres. Dialect differences live in `dialect.rs`.

mod dialect;
mod query;
mod sql;

use async_trait::async_trait;
use serde_json::Value;

use crate::accounts::{Account, Fidelity, Principal, ScimConfiguration, TokenHash};
pub use crate::scim::list::{ListRequest, SortOrder};
use crate::scim::tolerance::ClientProfile;

pub use sql::connect;

/// Microseconds since the Unix epoch: how every timestamp is stored.
pub type Micros = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write; the detail names the attribute.
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// The row changed since the caller read it (optimistic concurrency / If-Match).
    #[error("version mismatch")]
    VersionMismatch,
    /// The caller handed the store something it cannot persist (a bug upstream).
    #[error("invalid record: {0}")]
    Invalid(String),
    /// The query could not be translated (bad filter or sortBy), for the client.
    #[error(transparent)]
    Query(#[from] crate::scim::error::ProtocolError),
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A stored SCIM resource: the canonical document (attributes only, no `id`/`meta`)
/// plus what the store owns.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    pub id: String,
    pub doc: Value,
    pub version: i64,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// A new SCIM configuration and the hash of its token.
#[derive(Debug, Clone)]
pub struct NewConfiguration<'a> {
    pub account_id: &'a str,
    pub name: &'a str,
    pub client_profile: ClientProfile,
    pub token_hash: &'a TokenHash,
    pub token_expires_at: Option<Micros>,
}

/// Why a presented token does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Unknown,
    Expired,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Create the account if no account has this name; return it either way.
    async fn ensure_account(&self, name: &str, fidelity: Fidelity, now: Micros) -> StoreResult<Account>;
    /// Create or update (by account and name) a configuration, setting its token hash.
    async fn put_configuration(
        &self,
        config: NewConfiguration<'_>,
        now: Micros,
    ) -> StoreResult<ScimConfiguration>;
    async fn count_accounts(&self) -> StoreResult<u64>;
    /// Who a token hash belongs to.
    async fn authenticate(
        &self,
        token: &TokenHash,
        now: Micros,
    ) -> StoreResult<Result<Principal, TokenRejection>>;
}

/// A read-modify-write step: the current record in, the new document out (`None`:
/// leave it unchanged), or an error that aborts the write.
pub type Change<'a> = dyn for<'r> FnMut(&'r ResourceRecord) -> StoreResult<Option<Value>> + Send + 'a;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Insert a user; `Conflict` when the userName is taken in the account.
    async fn create_user(&self, account_id: &str, doc: &Value, now: Micros) -> StoreResult<ResourceRecord>;
    async fn get_user(&self, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>>;
    /// Read-modify-write under a row lock: `change` sees the current record and returns
    /// the new document, or `None` to leave it as it is. Concurrent modifications of one
    /// user queue on the lock, so none is lost. An error from `change` aborts the write.
    async fn modify_user(
        &self,
        account_id: &str,
        id: &str,
        now: Micros,
        change: &mut Change<'_>,
    ) -> StoreResult<ResourceRecord>;
    /// Remove a user; false when there was none.
    async fn delete_user(&self, account_id: &str, id: &str) -> StoreResult<bool>;
    async fn list_users(&self, account_id: &str, query: &ListRequest) -> StoreResult<Page<ResourceRecord>>;
    /// Insert many already-normalized user documents in one transaction, with multi-row
    /// inserts (seeds, bulk imports, the benchmark): far faster than one `create_user`
    /// each. All or nothing; `Conflict` when a userName is taken. Returns how many.
    async fn import_users(&self, account_id: &str, docs: &[Value], now: Micros) -> StoreResult<u64>;
    /// The database's plan for the queries `list_users` would run (page, then count),
    /// each introduced by a `-- page: <sql>` line: for checking index use.
    async fn explain_list_users(&self, account_id: &str, query: &ListRequest) -> StoreResult<Vec<String>>;
}

/// Everything the HTTP layer needs, behind one object.
pub trait Store: AccountStore + UserStore {}
impl<T: AccountStore + UserStore> Store for T {}

/// The indexed columns derived from a user document: computed in one place so that the
/// columns can never disagree with the JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UserColumns {
    pub user_name: String,
    pub user_name_key: String,
    pub external_id: Option<String>,
    pub display_name_key: Option<String>,
    pub active: bool,
    pub email_keys: Vec<String>,
}

/// The case fold used for every case-insensitive comparison, in Rust and in SQL alike:
/// ASCII only, because SQLite's `lower()` is ASCII-only.
pub fn fold_case(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl UserColumns {
    pub fn from_doc(doc: &Value) -> StoreResult<UserColumns> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let user_name =
            text("userName").ok_or_else(|| StoreError::Invalid("user without userName".into()))?;
        let mut email_keys: Vec<String> = doc
            .get("emails")
            .and_then(Value::as_array)
            .map(|emails| {
                emails
                    .iter()
                    .filter_map(|e| e.get("value").and_then(Value::as_str))
                    .map(fold_case)
                    .collect()
            })
            .unwrap_or_default();
        email_keys.sort();
        email_keys.dedup();
        Ok(UserColumns {
            user_name_key: fold_case(&user_name),
            user_name,
            external_id: text("externalId"),
            display_name_key: text("displayName").as_deref().map(fold_case),
            // RFC 7643 leaves a missing `active` to the provider; a provisioned user is active.
            active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
            email_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_columns_come_from_the_document() {
        let cols = UserColumns::from_doc(&json!({
            "userName": "Alice@Example.com",
            "externalId": "A1",
            "emails": [{"value": "Alice@Example.com"}, {"value": "alice@example.com"}, {"type": "x"}],
            "active": false
        }))
        .expect("columns");
        assert_eq!(cols.user_name_key, "alice@example.com");
        assert_eq!(cols.email_keys, vec!["alice@example.com".to_string()]);
        assert!(!cols.active);
        assert_eq!(cols.external_id.as_deref(), Some("A1"));
        assert!(UserColumns::from_doc(&json!({})).is_err());
    }
}
