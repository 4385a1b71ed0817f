//! Persistence: one Store API, implemented once in SQL (`sql.rs`) for two dialects,
//! SQLite (the embedded default) and Postgres. Dialect differences live in `dialect.rs`.

mod activity;
mod center;
mod dialect;
mod query;
mod seats;
mod sql;

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use crate::accounts::{Account, Fidelity, PatchResponse, Principal, ScimConfiguration, TokenHash};
use crate::activity::ActivityRecord;
use crate::licensing::{License, Product, SeatChange, SeatRequest};
use crate::scim::error::ProtocolError;
use crate::scim::filter::{CompareOp, Filter};
pub use crate::scim::list::{ListRequest, SortOrder};
use crate::scim::patch::DeferredOp;
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
    /// The write needs a license seat and the pool is full (fidelity `when_pool_full = refuse`),
    /// or an admin change would leave more seats in use than the pool has.
    #[error("{0}")]
    Seats(String),
    /// The account's fidelity settings forbid this admin edit.
    #[error("{0}")]
    Locked(String),
    /// The row changed since the caller read it (optimistic concurrency / If-Match).
    #[error("version mismatch")]
    VersionMismatch,
    /// The caller handed the store something it cannot persist (a bug upstream).
    #[error("invalid record: {0}")]
    Invalid(String),
    /// The query could not be translated (bad filter or sortBy), for the client.
    #[error(transparent)]
    Query(#[from] ProtocolError),
    /// Member ids that are not users of the account (a client error: 400 invalidValue).
    #[error("no user of this account has the id {0:?}")]
    UnknownMembers(Vec<String>),
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
    /// Auto-assign on: the pool it assigns from.
    pub auto_assign_pool_id: Option<&'a str>,
    pub patch_response: PatchResponse,
}

/// A user write and what it did to the user's licenses.
#[derive(Debug, Clone, PartialEq)]
pub struct UserWrite {
    pub record: ResourceRecord,
    pub seats: SeatChange,
}

/// An application instance: one product contract inside an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    pub product: Product,
    pub name: String,
}

/// A license pool and how it is used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolUsage {
    pub id: String,
    pub instance_id: String,
    pub instance: String,
    pub product: String,
    pub license_type: String,
    pub seats: i64,
    pub used: i64,
    pub waiting: i64,
    pub promote_waiting: bool,
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
    /// Create or update (by account and name) a configuration, setting its token hash
    /// unless the configuration's token was set at runtime (a seed never undoes that).
    async fn put_configuration(
        &self,
        config: NewConfiguration<'_>,
        now: Micros,
    ) -> StoreResult<ScimConfiguration>;
    async fn count_accounts(&self) -> StoreResult<u64>;
    /// Can the database answer right now? (readiness)
    async fn ping(&self) -> StoreResult<()>;
    /// Test-harness reset: remove every user, group, license assignment and activity
    /// record of the account, freeing all seats; configurations, tokens, instances and
    /// pools stay. Returns (users, groups) removed.
    async fn reset_account(&self, account_id: &str) -> StoreResult<(u64, u64)>;
    async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    /// Replace a configuration's token (refresh): the old one stops working at once.
    /// False when the account has no configuration of that name.
    async fn replace_token(
        &self,
        account_id: &str,
        configuration: &str,
        token: &TokenHash,
        expires_at: Option<Micros>,
        now: Micros,
    ) -> StoreResult<bool>;
    /// Who a token hash belongs to.
    async fn authenticate(
        &self,
        token: &TokenHash,
        now: Micros,
    ) -> StoreResult<Result<Principal, TokenRejection>>;
}

/// A read-modify-write step: the current record in, the change out (`None`: leave it
/// unchanged), or an error that aborts the write. For users the change is the new
/// document; for groups a [`GroupUpdate`].
pub type Change<'a, T = Value> = dyn for<'r> FnMut(&'r ResourceRecord) -> StoreResult<Option<T>> + Send + 'a;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Insert a user and apply the licensing rules for `seat` in the same transaction;
    /// `Conflict` when the userName is taken in the account.
    async fn create_user(
        &self,
        account_id: &str,
        doc: &Value,
        seat: &SeatRequest,
        now: Micros,
    ) -> StoreResult<UserWrite>;
    async fn get_user(&self, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>>;
    /// Read-modify-write under a row lock: `change` sees the current record and returns
    /// the new document, or `None` to leave it as it is. Concurrent modifications of one
    /// user queue on the lock, so none is lost. An error from `change` aborts the write.
    /// The licensing rules for `seat` run in the same transaction, even when the
    /// document is unchanged (an IdP "touching" a user it matched claims its seat).
    async fn modify_user(
        &self,
        account_id: &str,
        id: &str,
        seat: &SeatRequest,
        now: Micros,
        change: &mut Change<'_>,
    ) -> StoreResult<UserWrite>;
    /// Remove a user, releasing its seats and dropping its group memberships (bumping
    /// those groups' versions); false when there was none.
    async fn delete_user(&self, account_id: &str, id: &str, now: Micros) -> StoreResult<bool>;
    async fn list_users(&self, account_id: &str, query: &ListRequest) -> StoreResult<Page<ResourceRecord>>;
    /// Insert many already-normalized user documents in one transaction, with multi-row
    /// inserts (seeds, bulk imports, the benchmark): far faster than one `create_user`
    /// each. All or nothing; `Conflict` when a userName is taken. Returns how many.
    async fn import_users(&self, account_id: &str, docs: &[Value], now: Micros) -> StoreResult<u64>;
    /// The database's plan for the queries `list_users` would run (page, then count),
    /// each introduced by a `-- page: <sql>` line: for checking index use.
    async fn explain_list_users(&self, account_id: &str, query: &ListRequest) -> StoreResult<Vec<String>>;
}

/// Where a group membership came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberOrigin {
    /// Written by an IdP over SCIM.
    Scim,
    /// Added in the Account Center (admin API). A SCIM replace of members keeps these:
    /// LinkedIn keeps members added directly in LinkedIn when an IdP re-pushes a group.
    Admin,
}

impl MemberOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberOrigin::Scim => "scim",
            MemberOrigin::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<MemberOrigin> {
        match s {
            "scim" => Some(MemberOrigin::Scim),
            "admin" => Some(MemberOrigin::Admin),
            _ => None,
        }
    }
}

/// One change to a group's membership, carried out inside the group's write. Never needs
/// the member list: each op costs the same whatever the group's size.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    /// Add these users as `scim` members; existing members are left as they are.
    Add(Vec<String>),
    /// Remove these members, whatever their origin: the IdP named them.
    Remove(Vec<String>),
    /// Remove the members matching this filter (paths relative to one member:
    /// `value`, `display`, `type`).
    RemoveWhere(Filter),
    /// Make the `scim` members exactly these users; `admin` members stay (PUT, PATCH
    /// `replace` of members, PATCH `remove` of all members).
    ReplaceScim(Vec<String>),
}

impl MemberOp {
    /// The store's form of a PATCH operation on `members` (see `scim::patch`).
    /// `remove` of every member is a replace with none: like any SCIM replace it keeps the
    /// `admin` members. `members[value eq "u"]` becomes a removal by id (a primary-key
    /// delete); other filters are run against the membership table.
    pub fn from_deferred(op: DeferredOp) -> Result<MemberOp, ProtocolError> {
        Ok(match op {
            DeferredOp::Add(items) => MemberOp::Add(member_ids(&items)?),
            DeferredOp::Remove(items) => MemberOp::Remove(member_ids(&items)?),
            DeferredOp::RemoveAll => MemberOp::ReplaceScim(Vec::new()),
            DeferredOp::Replace(items) => MemberOp::ReplaceScim(member_ids(&items)?),
            DeferredOp::RemoveWhere(filter) => match &filter {
                Filter::Compare {
                    path,
                    op: CompareOp::Eq,
                    value: Value::String(id),
                } if path.urn.is_none() && path.sub.is_none() && path.name.eq_ignore_ascii_case("value") => {
                    // members.value is caseExact=false; ids are generated lower-case.
                    MemberOp::Remove(vec![fold_case(id)])
                }
                _ => MemberOp::RemoveWhere(filter),
            },
        })
    }
}

/// The user ids of `members` values (`{"value": id, …}`). Only users can be members
/// (LinkedIn groups hold people): a `type` other than `User` is `invalidValue`. Other
/// sub-attributes (`display`, `$ref`) are the server's to fill in and are ignored, also
/// when a `remove` lists them.
pub fn member_ids(items: &[Value]) -> Result<Vec<String>, ProtocolError> {
    items
        .iter()
        .map(|item| {
            let id = item
                .get("value")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    ProtocolError::invalid_value("members: every member needs a \"value\" (a user id)")
                })?;
            match item.get("type").and_then(Value::as_str) {
                Some(t) if !t.eq_ignore_ascii_case("User") => Err(ProtocolError::invalid_value(format!(
                    "members: {id} has type {t:?}; groups hold users only (no nested groups)"
                ))),
                _ => Ok(id.to_owned()),
            }
        })
        .collect()
}

/// What a group write changes: the document (`None`: unchanged) and the membership.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupUpdate {
    pub doc: Option<Value>,
    pub members: Vec<MemberOp>,
}

/// A resource related through the membership table: a group's member (id and the
/// user's displayName, else userName) or a user's group (id and displayName).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub id: String,
    pub display: String,
}

/// The references of each owner id; owners with none are absent.
pub type References = HashMap<String, Vec<Reference>>;

#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Insert a group and its initial `scim` members in one transaction: `Conflict` when
    /// the displayName is taken (case-insensitively), `UnknownMembers` when a member id
    /// is not a user of the account (nothing is written).
    async fn create_group(
        &self,
        account_id: &str,
        doc: &Value,
        members: &[String],
        now: Micros,
    ) -> StoreResult<ResourceRecord>;
    /// The group without its members (see [`GroupStore::group_members`]).
    async fn get_group(&self, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>>;
    /// Read-modify-write under a row lock, like [`UserStore::modify_user`]; the document
    /// and the membership change in one transaction, and the version is bumped when
    /// either changed. The member list is never loaded.
    async fn modify_group(
        &self,
        account_id: &str,
        id: &str,
        now: Micros,
        change: &mut Change<'_, GroupUpdate>,
    ) -> StoreResult<ResourceRecord>;
    /// Remove a group and its memberships (not its members); false when there was none.
    async fn delete_group(&self, account_id: &str, id: &str) -> StoreResult<bool>;
    async fn list_groups(&self, account_id: &str, query: &ListRequest) -> StoreResult<Page<ResourceRecord>>;
    /// The members of each of these groups (one query), ordered by member id.
    async fn group_members(&self, account_id: &str, group_ids: &[String]) -> StoreResult<References>;
    /// The groups of each of these users (one query), ordered by group id.
    async fn user_groups(&self, account_id: &str, user_ids: &[String]) -> StoreResult<References>;
    /// Add users to a group with `origin` (the Account Center adds `Admin` members; the
    /// benchmark loads large groups with it). Existing members keep their origin. Returns
    /// how many were added; `UnknownMembers` (nothing written) for ids that are not
    /// users of the account, `NotFound` without the group.
    async fn add_members(
        &self,
        account_id: &str,
        group_id: &str,
        user_ids: &[String],
        origin: MemberOrigin,
        now: Micros,
    ) -> StoreResult<u64>;
}

#[async_trait]
pub trait LicenseStore: Send + Sync {
    /// Create or rename nothing: upsert an instance by (account, name).
    async fn put_instance(
        &self,
        account_id: &str,
        product: &Product,
        name: &str,
        now: Micros,
    ) -> StoreResult<Instance>;
    /// Upsert a pool by (instance, license type), setting its seats (`Seats` error when
    /// more seats are in use than the new count).
    async fn put_pool(
        &self,
        account_id: &str,
        instance_id: &str,
        license_type: &str,
        seats: i64,
        promote_waiting: bool,
        now: Micros,
    ) -> StoreResult<PoolUsage>;
    async fn pools(&self, account_id: &str) -> StoreResult<Vec<PoolUsage>>;
    /// Change a pool's seat count and promotion option; promotes waiting users when the
    /// pool promotes and seats were added.
    async fn set_pool(
        &self,
        account_id: &str,
        pool_id: &str,
        seats: Option<i64>,
        promote_waiting: Option<bool>,
        now: Micros,
    ) -> StoreResult<PoolUsage>;
    /// The licenses of each of `user_ids` (one query, for list pages).
    async fn licenses(&self, account_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, License)>>;
    /// The user accepts its assigned license (`NotFound` without one, `Seats` while waiting).
    async fn activate_license(
        &self,
        account_id: &str,
        user_id: &str,
        product: &Product,
        now: Micros,
    ) -> StoreResult<()>;
    /// An admin moves a license to another pool of the same product (checked by the
    /// caller): it keeps its state and takes a seat there (`Seats` when the pool is full;
    /// a waiting license just waits there, or gets a free seat), freeing its old seat.
    async fn move_license(
        &self,
        account_id: &str,
        user_id: &str,
        product: &Product,
        to_pool_id: &str,
        now: Micros,
    ) -> StoreResult<()>;
    /// An admin takes a license away, freeing its seat.
    async fn revoke_license(
        &self,
        account_id: &str,
        user_id: &str,
        product: &Product,
        now: Micros,
    ) -> StoreResult<()>;
}

/// Which activity records to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub limit: u32,
    /// Page backwards: records older than this id.
    pub before_id: Option<i64>,
    pub status: Option<u16>,
    pub method: Option<String>,
    pub resource_id: Option<String>,
    /// Only requests of this configuration (its id).
    pub configuration_id: Option<String>,
    /// Only requests at or after this time.
    pub since: Option<Micros>,
    /// Only requests where a tolerance fired.
    pub with_tolerances: bool,
}

#[async_trait]
pub trait ActivityStore: Send + Sync {
    async fn record_activity(&self, records: &[ActivityRecord]) -> StoreResult<()>;
    async fn activity(&self, account_id: &str, query: &ActivityQuery) -> StoreResult<Vec<ActivityRecord>>;
}

/// A SCIM configuration as the Account Center lists it: settings and token state, never
/// the token (only its hash is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigurationState {
    pub id: String,
    pub name: String,
    pub client_profile: ClientProfile,
    pub patch_response: PatchResponse,
    /// Auto-assign on: the pool, its instance, product and license type.
    pub auto_assign_pool_id: Option<String>,
    pub instance: Option<String>,
    pub product: Option<Product>,
    pub license_type: Option<String>,
    pub created_at: Micros,
    /// When the current token was issued at runtime (`None`: it came from a seed file).
    pub token_created_at: Option<Micros>,
    /// The latest request authenticated with this configuration (its activity log).
    pub token_last_used_at: Option<Micros>,
    pub token_expires_at: Option<Micros>,
    /// The token was generated at runtime: re-applying a seed leaves it alone.
    pub token_set_at_runtime: bool,
}

/// Seats of a pool by license state (waiting users hold none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolStates {
    pub pool_id: String,
    pub assigned: i64,
    pub activated: i64,
}

/// A group member and where its membership came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: String,
    pub user_name: String,
    pub origin: MemberOrigin,
}

/// The Account Center's writes and views (`center.rs`). Creates are strict: a taken
/// name is `Conflict` naming the field, where the seed's upserts would overwrite.
#[async_trait]
pub trait CenterStore: Send + Sync {
    async fn create_account(&self, name: &str, fidelity: &Fidelity, now: Micros) -> StoreResult<Account>;
    /// Rename and set fidelity; `NotFound` without the account.
    async fn update_account(
        &self,
        account_id: &str,
        name: &str,
        fidelity: &Fidelity,
        now: Micros,
    ) -> StoreResult<()>;
    /// Remove the account and everything in it; false when there was none.
    async fn delete_account(&self, account_id: &str) -> StoreResult<bool>;
    async fn instances(&self, account_id: &str) -> StoreResult<Vec<Instance>>;
    async fn create_instance(
        &self,
        account_id: &str,
        product: &Product,
        name: &str,
        now: Micros,
    ) -> StoreResult<Instance>;
    /// A new pool's id; `NotFound` when the instance is not the account's.
    async fn create_pool(
        &self,
        account_id: &str,
        instance_id: &str,
        license_type: &str,
        seats: i64,
        promote_waiting: bool,
        now: Micros,
    ) -> StoreResult<String>;
    async fn pool_states(&self, account_id: &str) -> StoreResult<Vec<PoolStates>>;
    async fn configurations(&self, account_id: &str) -> StoreResult<Vec<ConfigurationState>>;
    /// A configuration made at runtime (its token counts as set at runtime).
    async fn create_configuration(
        &self,
        config: NewConfiguration<'_>,
        now: Micros,
    ) -> StoreResult<ConfigurationState>;
    /// Give a configuration (by name) a new token at runtime: the old one stops working
    /// at once, and a seed re-applied later keeps the new one. False without it.
    async fn issue_token(
        &self,
        account_id: &str,
        configuration: &str,
        token: &TokenHash,
        expires_at: Option<Micros>,
        now: Micros,
    ) -> StoreResult<bool>;
    /// Remove a configuration (by name): its token gets 401 from then on.
    async fn delete_configuration(&self, account_id: &str, configuration: &str) -> StoreResult<bool>;
    /// A group's members with their origin, by userName.
    async fn members(&self, account_id: &str, group_id: &str) -> StoreResult<Vec<Member>>;
}

/// Everything the HTTP layer needs, behind one object.
pub trait Store: AccountStore + UserStore + GroupStore + LicenseStore + ActivityStore + CenterStore {}
impl<T: AccountStore + UserStore + GroupStore + LicenseStore + ActivityStore + CenterStore> Store for T {}

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

/// The indexed columns derived from a group document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GroupColumns {
    pub display_name: String,
    pub display_name_key: String,
    pub external_id: Option<String>,
}

impl GroupColumns {
    pub fn from_doc(doc: &Value) -> StoreResult<GroupColumns> {
        let text = |key: &str| doc.get(key).and_then(Value::as_str).map(str::to_owned);
        let display_name =
            text("displayName").ok_or_else(|| StoreError::Invalid("group without displayName".into()))?;
        if doc.get("members").is_some() {
            // Members live in their own table; a document carrying them is a bug upstream.
            return Err(StoreError::Invalid("group document with members".into()));
        }
        Ok(GroupColumns {
            display_name_key: fold_case(&display_name),
            display_name,
            external_id: text("externalId"),
        })
    }
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

    #[test]
    fn deferred_member_ops_become_store_ops() {
        let filter = |text: &str| {
            crate::scim::filter::parse_filter(text, &mut crate::scim::tolerance::Leniency::default())
                .expect("filter")
        };
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::Add(vec![json!({"value": "u1", "display": "x"})])),
            Ok(MemberOp::Add(vec!["u1".into()]))
        );
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::RemoveWhere(filter("value eq \"U2\""))),
            Ok(MemberOp::Remove(vec!["u2".into()]))
        );
        let general = filter("display sw \"a\"");
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::RemoveWhere(general.clone())),
            Ok(MemberOp::RemoveWhere(general))
        );
        assert_eq!(
            MemberOp::from_deferred(DeferredOp::RemoveAll),
            Ok(MemberOp::ReplaceScim(Vec::new()))
        );
        assert!(
            MemberOp::from_deferred(DeferredOp::Add(vec![json!({"value": "g", "type": "Group"})])).is_err()
        );
        assert!(member_ids(&[json!({"display": "x"})]).is_err());
    }

    #[test]
    fn group_columns_refuse_members_in_the_document() {
        let cols = GroupColumns::from_doc(&json!({"displayName": "Sales EMEA", "externalId": "e"}))
            .expect("columns");
        assert_eq!(cols.display_name_key, "sales emea");
        assert!(GroupColumns::from_doc(&json!({"displayName": "x", "members": []})).is_err());
        assert!(GroupColumns::from_doc(&json!({})).is_err());
    }
}
