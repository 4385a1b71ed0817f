//! `/admin/api/accounts/{account}/journal`: the request journal as a test oracle —
//! redacted headers and bodies, filters and paging, JSON-lines export, `expect`,
//! retention, and requests refused for an expired token.

use std::sync::Arc;

use chrono::DateTime;
use linkedin_scim::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, spawn_with_clock};
use crate::helpers::{Backend, TestApp, expect_json, id_of, user_body};

async fn journal(app: &TestApp, account: &str, query: &str) -> Value {
    app.admin_get_ok(&format!("/accounts/{account}/journal{query}"))
        .await
}

fn records(page: &Value) -> Vec<Value> {
    page["records"].as_array().cloned().unwrap_or_default()
}

pub(super) async fn expect(app: &TestApp, account: &str, pattern: Value) -> (StatusCode, Value) {
    let response = app
        .admin(Method::POST, &format!("/accounts/{account}/journal/expect"))
        .json(&pattern)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

async fn the_journal_keeps_redacted_headers_and_bodies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = user_body("alice@acme.com");
    body["password"] = json!("hunter2-secret");
    let response = app
        .scim(Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .header("user-agent", "Okta SCIM Client 1.0")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let user = expect_json(response, StatusCode::CREATED, "create").await;
    let page = journal(&app, "demo", "").await;
    let all = records(&page);
    assert_eq!(all.len(), 1, "{page}");
    let r = &all[0];
    assert_eq!(r["method"], "POST");
    assert_eq!(r["status"], 201);
    assert_eq!(r["userAgent"], "Okta SCIM Client 1.0");
    assert_eq!(r["configurationName"], "Demo");
    assert!(
        r["at"]
            .as_str()
            .is_some_and(|t| DateTime::parse_from_rfc3339(t).is_ok()),
        "{r}"
    );
    assert_eq!(r["requestHeaders"]["authorization"], "Bearer [redacted]");
    assert_eq!(r["requestHeaders"]["user-agent"], "Okta SCIM Client 1.0");
    let sent: Value = serde_json::from_str(r["requestBody"].as_str().expect("body")).expect("json");
    assert_eq!(sent["userName"], "alice@acme.com");
    assert_eq!(sent["password"], "[redacted]");
    assert!(!page.to_string().contains("hunter2"), "{page}");
    assert!(
        !page.to_string().contains(&app.token),
        "the bearer token leaked: {page}"
    );
    let answered: Value = serde_json::from_str(r["responseBody"].as_str().expect("body")).expect("json");
    assert_eq!(answered["id"], user["id"]);
    assert!(
        r["responseHeaders"]["content-type"]
            .as_str()
            .is_some_and(|c| c.starts_with("application/scim+json")),
        "{r}"
    );
    assert_eq!(page["next"], r["id"]);
    // The activity view leaves the exchange out (the journal has it).
    let activity = app.admin_get_ok("/accounts/demo/activity").await;
    assert_eq!(activity[0]["id"], r["id"]);
    assert!(activity[0].get("requestBody").is_none(), "{activity}");
}

async fn bodies_are_cut_at_the_cap_and_capture_can_be_turned_off(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.journal_body_limit = 40)
        .spawn()
        .await;
    app.create_user(&user_body("a-rather-long-user-name@example.com"))
        .await;
    let r = &records(&journal(&app, "demo", "").await)[0];
    assert_eq!(r["requestBody"].as_str().map(str::len), Some(40), "{r}");
    assert_eq!(r["requestBodyTruncated"], true);
    assert_eq!(r["responseBodyTruncated"], true);
    assert!(r["responseBody"].as_str().is_some_and(|b| b.len() <= 40), "{r}");

    let off = TestApp::builder(backend)
        .settings(|s| s.journal_capture = false)
        .spawn()
        .await;
    off.create_user(&user_body("b@example.com")).await;
    let r = &records(&journal(&off, "demo", "").await)[0];
    assert_eq!(r["status"], 201);
    for member in ["requestHeaders", "requestBody", "responseHeaders", "responseBody"] {
        assert!(r.get(member).is_none(), "{member} kept with capture off: {r}");
    }
}

async fn the_journal_filters_pages_and_exports_json_lines(backend: Backend) {
    let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let (app, clock) = spawn_with_clock(backend, "rfc", "", start).await;
    let a = app.create_user_as(SALESNAV, &user_body("a@acme.com")).await;
    clock.advance(chrono::Duration::hours(1));
    let b = app.create_user_as(SALESNAV, &user_body("b@acme.com")).await;
    assert_eq!(
        app.get_as(SALESNAV, &format!("/Users/{}", id_of(&a)))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(SALESNAV, "/Users/no-such-user").await.status(),
        StatusCode::NOT_FOUND
    );

    let all = records(&journal(&app, "acme", "").await);
    assert_eq!(all.len(), 4);
    let count = |q: &'static str| {
        let app = &app;
        async move { records(&journal(app, "acme", q).await).len() }
    };
    assert_eq!(count("?method=post").await, 2);
    assert_eq!(count("?status=404").await, 1);
    assert_eq!(count("?path=/scim/v2/Users/no-").await, 1);
    assert_eq!(count("?configuration=Sales%20Navigator").await, 4);
    assert_eq!(count("?configuration=Learning").await, 0);
    assert_eq!(count("?since=2027-01-01T00:30:00Z").await, 3);
    let by_resource = records(&journal(&app, "acme", &format!("?resourceId={}", id_of(&b))).await);
    assert_eq!(by_resource.len(), 1);
    assert_eq!(by_resource[0]["at"], "2027-01-01T01:00:00.000000Z");

    // Paging: oldest first, `next` continues after the page.
    let first = journal(&app, "acme", "?limit=3").await;
    assert_eq!(records(&first).len(), 3);
    let rest = journal(&app, "acme", &format!("?limit=3&after={}", first["next"])).await;
    let rest = records(&rest);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["status"], 404);

    let response = app
        .admin(Method::GET, "/accounts/acme/journal?format=jsonl")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("text");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines, all);

    let response = app
        .admin(Method::GET, "/accounts/acme/journal?since=yesterday")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

async fn expect_answers_with_the_matches_or_the_closest_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("alice@acme.com")).await;
    app.create_user(&user_body("bob@acme.com")).await;

    let (status, body) = expect(
        &app,
        "demo",
        json!({"method": "POST", "path": "/scim/v2/Users", "status": 201,
               "bodyJson": {"userName": "bob@acme.com"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["matched"], 1);
    assert_eq!(body["requests"][0]["method"], "POST");

    let (status, body) = expect(&app, "demo", json!({"path": "/scim/v2/Users*", "exactly": 2})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Never received: 417 with the closest requests and what differed.
    let (status, body) = expect(
        &app,
        "demo",
        json!({"method": "POST", "path": "/scim/v2/Users", "bodyContains": "carol@acme.com"}),
    )
    .await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["satisfied"], false);
    assert_eq!(body["matched"], 0);
    assert_eq!(
        body["closest"][0]["mismatches"],
        json!(["body does not contain \"carol@acme.com\""]),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("carol@acme.com")),
        "{body}"
    );

    // "none": a request that must not have been made.
    let (status, _) = expect(&app, "demo", json!({"method": "DELETE", "none": true})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = expect(&app, "demo", json!({"method": "POST", "none": true})).await;
    assert_eq!(status, StatusCode::EXPECTATION_FAILED, "{body}");
    assert_eq!(body["matched"], 2);

    let (status, _) = expect(&app, "demo", json!({"pathRegex": "("})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = expect(&app, "demo", json!({"atLeast": 1, "none": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn retention_prunes_by_age_and_by_rows(backend: Backend) {
    let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let clock = Arc::new(ManualClock::new(start));
    let app = TestApp::builder(backend)
        .clock(clock.clone())
        .settings(|s| {
            s.journal_max_age_seconds = 3600;
            s.journal_max_rows = 3;
        })
        .spawn()
        .await;
    for name in ["a", "b"] {
        app.create_user(&user_body(&format!("{name}@example.com"))).await;
    }
    clock.advance(chrono::Duration::minutes(61));
    for name in ["c", "d", "e", "f"] {
        app.create_user(&user_body(&format!("{name}@example.com"))).await;
    }
    let prune = |app: &TestApp| app.admin(Method::POST, "/journal/prune").send();
    let pruned = expect_json(prune(&app).await.expect("request"), StatusCode::OK, "prune").await;
    // a and b are over an hour old; of c-f, the newest three stay.
    assert_eq!(pruned["pruned"], 3, "{pruned}");
    let left = records(&journal(&app, "demo", "").await);
    let names: Vec<String> = left
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(r["requestBody"].as_str().unwrap_or("{}")).expect("json");
            body["userName"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(names, ["d@example.com", "e@example.com", "f@example.com"]);
}

async fn a_request_with_an_expired_token_is_journaled_against_its_configuration(backend: Backend) {
    let start = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("valid")
        .to_utc();
    let (app, clock) = spawn_with_clock(
        backend,
        "linkedin",
        "fidelity = { token_ttl_seconds = 60 }",
        start,
    )
    .await;
    clock.advance(chrono::Duration::seconds(60));
    assert_eq!(
        app.get_as(SALESNAV, "/Users?count=1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = expect(
        &app,
        "acme",
        json!({"status": 401, "configuration": "Sales Navigator", "exactly": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["requests"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("expired")),
        "{body}"
    );
}

async fn requests_with_a_revoked_token_are_journaled_against_its_configuration(backend: Backend) {
    use crate::helpers::acme::{LEARNING, acme};
    let app = acme(backend, "rfc").await;
    let refreshed = app.refresh_token("acme", "Sales%20Navigator").await;
    assert!(refreshed.status().is_success());
    assert_eq!(
        app.get_as(SALESNAV, "/Users?count=1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let deleted = app
        .admin(Method::DELETE, "/accounts/acme/configurations/Learning")
        .send()
        .await
        .expect("request");
    assert!(deleted.status().is_success());
    assert_eq!(
        app.get_as(LEARNING, "/Users?count=1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // A token that never existed names nothing: it is not journaled.
    assert_eq!(
        app.get_as("never-a-token-here", "/Users?count=1").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let all = records(&journal(&app, "acme", "").await);
    let refused: Vec<(&Value, &Value)> = all
        .iter()
        .map(|r| (&r["status"], &r["configurationName"]))
        .collect();
    assert_eq!(
        refused,
        [
            (&json!(401), &json!("Sales Navigator")),
            (&json!(401), &json!("Learning"))
        ]
    );
}

async fn a_body_with_a_raw_nul_is_journaled_as_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sent = b"{\"userName\":\"nul\x00byte@acme.com\",\"note\":\"back\\\\slash \\\\0\"}".to_vec();
    let response = app
        .scim(Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .body(sent.clone())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = journal(&app, "demo", "").await;
    let all = records(&page);
    assert_eq!(all.len(), 1, "the record of a NUL body was not stored: {page}");
    let body = all[0]["requestBody"].as_str().expect("the body is kept");
    assert_eq!(body.as_bytes(), sent.as_slice(), "{page}");
    assert_eq!(all[0]["status"], 400);
    assert!(all[0].get("requestBodyTruncated").is_none(), "{page}");
}

backend_tests!(
    a_body_with_a_raw_nul_is_journaled_as_sent,
    requests_with_a_revoked_token_are_journaled_against_its_configuration,
    the_journal_keeps_redacted_headers_and_bodies,
    bodies_are_cut_at_the_cap_and_capture_can_be_turned_off,
    the_journal_filters_pages_and_exports_json_lines,
    expect_answers_with_the_matches_or_the_closest_requests,
    retention_prunes_by_age_and_by_rows,
    a_request_with_an_expired_token_is_journaled_against_its_configuration,
);
