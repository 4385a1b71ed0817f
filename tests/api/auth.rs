use reqwest::{Method, StatusCode};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, assert_scim_error};

async fn missing_malformed_and_unknown_tokens_are_401_with_www_authenticate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let url = format!("{}/Users", app.base());
    let cases = [
        app.client.get(&url),
        app.client.get(&url).header("authorization", "Basic dXNlcjpwYXNz"),
        app.client.get(&url).header("authorization", "Bearer"),
        app.client.get(&url).bearer_auth("not-a-known-token"),
        app.client.get(&url).bearer_auth("short"),
    ];
    for request in cases {
        let response = request.send().await.expect("request");
        assert_eq!(
            response.headers()["www-authenticate"],
            "Bearer realm=\"linkedin-scim\""
        );
        assert_scim_error(response, StatusCode::UNAUTHORIZED, None).await;
    }
}

async fn every_scim_route_requires_the_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in ["/ServiceProviderConfig", "/Schemas", "/ResourceTypes", "/Users/x"] {
        let response = app
            .client
            .get(format!("{}{path}", app.base()))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

async fn seeded_tokens_authenticate_idempotently(backend: Backend) {
    let seed = r#"
[[accounts]]
name = "acme"
profile = "linkedin"
[[accounts.configurations]]
name = "Entra"
token = "acme-entra-token"
client_profile = "entra"
[[accounts.configurations]]
name = "Okta"
token = "acme-okta-token"
client_profile = "okta"
"#;
    let app = TestApp::builder(backend).seed(seed).spawn().await;
    for token in ["acme-entra-token", "acme-okta-token"] {
        let response = app
            .scim_as(token, Method::GET, "/Users?count=0")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{token}");
    }
    // Re-applying the same seed to the same database changes nothing.
    let store = linkedin_scim::store::connect(&app.database_url)
        .await
        .expect("connect");
    let seed_file: linkedin_scim::center::seed::Seed = toml::from_str(seed).expect("seed");
    let now = linkedin_scim::clock::Clock::now_micros(&linkedin_scim::clock::SystemClock);
    linkedin_scim::center::seed::apply_seed(store.as_ref(), &seed_file, now)
        .await
        .expect("re-seed");
    let response = app
        .scim_as("acme-okta-token", Method::GET, "/Users?count=0")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

backend_tests!(
    missing_malformed_and_unknown_tokens_are_401_with_www_authenticate,
    every_scim_route_requires_the_token,
    seeded_tokens_authenticate_idempotently,
);
