//! linkedin-scim: a SCIM 2.0 service provider that behaves like LinkedIn's enterprise
//! provisioning API. `Application::build` wires settings, store and clock into the HTTP
//! router; `main.rs` and the integration tests both start the server through it.

pub mod accounts;
pub mod activity;
pub mod clock;
pub mod config;
pub mod http;
pub mod ids;
pub mod licensing;
pub mod membership;
pub mod scim;
pub mod store;
pub mod telemetry;

use std::sync::Arc;

use tokio::net::TcpListener;

use std::collections::HashMap;

pub use accounts::token_expiry;
use accounts::{
    BearerToken, FidelityPreset, Seed, SeedAccount, SeedAutoAssign, SeedConfiguration, SeedError,
    SeedInstance, SeedPool,
};
use clock::Clock;
use config::Settings;
use licensing::{PoolId, Product};
use store::{NewConfiguration, Store, StoreError};

pub const DEMO_ACCOUNT: &str = "demo";
pub const DEMO_CONFIGURATION: &str = "Demo";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seed(#[from] SeedError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("--demo-token: use 8-512 printable ASCII characters")]
    DemoToken,
    #[error("--admin-token: use 8-512 printable ASCII characters")]
    AdminToken,
    #[error("server: {0}")]
    Serve(std::io::Error),
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

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    pub store: Arc<dyn Store>,
    pub demo: DemoToken,
    /// The admin API token when it was generated at this start (to print once).
    pub generated_admin_token: Option<String>,
}

/// Apply the seed file: accounts, instances, pools and configurations with fixed tokens,
/// idempotently (re-applying it updates seat counts and tokens, creates nothing twice).
pub async fn apply_seed(store: &dyn Store, seed: &Seed, now: i64) -> Result<(), StartupError> {
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
                    .put_pool(
                        &stored.id,
                        &created.id,
                        &pool.license_type,
                        pool.seats,
                        pool.promote_waiting,
                        now,
                    )
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
        }
    }
    Ok(())
}

/// The demo account `serve` creates on an empty database: a Sales Navigator instance
/// (Advanced Plus, 10 seats; TeamLink Extend, 5 seats), a Learning instance (LinkedIn
/// Learning, 10 seats) and one SCIM configuration auto-assigning Advanced Plus.
fn demo_seed(profile: FidelityPreset, token: &BearerToken) -> Seed {
    let pool = |license_type: &str, seats| SeedPool {
        license_type: license_type.to_owned(),
        seats,
        promote_waiting: false,
    };
    let sales_navigator = "Demo Sales Navigator";
    Seed {
        accounts: vec![SeedAccount {
            name: DEMO_ACCOUNT.to_owned(),
            profile,
            fidelity: Default::default(),
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
                client_profile: Default::default(),
                auto_assign: Some(SeedAutoAssign {
                    instance: sales_navigator.to_owned(),
                    license_type: "Advanced Plus".to_owned(),
                }),
                patch_response: Default::default(),
            }],
        }],
    }
}

/// Create the demo account on an empty database, or pin its token to `--demo-token`.
async fn ensure_demo(store: &dyn Store, settings: &Settings, now: i64) -> Result<DemoToken, StartupError> {
    let (token, outcome) = match &settings.demo_token {
        Some(fixed) => {
            use secrecy::ExposeSecret;
            let token = BearerToken::parse(fixed.expose_secret()).ok_or(StartupError::DemoToken)?;
            (token, DemoToken::Fixed)
        }
        None if store.count_accounts().await? == 0 => {
            let token = BearerToken::generate();
            let shown = token.expose().to_owned();
            (token, DemoToken::Generated(shown))
        }
        None => return Ok(DemoToken::Existing),
    };
    apply_seed(store, &demo_seed(settings.profile, &token), now).await?;
    Ok(outcome)
}

impl Application {
    /// Connect and migrate the database, apply the seed, ensure the demo account, bind.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Application, StartupError> {
        let store = store::connect(&settings.database_url).await?;
        let now = clock.now_micros();
        if let Some(path) = &settings.seed {
            apply_seed(store.as_ref(), &Seed::from_file(path)?, now).await?;
        }
        let demo = ensure_demo(store.as_ref(), &settings, now).await?;
        let (admin_token, generated_admin_token) = match &settings.admin_token {
            Some(fixed) => {
                use secrecy::ExposeSecret;
                let token = BearerToken::parse(fixed.expose_secret()).ok_or(StartupError::AdminToken)?;
                (token, None)
            }
            None => {
                let token = BearerToken::generate();
                let shown = token.expose().to_owned();
                (token, Some(shown))
            }
        };
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|source| StartupError::Bind {
                addr: settings.bind.to_string(),
                source,
            })?;
        let state = http::AppState {
            store: store.clone(),
            clock,
            settings: Arc::new(settings),
            admin_token: Arc::new(admin_token.hash()),
            activity: activity::ActivityWriter::start(store.clone()),
        };
        Ok(Application {
            listener,
            router: http::router(state),
            store,
            demo,
            generated_admin_token,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Serve until Ctrl-C or SIGTERM, finishing in-flight requests.
    pub async fn run(self) -> Result<(), StartupError> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(StartupError::Serve)
    }

    /// Serve until the process ends (tests).
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        axum::serve(self.listener, self.router)
            .await
            .map_err(StartupError::Serve)
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
