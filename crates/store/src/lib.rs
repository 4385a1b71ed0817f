//! Persistence: one Store API, implemented once in SQL (`sql/`, one file per concern)
//! for two dialects, SQLite (the embedded default) and Postgres. Dialect differences
//! live in `dialect.rs`; filters become SQL in `query.rs`, over the columns `targets.rs`
//! names. The store executes what the domain decides (`licensing::rules`, `membership`,
//! `accounts::token`).

mod columns;
mod dialect;
mod principals;
mod query;
mod sql;
mod targets;
mod url;

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use domain::accounts::{
    Account, Fidelity, PatchResponse, RevokedToken, ScimConfiguration, StoredToken, TokenHash,
};
use domain::activity::ActivityRecord;
use domain::ids::{AccountId, ConfigurationId, GroupId, InstanceId, PoolId, UserId};
use domain::licensing::assignment::StoredRule;
use domain::licensing::status::ProductStatuses;
use domain::licensing::{License, Product, Refusal, SeatChange, SeatRequest};
use domain::membership::MemberOrigin;
pub use domain::provisioning::GroupUpdate;
use scim::error::ProtocolError;
pub use scim::list::{ListRequest, SortOrder};
use scim::tolerance::ClientProfile;

pub(crate) use columns::{GroupColumns, UserColumns};
pub use sql::{DEFAULT_ACQUIRE_TIMEOUT, connect, connect_existing, connect_with};
pub use url::redacted_url;

/// Microseconds since the Unix epoch: how every timestamp is stored.
pub type Micros = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write; the detail names the attribute.
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// An admin change would leave more seats in use than the pool has.
    #[error("{0}")]
    Seats(String),
    /// The pool a write needs a seat from is full (fidelity `when_pool_full = refuse`, or
    /// an admin moving a license).
    #[error("{0}")]
    PoolFull(String),
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
    /// Opening without creating: the database (shown redacted) was never set up here.
    #[error(
        "no linkedin-scim database at {0}: check --database-url (LINKEDIN_SCIM_DATABASE_URL) and the directory you run in; `linkedin-scim serve` or `migrate` creates one, or add --create"
    )]
    NoDatabase(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoLicense(_) => StoreError::NotFound,
            Refusal::PoolFull(_) => StoreError::PoolFull(refusal.to_string()),
            Refusal::StillWaiting(_) => StoreError::Seats(refusal.to_string()),
        }
    }
}

/// A stored SCIM resource: the canonical document (attributes only, no `id`/`meta`)
/// plus what the store owns.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRecord {
    pub id: String,
    pub doc: Value,
    pub version: i64,
    pub created_at: Micros,
    /// The insertion sequence: breaks ties of `created_at` in creation order (cursor
    /// paging). Absent where the database did not say (SQLite's `returning`).
    pub created_seq: Option<i64>,
    pub updated_at: Micros,
    /// What the read brought along in the same statement (a user's groups and
    /// licenses); `None` when it did not, and the caller reads them itself.
    pub attached: Option<Attached>,
}

/// A user's groups and licenses, read with it in one statement (issue 14: one round
/// trip per read).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attached {
    pub related: Vec<Reference>,
    pub licenses: Vec<License>,
    /// `active` per product that wrote the user (`licensing::status`).
    pub statuses: ProductStatuses,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
    /// Cursor paging: more items lie beyond this page in the direction it was read.
    pub more: bool,
}

/// A new SCIM configuration and the hash of its token.
#[derive(Debug, Clone)]
pub struct NewConfiguration<'a> {
    pub account_id: &'a AccountId,
    pub name: &'a str,
    pub client_profile: ClientProfile,
    pub token_hash: &'a TokenHash,
    pub token_expires_at: Option<Micros>,
    /// Auto-assign on: the pool it assigns from.
    pub auto_assign_pool_id: Option<&'a PoolId>,
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
    pub id: InstanceId,
    pub product: Product,
    pub name: String,
}

/// A license pool and how it is used.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct PoolUsage {
    pub id: PoolId,
    pub instance_id: InstanceId,
    pub instance: String,
    pub product: String,
    pub license_type: String,
    pub seats: i64,
    pub used: i64,
    pub waiting: i64,
}

/// A waiting license's place in its pool's first-come-first-served queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePlace {
    pub pool_id: PoolId,
    pub user_id: UserId,
    pub user_name: String,
    pub product: String,
    /// When the license joined the queue.
    pub requested_at: Micros,
    /// 1 for the next in line.
    pub position: u64,
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
    /// Can a new connection to the database be made now, outside the pool? (The
    /// circuit breaker's probe: a saturated pool does not count as the database down.)
    async fn probe(&self) -> StoreResult<()>;
    /// Test-harness reset: remove every user, group, license assignment and activity
    /// record of the account, freeing all seats; configurations, tokens, instances and
    /// pools stay. Returns (users, groups) removed.
    async fn reset_account(&self, account_id: &AccountId) -> StoreResult<(u64, u64)>;
    async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    /// The configuration (and account) holding this token hash, with its expiry: what
    /// `accounts::admit` decides on.
    async fn find_token(&self, token: &TokenHash) -> StoreResult<Option<StoredToken>>;
}

/// A read-modify-write step: the current record in, the change out (`None`: leave it
/// unchanged), or an error that aborts the write. For users the change is the new
/// document; for groups a [`GroupUpdate`].
pub type Change<'a, T = Value> = dyn for<'r> FnMut(&'r ResourceRecord) -> StoreResult<Option<T>> + Send + 'a;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Insert a user and apply the licensing rules for `seat` in the same transaction;
    /// the document's `active` is the status of `seat.product` (`licensing::status`).
    /// `Conflict` when the userName is taken in the account. `writer`, the configuration
    /// whose request this is, is recorded as the setter of the externalId, if any.
    async fn create_user(
        &self,
        account_id: &AccountId,
        doc: &Value,
        seat: &SeatRequest,
        writer: Option<&ConfigurationId>,
        now: Micros,
    ) -> StoreResult<UserWrite>;
    async fn get_user(&self, account_id: &AccountId, id: &UserId) -> StoreResult<Option<ResourceRecord>>;
    /// Read-modify-write with optimistic concurrency: `change` sees the current record
    /// and returns the new document, or `None` to leave it as it is; the write happens
    /// only if the version is still the one `change` saw, else `change` runs again on the
    /// newer record (so it may run more than once), and none is lost. An error from
    /// `change` aborts the write.
    /// The licensing rules for `seat` run in the same transaction, even when the
    /// document is unchanged (an IdP "touching" a user it matched claims its seat).
    /// `change` sees, and writes, `active` as the status of `seat.product`; the stored
    /// document's `active` is the person's (`licensing::status`).
    async fn modify_user(
        &self,
        account_id: &AccountId,
        id: &UserId,
        seat: &SeatRequest,
        now: Micros,
        change: &mut Change<'_>,
    ) -> StoreResult<UserWrite>;
    /// Remove a user, releasing its seats and dropping its group memberships (bumping
    /// those groups' versions); false when there was none.
    async fn delete_user(&self, account_id: &AccountId, id: &UserId, now: Micros) -> StoreResult<bool>;
    /// The users matching `query`, as a configuration of `product` lists them: its
    /// filter compares that product's `active` (`licensing::status`), and a list that
    /// is not a lookup shows only that product's users (`fidelity::list_scope`).
    /// `None`: every user, and the person's `active`.
    async fn list_users(
        &self,
        account_id: &AccountId,
        query: &ListRequest,
        product: Option<&Product>,
    ) -> StoreResult<Page<ResourceRecord>>;
    /// Record that `writer` just wrote the user's externalId (`None`: the write cleared
    /// it, and with it the provenance). Returns the name of the other configuration that
    /// had set the previous value, if it was not `writer`: an identifier clash.
    async fn record_external_id_writer(
        &self,
        account_id: &AccountId,
        id: &UserId,
        writer: Option<&ConfigurationId>,
    ) -> StoreResult<Option<String>>;
    /// Insert many already-normalized user documents in one transaction, with multi-row
    /// inserts (seeds, bulk imports, the benchmark): far faster than one `create_user`
    /// each. All or nothing; `Conflict` when a userName is taken. Every user gets
    /// `statuses` (the products they are users of). Returns how many.
    async fn import_users(
        &self,
        account_id: &AccountId,
        docs: &[Value],
        statuses: &ProductStatuses,
        now: Micros,
    ) -> StoreResult<u64>;
    /// The database's plan for the queries `list_users` would run (page, then count),
    /// each introduced by a `-- page: <sql>` line: for checking index use.
    async fn explain_list_users(
        &self,
        account_id: &AccountId,
        query: &ListRequest,
    ) -> StoreResult<Vec<String>>;
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
        account_id: &AccountId,
        doc: &Value,
        members: &[UserId],
        now: Micros,
    ) -> StoreResult<ResourceRecord>;
    /// The group without its members (see [`GroupStore::group_members`]).
    async fn get_group(&self, account_id: &AccountId, id: &GroupId) -> StoreResult<Option<ResourceRecord>>;
    /// Read-modify-write under a row lock, like [`UserStore::modify_user`]; the document
    /// and the membership change in one transaction, and the version is bumped when
    /// either changed. The member list is never loaded.
    async fn modify_group(
        &self,
        account_id: &AccountId,
        id: &GroupId,
        now: Micros,
        change: &mut Change<'_, GroupUpdate>,
    ) -> StoreResult<ResourceRecord>;
    /// Remove a group and its memberships (not its members); false when there was none.
    async fn delete_group(&self, account_id: &AccountId, id: &GroupId) -> StoreResult<bool>;
    async fn list_groups(
        &self,
        account_id: &AccountId,
        query: &ListRequest,
    ) -> StoreResult<Page<ResourceRecord>>;
    /// The members of each of these groups (one query), ordered by member id.
    async fn group_members(&self, account_id: &AccountId, group_ids: &[String]) -> StoreResult<References>;
    /// The groups of each of these users (one query), ordered by group id.
    async fn user_groups(&self, account_id: &AccountId, user_ids: &[String]) -> StoreResult<References>;
    /// Add users to a group with `origin` (the Account Center adds `Admin` members; the
    /// benchmark loads large groups with it). Existing members keep their origin. Returns
    /// how many were added; `UnknownMembers` (nothing written) for ids that are not
    /// users of the account, `NotFound` without the group.
    async fn add_members(
        &self,
        account_id: &AccountId,
        group_id: &GroupId,
        user_ids: &[UserId],
        origin: MemberOrigin,
        now: Micros,
    ) -> StoreResult<u64>;
}

#[async_trait]
pub trait LicenseStore: Send + Sync {
    /// Create or rename nothing: upsert an instance by (account, name).
    async fn put_instance(
        &self,
        account_id: &AccountId,
        product: &Product,
        name: &str,
        now: Micros,
    ) -> StoreResult<Instance>;
    /// Upsert a pool by (instance, license type), setting its seats (`Seats` error when
    /// more seats are in use than the new count).
    async fn put_pool(
        &self,
        account_id: &AccountId,
        instance_id: &InstanceId,
        license_type: &str,
        seats: i64,
        now: Micros,
    ) -> StoreResult<PoolUsage>;
    async fn pools(&self, account_id: &AccountId) -> StoreResult<Vec<PoolUsage>>;
    /// Every waiting license of the account, by pool (by id), each pool's in queue order.
    async fn queue(&self, account_id: &AccountId) -> StoreResult<Vec<QueuePlace>>;
    /// Change a pool's seat count; seats added go to the longest-waiting users at once.
    async fn set_pool(
        &self,
        account_id: &AccountId,
        pool_id: &PoolId,
        seats: Option<i64>,
        now: Micros,
    ) -> StoreResult<PoolUsage>;
    /// The licenses of each of `user_ids` (one query, for list pages).
    async fn licenses(
        &self,
        account_id: &AccountId,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<(UserId, License)>>;
    /// The user accepts its assigned license (`NotFound` without one, `Seats` while waiting).
    async fn activate_license(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
        now: Micros,
    ) -> StoreResult<()>;
    /// An admin moves a license to another pool of the same product (checked by the
    /// caller), as [`domain::licensing::rules::relocate`] decides (`Seats` when the pool
    /// is full), freeing its old seat.
    async fn move_license(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
        to: &PoolId,
        now: Micros,
    ) -> StoreResult<()>;
    /// An admin takes a license away, freeing its seat.
    async fn revoke_license(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
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
    /// Only requests of this configuration.
    pub configuration_id: Option<ConfigurationId>,
    /// Only requests at or after this time.
    pub since: Option<Micros>,
    /// Only requests where a tolerance fired.
    pub with_tolerances: bool,
    /// Page forwards: records newer than this id.
    pub after_id: Option<i64>,
    /// Only requests whose path (with its query) starts with this.
    pub path_prefix: Option<String>,
    /// Oldest first (the journal's order) instead of newest first.
    pub oldest_first: bool,
    /// Read the captured headers and bodies too (the journal; not the activity views).
    pub with_exchange: bool,
}

/// How much of the journal to keep; `None` keeps without limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    pub max_rows: Option<u64>,
    pub max_age_micros: Option<Micros>,
}

#[async_trait]
pub trait ActivityStore: Send + Sync {
    async fn record_activity(&self, records: &[ActivityRecord]) -> StoreResult<()>;
    async fn activity(
        &self,
        account_id: &AccountId,
        query: &ActivityQuery,
    ) -> StoreResult<Vec<ActivityRecord>>;
    /// Delete the records beyond `retention` (of every account); returns how many.
    async fn prune_activity(&self, retention: &Retention, now: Micros) -> StoreResult<u64>;
    /// The configuration a revoked token (refreshed, or its configuration deleted) named,
    /// while its account exists: a refused request is journaled against it.
    async fn revoked_token(&self, hash: &TokenHash) -> StoreResult<Option<RevokedToken>>;
}

/// A SCIM configuration as the Account Center lists it: settings and token state, never
/// the token (only its hash is stored).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigurationState {
    pub id: ConfigurationId,
    pub name: String,
    pub client_profile: ClientProfile,
    pub patch_response: PatchResponse,
    /// Auto-assign on: the pool, its instance, product and license type.
    pub auto_assign_pool_id: Option<PoolId>,
    /// License assignment rules, in order (the auto-assign pool is their fallback).
    pub license_rules: Vec<StoredRule>,
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
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PoolStates {
    pub pool_id: PoolId,
    pub assigned: i64,
    pub activated: i64,
}

/// A group member and where its membership came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: UserId,
    pub user_name: String,
    pub origin: MemberOrigin,
}

/// The Account Center's writes and views (`sql/center.rs`). Creates are strict: a taken
/// name is `Conflict` naming the field, where the seed's upserts would overwrite.
#[async_trait]
pub trait CenterStore: Send + Sync {
    async fn create_account(&self, name: &str, fidelity: &Fidelity, now: Micros) -> StoreResult<Account>;
    /// Rename and set fidelity; `NotFound` without the account.
    async fn update_account(
        &self,
        account_id: &AccountId,
        name: &str,
        fidelity: &Fidelity,
        now: Micros,
    ) -> StoreResult<()>;
    /// Remove the account and everything in it; false when there was none.
    async fn delete_account(&self, account_id: &AccountId) -> StoreResult<bool>;
    async fn instances(&self, account_id: &AccountId) -> StoreResult<Vec<Instance>>;
    async fn create_instance(
        &self,
        account_id: &AccountId,
        product: &Product,
        name: &str,
        now: Micros,
    ) -> StoreResult<Instance>;
    /// A new pool's id; `NotFound` when the instance is not the account's.
    async fn create_pool(
        &self,
        account_id: &AccountId,
        instance_id: &InstanceId,
        license_type: &str,
        seats: i64,
        now: Micros,
    ) -> StoreResult<PoolId>;
    async fn pool_states(&self, account_id: &AccountId) -> StoreResult<Vec<PoolStates>>;
    async fn configurations(&self, account_id: &AccountId) -> StoreResult<Vec<ConfigurationState>>;
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
        account_id: &AccountId,
        configuration: &str,
        token: &TokenHash,
        expires_at: Option<Micros>,
        now: Micros,
    ) -> StoreResult<bool>;
    /// Remove a configuration (by name): its token gets 401 from then on.
    async fn delete_configuration(&self, account_id: &AccountId, configuration: &str) -> StoreResult<bool>;
    /// Set or clear (None) a configuration's rate limit; false when there is no such
    /// configuration.
    /// Replace a configuration's license assignment rules; false when there is no such
    /// configuration.
    async fn set_license_rules(
        &self,
        account_id: &AccountId,
        configuration: &str,
        rules: &[StoredRule],
    ) -> StoreResult<bool>;
    async fn set_rate_limit(
        &self,
        account_id: &AccountId,
        configuration: &str,
        limit: Option<domain::accounts::RateLimit>,
    ) -> StoreResult<bool>;
    /// The database pool's connections now (for `/metrics`).
    fn connection_use(&self) -> ConnectionUse;
    /// The rate limit of a configuration (None: unlimited, or no such configuration).
    async fn rate_limit(
        &self,
        configuration_id: &domain::ids::ConfigurationId,
    ) -> StoreResult<Option<domain::accounts::RateLimit>>;
    /// A group's members with their origin, by userName.
    async fn members(&self, account_id: &AccountId, group_id: &GroupId) -> StoreResult<Vec<Member>>;
}

/// The database pool's connections: open (idle or in use) and the most it may open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}

/// An account's whole state as a snapshot document, and back (see `domain::snapshot`).
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// The account's rows; configurations' token hashes only with `token_hashes`.
    async fn export_snapshot(
        &self,
        account: &Account,
        token_hashes: bool,
    ) -> StoreResult<domain::snapshot::Snapshot>;
    /// Replace the account's state with the snapshot's, in one transaction. A
    /// configuration without a token hash gets an unusable one (refresh its token). A
    /// seat the snapshot shows free beside a waiting user (exported before the queue)
    /// goes to the longest waiting at `now`.
    async fn restore_snapshot(
        &self,
        account: &Account,
        snapshot: &domain::snapshot::Snapshot,
        now: Micros,
    ) -> StoreResult<()>;
}

/// An Account Center sign-in: the cookie names `id`; forms carry `csrf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSession {
    pub id: String,
    pub csrf: String,
    pub expires_at: Micros,
    /// What actions left for the next page to show once (none at sign-in).
    pub flash: Option<String>,
    pub token_view: Option<String>,
}

/// A message an action leaves in its session for the next page, shown once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionNote {
    /// The flash line (a notice or an error).
    Flash,
    /// A token just issued, sealed, for the page that shows it once.
    TokenView,
}

/// Account Center sessions, server-side: a session ends for every replica when its row
/// goes.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Record a new session (and forget expired ones).
    async fn start_session(&self, session: &AdminSession, now: Micros) -> StoreResult<()>;
    /// The session `id` names, while it has not ended or expired.
    async fn live_session(&self, id: &str, now: Micros) -> StoreResult<Option<AdminSession>>;
    /// End one session (sign-out).
    async fn end_session(&self, id: &str) -> StoreResult<()>;
    /// End every session (sign out everywhere); how many there were.
    async fn end_all_sessions(&self) -> StoreResult<u64>;
    /// Leave `value` in the session for the next page (replacing an unshown one).
    async fn put_session_note(&self, id: &str, note: SessionNote, value: &str) -> StoreResult<()>;
    /// Take the note `seen` (read with the session): true for the one caller that takes
    /// it, false when another page already did.
    async fn take_session_note(&self, id: &str, note: SessionNote, seen: &str) -> StoreResult<bool>;
}

/// Everything the HTTP layer needs, behind one object.
pub trait Store:
    AccountStore
    + UserStore
    + GroupStore
    + LicenseStore
    + ActivityStore
    + CenterStore
    + SessionStore
    + SnapshotStore
{
}
impl<
    T: AccountStore
        + UserStore
        + GroupStore
        + LicenseStore
        + ActivityStore
        + CenterStore
        + SessionStore
        + SnapshotStore,
> Store for T
{
}

pub use scim::case_insensitive::fold_case;
