//! LinkedIn licensing: first come, first served seats per pool, waiting, release on
//! deactivation and deletion, promotion, one identity across products, token refresh and
//! expiry, activation, and the seat invariant under concurrency from two server processes.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use linkedin_scim::clock::ManualClock;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, PATCH_SCHEMA, TestApp, assert_scim_error, expect_json, user_body};

const LICENSES: &str = "urn:linkedin-scim:schemas:extension:license:2.0:User";
const SALESNAV: &str = "acme-salesnav-token";
const TEAMLINK: &str = "acme-teamlink-token";
const LEARNING: &str = "acme-learning-token";
const SYNC: &str = "acme-sync-token";

fn seed(profile: &str, extra: &str) -> String {
    format!(
        r#"
[[accounts]]
name = "acme"
profile = "{profile}"
{extra}
[[accounts.instances]]
name = "Acme Sales Navigator"
product = "sales_navigator"
pools = [
  {{ license_type = "Advanced Plus", seats = 2 }},
  {{ license_type = "TeamLink Extend", seats = 1, promote_waiting = true }},
]
[[accounts.instances]]
name = "Acme Learning"
product = "learning"
pools = [{{ license_type = "LinkedIn Learning", seats = 3 }}]
[[accounts.configurations]]
name = "Sales Navigator"
token = "{SALESNAV}"
auto_assign = {{ instance = "Acme Sales Navigator", license_type = "Advanced Plus" }}
[[accounts.configurations]]
name = "TeamLink"
token = "{TEAMLINK}"
auto_assign = {{ instance = "Acme Sales Navigator", license_type = "TeamLink Extend" }}
[[accounts.configurations]]
name = "Learning"
token = "{LEARNING}"
auto_assign = {{ instance = "Acme Learning", license_type = "LinkedIn Learning" }}
[[accounts.configurations]]
name = "Sync"
token = "{SYNC}"
"#
    )
}

async fn acme(backend: Backend, profile: &str) -> TestApp {
    TestApp::builder(backend).seed(&seed(profile, "")).spawn().await
}

async fn create(app: &TestApp, token: &str, user_name: &str) -> Value {
    let response = app
        .send_as(token, Method::POST, "/Users", &user_body(user_name))
        .await;
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn patch_active(app: &TestApp, token: &str, id: &str, active: bool) -> Value {
    let body = json!({"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "active", "value": active}]});
    let response = app
        .send_as(token, Method::PATCH, &format!("/Users/{id}"), &body)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn states(user: &Value) -> Vec<(String, String)> {
    user[LICENSES]["licenses"]
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    (
                        l["product"].as_str().unwrap_or_default().to_owned(),
                        l["state"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pair(product: &str, state: &str) -> (String, String) {
    (product.to_owned(), state.to_owned())
}

async fn pool(app: &TestApp, license_type: &str) -> Value {
    let pools: Value = app
        .admin(Method::GET, "/accounts/acme/pools")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    pools
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["licenseType"] == license_type)
        .cloned()
        .expect("pool")
}

async fn fetch(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app
        .scim_as(token, Method::GET, path)
        .send()
        .await
        .expect("request");
    expect_json(response, StatusCode::OK, path).await
}

async fn get_status(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.scim_as(token, Method::GET, path)
        .send()
        .await
        .expect("request")
        .status()
}

async fn delete(app: &TestApp, token: &str, path: &str) -> StatusCode {
    app.scim_as(token, Method::DELETE, path)
        .send()
        .await
        .expect("request")
        .status()
}

fn id(user: &Value) -> String {
    user["id"].as_str().expect("id").to_owned()
}

async fn seats_go_first_come_first_served_and_a_full_pool_means_waiting(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = create(&app, SALESNAV, "a@acme.com").await;
    let b = create(&app, SALESNAV, "b@acme.com").await;
    let c = create(&app, SALESNAV, "c@acme.com").await;
    assert_eq!(states(&a), vec![pair("sales_navigator", "assigned")]);
    assert_eq!(states(&b), vec![pair("sales_navigator", "assigned")]);
    assert_eq!(
        states(&c),
        vec![pair("sales_navigator", "waiting")],
        "user data syncs, the license waits"
    );
    let license = &a[LICENSES]["licenses"][0];
    assert_eq!(license["instance"], "Acme Sales Navigator");
    assert_eq!(license["licenseType"], "Advanced Plus");
    assert!(license["assignedAt"].as_str().is_some());
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(
        (
            usage["seats"].as_i64(),
            usage["used"].as_i64(),
            usage["waiting"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    // The license state is filterable.
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Users")
        .query(&[("filter", format!("{LICENSES}:licenses.state eq \"waiting\""))])
        .send()
        .await
        .expect("request");
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["id"], c["id"]);
}

async fn deactivation_releases_the_seat_and_reactivation_requests_one_again(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = create(&app, SALESNAV, "a@acme.com").await;
    create(&app, SALESNAV, "b@acme.com").await;
    let c = create(&app, SALESNAV, "c@acme.com").await;
    let a_off = patch_active(&app, SALESNAV, &id(&a), false).await;
    assert_eq!(states(&a_off), vec![]);
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(usage["used"], 1);
    // Without promotion (LinkedIn's default), the waiting user keeps waiting …
    let c_now = fetch(&app, SALESNAV, &format!("/Users/{}", id(&c))).await;
    assert_eq!(states(&c_now), vec![pair("sales_navigator", "waiting")]);
    // … and the next request that comes in takes the free seat: c, touched by the IdP.
    let c_touched = patch_active(&app, SALESNAV, &id(&c), true).await;
    assert_eq!(states(&c_touched), vec![pair("sales_navigator", "assigned")]);
    // a is reactivated: the pool is full again, so a waits.
    let a_on = patch_active(&app, SALESNAV, &id(&a), true).await;
    assert_eq!(states(&a_on), vec![pair("sales_navigator", "waiting")]);
}

async fn a_promoting_pool_hands_a_freed_seat_to_the_first_waiting_user(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = create(&app, TEAMLINK, "a@acme.com").await;
    let b = create(&app, TEAMLINK, "b@acme.com").await;
    let c = create(&app, TEAMLINK, "c@acme.com").await;
    assert_eq!(states(&b), vec![pair("sales_navigator", "waiting")]);
    assert_eq!(states(&c), vec![pair("sales_navigator", "waiting")]);
    assert_eq!(
        delete(&app, TEAMLINK, &format!("/Users/{}", id(&a))).await,
        StatusCode::NO_CONTENT
    );
    for (user, expected) in [(&b, "assigned"), (&c, "waiting")] {
        let now = fetch(&app, TEAMLINK, &format!("/Users/{}", id(user))).await;
        assert_eq!(
            states(&now),
            vec![pair("sales_navigator", expected)],
            "FCFS promotion"
        );
    }
}

async fn deleting_a_user_releases_its_seats(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let a = create(&app, SALESNAV, "a@acme.com").await;
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 1);
    assert_eq!(
        delete(&app, SALESNAV, &format!("/Users/{}", id(&a))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 0);
}

async fn auto_assign_off_syncs_user_data_only(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let user = create(&app, SYNC, "a@acme.com").await;
    assert!(user.get(LICENSES).is_none(), "{user}");
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 0);
}

async fn one_person_is_one_user_with_a_license_per_product(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let user = create(&app, LEARNING, "a@acme.com").await;
    assert_eq!(states(&user), vec![pair("learning", "assigned")]);
    // The Sales Navigator IdP matches the same person by externalId …
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Users")
        .query(&[("filter", "externalId eq \"ext-a@acme.com\"")])
        .send()
        .await
        .expect("request");
    let list: Value = response.json().await.expect("json");
    assert_eq!(list["totalResults"], 1);
    assert_eq!(list["Resources"][0]["id"], user["id"]);
    // … and a POST of the same person is a conflict, not a second identity.
    let response = app
        .send_as(SALESNAV, Method::POST, "/Users", &user_body("a@acme.com"))
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, Some("uniqueness")).await;
    // Its update claims a Sales Navigator seat for the same user.
    let both = patch_active(&app, SALESNAV, &id(&user), true).await;
    assert_eq!(
        states(&both),
        vec![pair("learning", "assigned"), pair("sales_navigator", "assigned")]
    );
}

async fn strict_pools_refuse_the_write_when_full(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed("rfc", "fidelity = { when_pool_full = \"refuse\" }"))
        .spawn()
        .await;
    create(&app, SALESNAV, "a@acme.com").await;
    create(&app, SALESNAV, "b@acme.com").await;
    let response = app
        .send_as(SALESNAV, Method::POST, "/Users", &user_body("c@acme.com"))
        .await;
    assert_scim_error(response, StatusCode::CONFLICT, None).await;
    let list = fetch(&app, SALESNAV, "/Users?filter=userName%20eq%20%22c@acme.com%22").await;
    assert_eq!(list["totalResults"], 0, "nothing was written");
}

async fn activation_is_an_admin_action_and_waiting_licenses_cannot_activate(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let a = create(&app, SALESNAV, "a@acme.com").await;
    let path = format!(
        "/accounts/acme/users/{}/licenses/sales_navigator/activate",
        id(&a)
    );
    assert_eq!(
        app.admin(Method::POST, &path)
            .send()
            .await
            .expect("request")
            .status(),
        StatusCode::NO_CONTENT
    );
    let licenses: Value = app
        .admin(Method::GET, &format!("/accounts/acme/users/{}/licenses", id(&a)))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(licenses[0]["state"], "activated");
    assert!(licenses[0]["activatedAt"].as_str().is_some());
    create(&app, SALESNAV, "b@acme.com").await;
    let c = create(&app, SALESNAV, "c@acme.com").await;
    let path = format!(
        "/accounts/acme/users/{}/licenses/sales_navigator/activate",
        id(&c)
    );
    let response = app.admin(Method::POST, &path).send().await.expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, None).await;
    // The admin API needs its own token.
    let response = app
        .client
        .get(format!("{}/admin/api/accounts", app.address))
        .bearer_auth(SALESNAV)
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn admin_revocation_is_locked_under_linkedin_and_allowed_under_rfc(backend: Backend) {
    for (profile, expected) in [
        ("linkedin", StatusCode::FORBIDDEN),
        ("rfc", StatusCode::NO_CONTENT),
    ] {
        let app = acme(backend, profile).await;
        let a = create(&app, SALESNAV, "a@acme.com").await;
        let path = format!("/accounts/acme/users/{}/licenses/sales_navigator", id(&a));
        let response = app.admin(Method::DELETE, &path).send().await.expect("request");
        assert_eq!(response.status(), expected, "{profile}");
        let used = pool(&app, "Advanced Plus").await["used"].as_i64();
        assert_eq!(used, Some(if expected == StatusCode::NO_CONTENT { 0 } else { 1 }));
    }
}

async fn seat_counts_change_but_never_below_the_seats_in_use(backend: Backend) {
    let app = acme(backend, "rfc").await;
    create(&app, SALESNAV, "a@acme.com").await;
    create(&app, SALESNAV, "b@acme.com").await;
    let c = create(&app, SALESNAV, "c@acme.com").await;
    let pool_id = pool(&app, "Advanced Plus").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/accounts/acme/pools/{pool_id}");
    let response = app
        .admin(Method::PATCH, &path)
        .header("content-type", "application/json")
        .body(json!({"seats": 1}).to_string())
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::CONFLICT, None).await;
    let response = app
        .admin(Method::PATCH, &path)
        .header("content-type", "application/json")
        .body(json!({"seats": 3, "promoteWaiting": true}).to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let usage: Value = response.json().await.expect("json");
    assert_eq!(
        (
            usage["seats"].as_i64(),
            usage["used"].as_i64(),
            usage["waiting"].as_i64()
        ),
        (Some(3), Some(3), Some(0))
    );
    let c_now = fetch(&app, SALESNAV, &format!("/Users/{}", id(&c))).await;
    assert_eq!(states(&c_now), vec![pair("sales_navigator", "assigned")]);
}

async fn refreshing_a_token_revokes_the_old_one_at_once(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let response = app
        .admin(
            Method::POST,
            "/accounts/acme/configurations/Sales%20Navigator/token",
        )
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.expect("json");
    let new_token = body["token"].as_str().expect("token").to_owned();
    assert!(
        body["expiresAt"].as_str().is_some(),
        "LinkedIn tokens expire: {body}"
    );
    let old = app
        .scim_as(SALESNAV, Method::GET, "/Users?filter=userName%20eq%20%22x%22")
        .send()
        .await
        .expect("request");
    assert_scim_error(old, StatusCode::UNAUTHORIZED, None).await;
    assert_eq!(
        get_status(&app, &new_token, "/Users?filter=userName%20eq%20%22x%22").await,
        StatusCode::OK
    );
    // Several IdPs may share one token: the other configurations are untouched.
    assert_eq!(get_status(&app, LEARNING, "/Users").await, StatusCode::OK);
}

async fn tokens_expire_after_their_lifetime(backend: Backend) {
    let start = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid");
    let clock = Arc::new(ManualClock::new(start));
    let app = TestApp::builder(backend)
        .seed(&seed("linkedin", "fidelity = { token_ttl_seconds = 60 }"))
        .clock(clock.clone())
        .spawn()
        .await;
    let path = "/Users?filter=userName%20eq%20%22x%22";
    assert_eq!(
        app.scim_as(SALESNAV, Method::GET, path)
            .send()
            .await
            .expect("request")
            .status(),
        StatusCode::OK
    );
    clock.advance(chrono::Duration::seconds(61));
    let response = app
        .scim_as(SALESNAV, Method::GET, path)
        .send()
        .await
        .expect("request");
    let body = assert_scim_error(response, StatusCode::UNAUTHORIZED, None).await;
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("expired")),
        "{body}"
    );
}

async fn rfc_tokens_do_not_expire(backend: Backend) {
    let start = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid");
    let clock = Arc::new(ManualClock::new(start));
    let app = TestApp::builder(backend)
        .seed(&seed("rfc", ""))
        .clock(clock.clone())
        .spawn()
        .await;
    clock.advance(chrono::Duration::days(3 * 365));
    assert_eq!(get_status(&app, SALESNAV, "/Users?count=0").await, StatusCode::OK);
}

async fn delete_can_be_refused_by_the_fidelity_profile(backend: Backend) {
    let app = TestApp::builder(backend)
        .seed(&seed("linkedin", "fidelity = { user_delete = \"refuse\" }"))
        .spawn()
        .await;
    let a = create(&app, SALESNAV, "a@acme.com").await;
    let response = app
        .scim_as(SALESNAV, Method::DELETE, &format!("/Users/{}", id(&a)))
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::NOT_IMPLEMENTED, None).await;
    let still = fetch(&app, SALESNAV, &format!("/Users/{}", id(&a))).await;
    assert_eq!(still["active"], true);
    assert_eq!(states(&still), vec![pair("sales_navigator", "assigned")]);
}

async fn unfiltered_listing_follows_the_fidelity_profile(backend: Backend) {
    let app = acme(backend, "linkedin").await;
    let response = app
        .scim_as(SALESNAV, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("tooMany")).await;
    assert_eq!(
        get_status(&app, SALESNAV, "/Users?filter=userName%20eq%20%22x%22").await,
        StatusCode::OK
    );
    assert_eq!(
        get_status(&app, LEARNING, "/Users").await,
        StatusCode::OK,
        "Learning lists users (Okta import)"
    );
    let rfc = acme(backend, "rfc").await;
    let response = rfc
        .scim_as(SALESNAV, Method::GET, "/Users")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
}

backend_tests!(
    seats_go_first_come_first_served_and_a_full_pool_means_waiting,
    deactivation_releases_the_seat_and_reactivation_requests_one_again,
    a_promoting_pool_hands_a_freed_seat_to_the_first_waiting_user,
    deleting_a_user_releases_its_seats,
    auto_assign_off_syncs_user_data_only,
    one_person_is_one_user_with_a_license_per_product,
    strict_pools_refuse_the_write_when_full,
    activation_is_an_admin_action_and_waiting_licenses_cannot_activate,
    admin_revocation_is_locked_under_linkedin_and_allowed_under_rfc,
    seat_counts_change_but_never_below_the_seats_in_use,
    refreshing_a_token_revokes_the_old_one_at_once,
    tokens_expire_after_their_lifetime,
    unfiltered_listing_follows_the_fidelity_profile,
    rfc_tokens_do_not_expire,
    delete_can_be_refused_by_the_fidelity_profile,
    the_seat_invariant_holds_under_concurrent_creates_from_two_server_processes,
);

/// A server process of the real binary on `database_url`, killed when dropped.
struct Replica {
    _child: tokio::process::Child,
    base: String,
}

async fn replica(database_url: &str, seed_path: &std::path::Path) -> Replica {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_linkedin-scim"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--admin-token",
            "replica-admin-token",
        ])
        .arg("--database-url")
        .arg(database_url)
        .arg("--seed")
        .arg(seed_path)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start replica");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.expect("read stdout") {
        if let Some(rest) = line.split("listening on ").nth(1) {
            let origin = rest.split_whitespace().next().expect("origin").to_owned();
            // Keep reading, so the banner's remaining lines never meet a closed pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Replica {
                _child: child,
                base: format!("{origin}/scim/v2"),
            };
        }
    }
    panic!("replica exited before listening");
}

async fn the_seat_invariant_holds_under_concurrent_creates_from_two_server_processes(backend: Backend) {
    let seed_text = r#"
[[accounts]]
name = "acme"
profile = "rfc"
[[accounts.instances]]
name = "Acme Sales Navigator"
product = "sales_navigator"
pools = [{ license_type = "Advanced Plus", seats = 50 }]
[[accounts.configurations]]
name = "Sales Navigator"
token = "acme-salesnav-token"
auto_assign = { instance = "Acme Sales Navigator", license_type = "Advanced Plus" }
"#;
    let app = TestApp::builder(backend).seed(seed_text).spawn().await;
    let seed_path = std::env::temp_dir().join(format!("lscim-replica-seed-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&seed_path, seed_text).expect("write seed");
    let replicas = [
        replica(&app.database_url, &seed_path).await,
        replica(&app.database_url, &seed_path).await,
    ];
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let url = format!("{}/Users", replicas[i % 2].base);
        let request = client
            .post(url)
            .bearer_auth(SALESNAV)
            .header("content-type", "application/scim+json")
            .body(user_body(&format!("user{i}@acme.com")).to_string());
        tasks.push(tokio::spawn(
            async move { request.send().await.map(|r| r.status()) },
        ));
    }
    for task in tasks {
        assert_eq!(task.await.expect("join").expect("request"), StatusCode::CREATED);
    }
    let usage = pool(&app, "Advanced Plus").await;
    assert_eq!(
        (
            usage["seats"].as_i64(),
            usage["used"].as_i64(),
            usage["waiting"].as_i64()
        ),
        (Some(50), Some(50), Some(150)),
        "{usage}"
    );
    for (state, expected) in [("assigned", 50), ("waiting", 150)] {
        let filter = format!("{LICENSES}:licenses[state eq \"{state}\"]");
        let response = app
            .scim_as(SALESNAV, Method::GET, "/Users")
            .query(&[("filter", filter.as_str()), ("count", "0")])
            .send()
            .await
            .expect("request");
        let list: Value = response.json().await.expect("json");
        assert_eq!(list["totalResults"], expected, "{state}: {list}");
    }
    let all = fetch(&app, SALESNAV, "/Users?count=0").await;
    assert_eq!(all["totalResults"], 200, "no user lost or duplicated");
}
