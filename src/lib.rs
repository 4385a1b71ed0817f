//! linkedin-scim: a SCIM 2.0 service provider that behaves like LinkedIn's enterprise
//! provisioning API. `Application::build` wires settings, store and clock into the HTTP
//! router; `main.rs` and the integration tests both start the server through it.

pub mod center;
pub mod cli;
pub mod config;
mod http;
mod server;
pub mod tasks;
pub mod telemetry;

// The lower layers under the paths they had before the workspace split.
pub use domain::{
    accounts, activity, clock, faults, ids, journal, licensing, membership, provisioning, snapshot,
};
pub use scim;
pub use store;

use std::sync::Arc;

use tokio::net::TcpListener;

use accounts::BearerToken;
use center::seed::{DemoToken, Seed, SeedError, apply_seed, ensure_demo};
use clock::Clock;
use config::Settings;
use secrecy::{ExposeSecret, SecretString};
use store::{Store, StoreError};

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
    #[error("--admin-token (LINKEDIN_SCIM_ADMIN_TOKEN): {0}")]
    AdminToken(#[from] accounts::WeakAdminToken),
    #[error("{0}")]
    Tls(String),
}

/// A bound, ready-to-run server.
pub struct Application {
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: server::Limits,
    router: axum::Router,
    /// The activity writer, which ends once the router (every queue sender) is dropped.
    activity_task: tokio::task::JoinHandle<()>,
    /// Prunes the journal to its retention until the server stops.
    pruning_task: tokio::task::JoinHandle<()>,
    pub store: Arc<dyn Store>,
    pub demo: DemoToken,
    /// The admin API token when it was generated at this start (to print once).
    pub generated_admin_token: Option<String>,
}

impl Application {
    /// Connect and migrate the database, apply the seed, ensure the demo account, bind.
    pub async fn build(settings: Settings, clock: Arc<dyn Clock>) -> Result<Application, StartupError> {
        // Before the database: a refused start leaves nothing behind.
        let chosen_admin = settings
            .admin_token
            .as_ref()
            .map(|t| BearerToken::parse_admin(t.expose_secret()))
            .transpose()?;
        let store = store::connect_with(
            &settings.database_url,
            std::time::Duration::from_millis(settings.database_acquire_timeout_ms),
        )
        .await?;
        let now = clock.now_micros();
        let faults = Arc::new(faults::Faults::default());
        if let Some(path) = &settings.seed {
            let seed = Seed::from_file(path)?;
            apply_seed(store.as_ref(), &seed, now).await?;
            apply_harness_seed(&store, &clock, &faults, &seed, now).await?;
        }
        let fixed_demo = fixed_token(settings.demo_token.as_ref(), StartupError::DemoToken)?;
        let demo = ensure_demo(
            store.as_ref(),
            fixed_demo,
            settings.profile,
            settings.demo_client_profile,
            now,
        )
        .await?;
        let (admin_token, generated_admin_token) = match chosen_admin {
            Some(token) => (token, None),
            None => {
                let token = BearerToken::generate();
                let shown = token.expose().to_owned();
                (token, Some(shown))
            }
        };
        let tls = server::tls_acceptor(settings.tls_cert.as_deref(), settings.tls_key.as_deref())
            .map_err(|e| StartupError::Tls(e.to_string()))?;
        let limits = server::Limits::from_settings(&settings);
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|source| StartupError::Bind {
                addr: settings.bind.to_string(),
                source,
            })?;
        let (activity, activity_task) =
            tasks::ActivityWriter::start(store.clone(), settings.journal_queue_capacity);
        let pruning_task = tasks::start_pruning(store.clone(), clock.clone(), settings.journal_retention());
        let state = http::AppState::new(http::Handles {
            store: store.clone(),
            clock,
            settings: Arc::new(settings),
            admin_token: Arc::new(admin_token.hash()),
            activity,
            throttle: Default::default(),
            auth_failures: Default::default(),
            faults,
        });
        Ok(Application {
            listener,
            tls,
            limits,
            router: http::router(state),
            activity_task,
            pruning_task,
            store,
            demo,
            generated_admin_token,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// `https` when TLS is configured, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    /// Serve until Ctrl-C or SIGTERM, finishing in-flight requests and writing the
    /// queued activity records.
    pub async fn run(self) -> Result<(), StartupError> {
        self.run_until(shutdown_signal()).await
    }

    /// Serve until the process ends (tests).
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.run_until(std::future::pending()).await
    }

    /// Serve until `shutdown` completes, then finish in-flight requests and write the
    /// activity records still queued (for at most [`ACTIVITY_FLUSH`]).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        server::serve(self.listener, self.tls, self.router, self.limits, shutdown).await;
        self.pruning_task.abort();
        if tokio::time::timeout(ACTIVITY_FLUSH, self.activity_task)
            .await
            .is_err()
        {
            tracing::warn!("activity records still queued at shutdown were not all written");
        }
        Ok(())
    }
}

/// How long a graceful shutdown waits for the activity log to be written.
pub const ACTIVITY_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

/// What a seed file declares for the test harness: the snapshot an account starts from
/// (restored while the account has no users and no groups) and the faults it sets.
async fn apply_harness_seed(
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    faults: &faults::Faults,
    seed: &Seed,
    now: i64,
) -> Result<(), StartupError> {
    let center = center::Center::new(store.clone(), clock.clone());
    for declared in &seed.accounts {
        if declared.faults.is_empty() && declared.snapshot.is_none() {
            continue;
        }
        let account = center
            .account(&declared.name)
            .await
            .map_err(|e| SeedError::Invalid(format!("account {:?}: {e}", declared.name)))?;
        if let Some(path) = &declared.snapshot {
            restore_seed_snapshot(store.as_ref(), &account, path, now).await?;
        }
        for spec in &declared.faults {
            faults
                .add(account.id.clone(), spec.clone(), now)
                .map_err(|e| SeedError::Invalid(format!("account {:?}: fault: {e}", declared.name)))?;
        }
    }
    Ok(())
}

/// Restore the snapshot file `path` into `account` when it has no users and no groups.
async fn restore_seed_snapshot(
    store: &dyn Store,
    account: &accounts::Account,
    path: &std::path::Path,
    now: i64,
) -> Result<(), StartupError> {
    let invalid = |e: String| SeedError::Invalid(format!("snapshot {}: {e}", path.display()));
    let current = store.export_snapshot(account, false).await?;
    let empty = ["users", "groups"]
        .iter()
        .all(|t| current.tables.get(*t).is_none_or(Vec::is_empty));
    if !empty {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(|e| invalid(e.to_string()))?;
    let snapshot: snapshot::Snapshot = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let snapshot = snapshot.validated().map_err(invalid)?;
    store.restore_snapshot(account, &snapshot, now).await?;
    Ok(())
}

/// A token fixed on the command line, or `invalid` when it is not a valid token.
fn fixed_token(
    fixed: Option<&SecretString>,
    invalid: StartupError,
) -> Result<Option<BearerToken>, StartupError> {
    fixed
        .map(|t| BearerToken::parse(t.expose_secret()).ok_or(invalid))
        .transpose()
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
