use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, LIST_SCHEMA, TestApp, assert_scim_error, user_body};

async fn user_name_eq_matches_case_insensitively(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.create_user(&user_body("Alice@Acme.com")).await;
    app.create_user(&user_body("bob@acme.com")).await;
    let list = app.list_users("userName eq \"alice@ACME.COM\"").await;
    assert_eq!(list["schemas"], json!([LIST_SCHEMA]));
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["startIndex"], 1);
    assert_eq!(list["itemsPerPage"], 1);
    assert_eq!(list["Resources"][0]["id"], alice["id"]);
}

async fn external_id_eq_is_case_exact(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut body = user_body("alice@acme.com");
    body["externalId"] = json!("AbC-123");
    let alice = app.create_user(&body).await;
    let list = app.list_users("externalId eq \"AbC-123\"").await;
    assert_eq!(list["Resources"][0]["id"], alice["id"]);
    let list = app.list_users("externalId eq \"abc-123\"").await;
    assert_eq!(list["totalResults"], 0);
}

async fn no_match_is_200_with_an_empty_list_response(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Entra's Test Connection: a random GUID as userName.
    let list = app
        .list_users("userName eq \"8d2c9a50-64f4-4c2a-9a3e-0c3b0a4b1e2f\"")
        .await;
    assert_eq!(list["totalResults"], 0);
    assert_eq!(list["itemsPerPage"], 0);
    assert_eq!(list["Resources"], json!([]));
}

async fn paging_is_stable_and_one_based(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 0..5 {
        app.create_user(&user_body(&format!("user{i}@acme.com"))).await;
    }
    let mut seen = Vec::new();
    for start in [1, 3, 5] {
        let page: Value = app
            .get(&format!("/Users?startIndex={start}&count=2"))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(page["totalResults"], 5);
        assert_eq!(page["startIndex"], start);
        for r in page["Resources"].as_array().expect("array") {
            seen.push(r["userName"].as_str().expect("userName").to_owned());
        }
    }
    let mut expected: Vec<String> = (0..5).map(|i| format!("user{i}@acme.com")).collect();
    expected.sort();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "every user exactly once across pages");
    let totals: Value = app.get("/Users?count=0").await.json().await.expect("json");
    assert_eq!(totals["totalResults"], 5);
    assert_eq!(totals["Resources"], json!([]));
}

async fn sort_by_user_name_descending(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["b@x.com", "C@x.com", "a@x.com"] {
        app.create_user(&user_body(name)).await;
    }
    let page: Value = app
        .get("/Users?sortBy=userName&sortOrder=descending")
        .await
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = page["Resources"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["userName"].as_str())
        .collect();
    assert_eq!(names, vec!["C@x.com", "b@x.com", "a@x.com"]);
}

async fn post_search_takes_the_same_query(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("alice@acme.com")).await;
    app.create_user(&user_body("bob@acme.com")).await;
    let response = app
        .post(
            "/Users/.search",
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "userName sw \"ali\"",
                "attributes": ["userName"],
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 1);
    assert!(list["Resources"][0].get("name").is_none());
}

async fn malformed_filter_is_400_invalid_filter(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for filter in [
        "userName eq",
        "userName equals \"x\"",
        "(userName eq \"x\"",
        "nosuchattr eq \"x\"",
    ] {
        let response = app
            .scim(Method::GET, "/Users")
            .query(&[("filter", filter)])
            .send()
            .await
            .expect("request");
        assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
    }
}

backend_tests!(
    user_name_eq_matches_case_insensitively,
    external_id_eq_is_case_exact,
    no_match_is_200_with_an_empty_list_response,
    paging_is_stable_and_one_based,
    sort_by_user_name_descending,
    post_search_takes_the_same_query,
    malformed_filter_is_400_invalid_filter,
);
