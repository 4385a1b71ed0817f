//! `/admin/api/clock`: a server on a manual clock (`--clock manual`) keeps time still
//! until the admin API moves it; token expiry, `meta` times and first-come-first-served
//! order follow it.

use std::sync::Arc;

use chrono::DateTime;
use linkedin_scim::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, TEAMLINK, pair, seed, states};
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, id_of, user_body};

const START: &str = "2027-01-01T00:00:00.000000Z";

fn manual_clock() -> Arc<ManualClock> {
    let start = DateTime::parse_from_rfc3339(START).expect("valid").to_utc();
    Arc::new(ManualClock::new(start))
}

async fn advance(app: &TestApp, seconds: i64) -> Value {
    let response = app
        .admin(Method::POST, "/clock/advance")
        .json(&json!({ "seconds": seconds }))
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::OK, "advance the clock").await
}

async fn advancing_the_clock_past_a_tokens_expiry_gives_401(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed("linkedin", "fidelity = { token_ttl_seconds = 60 }"))
        .clock(manual_clock())
        .spawn()
        .await;
    let clock = app.admin_get_ok("/clock").await;
    assert_eq!(clock, json!({ "mode": "manual", "now": START }));
    let path = "/Users?filter=userName%20eq%20%22x%22";
    assert_eq!(app.get_as(SALESNAV, path).await.status(), StatusCode::OK);
    assert_eq!(advance(&app, 59).await["now"], "2027-01-01T00:00:59.000000Z");
    assert_eq!(app.get_as(SALESNAV, path).await.status(), StatusCode::OK);
    advance(&app, 1).await;
    let body = assert_scim_error(app.get_as(SALESNAV, path).await, StatusCode::UNAUTHORIZED, None).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("expired")),
        "{body}"
    );
    // Setting the clock back revives the token: time is whatever the clock says.
    let response = app
        .admin(Method::PUT, "/clock")
        .json(&json!({ "now": START }))
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::OK, "set the clock").await;
    assert_eq!(app.get_as(SALESNAV, path).await.status(), StatusCode::OK);
}

async fn meta_times_follow_the_manual_clock(backend: Backend) {
    let app = TestApp::builder(backend).clock(manual_clock()).spawn().await;
    let user = app.create_user(&user_body("clock@example.com")).await;
    assert_eq!(user["meta"]["created"], START, "{user}");
    assert_eq!(user["meta"]["lastModified"], START, "{user}");
    advance(&app, 3600).await;
    let patched = app
        .patch_ok(
            &format!("/Users/{}", id_of(&user)),
            json!([{"op": "replace", "path": "displayName", "value": "Later"}]),
        )
        .await;
    assert_eq!(patched["meta"]["created"], START, "{patched}");
    assert_eq!(
        patched["meta"]["lastModified"], "2027-01-01T01:00:00.000000Z",
        "{patched}"
    );
}

async fn fcfs_ties_at_one_instant_follow_request_order(backend: Backend) {
    // The clock stands still: every request below happens at the same microsecond.
    let app = TestApp::builder(backend)
        .seed(&seed("rfc", ""))
        .clock(manual_clock())
        .spawn()
        .await;
    let mut users = Vec::new();
    for name in ["a", "b", "c", "d", "e"] {
        users.push(
            app.create_user_as(TEAMLINK, &user_body(&format!("{name}@acme.com")))
                .await,
        );
    }
    // The one seat went to a; the rest wait. Each freed seat goes to the next in line.
    for (holder, next) in users.iter().zip(users.iter().skip(1)) {
        let response = app
            .delete_as(TEAMLINK, &format!("/Users/{}", id_of(holder)))
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let now = app.get_ok_as(TEAMLINK, &format!("/Users/{}", id_of(next))).await;
        assert_eq!(states(&now), vec![pair("sales_navigator", "assigned")], "{now}");
    }
}

async fn a_system_clock_cannot_be_moved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.admin_get_ok("/clock").await["mode"], "system");
    let response = app
        .admin(Method::POST, "/clock/advance")
        .json(&json!({ "seconds": 60 }))
        .send()
        .await
        .expect("request");
    let body = assert_scim_error(response, StatusCode::CONFLICT, None).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("--clock manual")),
        "{body}"
    );
    let response = app
        .admin(Method::PUT, "/clock")
        .json(&json!({ "now": "yesterday" }))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

backend_tests!(
    advancing_the_clock_past_a_tokens_expiry_gives_401,
    meta_times_follow_the_manual_clock,
    fcfs_ties_at_one_instant_follow_request_order,
    a_system_clock_cannot_be_moved,
);
