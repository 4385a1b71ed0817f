//! `POST /Bulk` (RFC 7644 §3.7): bulkId references in any order, failOnErrors, the
//! advertised limits (413 past them, §3.7.4), licensing and the journal through Bulk,
//! and the `linkedin` preset, which offers no Bulk.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::acme::{SALESNAV, acme, pool, states};
use crate::helpers::{
    Backend, TestApp, USER_SCHEMA, assert_scim_error, expect_json, group_body, ids_of, user_body,
};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

fn bulk_body(operations: Value, fail_on_errors: Option<u64>) -> Value {
    let mut body = json!({"schemas": [BULK_REQUEST], "Operations": operations});
    if let Some(n) = fail_on_errors {
        body["failOnErrors"] = json!(n);
    }
    body
}

fn create(bulk_id: &str, data: Value) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": data})
}

async fn bulk_ok(app: &TestApp, token: &str, body: &Value) -> Vec<Value> {
    let response = app.send_json_as(token, Method::POST, "/Bulk", body).await;
    let body = expect_json(response, StatusCode::OK, "POST /Bulk").await;
    assert_eq!(body["schemas"], json!([BULK_RESPONSE]));
    body["Operations"].as_array().cloned().expect("Operations")
}

/// A group created first refers to users created after it (`bulkId:`), and a PATCH
/// addresses a user by the bulkId that created it.
async fn bulk_ids_resolve_in_any_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut group = group_body("Tour Guides");
    group["members"] = json!([{"value": "bulkId:alice"}, {"value": "bulkId:bob"}]);
    let body = bulk_body(
        json!([
            {"method": "POST", "path": "/Groups", "bulkId": "guides", "data": group},
            create("alice", user_body("alice@acme.com")),
            create("bob", user_body("bob@acme.com")),
            {"method": "PATCH", "path": "/Users/bulkId:bob", "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "displayName", "value": "Bobby"}]}},
        ]),
        None,
    );
    let results = bulk_ok(&app, &app.token, &body).await;
    let statuses: Vec<&str> = results.iter().filter_map(|r| r["status"].as_str()).collect();
    // The group waits for the users it names; everything succeeds.
    assert_eq!(statuses, ["201", "201", "201", "200"], "{results:?}");
    assert_eq!(results[2]["bulkId"], "guides");
    let location = results[2]["location"].as_str().expect("location");
    assert!(
        location.starts_with(&format!("{}/Groups/", app.base())),
        "{location}"
    );
    assert!(
        results[0]["version"]
            .as_str()
            .is_some_and(|v| v.starts_with("W/"))
    );
    let group = app.get_ok(location.trim_start_matches(&app.base())).await;
    let alice = results[0]["location"]
        .as_str()
        .expect("alice")
        .rsplit('/')
        .next()
        .expect("id");
    let bob = results[1]["location"]
        .as_str()
        .expect("bob")
        .rsplit('/')
        .next()
        .expect("id");
    let mut expected = vec![alice.to_owned(), bob.to_owned()];
    expected.sort();
    let mut members = ids_of(&group["members"]);
    members.sort();
    assert_eq!(members, expected);
    assert_eq!(app.get_ok(&format!("/Users/{bob}")).await["displayName"], "Bobby");
    // Each operation is journaled like a single request, and so is the Bulk request,
    // all under the Bulk request's id.
    let records = app.activity_of("demo", "", 7).await;
    let bulk = records
        .iter()
        .find(|r| r["path"] == "/scim/v2/Bulk")
        .expect("the Bulk request is journaled");
    assert_eq!(bulk["outcome"], "bulk: 4 of 4 operation(s) run, 0 failed");
    let operations: Vec<&Value> = records
        .iter()
        .filter(|r| r["requestId"] == bulk["requestId"] && r["path"] != "/scim/v2/Bulk")
        .collect();
    assert_eq!(operations.len(), 4, "{records:?}");
    assert!(
        operations
            .iter()
            .any(|r| r["path"] == "/scim/v2/Groups" && r["status"] == 201)
    );
}

/// failOnErrors stops after that many failures; the response says what was done, and a
/// failed operation carries its error.
async fn fail_on_errors_stops_midway(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.create_user(&user_body("taken@acme.com")).await;
    let operations = json!([
        create("a", user_body("a@acme.com")),
        create("dup", user_body("taken@acme.com")),
        create("c", user_body("c@acme.com")),
        {"method": "DELETE", "path": "/Users/bulkId:nobody"},
    ]);
    let results = bulk_ok(&app, &app.token, &bulk_body(operations.clone(), Some(1))).await;
    assert_eq!(results.len(), 2, "{results:?}");
    assert_eq!(results[1]["status"], "409");
    assert_eq!(results[1]["bulkId"], "dup");
    assert_eq!(results[1]["response"]["scimType"], "uniqueness");
    let list = app.get_ok("/Users?filter=userName%20eq%20%22c@acme.com%22").await;
    assert_eq!(
        list["totalResults"], 0,
        "the operation after the stop did not run"
    );
    // Without failOnErrors every operation runs; a reference to a bulkId no operation
    // created is that operation's own 400.
    let operations = json!([
        create("dup", user_body("taken@acme.com")),
        create("c", user_body("c@acme.com")),
        {"method": "DELETE", "path": "/Users/bulkId:nobody"},
    ]);
    let results = bulk_ok(&app, &app.token, &bulk_body(operations, None)).await;
    let statuses: Vec<&str> = results.iter().filter_map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["409", "201", "400"], "{results:?}");
    assert_eq!(results[2]["response"]["scimType"], "invalidValue");
}

/// The limits are advertised and enforced: 413 past maxOperations or maxPayloadSize
/// (RFC 7644 §3.7.4), nothing run.
async fn bulk_limits_are_advertised_and_enforced(backend: Backend) {
    let app = TestApp::builder(backend)
        .bulk_max_operations(2)
        .max_body_bytes(4096)
        .spawn()
        .await;
    let spc = app.get_ok("/ServiceProviderConfig").await;
    assert_eq!(
        spc["bulk"],
        json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 4096})
    );
    let three = json!([
        create("a", user_body("a@acme.com")),
        create("b", user_body("b@acme.com")),
        create("c", user_body("c@acme.com")),
    ]);
    let response = app.post("/Bulk", &bulk_body(three, None)).await;
    let error = assert_scim_error(response, StatusCode::PAYLOAD_TOO_LARGE, None).await;
    assert!(
        error["detail"]
            .as_str()
            .is_some_and(|d| d.contains("maxOperations is 2")),
        "{error}"
    );
    let mut big = user_body("big@acme.com");
    big["displayName"] = json!("x".repeat(5000));
    let response = app
        .post("/Bulk", &bulk_body(json!([create("big", big)]), None))
        .await;
    assert_scim_error(response, StatusCode::PAYLOAD_TOO_LARGE, None).await;
    assert_eq!(app.get_ok("/Users").await["totalResults"], 0);
    // A malformed BulkRequest is refused as a whole.
    let response = app
        .post(
            "/Bulk",
            &bulk_body(json!([{"method": "POST", "path": "/Users", "data": {}}]), None),
        )
        .await;
    assert_scim_error(response, StatusCode::BAD_REQUEST, Some("invalidSyntax")).await;
}

/// Seats through Bulk follow the same rules as single requests; the `linkedin` preset
/// offers no Bulk (LinkedIn documents none) and says so in discovery.
async fn licensing_applies_through_bulk_and_the_linkedin_preset_offers_none(backend: Backend) {
    let app = acme(backend, "rfc").await;
    let operations = json!([
        create("a", user_body("a@acme.com")),
        create("b", user_body("b@acme.com")),
        create("c", user_body("c@acme.com")),
    ]);
    let results = bulk_ok(&app, SALESNAV, &bulk_body(operations, None)).await;
    assert!(results.iter().all(|r| r["status"] == "201"), "{results:?}");
    assert_eq!(pool(&app, "Advanced Plus").await["used"], 2);
    let c = app
        .get_ok_as(SALESNAV, "/Users?filter=userName%20eq%20%22c@acme.com%22")
        .await;
    assert_eq!(
        states(&c["Resources"][0]),
        vec![("sales_navigator".to_owned(), "waiting".to_owned())]
    );

    let app = acme(backend, "linkedin").await;
    let spc = app.get_ok_as(SALESNAV, "/ServiceProviderConfig").await;
    assert_eq!(spc["bulk"]["supported"], false);
    let body = bulk_body(json!([create("a", user_body("a@acme.com"))]), None);
    let response = app.send_json_as(SALESNAV, Method::POST, "/Bulk", &body).await;
    assert_scim_error(response, StatusCode::NOT_IMPLEMENTED, None).await;
}

/// `/Bulk` answers under every SCIM base, and locates what it creates under that base.
async fn bulk_is_served_under_every_scim_base(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for (i, base) in ["", "/scim", "/scim/v2"].into_iter().enumerate() {
        let body = bulk_body(json!([create("a", user_body(&format!("u{i}@acme.com")))]), None);
        let response = app
            .client
            .post(format!("{}{base}/Bulk", app.address))
            .bearer_auth(&app.token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let body = expect_json(response, StatusCode::OK, base).await;
        let location = body["Operations"][0]["location"].as_str().unwrap_or_default();
        assert!(
            location.starts_with(&format!("{}{base}/Users/", app.address)),
            "{base}: {body}"
        );
    }
}

const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn id_from_location(entry: &Value) -> String {
    entry["location"]
        .as_str()
        .and_then(|l| l.rsplit('/').next())
        .expect("location")
        .to_owned()
}

/// Two users who are each other's manager (RFC 7644 §3.7.2: the service provider
/// "MUST try to resolve circular cross-references"): each is created, the first
/// without its manager, which a PATCH adds once the second exists. The response has
/// one entry per operation sent, and the first one's version is the final one.
async fn a_manager_cycle_is_resolved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let managed_by = |user_name: &str, manager: &str| {
        let mut user = user_body(user_name);
        user["schemas"] = json!([USER_SCHEMA, ENTERPRISE_USER]);
        user[ENTERPRISE_USER] =
            json!({"department": "Tours", "manager": {"value": format!("bulkId:{manager}")}});
        user
    };
    let body = bulk_body(
        json!([
            create("ann", managed_by("ann@acme.com", "ben")),
            create("ben", managed_by("ben@acme.com", "ann")),
        ]),
        None,
    );
    let results = bulk_ok(&app, &app.token, &body).await;
    let statuses: Vec<&str> = results.iter().filter_map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["201", "201"], "{results:?}");
    assert_eq!(results[0]["bulkId"], "ann");
    let (ann, ben) = (id_from_location(&results[0]), id_from_location(&results[1]));
    let ann_read = app.get_ok(&format!("/Users/{ann}")).await;
    let ben_read = app.get_ok(&format!("/Users/{ben}")).await;
    assert_eq!(ann_read[ENTERPRISE_USER]["manager"]["value"], ben.as_str());
    assert_eq!(ann_read[ENTERPRISE_USER]["department"], "Tours");
    assert_eq!(ben_read[ENTERPRISE_USER]["manager"]["value"], ann.as_str());
    assert_eq!(results[0]["version"], ann_read["meta"]["version"]);
    // Two POSTs, the PATCH completing the first, and the Bulk request.
    let records = app.activity_of("demo", "", 4).await;
    let bulk = records
        .iter()
        .find(|r| r["path"] == "/scim/v2/Bulk")
        .expect("the Bulk request is journaled");
    assert_eq!(bulk["outcome"], "bulk: 2 of 2 operation(s) run, 0 failed");
    assert!(
        records
            .iter()
            .any(|r| r["method"] == "PATCH" && r["path"] == format!("/scim/v2/Users/{ann}")),
        "{records:?}"
    );
}

/// The RFC's own example: two groups, each a member of the other. The cycle is broken
/// the same way, but LinkedIn groups hold people, not groups (docs/groups.md), so the
/// second group is refused (400 `invalidValue`) and the first, created without its
/// member, reports that its member could not be added; nothing half-linked is left.
async fn a_group_cycle_is_attempted_and_groups_of_groups_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let with_member = |name: &str, member: &str| {
        let mut group = group_body(name);
        group["members"] = json!([{"value": format!("bulkId:{member}"), "type": "Group"}]);
        json!({"method": "POST", "path": "/Groups", "bulkId": name, "data": group})
    };
    let body = bulk_body(json!([with_member("A", "B"), with_member("B", "A")]), None);
    let results = bulk_ok(&app, &app.token, &body).await;
    let statuses: Vec<&str> = results.iter().filter_map(|r| r["status"].as_str()).collect();
    assert_eq!(statuses, ["400", "400"], "{results:?}");
    assert_eq!(results[0]["bulkId"], "A");
    assert_eq!(results[1]["bulkId"], "B");
    assert_eq!(results[1]["response"]["scimType"], "invalidValue");
    assert_eq!(results[0]["response"]["scimType"], "invalidValue");
    let a = id_from_location(&results[0]);
    let group = app.get_ok(&format!("/Groups/{a}")).await;
    assert_eq!(group["displayName"], "A");
    assert_eq!(ids_of(&group["members"]), Vec::<String>::new());
    assert_eq!(app.get_ok("/Groups").await["totalResults"], 1);
}

backend_tests!(
    a_manager_cycle_is_resolved,
    a_group_cycle_is_attempted_and_groups_of_groups_are_refused,
    bulk_is_served_under_every_scim_base,
    bulk_ids_resolve_in_any_order,
    fail_on_errors_stops_midway,
    bulk_limits_are_advertised_and_enforced,
    licensing_applies_through_bulk_and_the_linkedin_preset_offers_none,
);
