//! The Acme account most licensing, token and fidelity tests run against: a Sales
//! Navigator instance (Advanced Plus, 2 seats; TeamLink Extend, 1 seat), a
//! Learning instance (3 seats), a configuration auto-assigning each pool, and one that
//! syncs user data only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use linkedin_scim::clock::ManualClock;
use serde_json::{Value, json};

use super::Backend;
use super::TestApp;

pub const LICENSES: &str = "urn:linkedin-scim:schemas:extension:license:2.0:User";
pub const SALESNAV: &str = "acme-salesnav-token";
pub const TEAMLINK: &str = "acme-teamlink-token";
pub const LEARNING: &str = "acme-learning-token";
pub const SYNC: &str = "acme-sync-token";

/// Acme (`seed(profile, extra)`) on a manual clock set to `start`, for the test to move.
pub async fn spawn_with_clock(
    backend: Backend,
    profile: &str,
    extra: &str,
    start: DateTime<Utc>,
) -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start));
    let app = TestApp::builder(backend)
        .seed(&seed(profile, extra))
        .clock(clock.clone())
        .spawn()
        .await;
    (app, clock)
}

/// The Acme seed with fidelity `profile` and `extra` account lines (e.g. overrides).
pub fn seed(profile: &str, extra: &str) -> String {
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
  {{ license_type = "TeamLink Extend", seats = 1 }},
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

/// An app seeded with Acme under fidelity `profile`.
pub async fn acme(backend: Backend, profile: &str) -> TestApp {
    TestApp::builder(backend).seed(&seed(profile, "")).spawn().await
}

/// PATCH a user's `active` with `token`, asserting 200.
pub async fn patch_active(app: &TestApp, token: &str, id: &str, active: bool) -> Value {
    let operations = json!([{"op": "replace", "path": "active", "value": active}]);
    app.patch_ok_as(token, &format!("/Users/{id}"), operations).await
}

/// A user's licenses as (product, state) pairs.
pub fn states(user: &Value) -> Vec<(String, String)> {
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

pub fn pair(product: &str, state: &str) -> (String, String) {
    (product.to_owned(), state.to_owned())
}

/// Acme's pool of this license type, as the admin API shows it.
pub async fn pool(app: &TestApp, license_type: &str) -> Value {
    app.pools("acme")
        .await
        .as_array()
        .expect("array")
        .iter()
        .find(|p| p["licenseType"] == license_type)
        .cloned()
        .expect("pool")
}
