//! The Account Center's operations: what an admin does to accounts, instances, pools,
//! SCIM configurations, users, groups and the activity log. The admin JSON API, the web
//! UI and the CLI all call these, so each rule (validation, token issue, 404 for another
//! account's resources) lives here once; the callers only parse and render.

pub mod export;
pub mod seed;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::accounts::fidelity::LicenseEdit;
use crate::accounts::token_expiry;
use crate::accounts::{
    Account, BearerToken, Fidelity, FidelityOverrides, FidelityPreset, PatchResponse, RateLimit,
};
use crate::activity::ActivityRecord;
use crate::clock::Clock;
use crate::ids::{GroupId, PoolId, UserId};
use crate::licensing::{License, Product};
use crate::membership::{MemberOp, MemberOrigin};
use crate::scim::catalog::user_schema;
use crate::scim::list::{ListRequest, RawListParams};
use crate::scim::tolerance::{ClientProfile, Leniency};
use crate::store::{
    ActivityQuery, ConfigurationState, Instance, Member, NewConfiguration, Page, PoolUsage, ResourceRecord,
    Store, StoreError,
};

/// Why an Account Center operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CenterError {
    /// Bad input: `field` is the request member at fault.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    /// A name is taken.
    #[error("{0}")]
    Conflict(String),
    /// The license pool cannot do it (full, or more seats in use than asked for).
    #[error("{0}")]
    Seats(String),
    /// The account's fidelity settings forbid the edit.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CenterError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(detail) => CenterError::Conflict(detail),
            StoreError::Seats(detail) | StoreError::PoolFull(detail) => CenterError::Seats(detail),
            StoreError::UnknownMembers(ids) => CenterError::Invalid {
                field: "members",
                message: format!("no user of this account has the id {}", ids.join(", ")),
            },
            other => CenterError::Store(other),
        }
    }
}

pub type CenterResult<T> = Result<T, CenterError>;

fn invalid(field: &'static str, message: impl Into<String>) -> CenterError {
    CenterError::Invalid {
        field,
        message: message.into(),
    }
}

fn no_configuration(name: &str) -> CenterError {
    CenterError::NotFound(format!("no SCIM configuration {name:?}"))
}

/// The store's "was there such a configuration" answer as a result.
fn configuration_found(found: bool, name: &str) -> CenterResult<()> {
    if found {
        Ok(())
    } else {
        Err(no_configuration(name))
    }
}

/// A display name typed by an admin: trimmed, 1 to 100 characters.
fn name(field: &'static str, text: &str) -> CenterResult<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > 100 || trimmed.chars().any(char::is_control) {
        return Err(invalid(field, "use at most 100 printable characters"));
    }
    Ok(trimmed.to_owned())
}

/// An account name: it appears in URLs, so letters, digits, `-` and `_` only.
fn account_name(text: &str) -> CenterResult<String> {
    let name = name("name", text)?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid(
            "name",
            "use letters, digits, - and _ (it appears in URLs)",
        ));
    }
    Ok(name)
}

fn product(text: &str) -> CenterResult<Product> {
    Product::try_from(text.trim().to_owned()).map_err(|e| invalid("product", e))
}

/// A new account: a fidelity preset and single settings overriding it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAccount {
    pub name: String,
    /// `linkedin` (default) or `rfc`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub profile: FidelityPreset,
    /// Single settings overriding the preset (docs/fidelity.md).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fidelity: FidelityOverrides,
}

/// A change to an account; absent members stay as they are. A new `profile` resets the
/// fidelity settings to that preset before `fidelity` overrides apply.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountChange {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub profile: Option<FidelityPreset>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fidelity: FidelityOverrides,
}

/// A new SCIM configuration, as the "+ Add new SCIM configuration" form asks for it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewScimConfiguration {
    pub name: String,
    /// "Auto-assign licenses": off means only user data is synced.
    #[serde(default)]
    pub auto_assign: bool,
    /// Application instance (by name), with auto-assign on.
    pub instance: Option<String>,
    /// License type of that instance, with auto-assign on.
    pub license_type: Option<String>,
    /// `lenient` (default), `entra`, `okta` or `strict` (docs/client-profiles.md).
    #[serde(default)]
    #[schema(value_type = String)]
    pub client_profile: ClientProfile,
    /// `resource` (default: 200 with the resource) or `no_content` (204).
    #[serde(default)]
    #[schema(value_type = String)]
    pub patch_response: PatchResponse,
}

/// A new license pool in an instance.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPool {
    pub instance: String,
    pub license_type: String,
    pub seats: i64,
    #[serde(default)]
    pub promote_waiting: bool,
}

/// A token just issued: shown once, stored only as a hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    pub configuration: String,
    pub token: String,
    /// RFC 3339, or absent when the account's tokens do not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// A pool with its seats by license state: `assigned + activated + free = seats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PoolView {
    #[schema(value_type = String)]
    pub id: PoolId,
    #[schema(value_type = String)]
    pub instance_id: crate::ids::InstanceId,
    pub instance: String,
    pub product: String,
    pub license_type: String,
    pub seats: i64,
    /// Seats taken: `assigned + activated`.
    pub used: i64,
    /// Provisioned, not yet accepted by the user.
    pub assigned: i64,
    /// Accepted by the user.
    pub activated: i64,
    /// Users waiting for a seat (they hold none).
    pub waiting: i64,
    pub free: i64,
    /// Promote waiting users first come, first served when a seat frees up.
    pub promote_waiting: bool,
}

impl PoolView {
    fn new(usage: PoolUsage, assigned: i64, activated: i64) -> PoolView {
        PoolView {
            free: (usage.seats - usage.used).max(0),
            id: usage.id,
            instance_id: usage.instance_id,
            instance: usage.instance,
            product: usage.product,
            license_type: usage.license_type,
            seats: usage.seats,
            used: usage.used,
            assigned,
            activated,
            waiting: usage.waiting,
            promote_waiting: usage.promote_waiting,
        }
    }
}

/// A user as the Account Center lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub user_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub active: bool,
    /// One per product: product, instance, licenseType, state (assigned / activated / waiting).
    #[schema(value_type = Vec<Object>)]
    pub licenses: Vec<License>,
}

/// A group with its members and their origin.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub id: String,
    pub display_name: String,
    pub members: Vec<MemberView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub id: String,
    pub user_name: String,
    /// `scim` (written by the IdP) or `admin` (added in the Account Center).
    pub origin: &'static str,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        MemberView {
            id: m.id.into(),
            user_name: m.user_name,
            origin: m.origin.as_str(),
        }
    }
}

/// Which users to list: a search over userName and externalId, or a SCIM filter.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSearch {
    /// userName starting with, or externalId equal to, this text.
    pub q: Option<String>,
    /// A SCIM filter (RFC 7644 §3.4.2.2), e.g. `externalId eq "42"`.
    pub filter: Option<String>,
    pub start_index: Option<u64>,
    pub count: Option<u64>,
}

/// Which activity records to show, newest first, as an admin gives them.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub limit: Option<u32>,
    /// Records older than this id (paging back).
    pub before: Option<i64>,
    pub status: Option<u16>,
    pub method: Option<String>,
    pub resource_id: Option<String>,
    /// A configuration's name.
    pub configuration: Option<String>,
    /// RFC 3339: records at or after this time.
    pub since: Option<String>,
    /// Only requests where a client departed from the RFC.
    pub tolerances: bool,
    /// Records newer than this id (paging forward, oldest first).
    pub after: Option<i64>,
    /// Only requests whose path (with its query) starts with this.
    pub path: Option<String>,
    /// Oldest first (the journal's order).
    pub oldest_first: bool,
    /// With the captured headers and bodies (the journal).
    pub with_exchange: bool,
}

/// The largest page of users the Account Center lists.
pub const MAX_USERS_PAGE: u32 = 500;

/// The Account Center over one store and clock.
#[derive(Clone)]
pub struct Center {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Center {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Center {
        Center { store, clock }
    }

    fn now(&self) -> i64 {
        self.clock.now_micros()
    }

    pub async fn accounts(&self) -> CenterResult<Vec<Account>> {
        Ok(self.store.list_accounts().await?)
    }

    pub async fn account(&self, name: &str) -> CenterResult<Account> {
        self.store
            .account_by_name(name)
            .await?
            .ok_or_else(|| CenterError::NotFound(format!("no account {name:?}")))
    }

    pub async fn create_account(&self, new: &NewAccount) -> CenterResult<Account> {
        let name = account_name(&new.name)?;
        let fidelity = overrides(&new.fidelity, new.profile.settings())?;
        Ok(self.store.create_account(&name, &fidelity, self.now()).await?)
    }

    pub async fn update_account(&self, current: &str, change: &AccountChange) -> CenterResult<Account> {
        let account = self.account(current).await?;
        let name = match &change.name {
            Some(n) => account_name(n)?,
            None => account.name.clone(),
        };
        let base = change
            .profile
            .map_or(account.fidelity.clone(), FidelityPreset::settings);
        let fidelity = overrides(&change.fidelity, base)?;
        self.store
            .update_account(&account.id, &name, &fidelity, self.now())
            .await?;
        Ok(Account {
            id: account.id,
            name,
            fidelity,
        })
    }

    pub async fn delete_account(&self, name: &str) -> CenterResult<()> {
        let account = self.account(name).await?;
        self.store.delete_account(&account.id).await?;
        Ok(())
    }

    /// Test-harness reset: (users, groups) removed.
    pub async fn reset_account(&self, name: &str) -> CenterResult<(u64, u64)> {
        let account = self.account(name).await?;
        Ok(self.store.reset_account(&account.id).await?)
    }

    pub async fn instances(&self, account: &Account) -> CenterResult<Vec<Instance>> {
        Ok(self.store.instances(&account.id).await?)
    }

    pub async fn add_instance(
        &self,
        account: &Account,
        product_name: &str,
        instance: &str,
    ) -> CenterResult<Instance> {
        let product = product(product_name)?;
        let instance = name("name", instance)?;
        Ok(self
            .store
            .create_instance(&account.id, &product, &instance, self.now())
            .await?)
    }

    pub async fn pools(&self, account: &Account) -> CenterResult<Vec<PoolView>> {
        let usage = self.store.pools(&account.id).await?;
        let states = self.store.pool_states(&account.id).await?;
        Ok(usage
            .into_iter()
            .map(|usage| {
                let (assigned, activated) = states
                    .iter()
                    .find(|s| s.pool_id == usage.id)
                    .map_or((0, 0), |s| (s.assigned, s.activated));
                PoolView::new(usage, assigned, activated)
            })
            .collect())
    }

    pub async fn add_pool(&self, account: &Account, new: &NewPool) -> CenterResult<PoolView> {
        let license_type = name("licenseType", &new.license_type)?;
        if new.seats < 0 {
            return Err(invalid("seats", "cannot be negative"));
        }
        let instance = self.instance_named(account, &new.instance).await?;
        let id = self
            .store
            .create_pool(
                &account.id,
                &instance.id,
                &license_type,
                new.seats,
                new.promote_waiting,
                self.now(),
            )
            .await?;
        self.pool(account, &id).await
    }

    /// Change a pool's seats or promotion; `Conflict` when more seats are in use.
    pub async fn update_pool(
        &self,
        account: &Account,
        pool_id: &PoolId,
        seats: Option<i64>,
        promote_waiting: Option<bool>,
    ) -> CenterResult<PoolView> {
        if seats.is_some_and(|s| s < 0) {
            return Err(invalid("seats", "cannot be negative"));
        }
        self.store
            .set_pool(&account.id, pool_id, seats, promote_waiting, self.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => CenterError::NotFound(format!("no license pool {pool_id:?}")),
                other => other.into(),
            })?;
        self.pool(account, pool_id).await
    }

    async fn pool(&self, account: &Account, pool_id: &PoolId) -> CenterResult<PoolView> {
        self.pools(account)
            .await?
            .into_iter()
            .find(|p| p.id == *pool_id)
            .ok_or_else(|| CenterError::NotFound(format!("no license pool {pool_id:?}")))
    }

    async fn instance_named(&self, account: &Account, instance: &str) -> CenterResult<Instance> {
        self.instances(account)
            .await?
            .into_iter()
            .find(|i| i.name == instance.trim())
            .ok_or_else(|| {
                invalid(
                    "instance",
                    format!("the account has no application instance {instance:?}"),
                )
            })
    }

    pub async fn configurations(&self, account: &Account) -> CenterResult<Vec<ConfigurationState>> {
        Ok(self.store.configurations(&account.id).await?)
    }

    pub async fn configuration(&self, account: &Account, name: &str) -> CenterResult<ConfigurationState> {
        self.configurations(account)
            .await?
            .into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| no_configuration(name))
    }

    /// Create a configuration and its first token (shown once). With auto-assign on,
    /// the instance and license type must name one of the account's pools; with it off,
    /// neither may be given (only user data syncs).
    pub async fn create_configuration(
        &self,
        account: &Account,
        new: &NewScimConfiguration,
    ) -> CenterResult<(ConfigurationState, IssuedToken)> {
        let config_name = name("name", &new.name)?;
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (instance, license_type) = (given(&new.instance), given(&new.license_type));
        let pool_id = if new.auto_assign {
            let instance =
                instance.ok_or_else(|| invalid("instance", "auto-assign needs an application instance"))?;
            let license_type =
                license_type.ok_or_else(|| invalid("licenseType", "auto-assign needs a license type"))?;
            let pools = self.store.pools(&account.id).await?;
            let pool = pools
                .iter()
                .find(|p| p.instance == instance && p.license_type == license_type)
                .ok_or_else(|| {
                    if pools.iter().any(|p| p.instance == instance) {
                        invalid(
                            "licenseType",
                            format!("instance {instance:?} has no license type {license_type:?}"),
                        )
                    } else {
                        invalid(
                            "instance",
                            format!(
                                "the account has no application instance {instance:?} with license pools"
                            ),
                        )
                    }
                })?;
            Some(pool.id.clone())
        } else {
            if instance.is_some() {
                return Err(invalid("instance", "only with autoAssign on"));
            }
            if license_type.is_some() {
                return Err(invalid("licenseType", "only with autoAssign on"));
            }
            None
        };
        let token = BearerToken::generate();
        let now = self.now();
        let expires_at = token_expiry(&account.fidelity, now);
        let state = self
            .store
            .create_configuration(
                NewConfiguration {
                    account_id: &account.id,
                    name: &config_name,
                    client_profile: new.client_profile,
                    token_hash: &token.hash(),
                    token_expires_at: expires_at,
                    auto_assign_pool_id: pool_id.as_ref(),
                    patch_response: new.patch_response,
                },
                now,
            )
            .await?;
        let issued = issued(&config_name, &token, expires_at);
        Ok((state, issued))
    }

    /// Generate / refresh a configuration's token: the old one gets 401 at once.
    pub async fn refresh_token(&self, account: &Account, configuration: &str) -> CenterResult<IssuedToken> {
        let token = BearerToken::generate();
        let now = self.now();
        let expires_at = token_expiry(&account.fidelity, now);
        let found = self
            .store
            .issue_token(&account.id, configuration, &token.hash(), expires_at, now)
            .await?;
        configuration_found(found, configuration)?;
        Ok(issued(configuration, &token, expires_at))
    }

    pub async fn delete_configuration(&self, account: &Account, configuration: &str) -> CenterResult<()> {
        let found = self
            .store
            .delete_configuration(&account.id, configuration)
            .await?;
        configuration_found(found, configuration)
    }

    /// Throttle a configuration (`Some`) or stop throttling it (`None`).
    pub async fn set_rate_limit(
        &self,
        account: &Account,
        configuration: &str,
        limit: Option<RateLimit>,
    ) -> CenterResult<()> {
        if let Some(limit) = limit {
            for (field, value) in [
                ("requestsPerMinute", limit.requests_per_minute),
                ("burst", limit.burst),
            ] {
                if value == 0 {
                    return Err(CenterError::Invalid {
                        field,
                        message: "must be at least 1 (remove the rate limit to stop throttling)".into(),
                    });
                }
            }
        }
        let found = self
            .store
            .set_rate_limit(&account.id, configuration, limit)
            .await?;
        configuration_found(found, configuration)
    }

    /// A configuration's rate limit, `None` when it is not throttled.
    pub async fn rate_limit(
        &self,
        account: &Account,
        configuration: &str,
    ) -> CenterResult<Option<RateLimit>> {
        let state = self.configuration(account, configuration).await?;
        Ok(self.store.rate_limit(&state.id).await?)
    }

    /// A page of users with their licenses.
    pub async fn users(&self, account: &Account, search: &UserSearch) -> CenterResult<Page<UserView>> {
        let filter = match (search.q.as_deref().map(str::trim), &search.filter) {
            (Some(q), _) if !q.is_empty() => {
                let quoted = serde_json::Value::String(q.to_owned()).to_string();
                Some(format!("userName sw {quoted} or externalId eq {quoted}"))
            }
            (_, filter) => filter.clone(),
        };
        let raw = RawListParams {
            filter,
            start_index: search.start_index.map(|n| n.to_string()),
            count: search.count.map(|n| n.to_string()),
            ..RawListParams::default()
        };
        let request: ListRequest = raw
            .parse(
                MAX_USERS_PAGE,
                user_schema(),
                &mut Leniency::new(ClientProfile::Strict),
            )
            .map_err(|e| invalid("filter", e.detail))?;
        let page = self.store.list_users(&account.id, &request).await?;
        let ids: Vec<UserId> = page.items.iter().map(|r| UserId::from(r.id.as_str())).collect();
        let licenses = self.store.licenses(&account.id, &ids).await?;
        let items = page
            .items
            .into_iter()
            .map(|record| {
                let mine: Vec<License> = licenses
                    .iter()
                    .filter(|(user, _)| user.as_str() == record.id)
                    .map(|(_, l)| l.clone())
                    .collect();
                user_view(record, mine)
            })
            .collect();
        Ok(Page {
            total: page.total,
            items,
            more: page.more,
        })
    }

    /// LinkedIn's manual export: every user and license as CSV.
    pub async fn export_users(&self, account: &Account) -> CenterResult<String> {
        let mut users = Vec::new();
        loop {
            let search = UserSearch {
                start_index: Some(users.len() as u64 + 1),
                count: Some(u64::from(MAX_USERS_PAGE)),
                ..UserSearch::default()
            };
            let page = self.users(account, &search).await?;
            let done = page.items.is_empty() || users.len() + page.items.len() >= page.total as usize;
            users.extend(page.items);
            if done {
                break;
            }
        }
        export::users_csv(&users).map_err(|e| CenterError::Store(StoreError::Invalid(e.to_string())))
    }

    pub async fn user(&self, account: &Account, user_id: &UserId) -> CenterResult<UserView> {
        let record = self
            .store
            .get_user(&account.id, user_id)
            .await?
            .ok_or_else(|| CenterError::NotFound(format!("User {user_id} not found")))?;
        let licenses = self
            .store
            .licenses(&account.id, std::slice::from_ref(user_id))
            .await?
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        Ok(user_view(record, licenses))
    }

    /// The user accepts its license: `assigned` → `activated` (the user's own act on
    /// LinkedIn, so allowed while SCIM manages the user).
    pub async fn activate_license(
        &self,
        account: &Account,
        user_id: &UserId,
        product_name: &str,
    ) -> CenterResult<()> {
        let product = product(product_name)?;
        check_edit(account, LicenseEdit::Activate)?;
        let done = self
            .store
            .activate_license(&account.id, user_id, &product, self.now())
            .await;
        license_changed(done, user_id, &product)
    }

    pub async fn revoke_license(
        &self,
        account: &Account,
        user_id: &UserId,
        product_name: &str,
    ) -> CenterResult<()> {
        let product = product(product_name)?;
        check_edit(account, LicenseEdit::Revoke)?;
        let done = self
            .store
            .revoke_license(&account.id, user_id, &product, self.now())
            .await;
        license_changed(done, user_id, &product)
    }

    /// Move a user's license to another pool of the same product (e.g. from Advanced to
    /// Advanced Plus), keeping its state.
    pub async fn move_license(
        &self,
        account: &Account,
        user_id: &UserId,
        product_name: &str,
        to_pool_id: &PoolId,
    ) -> CenterResult<()> {
        let product = product(product_name)?;
        let pool = self
            .pools(account)
            .await?
            .into_iter()
            .find(|p| p.id == *to_pool_id)
            .ok_or_else(|| invalid("pool", format!("the account has no license pool {to_pool_id:?}")))?;
        if pool.product != product.as_str() {
            return Err(invalid(
                "pool",
                format!(
                    "{:?} is a {} pool, not {product}",
                    pool.license_type, pool.product
                ),
            ));
        }
        check_edit(account, LicenseEdit::Move)?;
        let done = self
            .store
            .move_license(&account.id, user_id, &product, to_pool_id, self.now())
            .await;
        license_changed(done, user_id, &product)
    }

    /// LinkedIn's CSV deletion tool: remove these users for good (SCIM DELETE only
    /// deactivates in LinkedIn mode). Unknown ids are a 404 before anything is removed.
    pub async fn delete_users(&self, account: &Account, ids: &[UserId]) -> CenterResult<u64> {
        if ids.is_empty() {
            return Err(invalid("ids", "name at least one user id"));
        }
        for id in ids {
            if self.store.get_user(&account.id, id).await?.is_none() {
                return Err(CenterError::NotFound(format!("User {id} not found")));
            }
        }
        let mut deleted = 0;
        for id in ids {
            if self.store.delete_user(&account.id, id, self.now()).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    pub async fn groups(&self, account: &Account) -> CenterResult<Vec<GroupView>> {
        let request = RawListParams::default()
            .parse(
                MAX_USERS_PAGE,
                crate::scim::catalog::group_schema(),
                &mut Leniency::new(ClientProfile::Strict),
            )
            .map_err(|e| invalid("filter", e.detail))?;
        let page = self.store.list_groups(&account.id, &request).await?;
        let mut groups = Vec::with_capacity(page.items.len());
        for record in page.items {
            groups.push(self.group_view(account, record).await?);
        }
        Ok(groups)
    }

    pub async fn group(&self, account: &Account, group_id: &GroupId) -> CenterResult<GroupView> {
        let record = self
            .store
            .get_group(&account.id, group_id)
            .await?
            .ok_or_else(|| CenterError::NotFound(format!("Group {group_id} not found")))?;
        self.group_view(account, record).await
    }

    async fn group_view(&self, account: &Account, record: ResourceRecord) -> CenterResult<GroupView> {
        let members = self
            .store
            .members(&account.id, &GroupId::from(record.id.as_str()))
            .await?;
        Ok(GroupView {
            display_name: record
                .doc
                .get("displayName")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            id: record.id,
            members: members.into_iter().map(MemberView::from).collect(),
        })
    }

    /// Members added directly in the Account Center: origin `admin`, so an IdP's
    /// re-push of the group (Okta's "Push Now") leaves them in place, as LinkedIn does.
    pub async fn add_members(
        &self,
        account: &Account,
        group_id: &GroupId,
        user_ids: &[UserId],
    ) -> CenterResult<u64> {
        if user_ids.is_empty() {
            return Err(invalid("members", "name at least one user id"));
        }
        self.store
            .add_members(&account.id, group_id, user_ids, MemberOrigin::Admin, self.now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => CenterError::NotFound(format!("Group {group_id} not found")),
                other => other.into(),
            })
    }

    /// Remove one member, whatever its origin.
    pub async fn remove_member(
        &self,
        account: &Account,
        group_id: &GroupId,
        user_id: &UserId,
    ) -> CenterResult<()> {
        let members = self.store.members(&account.id, group_id).await?;
        if !members.iter().any(|m| m.id == *user_id) {
            self.group(account, group_id).await?;
            return Err(CenterError::NotFound(format!(
                "User {user_id} is not a member of group {group_id}"
            )));
        }
        let remove = vec![user_id.clone()];
        self.store
            .modify_group(&account.id, group_id, self.now(), &mut |_| {
                Ok(Some(crate::store::GroupUpdate {
                    doc: None,
                    members: vec![MemberOp::Remove(remove.clone())],
                }))
            })
            .await?;
        Ok(())
    }

    pub async fn activity(
        &self,
        account: &Account,
        filter: &ActivityFilter,
    ) -> CenterResult<Vec<ActivityRecord>> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let configuration_id = match given(&filter.configuration) {
            Some(name) => Some(
                self.configurations(account)
                    .await?
                    .into_iter()
                    .find(|c| c.name == name)
                    .ok_or_else(|| invalid("configuration", format!("no SCIM configuration {name:?}")))?
                    .id,
            ),
            None => None,
        };
        let since = match given(&filter.since) {
            Some(text) => Some(
                chrono::DateTime::parse_from_rfc3339(&text)
                    .map_err(|e| {
                        invalid(
                            "since",
                            format!("use an RFC 3339 time such as 2026-01-31T09:00:00Z ({e})"),
                        )
                    })?
                    .timestamp_micros(),
            ),
            None => None,
        };
        let query = ActivityQuery {
            limit: filter.limit.unwrap_or(100).clamp(1, 1000),
            before_id: filter.before,
            status: filter.status,
            method: given(&filter.method),
            resource_id: given(&filter.resource_id),
            configuration_id,
            since,
            with_tolerances: filter.tolerances,
            after_id: filter.after,
            path_prefix: given(&filter.path),
            oldest_first: filter.oldest_first,
            with_exchange: filter.with_exchange,
        };
        Ok(self.store.activity(&account.id, &query).await?)
    }
}

/// What the account's fidelity allows an admin to do to a license.
fn check_edit(account: &Account, edit: LicenseEdit) -> CenterResult<()> {
    account
        .fidelity
        .check_license_edit(edit)
        .map_err(|refusal| CenterError::Forbidden(refusal.to_string()))
}

fn overrides(overrides: &FidelityOverrides, base: Fidelity) -> CenterResult<Fidelity> {
    if overrides.token_ttl_seconds.is_some_and(|t| t < 0) {
        return Err(invalid(
            "fidelity.token_ttl_seconds",
            "cannot be negative (0: no expiry)",
        ));
    }
    Ok(overrides.apply(base))
}

fn issued(configuration: &str, token: &BearerToken, expires_at: Option<i64>) -> IssuedToken {
    IssuedToken {
        configuration: configuration.to_owned(),
        token: token.expose().to_owned(),
        expires_at: expires_at.map(crate::clock::rfc3339),
    }
}

fn user_view(record: ResourceRecord, licenses: Vec<License>) -> UserView {
    let text = |key: &str| {
        record
            .doc
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    UserView {
        user_name: text("userName").unwrap_or_default(),
        external_id: text("externalId"),
        display_name: text("displayName"),
        active: record
            .doc
            .get("active")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true),
        id: record.id,
        licenses,
    }
}

fn license_changed(done: Result<(), StoreError>, user: &str, product: &Product) -> CenterResult<()> {
    done.map_err(|e| match e {
        StoreError::NotFound => CenterError::NotFound(format!("User {user} holds no {product} license")),
        other => other.into(),
    })
}
