//! Accounts, SCIM configurations and their tokens.

use async_trait::async_trait;
use sqlx::types::Json;

use super::Db;
use crate::dialect::Dialect;
use crate::sql::{SqlStore, or_conflict};
use crate::{AccountStore, Micros, NewConfiguration, StoreError, StoreResult};
use domain::accounts::{
    Account, AutoAssign, Fidelity, PatchResponse, Principal, ScimConfiguration, StoredToken, TokenHash,
};
use domain::ids::{AccountId, ConfigurationId, PoolId};
use domain::licensing::Product;
use domain::licensing::assignment::{LicenseRule, StoredRule};

/// A configuration with its account and its auto-assign pool's product: one query
/// finds what authenticating a request needs.
const CONFIGURATION_SELECT: &str =
    "select c.id, c.account_id, c.name, c.client_profile, c.auto_assign_pool_id, c.license_rules,
        c.patch_response, c.token_hash, c.token_expires_at, i.product, a.name as account_name, a.fidelity
     from scim_configurations c
     join accounts a on a.id = c.account_id
     left join license_pools p on p.id = c.auto_assign_pool_id
     left join instances i on i.id = p.instance_id";

/// The deletes that clear an account's users and groups of the rows that reference them
/// (and its activity and user count), children first: one statement a table, so no
/// foreign key has to cascade row by row. `reset_account` and `delete_account` both
/// start with them.
pub(super) const ACCOUNT_CHILD_ROWS: [&str; 5] = [
    "delete from group_members where account_id = $1",
    "delete from license_assignments where account_id = $1",
    "delete from user_emails where account_id = $1",
    "delete from activity where account_id = $1",
    "delete from account_user_counts where account_id = $1",
];

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: AccountId,
    name: String,
    fidelity: Json<Fidelity>,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Account {
            id: row.id,
            name: row.name,
            fidelity: row.fidelity.0,
        }
    }
}

/// A row of [`CONFIGURATION_SELECT`].
#[derive(sqlx::FromRow)]
struct ConfigurationRow {
    id: ConfigurationId,
    account_id: AccountId,
    name: String,
    client_profile: String,
    auto_assign_pool_id: Option<PoolId>,
    license_rules: Json<Vec<StoredRule>>,
    patch_response: String,
    token_hash: String,
    token_expires_at: Option<Micros>,
    product: Option<String>,
    account_name: String,
    fidelity: Json<Fidelity>,
}

impl ConfigurationRow {
    fn configuration(&self) -> StoreResult<ScimConfiguration> {
        let auto_assign = match (&self.auto_assign_pool_id, &self.product) {
            (Some(pool_id), Some(product)) => Some(AutoAssign {
                pool_id: pool_id.clone(),
                product: Product::try_from(product.clone()).map_err(StoreError::Invalid)?,
                rules: LicenseRule::parse_all(&self.license_rules.0)
                    .map_err(StoreError::Invalid)?
                    .into(),
            }),
            _ => None,
        };
        Ok(ScimConfiguration {
            id: self.id.clone(),
            account_id: self.account_id.clone(),
            name: self.name.clone(),
            client_profile: self.client_profile.parse().map_err(StoreError::Invalid)?,
            auto_assign,
            patch_response: PatchResponse::parse(&self.patch_response).ok_or_else(|| {
                StoreError::Invalid(format!("unknown patch_response {:?}", self.patch_response))
            })?,
        })
    }
}

impl SqlStore<Db> {
    /// A principal changed (a token, configuration, account or instance): this process
    /// forgets its cached principals now, the others when the notification arrives. Call
    /// it after the write committed.
    pub(super) async fn principals_changed(&self) {
        self.principals.invalidate();
        if let Some(notify) = Db::NOTIFY_PRINCIPALS
            && let Err(e) = sqlx::query(notify).execute(&self.pool).await
        {
            // The write stands; other processes catch up within the cache's TTL.
            tracing::warn!(error = %e, "could not announce a principal change");
        }
    }

    async fn configuration(&self, id: &ConfigurationId) -> StoreResult<ScimConfiguration> {
        let row: ConfigurationRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CONFIGURATION_SELECT} where c.id = $1"
        )))
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        row.configuration()
    }
}

#[async_trait]
impl AccountStore for SqlStore<Db> {
    async fn ensure_account(&self, name: &str, fidelity: Fidelity, now: Micros) -> StoreResult<Account> {
        sqlx::query(
            "insert into accounts (id, name, fidelity, created_at, updated_at) values ($1, $2, $3, $4, $4)
             on conflict (name) do update set fidelity = excluded.fidelity, updated_at = excluded.updated_at",
        )
        .bind(AccountId::generate())
        .bind(name)
        .bind(Json(fidelity))
        .bind(now)
        .execute(self.write_pool())
        .await?;
        self.principals_changed().await;
        self.account_by_name(name).await?.ok_or(StoreError::NotFound)
    }

    async fn account_by_name(&self, name: &str) -> StoreResult<Option<Account>> {
        let row: Option<AccountRow> =
            sqlx::query_as("select id, name, fidelity from accounts where name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(Account::from))
    }

    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        let rows: Vec<AccountRow> = sqlx::query_as("select id, name, fidelity from accounts order by name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(Account::from).collect())
    }

    async fn put_configuration(
        &self,
        config: NewConfiguration<'_>,
        now: Micros,
    ) -> StoreResult<ScimConfiguration> {
        let id: ConfigurationId = sqlx::query_scalar(
            "insert into scim_configurations
                 (id, account_id, name, client_profile, token_hash, token_expires_at,
                  auto_assign_pool_id, patch_response, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $8, $9, $7, $7)
             on conflict (account_id, name) do update set
                 client_profile = excluded.client_profile,
                 patch_response = excluded.patch_response,
                 -- A token set at runtime outlives re-applied seeds (docs/account-center.md).
                 token_hash = case when scim_configurations.token_source = 'runtime'
                                   then scim_configurations.token_hash else excluded.token_hash end,
                 token_expires_at = case when scim_configurations.token_source = 'runtime'
                                   then scim_configurations.token_expires_at else excluded.token_expires_at end,
                 auto_assign_pool_id = excluded.auto_assign_pool_id,
                 updated_at = excluded.updated_at
             returning id",
        )
        .bind(ConfigurationId::generate())
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
        self.principals_changed().await;
        self.configuration(&id).await
    }

    async fn reset_account(&self, account_id: &AccountId) -> StoreResult<(u64, u64)> {
        let mut tx = self.begin_write().await?;
        for sql in ACCOUNT_CHILD_ROWS
            .into_iter()
            .chain(["update license_pools set used = 0 where account_id = $1"])
        {
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

    async fn probe(&self) -> StoreResult<()> {
        use sqlx::{ConnectOptions, Connection};
        let mut connection = self.pool.connect_options().connect().await?;
        connection.ping().await?;
        let _ = connection.close().await;
        Ok(())
    }

    async fn count_accounts(&self) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("select count(*) from accounts")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn find_token(&self, token: &TokenHash) -> StoreResult<Option<StoredToken>> {
        let miss = match self.principals.get(token) {
            Ok(found) => return Ok(Some(found)),
            Err(miss) => miss,
        };
        let row: Option<ConfigurationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CONFIGURATION_SELECT} where c.token_hash = $1"
        )))
        .bind(&token.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let configuration = row.configuration()?;
        let found = StoredToken {
            principal: Principal {
                account: Account {
                    id: row.account_id,
                    name: row.account_name,
                    fidelity: row.fidelity.0,
                },
                configuration,
            },
            token_hash: TokenHash(row.token_hash),
            expires_at: row.token_expires_at,
        };
        self.principals.put(miss, &found);
        Ok(Some(found))
    }
}
