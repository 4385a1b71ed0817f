//! A Postgres outage (issues 15 and 16): two server processes reach Postgres through a
//! TCP proxy the test controls. Cutting the proxy (every connection closed, new ones
//! dropped) must give 503 + `Retry-After`, never 500, and `/readyz` must say so; restoring
//! it must bring both back. The shared Postgres itself is never stopped.
//!
//! Postgres only: SQLite has no network to lose.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, watch};

use crate::helpers::process::ServerProcess;
use crate::helpers::{Backend, TestApp, postgres_available, user_body};

const POSTGRES: &str = "127.0.0.1:5432";

/// A TCP proxy to Postgres that can be cut and restored.
struct Proxy {
    address: String,
    open: Arc<AtomicBool>,
    /// While cut: hold new connections open without an answer (a host that went away)
    /// rather than close them.
    hang: Arc<AtomicBool>,
    /// Bumped to close every proxied connection.
    cut: watch::Sender<u64>,
    /// Local ports of the proxy's connections to Postgres (`pg_stat_activity.client_port`).
    upstream_ports: Arc<Mutex<Vec<u16>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let open = Arc::new(AtomicBool::new(true));
        let hang = Arc::new(AtomicBool::new(false));
        let hanging = hang.clone();
        let (cut, cuts) = watch::channel(0u64);
        let upstream_ports = Arc::new(Mutex::new(Vec::new()));
        let (accepting, ports) = (open.clone(), upstream_ports.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    if hanging.load(Ordering::SeqCst) {
                        tokio::spawn(async move {
                            let _held = client;
                            tokio::time::sleep(Duration::from_secs(60)).await;
                        });
                    }
                    continue; // dropped: the client sees its connection closed at once
                }
                let Ok(mut upstream) = TcpStream::connect(POSTGRES).await else {
                    continue;
                };
                ports.lock().await.push(upstream.local_addr().unwrap().port());
                let mut cuts = cuts.clone();
                // Only a cut after this connection was made closes it.
                cuts.mark_unchanged();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = cuts.changed() => {}
                    }
                });
            }
        });
        Proxy {
            address,
            open,
            hang,
            cut,
            upstream_ports,
        }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        self.cut.send_modify(|generation| *generation += 1);
    }

    /// Cut, and leave new connections unanswered.
    fn hang(&self) {
        self.hang.store(true, Ordering::SeqCst);
        self.cut();
    }

    fn restore(&self) {
        self.hang.store(false, Ordering::SeqCst);
        self.open.store(true, Ordering::SeqCst);
    }
}

const ADMIN_TOKEN: &str = "outage-admin-token-0123456789abcdef";

async fn replica(database_url: &str, demo_token: &str) -> ServerProcess {
    let mut command = ServerProcess::isolated();
    command
        .env("LINKEDIN_SCIM_DATABASE_URL", database_url)
        .env("LINKEDIN_SCIM_BIND", "127.0.0.1:0")
        .env("LINKEDIN_SCIM_PROFILE", "rfc")
        .env("LINKEDIN_SCIM_DEMO_TOKEN", demo_token)
        .env("LINKEDIN_SCIM_ADMIN_TOKEN", ADMIN_TOKEN)
        // Fail fast: a request waits at most a second for a connection.
        .env("LINKEDIN_SCIM_DATABASE_ACQUIRE_TIMEOUT_MS", "1000")
        .env("RUST_LOG", "error");
    ServerProcess::start(command).await
}

/// What each replica answers to a read, a write and the readiness probe.
async fn probe(
    client: &reqwest::Client,
    replicas: &[ServerProcess],
    token: &str,
    n: &mut u32,
) -> Vec<reqwest::Response> {
    let mut responses = Vec::new();
    for replica in replicas {
        *n += 1;
        responses.push(
            client
                .get(format!("{}/scim/v2/Users", replica.origin))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        );
        responses.push(
            client
                .post(format!("{}/scim/v2/Users", replica.origin))
                .bearer_auth(token)
                .json(&user_body(&format!("outage{n}@acme.com")))
                .send()
                .await
                .unwrap(),
        );
        responses.push(
            client
                .get(format!("{}/readyz", replica.origin))
                .send()
                .await
                .unwrap(),
        );
    }
    responses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_answers_503_with_retry_after_then_recovers() {
    if !postgres_available().await {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let proxy = Proxy::start().await;
    assert!(app.database_url.contains(POSTGRES), "{}", app.database_url);
    let proxied = app.database_url.replace(POSTGRES, &proxy.address);
    let replicas = [
        replica(&proxied, &app.token).await,
        replica(&proxied, &app.token).await,
    ];
    let client = reqwest::Client::new();
    let mut n = 0;
    for response in probe(&client, &replicas, &app.token, &mut n).await {
        assert!(response.status().is_success(), "before the outage: {response:?}");
    }

    // Postgres terminates the replicas' sessions (57P01, as in a restart): answered or
    // 503, never 500.
    let ports: Vec<i32> = proxy
        .upstream_ports
        .lock()
        .await
        .iter()
        .map(|&p| i32::from(p))
        .collect();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where client_port = any($1)")
        .bind(&ports)
        .execute(&mut admin)
        .await
        .unwrap();
    for response in probe(&client, &replicas, &app.token, &mut n).await {
        assert!(
            response.status().is_success() || response.status() == StatusCode::SERVICE_UNAVAILABLE,
            "after the sessions were terminated: {response:?}"
        );
    }

    proxy.cut();
    for _ in 0..2 {
        for response in probe(&client, &replicas, &app.token, &mut n).await {
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "during the outage: {response:?}"
            );
            assert_eq!(response.headers()["retry-after"], "5");
        }
    }

    proxy.restore();
    let mut recovered = false;
    let mut last = Vec::new();
    for _ in 0..200 {
        let responses = probe(&client, &replicas, &app.token, &mut n).await;
        assert!(
            responses
                .iter()
                .all(|r| r.status() != StatusCode::INTERNAL_SERVER_ERROR),
            "after the outage: {responses:?}"
        );
        if responses.iter().all(|r| r.status().is_success()) {
            recovered = true;
            break;
        }
        last = responses
            .iter()
            .map(|r| (r.url().path().to_owned(), r.status()))
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recovered,
        "the replicas did not recover once Postgres was reachable again: {last:?}"
    );
}

/// Once the database is known down, requests are answered 503 at once (the circuit
/// breaker), not each after the full acquire timeout; once it is back, they are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_outage_fails_fast_then_recovers() {
    if !postgres_available().await {
        return;
    }
    let app = TestApp::spawn(Backend::Postgres).await;
    let proxy = Proxy::start().await;
    let proxied = app.database_url.replace(POSTGRES, &proxy.address);
    let mut command = ServerProcess::isolated();
    command
        .env("LINKEDIN_SCIM_DATABASE_URL", &proxied)
        .env("LINKEDIN_SCIM_BIND", "127.0.0.1:0")
        .env("LINKEDIN_SCIM_PROFILE", "rfc")
        .env("LINKEDIN_SCIM_DEMO_TOKEN", &app.token)
        .env("LINKEDIN_SCIM_ADMIN_TOKEN", ADMIN_TOKEN)
        // Long enough that a request waiting for it cannot pass for failing fast.
        .env("LINKEDIN_SCIM_DATABASE_ACQUIRE_TIMEOUT_MS", "3000");
    let server = ServerProcess::start(command).await;
    let client = reqwest::Client::new();
    let read = |n: u32| {
        client
            .get(format!(
                "{}/scim/v2/Users?filter=userName%20eq%20%22n{n}%22",
                server.origin
            ))
            .bearer_auth(&app.token)
            .send()
    };
    assert_eq!(read(0).await.unwrap().status(), StatusCode::OK);

    proxy.hang();
    let mut timings = Vec::new();
    for n in 1..=8 {
        let started = std::time::Instant::now();
        let response = read(n).await.unwrap();
        timings.push(started.elapsed());
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "during the outage"
        );
        assert_eq!(response.headers()["retry-after"], "5");
    }
    // The first requests may wait to learn the database is down; the last ones do not.
    let fast = Duration::from_millis(100);
    assert!(
        timings[4..].iter().all(|t| *t < fast),
        "503s during a known outage took {timings:?}"
    );

    proxy.restore();
    let mut recovered = false;
    for n in 100..300 {
        if read(n).await.unwrap().status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "the breaker did not close once Postgres was back");
}
