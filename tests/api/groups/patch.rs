//! PATCH /Groups/{id}: every shape Entra ID and Okta send (shared/reference/idp-clients.md),
//! the two IdPs' whole group flows, and `admin` members surviving a SCIM replace.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{
    Backend, ENTRA_GROUP_SCHEMA, GROUP_SCHEMA, TestApp, assert_scim_error, concurrently, group_body,
    group_with, id_of, ids_of, member_values, patch_body, sorted, user_body,
};

async fn members_of(app: &TestApp, group_id: &str) -> Vec<String> {
    ids_of(&app.get_ok(&format!("/Groups/{group_id}")).await["members"])
}

async fn okta_group_push_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app
        .create_users(&["alice@acme.com", "bob@acme.com", "carol@acme.com"])
        .await;
    let (alice, bob, carol) = (&users[0], &users[1], &users[2]);
    // 1. Is the group there? 0 results → create it, with no members.
    let list = app
        .list_groups(
            "displayName eq \"Okta Sales\"",
            &[("startIndex", "1"), ("count", "100")],
        )
        .await;
    assert_eq!(list["totalResults"], 0);
    let group = app.create_group(&group_body("Okta Sales")).await;
    let gid = id_of(&group);
    let path = format!("/Groups/{gid}");
    // 2. Name sync (echoing the id) before every membership update, then one request
    //    that removes one member and adds others.
    app.patch_ok(
        &path,
        json!([{"op": "replace", "value": {"id": gid, "displayName": "Okta Sales"}}]),
    )
    .await;
    app.patch_ok(
        &path,
        json!([{"op": "add", "path": "members", "value": [
            {"value": alice, "display": "alice@acme.com"},
            {"value": bob, "display": "bob@acme.com"}]}]),
    )
    .await;
    let patched = app
        .patch_ok(
            &path,
            json!([
                {"op": "replace", "value": {"id": gid, "displayName": "Okta Sales EMEA"}},
                {"op": "remove", "path": format!("members[value eq \"{alice}\"]")},
                {"op": "add", "path": "members", "value": [{"value": carol, "display": "carol@acme.com"}]},
            ]),
        )
        .await;
    assert_eq!(patched["displayName"], "Okta Sales EMEA");
    // The answer is the whole group (RFC 7644 §3.5.2), members included.
    assert_eq!(ids_of(&patched["members"]), sorted(&[bob, carol]));
    assert_eq!(members_of(&app, &gid).await, sorted(&[bob, carol]));
    // 3. A full push replaces the members.
    app.patch_ok(
        &path,
        json!([{"op": "replace", "path": "members", "value": member_values(&[alice])}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, vec![alice.clone()]);
    // 4. Unlink → delete in the target app.
    let response = app.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_scim_error(app.get(&path).await, StatusCode::NOT_FOUND, None).await;
}

async fn entra_group_flow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app
        .create_users(&["alice@acme.com", "bob@acme.com", "carol@acme.com"])
        .await;
    let (alice, bob, carol) = (&users[0], &users[1], &users[2]);
    let list = app
        .list_groups(
            "displayName eq \"Learning\"",
            &[("excludedAttributes", "members")],
        )
        .await;
    assert_eq!(list["totalResults"], 0);
    let group = app
        .create_group(&json!({
            "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
            "externalId": "0f1e2d3c",
            "displayName": "Learning",
            "meta": {"resourceType": "Group"},
        }))
        .await;
    let gid = id_of(&group);
    let path = format!("/Groups/{gid}");
    let fetched = app.get_ok(&format!("{path}?excludedAttributes=members")).await;
    assert!(fetched.get("members").is_none(), "{fetched}");
    // Several members in one Add (the gallery checklist), with Entra's null $ref.
    app.patch_ok(
        &path,
        json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": alice}, {"$ref": null, "value": bob}, {"$ref": null, "value": carol}]}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, sorted(&[alice, bob, carol]));
    // The membership probe, answered from the index.
    let probe = |user: &String| format!("id eq \"{gid}\" and members eq \"{user}\"");
    let hits = app
        .list_groups(&probe(alice), &[("excludedAttributes", "members")])
        .await;
    assert_eq!(hits["totalResults"], 1);
    assert!(hits["Resources"][0].get("members").is_none());
    // Default job: remove with a value list.
    app.patch_ok(
        &path,
        json!([{"op": "Remove", "path": "members", "value": [{"value": alice}]}]),
    )
    .await;
    let hits = app
        .list_groups(&probe(alice), &[("excludedAttributes", "members")])
        .await;
    assert_eq!(hits["totalResults"], 0);
    // With aadOptscim062020: a filtered remove, lower-case op.
    app.patch_ok(
        &format!("{path}?aadOptscim062020"),
        json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, vec![carol.clone()]);
    // Rename.
    let renamed = app
        .patch_ok(
            &path,
            json!([{"op": "Replace", "path": "displayName", "value": "Learning EMEA"}]),
        )
        .await;
    assert_eq!(renamed["displayName"], "Learning EMEA");
    assert_eq!(renamed["externalId"], "0f1e2d3c");
    let response = app.delete(&path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
}

async fn membership_changes_bump_the_version_and_no_ops_do_not(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app.create_users(&["alice@acme.com"]).await;
    let group = app.create_group(&group_body("Sales")).await;
    let path = format!("/Groups/{}", id_of(&group));
    let added = app
        .patch_ok(
            &path,
            json!([{"op": "add", "path": "members", "value": member_values(&users)}]),
        )
        .await;
    assert_eq!(added["meta"]["version"], "W/\"2\"");
    assert_ne!(added["meta"]["lastModified"], group["meta"]["lastModified"]);
    // Adding an existing member, or removing a non-member, changes nothing.
    let again = app
        .patch_ok(
            &path,
            json!([{"op": "add", "path": "members", "value": member_values(&users)}]),
        )
        .await;
    assert_eq!(again["meta"]["version"], "W/\"2\"");
    let again = app
        .patch_ok(
            &path,
            json!([{"op": "remove", "path": "members[value eq \"00000000-0000-0000-0000-000000000000\"]"}]),
        )
        .await;
    assert_eq!(again["meta"]["version"], "W/\"2\"");
    // The response honours `attributes`.
    let response = app
        .patch(
            &format!("{path}?attributes=members,displayName"),
            &patch_body(json!([{"op": "replace", "path": "displayName", "value": "Sales 2"}])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "W/\"3\"");
    let body: Value = response.json().await.expect("json");
    assert_eq!(ids_of(&body["members"]), users);
    assert!(body.get("meta").is_none());
    let body = app
        .patch_ok(
            &format!("{path}?excludedAttributes=members"),
            json!([{"op": "replace", "path": "displayName", "value": "Sales 3"}]),
        )
        .await;
    assert!(body.get("members").is_none(), "{body}");
}

async fn no_content_configurations_get_204(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(
            r#"
[[accounts]]
name = "demo"
[[accounts.configurations]]
name = "Entra"
token = "entra-no-content-token"
client_profile = "entra"
patch_response = "no_content"
"#,
        )
        .spawn()
        .await;
    let users = app.create_users(&["alice@acme.com"]).await;
    let gid = id_of(&app.create_group(&group_body("Sales")).await);
    let path = format!("/Groups/{gid}");
    let body = patch_body(json!([{"op": "Add", "path": "members", "value": member_values(&users)}]));
    let response = app
        .send_json_as("entra-no-content-token", Method::PATCH, &path, &body)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["etag"], "W/\"2\"");
    assert_eq!(members_of(&app, &gid).await, users);
}

async fn unknown_member_in_a_patch_writes_nothing(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("other", "other-account-token", "lenient")
        .spawn()
        .await;
    let users = app.create_users(&["alice@acme.com"]).await;
    let group = app.create_group(&group_body("Sales")).await;
    let path = format!("/Groups/{}", id_of(&group));
    let response = app
        .patch(
            &path,
            &patch_body(json!([
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": [{"value": users[0]}, {"value": "nobody"}]},
            ])),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert_eq!(app.get_ok(&path).await, group, "no partial write");
    // Another account's user is no member candidate, and its existence does not leak.
    let response = app
        .send_json_as(
            "other-account-token",
            Method::POST,
            "/Users",
            &user_body("stranger@other.com"),
        )
        .await;
    let stranger: Value = response.json().await.expect("json");
    let stranger = id_of(&stranger);
    let response = app
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": stranger}]}])),
        )
        .await;
    let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("no user of this account")),
        "{body}"
    );
    let response = app
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members", "value": [{"value": ""}]}])),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    assert_eq!(app.get_ok(&path).await, group);
}

async fn admin_members_survive_a_scim_replace_of_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app
        .create_users(&["alice@acme.com", "bob@acme.com", "admin-added@acme.com"])
        .await;
    let (alice, bob, direct) = (&users[0], &users[1], &users[2]);
    let group = app.create_group(&group_with("Sales", &[alice])).await;
    let gid = id_of(&group);
    let path = format!("/Groups/{gid}");
    assert_eq!(app.add_admin_members(&gid, std::slice::from_ref(direct)).await, 1);
    assert_eq!(
        app.add_admin_members(&gid, std::slice::from_ref(direct)).await,
        0,
        "already a member"
    );
    assert_eq!(members_of(&app, &gid).await, sorted(&[alice, direct]));
    // Okta's "Push Now": replace of all members.
    app.patch_ok(
        &path,
        json!([{"op": "replace", "path": "members", "value": member_values(&[bob])}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, sorted(&[bob, direct]));
    // Removing "all" members is a replace with none: the admin member stays.
    app.patch_ok(&path, json!([{"op": "remove", "path": "members"}]))
        .await;
    assert_eq!(members_of(&app, &gid).await, vec![direct.clone()]);
    // Naming the member explicitly removes it, whatever its origin.
    app.patch_ok(
        &path,
        json!([{"op": "remove", "path": format!("members[value eq \"{direct}\"]")}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, Vec::<String>::new());
}

async fn general_member_filters_remove_matching_members(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app
        .create_users(&["ann@acme.com", "andy@acme.com", "bob@acme.com"])
        .await;
    let group = app.create_group(&group_with("Sales", &users)).await;
    let gid = id_of(&group);
    app.patch_ok(
        &format!("/Groups/{gid}"),
        json!([{"op": "remove", "path": "members[display sw \"AN\"]"}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, vec![users[2].clone()]);
}

async fn strict_profile_refuses_entra_remove_with_a_value_list(backend: Backend) {
    let app = TestApp::builder(backend)
        .configuration("demo", "strict-client-token", "strict")
        .spawn()
        .await;
    let users = app.create_users(&["alice@acme.com"]).await;
    let gid = id_of(&app.create_group(&group_with("Sales", &users)).await);
    let path = format!("/Groups/{gid}");
    let strict = "strict-client-token";
    let body = patch_body(json!([{"op": "remove", "path": "members", "value": [{"value": users[0]}]}]));
    let response = app.send_json_as(strict, Method::PATCH, &path, &body).await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
    assert_eq!(members_of(&app, &gid).await, users, "nothing removed");
    // The RFC shape works under strict.
    let body = patch_body(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", users[0])}]));
    let response = app.send_json_as(strict, Method::PATCH, &path, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(members_of(&app, &gid).await, Vec::<String>::new());
}

async fn stale_if_match_is_412_and_unknown_group_is_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let group = app.create_group(&group_body("Sales")).await;
    let path = format!("/Groups/{}", id_of(&group));
    let response = app
        .scim(Method::PATCH, &path)
        .header("content-type", "application/scim+json")
        .header("if-match", "W/\"7\"")
        .body(patch_body(json!([{"op": "replace", "path": "displayName", "value": "x"}])).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let response = app
        .patch(
            "/Groups/00000000-0000-0000-0000-000000000000",
            &patch_body(json!([{"op": "replace", "path": "displayName", "value": "x"}])),
        )
        .await;
    assert_scim_error(response, StatusCode::NOT_FOUND, None).await;
    // A filtered add on members is not something a client can mean.
    let response = app
        .patch(
            &path,
            &patch_body(json!([{"op": "add", "path": "members[value eq \"x\"]", "value": []}])),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidPath")).await;
}

async fn concurrent_member_adds_lose_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let names: Vec<String> = (0..20).map(|i| format!("u{i}@acme.com")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let users = app.create_users(&names).await;
    let group = app.create_group(&group_body("Busy")).await;
    let path = format!("/Groups/{}", id_of(&group));
    let requests = users
        .iter()
        .map(|user| {
            let body = patch_body(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
            app.scim(Method::PATCH, &path)
                .header("content-type", "application/scim+json")
                .body(body.to_string())
        })
        .collect();
    for status in concurrently(requests).await {
        assert_eq!(status, StatusCode::OK);
    }
    let mut expected = users.clone();
    expected.sort();
    let fetched = app.get_ok(&path).await;
    assert_eq!(ids_of(&fetched["members"]), expected);
    assert_eq!(fetched["meta"]["version"], "W/\"21\"");
}

async fn path_less_member_values_and_odd_shapes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let users = app.create_users(&["alice@acme.com", "bob@acme.com"]).await;
    let gid = id_of(&app.create_group(&group_body("Sales")).await);
    let path = format!("/Groups/{gid}");
    // Path-less add/replace carry members like any other attribute.
    app.patch_ok(
        &path,
        json!([{"op": "add", "value": {"members": [{"value": users[0]}]}}]),
    )
    .await;
    app.patch_ok(
        &path,
        json!([{"op": "replace", "value": {"displayName": "Sales 2", "members": [{"value": users[1]}]}}]),
    )
    .await;
    assert_eq!(members_of(&app, &gid).await, vec![users[1].clone()]);
    // Shapes a client should not send get a SCIM 400, never a 500.
    let odd = [
        json!([{"op": "add", "path": "members", "value": [{"value": 42}]}]),
        json!([{"op": "add", "path": "members", "value": "not-a-list"}]),
        json!([{"op": "add", "path": "members.value", "value": "x"}]),
        json!([{"op": "replace", "path": "members[value eq \"x\"].display", "value": "x"}]),
        json!([{"op": "remove", "path": "members[value gt 5]"}]),
        json!([{"op": "remove", "path": "members[$ref eq \"x\"]"}]),
        json!([{"op": "remove", "path": "members[nope eq \"x\"]"}]),
        json!([{"op": "add", "path": "members", "value": [{"value": "x".repeat(5000)}]}]),
    ];
    for operations in odd {
        let response = app.patch(&path, &patch_body(operations.clone())).await;
        assert!(
            response.status().is_client_error(),
            "{operations}: {}",
            response.status()
        );
    }
    assert_eq!(members_of(&app, &gid).await, vec![users[1].clone()]);
}

backend_tests!(
    okta_group_push_flow,
    entra_group_flow,
    membership_changes_bump_the_version_and_no_ops_do_not,
    unknown_member_in_a_patch_writes_nothing,
    admin_members_survive_a_scim_replace_of_members,
    general_member_filters_remove_matching_members,
    strict_profile_refuses_entra_remove_with_a_value_list,
    stale_if_match_is_412_and_unknown_group_is_404,
    concurrent_member_adds_lose_nothing,
    path_less_member_values_and_odd_shapes,
    no_content_configurations_get_204,
);
