//! What the Account Center needs beyond the SCIM path: strict creates (409 on a taken
//! name, where the seed's upserts would overwrite), configurations with their token
//! state, seat usage by license state, member origins, deletions. Instantiated for both
//! dialects like the rest of the store.

use async_trait::async_trait;
use sqlx::types::Json;
use sqlx::{Postgres, Row, Sqlite};

use super::sql::SqlStore;
use super::{CenterStore, ConfigurationState, Instance, Member, Micros, PoolStates, StoreError, StoreResult};
use super::{MemberOrigin, NewConfiguration};
use crate::accounts::{Account, Fidelity, PatchResponse};
use crate::licensing::Product;

/// Map a unique violation to `Conflict` with `detail`; other errors pass through.
fn conflict(detail: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(detail()),
        _ => err.into(),
    }
}

const CONFIGURATION_STATE_SELECT: &str =
    "select c.id, c.name, c.client_profile, c.patch_response, c.created_at, c.token_created_at,
        c.token_expires_at, c.token_source, c.auto_assign_pool_id, i.name as instance, i.product, p.license_type,
        (select max(a.at) from activity a where a.configuration_id = c.id) as token_last_used_at
     from scim_configurations c
     left join license_pools p on p.id = c.auto_assign_pool_id
     left join instances i on i.id = p.instance_id
     where c.account_id = $1";

macro_rules! center_store {
    ($db:ty) => {
        impl SqlStore<$db> {
            fn configuration_state(row: &<$db as sqlx::Database>::Row) -> StoreResult<ConfigurationState> {
                let profile: String = row.try_get("client_profile")?;
                let patch_response: String = row.try_get("patch_response")?;
                let product: Option<String> = row.try_get("product")?;
                let source: String = row.try_get("token_source")?;
                Ok(ConfigurationState {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    client_profile: profile.parse().map_err(StoreError::Invalid)?,
                    patch_response: PatchResponse::parse(&patch_response)
                        .ok_or_else(|| StoreError::Invalid(format!("unknown patch_response {patch_response:?}")))?,
                    auto_assign_pool_id: row.try_get("auto_assign_pool_id")?,
                    instance: row.try_get("instance")?,
                    product: product.map(Product::try_from).transpose().map_err(StoreError::Invalid)?,
                    license_type: row.try_get("license_type")?,
                    created_at: row.try_get("created_at")?,
                    token_created_at: row.try_get("token_created_at")?,
                    token_last_used_at: row.try_get("token_last_used_at")?,
                    token_expires_at: row.try_get("token_expires_at")?,
                    token_set_at_runtime: source == "runtime",
                })
            }
        }

        #[async_trait]
        impl CenterStore for SqlStore<$db> {
            async fn create_account(&self, name: &str, fidelity: &Fidelity, now: Micros) -> StoreResult<Account> {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query("insert into accounts (id, name, fidelity, created_at, updated_at) values ($1, $2, $3, $4, $4)")
                    .bind(&id)
                    .bind(name)
                    .bind(Json(fidelity))
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict(|| format!("name: an account named {name:?} already exists")))?;
                Ok(Account {
                    id,
                    name: name.to_owned(),
                    fidelity: fidelity.clone(),
                })
            }

            async fn update_account(
                &self,
                account_id: &str,
                name: &str,
                fidelity: &Fidelity,
                now: Micros,
            ) -> StoreResult<()> {
                let done = sqlx::query("update accounts set name = $2, fidelity = $3, updated_at = $4 where id = $1")
                    .bind(account_id)
                    .bind(name)
                    .bind(Json(fidelity))
                    .bind(now)
                    .execute(&self.pool)
                    .await
                    .map_err(conflict(|| format!("name: an account named {name:?} already exists")))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn delete_account(&self, account_id: &str) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                // Children first (see `reset_account`): the cascade would go row by row.
                for sql in [
                    "delete from group_members where account_id = $1",
                    "delete from license_assignments where account_id = $1",
                    "delete from user_emails where account_id = $1",
                    "delete from activity where account_id = $1",
                    "delete from groups where account_id = $1",
                    "delete from users where account_id = $1",
                    "delete from scim_configurations where account_id = $1",
                    "delete from license_pools where account_id = $1",
                    "delete from instances where account_id = $1",
                ] {
                    sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
                }
                let done = sqlx::query("delete from accounts where id = $1")
                    .bind(account_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn instances(&self, account_id: &str) -> StoreResult<Vec<Instance>> {
                let rows = sqlx::query("select id, product, name from instances where account_id = $1 order by name")
                    .bind(account_id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(Instance {
                            id: row.try_get("id")?,
                            product: Product::try_from(row.try_get::<String, _>("product")?).map_err(StoreError::Invalid)?,
                            name: row.try_get("name")?,
                        })
                    })
                    .collect()
            }

            async fn create_instance(&self, account_id: &str, product: &Product, name: &str, now: Micros) -> StoreResult<Instance> {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "insert into instances (id, account_id, product, name, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)",
                )
                .bind(&id)
                .bind(account_id)
                .bind(product.as_str())
                .bind(name)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(conflict(|| format!("name: the account already has an instance named {name:?}")))?;
                Ok(Instance {
                    id,
                    product: product.clone(),
                    name: name.to_owned(),
                })
            }

            async fn create_pool(
                &self,
                account_id: &str,
                instance_id: &str,
                license_type: &str,
                seats: i64,
                promote_waiting: bool,
                now: Micros,
            ) -> StoreResult<String> {
                let id = uuid::Uuid::new_v4().to_string();
                let done = sqlx::query(
                    "insert into license_pools (id, account_id, instance_id, license_type, seats, used, promote_waiting, created_at, updated_at)
                     select $1, $2, i.id, $4, $5, 0, $6, $7, $7 from instances i where i.id = $3 and i.account_id = $2",
                )
                .bind(&id)
                .bind(account_id)
                .bind(instance_id)
                .bind(license_type)
                .bind(seats)
                .bind(promote_waiting)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(conflict(|| format!("licenseType: the instance already has a {license_type:?} pool")))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(id)
            }

            async fn pool_states(&self, account_id: &str) -> StoreResult<Vec<PoolStates>> {
                let rows = sqlx::query(
                    "select p.id,
                        sum(case when a.state = 'assigned' then 1 else 0 end) as assigned,
                        sum(case when a.state = 'activated' then 1 else 0 end) as activated
                     from license_pools p left join license_assignments a on a.pool_id = p.id
                     where p.account_id = $1 group by p.id",
                )
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(PoolStates {
                            pool_id: row.try_get("id")?,
                            assigned: row.try_get::<Option<i64>, _>("assigned")?.unwrap_or(0),
                            activated: row.try_get::<Option<i64>, _>("activated")?.unwrap_or(0),
                        })
                    })
                    .collect()
            }

            async fn configurations(&self, account_id: &str) -> StoreResult<Vec<ConfigurationState>> {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{CONFIGURATION_STATE_SELECT} order by c.name")))
                    .bind(account_id)
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(Self::configuration_state).collect()
            }

            async fn create_configuration(&self, config: NewConfiguration<'_>, now: Micros) -> StoreResult<ConfigurationState> {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "insert into scim_configurations
                         (id, account_id, name, client_profile, token_hash, token_expires_at, auto_assign_pool_id,
                          patch_response, token_created_at, token_source, created_at, updated_at)
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'runtime', $9, $9)",
                )
                .bind(&id)
                .bind(config.account_id)
                .bind(config.name)
                .bind(config.client_profile.as_str())
                .bind(&config.token_hash.0)
                .bind(config.token_expires_at)
                .bind(config.auto_assign_pool_id)
                .bind(config.patch_response.as_str())
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(conflict(|| format!("name: the account already has a SCIM configuration named {:?}", config.name)))?;
                let row = sqlx::query(sqlx::AssertSqlSafe(format!("{CONFIGURATION_STATE_SELECT} and c.id = $2")))
                    .bind(config.account_id)
                    .bind(&id)
                    .fetch_one(&self.pool)
                    .await?;
                Self::configuration_state(&row)
            }

            async fn issue_token(
                &self,
                account_id: &str,
                configuration: &str,
                token: &super::TokenHash,
                expires_at: Option<Micros>,
                now: Micros,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "update scim_configurations
                     set token_hash = $3, token_expires_at = $4, token_created_at = $5, token_source = 'runtime', updated_at = $5
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

            async fn delete_configuration(&self, account_id: &str, configuration: &str) -> StoreResult<bool> {
                let done = sqlx::query("delete from scim_configurations where account_id = $1 and name = $2")
                    .bind(account_id)
                    .bind(configuration)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn members(&self, account_id: &str, group_id: &str) -> StoreResult<Vec<Member>> {
                let rows = sqlx::query(
                    "select gm.member_id, u.user_name, gm.origin from group_members gm
                     join users u on u.id = gm.member_id
                     where gm.account_id = $1 and gm.group_id = $2 order by u.user_name_key",
                )
                .bind(account_id)
                .bind(group_id)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        let origin: String = row.try_get("origin")?;
                        Ok(Member {
                            id: row.try_get("member_id")?,
                            user_name: row.try_get("user_name")?,
                            origin: MemberOrigin::parse(&origin)
                                .ok_or_else(|| StoreError::Invalid(format!("unknown member origin {origin:?}")))?,
                        })
                    })
                    .collect()
            }
        }
    };
}

center_store!(Sqlite);
center_store!(Postgres);
