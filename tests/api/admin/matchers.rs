//! `journal/expect` with what a connector test asserts on: request headers, the
//! tolerances that fired, the outcome, an injected fault, `atMost`, ordered sequences;
//! and a failure that says what differs (a JSON diff per near miss, closest first).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, acme};
use crate::helpers::{Backend, PATCH_SCHEMA, TestApp, id_of, user_body};

async fn expect(app: &TestApp, account: &str, pattern: Value) -> (StatusCode, Value) {
    super::journal::expect(app, account, pattern).await
}

/// PATCH the demo user `id` with these operations, as sent (no helper normalises them).
async fn patch(app: &TestApp, id: &str, operations: Value) {
    let body = json!({"schemas": [PATCH_SCHEMA], "Operations": operations});
    let response = app
        .scim(Method::PATCH, &format!("/Users/{id}"))
        .header("content-type", "application/scim+json")
        .header("user-agent", "Azure AD SCIM 1.0")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_failed_body_match_names_the_differing_members_closest_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = id_of(&app.create_user(&user_body("alice@acme.com")).await);
    // The create is three criteria off; the title PATCH three members of the body; the
    // deactivation one.
    patch(
        &app,
        &id,
        json!([{"op": "Replace", "path": "title", "value": "CEO"}]),
    )
    .await;
    patch(
        &app,
        &id,
        json!([{"op": "Replace", "path": "active", "value": false}]),
    )
    .await;
    let (status, body) = expect(
        &app,
        "demo",
        json!({"method": "PATCH", "path": "/scim/v2/Users/*",
               "bodyJson": {"Operations": [{"op": "replace", "path": "active", "value": false}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    let closest = body["closest"].as_array().cloned().unwrap_or_default();
    assert_eq!(closest.len(), 3, "{body}");
    let nearest = &closest[0];
    assert_eq!(
        nearest["request"]["requestBody"]
            .as_str()
            .map(|b| b.contains("active")),
        Some(true)
    );
    assert_eq!(
        nearest["differences"],
        json!([{"criterion": "bodyJson", "path": "Operations[0].op",
                "actual": "Replace", "expected": "replace",
                "message": "`Operations[0].op` is `Replace`, expected `replace`"}]),
        "{body}"
    );
    assert_eq!(
        nearest["mismatches"],
        json!(["body: `Operations[0].op` is `Replace`, expected `replace`"])
    );
    let second: Vec<&str> = closest[1]["differences"]
        .as_array()
        .map(|d| d.iter().filter_map(|d| d["path"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        second,
        vec!["Operations[0].op", "Operations[0].path", "Operations[0].value"],
        "{body}"
    );
    // The create: a method off and a body with none of the members.
    assert_eq!(closest[2]["request"]["method"], "POST");
    assert!(
        closest[2]["differences"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["criterion"] == "method")),
        "{body}"
    );
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("`Operations[0].op` is `Replace`, expected `replace`"),
        "{detail}"
    );
    assert_eq!(body["examined"], 3);
}

async fn headers_and_tolerances_are_matched(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = id_of(&app.create_user(&user_body("alice@acme.com")).await);
    patch(
        &app,
        &id,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    let satisfied = |pattern: Value| {
        let app = &app;
        async move {
            let (status, body) = expect(app, "demo", pattern).await;
            assert_eq!(body["examined"], 2, "{body}");
            (status == StatusCode::OK, body)
        }
    };
    assert!(
        satisfied(json!({"headers": {"User-Agent": "Azure AD*"}, "exactly": 1}))
            .await
            .0
    );
    assert!(
        satisfied(json!({"headers": {"authorization": "Bearer *"}, "exactly": 2}))
            .await
            .0
    );
    assert!(
        satisfied(json!({"tolerated": ["capitalised_op", "string_boolean"], "exactly": 1}))
            .await
            .0
    );
    assert!(satisfied(json!({"method": "POST", "tolerated": []})).await.0);
    let (ok, body) = satisfied(json!({"method": "PATCH", "tolerated": []})).await;
    assert!(!ok);
    assert_eq!(
        body["closest"][0]["mismatches"],
        json!(["tolerated capitalised_op, string_boolean, expected none"]),
        "{body}"
    );
    let (ok, body) = satisfied(json!({"method": "PATCH", "headers": {"user-agent": "Okta*"}})).await;
    assert!(!ok);
    assert_eq!(
        body["closest"][0]["differences"][0],
        json!({"criterion": "headers", "path": "user-agent", "actual": "Azure AD SCIM 1.0",
               "expected": "Okta*", "message": "header user-agent is `Azure AD SCIM 1.0`, expected `Okta*`"}),
    );
    let (status, body) = expect(&app, "demo", json!({"tolerated": ["shouting"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

async fn outcomes_faults_and_at_most_are_matched(backend: Backend) {
    let app = acme(backend, "rfc").await;
    // Two seats: the third user waits.
    for name in ["a", "b", "c"] {
        app.create_user_as(SALESNAV, &user_body(&format!("{name}@acme.com")))
            .await;
    }
    let verdict = |pattern: Value| {
        let app = &app;
        async move { expect(app, "acme", pattern).await }
    };
    let (status, body) = verdict(json!({"outcome": "license assigned", "exactly": 2})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = verdict(json!({"outcome": "Waiting", "exactly": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["requests"][0]["requestBody"]
            .as_str()
            .is_some_and(|b| b.contains("c@acme.com"))
    );

    super::faults::set_fault_in(
        &app,
        "acme",
        json!({"configuration": "Sales Navigator", "kind": "error", "status": 503, "method": "GET", "count": 1}),
    )
    .await;
    for _ in 0..2 {
        app.get_as(SALESNAV, "/Users?count=1").await;
    }
    let (status, body) = verdict(json!({"method": "GET", "injected": "error 503", "exactly": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        verdict(json!({"method": "GET", "injected": false, "status": 200, "exactly": 1})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = verdict(json!({"method": "POST", "status": 201, "injected": true})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(
        body["closest"][0]["mismatches"],
        json!(["no fault was injected, expected one"])
    );

    // atMost: the retry budget a connector must keep to.
    let (status, body) = verdict(json!({"method": "GET", "atMost": 2})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = verdict(json!({"method": "POST", "atMost": 2})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["matched"], 3);
    assert_eq!(body["examined"], 5);
    assert_eq!(body["expected"], "at most 2 request(s): POST any path");
    let (status, body) = verdict(json!({"method": "POST", "atLeast": 1, "atMost": 3})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = verdict(json!({"atLeast": 3, "atMost": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn a_sequence_passes_in_order_and_names_the_step_that_had_no_match(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A connector's cycle: look the user up, create it, then deactivate it.
    let lookup = app
        .get(r#"/Users?filter=userName%20eq%20%22alice%40acme.com%22"#)
        .await;
    assert_eq!(lookup.status(), StatusCode::OK);
    let id = id_of(&app.create_user(&user_body("alice@acme.com")).await);
    patch(
        &app,
        &id,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;

    let cycle = |last: Value| {
        json!({"sequence": [
            {"method": "GET", "path": r#"/scim/v2/Users?filter=userName eq "alice@acme.com""#},
            {"method": "POST", "path": "/scim/v2/Users", "status": 201},
            last,
        ]})
    };
    let (status, body) = expect(
        &app,
        "demo",
        cycle(json!({"method": "PATCH", "bodyJson": {"Operations": [{"value": false}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["matched"], 3);
    assert_eq!(body["examined"], 3);
    let methods: Vec<&str> = body["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s["request"]["method"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(methods, vec!["GET", "POST", "PATCH"], "{body}");

    // Out of order: a PATCH before the lookup never happened.
    let (status, body) = expect(
        &app,
        "demo",
        json!({"sequence": [{"method": "PATCH"}, {"method": "GET"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["failedStep"], 2);
    assert_eq!(body["examined"], 3);
    let patched = body["steps"][0]["request"]["id"]
        .as_i64()
        .expect("step 1's match");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(&format!(
            "step 2 (GET any path) had no match after step 1's request #{patched}"
        )),
        "{detail}"
    );
    assert!(body.get("closest").is_none(), "nothing after the PATCH: {body}");

    // The third step off by one member: its near miss is the PATCH, diffed.
    let (status, body) = expect(
        &app,
        "demo",
        cycle(json!({"method": "PATCH", "bodyJson": {"Operations": [{"value": true}]}})),
    )
    .await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["failedStep"], 3);
    assert_eq!(
        body["closest"][0]["differences"][0]["path"], "Operations[0].value",
        "{body}"
    );
    let (status, _) = expect(
        &app,
        "demo",
        json!({"sequence": [{"method": "GET", "exactly": 1}]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = expect(
        &app,
        "demo",
        json!({"method": "GET", "sequence": [{"method": "GET"}]}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

backend_tests!(
    a_failed_body_match_names_the_differing_members_closest_first,
    headers_and_tolerances_are_matched,
    outcomes_faults_and_at_most_are_matched,
    a_sequence_passes_in_order_and_names_the_step_that_had_no_match,
);
