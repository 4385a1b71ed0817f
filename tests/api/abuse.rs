//! Defects found under abuse (issue 16): what a hostile client tried, each answered with
//! a SCIM error (never 500) and without stalling the server.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, group_body, patch_body, user_body};

/// The demo account's activity, newest first, once at least `n` records are written.
async fn activity(app: &TestApp, n: usize) -> Vec<Value> {
    for _ in 0..150 {
        let records = app.admin_get_ok("/accounts/demo/activity").await;
        let records = records.as_array().cloned().unwrap_or_default();
        if records.len() >= n {
            return records;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("fewer than {n} activity records appeared");
}

async fn nul_anywhere_in_the_input_is_400_not_500(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.create_user(&user_body("alice@acme.com")).await;
    let user_id = user["id"].as_str().unwrap();
    let group = app.create_group(&group_body("Sales")).await;
    let group_id = group["id"].as_str().unwrap();
    for path in [
        "/Users/%00",
        "/Groups/a%00b",
        "/Users?filter=userName%20eq%20%22a%00%22",
        "/Users?startIndex=1&count=1&attributes=user%00Name",
    ] {
        let response = app.get(path).await;
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    }
    let response = app.post("/Users", &user_body("bob\u{0}@acme.com")).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let response = app
        .patch(
            &format!("/Groups/{group_id}"),
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": "x\u{0}"}]}])),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let response = app
        .patch(
            &format!("/Users/{user_id}"),
            &patch_body(json!([{"op": "replace", "path": "displayName", "value": "A\u{0}"}])),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    for path in [
        "/accounts/demo%00/pools",
        "/accounts/demo/activity?method=G%00T",
        "/accounts/demo/users/%00/licenses",
    ] {
        let response = app.admin(Method::GET, path).send().await.unwrap();
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    }
    // The server still answers, and the valid records are there.
    app.get_ok(&format!("/Users/{user_id}")).await;
}

async fn oversized_or_unprintable_request_ids_are_replaced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = "r".repeat(64 * 1024);
    let response = app
        .scim(Method::GET, "/Users?filter=userName%20eq%20%22a%22")
        .header("x-request-id", &huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let echoed = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(
        echoed.len() <= 128 && echoed != huge,
        "echoed {} bytes",
        echoed.len()
    );
    let response = app
        .scim(Method::GET, "/Users?filter=userName%20eq%20%22b%22")
        .header("x-request-id", "trace-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42");
    let records = activity(&app, 2).await;
    for record in &records {
        let id = record["requestId"].as_str().unwrap();
        assert!(id.len() <= 128, "stored request id of {} bytes", id.len());
    }
    assert_eq!(records[0]["requestId"], "trace-42");
}

/// `migrate` prints where it migrated without the database password.
async fn the_database_password_is_never_printed(backend: Backend) {
    let database = crate::helpers::TestDatabase::create(backend).await;
    let url = match backend {
        // Postgres here trusts local connections, so a password in the URL is ignored.
        Backend::Postgres => database.url.replacen("postgres@", "postgres:s3cret-pw@", 1),
        // No SQLite URL carries a password; an unsupported URL is echoed in the error.
        Backend::Sqlite => "mysql://scim:s3cret-pw@db.example.com/scim".to_owned(),
    };
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_linkedin-scim"))
        .arg("migrate")
        .env("LINKEDIN_SCIM_DATABASE_URL", &url)
        .env("LINKEDIN_SCIM_CONFIG", "/nonexistent/settings.toml")
        .output()
        .await
        .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains("s3cret-pw"), "{printed}");
    assert!(printed.contains("***"), "{printed}");
    assert_eq!(output.status.success(), backend == Backend::Postgres, "{printed}");
}

/// A graceful shutdown writes every queued activity record before the process ends
/// (records still queued at `kill -9` are lost, as the README says).
async fn a_graceful_shutdown_writes_the_queued_activity(backend: Backend) {
    let (app, stop) = TestApp::builder(backend).spawn_stoppable().await;
    let requests = 120;
    for i in 0..requests {
        let response = app
            .get(&format!("/Users?filter=userName%20eq%20%22u{i}%22"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    stop.stop().await;
    let store = linkedin_scim::store::connect(&app.database_url).await.unwrap();
    let demo = store.account_by_name("demo").await.unwrap().unwrap();
    let query = linkedin_scim::store::ActivityQuery {
        limit: 1000,
        ..Default::default()
    };
    let written = store.activity(&demo.id, &query).await.unwrap();
    assert_eq!(written.len(), requests);
}

backend_tests!(
    a_graceful_shutdown_writes_the_queued_activity,
    nul_anywhere_in_the_input_is_400_not_500,
    oversized_or_unprintable_request_ids_are_replaced,
    the_database_password_is_never_printed,
);
