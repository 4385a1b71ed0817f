//! `/admin/api/accounts/{account}/groups`: members and their origin, direct members
//! added and removed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{account_with_pool, assert_field_error};
use crate::backend_tests;
use crate::helpers::{Backend, TestApp, expect_json, group_with, user_body};

async fn groups_show_member_origins_and_direct_members_come_and_go(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = app.create_user(&user_body("ann@acme.com")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bob = app.create_user(&user_body("bob@acme.com")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let group = app
        .create_group(&group_with("Sales", std::slice::from_ref(&ann)))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let added = app
        .admin_json(
            Method::POST,
            &format!("/accounts/demo/groups/{group}/members"),
            json!({"members": [bob]}),
        )
        .await;
    assert_eq!(expect_json(added, StatusCode::OK, "add").await["added"], 1);
    let groups = app.admin_get("/accounts/demo/groups").await;
    assert_eq!(groups[0]["displayName"], "Sales");
    let origins: Vec<(Value, Value)> = groups[0]["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["userName"].clone(), m["origin"].clone()))
        .collect();
    assert_eq!(
        origins,
        vec![
            (json!("ann@acme.com"), json!("scim")),
            (json!("bob@acme.com"), json!("admin"))
        ]
    );
    assert_field_error(
        app.admin_json(
            Method::POST,
            &format!("/accounts/demo/groups/{group}/members"),
            json!({"members": ["nope"]}),
        )
        .await,
        "members",
    )
    .await;
    let removed = app
        .admin(
            Method::DELETE,
            &format!("/accounts/demo/groups/{group}/members/{bob}"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let again = app
        .admin(
            Method::DELETE,
            &format!("/accounts/demo/groups/{group}/members/{bob}"),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.admin_get(&format!("/accounts/demo/groups/{group}")).await["members"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Another account does not see the group.
    account_with_pool(&app).await;
    let elsewhere = app
        .admin(Method::GET, &format!("/accounts/acme/groups/{group}"))
        .send()
        .await
        .expect("request");
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

backend_tests!(groups_show_member_origins_and_direct_members_come_and_go,);
