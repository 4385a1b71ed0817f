//! The network edge (issues 15 and 16): slow and idle clients are cut off, connections
//! beyond the cap do not lock anyone out, load beyond the in-flight cap is shed with a
//! 503, and SIGTERM loses no acknowledged request's activity.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backend_tests;
use crate::helpers::process::ServerProcess;
use crate::helpers::raw::{PATIENCE, host_port, stalled_upload, until_closed};
use crate::helpers::{Backend, TestApp, TestDatabase, assert_scim_error, user_body};

async fn a_slow_header_client_is_cut_off_while_others_are_served(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.header_read_timeout_secs = 1)
        .spawn()
        .await;
    let mut slow = TcpStream::connect(host_port(&app)).await.unwrap();
    slow.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(host_port(&app)).await.unwrap();

    let health = app.get_unauthenticated("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let users = app.get("/Users").await;
    assert_eq!(users.status(), StatusCode::OK);

    let answer = until_closed(&mut slow).await;
    assert!(
        !answer.contains(" 200 "),
        "a half-sent request was served: {answer}"
    );
    assert_eq!(
        until_closed(&mut silent).await,
        "",
        "a silent client got an answer"
    );
    // The server is still serving after cutting them off.
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
}

async fn a_keep_alive_connection_left_idle_is_closed(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| {
            s.idle_timeout_secs = 1;
            // Longer than the patience below: only the idle timeout can close it.
            s.header_read_timeout_secs = 120;
        })
        .spawn()
        .await;
    let mut kept = TcpStream::connect(host_port(&app)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "kept alive: {answer}"
    );
}

/// Idle connections opened beyond `max_connections`.
const IDLE_CONNECTIONS: usize = 300;
const CONNECTION_CAP: u32 = 16;

async fn idle_connections_beyond_the_cap_do_not_lock_out_probes_or_scim(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.max_connections = CONNECTION_CAP)
        .spawn()
        .await;
    let mut idle = Vec::with_capacity(IDLE_CONNECTIONS);
    for _ in 0..IDLE_CONNECTIONS {
        idle.push(TcpStream::connect(host_port(&app)).await.unwrap());
    }
    let health = app.get_unauthenticated("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK);
    let users = app.get("/Users").await;
    assert_eq!(users.status(), StatusCode::OK);
    let ready = app.get_unauthenticated("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);

    // The server made room by closing idle connections: all but the cap are closed.
    let mut closed = 0;
    let mut buffer = [0u8; 16];
    for stream in &idle {
        let still_open =
            matches!(stream.try_read(&mut buffer), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        if !still_open {
            closed += 1;
        }
    }
    let cap = usize::try_from(CONNECTION_CAP).unwrap();
    assert!(
        closed >= IDLE_CONNECTIONS - cap,
        "only {closed} of {IDLE_CONNECTIONS} idle connections were closed with a cap of {cap}"
    );
}

async fn requests_beyond_the_in_flight_cap_get_503_and_probes_still_answer(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| {
            s.max_in_flight_requests = 1;
            s.request_timeout_secs = 1;
        })
        .spawn()
        .await;
    let mut stalled = stalled_upload(&app).await;
    // Until the stalled request holds the only slot, requests may still be served.
    let mut refused = None;
    for _ in 0..100 {
        let response = app.get("/Users").await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = refused.expect("a request beyond the in-flight cap was served");
    assert_eq!(refused.headers()["retry-after"], "5");
    let body = assert_scim_error(refused, StatusCode::SERVICE_UNAVAILABLE, None).await;
    assert!(
        body["detail"].as_str().unwrap().contains("too many requests"),
        "{body}"
    );
    let health = app.get_unauthenticated("/healthz").await;
    assert_eq!(health.status(), StatusCode::OK, "/healthz answers under the cap");

    // The stalled upload outlives the request timeout: 503, and its slot is freed.
    let answer = until_closed_or_answered(&mut stalled).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("did not complete within 1 s"), "{answer}");
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
}

/// The server's answer to a request, read up to the end of its body.
async fn until_closed_or_answered(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = tokio::time::timeout(PATIENCE, async {
        loop {
            let n = stream.read(&mut buffer).await.unwrap_or(0);
            received.extend_from_slice(&buffer[..n]);
            if n == 0 || received.ends_with(b"}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer to the stalled request");
    String::from_utf8_lossy(&received).into_owned()
}

/// The real binary serving `database_url`.
struct Server(ServerProcess);

const DEMO_TOKEN: &str = "edge-demo-token-0123456789";
const ADMIN_TOKEN: &str = "edge-admin-token-0123456789abcdef";

impl Server {
    async fn start(database_url: &str) -> Server {
        let mut command = ServerProcess::isolated();
        command
            .env("LINKEDIN_SCIM_DATABASE_URL", database_url)
            .env("LINKEDIN_SCIM_BIND", "127.0.0.1:0")
            .env("LINKEDIN_SCIM_PROFILE", "rfc")
            .env("LINKEDIN_SCIM_DEMO_TOKEN", DEMO_TOKEN)
            .env("LINKEDIN_SCIM_ADMIN_TOKEN", ADMIN_TOKEN);
        Server(ServerProcess::start(command).await)
    }

    fn terminate(&self) {
        let pid = self.0.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

async fn sigterm_during_a_stream_of_creates_loses_no_acknowledged_activity(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let mut server = Server::start(&database.url).await;
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let client = client.clone();
        let address = server.0.origin.clone();
        let acknowledged = acknowledged.clone();
        workers.push(tokio::spawn(async move {
            let mut created = Vec::new();
            for n in 0.. {
                let response = client
                    .post(format!("{address}/scim/v2/Users"))
                    .bearer_auth(DEMO_TOKEN)
                    .json(&user_body(&format!("w{worker}-{n}@acme.com")))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        let user: Value = r.json().await.unwrap();
                        created.push(user["id"].as_str().unwrap().to_owned());
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => {
                        assert_ne!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
                    }
                    // The server has shut down.
                    Err(_) => break,
                }
            }
            created
        }));
    }
    while acknowledged.load(Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.terminate();
    let mut created = Vec::new();
    for worker in workers {
        created.extend(worker.await.unwrap());
    }
    let exit = tokio::time::timeout(PATIENCE, server.0.child.wait())
        .await
        .expect("the server exits after SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit:?}");

    let server = Server::start(&database.url).await;
    let records: Value = client
        .get(format!(
            "{}/admin/api/accounts/demo/activity?method=POST&status=201&limit=1000",
            server.0.origin
        ))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let recorded: HashSet<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["resourceId"].as_str())
        .collect();
    let lost: Vec<&String> = created
        .iter()
        .filter(|id| !recorded.contains(id.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged creates have no activity record",
        lost.len(),
        created.len()
    );
}

backend_tests!(
    a_slow_header_client_is_cut_off_while_others_are_served,
    a_keep_alive_connection_left_idle_is_closed,
    idle_connections_beyond_the_cap_do_not_lock_out_probes_or_scim,
    requests_beyond_the_in_flight_cap_get_503_and_probes_still_answer,
    sigterm_during_a_stream_of_creates_loses_no_acknowledged_activity,
);
