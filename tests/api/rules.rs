//! License assignment rules (docs/licensing.md, "License rules"): a configuration's
//! ordered SCIM filters pick the license type; a team move (a `department` PATCH, a group
//! membership change) moves the license first come, first served, with the old seat
//! going to its queue and one activity record.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, acme, pool, seed};
use crate::helpers::{Backend, TestApp, assert_scim_error, id_of, user_body};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Sales Navigator's rules: the TeamLink department gets TeamLink Extend, everyone else
/// the configuration's Advanced Plus.
async fn with_rules(app: &TestApp, rules: Value) -> Value {
    let response = app
        .admin(
            Method::PUT,
            "/accounts/acme/configurations/Sales%20Navigator/license-rules",
        )
        .json(&json!({ "rules": rules }))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn in_department(user_name: &str, department: &str) -> Value {
    let mut body = user_body(user_name);
    body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]);
    body[ENTERPRISE] = json!({ "department": department });
    body
}

async fn move_to(app: &TestApp, id: &str, department: &str) -> Value {
    let operations =
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": department}]);
    app.patch_ok_as(SALESNAV, &format!("/Users/{id}"), operations)
        .await
}

/// The user's Sales Navigator license as (license type, state).
fn sales_navigator(user: &Value) -> (String, String) {
    let licenses = &user["urn:linkedin-scim:schemas:extension:license:2.0:User"]["licenses"];
    let license = licenses
        .as_array()
        .and_then(|ls| ls.iter().find(|l| l["product"] == "sales_navigator"))
        .cloned()
        .unwrap_or(Value::Null);
    (
        license["licenseType"].as_str().unwrap_or("none").to_owned(),
        license["state"].as_str().unwrap_or("none").to_owned(),
    )
}

fn held(license_type: &str, state: &str) -> (String, String) {
    (license_type.to_owned(), state.to_owned())
}

async fn used(app: &TestApp) -> (i64, i64) {
    let advanced = pool(app, "Advanced Plus").await["used"].as_i64().unwrap_or(-1);
    let teamlink = pool(app, "TeamLink Extend").await["used"].as_i64().unwrap_or(-1);
    (advanced, teamlink)
}

async fn a_department_patch_moves_the_license_first_come_first_served(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let rules = with_rules(
        &app,
        json!([{"filter": format!("{ENTERPRISE}:department eq \"TeamLink\""), "licenseType": "TeamLink Extend"}]),
    )
    .await;
    assert_eq!(rules["rules"][0]["licenseType"], "TeamLink Extend");
    let a = app
        .create_user_as(SALESNAV, &in_department("a@acme.com", "Sales"))
        .await;
    assert_eq!(sales_navigator(&a), held("Advanced Plus", "assigned"));
    let a_id = id_of(&a);

    // A team move: the license follows, the old seat is freed, one record says so.
    let moved = move_to(&app, &a_id, "TeamLink").await;
    assert_eq!(sales_navigator(&moved), held("TeamLink Extend", "assigned"));
    assert_eq!(used(&app).await, (0, 1));
    let log = app
        .activity_of("acme", &format!("?resourceId={a_id}&method=PATCH"), 1)
        .await;
    assert_eq!(
        log[0]["outcome"],
        format!(
            "updated; license moved: Advanced Plus → TeamLink Extend (sales_navigator) by rule {ENTERPRISE}:department eq \"TeamLink\""
        )
    );

    // The TeamLink pool (1 seat) is full: a newcomer of that team waits.
    let b = app
        .create_user_as(SALESNAV, &in_department("b@acme.com", "TeamLink"))
        .await;
    assert_eq!(sales_navigator(&b), held("TeamLink Extend", "waiting"));
    // a moves back: its TeamLink seat goes to b, who waited.
    let back = move_to(&app, &a_id, "Sales").await;
    assert_eq!(sales_navigator(&back), held("Advanced Plus", "assigned"));
    let b_now = app.get_ok_as(SALESNAV, &format!("/Users/{}", id_of(&b))).await;
    assert_eq!(sales_navigator(&b_now), held("TeamLink Extend", "assigned"));
    assert_eq!(used(&app).await, (1, 1));

    // Moving into a full pool queues at its back, and frees the old seat.
    app.create_user_as(SALESNAV, &in_department("c@acme.com", "Sales"))
        .await;
    let b_moved = move_to(&app, &id_of(&b), "Sales").await;
    assert_eq!(sales_navigator(&b_moved), held("Advanced Plus", "waiting"));
    assert_eq!(used(&app).await, (2, 0));
    let log = app
        .activity_of("acme", &format!("?resourceId={}&method=PATCH", id_of(&b)), 1)
        .await;
    assert!(
        log[0]["outcome"].as_str().is_some_and(
            |o| o.contains("(no rule matches: the configuration's license type); no seat free: waiting")
        ),
        "{log:?}"
    );
}

async fn a_group_membership_moves_the_license(backend: Backend) {
    let app = acme(backend, "rfc").await;
    with_rules(
        &app,
        json!([{"filter": "groups[display eq \"SN TeamLink\"]", "licenseType": "TeamLink Extend"}]),
    )
    .await;
    let user = app.create_user_as(SALESNAV, &user_body("e@acme.com")).await;
    let id = id_of(&user);
    assert_eq!(sales_navigator(&user), held("Advanced Plus", "assigned"));
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "SN TeamLink",
        "members": [{"value": id}],
    });
    let response = app.send_json_as(SALESNAV, Method::POST, "/Groups", &group).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let group: Value = response.json().await.expect("json");
    let now = app.get_ok_as(SALESNAV, &format!("/Users/{id}")).await;
    assert_eq!(sales_navigator(&now), held("TeamLink Extend", "assigned"));
    assert_eq!(used(&app).await, (0, 1));
    let log = app.activity_of("acme", "?method=POST", 2).await;
    assert!(
        log[0]["outcome"].as_str().is_some_and(|o| o.contains(&format!(
            "user {id}: license moved: Advanced Plus → TeamLink Extend"
        ))),
        "{log:?}"
    );
    // Entra's member removal PATCH: back to the configuration's license type.
    let operations = json!([{"op": "Remove", "path": format!("members[value eq \"{id}\"]")}]);
    let response = app
        .send_json_as(
            SALESNAV,
            Method::PATCH,
            &format!("/Groups/{}", id_of(&group)),
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let now = app.get_ok_as(SALESNAV, &format!("/Users/{id}")).await;
    assert_eq!(sales_navigator(&now), held("Advanced Plus", "assigned"));
    assert_eq!(used(&app).await, (1, 0));

    // Back in the group, then the group deleted: its members' licenses move back too.
    let operations = json!([{"op": "add", "path": "members", "value": [{"value": id}]}]);
    let group_url = format!("/Groups/{}", id_of(&group));
    let response = app
        .send_json_as(
            SALESNAV,
            Method::PATCH,
            &group_url,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}),
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(used(&app).await, (0, 1));
    let deleted = app
        .scim_as(SALESNAV, Method::DELETE, &group_url)
        .send()
        .await
        .expect("request");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let now = app.get_ok_as(SALESNAV, &format!("/Users/{id}")).await;
    assert_eq!(sales_navigator(&now), held("Advanced Plus", "assigned"));
    assert_eq!(used(&app).await, (1, 0));
}

async fn rules_are_validated_and_need_auto_assign(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let put = |configuration: &'static str, rules: Value| {
        app.admin(
            Method::PUT,
            &format!("/accounts/acme/configurations/{configuration}/license-rules"),
        )
        .json(&json!({ "rules": rules }))
        .send()
    };
    for (configuration, rules, says) in [
        (
            "Sales%20Navigator",
            json!([{"filter": "title eq", "licenseType": "TeamLink Extend"}]),
            "rule 1:",
        ),
        (
            "Sales%20Navigator",
            json!([{"filter": "title pr", "licenseType": "Core"}]),
            "no license type \"Core\"",
        ),
        (
            "Sync",
            json!([{"filter": "title pr", "licenseType": "Advanced Plus"}]),
            "turn auto-assign on",
        ),
    ] {
        let response = put(configuration, rules).await.expect("request");
        let body = assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidValue")).await;
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains(says)),
            "{body}"
        );
    }
    let missing = put("Nobody", json!([])).await.expect("request");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let none = app
        .admin_get_ok("/accounts/acme/configurations/TeamLink/license-rules")
        .await;
    assert_eq!(none, json!({"rules": []}));
}

/// A seed file's rules apply from the first request.
async fn seeded_rules_pick_the_license_type(backend: Backend) {
    let seeded = seed("rfc", "").replace(
        r#"auto_assign = { instance = "Acme Sales Navigator", license_type = "Advanced Plus" }"#,
        r#"auto_assign = { instance = "Acme Sales Navigator", license_type = "Advanced Plus", rules = [
  { filter = 'title sw "Partner"', license_type = "TeamLink Extend" },
] }"#,
    );
    let app = TestApp::builder(backend).seed(&seeded).spawn().await;
    let mut partner = user_body("p@acme.com");
    partner["title"] = json!("Partner Manager");
    let user = app.create_user_as(SALESNAV, &partner).await;
    assert_eq!(sales_navigator(&user), held("TeamLink Extend", "assigned"));
    let rules = app
        .admin_get_ok("/accounts/acme/configurations/Sales%20Navigator/license-rules")
        .await;
    assert_eq!(
        rules,
        json!({"rules": [{"filter": "title sw \"Partner\"", "licenseType": "TeamLink Extend"}]})
    );
}

backend_tests!(
    a_department_patch_moves_the_license_first_come_first_served,
    a_group_membership_moves_the_license,
    rules_are_validated_and_need_auto_assign,
    seeded_rules_pick_the_license_type,
);
