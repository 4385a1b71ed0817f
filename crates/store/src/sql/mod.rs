//! The SQL store: one text of the SQL, compiled once per dialect.
//!
//! Each file below (records, accounts, users, groups, licenses, activity, sessions,
//! snapshot) implements one
//! concern for `SqlStore<Db>`; the file is mounted twice, in `sqlite` and in `postgres`,
//! each of which names its database `Db`. Why not `impl<DB: Database>`: a generic sqlx
//! implementation needs higher-ranked `Executor` bounds on every method, which
//! async-trait futures handle poorly; mounting the file twice keeps one text of the SQL
//! and gives each dialect concrete types. Dialect differences live in `dialect.rs`.
//!
//! This file holds pool setup and what the concerns share (helpers, row types).

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::types::Json;
use sqlx::{Pool, QueryBuilder, Transaction};

use super::dialect::Dialect;
use super::principals::{PRINCIPALS_CHANNEL, PrincipalCache};
use super::query::{FilterSql, Target};
use super::{ListRequest, Micros, ResourceRecord, SortOrder, Store, StoreError, StoreResult};
use domain::licensing::Product;
use scim::cursor::Cursor;

/// The store files compiled for SQLite.
#[path = "."]
mod sqlite {
    type Db = sqlx::Sqlite;
    #[path = "accounts.rs"]
    mod accounts;
    #[path = "activity.rs"]
    mod activity;
    #[path = "center.rs"]
    mod center;
    #[path = "groups.rs"]
    mod groups;
    #[path = "licenses.rs"]
    mod licenses;
    #[path = "queue.rs"]
    mod queue;
    #[path = "records.rs"]
    mod records;
    #[path = "sessions.rs"]
    mod sessions;
    #[path = "snapshot.rs"]
    mod snapshot;
    #[path = "users.rs"]
    mod users;
}

/// The same files compiled for Postgres.
#[expect(
    clippy::duplicate_mod,
    reason = "each concern's file is compiled once per dialect, on purpose"
)]
#[path = "."]
mod postgres {
    type Db = sqlx::Postgres;
    #[path = "accounts.rs"]
    mod accounts;
    #[path = "activity.rs"]
    mod activity;
    #[path = "center.rs"]
    mod center;
    #[path = "groups.rs"]
    mod groups;
    #[path = "licenses.rs"]
    mod licenses;
    #[path = "queue.rs"]
    mod queue;
    #[path = "records.rs"]
    mod records;
    #[path = "sessions.rs"]
    mod sessions;
    #[path = "snapshot.rs"]
    mod snapshot;
    #[path = "users.rs"]
    mod users;
}

pub(crate) struct SqlStore<DB: sqlx::Database> {
    pool: Pool<DB>,
    /// SQLite: the one connection write transactions take, in turn. SQLite has one
    /// writer at a time anyway; queueing writers here, first come first served, replaces
    /// its busy handler's sleep-and-retry, under which a writer at 16 connections could
    /// wait 700 ms while others overtook it. Postgres writes through `pool`.
    writer: Option<Pool<DB>>,
    /// Authentication without a database read (see `principals.rs`).
    principals: Arc<PrincipalCache>,
    /// Postgres: the task that drops cached principals when another process changes them.
    listener: Option<tokio::task::JoinHandle<()>>,
}

impl<DB: sqlx::Database> Drop for SqlStore<DB> {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

/// How long a request waits for a pool connection unless the settings say otherwise.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Open (and migrate) the database named by `url`: `sqlite://…` or `postgres://…`,
/// creating it when it does not exist yet.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    connect_with(url, DEFAULT_ACQUIRE_TIMEOUT).await
}

/// Open (and migrate) the database, creating it when it does not exist yet, waiting at
/// most `acquire_timeout` for a connection (an outage then answers 503 quickly instead
/// of hanging).
pub async fn connect_with(url: &str, acquire_timeout: Duration) -> StoreResult<Arc<dyn Store>> {
    open(url, acquire_timeout, true).await
}

/// Open (and migrate) a database this server has set up before: a SQLite file that is
/// not there, or a Postgres database without the server's tables, is refused
/// ([`StoreError::NoDatabase`]) and nothing is created, so a mistyped path or a command
/// run from another directory fails instead of succeeding on a new empty database.
pub async fn connect_existing(url: &str) -> StoreResult<Arc<dyn Store>> {
    open(url, DEFAULT_ACQUIRE_TIMEOUT, false).await
}

/// The table `sqlx::migrate!` keeps: a database without it was never set up.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

async fn open(url: &str, acquire_timeout: Duration, create: bool) -> StoreResult<Arc<dyn Store>> {
    let missing = || StoreError::NoDatabase(crate::redacted_url(url));
    if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            // A writer waits for SQLite's write lock as long as for a pool connection
            // (SQLite's busy handler retries meanwhile); then it is answered 503.
            .busy_timeout(acquire_timeout)
            .foreign_keys(true)
            // Read pages through a memory map rather than a read() call each: with 1M users
            // the indexes outgrow SQLite's per-connection page cache, and the syscalls
            // showed as a 4 ms p99 on indexed lookups (see README, Performance).
            .pragma("mmap_size", "268435456");
        if !create && !options.get_filename().is_file() {
            return Err(missing());
        }
        if let Some(dir) = Path::new(options.get_filename()).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(acquire_timeout)
            .connect_with(options.clone())
            .await?;
        let set_up: Option<String> =
            sqlx::query_scalar("select name from sqlite_master where type = 'table' and name = $1")
                .bind(MIGRATIONS_TABLE)
                .fetch_optional(&pool)
                .await?;
        if !create && set_up.is_none() {
            return Err(missing());
        }
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Arc::new(SqlStore {
            pool,
            writer: Some(writer),
            principals: Arc::default(),
            listener: None,
        }))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(acquire_timeout)
            // No liveness ping before every statement (a round trip each): a connection
            // that died meanwhile fails its statement with an I/O error, answered 503
            // with Retry-After, and sqlx drops it from the pool.
            .test_before_acquire(false)
            .connect(url)
            .await?;
        let set_up: Option<String> = sqlx::query_scalar("select to_regclass($1)::text")
            .bind(MIGRATIONS_TABLE)
            .fetch_one(&pool)
            .await?;
        if !create && set_up.is_none() {
            return Err(missing());
        }
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let principals = Arc::<PrincipalCache>::default();
        let listener = listen_for_principal_changes(&pool, principals.clone()).await?;
        Ok(Arc::new(SqlStore {
            pool,
            writer: None,
            principals,
            listener: Some(listener),
        }))
    } else {
        Err(StoreError::UnsupportedUrl(crate::redacted_url(url)))
    }
}

/// Drop cached principals whenever another process announces a change (a lost
/// connection drops them too: a notification may have been missed meanwhile).
async fn listen_for_principal_changes(
    pool: &Pool<sqlx::Postgres>,
    principals: Arc<PrincipalCache>,
) -> StoreResult<tokio::task::JoinHandle<()>> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(PRINCIPALS_CHANNEL).await?;
    Ok(tokio::spawn(async move {
        loop {
            let received = listener.recv().await;
            principals.invalidate();
            if let Err(e) = received {
                tracing::warn!(error = %e, "principal change notifications interrupted; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }))
}

impl<DB: Dialect> SqlStore<DB> {
    /// A transaction that writes (see `Dialect::BEGIN_WRITE`).
    async fn begin_write(&self) -> StoreResult<Transaction<'static, DB>> {
        Ok(self.write_pool().begin_with(DB::BEGIN_WRITE).await?)
    }

    /// The pool every write goes through, a transaction or a single statement: SQLite's
    /// one writer connection (see `writer`), else the pool.
    fn write_pool(&self) -> &Pool<DB> {
        self.writer.as_ref().unwrap_or(&self.pool)
    }
}

/// The columns every resource table shares, read into a [`RecordRow`].
const RECORD_COLUMNS: &str = "id, doc, version, created_at, created_seq, updated_at";
const USERS: &str = "users";
const GROUPS: &str = "groups";

/// A row of a resource table (users, groups).
#[derive(sqlx::FromRow)]
struct RecordRow {
    id: String,
    doc: Json<Value>,
    version: i64,
    created_at: Micros,
    created_seq: Option<i64>,
    updated_at: Micros,
}

impl From<RecordRow> for ResourceRecord {
    fn from(row: RecordRow) -> Self {
        ResourceRecord {
            id: row.id,
            doc: row.doc.0,
            version: row.version,
            created_at: row.created_at,
            created_seq: row.created_seq,
            updated_at: row.updated_at,
            attached: None,
        }
    }
}

/// Ids per statement when a list of ids is bound (`in (…)`, multi-row inserts): well
/// under both databases' bound-parameter limits.
const CHUNK: usize = 1000;

/// Rows per multi-row insert in `import_users`: 11 parameters a row stays well under
/// SQLite's 32 766 and Postgres' 65 535 bound parameters per statement.
const IMPORT_ROWS: usize = 1_000;

/// Ids in first-seen order without repeats.
fn distinct<T: AsRef<str>>(ids: &[T]) -> Vec<&str> {
    let mut seen = HashSet::new();
    ids.iter()
        .map(AsRef::as_ref)
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

/// A pool update that would leave more seats in use than it has trips the check
/// constraint: seats must be freed first.
fn seats_in_use(e: sqlx::Error, license_type: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_check_violation() => {
            StoreError::Seats(fewer_seats_than_used(license_type, None))
        }
        _ => e.into(),
    }
}

/// Why a pool of `license_type` cannot shrink below what is in use, and how to free
/// seats under either preset (the linkedin preset has no revoke: the IdP unassigns).
fn fewer_seats_than_used(license_type: &str, counts: Option<(i64, i64)>) -> String {
    let numbers = counts.map_or_else(String::new, |(used, seats)| {
        format!(" ({used} in use, asked for {seats})")
    });
    format!(
        "{license_type} cannot have fewer seats than are in use{numbers}: free seats first by unassigning or deactivating users in the IdP (or revoking licenses, where the account's preset allows it)"
    )
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

/// `columns` (a comma-separated list) qualified with the alias `r`.
fn prefixed(columns: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("r.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The count query and the page query (selecting `columns` of the rows `r`) of a list of
/// `table`'s resources, each prefixed with `prefix` (empty, or the dialect's EXPLAIN).
/// Whose list it is (users only): the product whose `active` a filter compares, and the
/// product whose users alone it shows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ListView<'p> {
    pub(crate) product: Option<&'p Product>,
    pub(crate) scope: Option<&'p Product>,
}

fn list_queries<'t, DB: Dialect>(
    table: &str,
    columns: &str,
    target: &'t Target,
    account_id: &'t str,
    query: &ListRequest,
    view: ListView<'t>,
    prefix: &str,
) -> StoreResult<(QueryBuilder<DB>, QueryBuilder<DB>)> {
    let push_where = |qb: &mut QueryBuilder<DB>| -> StoreResult<FilterSql<'t>> {
        let mut translator = FilterSql::new(target)
            .in_account(account_id)
            .for_product(view.product.map(Product::as_str));
        qb.push(" where r.account_id = ");
        DB::bind_text(qb, account_id.to_owned());
        if let Some(product) = view.scope {
            // Users of the product: it has a status in their row. A product is a
            // validated slug (`[a-z0-9_]`), safe as a JSON path key.
            qb.push(" and ");
            qb.push(DB::json_has_key("r.products", product.as_str()));
        }
        if let Some(filter) = &query.filter {
            qb.push(" and ");
            translator.push(qb, filter)?;
        }
        Ok(translator)
    };
    let mut count_qb = QueryBuilder::<DB>::new(format!("{prefix}select count(*) from {table} r"));
    push_where(&mut count_qb)?;
    let mut qb = QueryBuilder::<DB>::new(format!("{prefix}select {columns} from {table} r"));
    let translator = push_where(&mut qb)?;
    if let Some(cursor) = &query.cursor {
        // RFC 9865 keyset paging on (created_at, created_seq): a page at any depth costs
        // what the first costs (the (account_id, created_at, created_seq) index), and
        // rows inserted meanwhile neither repeat nor hide the rows already there. The
        // insertion sequence, not the random id, breaks ties of a clock that stands
        // still: a row created during a walk sorts after every row already there, so a
        // forward walk that has not ended meets it. One row more than the page tells
        // whether another page follows.
        let descending = match cursor {
            Cursor::First => false,
            Cursor::After(position) | Cursor::Before(position) => {
                let before = matches!(cursor, Cursor::Before(_));
                // A row-value comparison: both databases seek the index with it.
                let op = if before { "<" } else { ">" };
                qb.push(format!(" and (r.created_at, r.created_seq) {op} ("));
                DB::bind_int(&mut qb, position.created_at);
                qb.push(", ");
                DB::bind_int(&mut qb, position.seq);
                qb.push(")");
                before
            }
        };
        qb.push(if descending {
            " order by r.created_at desc, r.created_seq desc limit "
        } else {
            " order by r.created_at, r.created_seq limit "
        });
        DB::bind_int(
            &mut qb,
            i64::try_from(query.count.saturating_add(1)).unwrap_or(i64::MAX),
        );
        return Ok((count_qb, qb));
    }
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
        qb.push("r.created_at, r.created_seq");
    }
    qb.push(" limit ");
    DB::bind_int(&mut qb, i64::try_from(query.count).unwrap_or(i64::MAX));
    // No `offset` on a first page (every lookup by userName): with a bound offset,
    // Postgres never settles on the prepared statement's generic plan (it costs the
    // unknown offset as skipping rows) and plans the statement anew on every execution,
    // which cost more than executing it.
    let skipped = query.start_index.saturating_sub(1);
    if skipped > 0 {
        qb.push(" offset ");
        DB::bind_int(&mut qb, i64::try_from(skipped).unwrap_or(i64::MAX));
    }
    Ok((count_qb, qb))
}
