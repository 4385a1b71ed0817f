use linkedin_scim::clock::{Clock, rfc3339};
use std::process::ExitCode;

use clap::Parser;
use linkedin_scim::center::seed::{DEMO_ACCOUNT, DEMO_CONFIGURATION, DemoToken};
use linkedin_scim::cli::{Cli, Command, admin, remote};
use linkedin_scim::config::Settings;
use linkedin_scim::store::redacted_url;
use linkedin_scim::{Application, store, telemetry};

/// mimalloc instead of glibc's malloc: glibc kept the memory of a burst of concurrent
/// requests in per-thread arenas and never returned it (issue 15); see README, Performance.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Print a banner line; a closed stdout (a supervisor that stopped reading) must not
/// take the server down, so write errors are ignored.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&cli.settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => store::connect(&settings.database_url)
            .await
            .map(|_| say!("migrations applied to {}", redacted_url(&settings.database_url)))
            .map_err(linkedin_scim::StartupError::from),
        Command::Serve => serve(settings).await,
        Command::Admin(command) => return admin::run(&settings, command, cli.create).await,
        Command::Clock(command) => return remote::clock(&settings, command).await,
        Command::SeedUsers(args) => return admin::seed_users(&settings, &args, cli.create).await,
        Command::Journal(command) => return remote::journal(&settings, command).await,
        Command::Fault(command) => return remote::fault(&settings, command).await,
        Command::Snapshot(command) => return remote::snapshot(&settings, command).await,
        Command::Health { server } => return remote::health(&settings, &server).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> Result<(), linkedin_scim::StartupError> {
    let bind = settings.bind;
    let public = settings.public_url.clone();
    let database = redacted_url(&settings.database_url);
    let seed = settings.seed.clone();
    let clock = settings.clock.clock(settings.clock_start);
    let manual_clock = clock.manual().map(|c| rfc3339(c.now_micros()));
    let app = Application::build(settings, clock).await?;
    let origin = public.unwrap_or_else(|| format!("{}://{}:{}", app.scheme(), bind.ip(), app.port()));
    say!("linkedin-scim is listening on {origin} (database: {database})");
    say!("  SCIM base URL (tenant URL): {origin}/scim/v2   (also served at {origin}/scim and at {origin}/)");
    match &app.demo {
        DemoToken::Generated(token) => {
            say!("  demo account {DEMO_ACCOUNT:?}, SCIM configuration {DEMO_CONFIGURATION:?}");
            say!("  bearer token (shown once, stored only as a hash): {token}");
            say!("  try: curl -H 'Authorization: Bearer {token}' {origin}/scim/v2/Users");
        }
        DemoToken::Fixed => say!("  demo account {DEMO_ACCOUNT:?} uses the token given by --demo-token"),
        DemoToken::Existing if seed.is_some() => {}
        DemoToken::Existing => say!("  existing database: use the tokens you saved (or --demo-token)"),
    }
    if let Some(seed) = &seed {
        say!(
            "  seed file applied: {} (use the tokens it declares)",
            seed.display()
        );
    }
    if let Some(now) = &manual_clock {
        say!(
            "  manual clock at {now}: move it with `linkedin-scim clock advance 1h` or {origin}/admin/api/clock"
        );
    }
    say!("  Account Center: {origin}/admin  (sign in with the admin token; API: {origin}/admin/api)");
    if let Some(admin) = &app.generated_admin_token {
        say!("  admin token for this run (shown once): {admin}");
    }
    app.run().await
}
