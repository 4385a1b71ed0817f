//! What the Account Center needs beyond the SCIM path: strict creates (409 on a taken
//! name, where the seed's upserts would overwrite), configurations with their token
//! state, seat usage by license state, member origins, deletions.

use async_trait::async_trait;
use sqlx::types::Json;

use super::Db;
use super::accounts::ACCOUNT_CHILD_ROWS;
use crate::sql::{SqlStore, or_conflict};
use crate::{
    CenterStore, ConfigurationState, ConnectionUse, Instance, Member, Micros, NewConfiguration, PoolStates,
    StoreError, StoreResult,
};
use domain::accounts::{Account, Fidelity, PatchResponse, RateLimit, TokenHash};
use domain::ids::{AccountId, ConfigurationId, GroupId, InstanceId, PoolId, UserId};
use domain::licensing::Product;
use domain::licensing::assignment::StoredRule;
use domain::membership::MemberOrigin;

/// A unique violation: `Conflict` with the detail (naming the field at fault).
fn conflict(detail: impl FnOnce() -> String) -> impl FnOnce(sqlx::Error) -> StoreError {
    or_conflict(move || StoreError::Conflict(detail()))
}

const CONFIGURATION_STATE_SELECT: &str =
    "select c.id, c.name, c.client_profile, c.patch_response, c.created_at, c.token_created_at,
        c.token_expires_at, c.token_source, c.auto_assign_pool_id, c.license_rules,
        i.name as instance, i.product, p.license_type,
        (select max(a.at) from activity a where a.configuration_id = c.id) as token_last_used_at
     from scim_configurations c
     left join license_pools p on p.id = c.auto_assign_pool_id
     left join instances i on i.id = p.instance_id
     where c.account_id = $1";

/// A row of [`CONFIGURATION_STATE_SELECT`].
#[derive(sqlx::FromRow)]
struct ConfigurationStateRow {
    id: ConfigurationId,
    name: String,
    client_profile: String,
    patch_response: String,
    created_at: Micros,
    token_created_at: Option<Micros>,
    token_expires_at: Option<Micros>,
    token_source: String,
    auto_assign_pool_id: Option<PoolId>,
    license_rules: Json<Vec<StoredRule>>,
    instance: Option<String>,
    product: Option<String>,
    license_type: Option<String>,
    token_last_used_at: Option<Micros>,
}

impl TryFrom<ConfigurationStateRow> for ConfigurationState {
    type Error = StoreError;

    fn try_from(row: ConfigurationStateRow) -> StoreResult<Self> {
        Ok(ConfigurationState {
            id: row.id,
            name: row.name,
            client_profile: row.client_profile.parse().map_err(StoreError::Invalid)?,
            patch_response: PatchResponse::parse(&row.patch_response).ok_or_else(|| {
                StoreError::Invalid(format!("unknown patch_response {:?}", row.patch_response))
            })?,
            auto_assign_pool_id: row.auto_assign_pool_id,
            license_rules: row.license_rules.0,
            instance: row.instance,
            product: row
                .product
                .map(Product::try_from)
                .transpose()
                .map_err(StoreError::Invalid)?,
            license_type: row.license_type,
            created_at: row.created_at,
            token_created_at: row.token_created_at,
            token_last_used_at: row.token_last_used_at,
            token_expires_at: row.token_expires_at,
            token_set_at_runtime: row.token_source == "runtime",
        })
    }
}

#[derive(sqlx::FromRow)]
struct InstanceRow {
    id: InstanceId,
    product: String,
    name: String,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    member_id: UserId,
    user_name: String,
    origin: String,
}

#[async_trait]
impl CenterStore for SqlStore<Db> {
    async fn create_account(&self, name: &str, fidelity: &Fidelity, now: Micros) -> StoreResult<Account> {
        let id = AccountId::generate();
        sqlx::query(
            "insert into accounts (id, name, fidelity, created_at, updated_at) values ($1, $2, $3, $4, $4)",
        )
        .bind(&id)
        .bind(name)
        .bind(Json(fidelity))
        .bind(now)
        .execute(self.write_pool())
        .await
        .map_err(conflict(|| {
            format!("name: an account named {name:?} already exists")
        }))?;
        Ok(Account {
            id,
            name: name.to_owned(),
            fidelity: fidelity.clone(),
        })
    }

    async fn update_account(
        &self,
        account_id: &AccountId,
        name: &str,
        fidelity: &Fidelity,
        now: Micros,
    ) -> StoreResult<()> {
        let done = sqlx::query("update accounts set name = $2, fidelity = $3, updated_at = $4 where id = $1")
            .bind(account_id)
            .bind(name)
            .bind(Json(fidelity))
            .bind(now)
            .execute(self.write_pool())
            .await
            .map_err(conflict(|| {
                format!("name: an account named {name:?} already exists")
            }))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.principals_changed().await;
        Ok(())
    }

    async fn delete_account(&self, account_id: &AccountId) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        // Children first: the cascade would go row by row.
        for sql in ACCOUNT_CHILD_ROWS.into_iter().chain([
            "delete from groups where account_id = $1",
            "delete from users where account_id = $1",
            "delete from scim_configurations where account_id = $1",
            // The configurations' delete trigger has just recorded their tokens as
            // revoked: a gone account keeps no journal of refusals (migration 0052).
            "delete from revoked_tokens where account_id = $1",
            "delete from license_pools where account_id = $1",
            "delete from instances where account_id = $1",
        ]) {
            sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("delete from accounts where id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.principals_changed().await;
        Ok(done.rows_affected() > 0)
    }

    async fn instances(&self, account_id: &AccountId) -> StoreResult<Vec<Instance>> {
        let rows: Vec<InstanceRow> =
            sqlx::query_as("select id, product, name from instances where account_id = $1 order by name")
                .bind(account_id)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Instance {
                    id: row.id,
                    product: Product::try_from(row.product).map_err(StoreError::Invalid)?,
                    name: row.name,
                })
            })
            .collect()
    }

    async fn create_instance(
        &self,
        account_id: &AccountId,
        product: &Product,
        name: &str,
        now: Micros,
    ) -> StoreResult<Instance> {
        let id = InstanceId::generate();
        sqlx::query(
            "insert into instances (id, account_id, product, name, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&id)
        .bind(account_id)
        .bind(product.as_str())
        .bind(name)
        .bind(now)
        .execute(self.write_pool())
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
        account_id: &AccountId,
        instance_id: &InstanceId,
        license_type: &str,
        seats: i64,
        now: Micros,
    ) -> StoreResult<PoolId> {
        let id = PoolId::generate();
        let done = sqlx::query(
            "insert into license_pools
                 (id, account_id, instance_id, license_type, seats, used, created_at, updated_at)
             select $1, $2, i.id, $4, $5, 0, $6, $6 from instances i where i.id = $3 and i.account_id = $2",
        )
        .bind(&id)
        .bind(account_id)
        .bind(instance_id)
        .bind(license_type)
        .bind(seats)
        .bind(now)
        .execute(self.write_pool())
        .await
        .map_err(conflict(|| {
            format!("licenseType: the instance already has a {license_type:?} pool")
        }))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(id)
    }

    async fn pool_states(&self, account_id: &AccountId) -> StoreResult<Vec<PoolStates>> {
        let rows: Vec<(PoolId, Option<i64>, Option<i64>)> = sqlx::query_as(
            "select p.id,
                sum(case when a.state = 'assigned' then 1 else 0 end),
                sum(case when a.state = 'activated' then 1 else 0 end)
             from license_pools p left join license_assignments a on a.pool_id = p.id
             where p.account_id = $1 group by p.id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(pool_id, assigned, activated)| PoolStates {
                pool_id,
                assigned: assigned.unwrap_or(0),
                activated: activated.unwrap_or(0),
            })
            .collect())
    }

    async fn configurations(&self, account_id: &AccountId) -> StoreResult<Vec<ConfigurationState>> {
        let rows: Vec<ConfigurationStateRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CONFIGURATION_STATE_SELECT} order by c.name"
        )))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ConfigurationState::try_from).collect()
    }

    async fn create_configuration(
        &self,
        config: NewConfiguration<'_>,
        now: Micros,
    ) -> StoreResult<ConfigurationState> {
        let id = ConfigurationId::generate();
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
        .execute(self.write_pool())
        .await
        .map_err(conflict(|| {
            format!(
                "name: the account already has a SCIM configuration named {:?}",
                config.name
            )
        }))?;
        let row: ConfigurationStateRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CONFIGURATION_STATE_SELECT} and c.id = $2"
        )))
        .bind(config.account_id)
        .bind(&id)
        .fetch_one(&self.pool)
        .await?;
        row.try_into()
    }

    async fn issue_token(
        &self,
        account_id: &AccountId,
        configuration: &str,
        token: &TokenHash,
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
        .execute(self.write_pool())
        .await?;
        self.principals_changed().await;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_configuration(&self, account_id: &AccountId, configuration: &str) -> StoreResult<bool> {
        let done = sqlx::query("delete from scim_configurations where account_id = $1 and name = $2")
            .bind(account_id)
            .bind(configuration)
            .execute(self.write_pool())
            .await?;
        self.principals_changed().await;
        Ok(done.rows_affected() > 0)
    }

    async fn set_license_rules(
        &self,
        account_id: &AccountId,
        configuration: &str,
        rules: &[StoredRule],
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "update scim_configurations set license_rules = $1 where account_id = $2 and name = $3",
        )
        .bind(Json(rules))
        .bind(account_id)
        .bind(configuration)
        .execute(self.write_pool())
        .await?;
        // Rules are part of the principal every SCIM request acts as.
        self.principals_changed().await;
        Ok(done.rows_affected() > 0)
    }

    async fn set_rate_limit(
        &self,
        account_id: &AccountId,
        configuration: &str,
        limit: Option<RateLimit>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "update scim_configurations set rate_limit_per_minute = $1, rate_limit_burst = $2
             where account_id = $3 and name = $4",
        )
        .bind(limit.map(|l| i64::from(l.requests_per_minute)))
        .bind(limit.map(|l| i64::from(l.burst)))
        .bind(account_id)
        .bind(configuration)
        .execute(self.write_pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    fn connection_use(&self) -> ConnectionUse {
        ConnectionUse {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    async fn rate_limit(&self, configuration_id: &ConfigurationId) -> StoreResult<Option<RateLimit>> {
        let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "select rate_limit_per_minute, rate_limit_burst from scim_configurations where id = $1",
        )
        .bind(configuration_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some((Some(per_minute), Some(burst))) => Some(RateLimit {
                requests_per_minute: u32::try_from(per_minute).unwrap_or(u32::MAX),
                burst: u32::try_from(burst).unwrap_or(u32::MAX),
            }),
            _ => None,
        })
    }

    async fn members(&self, account_id: &AccountId, group_id: &GroupId) -> StoreResult<Vec<Member>> {
        let rows: Vec<MemberRow> = sqlx::query_as(
            "select gm.member_id, u.user_name, gm.origin from group_members gm
             join users u on u.id = gm.member_id
             where gm.account_id = $1 and gm.group_id = $2 order by u.user_name_key",
        )
        .bind(account_id)
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Member {
                    id: row.member_id,
                    user_name: row.user_name,
                    origin: MemberOrigin::parse(&row.origin).ok_or_else(|| {
                        StoreError::Invalid(format!("unknown member origin {:?}", row.origin))
                    })?,
                })
            })
            .collect()
    }
}
