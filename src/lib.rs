//! linkedin-scim: a SCIM 2.0 service provider that behaves like LinkedIn's enterprise
//! provisioning API. `Application::build` wires settings, store and clock into the HTTP
//! router; `main.rs` and the integration tests both start the server through it.

pub mod accounts;
pub mod clock;
pub mod config;
pub mod http;
pub mod scim;
pub mod store;
pub mod telemetry;

use std::sync::Arc;

use tokio::net::TcpListener;

use accounts::{BearerToken, Seed, SeedError};
use clock::Clock;
use config::Settings;
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
}

/// Apply the seed file: accounts and configurations with fixed tokens, idempotently.
pub async fn apply_seed(store: &dyn Store, seed: &Seed, now: i64) -> Result<(), StartupError> {
    for account in &seed.accounts {
        let stored = store
            .ensure_account(&account.name, account.profile.settings(), now)
            .await?;
        for config in &account.configurations {
            let token =
                BearerToken::parse(&config.token).ok_or_else(|| SeedError::Token(config.name.clone()))?;
            store
                .put_configuration(
                    NewConfiguration {
                        account_id: &stored.id,
                        name: &config.name,
                        client_profile: config.client_profile,
                        token_hash: &token.hash(),
                        token_expires_at: None,
                    },
                    now,
                )
                .await?;
        }
    }
    Ok(())
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
    let account = store
        .ensure_account(DEMO_ACCOUNT, settings.profile.settings(), now)
        .await?;
    store
        .put_configuration(
            NewConfiguration {
                account_id: &account.id,
                name: DEMO_CONFIGURATION,
                client_profile: Default::default(),
                token_hash: &token.hash(),
                token_expires_at: None,
            },
            now,
        )
        .await?;
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
        };
        Ok(Application {
            listener,
            router: http::router(state),
            store,
            demo,
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
