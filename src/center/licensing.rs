//! Licensing: application instances, their license pools and seats, and what an admin
//! does to one user's license (activate, revoke, move to another pool).

use serde::{Deserialize, Serialize};

use super::{Center, CenterError, CenterResult, invalid, name};
use crate::accounts::Account;
use crate::accounts::fidelity::AdminLicenseEdit;
use crate::clock::rfc3339;
use crate::ids::{PoolId, UserId};
use crate::licensing::Product;
use crate::store::{Instance, PoolUsage, QueuePlace, StoreError};

/// A new license pool in an instance.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewPool {
    pub instance: String,
    pub license_type: String,
    pub seats: i64,
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
    /// Users waiting for a seat (they hold none), in the pool's first-come-first-served
    /// queue: never beside a free seat.
    pub waiting: i64,
    pub free: i64,
    /// The head of the queue: who gets the next freed seat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_in_line: Option<NextInLine>,
}

/// The longest-waiting user of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NextInLine {
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub user_name: String,
    /// RFC 3339: when the user joined the queue.
    pub waiting_since: String,
}

impl PoolView {
    fn new(usage: PoolUsage, assigned: i64, activated: i64, queue: &[QueuePlace]) -> PoolView {
        let next_in_line = queue
            .iter()
            .find(|place| place.pool_id == usage.id && place.position == 1)
            .map(|head| NextInLine {
                user_id: head.user_id.clone(),
                user_name: head.user_name.clone(),
                waiting_since: rfc3339(head.requested_at),
            });
        PoolView {
            next_in_line,
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
        }
    }
}

fn product(text: &str) -> CenterResult<Product> {
    Product::try_from(text.trim().to_owned()).map_err(|e| invalid("product", e))
}

/// What the account's fidelity allows an admin to do to a license.
fn check_edit(account: &Account, edit: AdminLicenseEdit) -> CenterResult<()> {
    account
        .fidelity
        .check_license_edit(edit)
        .map_err(|refusal| CenterError::Forbidden(refusal.to_string()))
}

fn license_changed(done: Result<(), StoreError>, user: &str, product: &Product) -> CenterResult<()> {
    done.map_err(|e| match e {
        StoreError::NotFound => CenterError::NotFound(format!("User {user} holds no {product} license")),
        other => other.into(),
    })
}

impl Center {
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
        let queue = self.store.queue(&account.id).await?;
        Ok(usage
            .into_iter()
            .map(|usage| {
                let (assigned, activated) = states
                    .iter()
                    .find(|s| s.pool_id == usage.id)
                    .map_or((0, 0), |s| (s.assigned, s.activated));
                PoolView::new(usage, assigned, activated, &queue)
            })
            .collect())
    }

    /// Every waiting license with its pool, each pool's in queue order.
    pub async fn queue(&self, account: &Account) -> CenterResult<Vec<(PoolUsage, QueuePlace)>> {
        let pools = self.store.pools(&account.id).await?;
        let queue = self.store.queue(&account.id).await?;
        Ok(pools
            .iter()
            .flat_map(|pool| {
                queue
                    .iter()
                    .filter(|place| place.pool_id == pool.id)
                    .map(|place| (pool.clone(), place.clone()))
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
            .create_pool(&account.id, &instance.id, &license_type, new.seats, self.now())
            .await?;
        self.pool(account, &id).await
    }

    /// Change a pool's seats (seats added go to its queue at once); `Conflict` when more
    /// seats are in use.
    pub async fn update_pool(
        &self,
        account: &Account,
        pool_id: &PoolId,
        seats: Option<i64>,
    ) -> CenterResult<PoolView> {
        if seats.is_some_and(|s| s < 0) {
            return Err(invalid("seats", "cannot be negative"));
        }
        self.store
            .set_pool(&account.id, pool_id, seats, self.now())
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

    /// The user accepts its license: `assigned` → `activated` (the user's own act on
    /// LinkedIn, so allowed while SCIM manages the user).
    pub async fn activate_license(
        &self,
        account: &Account,
        user_id: &UserId,
        product_name: &str,
    ) -> CenterResult<()> {
        let product = product(product_name)?;
        check_edit(account, AdminLicenseEdit::Activate)?;
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
        check_edit(account, AdminLicenseEdit::Revoke)?;
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
        check_edit(account, AdminLicenseEdit::Move)?;
        let done = self
            .store
            .move_license(&account.id, user_id, &product, to_pool_id, self.now())
            .await;
        license_changed(done, user_id, &product)
    }
}
