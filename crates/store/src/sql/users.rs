//! Users: their row, indexed columns and email keys, and the account's user count.

use std::borrow::Cow;
use std::sync::LazyLock;

use async_trait::async_trait;
use serde_json::Value;
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row, Transaction};

use super::Db;
use super::licenses::LicenseEdit;
use crate::dialect::Dialect;
use crate::sql::{
    IMPORT_ROWS, ListView, RECORD_COLUMNS, RecordRow, SqlStore, USERS, list_queries, or_conflict, prefixed,
    unique_violation,
};
use crate::targets::users_target;
use crate::{
    Attached, Change, ListRequest, Micros, Page, Reference, ResourceRecord, StoreError, StoreResult,
    UserColumns, UserStore, UserWrite,
};
use domain::accounts::fidelity::list_scope;
use domain::clock::rfc3339;
use domain::ids::{AccountId, ConfigurationId, UserId};
use domain::licensing::SeatRequest;
use domain::licensing::assignment::rule_view;
use domain::licensing::rules::SeatPlan;
use domain::licensing::status::{self, ProductStatuses};
use domain::licensing::{License, LicenseState, Product};
use domain::licensing::{NoChange, SeatChange};

/// A user row with its groups and licenses as JSON arrays (see [`user_columns`]).
#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    doc: Json<Value>,
    version: i64,
    created_at: Micros,
    created_seq: Option<i64>,
    updated_at: Micros,
    products: Json<ProductStatuses>,
    related: Json<Vec<GroupJson>>,
    licenses: Json<Vec<LicenseJson>>,
}

#[derive(serde::Deserialize)]
struct GroupJson {
    id: String,
    display: String,
}

#[derive(serde::Deserialize)]
struct LicenseJson {
    product: String,
    instance: String,
    license_type: String,
    state: LicenseState,
    assigned_at: Option<Micros>,
    activated_at: Option<Micros>,
}

impl From<UserRow> for ResourceRecord {
    fn from(row: UserRow) -> Self {
        let related = row
            .related
            .0
            .into_iter()
            .map(|g| Reference {
                id: g.id,
                display: g.display,
            })
            .collect();
        let licenses = row
            .licenses
            .0
            .into_iter()
            .map(|l| License {
                product: l.product,
                instance: l.instance,
                license_type: l.license_type,
                state: l.state,
                assigned_at: l.assigned_at.map(rfc3339),
                activated_at: l.activated_at.map(rfc3339),
            })
            .collect();
        ResourceRecord {
            id: row.id,
            doc: row.doc.0,
            version: row.version,
            created_at: row.created_at,
            created_seq: row.created_seq,
            updated_at: row.updated_at,
            attached: Some(Attached {
                related,
                licenses,
                statuses: row.products.0,
            }),
        }
    }
}

/// The columns of a user `r` plus, in the same statement, its groups (ordered by id, as
/// `GroupStore::user_groups` reads them) and its licenses (by product): a read is one
/// round trip. Built once: every user read names them.
static USER_COLUMNS: LazyLock<String> = LazyLock::new(user_columns);

/// One user by id, with [`USER_COLUMNS`].
static READ_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "select {} from users r where r.account_id = $1 and r.id = $2",
        *USER_COLUMNS
    )
});

fn user_columns() -> String {
    let groups = Db::json_rows(
        "select g.id, g.display_name as display from group_members gm join groups g on g.id = gm.group_id
         where gm.member_id = r.id order by g.id",
        &["id", "display"],
    );
    let licenses = Db::json_rows(
        "select a.product, i.name as instance, p.license_type, a.state, a.assigned_at, a.activated_at
         from license_assignments a
         join license_pools p on p.id = a.pool_id
         join instances i on i.id = p.instance_id
         where a.user_id = r.id order by a.product",
        &[
            "product",
            "instance",
            "license_type",
            "state",
            "assigned_at",
            "activated_at",
        ],
    );
    format!(
        "{}, r.products, {groups} as related, {licenses} as licenses",
        prefixed(RECORD_COLUMNS)
    )
}

/// One user by id, with [`USER_COLUMNS`], its row locked until the transaction ends.
static READ_USER_LOCKED: LazyLock<String> = LazyLock::new(|| format!("{}{}", *READ_USER, Db::LOCK_ROW));

/// The user as the writing configuration's license rules see it: the document with its
/// groups (only built when there are rules).
fn rule_subject<'d>(seat: &SeatRequest, doc: &'d Value, groups: &[Reference]) -> Cow<'d, Value> {
    if seat.rules.is_empty() {
        return Cow::Borrowed(doc);
    }
    Cow::Owned(rule_view(
        doc,
        groups.iter().map(|g| (g.id.as_str(), g.display.as_str())),
    ))
}

/// The groups a read attached to the record (a user write never changes them).
fn groups_of(record: &ResourceRecord) -> &[Reference] {
    record.attached.as_ref().map_or(&[], |a| a.related.as_slice())
}

/// Optimistic read-modify-write attempts of `modify_user` (the last one locks the row).
const OPTIMISTIC_ATTEMPTS: u32 = 8;

impl SqlStore<Db> {
    /// Insert the user's email keys (one statement; none without emails).
    async fn insert_emails(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        id: &UserId,
        columns: &UserColumns,
    ) -> StoreResult<()> {
        if columns.email_keys.is_empty() {
            return Ok(());
        }
        let mut qb = QueryBuilder::<Db>::new("insert into user_emails (user_id, account_id, value_key) ");
        qb.push_values(&columns.email_keys, |mut row, key| {
            row.push_bind(id).push_bind(account_id).push_bind(key);
        });
        qb.build().execute(&mut **tx).await?;
        Ok(())
    }

    /// Replace the user's email keys, when they changed (an update that leaves the
    /// emails alone writes none).
    async fn replace_emails(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        id: &UserId,
        before: &[String],
        columns: &UserColumns,
    ) -> StoreResult<()> {
        if before == columns.email_keys.as_slice() {
            return Ok(());
        }
        sqlx::query("delete from user_emails where user_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        Self::insert_emails(tx, account_id, id, columns).await
    }

    /// Keep the account's user count in step with the rows, in the writing transaction.
    /// The count is spread over rows (migration 0070), chosen by `shard`, so that
    /// concurrent creates do not queue on one row lock until commit.
    async fn add_to_user_count(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        shard: i64,
        delta: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "insert into account_user_counts (account_id, shard, users) values ($1, $2, $3)
             on conflict (account_id, shard) do update set users = account_user_counts.users + excluded.users",
        )
        .bind(account_id)
        .bind(shard)
        .bind(delta)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// `insert into users … values (…), (…)` for rows of (id, columns, document):
    /// one text for `create_user` and `import_users`.
    /// `writer` is recorded as the setter of each row's externalId, if it has one;
    /// `statuses` are every row's per-product statuses.
    fn insert_users(
        account_id: &AccountId,
        rows: &[(UserId, UserColumns, &Value)],
        writer: Option<&ConfigurationId>,
        statuses: &ProductStatuses,
        now: Micros,
    ) -> QueryBuilder<Db> {
        let mut qb = QueryBuilder::<Db>::new(
            "insert into users (id, account_id, user_name, user_name_key, external_id, external_id_set_by,
                                display_name_key, active, doc, products, version, created_at, updated_at) ",
        );
        qb.push_values(rows, |mut row, (id, columns, doc)| {
            row.push_bind(id.clone())
                .push_bind(account_id.to_owned())
                .push_bind(columns.user_name.clone())
                .push_bind(columns.user_name_key.clone())
                .push_bind(columns.external_id.clone())
                .push_bind(columns.external_id.as_ref().and(writer).cloned())
                .push_bind(columns.display_name_key.clone())
                .push_bind(columns.active)
                .push_bind(Json(*doc))
                .push_bind(Json(statuses))
                .push_bind(1_i64)
                .push_bind(now)
                .push_bind(now);
        });
        qb
    }

    /// The row of the account's user count a user's create and delete go to: the first
    /// two hex digits of its (random) id, 256 rows. With 16, concurrent creates still met
    /// on a row and queued behind its lock until commit (the upsert was the costliest
    /// statement of a create at 16 connections: 159 µs of its 412).
    fn count_shard(id: &UserId) -> i64 {
        id.as_str()
            .chars()
            .take(2)
            .map(|c| c.to_digit(16).map_or(0, i64::from))
            .fold(0, |shard, digit| shard * 16 + digit)
    }

    /// The record to answer a write with, its groups and licenses attached: `known` (a
    /// user write never changes its groups) with the seat sync's `edit` applied, or, when
    /// they were not read, read in the transaction.
    async fn written(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        id: &UserId,
        record: ResourceRecord,
        known: Option<Attached>,
        edit: LicenseEdit,
    ) -> StoreResult<ResourceRecord> {
        match known {
            Some(mut attached) => {
                edit.apply(&mut attached.licenses);
                Ok(ResourceRecord {
                    attached: Some(attached),
                    ..record
                })
            }
            None => Ok(Self::read_user(&mut **tx, account_id, id)
                .await?
                .unwrap_or(record)),
        }
    }

    /// One user with its groups and licenses, in one statement.
    async fn read_user<'e, E>(
        executor: E,
        account_id: &AccountId,
        id: &UserId,
    ) -> StoreResult<Option<ResourceRecord>>
    where
        E: sqlx::Executor<'e, Database = Db>,
    {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(READ_USER.as_str()))
            .bind(account_id)
            .bind(id)
            .fetch_optional(executor)
            .await?;
        Ok(row.map(ResourceRecord::from))
    }

    /// [`Self::read_user`], the row locked until the transaction ends.
    async fn read_user_locked(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        id: &UserId,
    ) -> StoreResult<Option<ResourceRecord>> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(READ_USER_LOCKED.as_str()))
            .bind(account_id)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(row.map(ResourceRecord::from))
    }

    /// Lock the user's row if it is still at `version` (an unchanged write that claims a
    /// seat decides on that version's `active`).
    async fn still_at(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        id: &UserId,
        version: i64,
    ) -> StoreResult<bool> {
        let found: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select version from users where account_id = $1 and id = $2 and version = $3{}",
            Db::LOCK_ROW
        )))
        .bind(account_id)
        .bind(id)
        .bind(version)
        .fetch_optional(&mut **tx)
        .await?;
        Ok(found.is_some())
    }

    fn user_name_taken(columns: &UserColumns) -> StoreError {
        StoreError::Conflict(format!(
            "userName {:?} is already taken in this account",
            columns.user_name
        ))
    }
}

#[async_trait]
impl UserStore for SqlStore<Db> {
    async fn create_user(
        &self,
        account_id: &AccountId,
        doc: &Value,
        seat: &SeatRequest,
        writer: Option<&ConfigurationId>,
        now: Micros,
    ) -> StoreResult<UserWrite> {
        let columns = UserColumns::from_doc(doc)?;
        let id = UserId::generate();
        // A new person: the writing product's status is the person's.
        let mut statuses = ProductStatuses::new();
        status::record(&mut statuses, seat.product.as_ref(), &mut doc.clone());
        let mut tx = self.begin_write().await?;
        Self::check_manager(&mut tx, account_id, doc, None).await?;
        let mut insert = Self::insert_users(
            account_id,
            &[(id.clone(), columns.clone(), doc)],
            writer,
            &statuses,
            now,
        );
        insert.push(format!(" returning {RECORD_COLUMNS}"));
        let row: RecordRow = insert
            .build_query_as()
            .fetch_one(&mut *tx)
            .await
            .map_err(or_conflict(|| Self::user_name_taken(&columns)))?;
        Self::insert_emails(&mut tx, account_id, &id, &columns).await?;
        let subject = rule_subject(seat, doc, &[]);
        let (seats, edit) =
            Self::sync_seats(&mut tx, account_id, &id, columns.active, seat, &subject, now).await?;
        Self::add_to_user_count(&mut tx, account_id, Self::count_shard(&id), 1).await?;
        // A new user is in no group and holds no license but the one just recorded.
        let attached = Attached {
            statuses,
            ..Attached::default()
        };
        let record = Self::written(&mut tx, account_id, &id, row.into(), Some(attached), edit).await?;
        tx.commit().await?;
        Ok(UserWrite { record, seats })
    }

    async fn record_external_id_writer(
        &self,
        account_id: &AccountId,
        id: &UserId,
        writer: Option<&ConfigurationId>,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin_write().await?;
        // Read and replaced in one transaction; concurrent writers of one user's
        // externalId can at worst misname who set it in the warning.
        let previous: Option<(ConfigurationId, String)> = sqlx::query_as(
            "select c.id, c.name from users u join scim_configurations c on c.id = u.external_id_set_by
             where u.account_id = $1 and u.id = $2",
        )
        .bind(account_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query("update users set external_id_set_by = $3 where account_id = $1 and id = $2")
            .bind(account_id)
            .bind(id)
            .bind(writer)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(previous
            .filter(|(setter, _)| Some(setter) != writer)
            .map(|(_, name)| name))
    }

    async fn get_user(&self, account_id: &AccountId, id: &UserId) -> StoreResult<Option<ResourceRecord>> {
        Self::read_user(&self.pool, account_id, id).await
    }

    async fn modify_user(
        &self,
        account_id: &AccountId,
        id: &UserId,
        seat: &SeatRequest,
        now: Micros,
        change: &mut Change<'_>,
    ) -> StoreResult<UserWrite> {
        // Optimistic: read without a lock, apply, write only if the version is still the
        // one read (the update takes the row lock just for its transaction); a lost race
        // reads again. The last attempt locks the row first, so a writer always finishes.
        let product = seat.product.as_ref();
        for attempt in 1..=OPTIMISTIC_ATTEMPTS {
            let (mut tx, mut current) = if attempt < OPTIMISTIC_ATTEMPTS {
                let current = Self::read_user(&self.pool, account_id, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                (None, current)
            } else {
                let mut tx = self.begin_write().await?;
                let current = Self::read_user_locked(&mut tx, account_id, id)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                (Some(tx), current)
            };
            // `change` sees, and the seat rules decide on, the writing product's status.
            let mut statuses = current
                .attached
                .as_ref()
                .map(|a| a.statuses.clone())
                .unwrap_or_default();
            status::view(&mut current.doc, &statuses, product);
            let before = UserColumns::from_doc(&current.doc)?;
            let Some(mut doc) = change(&current)? else {
                // Unchanged: an IdP "touching" a user it matched still claims its seat,
                // as of the version read.
                if matches!(seat.plan(before.active), SeatPlan::Nothing) {
                    return Ok(UserWrite {
                        record: current,
                        seats: SeatChange::Kept(NoChange::NoAutoAssign),
                    });
                }
                let mut tx = match tx.take() {
                    Some(tx) => tx,
                    None => {
                        let mut tx = self.begin_write().await?;
                        if !Self::still_at(&mut tx, account_id, id, current.version).await? {
                            continue;
                        }
                        tx
                    }
                };
                let subject = rule_subject(seat, &current.doc, groups_of(&current));
                let (seats, edit) =
                    Self::sync_seats(&mut tx, account_id, id, before.active, seat, &subject, now).await?;
                // A product touching the person for the first time makes them its user
                // (lists through it show them), with the status it saw: the document
                // reads the same, so its version stays.
                if let Some(p) = product
                    && !statuses.contains_key(p.as_str())
                {
                    status::record(&mut statuses, Some(p), &mut current.doc.clone());
                    sqlx::query("update users set products = $3 where account_id = $1 and id = $2")
                        .bind(account_id)
                        .bind(id)
                        .bind(Json(&statuses))
                        .execute(&mut *tx)
                        .await?;
                }
                let known = current
                    .attached
                    .take()
                    .map(|known| Attached { statuses, ..known });
                let record = Self::written(&mut tx, account_id, id, current, known, edit).await?;
                tx.commit().await?;
                return Ok(UserWrite { record, seats });
            };
            // The product's status as written; the document keeps the person's.
            let product_active = status::doc_active(&doc);
            status::record(&mut statuses, product, &mut doc);
            let columns = UserColumns::from_doc(&doc)?;
            let mut tx = match tx.take() {
                Some(tx) => tx,
                None => self.begin_write().await?,
            };
            Self::check_manager(&mut tx, account_id, &doc, Some(&current.doc)).await?;
            let row: Option<RecordRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "update users set user_name = $3, user_name_key = $4, external_id = $5, display_name_key = $6,
                                  active = $7, doc = $8, products = $11, version = version + 1, updated_at = $9
                 where account_id = $1 and id = $2 and version = $10
                 returning {RECORD_COLUMNS}"
            )))
            .bind(account_id)
            .bind(id)
            .bind(&columns.user_name)
            .bind(&columns.user_name_key)
            .bind(&columns.external_id)
            .bind(&columns.display_name_key)
            .bind(columns.active)
            .bind(Json(&doc))
            .bind(now)
            .bind(current.version)
            .bind(Json(&statuses))
            .fetch_optional(&mut *tx)
            .await
            .map_err(or_conflict(|| Self::user_name_taken(&columns)))?;
            let Some(row) = row else {
                // Another write got there first (or deleted the user): read again.
                continue;
            };
            Self::replace_emails(&mut tx, account_id, id, &before.email_keys, &columns).await?;
            let subject = rule_subject(seat, &doc, groups_of(&current));
            let (seats, edit) =
                Self::sync_seats(&mut tx, account_id, id, product_active, seat, &subject, now).await?;
            let known = current
                .attached
                .take()
                .map(|known| Attached { statuses, ..known });
            let record = Self::written(&mut tx, account_id, id, row.into(), known, edit).await?;
            tx.commit().await?;
            return Ok(UserWrite { record, seats });
        }
        // The locked last attempt always returns: its version cannot have moved.
        Err(StoreError::VersionMismatch)
    }

    async fn delete_user(&self, account_id: &AccountId, id: &UserId, now: Micros) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let owned: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select id from users where account_id = $1 and id = $2{}",
            Db::LOCK_ROW
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
            Self::add_to_user_count(&mut tx, account_id, Self::count_shard(id), -1).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }

    async fn list_users(
        &self,
        account_id: &AccountId,
        query: &ListRequest,
        product: Option<&Product>,
    ) -> StoreResult<Page<ResourceRecord>> {
        let view = ListView {
            product,
            scope: list_scope(product, query.filter.as_ref()),
        };
        self.list_records::<UserRow>(USERS, &USER_COLUMNS, &users_target(), account_id, query, view)
            .await
    }

    async fn import_users(
        &self,
        account_id: &AccountId,
        docs: &[Value],
        statuses: &ProductStatuses,
        now: Micros,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        for chunk in docs.chunks(IMPORT_ROWS) {
            let rows = chunk
                .iter()
                .map(|doc| Ok((UserId::generate(), UserColumns::from_doc(doc)?, doc)))
                .collect::<StoreResult<Vec<_>>>()?;
            let mut qb = Self::insert_users(account_id, &rows, None, statuses, now);
            qb.build().execute(&mut *tx).await.map_err(|e| {
                if unique_violation(&e) {
                    StoreError::Conflict("a userName in the batch is already taken in this account".into())
                } else {
                    e.into()
                }
            })?;
            let emails: Vec<(&UserId, &String)> = rows
                .iter()
                .flat_map(|(id, columns, _)| columns.email_keys.iter().map(move |key| (id, key)))
                .collect();
            for batch in emails.chunks(IMPORT_ROWS) {
                let mut qb =
                    QueryBuilder::<Db>::new("insert into user_emails (user_id, account_id, value_key) ");
                qb.push_values(batch, |mut row, (id, key)| {
                    row.push_bind(*id).push_bind(account_id).push_bind(*key);
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        Self::add_to_user_count(
            &mut tx,
            account_id,
            0,
            i64::try_from(docs.len()).unwrap_or(i64::MAX),
        )
        .await?;
        tx.commit().await?;
        Ok(docs.len() as u64)
    }

    async fn explain_list_users(
        &self,
        account_id: &AccountId,
        query: &ListRequest,
    ) -> StoreResult<Vec<String>> {
        let (mut count_qb, mut page_qb) = list_queries::<Db>(
            USERS,
            &USER_COLUMNS,
            &users_target(),
            account_id,
            query,
            ListView::default(),
            Db::EXPLAIN,
        )?;
        let mut plan = Vec::new();
        for (label, qb) in [("page", &mut page_qb), ("count", &mut count_qb)] {
            plan.push(format!("-- {label}: {}", qb.sql().as_str().replace('\n', " ")));
            for row in qb.build().fetch_all(&self.pool).await? {
                plan.push(row.try_get::<String, _>(Db::EXPLAIN_COLUMN)?);
            }
        }
        Ok(plan)
    }
}
