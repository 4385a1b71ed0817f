//! The Account Center on the command line, for scripts: the same operations as the admin
//! API and the web UI ([`crate::center::Center`]), run against the same database as the
//! server (also while it runs). Results go to stdout (a new token alone on its line, so
//! `TOKEN=$(linkedin-scim config create …)` works); messages go to stderr.
//!
//! Exit codes: 0 done; 1 the database or another failure; 2 bad input (also clap's
//! usage errors); 3 not found; 4 refused (a name is taken, seats, locked).

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::accounts::{FidelityPreset, PatchResponse};
use crate::center::{ActivityFilter, Center, CenterError, NewAccount, NewPool, NewScimConfiguration};
use crate::clock::{SystemClock, rfc3339};
use crate::config::{DEFAULT_DATABASE_URL, Settings};
use crate::scim::tolerance::ClientProfile;
use crate::store::{Store, StoreError, redacted_url};

/// The admin commands (`linkedin-scim account create acme`, …).
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts (LinkedIn enterprise customers).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Application instances (one product contract of an account).
    #[command(subcommand)]
    Instance(InstanceCommand),
    /// License pools (license type and seats of an instance).
    #[command(subcommand)]
    Pool(PoolCommand),
    /// SCIM configurations ("+ Add new SCIM configuration").
    #[command(subcommand)]
    Config(ConfigCommand),
    /// SCIM tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Users and their licenses.
    #[command(subcommand)]
    Users(UsersCommand),
    /// The provisioning log.
    #[command(subcommand)]
    Activity(ActivityCommand),
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account.
    Create {
        name: String,
        /// Fidelity preset: `linkedin` (LinkedIn's quirks) or `rfc`.
        #[arg(long, value_enum, default_value_t = FidelityPreset::Linkedin)]
        profile: FidelityPreset,
    },
    /// List the accounts.
    List,
}

#[derive(Debug, Args)]
pub struct AccountArg {
    /// The account (its name).
    #[arg(long, short)]
    account: String,
}

#[derive(Debug, Subcommand)]
pub enum InstanceCommand {
    /// Add an application instance.
    Add {
        #[command(flatten)]
        account: AccountArg,
        /// `sales_navigator`, `learning`, `elevate`, …
        #[arg(long)]
        product: String,
        /// The instance's name, e.g. "Acme Sales Navigator".
        name: String,
    },
    /// List the instances.
    List {
        #[command(flatten)]
        account: AccountArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Add a license pool to an instance.
    Add {
        #[command(flatten)]
        account: AccountArg,
        #[arg(long)]
        instance: String,
        #[arg(long)]
        license_type: String,
        #[arg(long)]
        seats: i64,
    },
    /// List the pools with their seats and who is next in line.
    List {
        #[command(flatten)]
        account: AccountArg,
    },
    /// The waiting users of every pool, in queue order (first: the next freed seat's).
    Queue {
        #[command(flatten)]
        account: AccountArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Create a SCIM configuration and print its token (once).
    Create {
        #[command(flatten)]
        account: AccountArg,
        name: String,
        /// Assign licenses from --instance / --license-type (else only user data syncs).
        #[arg(long, requires_all = ["instance", "license_type"])]
        auto_assign: bool,
        #[arg(long)]
        instance: Option<String>,
        #[arg(long)]
        license_type: Option<String>,
        /// `lenient`, `entra`, `okta` or `strict`.
        #[arg(long, default_value = "lenient")]
        client_profile: ClientProfile,
        /// `resource` or `no_content`.
        #[arg(long, default_value = "resource", value_parser = parse_patch_response)]
        patch_response: PatchResponse,
    },
    /// List the configurations and their token state (never the token).
    List {
        #[command(flatten)]
        account: AccountArg,
    },
    /// Delete a configuration: its token stops working at once.
    Delete {
        #[command(flatten)]
        account: AccountArg,
        name: String,
    },
    /// Throttle a configuration's token (429 + Retry-After beyond the limit), or stop
    /// throttling it with --off. Running servers apply the change within 2 seconds.
    RateLimit {
        #[command(flatten)]
        account: AccountArg,
        name: String,
        /// Sustained requests per minute.
        #[arg(long, required_unless_present = "off", conflicts_with = "off")]
        per_minute: Option<u32>,
        /// Requests allowed at once (default: the per-minute rate).
        #[arg(long, conflicts_with = "off")]
        burst: Option<u32>,
        /// Remove the limit.
        #[arg(long)]
        off: bool,
    },
    /// Print a configuration's license assignment rules, or replace them with the
    /// --rule options in order (docs/licensing.md, "License rules"); --clear removes all.
    Rules {
        #[command(flatten)]
        account: AccountArg,
        name: String,
        /// `LICENSE TYPE=SCIM FILTER`, e.g.
        /// `TeamLink Extend=title sw "Partner"`; repeat for more, first match wins.
        #[arg(long = "rule", value_parser = crate::center::LicenseRuleView::parse_line, conflicts_with = "clear")]
        rules: Vec<crate::center::LicenseRuleView>,
        /// Remove every rule (the configuration's license type for everyone).
        #[arg(long)]
        clear: bool,
    },
}

fn parse_patch_response(text: &str) -> Result<PatchResponse, String> {
    PatchResponse::parse(text).ok_or_else(|| format!("{text:?}: use resource or no_content"))
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Generate a new token for a configuration and print it (once); the old one stops
    /// working at once.
    Refresh {
        #[command(flatten)]
        account: AccountArg,
        /// The configuration's name.
        configuration: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Every user and license as CSV (LinkedIn's manual export), to stdout.
    Export {
        #[command(flatten)]
        account: AccountArg,
        /// CSV (the only format, for now; required so scripts say what they expect).
        #[arg(long, required = true)]
        csv: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// The latest requests, oldest first; `--follow` keeps printing new ones.
    Tail {
        #[command(flatten)]
        account: AccountArg,
        /// How many of the latest requests to print first.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: u32,
        #[arg(long, short)]
        follow: bool,
    },
}

/// The settings' database, created only when `create`, and named on stderr when it is
/// not the default one. The error names it too, its password redacted.
async fn open(settings: &Settings, create: bool) -> Result<Arc<dyn Store>, String> {
    let url = &settings.database_url;
    let opened = if create {
        crate::store::connect(url).await
    } else {
        crate::store::connect_existing(url).await
    };
    match opened {
        Ok(store) => {
            if url != DEFAULT_DATABASE_URL {
                eprintln!("database: {}", redacted_url(url));
            }
            Ok(store)
        }
        Err(e @ StoreError::NoDatabase(_)) => Err(e.to_string()),
        Err(e) => Err(format!("database {}: {e}", redacted_url(url))),
    }
}

/// Run an admin command against the settings' database, which must exist unless
/// `create` (a mistyped path must not "succeed" on a new empty database).
pub async fn run(settings: &Settings, command: AdminCommand, create: bool) -> ExitCode {
    let store = match open(settings, create).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let center = Center::new(store, Arc::new(SystemClock));
    match execute(&center, settings, command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(match e {
                CenterError::Invalid { .. } => 2,
                CenterError::NotFound(_) => 3,
                CenterError::Conflict(_) | CenterError::Seats(_) | CenterError::Forbidden(_) => 4,
                CenterError::Store(_) => 1,
            })
        }
    }
}

/// Print a line to stdout; a closed pipe (`| head`) is not an error worth a panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

async fn execute(center: &Center, settings: &Settings, command: AdminCommand) -> Result<(), CenterError> {
    match command {
        AdminCommand::Account(AccountCommand::Create { name, profile }) => {
            let account = center
                .create_account(&NewAccount {
                    name,
                    profile,
                    ..NewAccount::default()
                })
                .await?;
            eprintln!(
                "account {:?} created ({} fidelity)",
                account.name,
                profile.as_str()
            );
        }
        AdminCommand::Account(AccountCommand::List) => {
            for account in center.accounts().await? {
                out!("{}", account.name);
            }
        }
        AdminCommand::Instance(InstanceCommand::Add {
            account,
            product,
            name,
        }) => {
            let account = center.account(&account.account).await?;
            let instance = center.add_instance(&account, &product, &name).await?;
            eprintln!(
                "application instance {:?} ({}) added",
                instance.name, instance.product
            );
        }
        AdminCommand::Instance(InstanceCommand::List { account }) => {
            let account = center.account(&account.account).await?;
            for instance in center.instances(&account).await? {
                out!("{}\t{}", instance.name, instance.product);
            }
        }
        AdminCommand::Pool(PoolCommand::Add {
            account,
            instance,
            license_type,
            seats,
        }) => {
            let account = center.account(&account.account).await?;
            let new = NewPool {
                instance,
                license_type,
                seats,
            };
            let pool = center.add_pool(&account, &new).await?;
            eprintln!(
                "license pool {:?} of {:?} added with {} seats",
                pool.license_type, pool.instance, pool.seats
            );
        }
        AdminCommand::Pool(PoolCommand::List { account }) => {
            let account = center.account(&account.account).await?;
            out!("instance\tlicense type\tseats\tassigned\tactivated\twaiting\tfree\tnext in line");
            for p in center.pools(&account).await? {
                out!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    p.instance,
                    p.license_type,
                    p.seats,
                    p.assigned,
                    p.activated,
                    p.waiting,
                    p.free,
                    p.next_in_line
                        .map_or_else(|| "-".to_owned(), |next| next.user_name)
                );
            }
        }
        AdminCommand::Pool(PoolCommand::Queue { account }) => {
            let account = center.account(&account.account).await?;
            out!("instance\tlicense type\tposition\tuserName\twaiting since");
            for (pool, place) in center.queue(&account).await? {
                out!(
                    "{}\t{}\t{}\t{}\t{}",
                    pool.instance,
                    pool.license_type,
                    place.position,
                    place.user_name,
                    crate::clock::rfc3339(place.requested_at)
                );
            }
        }
        AdminCommand::Config(ConfigCommand::Create {
            account,
            name,
            auto_assign,
            instance,
            license_type,
            client_profile,
            patch_response,
        }) => {
            let account = center.account(&account.account).await?;
            let new = NewScimConfiguration {
                name,
                auto_assign,
                instance,
                license_type,
                client_profile,
                patch_response,
            };
            let (config, token) = center.create_configuration(&account, &new).await?;
            eprintln!(
                "SCIM configuration {:?} created. Save the token now: it is shown only once.",
                config.name
            );
            eprintln!("tenant URL: {}", tenant_url(settings));
            out!("{}", token.token);
        }
        AdminCommand::Config(ConfigCommand::List { account }) => {
            let account = center.account(&account.account).await?;
            out!("name\tauto-assign\ttoken created\tlast used\texpires");
            let time = |t: Option<i64>, none: &str| t.map_or(none.to_owned(), rfc3339);
            for c in center.configurations(&account).await? {
                let assign = match (&c.instance, &c.license_type) {
                    (Some(i), Some(l)) => format!("{i} / {l}"),
                    _ => "off".to_owned(),
                };
                out!(
                    "{}\t{}\t{}\t{}\t{}",
                    c.name,
                    assign,
                    time(c.token_created_at, "seed"),
                    time(c.token_last_used_at, "never"),
                    time(c.token_expires_at, "never")
                );
            }
        }
        AdminCommand::Config(ConfigCommand::Delete { account, name }) => {
            let account = center.account(&account.account).await?;
            center.delete_configuration(&account, &name).await?;
            eprintln!("SCIM configuration {name:?} deleted: its token no longer works");
        }
        AdminCommand::Config(ConfigCommand::RateLimit {
            account,
            name,
            per_minute,
            burst,
            off: _,
        }) => {
            let account = center.account(&account.account).await?;
            let limit = per_minute.map(|requests_per_minute| crate::accounts::RateLimit {
                requests_per_minute,
                burst: burst.unwrap_or(requests_per_minute),
            });
            center.set_rate_limit(&account, &name, limit).await?;
            match limit {
                Some(l) => eprintln!(
                    "SCIM configuration {name:?}: at most {} requests a minute, {} at once",
                    l.requests_per_minute, l.burst
                ),
                None => eprintln!("SCIM configuration {name:?}: no rate limit"),
            }
        }
        AdminCommand::Config(ConfigCommand::Rules {
            account,
            name,
            rules,
            clear,
        }) => {
            let account = center.account(&account.account).await?;
            let rules = if clear || !rules.is_empty() {
                center.set_license_rules(&account, &name, &rules).await?
            } else {
                let configuration = center.configuration(&account, &name).await?;
                center.license_rules(&account, &configuration).await?
            };
            if rules.is_empty() {
                eprintln!("SCIM configuration {name:?}: no license rules (its license type for everyone)");
            }
            for (n, rule) in rules.iter().enumerate() {
                out!("{}\t{}\t{}", n + 1, rule.license_type, rule.filter);
            }
        }
        AdminCommand::Token(TokenCommand::Refresh {
            account,
            configuration,
        }) => {
            let account = center.account(&account.account).await?;
            let token = center.refresh_token(&account, &configuration).await?;
            eprintln!(
                "new token for {configuration:?}: the old one no longer works. Save it now: it is shown only once."
            );
            out!("{}", token.token);
        }
        AdminCommand::Users(UsersCommand::Export { account, csv: _ }) => {
            let account = center.account(&account.account).await?;
            let csv = center.export_users(&account).await?;
            let _ = std::io::stdout().write_all(csv.as_bytes());
        }
        AdminCommand::Activity(ActivityCommand::Tail {
            account,
            lines,
            follow,
        }) => {
            let account = center.account(&account.account).await?;
            let mut last = None;
            loop {
                let filter = ActivityFilter {
                    limit: Some(if last.is_none() { lines } else { 1000 }),
                    ..ActivityFilter::default()
                };
                let mut records = center.activity(&account, &filter).await?;
                records.reverse();
                for r in records.iter().filter(|r| last.is_none_or(|l| r.id > Some(l))) {
                    out!(
                        "{}\t{} {}\t{}\t{}{}",
                        rfc3339(r.at),
                        r.method,
                        r.path,
                        r.status,
                        r.outcome.as_deref().unwrap_or(""),
                        r.detail.as_deref().map(|d| format!("\t{d}")).unwrap_or_default()
                    );
                }
                last = records.last().and_then(|r| r.id).or(last).or(Some(0));
                if !follow {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
    Ok(())
}

/// The tenant URL to paste into the IdP, as far as the settings know it.
fn tenant_url(settings: &Settings) -> String {
    let origin = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", settings.bind));
    format!("{}/scim/v2", origin.trim_end_matches('/'))
}

/// `linkedin-scim seed-users --count N`: synthetic users for the benchmark (`bench/run`),
/// inserted with multi-row statements, far faster than through SCIM.
#[derive(Debug, Args)]
pub struct SeedUsers {
    /// How many users to add (numbered on from the users the account already has).
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// The account (its name).
    #[arg(long, default_value = crate::center::seed::DEMO_ACCOUNT)]
    account: String,
}

/// Users per `import_users` call (one transaction each).
const SEED_BATCH: usize = 20_000;

/// A user as an IdP would provision it: `bench-user{i}@bench.example`, externalId `ext-{i}`.
fn synthetic_user(i: usize) -> serde_json::Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("bench-user{i}@bench.example"),
        "externalId": format!("ext-{i}"),
        "displayName": format!("Bench User {i}"),
        "active": true,
        "name": {"givenName": "Bench", "familyName": format!("User{i}")},
        "emails": [{"value": format!("bench-user{i}@bench.example"), "type": "work", "primary": true}],
        "title": "Engineer",
    })
}

pub async fn seed_users(settings: &Settings, args: &SeedUsers, create: bool) -> ExitCode {
    match seed(settings, args, create).await {
        Ok(first) => {
            out!("seeded users {first}..{}", first + args.count);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Insert the users; returns the number of the first one.
async fn seed(
    settings: &Settings,
    args: &SeedUsers,
    create: bool,
) -> Result<usize, Box<dyn std::error::Error>> {
    use crate::clock::Clock;
    use crate::scim::{catalog::user_schema, normalize::normalize, tolerance::Leniency};
    let store = open(settings, create).await?;
    let account = store
        .account_by_name(&args.account)
        .await?
        .ok_or_else(|| format!("no account {:?}", args.account))?;
    let all = crate::store::ListRequest {
        filter: None,
        sort_by: None,
        sort_order: crate::store::SortOrder::Ascending,
        start_index: 1,
        count: 0,
        attributes: Vec::new(),
        excluded_attributes: Vec::new(),
        cursor: None,
    };
    let first = usize::try_from(store.list_users(&account.id, &all, None).await?.total)?;
    // Users of every product of the account, as if each product's IdP had provisioned
    // them: every configuration's lists show them.
    let statuses: crate::licensing::status::ProductStatuses = store
        .instances(&account.id)
        .await?
        .into_iter()
        .map(|instance| (instance.product.to_string(), Some(true)))
        .collect();
    let mut leniency = Leniency::new(ClientProfile::Strict);
    for start in (first..first + args.count).step_by(SEED_BATCH) {
        let end = (start + SEED_BATCH).min(first + args.count);
        let docs = (start..end)
            .map(|i| normalize(synthetic_user(i), user_schema(), &mut leniency))
            .collect::<Result<Vec<_>, _>>()?;
        store
            .import_users(&account.id, &docs, &statuses, SystemClock.now_micros())
            .await?;
    }
    Ok(first)
}
