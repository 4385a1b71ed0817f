//! Licensing in the database: first-come-first-served seats, waiting lists, release and
//! promotion, instantiated for both dialects like `sql.rs`.
//!
//! The invariant "seats in use never exceed seats" holds across any number of server
//! processes because a seat is only ever taken by the guarded update
//! `update license_pools set used = used + 1 where id = $1 and used < seats`, which
//! the database evaluates under the pool row's lock (Postgres) or the database write
//! lock (SQLite); the `check (used <= seats)` constraint backs it up.
//!
//! Lock order, to keep concurrent writers from deadlocking: the user row (taken by
//! `modify_user`), then the pool row, then assignment rows.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder, Row, Sqlite, Transaction};

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{Instance, LicenseStore, Micros, PoolUsage, StoreError, StoreResult};
use crate::clock::rfc3339;
use crate::licensing::{License, LicenseState, Product, SeatChange, SeatRequest, WhenFull};

const POOL_USAGE_SELECT: &str =
    "select p.id, p.instance_id, i.name as instance, i.product, p.license_type, p.seats,
        p.used, p.promote_waiting,
        (select count(*) from license_assignments w where w.pool_id = p.id and w.state = 'waiting') as waiting
     from license_pools p join instances i on i.id = p.instance_id";

fn state_of(text: &str) -> StoreResult<LicenseState> {
    LicenseState::parse(text).ok_or_else(|| StoreError::Invalid(format!("unknown license state {text:?}")))
}

macro_rules! seat_store {
    ($db:ty) => {
        impl SqlStore<$db> {
            /// Apply the licensing rules after a user write, inside its transaction: an
            /// inactive user holds no seat; an active one written by an auto-assigning
            /// configuration holds (or waits for) one seat of that pool's product.
            pub(super) async fn sync_seats(
                tx: &mut Transaction<'static, $db>,
                account_id: &str,
                user_id: &str,
                active: bool,
                seat: &SeatRequest,
                now: Micros,
            ) -> StoreResult<SeatChange> {
                if !active {
                    return Ok(SeatChange::Released(Self::release_seats(tx, user_id, now).await?));
                }
                let Some(pool_id) = &seat.pool_id else {
                    return Ok(SeatChange::Unchanged);
                };
                let pool = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select p.id, i.product from license_pools p join instances i on i.id = p.instance_id
                     where p.id = $1{}",
                    <$db as Dialect>::LOCK_ROW
                )))
                .bind(pool_id)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(pool) = pool else {
                    return Ok(SeatChange::Unchanged);
                };
                let product: String = pool.try_get("product")?;
                let existing = sqlx::query("select id, state from license_assignments where user_id = $1 and product = $2")
                    .bind(user_id)
                    .bind(&product)
                    .fetch_optional(&mut **tx)
                    .await?;
                match existing {
                    Some(row) => {
                        let state: String = row.try_get("state")?;
                        if state_of(&state)?.holds_seat() {
                            return Ok(SeatChange::Unchanged);
                        }
                        if !Self::take_seat(tx, pool_id).await? {
                            return Ok(SeatChange::Unchanged);
                        }
                        let id: String = row.try_get("id")?;
                        sqlx::query(
                            "update license_assignments set state = 'assigned', pool_id = $2, assigned_at = $3 where id = $1",
                        )
                        .bind(id)
                        .bind(pool_id)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                        Ok(SeatChange::Assigned(product))
                    }
                    None => {
                        let took = Self::take_seat(tx, pool_id).await?;
                        if !took && seat.when_full == WhenFull::Refuse {
                            return Err(StoreError::Seats(format!(
                                "no {product} seat is free in this configuration's license pool"
                            )));
                        }
                        sqlx::query(
                            "insert into license_assignments (id, account_id, user_id, pool_id, product, state, requested_at, assigned_at)
                             values ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(uuid::Uuid::new_v4().to_string())
                        .bind(account_id)
                        .bind(user_id)
                        .bind(pool_id)
                        .bind(&product)
                        .bind(if took { "assigned" } else { "waiting" })
                        .bind(now)
                        .bind(took.then_some(now))
                        .execute(&mut **tx)
                        .await?;
                        Ok(if took { SeatChange::Assigned(product) } else { SeatChange::Waiting(product) })
                    }
                }
            }

            /// The guarded update that enforces the seat invariant.
            async fn take_seat(tx: &mut Transaction<'static, $db>, pool_id: &str) -> StoreResult<bool> {
                let done = sqlx::query("update license_pools set used = used + 1 where id = $1 and used < seats")
                    .bind(pool_id)
                    .execute(&mut **tx)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            /// Drop every license of a user (deactivation, deletion), freeing seats and
            /// promoting waiting users where the pool says so. Returns how many licenses
            /// were dropped.
            pub(super) async fn release_seats(
                tx: &mut Transaction<'static, $db>,
                user_id: &str,
                now: Micros,
            ) -> StoreResult<usize> {
                let rows = sqlx::query("select pool_id, product from license_assignments where user_id = $1 order by pool_id")
                    .bind(user_id)
                    .fetch_all(&mut **tx)
                    .await?;
                for row in &rows {
                    let pool_id: String = row.try_get("pool_id")?;
                    let product: String = row.try_get("product")?;
                    Self::release_one(tx, &pool_id, user_id, &product, now).await?;
                }
                Ok(rows.len())
            }

            /// Remove one assignment; give its seat back and promote if the pool promotes.
            async fn release_one(
                tx: &mut Transaction<'static, $db>,
                pool_id: &str,
                user_id: &str,
                product: &str,
                now: Micros,
            ) -> StoreResult<()> {
                let pool = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "select promote_waiting from license_pools where id = $1{}",
                    <$db as Dialect>::LOCK_ROW
                )))
                .bind(pool_id)
                .fetch_one(&mut **tx)
                .await?;
                let promote: bool = pool.try_get("promote_waiting")?;
                let removed = sqlx::query("delete from license_assignments where user_id = $1 and product = $2 returning state")
                    .bind(user_id)
                    .bind(product)
                    .fetch_optional(&mut **tx)
                    .await?;
                let held = match removed {
                    Some(row) => state_of(&row.try_get::<String, _>("state")?)?.holds_seat(),
                    None => false,
                };
                if held {
                    sqlx::query("update license_pools set used = used - 1 where id = $1")
                        .bind(pool_id)
                        .execute(&mut **tx)
                        .await?;
                    if promote {
                        Self::promote_waiting(tx, pool_id, now).await?;
                    }
                }
                Ok(())
            }

            /// Give free seats to waiting users, first come, first served.
            async fn promote_waiting(tx: &mut Transaction<'static, $db>, pool_id: &str, now: Micros) -> StoreResult<()> {
                loop {
                    let next: Option<String> = sqlx::query_scalar(
                        "select id from license_assignments where pool_id = $1 and state = 'waiting'
                         order by requested_at, id limit 1",
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

            fn pool_usage(row: &<$db as sqlx::Database>::Row) -> StoreResult<PoolUsage> {
                Ok(PoolUsage {
                    id: row.try_get("id")?,
                    instance_id: row.try_get("instance_id")?,
                    instance: row.try_get("instance")?,
                    product: row.try_get("product")?,
                    license_type: row.try_get("license_type")?,
                    seats: row.try_get("seats")?,
                    used: row.try_get("used")?,
                    waiting: row.try_get("waiting")?,
                    promote_waiting: row.try_get("promote_waiting")?,
                })
            }

            async fn pool(&self, account_id: &str, pool_id: &str) -> StoreResult<PoolUsage> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{POOL_USAGE_SELECT} where p.account_id = $1 and p.id = $2"
                )))
                .bind(account_id)
                .bind(pool_id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(Self::pool_usage).transpose()?.ok_or(StoreError::NotFound)
            }
        }

        #[async_trait]
        impl LicenseStore for SqlStore<$db> {
            async fn put_instance(&self, account_id: &str, product: &Product, name: &str, now: Micros) -> StoreResult<Instance> {
                let row = sqlx::query(
                    "insert into instances (id, account_id, product, name, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $5)
                     on conflict (account_id, name) do update set product = excluded.product, updated_at = excluded.updated_at
                     returning id, product, name",
                )
                .bind(uuid::Uuid::new_v4().to_string())
                .bind(account_id)
                .bind(product.as_str())
                .bind(name)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(Instance {
                    id: row.try_get("id")?,
                    product: Product::try_from(row.try_get::<String, _>("product")?).map_err(StoreError::Invalid)?,
                    name: row.try_get("name")?,
                })
            }

            async fn put_pool(
                &self,
                account_id: &str,
                instance_id: &str,
                license_type: &str,
                seats: i64,
                promote_waiting: bool,
                now: Micros,
            ) -> StoreResult<PoolUsage> {
                let mut tx = self.begin_write().await?;
                let id: String = sqlx::query_scalar(
                    "insert into license_pools (id, account_id, instance_id, license_type, seats, used, promote_waiting, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, 0, $6, $7, $7)
                     on conflict (instance_id, license_type) do update set
                         seats = excluded.seats, promote_waiting = excluded.promote_waiting, updated_at = excluded.updated_at
                     returning id",
                )
                .bind(uuid::Uuid::new_v4().to_string())
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

            async fn pools(&self, account_id: &str) -> StoreResult<Vec<PoolUsage>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{POOL_USAGE_SELECT} where p.account_id = $1 order by i.name, p.license_type"
                )))
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::pool_usage).collect()
            }

            async fn set_pool(
                &self,
                account_id: &str,
                pool_id: &str,
                seats: Option<i64>,
                promote_waiting: Option<bool>,
                now: Micros,
            ) -> StoreResult<PoolUsage> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
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
                if row.try_get::<bool, _>("promote_waiting")? {
                    Self::promote_waiting(&mut tx, pool_id, now).await?;
                }
                tx.commit().await?;
                self.pool(account_id, pool_id).await
            }

            async fn licenses(&self, account_id: &str, user_ids: &[String]) -> StoreResult<Vec<(String, License)>> {
                if user_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(
                    "select a.user_id, a.product, i.name as instance, p.license_type, a.state, a.assigned_at, a.activated_at
                     from license_assignments a
                     join license_pools p on p.id = a.pool_id
                     join instances i on i.id = p.instance_id
                     where a.account_id = ",
                );
                <$db as Dialect>::bind_text(&mut qb, account_id.to_owned());
                qb.push(" and a.user_id in (");
                let mut ids = qb.separated(", ");
                for id in user_ids {
                    ids.push_bind(id.clone());
                }
                qb.push(") order by a.user_id, a.product");
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        let assigned_at: Option<i64> = row.try_get("assigned_at")?;
                        let activated_at: Option<i64> = row.try_get("activated_at")?;
                        Ok((
                            row.try_get("user_id")?,
                            License {
                                product: row.try_get("product")?,
                                instance: row.try_get("instance")?,
                                license_type: row.try_get("license_type")?,
                                state: state_of(&row.try_get::<String, _>("state")?)?,
                                assigned_at: assigned_at.map(rfc3339),
                                activated_at: activated_at.map(rfc3339),
                            },
                        ))
                    })
                    .collect()
            }

            async fn activate_license(&self, account_id: &str, user_id: &str, product: &Product, now: Micros) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let state: Option<String> = sqlx::query_scalar(
                    "select state from license_assignments where account_id = $1 and user_id = $2 and product = $3",
                )
                .bind(account_id)
                .bind(user_id)
                .bind(product.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                match state.as_deref().map(state_of).transpose()? {
                    None => return Err(StoreError::NotFound),
                    Some(LicenseState::Waiting) => {
                        return Err(StoreError::Seats(format!(
                            "the {product} license is waiting for a seat and cannot be activated yet"
                        )));
                    }
                    Some(LicenseState::Activated) => {}
                    Some(LicenseState::Assigned) => {
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

            async fn revoke_license(&self, account_id: &str, user_id: &str, product: &Product, now: Micros) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let pool_id: Option<String> = sqlx::query_scalar(
                    "select pool_id from license_assignments where account_id = $1 and user_id = $2 and product = $3",
                )
                .bind(account_id)
                .bind(user_id)
                .bind(product.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let pool_id = pool_id.ok_or(StoreError::NotFound)?;
                Self::release_one(&mut tx, &pool_id, user_id, product.as_str(), now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn move_license(
                &self,
                account_id: &str,
                user_id: &str,
                product: &Product,
                to_pool_id: &str,
                now: Micros,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let row = sqlx::query(
                    "select id, pool_id, state from license_assignments where account_id = $1 and user_id = $2 and product = $3",
                )
                .bind(account_id)
                .bind(user_id)
                .bind(product.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let id: String = row.try_get("id")?;
                let from: String = row.try_get("pool_id")?;
                if from == to_pool_id {
                    return Ok(());
                }
                let held = state_of(&row.try_get::<String, _>("state")?)?.holds_seat();
                let took = Self::take_seat(&mut tx, to_pool_id).await?;
                if held && !took {
                    return Err(StoreError::Seats("the target pool has no free seat".into()));
                }
                if took && !held {
                    // A waiting license finds a seat in its new pool.
                    sqlx::query("update license_assignments set pool_id = $2, state = 'assigned', assigned_at = $3 where id = $1")
                        .bind(&id)
                        .bind(to_pool_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                } else {
                    sqlx::query("update license_assignments set pool_id = $2 where id = $1")
                        .bind(&id)
                        .bind(to_pool_id)
                        .execute(&mut *tx)
                        .await?;
                }
                if held {
                    let promote: bool = sqlx::query_scalar("update license_pools set used = used - 1 where id = $1 returning promote_waiting")
                        .bind(&from)
                        .fetch_one(&mut *tx)
                        .await?;
                    if promote {
                        Self::promote_waiting(&mut tx, &from, now).await?;
                    }
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

/// A pool update that would leave more seats in use than it has trips the check
/// constraint: the admin must revoke licenses first.
fn seats_in_use(e: sqlx::Error, pool: &str) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_check_violation() => StoreError::Seats(format!(
            "more seats of {pool} are in use than the new count: revoke licenses first"
        )),
        _ => e.into(),
    }
}

seat_store!(Sqlite);
seat_store!(Postgres);
