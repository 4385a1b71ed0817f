//! GET /Groups and POST /Groups/.search: the filters Okta and Entra send, and member
//! filters answered from the membership table.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, GROUP_SCHEMA, LIST_SCHEMA, TestApp, assert_scim_error, group_body, group_with, member_values,
};

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|g| g["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn okta_and_entra_match_groups_by_display_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let list = app
        .list_groups(
            "displayName eq \"Sales EMEA\"",
            &[("startIndex", "1"), ("count", "100")],
        )
        .await;
    assert_eq!(list["schemas"], json!([LIST_SCHEMA]));
    assert_eq!(list["totalResults"], 0);
    assert_eq!(list["Resources"], json!([]));
    let user = app.create_users(&["alice@acme.com"]).await;
    let group = app
        .create_group(
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales EMEA", "externalId": "ext-1",
                              "members": member_values(&user)}),
        )
        .await;
    // Case-insensitive (displayName is caseExact=false).
    let list = app.list_groups("displayName eq \"sales emea\"", &[]).await;
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["startIndex"], 1);
    assert_eq!(list["itemsPerPage"], 1);
    assert_eq!(list["Resources"][0], group, "members included by default");
    // Entra's match leaves the members out.
    let list = app
        .list_groups(
            "displayName eq \"Sales EMEA\"",
            &[("excludedAttributes", "members")],
        )
        .await;
    assert!(list["Resources"][0].get("members").is_none(), "{list}");
    let list = app.list_groups("externalId eq \"ext-1\"", &[]).await;
    assert_eq!(list["totalResults"], 1);
    let list = app.list_groups("externalId eq \"EXT-1\"", &[]).await;
    assert_eq!(list["totalResults"], 0, "externalId is caseExact");
}

async fn member_filters_use_the_membership_table(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app.create_users(&["alice@acme.com", "bob@acme.com"]).await;
    let both = app.create_group(&group_with("Both", &users)).await;
    let alice_only = app.create_group(&group_with("Alice only", &users[..1])).await;
    let empty = app.create_group(&group_body("Empty")).await;
    let (both, alice_only, empty) = (
        both["id"].as_str().expect("id"),
        alice_only["id"].as_str().expect("id"),
        empty["id"].as_str().expect("id"),
    );
    let (alice, bob) = (&users[0], &users[1]);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (format!("members[value eq \"{bob}\"]"), vec![both]),
        (format!("members eq \"{alice}\""), vec![both, alice_only]),
        (
            format!("members.value eq \"{}\"", alice.to_uppercase()),
            vec![both, alice_only],
        ),
        (format!("members ne \"{bob}\""), vec![alice_only, empty]),
        (format!("id eq \"{both}\" and members eq \"{bob}\""), vec![both]),
        (format!("id eq \"{alice_only}\" and members eq \"{bob}\""), vec![]),
        ("members pr".into(), vec![both, alice_only]),
        ("not (members pr)".into(), vec![empty]),
        ("members[display sw \"BOB\"]".into(), vec![both]),
        (
            format!("members[value eq \"{alice}\" and type eq \"User\"]"),
            vec![both, alice_only],
        ),
        (
            format!("members[value eq \"{bob}\" or display eq \"alice@acme.com\"]"),
            vec![both, alice_only],
        ),
        (
            "members.display co \"@acme\" and displayName sw \"a\"".into(),
            vec![alice_only],
        ),
    ];
    for (filter, expected) in cases {
        let list = app
            .list_groups(&filter, &[("excludedAttributes", "members")])
            .await;
        assert_eq!(ids(&list), expected, "{filter}");
    }
    let response = app
        .scim(Method::GET, "/Groups")
        .query(&[("filter", "members.$ref eq \"x\"")])
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
    let response = app
        .scim(Method::GET, "/Groups")
        .query(&[("filter", "displayName eq")])
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidFilter")).await;
}

async fn search_sorts_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for name in ["Charlie", "alpha", "Bravo"] {
        app.create_group(&group_body(name)).await;
    }
    let response = app
        .post(
            "/Groups/.search",
            &json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "sortBy": "displayName",
                "startIndex": 2,
                "count": 1,
                "attributes": ["displayName"],
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 3);
    assert_eq!(list["Resources"][0]["displayName"], "Bravo");
    let list = app.get_ok("/Groups?count=0").await;
    assert_eq!(list["totalResults"], 3);
    assert_eq!(list["Resources"], json!([]));
}

backend_tests!(
    okta_and_entra_match_groups_by_display_name,
    member_filters_use_the_membership_table,
    search_sorts_and_pages,
);
