//! Settings: built-in defaults < `config/default.toml` (or `--config FILE`) <
//! environment (`LINKEDIN_SCIM_*`) < command-line flags. Clap reads both the flags and
//! the environment, so one struct documents every setting in `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use chrono::{DateTime, Utc};

use crate::accounts::FidelityPreset;
use crate::clock::ClockMode;
use crate::scim::tolerance::ClientProfile;

/// Where the embedded default database lives: a SQLite file, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/linkedin-scim.db";
pub const DEFAULT_CONFIG_FILE: &str = "config/default.toml";

/// Every setting, as a flag with an environment variable. Unset flags fall back to the
/// config file, then to the built-in default.
#[derive(Debug, Default, Args, Serialize)]
pub struct SettingsArgs {
    /// Settings file (TOML). Missing file = built-in defaults.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_CONFIG", default_value = DEFAULT_CONFIG_FILE)]
    #[serde(skip)]
    pub config: PathBuf,
    /// Database: `sqlite://path/file.db` (embedded default) or `postgres://user@host/db`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_DATABASE_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_BIND")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    /// Public base URL (e.g. `https://scim.example.com`) used in `Location` and
    /// `meta.location`; by default derived from the request's Host header.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_PUBLIC_URL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Bearer token for the demo configuration created on first start, instead of a
    /// random one (so a test suite can start the server with a known token).
    #[arg(long, global = true, env = "LINKEDIN_SCIM_DEMO_TOKEN", hide_env_values = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo_token: Option<String>,
    /// Bearer token of the admin API (`/admin/api`) and the Account Center: at least 32
    /// characters, 10 different (e.g. `openssl rand -hex 24`); by default a random one is
    /// made at each start and printed.
    #[arg(
        long,
        global = true,
        env = "LINKEDIN_SCIM_ADMIN_TOKEN",
        hide_env_values = true
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
    /// Seed file declaring accounts and configurations with fixed tokens, applied
    /// idempotently at start-up.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_SEED")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<PathBuf>,
    /// Fidelity preset of the demo account: `linkedin` (LinkedIn's quirks) or `rfc`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_PROFILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<FidelityPreset>,
    /// Client profile of the demo SCIM configuration (`lenient`, `entra`, `okta`,
    /// `strict`, `validator`), set when start-up writes it: on an empty database, or
    /// with `--demo-token`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_DEMO_CLIENT_PROFILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo_client_profile: Option<ClientProfile>,
    /// Largest request body in bytes; larger bodies get 413.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_MAX_BODY_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_body_bytes: Option<usize>,
    /// Most operations one `POST /Bulk` may carry (advertised as `bulk.maxOperations`;
    /// more is 413). Its `maxPayloadSize` is `max_body_bytes`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_BULK_MAX_OPERATIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bulk_max_operations: Option<u32>,
    /// Largest page a list request returns (advertised as `filter.maxResults`).
    #[arg(long, global = true, env = "LINKEDIN_SCIM_MAX_PAGE_SIZE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u32>,
    /// Milliseconds a request waits for a database connection before it is answered 503
    /// (with `Retry-After`): an outage fails fast instead of hanging.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_DATABASE_ACQUIRE_TIMEOUT_MS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_acquire_timeout_ms: Option<u64>,
    /// Most connections served at once (lowered to fit the open-file limit); beyond it a
    /// new connection replaces the longest-idle one.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_MAX_CONNECTIONS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Most requests handled at once (health probes aside); beyond it: 503 + Retry-After.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_MAX_IN_FLIGHT_REQUESTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_flight_requests: Option<u32>,
    /// Of `max_in_flight_requests`, most requests handled at once that carry no
    /// credentials or go to the sign-in form: they take their own slots, never the ones
    /// SCIM and admin API clients need. Beyond it: 503 + Retry-After.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_MAX_ANONYMOUS_IN_FLIGHT_REQUESTS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_anonymous_in_flight_requests: Option<u32>,
    /// Largest sign-in form body in bytes; larger gets 413.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_LOGIN_MAX_BODY_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_max_body_bytes: Option<usize>,
    /// Seconds a client has to send the sign-in form's body; slower gets 408.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_LOGIN_BODY_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_body_timeout_secs: Option<u64>,
    /// Largest snapshot (`PUT /admin/api/accounts/{account}/snapshot`) in bytes; larger
    /// gets 413.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_SNAPSHOT_MAX_BYTES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_max_bytes: Option<usize>,
    /// Seconds a client has to send a complete request head (HTTP/1.1) or TLS handshake.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_HEADER_READ_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_IDLE_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_secs: Option<u64>,
    /// Seconds a request may take, body upload included; beyond it: 503 + Retry-After.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_REQUEST_TIMEOUT_SECS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeout_secs: Option<u64>,
    /// Serve `/metrics` without the admin token (for a scraper on a private network).
    #[arg(long, global = true, env = "LINKEDIN_SCIM_METRICS_PUBLIC", num_args = 0..=1, default_missing_value = "true")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics_public: Option<bool>,
    /// TLS certificate chain (PEM): serve HTTPS (HTTP/2 and HTTP/1.1). Needs `--tls-key`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_TLS_CERT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) of `--tls-cert`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_TLS_KEY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// Log format: `text` or `json`.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_LOG_FORMAT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    /// `system`, or `manual`: time stands still until the admin API (`/admin/api/clock`)
    /// or `linkedin-scim clock` sets or advances it (see `docs/test-harness.md`).
    #[arg(long, global = true, env = "LINKEDIN_SCIM_CLOCK")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockMode>,
    /// The request journal keeps each SCIM request's headers and bodies (redacted); off,
    /// a record keeps only the request line, status, outcome and timing.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_JOURNAL_CAPTURE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_capture: Option<bool>,
    /// Bytes of each request and response body the journal keeps (the rest is cut).
    #[arg(long, global = true, env = "LINKEDIN_SCIM_JOURNAL_BODY_LIMIT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_body_limit: Option<usize>,
    /// Journal rows kept (all accounts); older ones are pruned in the background. 0: no limit.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_JOURNAL_MAX_ROWS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_max_rows: Option<u64>,
    /// Seconds a journal row is kept (by the server's clock). 0: no limit.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_JOURNAL_MAX_AGE_SECONDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_max_age_seconds: Option<u64>,
    /// Journal records one `expect` examines at most; over it, the assertion fails saying
    /// its range is too long to judge (narrow it with `sinceId` or `since`). 0: no limit.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_JOURNAL_EXPECT_MAX_RECORDS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_expect_max_records: Option<u64>,
    /// Journal records waiting to be written; beyond it new ones are dropped, counted in
    /// `/metrics`, and an `expect` whose range may hold one fails saying so.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_JOURNAL_QUEUE_CAPACITY")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_queue_capacity: Option<usize>,
    /// Where a manual clock starts (RFC 3339); by default the system time at start-up.
    #[arg(long, global = true, env = "LINKEDIN_SCIM_CLOCK_START")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_start: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The resolved settings the application runs with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_url: Option<String>,
    #[serde(skip_serializing)]
    pub demo_token: Option<SecretString>,
    #[serde(skip_serializing)]
    pub admin_token: Option<SecretString>,
    pub seed: Option<PathBuf>,
    pub profile: FidelityPreset,
    pub demo_client_profile: ClientProfile,
    pub max_body_bytes: usize,
    pub max_page_size: u32,
    pub bulk_max_operations: u32,
    pub database_acquire_timeout_ms: u64,
    pub max_connections: u32,
    pub max_in_flight_requests: u32,
    pub max_anonymous_in_flight_requests: u32,
    pub login_max_body_bytes: usize,
    pub login_body_timeout_secs: u64,
    pub snapshot_max_bytes: usize,
    pub header_read_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub metrics_public: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: LogFormat,
    pub clock: ClockMode,
    pub clock_start: Option<DateTime<Utc>>,
    pub journal_capture: bool,
    pub journal_body_limit: usize,
    pub journal_max_rows: u64,
    pub journal_max_age_seconds: u64,
    pub journal_expect_max_records: u64,
    pub journal_queue_capacity: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: DEFAULT_DATABASE_URL.to_owned(),
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            demo_token: None,
            admin_token: None,
            seed: None,
            profile: FidelityPreset::Linkedin,
            demo_client_profile: ClientProfile::default(),
            max_body_bytes: 1024 * 1024,
            max_page_size: 1000,
            bulk_max_operations: 1000,
            database_acquire_timeout_ms: 10_000,
            max_connections: 10_000,
            max_in_flight_requests: 512,
            max_anonymous_in_flight_requests: 32,
            login_max_body_bytes: 4 * 1024,
            login_body_timeout_secs: 5,
            snapshot_max_bytes: 64 * 1024 * 1024,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            request_timeout_secs: 60,
            metrics_public: false,
            tls_cert: None,
            tls_key: None,
            log_format: LogFormat::Text,
            clock: ClockMode::System,
            clock_start: None,
            journal_capture: true,
            journal_body_limit: 64 * 1024,
            journal_max_rows: 100_000,
            journal_max_age_seconds: 7 * 24 * 3600,
            journal_expect_max_records: 200_000,
            journal_queue_capacity: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("invalid settings: {0}")]
pub struct SettingsError(#[from] Box<figment::Error>);

impl Settings {
    /// The journal's retention (0 in a setting: no limit).
    pub fn journal_retention(&self) -> crate::store::Retention {
        crate::store::Retention {
            max_rows: (self.journal_max_rows > 0).then_some(self.journal_max_rows),
            max_age_micros: (self.journal_max_age_seconds > 0).then(|| {
                i64::try_from(self.journal_max_age_seconds)
                    .unwrap_or(i64::MAX)
                    .saturating_mul(1_000_000)
            }),
        }
    }

    /// Layer defaults, the settings file and the command line (flags and environment).
    pub fn load(args: &SettingsArgs) -> Result<Settings, SettingsError> {
        Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&args.config))
            .merge(Serialized::defaults(args))
            .extract()
            .map_err(|e| SettingsError(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("lscim-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("settings.toml");
        std::fs::write(&file, "max_page_size = 50\nbind = \"0.0.0.0:9000\"\n").expect("write");
        let args = SettingsArgs {
            config: file,
            bind: Some(SocketAddr::from(([127, 0, 0, 1], 9100))),
            ..SettingsArgs::default()
        };
        let settings = Settings::load(&args).expect("load");
        assert_eq!(settings.max_page_size, 50);
        assert_eq!(settings.bind.port(), 9100);
        assert_eq!(settings.database_url, DEFAULT_DATABASE_URL);
    }
}
