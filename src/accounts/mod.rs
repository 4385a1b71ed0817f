//! Accounts (tenants), their SCIM configurations and tokens, the per-account LinkedIn
//! fidelity profile, and the seed file that declares them.

pub mod token;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::scim::tolerance::ClientProfile;
pub use token::{BearerToken, TokenHash};

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

/// The per-account LinkedIn fidelity settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fidelity {
    pub user_delete: UserDelete,
}

impl FidelityPreset {
    pub fn settings(self) -> Fidelity {
        match self {
            FidelityPreset::Linkedin => Fidelity {
                user_delete: UserDelete::Deactivate,
            },
            FidelityPreset::Rfc => Fidelity {
                user_delete: UserDelete::Delete,
            },
        }
    }
}

/// One LinkedIn enterprise customer: the tenant every SCIM resource belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub name: String,
    pub fidelity: Fidelity,
}

/// A SCIM configuration as created in the Account Center: it owns one bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimConfiguration {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub client_profile: ClientProfile,
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
    #[serde(default)]
    pub configurations: Vec<SeedConfiguration>,
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
            for config in &account.configurations {
                if BearerToken::parse(&config.token).is_none() {
                    return Err(SeedError::Token(config.name.clone()));
                }
            }
        }
        Ok(seed)
    }
}
