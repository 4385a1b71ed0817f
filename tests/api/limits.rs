//! Limits on expensive input (issue 15, issue 16 items 2, 5 and 7; docs/limits.md): each
//! answered with its SCIM error before any work is done, and the stored data untouched.

use linkedin_scim::accounts::FidelityPreset;
use linkedin_scim::scim::limits::{
    MAX_FILTER_BYTES, MAX_INDEXED_VALUE_BYTES, MAX_MEMBERS_PER_REQUEST, MAX_MULTI_VALUED_TERMS,
    MAX_PATCH_OPERATIONS, MAX_VALUES_PER_ATTRIBUTE,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, group_body, id_of, patch_body, user_body};

fn emails(n: usize) -> Value {
    (0..n)
        .map(|i| json!({"value": format!("e{i}@acme.com"), "type": "work"}))
        .collect()
}

async fn a_patch_over_the_operation_limit_is_413_and_changes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.create_user(&user_body("alice@acme.com")).await;
    let path = format!("/Users/{}", id_of(&user));
    let op = json!({"op": "replace", "path": "displayName", "value": "Changed"});
    let response = app
        .patch(
            &path,
            &patch_body(Value::Array(vec![op.clone(); MAX_PATCH_OPERATIONS + 1])),
        )
        .await;
    let body = assert_scim_error(response, StatusCode::PAYLOAD_TOO_LARGE, None).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&MAX_PATCH_OPERATIONS.to_string())
    );
    assert_eq!(
        app.get_ok(&path).await["meta"]["version"],
        user["meta"]["version"]
    );
    // At the limit, the request is served.
    app.patch_ok(&path, Value::Array(vec![op; MAX_PATCH_OPERATIONS]))
        .await;
}

async fn a_request_over_the_member_limit_is_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app.create_group(&group_body("Sales")).await;
    let path = format!("/Groups/{}", id_of(&group));
    let members: Vec<Value> = (0..=MAX_MEMBERS_PER_REQUEST)
        .map(|i| json!({"value": format!("u{i}")}))
        .collect();
    let response = app
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members", "value": members}])),
        )
        .await;
    assert_scim_error(response, StatusCode::PAYLOAD_TOO_LARGE, None).await;
    let mut body = group_body("Marketing");
    body["members"] = Value::Array(members);
    let response = app.post("/Groups", &body).await;
    assert_scim_error(response, StatusCode::PAYLOAD_TOO_LARGE, None).await;
}

async fn values_per_attribute_are_bounded_on_create_put_and_accumulated_patches(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = user_body("alice@acme.com");
    body["emails"] = emails(MAX_VALUES_PER_ATTRIBUTE + 1);
    let response = app.post("/Users", &body).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;

    body["emails"] = emails(MAX_VALUES_PER_ATTRIBUTE);
    let user = app.create_user(&body).await;
    let path = format!("/Users/{}", id_of(&user));
    body["emails"] = emails(MAX_VALUES_PER_ATTRIBUTE + 1);
    let response = app.put(&path, &body).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    // One more value, one operation at a time: the document is what is bounded.
    let response = app
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "emails", "value": [{"value": "one-more@acme.com"}]}])),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    let stored = app.get_ok(&path).await;
    assert_eq!(
        stored["emails"].as_array().unwrap().len(),
        MAX_VALUES_PER_ATTRIBUTE
    );
    assert_eq!(stored["meta"]["version"], user["meta"]["version"]);
}

async fn long_indexed_values_are_400_on_every_backend(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Over Postgres' btree entry limit (about 2,700 bytes), which used to answer 500.
    let long = "x".repeat(3_000);
    let bounded = "y".repeat(MAX_INDEXED_VALUE_BYTES);
    let mut user_cases = Vec::new();
    for (pointer, value) in [
        ("/userName", json!(long)),
        ("/externalId", json!(long)),
        ("/displayName", json!(long)),
        ("/emails/0/value", json!(long)),
        ("/userName", json!("é".repeat(MAX_INDEXED_VALUE_BYTES / 2 + 1))),
    ] {
        let mut body = user_body("alice@acme.com");
        body["displayName"] = json!("Alice");
        *body.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer}")) = value;
        user_cases.push(body);
    }
    let mut displayed = user_body("alice@acme.com");
    displayed["displayName"] = json!(long);
    for body in user_cases {
        let response = app.post("/Users", &body).await;
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    }
    let response = app.post("/Groups", &group_body(&long)).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;

    // Values at the bound are stored and indexed on both backends.
    let mut body = user_body(&bounded);
    body["externalId"] = json!(bounded);
    body["displayName"] = json!(bounded);
    body["emails"] = json!([{"value": bounded}]);
    let user = app.create_user(&body).await;
    let group = app.create_group(&group_body(&bounded)).await;

    for (path, attribute) in [
        (format!("/Users/{}", id_of(&user)), "displayName"),
        (format!("/Users/{}", id_of(&user)), "userName"),
        (format!("/Groups/{}", id_of(&group)), "displayName"),
    ] {
        let response = app
            .patch(
                &path,
                &patch_body(json!([{"op": "replace", "path": attribute, "value": long}])),
            )
            .await;
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    }
    let response = app.put(&format!("/Users/{}", id_of(&user)), &displayed).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
}

async fn filters_are_bounded_in_length_and_multi_valued_work(backend: Backend) {
    let app = TestApp::builder(backend)
        .profile(FidelityPreset::Rfc)
        .spawn()
        .await;
    let mut body = user_body("alice@acme.com");
    body["emails"] = emails(MAX_VALUES_PER_ATTRIBUTE);
    app.create_user(&body).await;
    let search = |filter: String| {
        let app = &app;
        async move {
            app.post("/Users/.search", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": filter}))
                .await
        }
    };
    let terms = |n: usize| vec!["emails.value co \"nomatch\""; n].join(" or ");
    // The filter of issue 16 item 7: 256 `co` terms on a multi-valued attribute.
    for filter in [terms(256), terms(MAX_MULTI_VALUED_TERMS + 1)] {
        assert_scim_error(search(filter).await, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    }
    let response = search(terms(MAX_MULTI_VALUED_TERMS)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let too_long = format!("userName eq \"{}\"", "a".repeat(MAX_FILTER_BYTES));
    assert_scim_error(
        search(too_long).await,
        StatusCode::BAD_REQUEST,
        Some("invalidFilter"),
    )
    .await;
    let response = app
        .scim(Method::GET, "/Users")
        .query(&[("filter", terms(MAX_MULTI_VALUED_TERMS + 1))])
        .send()
        .await
        .unwrap();
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
}

async fn deeply_nested_json_is_a_scim_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let depth = 10_000;
    let body = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
    let response = app
        .scim(Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    // The server still serves.
    app.create_user(&user_body("bob@acme.com")).await;
}

backend_tests!(
    a_patch_over_the_operation_limit_is_413_and_changes_nothing,
    a_request_over_the_member_limit_is_413,
    values_per_attribute_are_bounded_on_create_put_and_accumulated_patches,
    long_indexed_values_are_400_on_every_backend,
    filters_are_bounded_in_length_and_multi_valued_work,
    deeply_nested_json_is_a_scim_400,
);

/// Issue 15: a writer that finds SQLite's write lock held past the busy timeout is
/// answered 503 with `Retry-After`, never 500 "database is locked". (SQLite only: the
/// Postgres outage has its own tests.)
mod sqlite_busy {
    use sqlx::{Connection, Executor};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_held_write_lock_is_503_with_retry_after_then_served() {
        let app = TestApp::builder(Backend::Sqlite)
            .database_acquire_timeout_ms(300)
            .spawn()
            .await;
        let mut holder = sqlx::SqliteConnection::connect(&app.database_url).await.unwrap();
        holder.execute("BEGIN IMMEDIATE").await.unwrap();
        let response = app.post("/Users", &user_body("alice@acme.com")).await;
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        assert_scim_error(response, StatusCode::SERVICE_UNAVAILABLE, None).await;
        holder.execute("ROLLBACK").await.unwrap();
        app.create_user(&user_body("alice@acme.com")).await;
    }
}
