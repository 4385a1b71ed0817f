use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use linkedin_scim::config::{Cli, Command, Settings};
use linkedin_scim::{
    Application, DEMO_ACCOUNT, DEMO_CONFIGURATION, DemoToken, clock::SystemClock, store, telemetry,
};

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
            .map(|_| println!("migrations applied to {}", settings.database_url))
            .map_err(linkedin_scim::StartupError::from),
        Command::Serve => serve(settings).await,
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
    let database = settings.database_url.clone();
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    let origin = public.unwrap_or_else(|| format!("http://{}:{}", bind.ip(), app.port()));
    println!("linkedin-scim is listening on {origin} (database: {database})");
    println!("  SCIM base URL (tenant URL): {origin}/scim/v2   (also served at {origin}/scim)");
    match &app.demo {
        DemoToken::Generated(token) => {
            println!("  demo account {DEMO_ACCOUNT:?}, SCIM configuration {DEMO_CONFIGURATION:?}");
            println!("  bearer token (shown once, stored only as a hash): {token}");
            println!("  try: curl -H 'Authorization: Bearer {token}' {origin}/scim/v2/Users");
        }
        DemoToken::Fixed => println!("  demo account {DEMO_ACCOUNT:?} uses the token given by --demo-token"),
        DemoToken::Existing => println!("  existing database: use the tokens you saved (or --demo-token)"),
    }
    app.run().await
}
