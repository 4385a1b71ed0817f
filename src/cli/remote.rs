//! CLI commands that act on a running server through its admin API: the manual clock,
//! which lives in the server process, and the journal, whose newest records may still be
//! queued in the server (the API writes them before it answers).
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

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Print the journal as JSON lines, oldest first (filters as in the admin API).
    Export {
        #[command(flatten)]
        server: ServerArg,
        /// The account (its name).
        #[arg(long, short)]
        account: String,
        /// Records after this journal id.
        #[arg(long)]
        after: Option<i64>,
        /// RFC 3339: requests at or after this time.
        #[arg(long)]
        since: Option<String>,
        /// A SCIM configuration's name.
        #[arg(long)]
        configuration: Option<String>,
        #[arg(long)]
        method: Option<String>,
        /// The path (with its query) starts with this.
        #[arg(long)]
        path: Option<String>,
        #[arg(long)]
        status: Option<u16>,
        #[arg(long)]
        resource_id: Option<String>,
    },
    /// Assert that requests matching a pattern were received; prints the verdict (JSON)
    /// and exits 0 when it holds, 5 when it does not.
    Expect {
        #[command(flatten)]
        server: ServerArg,
        /// The account (its name).
        #[arg(long, short)]
        account: String,
        /// The pattern, as JSON: `{"method": "POST", "path": "/scim/v2/Users", "atLeast": 1}`
        /// (see docs/test-harness.md).
        pattern: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FaultCommand {
    /// Set a fault (JSON, as the admin API takes it) and print it with its id.
    Add {
        #[command(flatten)]
        server: ServerArg,
        #[arg(long, short)]
        account: String,
        /// e.g. `{"configuration": "Okta", "kind": "throttle", "retryAfterSeconds": 5, "count": 3}`
        fault: String,
    },
    /// Print the faults in force (JSON).
    List {
        #[command(flatten)]
        server: ServerArg,
        #[arg(long, short)]
        account: String,
    },
    /// Clear one fault (by id) or all of the account's.
    Clear {
        #[command(flatten)]
        server: ServerArg,
        #[arg(long, short)]
        account: String,
        id: Option<u64>,
    },
}

/// Run a `fault` command against the running server.
pub async fn fault(settings: &Settings, command: FaultCommand) -> ExitCode {
    let result = match command {
        FaultCommand::Add {
            server,
            account,
            fault,
        } => match serde_json::from_str::<Value>(&fault) {
            Err(e) => Err(Failure(format!("the fault is not JSON: {e}"), 2)),
            Ok(fault) => {
                let path = format!("/accounts/{}/faults", encode(&account));
                call(settings, &server, reqwest::Method::POST, &path, Some(fault)).await
            }
        },
        FaultCommand::List { server, account } => {
            let path = format!("/accounts/{}/faults", encode(&account));
            call(settings, &server, reqwest::Method::GET, &path, None).await
        }
        FaultCommand::Clear { server, account, id } => {
            let mut path = format!("/accounts/{}/faults", encode(&account));
            if let Some(id) = id {
                path.push_str(&format!("/{id}"));
            }
            send(settings, &server, reqwest::Method::DELETE, &path, None)
                .await
                .and_then(ok_text)
                .map(|_| json!({ "cleared": id.map_or("all".into(), |id| id.to_string()) }))
        }
    };
    finish(result, |body| {
        let _ = writeln!(std::io::stdout(), "{body}");
    })
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Print the account's whole state as a snapshot (JSON) to stdout.
    Export {
        #[command(flatten)]
        server: ServerArg,
        #[arg(long, short)]
        account: String,
        /// Include the configurations' token hashes, so tokens keep working after a restore.
        #[arg(long)]
        token_hashes: bool,
    },
    /// Replace the account's state with a snapshot file's.
    Restore {
        #[command(flatten)]
        server: ServerArg,
        #[arg(long, short)]
        account: String,
        file: std::path::PathBuf,
    },
}

/// Run a `snapshot` command against the running server.
pub async fn snapshot(settings: &Settings, command: SnapshotCommand) -> ExitCode {
    let result = match command {
        SnapshotCommand::Export {
            server,
            account,
            token_hashes,
        } => {
            let path = format!(
                "/accounts/{}/snapshot?tokenHashes={token_hashes}",
                encode(&account)
            );
            send(settings, &server, reqwest::Method::GET, &path, None)
                .await
                .and_then(ok_text)
        }
        SnapshotCommand::Restore {
            server,
            account,
            file,
        } => match std::fs::read_to_string(&file).map(|t| serde_json::from_str::<Value>(&t)) {
            Err(e) => Err(Failure(format!("cannot read {}: {e}", file.display()), 2)),
            Ok(Err(e)) => Err(Failure(format!("{} is not JSON: {e}", file.display()), 2)),
            Ok(Ok(document)) => {
                let path = format!("/accounts/{}/snapshot", encode(&account));
                send(settings, &server, reqwest::Method::PUT, &path, Some(document))
                    .await
                    .and_then(ok_text)
            }
        },
    };
    finish(result, |text| {
        let _ = std::io::stdout().write_all(text.as_bytes());
    })
}

/// Exit code of an `expect` that does not hold.
const EXPECTATION_FAILED: u8 = 5;

/// Run a `journal` command against the running server.
pub async fn journal(settings: &Settings, command: JournalCommand) -> ExitCode {
    let result = match command {
        JournalCommand::Export {
            server,
            account,
            after,
            since,
            configuration,
            method,
            path,
            status,
            resource_id,
        } => {
            let mut query = vec![("format", "jsonl".to_owned())];
            let given = [
                ("after", after.map(|a| a.to_string())),
                ("since", since),
                ("configuration", configuration),
                ("method", method),
                ("path", path),
                ("status", status.map(|s| s.to_string())),
                ("resourceId", resource_id),
            ];
            query.extend(given.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
            let path = format!(
                "/accounts/{}/journal?{}",
                encode(&account),
                serde_urlencoded::to_string(&query).unwrap_or_default()
            );
            send(settings, &server, reqwest::Method::GET, &path, None)
                .await
                .and_then(ok_text)
        }
        JournalCommand::Expect {
            server,
            account,
            pattern,
        } => match serde_json::from_str::<Value>(&pattern) {
            Err(e) => Err(Failure(format!("the pattern is not JSON: {e}"), 2)),
            Ok(pattern) => {
                let path = format!("/accounts/{}/journal/expect", encode(&account));
                match send(settings, &server, reqwest::Method::POST, &path, Some(pattern)).await {
                    Ok((status, text)) if status == reqwest::StatusCode::EXPECTATION_FAILED => {
                        let _ = writeln!(std::io::stdout(), "{text}");
                        Err(Failure(
                            detail_of(&text).unwrap_or_else(|| "the expectation does not hold".into()),
                            EXPECTATION_FAILED,
                        ))
                    }
                    other => other.and_then(ok_text).map(|text| text + "\n"),
                }
            }
        },
    };
    finish(result, |text| {
        let _ = std::io::stdout().write_all(text.as_bytes());
    })
}

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The `detail` member of a JSON answer.
fn detail_of(text: &str) -> Option<String> {
    let body: Value = serde_json::from_str(text).ok()?;
    body["detail"].as_str().map(str::to_owned)
}

/// A failed remote command: its message and exit code (see `cli.rs`).
struct Failure(String, u8);

/// A remote command's exit: `print` its result, or its failure's message on stderr.
fn finish<T>(result: Result<T, Failure>, print: impl FnOnce(T)) -> ExitCode {
    match result {
        Ok(result) => {
            print(result);
            ExitCode::SUCCESS
        }
        Err(Failure(message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

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
    finish(result, |body| {
        let now = body["now"].as_str().unwrap_or_default();
        let mode = body["mode"].as_str().unwrap_or_default();
        let _ = writeln!(std::io::stdout(), "{now}\t{mode}");
    })
}

/// Ask the running server's `/readyz`: ready (200) or not, with the reason on stderr.
pub async fn health(settings: &Settings, server: &ServerArg) -> ExitCode {
    let url = format!("{}/readyz", server_url(settings, server));
    let result = match reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(2))
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(Failure(format!("{url}: {}", response.status()), 1)),
        Err(e) => Err(Failure(format!("cannot reach the server at {url}: {e}"), 1)),
    };
    finish(result, |()| {
        let _ = writeln!(std::io::stdout(), "ready");
    })
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
    let text = ok_text(send(settings, server, method, path, body).await?)?;
    serde_json::from_str(&text).map_err(|e| Failure(format!("unreadable answer: {e}"), 1))
}

/// The body of a 2xx answer; any other answer is a failure with its detail.
fn ok_text((status, text): (reqwest::StatusCode, String)) -> Result<String, Failure> {
    if status.is_success() {
        return Ok(text);
    }
    let detail = detail_of(&text).unwrap_or_else(|| "no detail".into());
    let code = match status.as_u16() {
        400 => 2,
        404 => 3,
        409 => 4,
        _ => 1,
    };
    Err(Failure(format!("{status}: {detail}"), code))
}

/// Send a request to `/admin/api{path}` with the admin token; the status and body text.
async fn send(
    settings: &Settings,
    server: &ServerArg,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<(reqwest::StatusCode, String), Failure> {
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
    let text = response
        .text()
        .await
        .map_err(|e| Failure(format!("{url}: unreadable answer ({status}): {e}"), 1))?;
    Ok((status, text))
}
