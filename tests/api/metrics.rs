//! `/metrics` (issue 15): Prometheus text behind the admin token (or open by setting),
//! requests by route template, latency histograms, seats per pool, database connections,
//! the activity queue and the tolerances fired.

use reqwest::StatusCode;
use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, id_of, patch_body, user_body};

const SALES_TOKEN: &str = "metrics-sales-token-0123456789";

const SEED: &str = r#"
[[accounts]]
name = "acme"
profile = "rfc"
[[accounts.instances]]
name = "Acme Sales Navigator"
product = "sales_navigator"
pools = [{ license_type = "Advanced Plus", seats = 5 }]
[[accounts.configurations]]
name = "Sales Navigator"
token = "metrics-sales-token-0123456789"
client_profile = "lenient"
auto_assign = { instance = "Acme Sales Navigator", license_type = "Advanced Plus" }
"#;

/// The value of the sample named `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) || line.starts_with(&format!("{name} ")))
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

async fn metrics_count_requests_by_route_and_show_seats_connections_and_tolerances(backend: Backend) {
    let app = TestApp::builder(backend).seed(SEED).spawn().await;
    let anonymous = app.get_unauthenticated("/metrics").await;
    assert_eq!(
        anonymous.status(),
        StatusCode::UNAUTHORIZED,
        "guarded by the admin token"
    );
    let scim_token = app
        .client
        .get(format!("{}/metrics", app.address))
        .bearer_auth(SALES_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        scim_token.status(),
        StatusCode::UNAUTHORIZED,
        "a SCIM token is not the admin token"
    );

    let user = app.create_user_as(SALES_TOKEN, &user_body("ann@acme.com")).await;
    let id = id_of(&user);
    for _ in 0..3 {
        assert_eq!(
            app.get_as(SALES_TOKEN, &format!("/Users/{id}")).await.status(),
            StatusCode::OK
        );
    }
    // `Replace`: a capitalised op, which the lenient profile tolerates.
    let patched = app
        .send_json_as(
            SALES_TOKEN,
            reqwest::Method::PATCH,
            &format!("/Users/{id}"),
            &patch_body(json!([{"op": "Replace", "path": "displayName", "value": "Ann"}])),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);

    let text = scrape(&app).await;
    let route = r#"route="/scim/v2/Users/{id}""#;
    let gets = sample(
        &text,
        "http_requests_total",
        &[route, r#"method="GET""#, r#"status="200""#],
    );
    assert!(
        gets.is_some_and(|n| n >= 3.0),
        "GET by route template: {gets:?}\n{text}"
    );
    assert!(!text.contains(&id), "a raw path leaked into the labels");
    let created = sample(
        &text,
        "http_requests_total",
        &[r#"route="/scim/v2/Users""#, r#"status="201""#],
    );
    assert!(created.is_some_and(|n| n >= 1.0), "{text}");
    let timed = sample(
        &text,
        "http_request_duration_seconds_count",
        &[route, r#"method="GET""#],
    );
    assert!(
        timed.is_some_and(|n| n >= 3.0),
        "latency histogram: {timed:?}\n{text}"
    );
    assert!(text.contains("http_request_duration_seconds_bucket{"), "{text}");

    let pool = [r#"account="acme""#, r#"license_type="Advanced Plus""#];
    let seats = |state: &str| {
        let state = format!(r#"state="{state}""#);
        let mut labels = pool.to_vec();
        labels.push(&state);
        sample(&text, "scim_pool_seats", &labels)
    };
    assert_eq!(seats("total"), Some(5.0), "{text}");
    assert_eq!(seats("used"), Some(1.0), "{text}");
    assert_eq!(seats("waiting"), Some(0.0), "{text}");
    assert_eq!(seats("free"), Some(4.0), "{text}");

    let max = sample(&text, "db_pool_max_connections", &[]);
    assert!(max.is_some_and(|n| n >= 1.0), "{text}");
    assert!(
        sample(&text, "db_pool_connections", &[r#"state="idle""#]).is_some(),
        "{text}"
    );
    assert!(
        sample(&text, "db_pool_connections", &[r#"state="in_use""#]).is_some(),
        "{text}"
    );
    assert!(sample(&text, "activity_queue_depth", &[]).is_some(), "{text}");
    let fired = sample(
        &text,
        "scim_tolerances_fired_total",
        &[r#"kind="capitalised_op""#],
    );
    assert!(
        fired.is_some_and(|n| n >= 1.0),
        "tolerances by kind: {fired:?}\n{text}"
    );
}

async fn metrics_can_be_opened_by_a_setting(backend: Backend) {
    let app = TestApp::builder(backend)
        .settings(|s| s.metrics_public = true)
        .spawn()
        .await;
    let response = app.get_unauthenticated("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(text.contains("db_pool_max_connections"), "{text}");
}

backend_tests!(
    metrics_count_requests_by_route_and_show_seats_connections_and_tolerances,
    metrics_can_be_opened_by_a_setting,
);
