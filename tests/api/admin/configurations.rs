//! `/admin/api/accounts/{account}/configurations`: "+ Add new SCIM configuration", its
//! token shown once, token state, deletion; a seed re-applied at start-up keeps what an
//! admin changed at runtime.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{account_with_pool, assert_field_error, scim_configuration};
use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error, expect_json, user_body};

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

async fn a_configuration_issues_a_token_once_and_deletion_ends_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    account_with_pool(&app).await;
    let token = scim_configuration(&app, "Entra ID").await;
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
    let refreshed = app.refresh_token("seeded", "Entra%20ID").await;
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
    a_configuration_issues_a_token_once_and_deletion_ends_it,
    a_restart_with_the_same_seed_keeps_runtime_changes,
);
