//! `/admin/api/accounts/{account}/users`: licenses per product, search, paging, CSV
//! export, activation, moving a license, hard deletion.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{account_with_pool, assert_field_error, scim_configuration};
use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, user_body};

async fn users_list_with_licenses_export_and_hard_deletion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    account_with_pool(&app).await;
    let token = scim_configuration(&app, "Entra ID").await;
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
    // The seat the move freed in Advanced Plus went to the user waiting there.
    let pools = app.admin_get("/accounts/acme/pools").await;
    let used: Vec<(Value, Value, Value)> = pools
        .as_array()
        .expect("pools")
        .iter()
        .map(|p| (p["licenseType"].clone(), p["used"].clone(), p["waiting"].clone()))
        .collect();
    assert_eq!(
        used,
        vec![
            (json!("Advanced Plus"), json!(2), json!(0)),
            (json!("TeamLink Extend"), json!(1), json!(0))
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

backend_tests!(users_list_with_licenses_export_and_hard_deletion,);
