//! SCIM configurations: what an IdP connects with. Each has a bearer token (shown once,
//! stored only as a hash), an optional auto-assign pool and an optional rate limit.

use serde::{Deserialize, Serialize};

use super::{Center, CenterError, CenterResult, invalid, name};
use crate::accounts::token_expiry;
use crate::accounts::{Account, BearerToken, PatchResponse, RateLimit};
use crate::scim::tolerance::ClientProfile;
use crate::store::{ConfigurationState, NewConfiguration};

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

/// A token just issued: shown once, stored only as a hash.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    pub configuration: String,
    pub token: String,
    /// RFC 3339, or absent when the account's tokens do not expire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
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

fn issued(configuration: &str, token: &BearerToken, expires_at: Option<i64>) -> IssuedToken {
    IssuedToken {
        configuration: configuration.to_owned(),
        token: token.expose().to_owned(),
        expires_at: expires_at.map(crate::clock::rfc3339),
    }
}

impl Center {
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
}
