//! Accounts (tenants), their SCIM configurations and tokens, the per-account LinkedIn
//! fidelity profile, and the seed file that declares them.

pub mod token;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::ids::PoolId;
pub use crate::ids::{AccountId, ConfigurationId};
use crate::licensing::{Product, WhenFull};
use crate::scim::tolerance::ClientProfile;
pub use token::{BearerToken, StoredToken, TokenHash, TokenRejection, admit, token_expiry};

/// Which behaviours an account emulates: LinkedIn's documented quirks, or plain RFC 7644
/// (what conformance suites expect). See `docs/fidelity.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FidelityPreset {
    #[default]
    Linkedin,
    Rfc,
}

/// What `DELETE /Users/{id}` does. LinkedIn does not hard-delete over SCIM: deprovisioning
/// is `active: false`, which keeps the user and its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserDelete {
    /// Answer 204 and set `active: false` (LinkedIn preset).
    Deactivate,
    /// Answer 501 (RFC 7644 §3.12: operation not supported) with a detail saying users
    /// are deprovisioned with `active: false` (LinkedIn Learning: "Delete users: No").
    Refuse,
    /// Remove the user (RFC preset).
    Delete,
}

/// Two years: how long LinkedIn's Sales Navigator SCIM tokens are valid.
pub const TWO_YEARS_SECONDS: i64 = 2 * 365 * 24 * 60 * 60;

/// The per-account LinkedIn fidelity settings (`docs/fidelity.md` documents each one
/// and both presets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fidelity {
    pub user_delete: UserDelete,
    /// Products whose configurations may not list users without a filter: LinkedIn's
    /// Sales Navigator SCIM serves no user list (SaaS managers look users up one by one).
    pub unfiltered_list_refused: Vec<Product>,
    /// A full pool: record the user as waiting, or refuse the write.
    pub when_pool_full: WhenFull,
    /// Lifetime of a generated or seeded token, in seconds; `None`: no expiry.
    pub token_ttl_seconds: Option<i64>,
    /// Admin edits of licenses of SCIM-managed users are refused: once SCIM is on, the
    /// IdP is the source of truth.
    pub lock_admin_edits: bool,
}

impl FidelityPreset {
    pub fn settings(self) -> Fidelity {
        match self {
            FidelityPreset::Linkedin => Fidelity {
                user_delete: UserDelete::Deactivate,
                unfiltered_list_refused: vec![Product::sales_navigator()],
                when_pool_full: WhenFull::Wait,
                token_ttl_seconds: Some(TWO_YEARS_SECONDS),
                lock_admin_edits: true,
            },
            FidelityPreset::Rfc => Fidelity {
                user_delete: UserDelete::Delete,
                unfiltered_list_refused: Vec::new(),
                when_pool_full: WhenFull::Wait,
                token_ttl_seconds: None,
                lock_admin_edits: false,
            },
        }
    }
}

/// Seed-file overrides of single fidelity settings on top of the preset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FidelityOverrides {
    pub user_delete: Option<UserDelete>,
    pub unfiltered_list_refused: Option<Vec<Product>>,
    pub when_pool_full: Option<WhenFull>,
    /// 0 means "no expiry".
    pub token_ttl_seconds: Option<i64>,
    pub lock_admin_edits: Option<bool>,
}

impl FidelityOverrides {
    pub fn apply(&self, mut fidelity: Fidelity) -> Fidelity {
        if let Some(v) = self.user_delete {
            fidelity.user_delete = v;
        }
        if let Some(v) = &self.unfiltered_list_refused {
            fidelity.unfiltered_list_refused = v.clone();
        }
        if let Some(v) = self.when_pool_full {
            fidelity.when_pool_full = v;
        }
        if let Some(v) = self.token_ttl_seconds {
            fidelity.token_ttl_seconds = (v > 0).then_some(v);
        }
        if let Some(v) = self.lock_admin_edits {
            fidelity.lock_admin_edits = v;
        }
        fidelity
    }
}

impl FidelityPreset {
    pub fn as_str(self) -> &'static str {
        match self {
            FidelityPreset::Linkedin => "linkedin",
            FidelityPreset::Rfc => "rfc",
        }
    }
}

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

/// What a successful PATCH answers (RFC 7644 §3.5.2 allows either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PatchResponse {
    /// 200 with the resource, honouring `attributes`/`excludedAttributes`.
    #[default]
    Resource,
    /// 204 No Content (Entra: "returning all members isn't advisable" for groups).
    NoContent,
}

impl PatchResponse {
    pub fn as_str(self) -> &'static str {
        match self {
            PatchResponse::Resource => "resource",
            PatchResponse::NoContent => "no_content",
        }
    }

    pub fn parse(s: &str) -> Option<PatchResponse> {
        match s {
            "resource" => Some(PatchResponse::Resource),
            "no_content" => Some(PatchResponse::NoContent),
            _ => None,
        }
    }
}

/// The pool a configuration auto-assigns, and the product it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoAssign {
    pub pool_id: PoolId,
    pub product: Product,
}

/// What an authenticated request acts as.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub account: Account,
    pub configuration: ScimConfiguration,
}

/// The seed file: accounts and configurations with fixed tokens, applied idempotently.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub accounts: Vec<SeedAccount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    /// Unique short name, e.g. `acme`.
    pub name: String,
    #[serde(default)]
    pub profile: FidelityPreset,
    /// Single settings overriding the preset.
    #[serde(default)]
    pub fidelity: FidelityOverrides,
    #[serde(default)]
    pub instances: Vec<SeedInstance>,
    #[serde(default)]
    pub configurations: Vec<SeedConfiguration>,
}

impl SeedAccount {
    pub fn fidelity(&self) -> Fidelity {
        self.fidelity.apply(self.profile.settings())
    }
}

/// An application instance (one product contract) and its license pools.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedInstance {
    /// Unique within the account, e.g. `Acme Sales Navigator`.
    pub name: String,
    pub product: Product,
    #[serde(default)]
    pub pools: Vec<SeedPool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedPool {
    /// e.g. `Advanced Plus`, `TeamLink Extend`, `LinkedIn Learning`.
    pub license_type: String,
    pub seats: i64,
    /// Promote waiting users first come, first served when a seat frees up.
    #[serde(default)]
    pub promote_waiting: bool,
}

/// Auto-assign: the instance (by name) and license type a configuration assigns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAutoAssign {
    pub instance: String,
    pub license_type: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedConfiguration {
    /// Unique within the account, e.g. `Okta`.
    pub name: String,
    /// The fixed bearer token (stored only as its hash).
    pub token: String,
    #[serde(default)]
    pub client_profile: ClientProfile,
    /// Absent: auto-assign off (user data only).
    pub auto_assign: Option<SeedAutoAssign>,
    /// `resource` (200 with the resource, default) or `no_content` (204).
    #[serde(default)]
    pub patch_response: PatchResponse,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read seed file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("invalid seed file {path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("invalid token for configuration {0:?}: use 8-512 printable ASCII characters")]
    Token(String),
    #[error(
        "configuration {config:?} auto-assigns {instance:?} / {license_type:?}, which the account does not declare"
    )]
    UnknownPool {
        config: String,
        instance: String,
        license_type: String,
    },
    #[error("pool {0:?} has a negative seat count")]
    Seats(String),
}

impl Seed {
    pub fn from_file(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let seed: Seed = toml::from_str(&text).map_err(|source| SeedError::Parse {
            path: path.display().to_string(),
            source: Box::new(source),
        })?;
        for account in &seed.accounts {
            for pool in account.instances.iter().flat_map(|i| &i.pools) {
                if pool.seats < 0 {
                    return Err(SeedError::Seats(pool.license_type.clone()));
                }
            }
            for config in &account.configurations {
                if BearerToken::parse(&config.token).is_none() {
                    return Err(SeedError::Token(config.name.clone()));
                }
                if let Some(auto) = &config.auto_assign {
                    let declared = account.instances.iter().any(|i| {
                        i.name == auto.instance && i.pools.iter().any(|p| p.license_type == auto.license_type)
                    });
                    if !declared {
                        return Err(SeedError::UnknownPool {
                            config: config.name.clone(),
                            instance: auto.instance.clone(),
                            license_type: auto.license_type.clone(),
                        });
                    }
                }
            }
        }
        Ok(seed)
    }
}
