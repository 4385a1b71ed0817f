//! GET /Groups/{id}: members, projection, conditional requests; and the `groups`
//! attribute of users, derived from the same membership table.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, GROUP_SCHEMA, TestApp, USER_SCHEMA, assert_scim_error, group_body, group_with, id_of, ids_of,
    member_values,
};

async fn get_returns_every_member(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let names: Vec<String> = (0..30).map(|i| format!("user{i:02}@acme.com")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ids = app.create_users(&names).await;
    let named = app
        .create_user(
            &json!({"schemas": [USER_SCHEMA], "userName": "carol@acme.com", "displayName": "Carol C"}),
        )
        .await;
    let carol = id_of(&named);
    let mut all = ids.clone();
    all.push(carol.clone());
    let group = app.create_group(&group_with("All", &all)).await;
    let fetched = app
        .get_ok(&format!("/Groups/{}", group["id"].as_str().expect("id")))
        .await;
    all.sort();
    assert_eq!(ids_of(&fetched["members"]), all);
    let carol_member = fetched["members"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["value"] == carol.as_str())
        .expect("carol");
    assert_eq!(
        carol_member,
        &json!({"value": carol, "display": "Carol C", "$ref": format!("{}/Users/{carol}", app.base()), "type": "User"})
    );
    assert_eq!(fetched, group, "GET equals the create response");
}

async fn excluded_members_and_attribute_selection_leave_members_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = app.create_users(&["alice@acme.com"]).await;
    let group = app
        .create_group(
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sales", "externalId": "x1",
                              "members": member_values(&ids)}),
        )
        .await;
    let id = group["id"].as_str().expect("id");
    let fetched = app
        .get_ok(&format!("/Groups/{id}?excludedAttributes=members"))
        .await;
    assert!(fetched.get("members").is_none(), "{fetched}");
    assert_eq!(fetched["displayName"], "Sales");
    assert_eq!(fetched["externalId"], "x1");
    let fetched = app.get_ok(&format!("/Groups/{id}?attributes=displayName")).await;
    assert_eq!(
        fetched,
        json!({"schemas": [GROUP_SCHEMA], "id": id, "displayName": "Sales"})
    );
    let fetched = app
        .get_ok(&format!("/Groups/{id}?attributes=members.value"))
        .await;
    assert_eq!(fetched["members"], json!([{"value": ids[0]}]));
}

async fn conditional_get_and_unknown_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app.create_group(&group_body("Sales")).await;
    let path = format!("/Groups/{}", group["id"].as_str().expect("id"));
    let response = app
        .scim(Method::GET, &path)
        .header("if-none-match", "W/\"1\"")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let response = app.get("/Groups/00000000-0000-0000-0000-000000000000").await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
}

async fn users_carry_their_groups(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ids = app.create_users(&["alice@acme.com", "bob@acme.com"]).await;
    let sales = app.create_group(&group_with("Sales", &ids)).await;
    let pilots = app.create_group(&group_with("Pilots", &ids[..1])).await;
    let sales_id = sales["id"].as_str().expect("id");
    let pilots_id = pilots["id"].as_str().expect("id");
    let alice = app.get_ok(&format!("/Users/{}", ids[0])).await;
    let mut expected = vec![
        json!({"value": sales_id, "display": "Sales", "$ref": format!("{}/Groups/{sales_id}", app.base()), "type": "direct"}),
        json!({"value": pilots_id, "display": "Pilots", "$ref": format!("{}/Groups/{pilots_id}", app.base()), "type": "direct"}),
    ];
    expected.sort_by_key(|g| g["value"].as_str().unwrap_or_default().to_owned());
    assert_eq!(alice["groups"], Value::Array(expected));
    // Lists carry them too (one query per page), and projection can drop them.
    let list = app.list_users("userName pr").await;
    let groups_per_user: Vec<usize> = list["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|u| u["groups"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(groups_per_user, vec![2, 1]);
    let bob = app
        .get_ok(&format!("/Users/{}?excludedAttributes=groups", ids[1]))
        .await;
    assert!(bob.get("groups").is_none(), "{bob}");
    // The readOnly attribute echoed by a client (Okta's PUT) is ignored, not stored.
    let mut echoed = alice.clone();
    echoed["groups"] = json!([]);
    let response = app.put(&format!("/Users/{}", ids[0]), &echoed).await;
    assert_eq!(response.status(), StatusCode::OK);
    let after: Value = response.json().await.expect("json");
    assert_eq!(after["groups"].as_array().map(Vec::len), Some(2));
    // Filters on users' groups run against the membership table.
    let list = app.list_users(&format!("groups.value eq \"{pilots_id}\"")).await;
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["id"], ids[0].as_str());
    let list = app.list_users("groups[display eq \"SALES\"]").await;
    assert_eq!(list["totalResults"], 2);
    let list = app.list_users("not (groups pr)").await;
    assert_eq!(list["totalResults"], 0);
}

backend_tests!(
    get_returns_every_member,
    excluded_members_and_attribute_selection_leave_members_out,
    conditional_get_and_unknown_ids,
    users_carry_their_groups,
);
