//! The seed file, which declares accounts, application instances, license pools and
//! SCIM configurations with fixed tokens, and how it is applied: idempotently, so
//! re-applying it updates seat counts and tokens and creates nothing twice. The demo
//! account `serve` creates on an empty database is a seed too.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::accounts::{
    BearerToken, Fidelity, FidelityOverrides, FidelityPreset, PatchResponse, token_expiry,
};
use crate::center::LicenseRuleView;
use crate::ids::PoolId;
use crate::licensing::Product;
use crate::scim::tolerance::ClientProfile;
use crate::store::{Micros, NewConfiguration, Store, StoreError};

pub const DEMO_ACCOUNT: &str = "demo";
pub const DEMO_CONFIGURATION: &str = "Demo";

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
    /// Faults injected from start-up (see `docs/test-harness.md`).
    #[serde(default)]
    pub faults: Vec<crate::faults::FaultSpec>,
    /// A snapshot file (relative to the seed file) the account starts from while it has
    /// no users and no groups (a new or reset account).
    #[serde(default)]
    pub snapshot: Option<std::path::PathBuf>,
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
}

/// Auto-assign: the instance (by name) and license type a configuration assigns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAutoAssign {
    pub instance: String,
    pub license_type: String,
    /// License assignment rules, in order (docs/licensing.md, "License rules"):
    /// `rules = [{ filter = "…", license_type = "…" }]`.
    #[serde(default)]
    pub rules: Vec<SeedRule>,
}

/// One license assignment rule: users matching `filter` get `license_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRule {
    pub filter: String,
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
    #[error("seed file: {0}")]
    Invalid(String),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

impl Seed {
    pub fn from_file(path: &Path) -> Result<Seed, SeedError> {
        let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut seed: Seed = toml::from_str(&text).map_err(|source| SeedError::Parse {
            path: path.display().to_string(),
            source: Box::new(source),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        for snapshot in seed.accounts.iter_mut().filter_map(|a| a.snapshot.as_mut()) {
            *snapshot = dir.join(&*snapshot);
        }
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

/// Apply the seed: accounts, instances, pools and configurations with fixed tokens,
/// idempotently (re-applying it updates seat counts and tokens, creates nothing twice).
pub async fn apply_seed(store: &dyn Store, seed: &Seed, now: Micros) -> Result<(), SeedError> {
    for account in &seed.accounts {
        let fidelity = account.fidelity();
        let stored = store.ensure_account(&account.name, fidelity.clone(), now).await?;
        let mut pools: HashMap<(&str, &str), PoolId> = HashMap::new();
        for instance in &account.instances {
            let created = store
                .put_instance(&stored.id, &instance.product, &instance.name, now)
                .await?;
            for pool in &instance.pools {
                let usage = store
                    .put_pool(&stored.id, &created.id, &pool.license_type, pool.seats, now)
                    .await?;
                pools.insert((&instance.name, &pool.license_type), usage.id);
            }
        }
        for config in &account.configurations {
            let token =
                BearerToken::parse(&config.token).ok_or_else(|| SeedError::Token(config.name.clone()))?;
            let pool_id = config
                .auto_assign
                .as_ref()
                .and_then(|a| pools.get(&(a.instance.as_str(), a.license_type.as_str())));
            store
                .put_configuration(
                    NewConfiguration {
                        account_id: &stored.id,
                        name: &config.name,
                        client_profile: config.client_profile,
                        token_hash: &token.hash(),
                        token_expires_at: token_expiry(&fidelity, now),
                        auto_assign_pool_id: pool_id,
                        patch_response: config.patch_response,
                    },
                    now,
                )
                .await?;
            if let Some(auto) = &config.auto_assign {
                let views: Vec<LicenseRuleView> = auto
                    .rules
                    .iter()
                    .map(|r| LicenseRuleView {
                        filter: r.filter.clone(),
                        license_type: r.license_type.clone(),
                    })
                    .collect();
                let rules = super::rules::resolve(&views, |license_type| {
                    pools.get(&(auto.instance.as_str(), license_type)).cloned()
                })
                .map_err(|e| SeedError::Invalid(format!("configuration {:?}: {e}", config.name)))?;
                store.set_license_rules(&stored.id, &config.name, &rules).await?;
            }
        }
    }
    Ok(())
}

/// What start-up did about the demo account, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DemoToken {
    /// A new token, to print once.
    Generated(String),
    /// The token fixed by `--demo-token`.
    Fixed,
    /// The database already had accounts and no token was fixed.
    Existing,
}

/// The demo account `serve` creates on an empty database: a Sales Navigator instance
/// (Advanced Plus, 10 seats; TeamLink Extend, 5 seats), a Learning instance (LinkedIn
/// Learning, 10 seats) and one SCIM configuration auto-assigning Advanced Plus.
fn demo_seed(profile: FidelityPreset, client_profile: ClientProfile, token: &BearerToken) -> Seed {
    let pool = |license_type: &str, seats| SeedPool {
        license_type: license_type.to_owned(),
        seats,
    };
    let sales_navigator = "Demo Sales Navigator";
    Seed {
        accounts: vec![SeedAccount {
            name: DEMO_ACCOUNT.to_owned(),
            profile,
            fidelity: Default::default(),
            faults: Vec::new(),
            snapshot: None,
            instances: vec![
                SeedInstance {
                    name: sales_navigator.to_owned(),
                    product: Product::sales_navigator(),
                    pools: vec![pool("Advanced Plus", 10), pool("TeamLink Extend", 5)],
                },
                SeedInstance {
                    name: "Demo Learning".to_owned(),
                    product: Product::learning(),
                    pools: vec![pool("LinkedIn Learning", 10)],
                },
            ],
            configurations: vec![SeedConfiguration {
                name: DEMO_CONFIGURATION.to_owned(),
                token: token.expose().to_owned(),
                client_profile,
                auto_assign: Some(SeedAutoAssign {
                    instance: sales_navigator.to_owned(),
                    license_type: "Advanced Plus".to_owned(),
                    rules: Vec::new(),
                }),
                patch_response: Default::default(),
            }],
        }],
    }
}

/// Create the demo account (with `profile`, its configuration with `client_profile`) on
/// an empty database, or pin its token to `fixed` (`--demo-token`).
pub async fn ensure_demo(
    store: &dyn Store,
    fixed: Option<BearerToken>,
    profile: FidelityPreset,
    client_profile: ClientProfile,
    now: Micros,
) -> Result<DemoToken, SeedError> {
    let (token, outcome) = match fixed {
        Some(token) => (token, DemoToken::Fixed),
        None if store.count_accounts().await? == 0 => {
            let token = BearerToken::generate();
            let shown = token.expose().to_owned();
            (token, DemoToken::Generated(shown))
        }
        None => return Ok(DemoToken::Existing),
    };
    apply_seed(store, &demo_seed(profile, client_profile, &token), now).await?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Seed, SeedError> {
        let file = tempfile::NamedTempFile::new().expect("temporary file");
        std::fs::write(file.path(), text).expect("write seed");
        Seed::from_file(file.path())
    }

    #[test]
    fn the_demo_seed_is_valid_and_auto_assigns_a_declared_pool() {
        let token = BearerToken::generate();
        let seed = demo_seed(FidelityPreset::Rfc, ClientProfile::Lenient, &token);
        let account = &seed.accounts[0];
        assert_eq!(account.name, DEMO_ACCOUNT);
        assert_eq!(account.fidelity(), FidelityPreset::Rfc.settings());
        let auto = account.configurations[0]
            .auto_assign
            .as_ref()
            .map(|a| a.instance.as_str());
        assert!(account.instances.iter().any(|i| Some(i.name.as_str()) == auto));
    }

    #[test]
    fn a_seed_naming_an_undeclared_pool_is_refused() {
        let refused = parse(
            r#"
            [[accounts]]
            name = "acme"
            [[accounts.configurations]]
            name = "Okta"
            token = "acme-okta-token"
            auto_assign = { instance = "Nowhere", license_type = "Advanced Plus" }
            "#,
        );
        assert!(matches!(refused, Err(SeedError::UnknownPool { .. })));
    }

    #[test]
    fn a_seed_with_a_bad_token_or_negative_seats_is_refused() {
        let token = parse(
            r#"
            [[accounts]]
            name = "acme"
            [[accounts.configurations]]
            name = "Okta"
            token = "short"
            "#,
        );
        assert!(matches!(token, Err(SeedError::Token(name)) if name == "Okta"));
        let seats = parse(
            r#"
            [[accounts]]
            name = "acme"
            [[accounts.instances]]
            name = "Acme Sales Navigator"
            product = "sales_navigator"
            pools = [{ license_type = "Advanced Plus", seats = -1 }]
            "#,
        );
        assert!(matches!(seats, Err(SeedError::Seats(_))));
    }
}
