//! The seat queue's primitives, inside a write's transaction: the pool lock, the
//! guarded seat update (the invariant's guard), handing freed seats to the longest
//! waiting, and a license moved by a rule (the lock order and the invariant are in
//! `licenses.rs`'s header).

use sqlx::Transaction;

use super::Db;
use super::licenses::state_of;
use crate::dialect::Dialect;
use crate::sql::SqlStore;
use crate::{Micros, StoreError, StoreResult};
use domain::activity::ActivityRecord;
use domain::ids::{AccountId, PoolId, UserId};
use domain::licensing::rules::{self, Assignment};
use domain::licensing::{LicenseState, Promotion};

/// The head of a pool's queue: the longest-waiting license.
#[derive(sqlx::FromRow)]
struct QueueHead {
    id: String,
    account_id: String,
    user_id: UserId,
    user_name: String,
    product: String,
    license_type: String,
    requested_at: Micros,
}

impl SqlStore<Db> {
    /// Move the user's license of `product` from pool `from` to pool `to`, as its
    /// configuration's rules now say: a new license there, first come, first served (a
    /// seat when one is free and nobody waits, else the back of the queue, or refused
    /// when the account says so), and the old seat to the old pool's queue, in this
    /// transaction. The new state.
    #[expect(clippy::too_many_arguments, reason = "one transaction's inputs, all distinct")]
    pub(super) async fn move_by_rule(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        user_id: &UserId,
        product: &str,
        from: &PoolId,
        to: &PoolId,
        when_full: domain::licensing::WhenFull,
        now: Micros,
    ) -> StoreResult<LicenseState> {
        // Both pools locked, in one order (by id), before either is decided on.
        let (first, second) = if from < to { (from, to) } else { (to, from) };
        Self::lock_pool(tx, first).await?;
        Self::lock_pool(tx, second).await?;
        let removed: Option<String> = sqlx::query_scalar(
            "delete from license_assignments where user_id = $1 and product = $2 returning state",
        )
        .bind(user_id)
        .bind(product)
        .fetch_optional(&mut **tx)
        .await?;
        let removed = removed.as_deref().map(state_of).transpose()?;
        // The moved license does not overtake the queue it joins.
        Self::serve_queue(tx, to, now).await?;
        let taken = Self::take_seat(tx, to).await?;
        let state = match rules::assign(product, None, taken, when_full)? {
            Assignment::Record(state) => state,
            Assignment::Holds | Assignment::StillWaiting => LicenseState::Waiting,
        };
        Self::insert_license(tx, account_id, user_id, to, product, state, now).await?;
        if rules::release(removed) {
            Self::give_back(tx, from, now).await?;
        }
        Ok(state)
    }

    /// A new license of `product` from `pool_id`, asked for now.
    pub(super) async fn insert_license(
        tx: &mut Transaction<'static, Db>,
        account_id: &AccountId,
        user_id: &UserId,
        pool_id: &PoolId,
        product: &str,
        state: LicenseState,
        now: Micros,
    ) -> StoreResult<()> {
        sqlx::query(
            "insert into license_assignments
                 (id, account_id, user_id, pool_id, product, state, requested_at, assigned_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(account_id)
        .bind(user_id)
        .bind(pool_id)
        .bind(product)
        .bind(state.as_str())
        .bind(now)
        .bind(state.holds_seat().then_some(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The guarded update that enforces the seat invariant.
    pub(super) async fn take_seat(tx: &mut Transaction<'static, Db>, pool_id: &PoolId) -> StoreResult<bool> {
        let done = sqlx::query("update license_pools set used = used + 1 where id = $1 and used < seats")
            .bind(pool_id)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A seat of `pool_id` is free again: give it to the head of the queue.
    pub(super) async fn give_back(
        tx: &mut Transaction<'static, Db>,
        pool_id: &PoolId,
        now: Micros,
    ) -> StoreResult<()> {
        sqlx::query("update license_pools set used = used - 1 where id = $1")
            .bind(pool_id)
            .execute(&mut **tx)
            .await?;
        Self::serve_queue(tx, pool_id, now).await
    }

    /// Take the pool row's lock (Postgres; SQLite's write transaction holds the database
    /// lock already), so that deciding between a seat and the queue is not raced by a
    /// release. `NotFound` when the pool does not exist.
    pub(super) async fn lock_pool(tx: &mut Transaction<'static, Db>, pool_id: &PoolId) -> StoreResult<()> {
        let locked: Option<PoolId> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select id from license_pools where id = $1{}",
            Db::LOCK_ROW
        )))
        .bind(pool_id)
        .fetch_optional(&mut **tx)
        .await?;
        locked.map(drop).ok_or(StoreError::NotFound)
    }

    /// Hand the pool's free seats to its longest-waiting users, in arrival order, each
    /// with an activity record saying who got which seat after how long. Called under
    /// the pool row's lock, whenever a seat may have freed.
    pub(super) async fn serve_queue(
        tx: &mut Transaction<'static, Db>,
        pool_id: &PoolId,
        now: Micros,
    ) -> StoreResult<()> {
        loop {
            let head: Option<QueueHead> = sqlx::query_as(
                "select a.id, a.account_id, a.user_id, u.user_name, a.product, p.license_type, a.requested_at
                 from license_assignments a
                 join users u on u.id = a.user_id
                 join license_pools p on p.id = a.pool_id
                 where a.pool_id = $1 and a.state = 'waiting'
                 order by a.requested_at, a.requested_seq limit 1",
            )
            .bind(pool_id)
            .fetch_optional(&mut **tx)
            .await?;
            let Some(head) = head else { return Ok(()) };
            if !Self::take_seat(tx, pool_id).await? {
                return Ok(());
            }
            sqlx::query("update license_assignments set state = 'assigned', assigned_at = $2 where id = $1")
                .bind(&head.id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
            let promotion = Promotion {
                user_id: head.user_id,
                user_name: head.user_name,
                pool_id: pool_id.clone(),
                product: head.product,
                license_type: head.license_type,
                requested_at: head.requested_at,
                promoted_at: now,
            };
            Self::insert_activity(tx, &[ActivityRecord::promotion(&head.account_id, &promotion)]).await?;
        }
    }
}
