//! Licensing in the database: instances, pools and license assignments, carrying out the
//! decisions of `licensing::rules`.
//!
//! The invariant "seats in use never exceed seats" holds across any number of server
//! processes because a seat is only ever taken by the guarded update
//! `update license_pools set used = used + 1 where id = $1 and used < seats`, which
//! the database evaluates under the pool row's lock (Postgres) or the database write
//! lock (SQLite); the `check (used <= seats)` constraint backs it up.
//!
//! Lock order, to keep concurrent writers from deadlocking: the user row (taken by
//! the user write), then the pool row, then assignment rows. A claim reads the pool
//! without locking it and locks it only in the guarded update, when it needs a seat and
//! one looked free: a full pool, and a user who holds its seat, lock nothing (issue 14).

use async_trait::async_trait;
use sqlx::{QueryBuilder, Transaction};

use super::Db;
use crate::dialect::Dialect;
use crate::sql::{SqlStore, seats_in_use};
use crate::{Instance, LicenseStore, Micros, PoolUsage, StoreError, StoreResult};
use domain::clock::rfc3339;
use domain::ids::{AccountId, InstanceId, PoolId, UserId};
use domain::licensing::rules::{self, Activation, Assignment, SeatPlan};
use domain::licensing::{License, LicenseState, NoChange, Product, SeatChange, SeatRequest};

const POOL_USAGE_SELECT: &str =
    "select p.id, p.instance_id, i.name as instance, i.product, p.license_type, p.seats,
        p.used, p.promote_waiting,
        (select count(*) from license_assignments w where w.pool_id = p.id and w.state = 'waiting') as waiting
     from license_pools p join instances i on i.id = p.instance_id";

fn state_of(text: &str) -> StoreResult<LicenseState> {
    text.parse()
        .map_err(|_| StoreError::Invalid(format!("unknown license state {text:?}")))
}

/// What a claim needs to know before it writes: the pool's product, instance and license
/// type, whether a seat looked free, and the user's license of that product, if any.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    product: String,
    instance: String,
    license_type: String,
    free: bool,
    assignment_id: Option<String>,
    state: Option<String>,
    activated_at: Option<Micros>,
    /// The license type of the pool the user's license of this product is in.
    held_type: Option<String>,
}

#[derive(sqlx::FromRow)]
struct InstanceRow {
    id: InstanceId,
    product: String,
    name: String,
}

#[derive(sqlx::FromRow)]
struct LicenseRow {
    user_id: UserId,
    product: String,
    instance: String,
    license_type: String,
    state: String,
    assigned_at: Option<Micros>,
    activated_at: Option<Micros>,
}

/// How a seat sync left the user's licenses: a write answers with them without reading
/// them again.
#[derive(Debug)]
pub(super) enum LicenseEdit {
    Unchanged,
    /// The user's license of this product is now this one.
    Set(License),
    /// The user no longer holds a license of this product.
    Removed(String),
}

impl LicenseEdit {
    /// Apply to licenses ordered by product (as the user read orders them).
    pub(super) fn apply(self, licenses: &mut Vec<License>) {
        match self {
            LicenseEdit::Unchanged => {}
            LicenseEdit::Removed(product) => licenses.retain(|l| l.product != product),
            LicenseEdit::Set(license) => {
                match licenses.binary_search_by(|l| l.product.as_str().cmp(&license.product)) {
                    Ok(at) => licenses[at] = license,
                    Err(at) => licenses.insert(at, license),
                }
            }
        }
    }
}

impl SqlStore<Db> {
    /// Apply the licensing rules after a user write, inside its transaction (see
    /// [`SeatRequest::plan`] and [`rules::assign`]).
    pub(super) async fn sync_seats(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        user_id: &UserId,
        active: bool,
        seat: &SeatRequest,
        now: Micros,
    ) -> StoreResult<(SeatChange, LicenseEdit)> {
        let (pool_id, when_full) = match seat.plan(active) {
            SeatPlan::Release { pool_id } => return Self::release_product(tx, user_id, pool_id, now).await,
            SeatPlan::Nothing => {
                return Ok((SeatChange::Kept(NoChange::NoAutoAssign), LicenseEdit::Unchanged));
            }
            SeatPlan::Claim { pool_id, when_full } => (pool_id, when_full),
        };
        // A plain read first: a user who holds its seat, or a full pool, locks nothing.
        // Only a claim with a seat free takes the pool row's lock, in the guarded update
        // (the invariant's guard; a seat freed after this read is seen by the next write).
        let Some(claim) = sqlx::query_as::<_, ClaimRow>(
            "select i.product, i.name as instance, p.license_type, p.used < p.seats as free,
                    a.id as assignment_id, a.state, a.activated_at, held.license_type as held_type
             from license_pools p
             join instances i on i.id = p.instance_id
             left join license_assignments a on a.user_id = $2 and a.product = i.product
             left join license_pools held on held.id = a.pool_id
             where p.id = $1",
        )
        .bind(pool_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok((SeatChange::Kept(NoChange::NoPool), LicenseEdit::Unchanged));
        };
        let product = claim.product;
        let held_type = claim.held_type;
        let current = claim.assignment_id;
        let state = claim.state.as_deref().map(state_of).transpose()?;
        let taken = rules::needs_seat(state) && claim.free && Self::take_seat(tx, pool_id).await?;
        let assignment = rules::assign(&product, state, taken, when_full)?;
        let license = |state: LicenseState, activated_at: Option<Micros>| {
            LicenseEdit::Set(License {
                product: product.clone(),
                instance: claim.instance.clone(),
                license_type: claim.license_type.clone(),
                state,
                assigned_at: state.holds_seat().then(|| rfc3339(now)),
                activated_at: activated_at.map(rfc3339),
            })
        };
        let edit = match (assignment, current) {
            (Assignment::Holds | Assignment::StillWaiting, _) => LicenseEdit::Unchanged,
            (Assignment::Promote, Some(assignment_id)) => {
                sqlx::query(
                    "update license_assignments set state = 'assigned', pool_id = $2, assigned_at = $3 where id = $1",
                )
                .bind(assignment_id)
                .bind(pool_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                license(LicenseState::Assigned, claim.activated_at)
            }
            (Assignment::Promote, None) => {
                return Err(StoreError::Invalid("promotion without a license".into()));
            }
            (Assignment::Record(state), _) => {
                sqlx::query(
                    "insert into license_assignments
                         (id, account_id, user_id, pool_id, product, state, requested_at, assigned_at)
                     values ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(account_id)
                .bind(user_id)
                .bind(pool_id)
                .bind(&product)
                .bind(state.as_str())
                .bind(now)
                .bind(state.holds_seat().then_some(now))
                .execute(&mut **tx)
                .await?;
                license(state, None)
            }
        };
        Ok((assignment.seat_change(&product, held_type.as_deref()), edit))
    }

    /// Drop the user's license of the product of `pool_id` (from whichever pool of that
    /// product it holds: one license per product), for a deactivation through that
    /// pool's configuration.
    async fn release_product(
        tx: &mut Transaction<'static, Db>,
        user_id: &UserId,
        pool_id: &PoolId,
        now: Micros,
    ) -> StoreResult<(SeatChange, LicenseEdit)> {
        // Only the held license's pool is locked (by release_one): locking the
        // configuration's pool too could take two pool locks out of order.
        let product: Option<String> = sqlx::query_scalar(
            "select i.product from license_pools p join instances i on i.id = p.instance_id where p.id = $1",
        )
        .bind(pool_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(product) = product else {
            return Ok((SeatChange::Kept(NoChange::NoPool), LicenseEdit::Unchanged));
        };
        let held: Option<PoolId> =
            sqlx::query_scalar("select pool_id from license_assignments where user_id = $1 and product = $2")
                .bind(user_id)
                .bind(&product)
                .fetch_optional(&mut **tx)
                .await?;
        let Some(held) = held else {
            return Ok((
                SeatChange::Kept(NoChange::NothingToRelease(product)),
                LicenseEdit::Unchanged,
            ));
        };
        Self::release_one(tx, &held, user_id, &product, now).await?;
        Ok((SeatChange::Released(1), LicenseEdit::Removed(product)))
    }

    /// The guarded update that enforces the seat invariant.
    async fn take_seat(tx: &mut Transaction<'static, Db>, pool_id: &PoolId) -> StoreResult<bool> {
        let done = sqlx::query("update license_pools set used = used + 1 where id = $1 and used < seats")
            .bind(pool_id)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Drop every license of a user (deletion), freeing seats and
    /// promoting waiting users where the pool says so. Returns how many licenses
    /// were dropped.
    pub(super) async fn release_seats(
        tx: &mut Transaction<'static, Db>,
        user_id: &UserId,
        now: Micros,
    ) -> StoreResult<usize> {
        let rows: Vec<(PoolId, String)> = sqlx::query_as(
            "select pool_id, product from license_assignments where user_id = $1 order by pool_id",
        )
        .bind(user_id)
        .fetch_all(&mut **tx)
        .await?;
        for (pool_id, product) in &rows {
            Self::release_one(tx, pool_id, user_id, product, now).await?;
        }
        Ok(rows.len())
    }

    /// Remove one assignment; give its seat back and promote if the pool promotes
    /// (see [`rules::release`]).
    async fn release_one(
        tx: &mut Transaction<'static, Db>,
        pool_id: &PoolId,
        user_id: &UserId,
        product: &str,
        now: Micros,
    ) -> StoreResult<()> {
        let promote_waiting: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select promote_waiting from license_pools where id = $1{}",
            Db::LOCK_ROW
        )))
        .bind(pool_id)
        .fetch_one(&mut **tx)
        .await?;
        let removed: Option<String> = sqlx::query_scalar(
            "delete from license_assignments where user_id = $1 and product = $2 returning state",
        )
        .bind(user_id)
        .bind(product)
        .fetch_optional(&mut **tx)
        .await?;
        let removed = removed.as_deref().map(state_of).transpose()?;
        let release = rules::release(removed, promote_waiting);
        if release.frees_seat {
            sqlx::query("update license_pools set used = used - 1 where id = $1")
                .bind(pool_id)
                .execute(&mut **tx)
                .await?;
        }
        if release.promote {
            Self::promote_waiting(tx, pool_id, now).await?;
        }
        Ok(())
    }

    /// Give free seats to waiting users, first come, first served.
    async fn promote_waiting(
        tx: &mut Transaction<'static, Db>,
        pool_id: &PoolId,
        now: Micros,
    ) -> StoreResult<()> {
        loop {
            let next: Option<String> = sqlx::query_scalar(
                "select id from license_assignments where pool_id = $1 and state = 'waiting'
                 order by requested_at, requested_seq limit 1",
            )
            .bind(pool_id)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(id) = next else { return Ok(()) };
            if !Self::take_seat(tx, pool_id).await? {
                return Ok(());
            }
            sqlx::query("update license_assignments set state = 'assigned', assigned_at = $2 where id = $1")
                .bind(id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
    }

    /// The user's license of `product` in the account, if it holds one: its pool and state.
    async fn held_license(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
    ) -> StoreResult<Option<(PoolId, LicenseState)>> {
        let row: Option<(PoolId, String)> = sqlx::query_as(
            "select pool_id, state from license_assignments where account_id = $1 and user_id = $2 and product = $3",
        )
        .bind(account_id)
        .bind(user_id)
        .bind(product.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        row.map(|(pool_id, state)| Ok((pool_id, state_of(&state)?)))
            .transpose()
    }

    async fn pool(&self, account_id: &AccountId, pool_id: &PoolId) -> StoreResult<PoolUsage> {
        let row: Option<PoolUsage> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{POOL_USAGE_SELECT} where p.account_id = $1 and p.id = $2"
        )))
        .bind(account_id)
        .bind(pool_id)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }
}

#[async_trait]
impl LicenseStore for SqlStore<Db> {
    async fn put_instance(
        &self,
        account_id: &AccountId,
        product: &Product,
        name: &str,
        now: Micros,
    ) -> StoreResult<Instance> {
        let row: InstanceRow = sqlx::query_as(
            "insert into instances (id, account_id, product, name, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $5)
             on conflict (account_id, name) do update set product = excluded.product, updated_at = excluded.updated_at
             returning id, product, name",
        )
        .bind(InstanceId::generate())
        .bind(account_id)
        .bind(product.as_str())
        .bind(name)
        .bind(now)
        .fetch_one(self.write_pool())
        .await?;
        // The product of an auto-assigning configuration's pool is part of its principal.
        self.principals_changed().await;
        Ok(Instance {
            id: row.id,
            product: Product::try_from(row.product).map_err(StoreError::Invalid)?,
            name: row.name,
        })
    }

    async fn put_pool(
        &self,
        account_id: &AccountId,
        instance_id: &InstanceId,
        license_type: &str,
        seats: i64,
        promote_waiting: bool,
        now: Micros,
    ) -> StoreResult<PoolUsage> {
        let mut tx = self.begin_write().await?;
        let id: PoolId = sqlx::query_scalar(
            "insert into license_pools
                 (id, account_id, instance_id, license_type, seats, used, promote_waiting, created_at, updated_at)
             values ($1, $2, $3, $4, $5, 0, $6, $7, $7)
             on conflict (instance_id, license_type) do update set
                 seats = excluded.seats, promote_waiting = excluded.promote_waiting, updated_at = excluded.updated_at
             returning id",
        )
        .bind(PoolId::generate())
        .bind(account_id)
        .bind(instance_id)
        .bind(license_type)
        .bind(seats)
        .bind(promote_waiting)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| seats_in_use(e, license_type))?;
        if promote_waiting {
            Self::promote_waiting(&mut tx, &id, now).await?;
        }
        tx.commit().await?;
        self.pool(account_id, &id).await
    }

    async fn pools(&self, account_id: &AccountId) -> StoreResult<Vec<PoolUsage>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{POOL_USAGE_SELECT} where p.account_id = $1 order by i.name, p.license_type"
        )))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn set_pool(
        &self,
        account_id: &AccountId,
        pool_id: &PoolId,
        seats: Option<i64>,
        promote_waiting: Option<bool>,
        now: Micros,
    ) -> StoreResult<PoolUsage> {
        let mut tx = self.begin_write().await?;
        let promotes: bool = sqlx::query_scalar(
            "update license_pools set seats = coalesce($3, seats), promote_waiting = coalesce($4, promote_waiting),
                    updated_at = $5
             where account_id = $1 and id = $2
             returning promote_waiting",
        )
        .bind(account_id)
        .bind(pool_id)
        .bind(seats)
        .bind(promote_waiting)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| seats_in_use(e, pool_id))?
        .ok_or(StoreError::NotFound)?;
        if promotes {
            Self::promote_waiting(&mut tx, pool_id, now).await?;
        }
        tx.commit().await?;
        self.pool(account_id, pool_id).await
    }

    async fn licenses(
        &self,
        account_id: &AccountId,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<(UserId, License)>> {
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(
            "select a.user_id, a.product, i.name as instance, p.license_type, a.state, a.assigned_at, a.activated_at
             from license_assignments a
             join license_pools p on p.id = a.pool_id
             join instances i on i.id = p.instance_id
             where a.account_id = ",
        );
        Db::bind_text(&mut qb, account_id.to_string());
        qb.push(" and a.user_id in (");
        let mut ids = qb.separated(", ");
        for id in user_ids {
            ids.push_bind(id.clone());
        }
        qb.push(") order by a.user_id, a.product");
        let rows: Vec<LicenseRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|row| {
                Ok((
                    row.user_id,
                    License {
                        product: row.product,
                        instance: row.instance,
                        license_type: row.license_type,
                        state: state_of(&row.state)?,
                        assigned_at: row.assigned_at.map(rfc3339),
                        activated_at: row.activated_at.map(rfc3339),
                    },
                ))
            })
            .collect()
    }

    async fn activate_license(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
        now: Micros,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let held = Self::held_license(&mut tx, account_id, user_id, product).await?;
        match rules::activate(product.as_str(), held.map(|(_, state)| state))? {
            Activation::AlreadyActive => {}
            Activation::Activate => {
                sqlx::query(
                    "update license_assignments set state = 'activated', activated_at = $4
                     where account_id = $1 and user_id = $2 and product = $3",
                )
                .bind(account_id)
                .bind(user_id)
                .bind(product.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_license(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
        now: Micros,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let held = Self::held_license(&mut tx, account_id, user_id, product).await?;
        let (pool_id, _) = held.ok_or(StoreError::NotFound)?;
        Self::release_one(&mut tx, &pool_id, user_id, product.as_str(), now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn move_license(
        &self,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
        to: &PoolId,
        now: Micros,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let held = Self::held_license(&mut tx, account_id, user_id, product).await?;
        let (from, state) = held.ok_or(StoreError::NotFound)?;
        if &from == to {
            return Ok(());
        }
        let taken = Self::take_seat(&mut tx, to).await?;
        let (new_state, frees_seat) = rules::relocate(product.as_str(), state, taken)?;
        sqlx::query(
            "update license_assignments
             set pool_id = $3, state = $4,
                 assigned_at = case when state = 'waiting' and $4 <> 'waiting' then $5 else assigned_at end
             where user_id = $1 and product = $2",
        )
        .bind(user_id)
        .bind(product.as_str())
        .bind(to)
        .bind(new_state.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if frees_seat {
            let promote_waiting: bool = sqlx::query_scalar(
                "update license_pools set used = used - 1 where id = $1 returning promote_waiting",
            )
            .bind(&from)
            .fetch_one(&mut *tx)
            .await?;
            if promote_waiting {
                Self::promote_waiting(&mut tx, &from, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
