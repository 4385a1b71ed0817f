//! The SQL store, written once and instantiated for SQLite and Postgres by `sql_store!`.
//!
//! Why a macro and not `impl<DB: Database>`: a generic sqlx implementation needs
//! higher-ranked `Executor` bounds on every method, which async-trait futures handle
//! poorly; the macro keeps one text of the SQL and gives each dialect concrete types.
//! Dialect differences are confined to `dialect.rs` and `begin_write`.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use serde_json::Value;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{Pool, Postgres, QueryBuilder, Row, Sqlite, Transaction};

use super::dialect::Dialect;
use super::query::{Column, FilterSql, Relation, Target};
use super::{
    AccountStore, Change, GroupColumns, GroupStore, GroupUpdate, ListRequest, MemberOp, MemberOrigin, Micros,
    NewConfiguration, Page, Reference, References, ResourceRecord, SortOrder, Store, StoreError, StoreResult,
    TokenRejection, UserColumns, UserStore, UserWrite,
};
use crate::accounts::{
    Account, AutoAssign, Fidelity, PatchResponse, Principal, ScimConfiguration, TokenHash,
};
use crate::licensing::{Product, SeatRequest};
use crate::scim::catalog::{LICENSE_USER, group_schema, user_schema};
use crate::scim::filter::Filter;

pub struct SqlStore<DB: sqlx::Database> {
    pub(super) pool: Pool<DB>,
}

/// Open (and migrate) the database named by `url`: `sqlite://…` or `postgres://…`.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Read pages through a memory map rather than a read() call each: with 1M users
            // the indexes outgrow SQLite's per-connection page cache, and the syscalls
            // showed as a 4 ms p99 on indexed lookups (see README, Performance).
            .pragma("mmap_size", "268435456");
        if let Some(dir) = Path::new(options.get_filename()).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Arc::new(SqlStore { pool }))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Arc::new(SqlStore { pool }))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

impl SqlStore<Sqlite> {
    /// SQLite upgrades a read transaction to a write lock lazily and fails with BUSY if
    /// another writer got there first; taking the write lock up front makes concurrent
    /// writers queue on `busy_timeout` instead.
    pub(super) async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("begin immediate").await?)
    }
}

impl SqlStore<Postgres> {
    pub(super) async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }
}

fn users_target() -> Target {
    Target {
        schema: user_schema(),
        columns: &[
            ("id", None, Column::Exact("r.id")),
            ("userName", None, Column::Folded("r.user_name_key")),
            ("externalId", None, Column::Exact("r.external_id")),
            ("displayName", None, Column::Folded("r.display_name_key")),
            // Not `active`: its column reads a missing `active` as true (for licensing),
            // while the resource, and so the filter, has no value.
            ("meta", None, Column::Opaque),
            ("meta", Some("created"), Column::Instant("r.created_at")),
            ("meta", Some("lastModified"), Column::Instant("r.updated_at")),
            ("meta", Some("resourceType"), Column::Constant("User")),
            ("meta", Some("location"), Column::Opaque),
            // The weak ETag `render` shows (`http::render::etag`).
            (
                "meta",
                Some("version"),
                Column::Exact("('W/\"' || r.version || '\"')"),
            ),
        ],
        indexed_elements: &[(
            "emails",
            "value",
            "r.id in (select ue.user_id from user_emails ue where ue.account_id = {} and ue.value_key = {})",
        )],
        relations: &[
            Relation {
                extension: Some(LICENSE_USER),
                attribute: "licenses",
                from_where: "license_assignments l
                     join license_pools lp on lp.id = l.pool_id
                     join instances li on li.id = lp.instance_id
                     where l.user_id = r.id",
                columns: &[
                    ("product", Column::Text("l.product")),
                    ("instance", Column::Text("li.name")),
                    ("licenseType", Column::Text("lp.license_type")),
                    ("state", Column::Text("l.state")),
                    ("assignedAt", Column::Instant("l.assigned_at")),
                    ("activatedAt", Column::Instant("l.activated_at")),
                ],
            },
            Relation {
                extension: None,
                attribute: "groups",
                from_where: "group_members gm join groups g on g.id = gm.group_id where gm.member_id = r.id",
                // Ids are generated lower-case, so an id column is its own ASCII fold.
                columns: &[
                    ("value", Column::Folded("gm.group_id")),
                    ("display", Column::Folded("g.display_name_key")),
                    ("type", Column::Constant("direct")),
                ],
            },
        ],
    }
}

/// The membership table seen from a group: what `members` filters run against.
const MEMBERS: Relation = Relation {
    extension: None,
    attribute: "members",
    from_where: "group_members gm join users mu on mu.id = gm.member_id where gm.group_id = r.id",
    columns: &[
        ("value", Column::Folded("gm.member_id")),
        // A member's display is the user's displayName, else its userName.
        (
            "display",
            Column::Folded("coalesce(mu.display_name_key, mu.user_name_key)"),
        ),
        ("type", Column::Constant("User")),
    ],
};

fn groups_target() -> Target {
    Target {
        schema: group_schema(),
        columns: &[
            ("id", None, Column::Exact("r.id")),
            ("displayName", None, Column::Folded("r.display_name_key")),
            ("externalId", None, Column::Exact("r.external_id")),
            ("meta", Some("created"), Column::Instant("r.created_at")),
            ("meta", Some("lastModified"), Column::Instant("r.updated_at")),
            ("meta", Some("resourceType"), Column::Constant("Group")),
        ],
        indexed_elements: &[],
        relations: &[MEMBERS],
    }
}

/// Ids per statement when a list of ids is bound (`in (…)`, multi-row inserts): well
/// under both databases' bound-parameter limits.
const CHUNK: usize = 1000;

/// Ids in first-seen order without repeats.
fn distinct(ids: &[String]) -> Vec<&str> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect()
}

fn unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Map a unique violation to the client's `Conflict` (no racy pre-check needed).
fn or_conflict(conflict: impl FnOnce() -> StoreError) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| {
        if unique_violation(&err) {
            conflict()
        } else {
            err.into()
        }
    }
}

/// The columns every resource table shares, read into a [`ResourceRecord`].
const RECORD_COLUMNS: &str = "id, doc, version, created_at, updated_at";
const USERS: &str = "users";
const GROUPS: &str = "groups";

/// A configuration with its account and its auto-assign pool's product: one query
/// authenticates a request.
const CONFIGURATION_SELECT: &str =
    "select c.id, c.account_id, c.name, c.client_profile, c.auto_assign_pool_id, c.patch_response,
        c.token_hash, c.token_expires_at, i.product, a.name as account_name, a.fidelity
     from scim_configurations c
     join accounts a on a.id = c.account_id
     left join license_pools p on p.id = c.auto_assign_pool_id
     left join instances i on i.id = p.instance_id";

macro_rules! sql_store {
    ($db:ty) => {
        impl SqlStore<$db> {
            fn account(row: &<$db as sqlx::Database>::Row) -> StoreResult<Account> {
                let Json(fidelity): Json<Fidelity> = row.try_get("fidelity")?;
                Ok(Account {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    fidelity,
                })
            }

            async fn configuration(&self, id: &str) -> StoreResult<ScimConfiguration> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{CONFIGURATION_SELECT} where c.id = $1")))
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
                Self::configuration_row(&row)
            }

            fn configuration_row(row: &<$db as sqlx::Database>::Row) -> StoreResult<ScimConfiguration> {
                let profile: String = row.try_get("client_profile")?;
                let patch_response: String = row.try_get("patch_response")?;
                let pool_id: Option<String> = row.try_get("auto_assign_pool_id")?;
                let product: Option<String> = row.try_get("product")?;
                let auto_assign = match (pool_id, product) {
                    (Some(pool_id), Some(product)) => Some(AutoAssign {
                        pool_id,
                        product: Product::try_from(product).map_err(StoreError::Invalid)?,
                    }),
                    _ => None,
                };
                Ok(ScimConfiguration {
                    id: row.try_get("id")?,
                    account_id: row.try_get("account_id")?,
                    name: row.try_get("name")?,
                    client_profile: profile.parse().map_err(StoreError::Invalid)?,
                    auto_assign,
                    patch_response: PatchResponse::parse(&patch_response)
                        .ok_or_else(|| StoreError::Invalid(format!("unknown patch_response {patch_response:?}")))?,
                })
            }

            fn resource(row: &<$db as sqlx::Database>::Row) -> StoreResult<ResourceRecord> {
                let Json(doc): Json<Value> = row.try_get("doc")?;
                Ok(ResourceRecord {
                    id: row.try_get("id")?,
                    doc,
                    version: row.try_get("version")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            }

            async fn write_emails(
                tx: &mut Transaction<'static, $db>,
                account_id: &str,
                id: &str,
                columns: &UserColumns,
            ) -> StoreResult<()> {
                sqlx::query("delete from user_emails where user_id = $1")
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                for key in &columns.email_keys {
                    sqlx::query("insert into user_emails (user_id, account_id, value_key) values ($1, $2, $3)")
                        .bind(id)
                        .bind(account_id)
                        .bind(key)
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            /// Keep `accounts.user_count` in step with the rows, in the writing transaction.
            /// Done last, just before commit, since it locks the account row (Postgres)
            /// and so queues concurrent creates in one account for that moment.
            async fn add_to_user_count(
                tx: &mut Transaction<'static, $db>,
                account_id: &str,
                delta: i64,
            ) -> StoreResult<()> {
                sqlx::query("update accounts set user_count = user_count + $1 where id = $2")
                    .bind(delta)
                    .bind(account_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(())
            }

            /// `insert into users … values (…), (…)` for rows of (id, columns, document):
            /// one text for `create_user` and `import_users`.
            fn insert_users(account_id: &str, rows: &[(String, UserColumns, &Value)], now: Micros) -> QueryBuilder<$db> {
                let mut qb = QueryBuilder::<$db>::new(
                    "insert into users (id, account_id, user_name, user_name_key, external_id, display_name_key,
                                        active, doc, version, created_at, updated_at) ",
                );
                qb.push_values(rows, |mut row, (id, columns, doc)| {
                    row.push_bind(id.clone())
                        .push_bind(account_id.to_owned())
                        .push_bind(columns.user_name.clone())
                        .push_bind(columns.user_name_key.clone())
                        .push_bind(columns.external_id.clone())
                        .push_bind(columns.display_name_key.clone())
                        .push_bind(columns.active)
                        .push_bind(Json(*doc))
                        .push_bind(1_i64)
                        .push_bind(now)
                        .push_bind(now);
                });
                qb
            }

            fn user_name_taken(columns: &UserColumns) -> StoreError {
                StoreError::Conflict(format!("userName {:?} is already taken in this account", columns.user_name))
            }

            fn display_name_taken(columns: &GroupColumns) -> StoreError {
                StoreError::Conflict(format!(
                    "displayName {:?} is already taken by another group in this account",
                    columns.display_name
                ))
            }

            async fn get_record(&self, table: &str, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {RECORD_COLUMNS} from {table} where account_id = $1 and id = $2"
                )))
                .bind(account_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::resource).transpose()
            }

            /// Read a record inside a write transaction, holding its row lock until commit.
            async fn lock_record(
                tx: &mut Transaction<'static, $db>,
                table: &str,
                account_id: &str,
                id: &str,
            ) -> StoreResult<ResourceRecord> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select {RECORD_COLUMNS} from {table} where account_id = $1 and id = $2{}",
                    <$db as Dialect>::LOCK_ROW
                )))
                .bind(account_id)
                .bind(id)
                .fetch_optional(&mut **tx)
                .await?;
                row.as_ref().map(Self::resource).transpose()?.ok_or(StoreError::NotFound)
            }

            /// Bump a record's version and lastModified without changing its document
            /// (a group whose membership changed).
            async fn touch_record(
                tx: &mut Transaction<'static, $db>,
                table: &str,
                account_id: &str,
                id: &str,
                now: Micros,
            ) -> StoreResult<ResourceRecord> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "update {table} set version = version + 1, updated_at = $3
                     where account_id = $1 and id = $2
                     returning {RECORD_COLUMNS}"
                )))
                .bind(account_id)
                .bind(id)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                Self::resource(&row)
            }

            async fn list_records(
                &self,
                table: &str,
                target: &Target,
                account_id: &str,
                query: &ListRequest,
            ) -> StoreResult<Page<ResourceRecord>> {
                let (mut count_qb, mut page_qb) = list_queries::<$db>(table, target, account_id, query, "")?;
                // An account's user count is kept with every insert and delete of a user;
                // counting the rows instead grows with the account (see the migration).
                let total: i64 = if query.filter.is_none() && table == USERS {
                    sqlx::query_scalar("select user_count from accounts where id = $1")
                        .bind(account_id)
                        .fetch_optional(&self.pool)
                        .await?
                        .unwrap_or(0)
                } else {
                    count_qb.build_query_scalar().fetch_one(&self.pool).await?
                };
                let total = total.max(0) as u64;
                if query.count == 0 || query.start_index > total {
                    return Ok(Page { total, items: Vec::new() });
                }
                let rows = page_qb.build().fetch_all(&self.pool).await?;
                let items = rows.iter().map(Self::resource).collect::<StoreResult<Vec<_>>>()?;
                Ok(Page { total, items })
            }

            async fn delete_record(&self, table: &str, account_id: &str, id: &str) -> StoreResult<bool> {
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
            async fn references(
                &self,
                select: &str,
                owner: &str,
                order: &str,
                account_id: &str,
                owners: &[String],
            ) -> StoreResult<References> {
                let mut out = References::new();
                for chunk in distinct(owners).chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(select);
                    qb.push(" gm.account_id = ");
                    qb.push_bind(account_id.to_owned());
                    qb.push(" and ");
                    push_in(&mut qb, owner, chunk);
                    qb.push(format!(" order by {order}"));
                    for row in qb.build().fetch_all(&self.pool).await? {
                        let owner: String = row.try_get("owner")?;
                        out.entry(owner).or_default().push(Reference {
                            id: row.try_get("id")?,
                            display: row.try_get("display")?,
                        });
                    }
                }
                Ok(out)
            }

            /// Which of these ids are users of the account: `UnknownMembers` names the
            /// others. Runs before any membership insert so a bad id writes nothing.
            async fn check_users(tx: &mut Transaction<'static, $db>, account_id: &str, ids: &[&str]) -> StoreResult<()> {
                let mut found = HashSet::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("select id from users where account_id = ");
                    qb.push_bind(account_id.to_owned());
                    qb.push(" and ");
                    push_in(&mut qb, "id", chunk);
                    let rows: Vec<String> = qb.build_query_scalar().fetch_all(&mut **tx).await?;
                    found.extend(rows);
                }
                let missing: Vec<String> = ids.iter().filter(|id| !found.contains(**id)).map(|id| (*id).to_owned()).collect();
                if missing.is_empty() { Ok(()) } else { Err(StoreError::UnknownMembers(missing)) }
            }

            /// Insert memberships (existing ones are left as they are); returns how many
            /// rows were added.
            async fn insert_members(
                tx: &mut Transaction<'static, $db>,
                account_id: &str,
                group_id: &str,
                ids: &[String],
                origin: MemberOrigin,
                now: Micros,
            ) -> StoreResult<u64> {
                let ids = distinct(ids);
                Self::check_users(tx, account_id, &ids).await?;
                let mut added = 0;
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "insert into group_members (group_id, member_id, account_id, origin, created_at) ",
                    );
                    qb.push_values(chunk, |mut row, id| {
                        row.push_bind(group_id.to_owned())
                            .push_bind((*id).to_owned())
                            .push_bind(account_id.to_owned())
                            .push_bind(origin.as_str())
                            .push_bind(now);
                    });
                    qb.push(" on conflict (group_id, member_id) do nothing");
                    added += qb.build().execute(&mut **tx).await.map_err(member_violation)?.rows_affected();
                }
                Ok(added)
            }

            async fn delete_members(tx: &mut Transaction<'static, $db>, group_id: &str, ids: &[&str]) -> StoreResult<u64> {
                let mut removed = 0;
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("delete from group_members where group_id = ");
                    qb.push_bind(group_id.to_owned());
                    qb.push(" and ");
                    push_in(&mut qb, "member_id", chunk);
                    removed += qb.build().execute(&mut **tx).await?.rows_affected();
                }
                Ok(removed)
            }

            /// Carry out one membership change; returns how many rows it changed.
            async fn apply_member_op(
                tx: &mut Transaction<'static, $db>,
                account_id: &str,
                group_id: &str,
                op: &MemberOp,
                now: Micros,
            ) -> StoreResult<u64> {
                match op {
                    MemberOp::Add(ids) => Self::insert_members(tx, account_id, group_id, ids, MemberOrigin::Scim, now).await,
                    MemberOp::Remove(ids) => Self::delete_members(tx, group_id, &distinct(ids)).await,
                    MemberOp::RemoveWhere(filter) => Self::delete_members_where(tx, group_id, filter).await,
                    MemberOp::ReplaceScim(ids) => {
                        // A replace carries the whole list, so reading the current `scim`
                        // members is within its cost; diffing keeps unchanged rows (and
                        // the version) as they are when Okta re-pushes the same list.
                        let current: Vec<String> = sqlx::query_scalar(
                            "select member_id from group_members where group_id = $1 and origin = 'scim'",
                        )
                        .bind(group_id)
                        .fetch_all(&mut **tx)
                        .await?;
                        let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
                        let gone: Vec<&str> =
                            current.iter().map(String::as_str).filter(|id| !wanted.contains(id)).collect();
                        let current: HashSet<&str> = current.iter().map(String::as_str).collect();
                        let new: Vec<String> =
                            wanted.iter().filter(|id| !current.contains(**id)).map(|id| (*id).to_owned()).collect();
                        let removed = Self::delete_members(tx, group_id, &gone).await?;
                        let added = Self::insert_members(tx, account_id, group_id, &new, MemberOrigin::Scim, now).await?;
                        Ok(removed + added)
                    }
                }
            }

            async fn delete_members_where(tx: &mut Transaction<'static, $db>, group_id: &str, filter: &Filter) -> StoreResult<u64> {
                let target = groups_target();
                let mut qb = QueryBuilder::<$db>::new("delete from group_members where group_id = ");
                qb.push_bind(group_id.to_owned());
                // The relation's SQL is relative to a group row `r`: select that row.
                qb.push(format!(
                    " and member_id in (select gm.member_id from groups r, {} and r.id = ",
                    MEMBERS.from_where
                ));
                qb.push_bind(group_id.to_owned());
                qb.push(" and (");
                FilterSql::new(&target).push_related(&mut qb, MEMBERS.attribute, filter)?;
                qb.push("))");
                Ok(qb.build().execute(&mut **tx).await?.rows_affected())
            }
        }

        #[async_trait]
        impl AccountStore for SqlStore<$db> {
            async fn ensure_account(&self, name: &str, fidelity: Fidelity, now: Micros) -> StoreResult<Account> {
                sqlx::query(
                    "insert into accounts (id, name, fidelity, created_at, updated_at) values ($1, $2, $3, $4, $4)
                     on conflict (name) do update set fidelity = excluded.fidelity, updated_at = excluded.updated_at",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(name)
                .bind(Json(fidelity))
                .bind(now)
                .execute(&self.pool)
                .await?;
                self.account_by_name(name).await?.ok_or(StoreError::NotFound)
            }

            async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
                let row = sqlx::query("select id, name, fidelity from accounts where name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::account).transpose()
            }

            async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
                let rows = sqlx::query("select id, name, fidelity from accounts order by name")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::account).collect()
            }

            async fn replace_token(
                &self,
                account_id: &str,
                configuration: &str,
                token: &TokenHash,
                expires_at: Option<Micros>,
                now: Micros,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "update scim_configurations set token_hash = $3, token_expires_at = $4, updated_at = $5
                     where account_id = $1 and name = $2",
                )
                .bind(account_id)
                .bind(configuration)
                .bind(&token.0)
                .bind(expires_at)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn put_configuration(&self, config: NewConfiguration<'_>, now: Micros) -> StoreResult<ScimConfiguration> {
                let row = sqlx::query(
                    "insert into scim_configurations
                         (id, account_id, name, client_profile, token_hash, token_expires_at,
                          auto_assign_pool_id, patch_response, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, $8, $9, $7, $7)
                     on conflict (account_id, name) do update set
                         client_profile = excluded.client_profile,
                         patch_response = excluded.patch_response,
                         token_hash = excluded.token_hash,
                         token_expires_at = excluded.token_expires_at,
                         auto_assign_pool_id = excluded.auto_assign_pool_id,
                         updated_at = excluded.updated_at
                     returning id",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(config.account_id)
                .bind(config.name)
                .bind(config.client_profile.as_str())
                .bind(&config.token_hash.0)
                .bind(config.token_expires_at)
                .bind(now)
                .bind(config.auto_assign_pool_id)
                .bind(config.patch_response.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(or_conflict(|| {
                    StoreError::Conflict(format!(
                        "the token of configuration {:?} is already used by another configuration",
                        config.name
                    ))
                }))?;
                let id: String = row.try_get("id")?;
                self.configuration(&id).await
            }

            async fn reset_account(&self, account_id: &str) -> StoreResult<(u64, u64)> {
                let mut tx = self.begin_write().await?;
                // Children first, so no foreign key has to cascade row by row.
                for sql in [
                    "delete from group_members where account_id = $1",
                    "delete from license_assignments where account_id = $1",
                    "delete from user_emails where account_id = $1",
                    "delete from activity where account_id = $1",
                    "update license_pools set used = 0 where account_id = $1",
                    "update accounts set user_count = 0 where id = $1",
                ] {
                    sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
                }
                let groups = sqlx::query("delete from groups where account_id = $1")
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let users = sqlx::query("delete from users where account_id = $1")
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok((users, groups))
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("select 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn count_accounts(&self) -> StoreResult<u64> {
                let n: i64 = sqlx::query_scalar("select count(*) from accounts").fetch_one(&self.pool).await?;
                Ok(n.max(0) as u64)
            }

            async fn authenticate(&self, token: &TokenHash, now: Micros) -> StoreResult<Result<Principal, TokenRejection>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{CONFIGURATION_SELECT} where c.token_hash = $1")))
                    .bind(&token.0)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else {
                    return Ok(Err(TokenRejection::Unknown));
                };
                let stored: String = row.try_get("token_hash")?;
                if !token.matches(&stored) {
                    return Ok(Err(TokenRejection::Unknown));
                }
                let expires_at: Option<i64> = row.try_get("token_expires_at")?;
                if expires_at.is_some_and(|t| t <= now) {
                    return Ok(Err(TokenRejection::Expired));
                }
                let Json(fidelity): Json<Fidelity> = row.try_get("fidelity")?;
                let configuration = Self::configuration_row(&row)?;
                Ok(Ok(Principal {
                    account: Account {
                        id: configuration.account_id.clone(),
                        name: row.try_get("account_name")?,
                        fidelity,
                    },
                    configuration,
                }))
            }
        }

        #[async_trait]
        impl UserStore for SqlStore<$db> {
            async fn create_user(
                &self,
                account_id: &str,
                doc: &Value,
                seat: &SeatRequest,
                now: Micros,
            ) -> StoreResult<UserWrite> {
                let columns = UserColumns::from_doc(doc)?;
                let id = uuid::Uuid::new_v4().to_string();
                let mut tx = self.begin_write().await?;
                let mut insert = Self::insert_users(account_id, &[(id.clone(), columns.clone(), doc)], now);
                insert.push(" returning id, doc, version, created_at, updated_at");
                let row = insert
                    .build()
                    .fetch_one(&mut *tx)
                .await
                .map_err(or_conflict(|| Self::user_name_taken(&columns)))?;
                Self::write_emails(&mut tx, account_id, &id, &columns).await?;
                let record = Self::resource(&row)?;
                let seats = Self::sync_seats(&mut tx, account_id, &id, columns.active, seat, now).await?;
                Self::add_to_user_count(&mut tx, account_id, 1).await?;
                tx.commit().await?;
                Ok(UserWrite { record, seats })
            }

            async fn get_user(&self, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>> {
                self.get_record(USERS, account_id, id).await
            }

            async fn modify_user(
                &self,
                account_id: &str,
                id: &str,
                seat: &SeatRequest,
                now: Micros,
                change: &mut Change<'_>,
            ) -> StoreResult<UserWrite> {
                let mut tx = self.begin_write().await?;
                let current = Self::lock_record(&mut tx, USERS, account_id, id).await?;
                let Some(doc) = change(&current)? else {
                    let active = UserColumns::from_doc(&current.doc)?.active;
                    let seats = Self::sync_seats(&mut tx, account_id, id, active, seat, now).await?;
                    tx.commit().await?;
                    return Ok(UserWrite { record: current, seats });
                };
                let columns = UserColumns::from_doc(&doc)?;
                let row = sqlx::query(
                    "update users set user_name = $3, user_name_key = $4, external_id = $5, display_name_key = $6,
                                      active = $7, doc = $8, version = version + 1, updated_at = $9
                     where account_id = $1 and id = $2
                     returning id, doc, version, created_at, updated_at",
                )
                .bind(account_id)
                .bind(id)
                .bind(&columns.user_name)
                .bind(&columns.user_name_key)
                .bind(&columns.external_id)
                .bind(&columns.display_name_key)
                .bind(columns.active)
                .bind(Json(&doc))
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(or_conflict(|| Self::user_name_taken(&columns)))?;
                Self::write_emails(&mut tx, account_id, id, &columns).await?;
                let record = Self::resource(&row)?;
                let seats = Self::sync_seats(&mut tx, account_id, id, columns.active, seat, now).await?;
                tx.commit().await?;
                Ok(UserWrite { record, seats })
            }

            async fn delete_user(&self, account_id: &str, id: &str, now: Micros) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let owned: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "select id from users where account_id = $1 and id = $2{}",
                    <$db as Dialect>::LOCK_ROW
                )))
                .bind(account_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if owned.is_none() {
                    return Ok(false);
                }
                Self::release_seats(&mut tx, id, now).await?;
                // The user's memberships go with it (foreign-key cascade); their groups'
                // membership changed, so their versions move on.
                sqlx::query(
                    "update groups set version = version + 1, updated_at = $3
                     where account_id = $1 and id in (select group_id from group_members where member_id = $2)",
                )
                .bind(account_id)
                .bind(id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let done = sqlx::query("delete from users where account_id = $1 and id = $2")
                    .bind(account_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let deleted = done.rows_affected() > 0;
                if deleted {
                    Self::add_to_user_count(&mut tx, account_id, -1).await?;
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn list_users(&self, account_id: &str, query: &ListRequest) -> StoreResult<Page<ResourceRecord>> {
                self.list_records(USERS, &users_target(), account_id, query).await
            }

            async fn import_users(&self, account_id: &str, docs: &[Value], now: Micros) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                for chunk in docs.chunks(IMPORT_ROWS) {
                    let rows = chunk
                        .iter()
                        .map(|doc| Ok((uuid::Uuid::new_v4().to_string(), UserColumns::from_doc(doc)?, doc)))
                        .collect::<StoreResult<Vec<_>>>()?;
                    let mut qb = Self::insert_users(account_id, &rows, now);
                    qb.build().execute(&mut *tx).await.map_err(|e| {
                        if unique_violation(&e) {
                            StoreError::Conflict("a userName in the batch is already taken in this account".into())
                        } else {
                            e.into()
                        }
                    })?;
                    let emails: Vec<(&String, &String)> = rows
                        .iter()
                        .flat_map(|(id, columns, _)| columns.email_keys.iter().map(move |key| (id, key)))
                        .collect();
                    for batch in emails.chunks(IMPORT_ROWS) {
                        let mut qb = QueryBuilder::<$db>::new("insert into user_emails (user_id, account_id, value_key) ");
                        qb.push_values(batch, |mut row, (id, key)| {
                            row.push_bind(*id).push_bind(account_id).push_bind(*key);
                        });
                        qb.build().execute(&mut *tx).await?;
                    }
                }
                Self::add_to_user_count(&mut tx, account_id, i64::try_from(docs.len()).unwrap_or(i64::MAX)).await?;
                tx.commit().await?;
                Ok(docs.len() as u64)
            }

            async fn explain_list_users(&self, account_id: &str, query: &ListRequest) -> StoreResult<Vec<String>> {
                let (mut count_qb, mut page_qb) = list_queries::<$db>(USERS, &users_target(), account_id, query, <$db as Dialect>::EXPLAIN)?;
                let mut plan = Vec::new();
                for (label, qb) in [("page", &mut page_qb), ("count", &mut count_qb)] {
                    plan.push(format!("-- {label}: {}", qb.sql().as_str().replace('\n', " ")));
                    for row in qb.build().fetch_all(&self.pool).await? {
                        plan.push(row.try_get::<String, _>(<$db as Dialect>::EXPLAIN_COLUMN)?);
                    }
                }
                Ok(plan)
            }
        }

        #[async_trait]
        impl GroupStore for SqlStore<$db> {
            async fn create_group(
                &self,
                account_id: &str,
                doc: &Value,
                members: &[String],
                now: Micros,
            ) -> StoreResult<ResourceRecord> {
                let columns = GroupColumns::from_doc(doc)?;
                let id = uuid::Uuid::new_v4().to_string();
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "insert into groups (id, account_id, display_name, display_name_key, external_id, doc, version,
                                         created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, 1, $7, $7)
                     returning {RECORD_COLUMNS}"
                )))
                .bind(&id)
                .bind(account_id)
                .bind(&columns.display_name)
                .bind(&columns.display_name_key)
                .bind(&columns.external_id)
                .bind(Json(doc))
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(or_conflict(|| Self::display_name_taken(&columns)))?;
                Self::insert_members(&mut tx, account_id, &id, members, MemberOrigin::Scim, now).await?;
                let record = Self::resource(&row)?;
                tx.commit().await?;
                Ok(record)
            }

            async fn get_group(&self, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>> {
                self.get_record(GROUPS, account_id, id).await
            }

            async fn modify_group(
                &self,
                account_id: &str,
                id: &str,
                now: Micros,
                change: &mut Change<'_, GroupUpdate>,
            ) -> StoreResult<ResourceRecord> {
                let mut tx = self.begin_write().await?;
                let current = Self::lock_record(&mut tx, GROUPS, account_id, id).await?;
                let Some(update) = change(&current)? else {
                    return Ok(current);
                };
                let mut members_changed = false;
                for op in &update.members {
                    members_changed |= Self::apply_member_op(&mut tx, account_id, id, op, now).await? > 0;
                }
                let record = match update.doc.filter(|doc| *doc != current.doc) {
                    Some(doc) => {
                        let columns = GroupColumns::from_doc(&doc)?;
                        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "update groups set display_name = $3, display_name_key = $4, external_id = $5, doc = $6,
                                               version = version + 1, updated_at = $7
                             where account_id = $1 and id = $2
                             returning {RECORD_COLUMNS}"
                        )))
                        .bind(account_id)
                        .bind(id)
                        .bind(&columns.display_name)
                        .bind(&columns.display_name_key)
                        .bind(&columns.external_id)
                        .bind(Json(&doc))
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(or_conflict(|| Self::display_name_taken(&columns)))?;
                        Self::resource(&row)?
                    }
                    None if members_changed => Self::touch_record(&mut tx, GROUPS, account_id, id, now).await?,
                    None => return Ok(current),
                };
                tx.commit().await?;
                Ok(record)
            }

            async fn delete_group(&self, account_id: &str, id: &str) -> StoreResult<bool> {
                self.delete_record(GROUPS, account_id, id).await
            }

            async fn list_groups(&self, account_id: &str, query: &ListRequest) -> StoreResult<Page<ResourceRecord>> {
                self.list_records(GROUPS, &groups_target(), account_id, query).await
            }

            async fn group_members(&self, account_id: &str, group_ids: &[String]) -> StoreResult<References> {
                let display = <$db as Dialect>::json_text("u.doc", &["displayName"]);
                let select = format!(
                    "select gm.group_id as owner, gm.member_id as id, coalesce({display}, u.user_name) as display
                     from group_members gm join users u on u.id = gm.member_id where"
                );
                self.references(&select, "gm.group_id", "gm.group_id, gm.member_id", account_id, group_ids).await
            }

            async fn user_groups(&self, account_id: &str, user_ids: &[String]) -> StoreResult<References> {
                let select = "select gm.member_id as owner, g.id as id, g.display_name as display
                              from group_members gm join groups g on g.id = gm.group_id where";
                self.references(select, "gm.member_id", "gm.member_id, g.id", account_id, user_ids).await
            }

            async fn add_members(
                &self,
                account_id: &str,
                group_id: &str,
                user_ids: &[String],
                origin: MemberOrigin,
                now: Micros,
            ) -> StoreResult<u64> {
                let mut tx = self.begin_write().await?;
                Self::lock_record(&mut tx, GROUPS, account_id, group_id).await?;
                let added = Self::insert_members(&mut tx, account_id, group_id, user_ids, origin, now).await?;
                if added > 0 {
                    Self::touch_record(&mut tx, GROUPS, account_id, group_id, now).await?;
                }
                tx.commit().await?;
                Ok(added)
            }
        }
    };
}

/// Rows per multi-row insert in `import_users`: 11 parameters a row stays well under
/// SQLite's 32 766 and Postgres' 65 535 bound parameters per statement.
const IMPORT_ROWS: usize = 1_000;

/// The count query and the page query of a list of `table`'s resources, each prefixed
/// with `prefix` (empty, or the dialect's EXPLAIN).
fn list_queries<'t, DB: Dialect>(
    table: &str,
    target: &'t Target,
    account_id: &'t str,
    query: &ListRequest,
    prefix: &str,
) -> StoreResult<(QueryBuilder<DB>, QueryBuilder<DB>)> {
    let push_where = |qb: &mut QueryBuilder<DB>| -> StoreResult<FilterSql<'t>> {
        let mut translator = FilterSql::new(target).in_account(account_id);
        qb.push(" where r.account_id = ");
        DB::bind_text(qb, account_id.to_owned());
        if let Some(filter) = &query.filter {
            qb.push(" and ");
            translator.push(qb, filter)?;
        }
        Ok(translator)
    };
    let mut count_qb = QueryBuilder::<DB>::new(format!("{prefix}select count(*) from {table} r"));
    push_where(&mut count_qb)?;
    let mut qb = QueryBuilder::<DB>::new(format!(
        "{prefix}select {} from {table} r",
        prefixed(RECORD_COLUMNS)
    ));
    let translator = push_where(&mut qb)?;
    qb.push(" order by ");
    if let Some(sort_by) = &query.sort_by {
        let expr = translator.sort_expr::<DB>(sort_by)?;
        let dir = match query.sort_order {
            SortOrder::Ascending => "asc nulls last",
            SortOrder::Descending => "desc nulls first",
        };
        // id breaks ties, so pages never overlap or skip.
        qb.push(format!("{expr} {dir}, r.id"));
    } else {
        // Creation order: what an IdP paging through an import expects.
        qb.push("r.created_at, r.id");
    }
    qb.push(" limit ");
    DB::bind_int(&mut qb, i64::try_from(query.count).unwrap_or(i64::MAX));
    qb.push(" offset ");
    DB::bind_int(
        &mut qb,
        i64::try_from(query.start_index.saturating_sub(1)).unwrap_or(i64::MAX),
    );
    Ok((count_qb, qb))
}

/// A foreign-key violation while inserting members: a user deleted since
/// `check_users` looked (a race), answered like an unknown id.
fn member_violation(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
            StoreError::UnknownMembers(vec!["(a user deleted meanwhile)".into()])
        }
        _ => err.into(),
    }
}

/// `column in (…)` with each id bound.
fn push_in<DB: Dialect>(qb: &mut QueryBuilder<DB>, column: &str, ids: &[&str]) {
    qb.push(format!("{column} in ("));
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        DB::bind_text(qb, (*id).to_owned());
    }
    qb.push(")");
}

fn prefixed(columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

sql_store!(Sqlite);
sql_store!(Postgres);
