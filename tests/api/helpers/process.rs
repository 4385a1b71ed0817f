//! The real binary as a server process, for tests that need more than one process or
//! a signal: replicas on one database, SIGTERM, an outage between server and database.

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running server process, killed when dropped.
pub struct ServerProcess {
    pub child: Child,
    /// `http(s)://127.0.0.1:PORT`, as its banner printed it.
    pub origin: String,
}

impl ServerProcess {
    /// The binary with nothing inherited: only `PATH`, and a settings file that does not
    /// exist, so only what the test sets applies.
    pub fn isolated() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_linkedin-scim"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LINKEDIN_SCIM_CONFIG", "/nonexistent/linkedin-scim.toml");
        command
    }

    /// Start `command` and wait for its banner's "listening on" line.
    pub async fn start(mut command: Command) -> ServerProcess {
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run the binary");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let origin = rest.split_whitespace().next().expect("origin").to_owned();
                // Keep reading, so the banner's remaining lines never meet a closed pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return ServerProcess { child, origin };
            }
        }
        panic!("the server exited before listening");
    }
}
