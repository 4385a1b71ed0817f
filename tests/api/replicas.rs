//! Replicas: server processes of the real binary on one database. The seat invariant
//! holds across them (concurrent creates never hand out more seats than the pool has),
//! and a token changed through one is refused by the others within a second, although
//! each keeps authenticated principals in memory.

use std::time::Instant;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backend_tests;
use crate::helpers::acme::{LICENSES, SALESNAV, pool, seed};
use crate::helpers::process::ServerProcess;
use crate::helpers::{Backend, TestApp, expect_json, refused_within_a_second, status_as, user_body};

/// A server process of the real binary on `database_url` and its SCIM base URL.
struct Replica {
    _process: ServerProcess,
    base: String,
}

/// The admin token of every replica (unless its arguments give another).
pub(crate) const REPLICA_ADMIN_TOKEN: &str = "replica-admin-token-0123456789abcdef";

/// A server process of the real binary on `database_url`, with `args` after the
/// replicas' common ones (`--admin-token` among them replaces theirs).
pub(crate) async fn server_on(database_url: &str, args: &[&str]) -> ServerProcess {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_linkedin-scim"));
    command.args(["serve", "--bind", "127.0.0.1:0"]);
    if !args.contains(&"--admin-token") {
        command.args(["--admin-token", REPLICA_ADMIN_TOKEN]);
    }
    command
        .arg("--database-url")
        .arg(database_url)
        .args(args)
        .env("RUST_LOG", "warn");
    ServerProcess::start(command).await
}

async fn replica(database_url: &str, seed_path: &std::path::Path) -> Replica {
    let seed = seed_path.to_str().expect("a UTF-8 seed path");
    let process = server_on(database_url, &["--seed", seed]).await;
    let base = format!("{}/scim/v2", process.origin);
    Replica {
        _process: process,
        base,
    }
}

async fn the_seat_invariant_holds_under_concurrent_creates_from_two_server_processes(backend: Backend) {
    let seed_text = r#"
[[accounts]]
name = "acme"
profile = "rfc"
[[accounts.instances]]
name = "Acme Sales Navigator"
product = "sales_navigator"
pools = [{ license_type = "Advanced Plus", seats = 50 }]
[[accounts.configurations]]
name = "Sales Navigator"
token = "acme-salesnav-token"
auto_assign = { instance = "Acme Sales Navigator", license_type = "Advanced Plus" }
"#;
    let app = TestApp::builder(backend).seed(seed_text).spawn().await;
    let seed_path = app.seed_file().expect("seeded");
    let replicas = [
        replica(&app.database_url, seed_path).await,
        replica(&app.database_url, seed_path).await,
    ];
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = format!("{}/Users", replicas[i % 2].base);
        let request = client
            .post(url)
            .bearer_auth(SALESNAV)
            .header("content-type", "application/scim+json")
            .body(user_body(&format!("user{i}@acme.com")).to_string());
        tasks.push(tokio::spawn(
            async move { request.send().await.map(|r| r.status()) },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join").expect("request"), StatusCode::CREATED);
    }
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(
        (
            usage["seats"].as_i64(),
            usage["used"].as_i64(),
            usage["waiting"].as_i64()
        ),
        (Some(50), Some(50), Some(150)),
        "{usage}"
    );
    for (state, expected) in [("assigned", 50), ("waiting", 150)] {
        let filter = format!("{LICENSES}:licenses[state eq \"{state}\"]");
        let response = app
            .scim_as(SALESNAV, Method::GET, "/Users")
            .query(&[("filter", filter.as_str()), ("count", "0")])
            .send()
            .await
            .expect("request");
        let list: Value = response.json().await.expect("json");
        assert_eq!(list["totalResults"], expected, "{state}: {list}");
    }
    let all = app.get_ok_as(SALESNAV, "/Users?count=0").await;
    assert_eq!(all["totalResults"], 200, "no user lost or duplicated");
}

async fn a_token_changed_on_one_replica_is_refused_by_the_other_within_a_second(backend: Backend) {
    let app = TestApp::builder(backend).seed(&seed("rfc", "")).spawn().await;
    let other = replica(&app.database_url, app.seed_file().expect("seeded")).await;
    let client = reqwest::Client::new();
    // Both have authenticated the token, so both hold its principal in memory.
    assert_eq!(status_as(&client, &app.base(), SALESNAV).await, StatusCode::OK);
    assert_eq!(status_as(&client, &other.base, SALESNAV).await, StatusCode::OK);

    let refreshed = app.refresh_token("acme", "Sales%20Navigator").await;
    let changed = Instant::now();
    let refreshed = expect_json(refreshed, StatusCode::CREATED, "refresh").await;
    let new_token = refreshed["token"].as_str().expect("token").to_owned();
    // The process that changed the token refuses the old one at once.
    assert_eq!(
        status_as(&client, &app.base(), SALESNAV).await,
        StatusCode::UNAUTHORIZED
    );
    refused_within_a_second(&client, &other.base, SALESNAV, changed).await;
    assert_eq!(status_as(&client, &other.base, &new_token).await, StatusCode::OK);

    // Deleting the configuration revokes its token everywhere just as fast.
    let deleted = app
        .admin(Method::DELETE, "/accounts/acme/configurations/Sales%20Navigator")
        .send()
        .await
        .expect("request");
    let changed = Instant::now();
    assert!(deleted.status().is_success(), "{}", deleted.status());
    assert_eq!(
        status_as(&client, &app.base(), &new_token).await,
        StatusCode::UNAUTHORIZED
    );
    refused_within_a_second(&client, &other.base, &new_token, changed).await;
}

backend_tests!(
    the_seat_invariant_holds_under_concurrent_creates_from_two_server_processes,
    a_token_changed_on_one_replica_is_refused_by_the_other_within_a_second,
);
