//! The Account Center's admin JSON API: accounts, instances, pools, SCIM configurations
//! and tokens, users, groups, and the OpenAPI document. Each test checks the happy path,
//! the 400 naming the field, 404 for another account's resources, and that a refused
//! request wrote nothing.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, group_with, user_body};

impl TestApp {
    async fn admin_json(&self, method: Method, path: &str, body: Value) -> Response {
        self.admin(method, path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request")
    }

    async fn admin_get(&self, path: &str) -> Value {
        let response = self.admin(Method::GET, path).send().await.expect("request");
        expect_json(response, StatusCode::OK, path).await
    }
}

/// A 400 whose detail starts with the field at fault (`seats: …`), or names it as the
/// missing or unknown member (`unknown field \`colour\``).
async fn assert_field_error(response: Response, field: &str) {
    let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.starts_with(&format!("{field}:")) || detail.contains(&format!("`{field}`")),
        "the error should name {field}: {body}"
    );
}

/// An account `acme` with a Sales Navigator instance and an Advanced Plus pool of 2.
async fn acme(app: &TestApp) {
    let created = app
        .admin_json(
            Method::POST,
            "/accounts",
            json!({"name": "acme", "profile": "linkedin"}),
        )
        .await;
    expect_json(created, StatusCode::CREATED, "account").await;
    let instance = app
        .admin_json(
            Method::POST,
            "/accounts/acme/instances",
            json!({"product": "sales_navigator", "name": "Acme SN"}),
        )
        .await;
    expect_json(instance, StatusCode::CREATED, "instance").await;
    let pool = app
        .admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "Advanced Plus", "seats": 2}),
        )
        .await;
    let pool = expect_json(pool, StatusCode::CREATED, "pool").await;
    assert_eq!(
        (pool["seats"].as_i64(), pool["free"].as_i64()),
        (Some(2), Some(2))
    );
}

/// Create a configuration auto-assigning Advanced Plus; its token.
async fn configuration(app: &TestApp, name: &str) -> String {
    let response = app
        .admin_json(
            Method::POST,
            "/accounts/acme/configurations",
            json!({"name": name, "autoAssign": true, "instance": "Acme SN", "licenseType": "Advanced Plus",
                   "clientProfile": "entra"}),
        )
        .await;
    let body = expect_json(response, StatusCode::CREATED, "configuration").await;
    assert_eq!(body["configuration"]["autoAssign"], true);
    assert_eq!(body["configuration"]["clientProfile"], "entra");
    body["token"]["token"].as_str().expect("token").to_owned()
}

async fn accounts_are_created_renamed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    acme(&app).await;
    let again = app
        .admin_json(Method::POST, "/accounts", json!({"name": "acme"}))
        .await;
    assert_scim_error(again, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_field_error(
        app.admin_json(Method::POST, "/accounts", json!({"name": "a b"}))
            .await,
        "name",
    )
    .await;
    assert_field_error(
        app.admin_json(Method::POST, "/accounts", json!({"name": "x", "colour": 1}))
            .await,
        "colour",
    )
    .await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts",
            json!({"name": "x", "fidelity": {"token_ttl_seconds": -1}}),
        )
        .await,
        "fidelity.token_ttl_seconds",
    )
    .await;
    let names: Vec<Value> = app
        .admin_get("/accounts")
        .await
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("acme"), json!("demo")], "nothing half-written");

    // Fidelity preset and overrides.
    let rfc = app
        .admin_json(
            Method::POST,
            "/accounts",
            json!({"name": "plain", "profile": "rfc", "fidelity": {"lock_admin_edits": true}}),
        )
        .await;
    let rfc = expect_json(rfc, StatusCode::CREATED, "rfc account").await;
    assert_eq!(rfc["fidelity"]["user_delete"], "delete");
    assert_eq!(rfc["fidelity"]["lock_admin_edits"], true);
    let renamed = app
        .admin_json(
            Method::PATCH,
            "/accounts/plain",
            json!({"name": "plain-2", "profile": "linkedin"}),
        )
        .await;
    let renamed = expect_json(renamed, StatusCode::OK, "rename").await;
    assert_eq!(renamed["fidelity"]["user_delete"], "deactivate");
    let taken = app
        .admin_json(Method::PATCH, "/accounts/plain-2", json!({"name": "acme"}))
        .await;
    assert_scim_error(taken, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_eq!(app.admin_get("/accounts/plain-2").await["name"], "plain-2");
    let gone = app
        .admin(Method::GET, "/accounts/plain")
        .send()
        .await
        .expect("request");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Deleting an account ends its tokens at once.
    let token = configuration(&app, "Okta").await;
    let ok = app
        .scim_as(&token, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), StatusCode::OK);
    let deleted = app
        .admin(Method::DELETE, "/accounts/acme")
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let refused = app
        .scim_as(&token, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let again = app
        .admin(Method::DELETE, "/accounts/acme")
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn instances_and_pools_are_validated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    acme(&app).await;
    let instances = app.admin_get("/accounts/acme/instances").await;
    assert_eq!(
        instances,
        json!([{"product": "sales_navigator", "name": "Acme SN"}])
    );
    let dup = app
        .admin_json(
            Method::POST,
            "/accounts/acme/instances",
            json!({"product": "learning", "name": "Acme SN"}),
        )
        .await;
    assert_scim_error(dup, StatusCode::CONFLICT, Some("uniqueness")).await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts/acme/instances",
            json!({"product": "Sales Navigator", "name": "x"}),
        )
        .await,
        "product",
    )
    .await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "Core", "seats": -1}),
        )
        .await,
        "seats",
    )
    .await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Nope", "licenseType": "Core", "seats": 1}),
        )
        .await,
        "instance",
    )
    .await;
    let dup_pool = app
        .admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "Advanced Plus", "seats": 1}),
        )
        .await;
    assert_scim_error(dup_pool, StatusCode::CONFLICT, Some("uniqueness")).await;
    let pools = app.admin_get("/accounts/acme/pools").await;
    assert_eq!(
        pools.as_array().map(Vec::len),
        Some(1),
        "nothing half-written: {pools}"
    );
    assert_eq!(pools[0]["seats"], 2);
    // Another account's instances are not reachable through this one.
    let other = app.admin_get("/accounts/demo/instances").await;
    assert!(
        other
            .as_array()
            .expect("instances")
            .iter()
            .all(|i| i["name"] != "Acme SN")
    );
    let missing = app
        .admin(Method::GET, "/accounts/nobody/instances")
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn a_configuration_issues_a_token_once_and_deletion_ends_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    acme(&app).await;
    let token = configuration(&app, "Entra ID").await;
    let created = app
        .send_json_as(&token, Method::POST, "/Users", &user_body("ann@acme.com"))
        .await;
    let user = expect_json(created, StatusCode::CREATED, "user").await;
    assert_eq!(
        user["urn:linkedin-scim:schemas:extension:license:2.0:User"]["licenses"][0]["licenseType"],
        "Advanced Plus"
    );

    let list = app
        .admin(Method::GET, "/accounts/acme/configurations")
        .send()
        .await
        .expect("request");
    let text = list.text().await.expect("body");
    assert!(!text.contains(&token), "the token is never shown again: {text}");
    let list: Value = serde_json::from_str(&text).expect("json");
    let entry = &list[0];
    assert_eq!(entry["name"], "Entra ID");
    assert_eq!(entry["instance"], "Acme SN");
    assert_eq!(entry["licenseType"], "Advanced Plus");
    assert_eq!(entry["token"]["source"], "runtime");
    assert!(entry["token"]["createdAt"].is_string(), "{entry}");
    assert!(
        entry["token"]["expiresAt"].is_string(),
        "LinkedIn tokens expire: {entry}"
    );
    // Last used: the latest activity record (written off the request path).
    let mut used = Value::Null;
    for _ in 0..50 {
        used = app.admin_get("/accounts/acme/configurations/Entra%20ID").await["token"]["lastUsedAt"].clone();
        if used.is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(used.is_string(), "last used is shown once the token was used");

    // Validation names the field; a refused create writes nothing.
    let attempts = [
        (
            json!({"name": "x", "autoAssign": true, "licenseType": "Advanced Plus"}),
            "instance",
        ),
        (
            json!({"name": "x", "autoAssign": true, "instance": "Acme SN"}),
            "licenseType",
        ),
        (
            json!({"name": "x", "autoAssign": true, "instance": "Acme SN", "licenseType": "Core"}),
            "licenseType",
        ),
        (
            json!({"name": "x", "autoAssign": true, "instance": "Nope", "licenseType": "Core"}),
            "instance",
        ),
        (json!({"name": "x", "instance": "Acme SN"}), "instance"),
        (json!({"name": " "}), "name"),
        (json!({"name": "x", "clientProfile": "netscape"}), "clientProfile"),
        (json!({"name": "x", "patchResponse": "maybe"}), "patchResponse"),
    ];
    for (body, field) in attempts {
        assert_field_error(
            app.admin_json(Method::POST, "/accounts/acme/configurations", body)
                .await,
            field,
        )
        .await;
    }
    let dup = app
        .admin_json(
            Method::POST,
            "/accounts/acme/configurations",
            json!({"name": "Entra ID"}),
        )
        .await;
    assert_scim_error(dup, StatusCode::CONFLICT, Some("uniqueness")).await;
    let list = app.admin_get("/accounts/acme/configurations").await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "nothing half-written: {list}"
    );

    // Auto-assign off: user data only.
    let data_only = app
        .admin_json(
            Method::POST,
            "/accounts/acme/configurations",
            json!({"name": "Okta"}),
        )
        .await;
    let data_only = expect_json(data_only, StatusCode::CREATED, "data only").await;
    assert_eq!(data_only["configuration"]["autoAssign"], false);

    // Deleting a configuration: its token gets 401 at once.
    let deleted = app
        .admin(Method::DELETE, "/accounts/acme/configurations/Entra%20ID")
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let refused = app
        .scim_as(
            &token,
            Method::GET,
            &format!("/Users/{}", user["id"].as_str().expect("id")),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let again = app
        .admin(Method::DELETE, "/accounts/acme/configurations/Entra%20ID")
        .send()
        .await
        .expect("request");
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn a_refreshed_token_replaces_the_old_one_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    acme(&app).await;
    let old = configuration(&app, "Entra ID").await;
    let refreshed = app
        .admin(Method::POST, "/accounts/acme/configurations/Entra%20ID/token")
        .send()
        .await
        .expect("request");
    let refreshed = expect_json(refreshed, StatusCode::CREATED, "refresh").await;
    let new = refreshed["token"].as_str().expect("token");
    assert_ne!(new, old);
    let probe = "/Users?filter=userName%20eq%20%22x%22";
    let status = |token: String| {
        let app = &app;
        async move {
            app.scim_as(&token, Method::GET, probe)
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    assert_eq!(status(old.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(new.to_owned()).await, StatusCode::OK);
    // Another account cannot refresh it.
    let other = app
        .admin(Method::POST, "/accounts/demo/configurations/Entra%20ID/token")
        .send()
        .await
        .expect("request");
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(status(new.to_owned()).await, StatusCode::OK);
}

async fn users_list_with_licenses_export_and_hard_deletion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    acme(&app).await;
    let token = configuration(&app, "Entra ID").await;
    let mut ids = Vec::new();
    for name in ["ann@acme.com", "bob@acme.com", "cy@acme.com"] {
        let created = app
            .send_json_as(&token, Method::POST, "/Users", &user_body(name))
            .await;
        ids.push(
            expect_json(created, StatusCode::CREATED, "user").await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let all = app.admin_get("/accounts/acme/users").await;
    assert_eq!(all["totalResults"], 3);
    let states: Vec<&str> = all["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            u["licenses"]
                .get(0)
                .and_then(|l| l["state"].as_str())
                .unwrap_or("none")
        })
        .collect();
    assert_eq!(states, vec!["assigned", "assigned", "waiting"], "two seats, FCFS");
    let found = app.admin_get("/accounts/acme/users?q=bob").await;
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["users"][0]["userName"], "bob@acme.com");
    let by_external = app.admin_get("/accounts/acme/users?q=ext-cy%40acme.com").await;
    assert_eq!(by_external["users"][0]["userName"], "cy@acme.com");
    let page = app.admin_get("/accounts/acme/users?startIndex=2&count=1").await;
    assert_eq!(
        (
            page["totalResults"].as_u64(),
            page["users"].as_array().map(Vec::len)
        ),
        (Some(3), Some(1))
    );
    assert_field_error(
        app.admin(Method::GET, "/accounts/acme/users?filter=userName%20zz%20%22x%22")
            .send()
            .await
            .expect("request"),
        "filter",
    )
    .await;
    let csv = app
        .admin(Method::GET, "/accounts/acme/users?format=csv")
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("csv");
    assert!(csv.starts_with("id,userName,externalId"), "{csv}");
    assert!(
        csv.contains("ann@acme.com,ext-ann@acme.com,,true,sales_navigator,Acme SN,Advanced Plus,assigned"),
        "{csv}"
    );

    // Activate, then the other account cannot see the user.
    let activated = app
        .admin(
            Method::POST,
            &format!(
                "/accounts/acme/users/{}/licenses/sales_navigator/activate",
                ids[0]
            ),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(activated.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.admin_get(&format!("/accounts/acme/users/{}", ids[0])).await["licenses"][0]["state"],
        "activated"
    );
    let elsewhere = app
        .admin(Method::GET, &format!("/accounts/demo/users/{}", ids[0]))
        .send()
        .await
        .expect("request");
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let pools = app.admin_get("/accounts/acme/pools").await;
    assert_eq!(
        (
            pools[0]["activated"].as_i64(),
            pools[0]["assigned"].as_i64(),
            pools[0]["waiting"].as_i64(),
            pools[0]["free"].as_i64()
        ),
        (Some(1), Some(1), Some(1), Some(0))
    );

    // Moving a license to another pool of the product: locked under LinkedIn fidelity.
    let teamlink = app
        .admin_json(
            Method::POST,
            "/accounts/acme/pools",
            json!({"instance": "Acme SN", "licenseType": "TeamLink Extend", "seats": 1}),
        )
        .await;
    let teamlink = expect_json(teamlink, StatusCode::CREATED, "pool").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let move_to = |pool: String| json!({ "pool": pool });
    let locked = app
        .admin_json(
            Method::POST,
            &format!("/accounts/acme/users/{}/licenses/sales_navigator/move", ids[0]),
            move_to(teamlink.clone()),
        )
        .await;
    assert_eq!(locked.status(), StatusCode::FORBIDDEN);
    let unlocked = app
        .admin_json(
            Method::PATCH,
            "/accounts/acme",
            json!({"fidelity": {"lock_admin_edits": false}}),
        )
        .await;
    assert_eq!(unlocked.status(), StatusCode::OK);
    let moved = app
        .admin_json(
            Method::POST,
            &format!("/accounts/acme/users/{}/licenses/sales_navigator/move", ids[0]),
            move_to(teamlink.clone()),
        )
        .await;
    let moved = expect_json(moved, StatusCode::OK, "move").await;
    assert_eq!(
        (
            moved["licenses"][0]["licenseType"].as_str(),
            moved["licenses"][0]["state"].as_str()
        ),
        (Some("TeamLink Extend"), Some("activated"))
    );
    let full = app
        .admin_json(
            Method::POST,
            &format!("/accounts/acme/users/{}/licenses/sales_navigator/move", ids[1]),
            move_to(teamlink.clone()),
        )
        .await;
    assert_scim_error(full, StatusCode::CONFLICT, None).await;
    assert_field_error(
        app.admin_json(
            Method::POST,
            &format!("/accounts/acme/users/{}/licenses/sales_navigator/move", ids[1]),
            move_to("nope".into()),
        )
        .await,
        "pool",
    )
    .await;
    let pools = app.admin_get("/accounts/acme/pools").await;
    let used: Vec<(Value, Value)> = pools
        .as_array()
        .expect("pools")
        .iter()
        .map(|p| (p["licenseType"].clone(), p["used"].clone()))
        .collect();
    assert_eq!(
        used,
        vec![
            (json!("Advanced Plus"), json!(1)),
            (json!("TeamLink Extend"), json!(1))
        ]
    );

    // Hard deletion: all ids must exist, else nothing is deleted.
    let partly_unknown = app
        .admin_json(
            Method::POST,
            "/accounts/acme/users/deletion",
            json!({"ids": [ids[1], "nope"]}),
        )
        .await;
    assert_eq!(partly_unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.admin_get("/accounts/acme/users").await["totalResults"], 3);
    assert_field_error(
        app.admin_json(Method::POST, "/accounts/acme/users/deletion", json!({"ids": []}))
            .await,
        "ids",
    )
    .await;
    let from_other = app
        .admin_json(
            Method::POST,
            "/accounts/demo/users/deletion",
            json!({"ids": [ids[1]]}),
        )
        .await;
    assert_eq!(from_other.status(), StatusCode::NOT_FOUND);
    let deleted = app
        .admin_json(
            Method::POST,
            "/accounts/acme/users/deletion",
            json!({"ids": [ids[1]]}),
        )
        .await;
    assert_eq!(
        expect_json(deleted, StatusCode::OK, "deletion").await["deleted"],
        1
    );
    let gone = app
        .scim_as(&token, Method::GET, &format!("/Users/{}", ids[1]))
        .send()
        .await
        .expect("request");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.admin_get("/accounts/acme/users").await["totalResults"], 2);
}

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
    acme(&app).await;
    let elsewhere = app
        .admin(Method::GET, &format!("/accounts/acme/groups/{group}"))
        .send()
        .await
        .expect("request");
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

async fn every_admin_endpoint_needs_the_admin_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let endpoints = [
        (Method::GET, "/accounts"),
        (Method::POST, "/accounts"),
        (Method::GET, "/accounts/demo"),
        (Method::PATCH, "/accounts/demo"),
        (Method::DELETE, "/accounts/demo"),
        (Method::GET, "/accounts/demo/instances"),
        (Method::POST, "/accounts/demo/instances"),
        (Method::GET, "/accounts/demo/pools"),
        (Method::POST, "/accounts/demo/pools"),
        (Method::GET, "/accounts/demo/configurations"),
        (Method::POST, "/accounts/demo/configurations"),
        (Method::GET, "/accounts/demo/configurations/Demo"),
        (Method::DELETE, "/accounts/demo/configurations/Demo"),
        (Method::POST, "/accounts/demo/configurations/Demo/token"),
        (Method::GET, "/accounts/demo/users"),
        (Method::POST, "/accounts/demo/users/deletion"),
        (Method::GET, "/accounts/demo/users/x"),
        (Method::GET, "/accounts/demo/groups"),
        (Method::GET, "/accounts/demo/groups/x"),
        (Method::DELETE, "/accounts/demo/groups/x/members/y"),
        (Method::GET, "/accounts/demo/activity"),
        (Method::POST, "/accounts/demo/reset"),
    ];
    for (method, path) in endpoints {
        let url = format!("{}/admin/api{path}", app.address);
        let none = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .expect("request");
        assert_eq!(
            none.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} without a token"
        );
        let scim = app
            .client
            .request(method.clone(), &url)
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("request");
        assert_eq!(
            scim.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} with a SCIM token"
        );
    }
    // The demo account is still there, with its configuration.
    assert_eq!(
        app.admin_get("/accounts/demo/configurations").await[0]["name"],
        "Demo"
    );
    let on_scim = app
        .scim_as(&app.admin_token, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_eq!(on_scim.status(), StatusCode::UNAUTHORIZED);
}

async fn the_openapi_document_describes_the_admin_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .client
        .get(format!("{}/admin/api/openapi.json", app.address))
        .send()
        .await
        .expect("request");
    let doc = expect_json(response, StatusCode::OK, "openapi").await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/admin/api/accounts",
        "/admin/api/accounts/{account}",
        "/admin/api/accounts/{account}/instances",
        "/admin/api/accounts/{account}/pools",
        "/admin/api/accounts/{account}/pools/{pool}",
        "/admin/api/accounts/{account}/configurations",
        "/admin/api/accounts/{account}/configurations/{configuration}",
        "/admin/api/accounts/{account}/configurations/{configuration}/token",
        "/admin/api/accounts/{account}/users",
        "/admin/api/accounts/{account}/users/deletion",
        "/admin/api/accounts/{account}/users/{user}/licenses/{product}/activate",
        "/admin/api/accounts/{account}/groups/{group}/members",
        "/admin/api/accounts/{account}/activity",
        "/admin/api/accounts/{account}/reset",
    ] {
        assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    assert!(doc["components"]["schemas"]["NewScimConfiguration"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["admin_token"]["scheme"],
        "bearer"
    );
}

const SEED: &str = r#"
[[accounts]]
name = "seeded"
[[accounts.instances]]
name = "Seeded SN"
product = "sales_navigator"
[[accounts.instances.pools]]
license_type = "Advanced Plus"
seats = 3
[[accounts.configurations]]
name = "Entra ID"
token = "seeded-token-123"
auto_assign = { instance = "Seeded SN", license_type = "Advanced Plus" }
"#;

/// Restart the server on the same database with the same seed file.
async fn restart_with_seed(app: &TestApp) -> String {
    let path = std::env::temp_dir().join(format!("lscim-seed-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, SEED).expect("write seed");
    let settings = linkedin_scim::config::Settings {
        database_url: app.database_url.clone(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        admin_token: Some(app.admin_token.clone().into()),
        demo_token: Some(app.token.clone().into()),
        seed: Some(path),
        ..linkedin_scim::config::Settings::default()
    };
    let restarted =
        linkedin_scim::Application::build(settings, std::sync::Arc::new(linkedin_scim::clock::SystemClock))
            .await
            .expect("restart");
    let address = format!("http://127.0.0.1:{}", restarted.port());
    tokio::spawn(restarted.run_until_stopped());
    address
}

async fn a_restart_with_the_same_seed_keeps_runtime_changes(backend: Backend) {
    let app = TestApp::builder(backend).seed(SEED).spawn().await;
    let probe = "/scim/v2/Users?filter=userName%20eq%20%22x%22";
    let status = |base: String, token: String| {
        let client = app.client.clone();
        async move {
            client
                .get(format!("{base}{probe}"))
                .bearer_auth(token)
                .send()
                .await
                .expect("request")
                .status()
        }
    };
    assert_eq!(
        status(app.address.clone(), "seeded-token-123".into()).await,
        StatusCode::OK
    );
    let configs = app.admin_get("/accounts/seeded/configurations").await;
    assert_eq!(configs[0]["token"]["source"], "seed");
    let refreshed = app
        .admin(Method::POST, "/accounts/seeded/configurations/Entra%20ID/token")
        .send()
        .await
        .expect("request");
    let refreshed = expect_json(refreshed, StatusCode::CREATED, "refresh").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    // A runtime configuration and seat count the seed does not mention.
    let extra = app
        .admin_json(
            Method::POST,
            "/accounts/seeded/configurations",
            json!({"name": "Okta"}),
        )
        .await;
    let extra = expect_json(extra, StatusCode::CREATED, "extra").await["token"]["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let restarted = restart_with_seed(&app).await;
    assert_eq!(
        status(restarted.clone(), "seeded-token-123".into()).await,
        StatusCode::UNAUTHORIZED,
        "the seed's old token must not come back"
    );
    assert_eq!(status(restarted.clone(), refreshed).await, StatusCode::OK);
    assert_eq!(status(restarted.clone(), extra).await, StatusCode::OK);
    let configs: Value = app
        .client
        .get(format!("{restarted}/admin/api/accounts/seeded/configurations"))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let sources: Vec<(Value, Value)> = configs
        .as_array()
        .expect("configurations")
        .iter()
        .map(|c| (c["name"].clone(), c["token"]["source"].clone()))
        .collect();
    assert_eq!(
        sources,
        vec![
            (json!("Entra ID"), json!("runtime")),
            (json!("Okta"), json!("runtime"))
        ]
    );
}

backend_tests!(
    a_restart_with_the_same_seed_keeps_runtime_changes,
    accounts_are_created_renamed_and_deleted,
    instances_and_pools_are_validated,
    a_configuration_issues_a_token_once_and_deletion_ends_it,
    a_refreshed_token_replaces_the_old_one_at_once,
    users_list_with_licenses_export_and_hard_deletion,
    groups_show_member_origins_and_direct_members_come_and_go,
    every_admin_endpoint_needs_the_admin_token,
    the_openapi_document_describes_the_admin_api,
);
