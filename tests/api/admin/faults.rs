//! `/admin/api/accounts/{account}/faults`: faults injected on purpose — latency, 5xx at a
//! rate, 429 with `Retry-After`, a dropped connection — per configuration and path, for
//! N requests, a time span or until cleared; each shows in the journal as injected.

use std::time::{Duration, Instant};

use chrono::DateTime;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{LEARNING, SALESNAV, acme, seed, spawn_with_clock};
use crate::helpers::{Backend, TestApp, expect_json};

const LIST: &str = "/Users?count=1";

async fn set_fault(app: &TestApp, fault: Value) -> Value {
    set_fault_in(app, "acme", fault).await
}

/// Set a fault on `account`'s SCIM requests; its answer (201).
pub(super) async fn set_fault_in(app: &TestApp, account: &str, fault: Value) -> Value {
    let response = app
        .admin(Method::POST, &format!("/accounts/{account}/faults"))
        .json(&fault)
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::CREATED, "set a fault").await
}

async fn injected(app: &TestApp) -> Vec<Value> {
    let page = app.admin_get_ok("/accounts/acme/journal").await;
    page["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| r["injected"].clone())
        .collect()
}

async fn throttling_answers_429_with_retry_after_for_the_next_n_requests(backend: Backend) {
    let app = acme(backend, "rfc").await;
    set_fault(
        &app,
        json!({"configuration": "Sales Navigator", "kind": "throttle", "retryAfterSeconds": 7, "count": 2}),
    )
    .await;
    for _ in 0..2 {
        let response = app.get_as(SALESNAV, LIST).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "7");
    }
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);
    // Another configuration of the account was never affected.
    assert_eq!(app.get_as(LEARNING, LIST).await.status(), StatusCode::OK);
    let faults = app.admin_get_ok("/accounts/acme/faults").await;
    assert_eq!(faults, json!([]), "a used-up fault is gone");
    let throttle = json!("throttle 429, Retry-After 7");
    assert_eq!(
        injected(&app).await,
        [throttle.clone(), throttle, Value::Null, Value::Null]
    );
}

async fn errors_at_a_seeded_rate_repeat_and_keep_to_their_path(backend: Backend) {
    let mut runs = Vec::new();
    for _ in 0..2 {
        let app = acme(backend, "rfc").await;
        set_fault(
            &app,
            json!({"configuration": "Sales Navigator", "kind": "error", "status": 503,
                   "rate": 0.5, "seed": 42, "method": "GET", "path": "/scim/v2/Users*"}),
        )
        .await;
        let mut statuses = Vec::new();
        for _ in 0..16 {
            statuses.push(app.get_as(SALESNAV, LIST).await.status().as_u16());
        }
        // Other paths are untouched.
        assert_eq!(
            app.get_as(SALESNAV, "/Groups?count=1").await.status(),
            StatusCode::OK
        );
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1], "the same seed hits the same requests");
    assert!(runs[0].contains(&503) && runs[0].contains(&200), "{:?}", runs[0]);
}

async fn a_fault_path_matches_the_decoded_query(backend: Backend) {
    let app = acme(backend, "rfc").await;
    set_fault(
        &app,
        json!({"configuration": "Sales Navigator", "kind": "error", "status": 503,
               "path": "/scim/v2/Users?filter=userName eq \"alice@acme.com\""}),
    )
    .await;
    let lookup = |query: &'static str| {
        let app = &app;
        async move { app.get_as(SALESNAV, &format!("/Users?{query}")).await.status() }
    };
    assert_eq!(
        lookup("filter=userName+eq+%22alice%40acme.com%22").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        lookup("filter=userName%20EQ%20%22alice%40acme.com%22").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        lookup("filter=userName+eq+%22bob%40acme.com%22").await,
        StatusCode::OK
    );
}

async fn latency_delays_the_answer(backend: Backend) {
    let app = acme(backend, "rfc").await;
    set_fault(
        &app,
        json!({"configuration": "Sales Navigator", "kind": "latency", "millis": 300}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(injected(&app).await, [json!("latency 300 ms")]);
}

async fn a_dropped_connection_gets_no_answer(backend: Backend) {
    let app = acme(backend, "rfc").await;
    set_fault(
        &app,
        json!({"configuration": "Sales Navigator", "kind": "drop", "count": 1}),
    )
    .await;
    let outcome = match app.scim_as(SALESNAV, Method::GET, LIST).send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the client got a complete answer");
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);
    assert_eq!(injected(&app).await, [json!("dropped connection"), Value::Null]);
}

async fn a_timed_fault_ends_with_the_clock_and_faults_can_be_cleared(backend: Backend) {
    let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let (app, clock) = spawn_with_clock(backend, "rfc", "", start).await;
    let fault = set_fault(
        &app,
        json!({"configuration": "Sales Navigator", "kind": "error", "status": 500, "seconds": 60}),
    )
    .await;
    assert_eq!(fault["until"], "2027-01-01T00:01:00.000000Z");
    assert_eq!(
        app.get_as(SALESNAV, LIST).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    clock.advance(chrono::Duration::seconds(60));
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);

    let fault = set_fault(
        &app,
        json!({"configuration": "Sales Navigator", "kind": "error", "status": 502}),
    )
    .await;
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::BAD_GATEWAY);
    let response = app
        .admin(Method::DELETE, &format!("/accounts/acme/faults/{}", fault["id"]))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);

    set_fault(&app, json!({"configuration": "Sales Navigator", "kind": "drop"})).await;
    let cleared = app
        .admin(Method::DELETE, "/accounts/acme/faults")
        .send()
        .await
        .expect("request");
    assert_eq!(expect_json(cleared, StatusCode::OK, "clear").await["cleared"], 1);
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);

    for bad in [
        json!({"configuration": "Nope", "kind": "drop"}),
        json!({"configuration": "Sales Navigator", "kind": "error", "status": 404}),
        json!({"configuration": "Sales Navigator", "kind": "drop", "rate": 2}),
        json!({"configuration": "Sales Navigator", "kind": "explode"}),
        json!({"configuration": "Sales Navigator", "kind": "drop", "colour": "red"}),
    ] {
        let response = app
            .admin(Method::POST, "/accounts/acme/faults")
            .json(&bad)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
}

async fn a_seed_file_sets_faults_from_start_up(backend: Backend) {
    let extra =
        r#"faults = [{ configuration = "Sales Navigator", kind = "error", status = 503, count = 1 }]"#;
    let app = TestApp::builder(backend).seed(&seed("rfc", extra)).spawn().await;
    assert_eq!(
        app.get_as(SALESNAV, LIST).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(app.get_as(SALESNAV, LIST).await.status(), StatusCode::OK);
}

backend_tests!(
    a_fault_path_matches_the_decoded_query,
    throttling_answers_429_with_retry_after_for_the_next_n_requests,
    errors_at_a_seeded_rate_repeat_and_keep_to_their_path,
    latency_delays_the_answer,
    a_dropped_connection_gets_no_answer,
    a_timed_fault_ends_with_the_clock_and_faults_can_be_cleared,
    a_seed_file_sets_faults_from_start_up,
);
