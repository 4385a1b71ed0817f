//! CLI commands that act on a running server through its admin API, for state that lives
//! in the server process rather than in the database: the manual clock.
//!
//! Why over HTTP and not the database like the other admin commands: `Clock::now` is
//! called synchronously on every request, so a clock kept in the database would have to
//! be cached and refreshed in the background, and a test that advances the clock and
//! then sends a request could race the refresh. Through the admin API the change is in
//! effect when the command returns.

use std::io::Write;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::config::Settings;

/// Where the running server is and how to reach its admin API.
#[derive(Debug, Args)]
pub struct ServerArg {
    /// The running server's base URL; by default `--public-url`, else `http://<bind>`.
    #[arg(long, env = "LINKEDIN_SCIM_SERVER")]
    server: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Print the server's clock (mode and time, RFC 3339).
    Show {
        #[command(flatten)]
        server: ServerArg,
    },
    /// Put a manual clock at a time (RFC 3339), also backward.
    Set {
        #[command(flatten)]
        server: ServerArg,
        time: chrono::DateTime<chrono::Utc>,
    },
    /// Move a manual clock forward by a duration: `90s`, `15m`, `2h`, `30days`, `1h 30m`.
    Advance {
        #[command(flatten)]
        server: ServerArg,
        #[arg(value_parser = humantime::parse_duration)]
        by: std::time::Duration,
    },
}

/// A failed remote command: its message and exit code (see `cli.rs`).
struct Failure(String, u8);

/// Run a `clock` command against the running server.
pub async fn clock(settings: &Settings, command: ClockCommand) -> ExitCode {
    let result = match command {
        ClockCommand::Show { server } => call(settings, &server, reqwest::Method::GET, "/clock", None).await,
        ClockCommand::Set { server, time } => {
            let body = json!({ "now": time.to_rfc3339() });
            call(settings, &server, reqwest::Method::PUT, "/clock", Some(body)).await
        }
        ClockCommand::Advance { server, by } => match i64::try_from(by.as_secs()) {
            Ok(seconds) => {
                let body = json!({ "seconds": seconds });
                call(
                    settings,
                    &server,
                    reqwest::Method::POST,
                    "/clock/advance",
                    Some(body),
                )
                .await
            }
            Err(_) => Err(Failure("the duration is too long".into(), 2)),
        },
    };
    match result {
        Ok(body) => {
            let now = body["now"].as_str().unwrap_or_default();
            let mode = body["mode"].as_str().unwrap_or_default();
            let _ = writeln!(std::io::stdout(), "{now}\t{mode}");
            ExitCode::SUCCESS
        }
        Err(Failure(message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

/// The base URL of the running server.
fn server_url(settings: &Settings, server: &ServerArg) -> String {
    let origin = server
        .server
        .clone()
        .or_else(|| settings.public_url.clone())
        .unwrap_or_else(|| {
            let mut bind = settings.bind;
            if bind.ip().is_unspecified() {
                bind.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
            }
            format!("http://{bind}")
        });
    origin.trim_end_matches('/').to_owned()
}

/// Call `/admin/api{path}` and return the JSON body of a 2xx answer.
async fn call(
    settings: &Settings,
    server: &ServerArg,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, Failure> {
    let Some(token) = &settings.admin_token else {
        return Err(Failure(
            "this command talks to the running server: give its admin token with --admin-token or LINKEDIN_SCIM_ADMIN_TOKEN".into(),
            2,
        ));
    };
    let url = format!("{}/admin/api{path}", server_url(settings, server));
    let mut request = reqwest::Client::new()
        .request(method, &url)
        .bearer_auth(token.expose_secret());
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|e| Failure(format!("cannot reach the server at {url}: {e}"), 1))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| Failure(format!("{url}: unreadable answer ({status}): {e}"), 1))?;
    if status.is_success() {
        return Ok(body);
    }
    let detail = body["detail"].as_str().unwrap_or("no detail").to_owned();
    let code = match status.as_u16() {
        400 => 2,
        404 => 3,
        409 => 4,
        _ => 1,
    };
    Err(Failure(format!("{status}: {detail}"), code))
}
