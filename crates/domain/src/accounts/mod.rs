//! Accounts (tenants), their SCIM configurations and tokens. The fidelity profile and
//! its decisions live in `fidelity`, the seed file and how it is applied in `seed`.

pub mod fidelity;
pub mod lookup;
pub mod token;

use serde::{Deserialize, Serialize};

use crate::ids::PoolId;
pub use crate::ids::{AccountId, ConfigurationId};
use crate::licensing::Product;
use crate::licensing::assignment::LicenseRule;
pub use fidelity::{Fidelity, FidelityOverrides, FidelityPreset, TWO_YEARS_SECONDS, UserDelete};
use scim::tolerance::ClientProfile;
pub use token::{
    BearerToken, RevokedToken, StoredToken, TokenHash, TokenRejection, WeakAdminToken, admit, token_expiry,
};

/// One LinkedIn enterprise customer: the tenant every SCIM resource belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub fidelity: Fidelity,
}

/// A SCIM configuration as created in the Account Center: it owns one bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimConfiguration {
    pub id: ConfigurationId,
    pub account_id: AccountId,
    pub name: String,
    pub client_profile: ClientProfile,
    /// With auto-assign on: the pool (instance + license type) it assigns from.
    pub auto_assign: Option<AutoAssign>,
    pub patch_response: PatchResponse,
}

/// Throttling of one SCIM configuration (LinkedIn answers 429 when a client sends too
/// fast): `requests_per_minute` sustained, up to `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub requests_per_minute: u32,
    pub burst: u32,
}

/// What a successful PATCH answers (RFC 7644 §3.5.2 allows either). Stored and seeded
/// by the same snake_case names (strum for the store, serde for the seed file).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    Default,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PatchResponse {
    /// 200 with the resource, honouring `attributes`/`excludedAttributes`.
    #[default]
    Resource,
    /// 204 No Content (Entra: "returning all members isn't advisable" for groups).
    NoContent,
}

impl PatchResponse {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<PatchResponse> {
        s.parse().ok()
    }
}

/// The pool a configuration auto-assigns, and the product it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoAssign {
    pub pool_id: PoolId,
    pub product: Product,
    /// License assignment rules, in order; `pool_id` is their fallback.
    pub rules: std::sync::Arc<[LicenseRule]>,
}

/// What an authenticated request acts as.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub account: Account,
    pub configuration: ScimConfiguration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_responses_have_one_name_in_the_store_and_the_seed_file() {
        for response in [PatchResponse::Resource, PatchResponse::NoContent] {
            let serde = serde_json::to_value(response).ok();
            assert_eq!(serde.as_ref().and_then(|v| v.as_str()), Some(response.as_str()));
            assert_eq!(PatchResponse::parse(response.as_str()), Some(response));
        }
        assert_eq!(PatchResponse::parse("NoContent"), None);
    }
}
