//! Per-configuration rate limits (issue 15): off by default, set through the admin API
//! or the CLI; beyond the limit a token gets 429 with `Retry-After` and a SCIM error,
//! recorded in the activity log like any request.

use std::time::Duration;

use linkedin_scim::center::seed::DEMO_CONFIGURATION;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error};

const OTHER_TOKEN: &str = "other-configuration-token-0123";

fn rate_limit_path(configuration: &str) -> String {
    format!("/accounts/demo/configurations/{configuration}/rate-limit")
}

async fn a_throttled_configuration_gets_429_with_retry_after_and_it_is_logged(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("demo", OTHER_TOKEN, "lenient")
        .spawn()
        .await;
    let path = rate_limit_path(DEMO_CONFIGURATION);
    let unset = app.admin(Method::GET, &path).send().await.unwrap();
    assert_eq!(unset.status(), StatusCode::NOT_FOUND, "off by default");
    for _ in 0..5 {
        assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    }

    let limit = json!({"requestsPerMinute": 1, "burst": 2});
    let set = app.admin(Method::PUT, &path).json(&limit).send().await.unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(app.admin_get_ok(&path).await, limit);

    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    let throttled = app.get("/Users").await;
    let wait: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    let body = assert_scim_error(throttled, StatusCode::TOO_MANY_REQUESTS, None).await;
    assert!(
        body["detail"].as_str().unwrap().contains("too many requests"),
        "{body}"
    );

    // The limit is the configuration's: another token of the account is not throttled.
    assert_eq!(app.get_as(OTHER_TOKEN, "/Users").await.status(), StatusCode::OK);

    let mut logged = Vec::new();
    for _ in 0..150 {
        let records = app.admin_get_ok("/accounts/demo/activity?status=429").await;
        logged = records.as_array().cloned().unwrap_or_default();
        if !logged.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged[0]["method"], "GET");
    assert!(logged[0]["configurationId"].is_string(), "{}", logged[0]);

    let removed = app.admin(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    let unset = app.admin(Method::GET, &path).send().await.unwrap();
    assert_eq!(unset.status(), StatusCode::NOT_FOUND);
}

async fn a_rate_limit_must_be_positive_and_name_a_configuration(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let zero = json!({"requestsPerMinute": 0, "burst": 1});
    let refused = app
        .admin(Method::PUT, &rate_limit_path(DEMO_CONFIGURATION))
        .json(&zero)
        .send()
        .await
        .unwrap();
    let body = assert_scim_error(refused, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(
        body["detail"].as_str().unwrap().contains("requestsPerMinute"),
        "{body}"
    );
    let unknown = app
        .admin(Method::PUT, &rate_limit_path("nope"))
        .json(&json!({"requestsPerMinute": 5, "burst": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
}

async fn the_cli_sets_and_removes_a_rate_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let run = |args: &'static [&'static str]| {
        let database_url = app.database_url.clone();
        async move {
            let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_linkedin-scim"))
                .args(args)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("LINKEDIN_SCIM_DATABASE_URL", database_url)
                .env("LINKEDIN_SCIM_CONFIG", "/nonexistent/linkedin-scim.toml")
                .output()
                .await
                .unwrap();
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    };
    run(&[
        "config",
        "rate-limit",
        "-a",
        "demo",
        "Demo",
        "--per-minute",
        "120",
        "--burst",
        "10",
    ])
    .await;
    let path = rate_limit_path(DEMO_CONFIGURATION);
    let limit: Value = app.admin_get_ok(&path).await;
    assert_eq!(limit, json!({"requestsPerMinute": 120, "burst": 10}));
    run(&["config", "rate-limit", "-a", "demo", "Demo", "--off"]).await;
    let unset = app.admin(Method::GET, &path).send().await.unwrap();
    assert_eq!(unset.status(), StatusCode::NOT_FOUND);
}

/// A throttled configuration's bucket refills by the server's clock: on a manual clock
/// it stays drained while the clock stands (whatever real time passes), `clock advance`
/// refills it, and `Retry-After` counts on that clock.
async fn the_rate_limit_refills_by_the_manual_clock(backend: Backend) {
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let clock = std::sync::Arc::new(linkedin_scim::clock::ManualClock::new(start));
    let app = TestApp::builder(backend).clock(clock).spawn().await;
    let path = rate_limit_path(DEMO_CONFIGURATION);
    let limit = json!({"requestsPerMinute": 1, "burst": 1});
    let set = app
        .admin(Method::PUT, &path)
        .json(&limit)
        .send()
        .await
        .expect("set");
    assert_eq!(set.status(), StatusCode::OK);
    let retry_after = |response: &reqwest::Response| -> Option<u64> {
        response.headers().get("retry-after")?.to_str().ok()?.parse().ok()
    };
    let advance = |seconds: i64| {
        let app = &app;
        async move {
            let response = app
                .admin(Method::POST, "/clock/advance")
                .json(&json!({"seconds": seconds}))
                .send()
                .await
                .expect("advance");
            assert_eq!(response.status(), StatusCode::OK);
        }
    };

    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    let throttled = app.get("/Users").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&throttled), Some(60));
    // Real time passes, the clock stands: still drained, the same wait.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let throttled = app.get("/Users").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&throttled), Some(60));
    advance(45).await;
    let throttled = app.get("/Users").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after(&throttled), Some(15));
    advance(15).await;
    assert_eq!(app.get("/Users").await.status(), StatusCode::OK);
    assert_eq!(app.get("/Users").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

backend_tests!(
    the_rate_limit_refills_by_the_manual_clock,
    a_throttled_configuration_gets_429_with_retry_after_and_it_is_logged,
    a_rate_limit_must_be_positive_and_name_a_configuration,
    the_cli_sets_and_removes_a_rate_limit,
);
