//! Licensing in the database: instances, pools and license assignments, carrying out the
//! decisions of `licensing::rules`.
//!
//! The invariant "seats in use never exceed seats" holds across any number of server
//! processes because a seat is only ever taken by the guarded update
//! `update license_pools set used = used + 1 where id = $1 and used < seats`, which
//! the database evaluates under the pool row's lock (Postgres) or the database write
//! lock (SQLite); the `check (used <= seats)` constraint backs it up.
//!
//! Seats go first come, first served through a queue: a license that finds no seat
//! (or finds others waiting) is recorded `waiting`, ordered by `(requested_at,
//! requested_seq)`, and whatever frees a seat (a release, a revoke, a delete, seats
//! added, a license moved away) hands it in the same transaction to the head of that
//! pool's queue ([`SqlStore::serve_queue`]), which also writes the promotion's activity
//! record. So no pool keeps a free seat beside a waiting user.
//!
//! Lock order, to keep concurrent writers from deadlocking: the user row (taken by
//! the user write, and by an admin's activate, move or revoke), then pool rows (by id when there are two), then assignment rows.
//! A user who holds its seat, or waits already, locks no pool (issue 14). A newcomer
//! locks its pool before it decides between a seat and the back of the queue: without
//! the lock, a release committing beside it would serve a queue that does not show the
//! newcomer's uncommitted waiting license yet, and leave the freed seat free.

use async_trait::async_trait;
use sqlx::{QueryBuilder, Transaction};

use super::Db;
use crate::dialect::Dialect;
use crate::sql::{SqlStore, fewer_seats_than_used, seats_in_use};
use crate::{Instance, LicenseStore, Micros, PoolUsage, QueuePlace, StoreError, StoreResult};
use domain::clock::rfc3339;
use domain::ids::{AccountId, InstanceId, PoolId, UserId};
use domain::licensing::rules::{self, Activation, Assignment, SeatPlan};
use domain::licensing::{License, LicenseState, NoChange, Product, SeatChange, SeatRequest};

const POOL_USAGE_SELECT: &str =
    "select p.id, p.instance_id, i.name as instance, i.product, p.license_type, p.seats,
        p.used,
        (select count(*) from license_assignments w where w.pool_id = p.id and w.state = 'waiting') as waiting
     from license_pools p join instances i on i.id = p.instance_id";

pub(super) fn state_of(text: &str) -> StoreResult<LicenseState> {
    text.parse()
        .map_err(|_| StoreError::Invalid(format!("unknown license state {text:?}")))
}

/// What a claim needs to know before it writes: the pool's product, instance and license
/// type, and the state of the user's license of that product, if any.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    product: String,
    instance: String,
    license_type: String,
    state: Option<String>,
    /// The pool the user's license of this product is in, and its license type.
    held_pool: Option<PoolId>,
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
    /// `user`: the user as license rules see it ([`rule_view`]).
    pub(super) async fn sync_seats(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        user_id: &UserId,
        active: bool,
        seat: &SeatRequest,
        user: &serde_json::Value,
        now: Micros,
    ) -> StoreResult<(SeatChange, LicenseEdit)> {
        let when_full = match seat.plan(active) {
            SeatPlan::Release { pool_id } => return Self::release_product(tx, user_id, pool_id, now).await,
            SeatPlan::Nothing => {
                return Ok((SeatChange::Kept(NoChange::NoAutoAssign), LicenseEdit::Unchanged));
            }
            SeatPlan::Claim { when_full, .. } => when_full,
        };
        // The configuration's rules pick the pool from the user (its fallback: its own).
        let Some((pool_id, rule)) = seat.pool_for(user) else {
            return Ok((SeatChange::Kept(NoChange::NoPool), LicenseEdit::Unchanged));
        };
        // A plain read first: a user who holds its seat, or waits in the queue already,
        // locks nothing. A newcomer locks the pool, serves its queue (a seat is free
        // beside a waiting user only in data from before the queue), and takes a seat
        // with the guarded update (the invariant's guard) only when nobody waits.
        let Some(claim) = sqlx::query_as::<_, ClaimRow>(
            "select i.product, i.name as instance, p.license_type,
                    a.state, a.pool_id as held_pool, held.license_type as held_type
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
        let state = claim.state.as_deref().map(state_of).transpose()?;
        if let (false, Some(from)) = (seat.rules.is_empty(), &claim.held_pool)
            && from != pool_id
        {
            // A team move: the rules now pick another pool of the product.
            let moved =
                Self::move_by_rule(tx, account_id, user_id, &product, from, pool_id, when_full, now).await?;
            let change = SeatChange::Moved {
                product: product.clone(),
                from: held_type.unwrap_or_default(),
                to: claim.license_type.clone(),
                waiting: moved == LicenseState::Waiting,
                rule: rule.map(|r| r.text.clone()),
            };
            let license = License {
                product,
                instance: claim.instance,
                license_type: claim.license_type,
                state: moved,
                assigned_at: moved.holds_seat().then(|| rfc3339(now)),
                activated_at: None,
            };
            return Ok((change, LicenseEdit::Set(license)));
        }
        let taken = rules::needs_seat(state) && {
            Self::lock_pool(tx, pool_id).await?;
            Self::serve_queue(tx, pool_id, now).await?;
            Self::take_seat(tx, pool_id).await?
        };
        let assignment = rules::assign(&product, state, taken, when_full)?;
        let edit = match assignment {
            Assignment::Holds | Assignment::StillWaiting => LicenseEdit::Unchanged,
            Assignment::Record(state) => {
                Self::insert_license(tx, account_id, user_id, pool_id, &product, state, now).await?;
                LicenseEdit::Set(License {
                    product: product.clone(),
                    instance: claim.instance,
                    license_type: claim.license_type,
                    state,
                    assigned_at: state.holds_seat().then(|| rfc3339(now)),
                    activated_at: None,
                })
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
        let held: Option<(PoolId, String)> = sqlx::query_as(
            "select a.pool_id, p.license_type from license_assignments a
             join license_pools p on p.id = a.pool_id
             where a.user_id = $1 and a.product = $2",
        )
        .bind(user_id)
        .bind(&product)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((held, license_type)) = held else {
            return Ok((
                SeatChange::Kept(NoChange::NothingToRelease(product)),
                LicenseEdit::Unchanged,
            ));
        };
        Self::release_one(tx, &held, user_id, &product, now).await?;
        let change = SeatChange::Released {
            product: product.clone(),
            license_type,
        };
        Ok((change, LicenseEdit::Removed(product)))
    }

    /// Drop every license of a user (deletion), handing freed seats to the pools'
    /// queues. Returns how many licenses were dropped.
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

    /// Remove one assignment; a seat it held goes to the head of the pool's queue (see
    /// [`rules::release`]).
    async fn release_one(
        tx: &mut Transaction<'static, Db>,
        pool_id: &PoolId,
        user_id: &UserId,
        product: &str,
        now: Micros,
    ) -> StoreResult<()> {
        Self::lock_pool(tx, pool_id).await?;
        let removed: Option<String> = sqlx::query_scalar(
            "delete from license_assignments where user_id = $1 and product = $2 returning state",
        )
        .bind(user_id)
        .bind(product)
        .fetch_optional(&mut **tx)
        .await?;
        let removed = removed.as_deref().map(state_of).transpose()?;
        if rules::release(removed) {
            Self::give_back(tx, pool_id, now).await?;
        }
        Ok(())
    }

    /// The user's license of `product` in the account, if it holds one: its pool and state.
    /// The user row is locked first (the lock order's first step), so no user write can
    /// move or release the license between this read and the caller's change: without
    /// it, a revoke racing a team move deleted the moved license but freed the old pool's
    /// seat (found by `store::seat_maths`).
    async fn held_license(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        user_id: &UserId,
        product: &Product,
    ) -> StoreResult<Option<(PoolId, LicenseState)>> {
        let user: Option<UserId> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select id from users where account_id = $1 and id = $2{}",
            Db::LOCK_ROW
        )))
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?;
        if user.is_none() {
            return Ok(None);
        }
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
        now: Micros,
    ) -> StoreResult<PoolUsage> {
        let mut tx = self.begin_write().await?;
        let id: PoolId = sqlx::query_scalar(
            "insert into license_pools
                 (id, account_id, instance_id, license_type, seats, used, created_at, updated_at)
             values ($1, $2, $3, $4, $5, 0, $6, $6)
             on conflict (instance_id, license_type) do update set
                 seats = excluded.seats, updated_at = excluded.updated_at
             returning id",
        )
        .bind(PoolId::generate())
        .bind(account_id)
        .bind(instance_id)
        .bind(license_type)
        .bind(seats)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| seats_in_use(e, license_type))?;
        // The upsert locked the pool row; seats it added go to the queue.
        Self::serve_queue(&mut tx, &id, now).await?;
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

    async fn queue(&self, account_id: &AccountId) -> StoreResult<Vec<QueuePlace>> {
        let rows: Vec<(PoolId, UserId, String, String, Micros)> = sqlx::query_as(
            "select a.pool_id, a.user_id, u.user_name, a.product, a.requested_at
             from license_assignments a join users u on u.id = a.user_id
             where a.account_id = $1 and a.state = 'waiting'
             order by a.pool_id, a.requested_at, a.requested_seq",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        let mut places: Vec<QueuePlace> = Vec::with_capacity(rows.len());
        for (pool_id, user_id, user_name, product, requested_at) in rows {
            let position = match places.last() {
                Some(last) if last.pool_id == pool_id => last.position + 1,
                _ => 1,
            };
            places.push(QueuePlace {
                pool_id,
                user_id,
                user_name,
                product,
                requested_at,
                position,
            });
        }
        Ok(places)
    }

    async fn set_pool(
        &self,
        account_id: &AccountId,
        pool_id: &PoolId,
        seats: Option<i64>,
        now: Micros,
    ) -> StoreResult<PoolUsage> {
        let mut tx = self.begin_write().await?;
        // Locked, so the count compared is the one the update sees.
        let current: Option<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select license_type, used from license_pools where account_id = $1 and id = $2{}",
            Db::LOCK_ROW
        )))
        .bind(account_id)
        .bind(pool_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (license_type, used) = current.ok_or(StoreError::NotFound)?;
        if let Some(seats) = seats.filter(|&seats| seats < used) {
            return Err(StoreError::Seats(fewer_seats_than_used(
                &license_type,
                Some((used, seats)),
            )));
        }
        let changed = sqlx::query(
            "update license_pools set seats = coalesce($3, seats), updated_at = $4
             where account_id = $1 and id = $2",
        )
        .bind(account_id)
        .bind(pool_id)
        .bind(seats)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| seats_in_use(e, &license_type))?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // The update locked the pool row; seats it added go to the queue.
        Self::serve_queue(&mut tx, pool_id, now).await?;
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
        // Both pools locked, in one order (by id), before either is decided on.
        let (first, second) = if from < *to { (&from, to) } else { (to, &from) };
        Self::lock_pool(&mut tx, first).await?;
        Self::lock_pool(&mut tx, second).await?;
        // A license moved in does not overtake the queue it joins.
        Self::serve_queue(&mut tx, to, now).await?;
        let taken = Self::take_seat(&mut tx, to).await?;
        let (new_state, frees_seat) = rules::relocate(product.as_str(), state, taken)?;
        // A license that waits in its new pool joins the back of that queue.
        sqlx::query(
            "update license_assignments
             set pool_id = $3, state = $4,
                 assigned_at = case when state = 'waiting' and $4 <> 'waiting' then $5 else assigned_at end,
                 requested_at = case when $4 = 'waiting' then $5 else requested_at end
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
            Self::give_back(&mut tx, &from, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
