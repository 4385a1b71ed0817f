use super::*;
use crate::catalog::resource_schema;
use crate::error::ScimType;
use crate::filter;
use crate::schema::Schema;
use crate::tolerance::{ClientProfile, Tolerance};
use serde_json::json;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";
const GROUP_ID: &str = "e9e30dba-f08f-4109-8486-d5c6a331660a";

fn attr(name: &str, ty: &str) -> Value {
    json!({"name": name, "type": ty, "multiValued": false, "required": false,
           "mutability": "readWrite", "returned": "default"})
}

fn with(mut def: Value, key: &str, value: Value) -> Value {
    def[key] = value;
    def
}

fn complex(name: &str, multi: bool, subs: Vec<Value>) -> Value {
    let def = with(attr(name, "complex"), "multiValued", json!(multi));
    with(def, "subAttributes", Value::Array(subs))
}

fn user_schema() -> ResourceSchema {
    let primary = || attr("primary", "boolean");
    let core: Schema = serde_json::from_value(json!({
        "id": "urn:ietf:params:scim:schemas:core:2.0:User",
        "name": "User",
        "attributes": [
            with(with(attr("userName", "string"), "required", json!(true)), "uniqueness", json!("server")),
            complex("name", false, vec![attr("givenName", "string"), attr("familyName", "string"), attr("formatted", "string")]),
            attr("displayName", "string"),
            attr("nickName", "string"),
            attr("title", "string"),
            attr("active", "boolean"),
            complex("emails", true, vec![attr("value", "string"), attr("type", "string"), attr("display", "string"), primary()]),
            complex("phoneNumbers", true, vec![attr("value", "string"), attr("type", "string"), primary()]),
            complex("addresses", true, vec![
                attr("type", "string"), attr("streetAddress", "string"), attr("locality", "string"),
                attr("region", "string"), attr("postalCode", "string"), attr("country", "string"),
                attr("formatted", "string"), primary()]),
            with(complex("groups", true, vec![
                with(attr("value", "string"), "mutability", json!("readOnly")),
                with(attr("$ref", "reference"), "mutability", json!("readOnly")),
                with(attr("display", "string"), "mutability", json!("readOnly"))]),
                "mutability", json!("readOnly")),
        ]
    }))
    .expect("user schema");
    let enterprise: Schema = serde_json::from_value(json!({
        "id": ENTERPRISE,
        "name": "EnterpriseUser",
        "attributes": [
            attr("employeeNumber", "string"),
            attr("department", "string"),
            complex("manager", false, vec![
                attr("value", "string"),
                attr("$ref", "reference"),
                with(attr("displayName", "string"), "mutability", json!("readOnly"))]),
        ]
    }))
    .expect("enterprise schema");
    resource_schema(&core, vec![enterprise])
}

fn group_schema() -> ResourceSchema {
    let core: Schema = serde_json::from_value(json!({
        "id": "urn:ietf:params:scim:schemas:core:2.0:Group",
        "name": "Group",
        "attributes": [
            with(attr("displayName", "string"), "required", json!(true)),
            complex("members", true, vec![
                with(attr("value", "string"), "mutability", json!("immutable")),
                with(attr("$ref", "reference"), "mutability", json!("immutable")),
                attr("display", "string"),
                with(attr("type", "string"), "mutability", json!("immutable"))]),
        ]
    }))
    .expect("group schema");
    resource_schema(&core, vec![])
}

fn user() -> Value {
    json!({
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs Jensen",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "primary": true},
            {"type": "home", "streetAddress": "456 Hollywood Blvd"}
        ]
    })
}

fn group() -> Value {
    json!({"displayName": "Tour Guides"})
}

fn body(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": ops})
}

fn run(
    profile: ClientProfile,
    schema: &ResourceSchema,
    doc: &Value,
    deferred: &[&str],
    ops: Value,
) -> (Result<PatchOutcome, ProtocolError>, Vec<Tolerance>) {
    let mut leniency = Leniency::new(profile);
    let id = if deferred.is_empty() { USER_ID } else { GROUP_ID };
    let result = apply_patch(doc, &body(ops), schema, deferred, id, &mut leniency);
    (result, leniency.fired)
}

/// Lenient user PATCH that must succeed.
fn user_ok(ops: Value) -> PatchOutcome {
    user_ok_on(&user(), ops)
}

fn user_ok_on(doc: &Value, ops: Value) -> PatchOutcome {
    let (result, _) = run(ClientProfile::Lenient, &user_schema(), doc, &[], ops);
    result.expect("patch succeeds")
}

fn user_err(profile: ClientProfile, ops: Value) -> ProtocolError {
    let (result, _) = run(profile, &user_schema(), &user(), &[], ops);
    result.expect_err("patch fails")
}

fn group_ok(profile: ClientProfile, ops: Value) -> (PatchOutcome, Vec<Tolerance>) {
    let (result, fired) = run(profile, &group_schema(), &group(), &["members"], ops);
    (result.expect("group patch succeeds"), fired)
}

fn group_err(profile: ClientProfile, ops: Value) -> ProtocolError {
    let (result, _) = run(profile, &group_schema(), &group(), &["members"], ops);
    result.expect_err("group patch fails")
}

fn member_filter(id: &str) -> Filter {
    match filter::parse_path(&format!("members[value eq \"{id}\"]")) {
        Ok(PatchPath {
            filter: Some(filter), ..
        }) => filter,
        other => panic!("unexpected parse {other:?}"),
    }
}

use crate::filter::PatchPath;

// ---------------------------------------------------------------------------------------
// Request structure

#[test]
fn schemas_must_name_patch_op() {
    let mut leniency = Leniency::new(ClientProfile::Lenient);
    let schema = user_schema();
    let ops = json!([{"op": "replace", "path": "title", "value": "x"}]);
    for request in [
        json!({"Operations": ops}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": ops}),
        json!({"schemas": PATCH_OP_SCHEMA, "Operations": ops}),
        json!([1, 2]),
    ] {
        let err = apply_patch(&user(), &request, &schema, &[], USER_ID, &mut leniency).expect_err("refused");
        assert_eq!(err.scim_type, ScimType::InvalidSyntax, "{request}");
    }
    // The URN and the member names are case-insensitive.
    let request = json!({"SCHEMAS": [PATCH_OP_SCHEMA.to_uppercase()], "operations": ops});
    let out = apply_patch(&user(), &request, &schema, &[], USER_ID, &mut leniency).expect("ok");
    assert_eq!(out.resource["title"], json!("x"));
}

#[test]
fn structural_errors_are_invalid_syntax() {
    for ops in [
        json!({"op": "add"}),
        json!([42]),
        json!([{"path": "title", "value": "x"}]),
        json!([{"op": 1, "path": "title", "value": "x"}]),
        json!([{"op": "move", "path": "title", "value": "x"}]),
        json!([{"op": "copy", "from": "title", "path": "nickName"}]),
        json!([{"op": "replace", "path": 5, "value": "x"}]),
    ] {
        let err = user_err(ClientProfile::Lenient, ops.clone());
        assert_eq!(err.scim_type, ScimType::InvalidSyntax, "{ops}");
    }
}

#[test]
fn missing_value_is_invalid_value() {
    for op in ["add", "replace"] {
        let err = user_err(ClientProfile::Lenient, json!([{"op": op, "path": "title"}]));
        assert_eq!(err.scim_type, ScimType::InvalidValue);
        let err = user_err(ClientProfile::Lenient, json!([{"op": op}]));
        assert_eq!(err.scim_type, ScimType::InvalidValue);
        let err = user_err(ClientProfile::Lenient, json!([{"op": op, "value": "x"}]));
        assert_eq!(err.scim_type, ScimType::InvalidValue);
    }
}

#[test]
fn empty_operations_tolerance() {
    let schema = user_schema();
    for request in [
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": []}),
        json!({"schemas": [PATCH_OP_SCHEMA]}),
        json!({"schemas": [PATCH_OP_SCHEMA], "Operations": null}),
    ] {
        let mut validator = Leniency::new(ClientProfile::Validator);
        let out = apply_patch(&user(), &request, &schema, &[], USER_ID, &mut validator).expect("ok");
        assert!(!out.changed);
        assert_eq!(out.resource, user());
        assert_eq!(validator.fired, vec![Tolerance::EmptyOperations]);

        // Only Microsoft's validator sends it: every other profile answers the RFC error.
        for profile in [
            ClientProfile::Strict,
            ClientProfile::Lenient,
            ClientProfile::Entra,
        ] {
            let mut leniency = Leniency::new(profile);
            let err =
                apply_patch(&user(), &request, &schema, &[], USER_ID, &mut leniency).expect_err("refused");
            assert_eq!(err.scim_type, ScimType::InvalidSyntax);
        }
    }
}

// ---------------------------------------------------------------------------------------
// RFC 7644 §3.5.2.1 add

#[test]
fn rfc_add_members_to_group_document() {
    // Group without deferral: members live in the document.
    let member = json!({"display": "Babs Jensen",
        "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
        "value": USER_ID});
    let (out, _) = run(
        ClientProfile::Strict,
        &group_schema(),
        &group(),
        &[],
        json!([{"op": "add", "path": "members", "value": [member.clone()]}]),
    );
    let out = out.expect("ok");
    assert_eq!(out.resource["members"], json!([member]));
    assert!(out.changed);
}

#[test]
fn rfc_add_without_path() {
    let out = user_ok(json!([{"op": "add", "value": {
        "emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b@new.org", "type": "other"}],
        "nickname": "Babs"
    }}]));
    // The existing home email is not duplicated; the new one is appended.
    assert_eq!(
        out.resource["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"},
            {"value": "b@new.org", "type": "other"}
        ])
    );
    assert_eq!(out.resource["nickName"], json!("Babs"));
    assert!(out.resource.get("nickname").is_none());
}

#[test]
fn add_single_value_to_multi_valued_and_dedup() {
    let out = user_ok(json!([{"op": "add", "path": "emails",
        "value": {"value": "bjensen@example.com", "type": "work", "primary": true}}]));
    assert!(!out.changed);
    let out = user_ok(json!([{"op": "add", "path": "phoneNumbers",
        "value": {"value": "555-1234", "type": "work"}}]));
    assert_eq!(
        out.resource["phoneNumbers"],
        json!([{"value": "555-1234", "type": "work"}])
    );
}

#[test]
fn add_complex_merges_and_sub_attribute_creates_parent() {
    let out = user_ok(
        json!([{"op": "add", "path": "name", "value": {"formatted": "Ms. Barbara Jensen", "GIVENNAME": "Babs"}}]),
    );
    assert_eq!(
        out.resource["name"],
        json!({"givenName": "Babs", "familyName": "Jensen", "formatted": "Ms. Barbara Jensen"})
    );
    let doc = json!({"userName": "x"});
    let out = user_ok_on(
        &doc,
        json!([{"op": "add", "path": "name.givenName", "value": "X"}]),
    );
    assert_eq!(out.resource["name"], json!({"givenName": "X"}));
}

#[test]
fn add_single_valued_sets_and_null_is_noop() {
    let out = user_ok(json!([{"op": "add", "path": "displayName", "value": "B"}]));
    assert_eq!(out.resource["displayName"], json!("B"));
    let out = user_ok(json!([{"op": "add", "path": "displayName", "value": null}]));
    assert!(!out.changed);
}

// ---------------------------------------------------------------------------------------
// RFC 7644 §3.5.2.2 remove

#[test]
fn rfc_remove_needs_path() {
    let err = user_err(ClientProfile::Lenient, json!([{"op": "remove"}]));
    assert_eq!(err.scim_type, ScimType::NoTarget);
}

#[test]
fn rfc_remove_single_member_and_all_members_document() {
    let doc = json!({"displayName": "g", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
    let schema = group_schema();
    let (out, _) = run(
        ClientProfile::Strict,
        &schema,
        &doc,
        &[],
        json!([{"op": "remove", "path": "members[value eq \"b\"]"}]),
    );
    assert_eq!(
        out.expect("ok").resource["members"],
        json!([{"value": "a"}, {"value": "c"}])
    );
    let (out, _) = run(
        ClientProfile::Strict,
        &schema,
        &doc,
        &[],
        json!([{"op": "remove", "path": "members"}]),
    );
    assert_eq!(out.expect("ok").resource, json!({"displayName": "g"}));
    // Remove multiple members, then add new ones (RFC: "remove all members … and add").
    let (out, _) = run(
        ClientProfile::Strict,
        &schema,
        &doc,
        &[],
        json!([
            {"op": "remove", "path": "members[value eq \"a\" or value eq \"c\"]"},
            {"op": "add", "path": "members", "value": [{"value": "d"}]}
        ]),
    );
    assert_eq!(
        out.expect("ok").resource["members"],
        json!([{"value": "b"}, {"value": "d"}])
    );
}

#[test]
fn rfc_remove_complex_filter_and_sub_attribute() {
    let doc = json!({"userName": "u", "emails": [
        {"value": "a@example.com", "type": "work"},
        {"value": "b@other.org", "type": "work"},
        {"value": "c@example.com", "type": "home"}
    ]});
    let out = user_ok_on(
        &doc,
        json!([{"op": "remove",
        "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    );
    assert_eq!(
        out.resource["emails"],
        json!([
            {"value": "b@other.org", "type": "work"},
            {"value": "c@example.com", "type": "home"}
        ])
    );
    let out = user_ok_on(
        &doc,
        json!([{"op": "remove", "path": "emails[type eq \"work\"].type"}]),
    );
    assert_eq!(
        out.resource["emails"],
        json!([
            {"value": "a@example.com"}, {"value": "b@other.org"},
            {"value": "c@example.com", "type": "home"}
        ])
    );
    // Removing the last values leaves the attribute unassigned.
    let out = user_ok_on(&doc, json!([{"op": "remove", "path": "emails[value co \"@\"]"}]));
    assert_eq!(out.resource, json!({"userName": "u"}));
}

#[test]
fn remove_attribute_sub_attribute_and_missing_targets() {
    let out = user_ok(json!([{"op": "remove", "path": "name.familyName"}]));
    assert_eq!(out.resource["name"], json!({"givenName": "Barbara"}));
    let out = user_ok(json!([
        {"op": "remove", "path": "name.familyName"},
        {"op": "remove", "path": "name.givenName"}
    ]));
    assert!(
        out.resource.get("name").is_none(),
        "emptied complex value is unassigned"
    );
    let out = user_ok(json!([{"op": "remove", "path": "title"}]));
    assert!(!out.changed, "removing an unassigned attribute is a no-op");
    let err = user_err(
        ClientProfile::Lenient,
        json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
    );
    assert_eq!(err.scim_type, ScimType::NoTarget);
}

// ---------------------------------------------------------------------------------------
// RFC 7644 §3.5.2.3 replace

#[test]
fn rfc_replace_members_document() {
    let doc = json!({"displayName": "g", "members": [{"value": "a"}]});
    let new = json!([
        {"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223", "value": "2819c223"},
        {"display": "James Smith", "$ref": "https://example.com/v2/Users/08e1d05d", "value": "08e1d05d"}
    ]);
    let (out, _) = run(
        ClientProfile::Strict,
        &group_schema(),
        &doc,
        &[],
        json!([{"op": "replace", "path": "members", "value": new.clone()}]),
    );
    assert_eq!(out.expect("ok").resource["members"], new);
}

#[test]
fn rfc_replace_filtered_complex_value_and_sub_attribute() {
    let out = user_ok(
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": {
            "type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
            "region": "CA", "postalCode": "91608", "country": "US",
            "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": true
        }}]),
    );
    assert_eq!(
        out.resource["addresses"][0]["streetAddress"],
        json!("911 Universal City Plaza")
    );
    assert_eq!(out.resource["addresses"][0]["postalCode"], json!("91608"));
    assert_eq!(out.resource["addresses"][1], user()["addresses"][1]);

    let out = user_ok(json!([{"op": "replace",
        "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]));
    assert_eq!(
        out.resource["addresses"][0]["streetAddress"],
        json!("1010 Broadway Ave")
    );
    assert_eq!(out.resource["addresses"][0]["locality"], json!("Hollywood"));
}

#[test]
fn rfc_replace_without_path() {
    let out = user_ok(json!([{"op": "replace", "value": {
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "nickname": "Babs",
        "name": {"givenName": "Barb"}
    }}]));
    assert_eq!(out.resource["nickName"], json!("Babs"));
    // A complex attribute is merged (RFC 7644 §3.5.2.3: unspecified sub-attributes stay).
    assert_eq!(
        out.resource["name"],
        json!({"givenName": "Barb", "familyName": "Jensen"})
    );
    let out = user_ok(json!([{"op": "replace", "value": {"emails": [{"value": "only@x.org"}]}}]));
    assert_eq!(
        out.resource["emails"],
        json!([{"value": "only@x.org"}]),
        "multi-valued replaced wholesale"
    );
}

#[test]
fn replace_with_null_clears() {
    let out = user_ok(json!([{"op": "replace", "path": "displayName", "value": null}]));
    assert!(out.resource.get("displayName").is_none());
    let out = user_ok(json!([{"op": "replace", "path": "emails", "value": []}]));
    assert!(out.resource.get("emails").is_none());
    let out = user_ok(json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": null}]));
    assert_eq!(out.resource["emails"], json!([user()["emails"][0]]));
}

#[test]
fn replace_missing_attribute_adds_it() {
    let out = user_ok(json!([{"op": "replace", "path": "title", "value": "Tour Guide"}]));
    assert_eq!(out.resource["title"], json!("Tour Guide"));
}

// ---------------------------------------------------------------------------------------
// Entra users

#[test]
fn entra_capitalised_ops() {
    let (out, fired) = run(
        ClientProfile::Entra,
        &user_schema(),
        &user(),
        &[],
        json!([
            {"op": "Replace", "path": "displayName", "value": "B"},
            {"op": "Add", "path": "title", "value": "T"},
            {"op": "Remove", "path": "nickName"}
        ]),
    );
    let out = out.expect("ok");
    assert_eq!(out.resource["displayName"], json!("B"));
    assert_eq!(out.resource["title"], json!("T"));
    assert_eq!(fired, vec![Tolerance::CapitalisedOp]);
    for profile in [ClientProfile::Strict, ClientProfile::Okta] {
        let err = user_err(
            profile,
            json!([{"op": "Replace", "path": "displayName", "value": "B"}]),
        );
        assert_eq!(err.scim_type, ScimType::InvalidSyntax);
    }
}

#[test]
fn entra_replace_existing_work_email() {
    let (out, fired) = run(
        ClientProfile::Entra,
        &user_schema(),
        &user(),
        &[],
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"},
            {"op": "Replace", "path": "name.familyName", "value": "Jensen-Smith"}
        ]),
    );
    let out = out.expect("ok");
    assert_eq!(
        out.resource["emails"],
        json!([
            {"value": "new@x.org", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ])
    );
    assert_eq!(out.resource["name"]["familyName"], json!("Jensen-Smith"));
    assert!(!fired.contains(&Tolerance::FilteredPathCreatesValue));
}

#[test]
fn entra_replace_missing_work_email_creates_it() {
    let doc = json!({"userName": "u", "emails": [{"value": "h@x.org", "type": "home"}]});
    let ops = json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"}]);
    let (out, fired) = run(ClientProfile::Entra, &user_schema(), &doc, &[], ops.clone());
    assert_eq!(
        out.expect("ok").resource["emails"],
        json!([
            {"value": "h@x.org", "type": "home"},
            {"type": "work", "value": "new@x.org"}
        ])
    );
    assert!(fired.contains(&Tolerance::FilteredPathCreatesValue));

    let ops = json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@x.org"}]);
    let (out, fired) = run(ClientProfile::Strict, &user_schema(), &doc, &[], ops);
    assert_eq!(out.expect_err("strict").scim_type, ScimType::NoTarget);
    assert!(fired.is_empty());

    // Creation needs eq comparisons joined by `and`; anything else stays noTarget.
    let ops =
        json!([{"op": "replace", "path": "emails[type eq \"work\" or type eq \"x\"].value", "value": "n"}]);
    let (out, fired) = run(ClientProfile::Lenient, &user_schema(), &doc, &[], ops);
    assert_eq!(out.expect_err("no target").scim_type, ScimType::NoTarget);
    assert!(fired.is_empty());

    // Filter without sub-attribute: the value object is merged into the new element.
    let ops = json!([{"op": "add", "path": "emails[type eq \"work\"]", "value": {"value": "w@x.org", "primary": true}}]);
    let out = user_ok_on(
        &json!({"emails": [{"value": "h@x.org", "type": "home", "primary": true}]}),
        ops,
    );
    assert_eq!(
        out.resource["emails"],
        json!([
            {"value": "h@x.org", "type": "home", "primary": false},
            {"type": "work", "value": "w@x.org", "primary": true}
        ])
    );
}

#[test]
fn entra_single_valued_and_enterprise_paths() {
    let (out, fired) = run(
        ClientProfile::Entra,
        &user_schema(),
        &user(),
        &[],
        json!([
            {"op": "Replace", "path": "userName", "value": "babs@example.com"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:employeeNumber"), "value": "701984"},
            {"op": "Add", "path": "nickName", "value": "Babs"}
        ]),
    );
    let out = out.expect("ok");
    assert_eq!(out.resource["userName"], json!("babs@example.com"));
    assert_eq!(out.resource[ENTERPRISE], json!({"employeeNumber": "701984"}));
    assert_eq!(out.resource["nickName"], json!("Babs"));
    assert_eq!(fired, vec![Tolerance::CapitalisedOp]);
}

#[test]
fn entra_no_path_dotted_and_urn_keys() {
    let ops = json!([{"op": "replace", "value": {
        "displayName": "Babs J",
        "name.givenName": "Babs",
        "name.familyName": "J",
        format!("{ENTERPRISE}:employeeNumber"): "42",
        format!("{ENTERPRISE}:manager"): {"value": "m1"},
        "emails[type eq \"work\"].value": "w@x.org"
    }}]);
    let (out, fired) = run(ClientProfile::Entra, &user_schema(), &user(), &[], ops.clone());
    let out = out.expect("ok");
    assert_eq!(
        out.resource["name"],
        json!({"givenName": "Babs", "familyName": "J"})
    );
    assert_eq!(out.resource["displayName"], json!("Babs J"));
    assert_eq!(
        out.resource[ENTERPRISE],
        json!({"employeeNumber": "42", "manager": {"value": "m1"}})
    );
    assert_eq!(out.resource["emails"][0]["value"], json!("w@x.org"));
    let text = out.resource.to_string();
    assert!(
        !text.contains("name.givenName") && !text.contains(":employeeNumber"),
        "{text}"
    );
    assert!(fired.contains(&Tolerance::DottedPathKey));
    assert!(fired.contains(&Tolerance::UrnPathKey));

    let err = user_err(
        ClientProfile::Strict,
        json!([{"op": "replace", "value": {"name.givenName": "B"}}]),
    );
    assert_eq!(err.scim_type, ScimType::InvalidValue);
    let err = user_err(
        ClientProfile::Strict,
        json!([{"op": "replace", "value": {format!("{ENTERPRISE}:employeeNumber"): "1"}}]),
    );
    assert_eq!(err.scim_type, ScimType::InvalidValue);
    // The RFC shape is accepted by strict.
    let (out, fired) = run(
        ClientProfile::Strict,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "replace", "value": {ENTERPRISE: {"employeeNumber": "1"}, "name": {"givenName": "B"}}}]),
    );
    let out = out.expect("ok");
    assert_eq!(out.resource[ENTERPRISE]["employeeNumber"], json!("1"));
    assert_eq!(out.resource["name"]["givenName"], json!("B"));
    assert!(fired.is_empty());
}

#[test]
fn entra_manager_as_string_and_object() {
    let path = format!("{ENTERPRISE}:manager");
    let (out, fired) = run(
        ClientProfile::Entra,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "Add", "path": path, "value": "mgr-1"}]),
    );
    assert_eq!(
        out.expect("ok").resource[ENTERPRISE]["manager"],
        json!({"value": "mgr-1"})
    );
    assert!(fired.contains(&Tolerance::ManagerAsString));

    let (out, fired) = run(
        ClientProfile::Strict,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "add", "path": path, "value": {"value": "mgr-2"}}]),
    );
    assert_eq!(
        out.expect("ok").resource[ENTERPRISE]["manager"],
        json!({"value": "mgr-2"})
    );
    assert!(fired.is_empty());

    let (out, _) = run(
        ClientProfile::Strict,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "add", "path": path, "value": "mgr-1"}]),
    );
    assert_eq!(out.expect_err("strict").scim_type, ScimType::InvalidValue);

    // Replacing with an empty string clears the manager.
    let doc = json!({"userName": "u", ENTERPRISE: {"manager": {"value": "m"}}});
    let out = user_ok_on(&doc, json!([{"op": "Replace", "path": path, "value": ""}]));
    assert_eq!(out.resource, json!({"userName": "u"}));
}

#[test]
fn entra_active_false_string_passes_through() {
    let (out, fired) = run(
        ClientProfile::Entra,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    );
    assert_eq!(out.expect("ok").resource["active"], json!("False"));
    assert!(
        !fired.contains(&Tolerance::StringBoolean),
        "coercion is the normalizer's job"
    );
}

// ---------------------------------------------------------------------------------------
// Okta users

#[test]
fn entra_flagged_lower_case_shapes() {
    let (out, fired) = run(
        ClientProfile::Entra,
        &user_schema(),
        &user(),
        &[],
        json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "add", "value": {ENTERPRISE: {"department": "Sales"}, "title": "AE"}}
        ]),
    );
    let out = out.expect("ok");
    assert_eq!(out.resource["active"], json!(false));
    assert_eq!(out.resource[ENTERPRISE], json!({"department": "Sales"}));
    assert_eq!(out.resource["title"], json!("AE"));
    assert!(fired.is_empty());
}

#[test]
fn okta_no_path_active_false() {
    let (out, fired) = run(
        ClientProfile::Okta,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "replace", "value": {"active": false}}]),
    );
    let out = out.expect("ok");
    assert_eq!(out.resource["active"], json!(false));
    assert!(out.changed);
    assert!(fired.is_empty());
}

// ---------------------------------------------------------------------------------------
// Groups (members deferred)

#[test]
fn group_add_members_list() {
    let (out, _) = group_ok(
        ClientProfile::Entra,
        json!([{"op": "Add", "path": "members", "value": [
            {"$ref": null, "value": "u1"}, {"$ref": null, "value": "u2"}
        ]}]),
    );
    assert_eq!(
        out.deferred,
        vec![DeferredOp::Add(vec![
            json!({"value": "u1"}),
            json!({"value": "u2"})
        ])]
    );
    assert_eq!(
        out.resource,
        group(),
        "deferred attributes never touch the document"
    );
    assert!(out.changed);
}

#[test]
fn group_remove_member_by_filter() {
    let (out, fired) = group_ok(
        ClientProfile::Entra,
        json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]),
    );
    assert_eq!(out.deferred, vec![DeferredOp::RemoveWhere(member_filter("u1"))]);
    assert!(fired.is_empty());
}

#[test]
fn group_remove_member_by_value_list() {
    let ops = json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]);
    let (out, fired) = group_ok(ClientProfile::Entra, ops.clone());
    assert_eq!(
        out.deferred,
        vec![DeferredOp::Remove(vec![json!({"value": "u1"})])]
    );
    assert!(fired.contains(&Tolerance::RemoveWithValueList));
    let err = group_err(
        ClientProfile::Strict,
        json!([{"op": "remove", "path": "members", "value": [{"value": "u1"}]}]),
    );
    assert_eq!(err.scim_type, ScimType::InvalidSyntax);
    let err = group_err(
        ClientProfile::Okta,
        json!([{"op": "remove", "path": "members", "value": [{"value": "u1"}]}]),
    );
    assert_eq!(err.scim_type, ScimType::InvalidSyntax);
}

#[test]
fn group_remove_all_members() {
    let (out, _) = group_ok(
        ClientProfile::Strict,
        json!([{"op": "remove", "path": "members"}]),
    );
    assert_eq!(out.deferred, vec![DeferredOp::RemoveAll]);
}

#[test]
fn okta_group_remove_then_add_in_one_request() {
    let (out, fired) = group_ok(
        ClientProfile::Okta,
        json!([
            {"op": "remove", "path": "members[value eq \"u1\"]"},
            {"op": "add", "path": "members", "value": [{"value": "u2", "display": "u2@x.org"}]}
        ]),
    );
    assert_eq!(
        out.deferred,
        vec![
            DeferredOp::RemoveWhere(member_filter("u1")),
            DeferredOp::Add(vec![json!({"value": "u2", "display": "u2@x.org"})]),
        ]
    );
    assert!(fired.is_empty());
}

#[test]
fn okta_group_name_sync_echoing_id() {
    let ops = json!([{"op": "replace", "value": {"id": GROUP_ID, "displayName": "Tour Guides EMEA"}}]);
    let (out, fired) = group_ok(ClientProfile::Okta, ops.clone());
    assert_eq!(out.resource, json!({"displayName": "Tour Guides EMEA"}));
    assert_eq!(fired, vec![Tolerance::EchoedId]);
    // The same name again changes nothing.
    let ops_same = json!([{"op": "replace", "value": {"id": GROUP_ID, "displayName": "Tour Guides"}}]);
    let (out, _) = group_ok(ClientProfile::Okta, ops_same);
    assert!(!out.changed);
    // Not allowed by strict or entra; another id is never allowed.
    for profile in [ClientProfile::Strict, ClientProfile::Entra] {
        assert_eq!(group_err(profile, ops.clone()).scim_type, ScimType::Mutability);
    }
    let other = json!([{"op": "replace", "value": {"id": "other", "displayName": "x"}}]);
    assert_eq!(
        group_err(ClientProfile::Lenient, other).scim_type,
        ScimType::Mutability
    );
}

#[test]
fn group_replace_members_and_display_name() {
    let (out, _) = group_ok(
        ClientProfile::Okta,
        json!([
            {"op": "replace", "path": "members", "value": [{"value": "u1", "display": "a"}, {"value": "u2"}]}
        ]),
    );
    assert_eq!(
        out.deferred,
        vec![DeferredOp::Replace(vec![
            json!({"value": "u1", "display": "a"}),
            json!({"value": "u2"})
        ])]
    );
    let (out, _) = group_ok(
        ClientProfile::Entra,
        json!([{"op": "Replace", "path": "displayName", "value": "New name"}]),
    );
    assert_eq!(out.resource, json!({"displayName": "New name"}));
    assert!(out.deferred.is_empty());
    let (out, _) = group_ok(
        ClientProfile::Strict,
        json!([{"op": "replace", "path": "members", "value": null}]),
    );
    assert_eq!(out.deferred, vec![DeferredOp::Replace(vec![])]);
}

#[test]
fn group_no_path_members_key() {
    let (out, _) = group_ok(
        ClientProfile::Strict,
        json!([
            {"op": "add", "value": {"members": [{"value": "u1"}]}},
            {"op": "replace", "value": {"displayName": "g2", "MEMBERS": [{"Value": "u2"}]}}
        ]),
    );
    assert_eq!(
        out.deferred,
        vec![
            DeferredOp::Add(vec![json!({"value": "u1"})]),
            DeferredOp::Replace(vec![json!({"value": "u2"})]),
        ]
    );
    assert_eq!(out.resource, json!({"displayName": "g2"}));
}

#[test]
fn group_deferred_shapes_refused() {
    for ops in [
        json!([{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "x"}]),
        json!([{"op": "add", "path": "members[value eq \"u1\"]", "value": {"display": "x"}}]),
        json!([{"op": "remove", "path": "members.display"}]),
    ] {
        assert_eq!(
            group_err(ClientProfile::Lenient, ops.clone()).scim_type,
            ScimType::InvalidPath,
            "{ops}"
        );
    }
    for value in [
        json!(["u1"]),
        json!([{"display": "x"}]),
        json!([{"value": ""}]),
        json!({"value": 5}),
    ] {
        let ops = json!([{"op": "add", "path": "members", "value": value}]);
        assert_eq!(
            group_err(ClientProfile::Lenient, ops.clone()).scim_type,
            ScimType::InvalidValue,
            "{ops}"
        );
    }
    // An empty add is no operation at all.
    let (out, _) = group_ok(
        ClientProfile::Strict,
        json!([{"op": "add", "path": "members", "value": []}]),
    );
    assert!(out.deferred.is_empty());
    assert!(!out.changed);
}

// ---------------------------------------------------------------------------------------
// Tolerances refused by strict

#[test]
fn strict_refuses_every_tolerance() {
    let cases = [
        (
            json!([{"op": "Add", "path": "title", "value": "x"}]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{"op": "replace", "value": {"name.givenName": "x"}}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "replace", "value": {format!("{ENTERPRISE}:department"): "x"}}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "add", "path": format!("{ENTERPRISE}:manager"), "value": "m"}]),
            ScimType::InvalidValue,
        ),
        (
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
            ScimType::NoTarget,
        ),
        (
            json!([{"op": "remove", "path": "emails", "value": [{"value": "babs@jensen.org"}]}]),
            ScimType::InvalidSyntax,
        ),
        (
            json!([{"op": "replace", "value": {"id": USER_ID}}]),
            ScimType::Mutability,
        ),
        (
            json!([{"op": "replace", "value": {"shoeSize": 42}}]),
            ScimType::InvalidValue,
        ),
    ];
    for (ops, scim_type) in cases {
        let (result, fired) = run(ClientProfile::Strict, &user_schema(), &user(), &[], ops.clone());
        assert_eq!(result.expect_err("strict refuses").scim_type, scim_type, "{ops}");
        assert!(fired.is_empty());
        let (result, fired) = run(ClientProfile::Lenient, &user_schema(), &user(), &[], ops.clone());
        assert!(result.is_ok(), "lenient accepts {ops}: {result:?}");
        assert_eq!(fired.len(), 1, "{ops}: {fired:?}");
    }
}

#[test]
fn remove_value_list_on_user_attributes() {
    let out =
        user_ok(json!([{"op": "remove", "path": "emails", "value": [{"value": "babs@jensen.org"}, {}]}]));
    assert_eq!(out.resource["emails"], json!([user()["emails"][0]]));
    let out = user_ok(json!([{"op": "remove", "path": "displayName", "value": "Other"}]));
    assert!(
        !out.changed,
        "a single value is removed only when it equals the listed value"
    );
    let out = user_ok(json!([{"op": "remove", "path": "displayName", "value": "Babs Jensen"}]));
    assert!(out.resource.get("displayName").is_none());
}

#[test]
fn unknown_no_path_key_dropped_when_tolerated() {
    let (out, fired) = run(
        ClientProfile::Okta,
        &user_schema(),
        &user(),
        &[],
        json!([{"op": "replace", "value": {"shoeSize": 42, "title": "T", "schemas": ["x"]}}]),
    );
    let out = out.expect("ok");
    assert!(out.resource.get("shoeSize").is_none());
    assert_eq!(out.resource["title"], json!("T"));
    assert_eq!(fired, vec![Tolerance::UnknownAttribute]);
}

// ---------------------------------------------------------------------------------------
// Paths

#[test]
fn invalid_paths() {
    for path in [
        "shoeSize",
        "name.middle",
        "urn:example:ext:1.0:User:x",
        "emails[type eq]",
        "emails[type eq \"work\"",
        "",
        "name[givenName eq \"x\"]",
        "title[value eq \"x\"]",
    ] {
        for op in ["add", "replace", "remove"] {
            let err = user_err(
                ClientProfile::Lenient,
                json!([{"op": op, "path": path, "value": "x"}]),
            );
            assert_eq!(err.scim_type, ScimType::InvalidPath, "{op} {path:?}: {err:?}");
        }
    }
    let err = user_err(
        ClientProfile::Lenient,
        json!([{"op": "add", "path": "emails[type eq]", "value": "x"}]),
    );
    assert!(
        err.detail.contains("position"),
        "parser detail kept: {}",
        err.detail
    );
}

#[test]
fn paths_are_case_insensitive_and_written_canonically() {
    let out = user_ok(json!([
        {"op": "replace", "path": "NAME.GIVENNAME", "value": "B"},
        {"op": "replace", "path": format!("{}:DEPARTMENT", ENTERPRISE.to_uppercase()), "value": "D"},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:title", "value": "T"},
        {"op": "replace", "path": "Emails[Type eq \"home\"].Value", "value": "h@x.org"}
    ]));
    assert_eq!(out.resource["name"]["givenName"], json!("B"));
    assert_eq!(out.resource[ENTERPRISE], json!({"department": "D"}));
    assert_eq!(out.resource["title"], json!("T"));
    assert_eq!(out.resource["emails"][1]["value"], json!("h@x.org"));
}

#[test]
fn whole_extension_path() {
    let out = user_ok(
        json!([{"op": "add", "path": ENTERPRISE, "value": {"department": "D", "employeeNumber": "7"}}]),
    );
    assert_eq!(
        out.resource[ENTERPRISE],
        json!({"department": "D", "employeeNumber": "7"})
    );
    let doc = out.resource;
    let out = user_ok_on(&doc, json!([{"op": "remove", "path": ENTERPRISE}]));
    assert!(out.resource.get(ENTERPRISE).is_none());
    let out = user_ok_on(
        &doc,
        json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")},
                                       {"op": "remove", "path": format!("{ENTERPRISE}:employeeNumber")}]),
    );
    assert!(
        out.resource.get(ENTERPRISE).is_none(),
        "emptied extension is dropped"
    );
}

#[test]
fn sub_attribute_of_multi_valued_without_filter() {
    let out = user_ok(json!([{"op": "replace", "path": "addresses.locality", "value": "LA"}]));
    assert_eq!(out.resource["addresses"][0]["locality"], json!("LA"));
    assert_eq!(out.resource["addresses"][1]["locality"], json!("LA"));
    let out = user_ok(json!([{"op": "add", "path": "phoneNumbers.value", "value": "555"}]));
    assert_eq!(out.resource["phoneNumbers"], json!([{"value": "555"}]));
    let out = user_ok(json!([{"op": "remove", "path": "addresses.streetAddress"}]));
    assert!(out.resource["addresses"][1].get("streetAddress").is_none());
}

// ---------------------------------------------------------------------------------------
// Mutability

#[test]
fn read_only_targets_are_refused() {
    for ops in [
        json!([{"op": "add", "path": "groups", "value": [{"value": "g"}]}]),
        json!([{"op": "remove", "path": "groups"}]),
        json!([{"op": "replace", "path": "id", "value": "x"}]),
        json!([{"op": "replace", "path": "meta.version", "value": "x"}]),
        json!([{"op": "replace", "value": {"meta": {"version": "x"}}}]),
        json!([{"op": "replace", "value": {"groups": []}}]),
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:manager.displayName"), "value": "x"}]),
    ] {
        assert_eq!(
            user_err(ClientProfile::Lenient, ops.clone()).scim_type,
            ScimType::Mutability,
            "{ops}"
        );
    }
    // Not in the schema, read-only all the same.
    let (result, _) = run(
        ClientProfile::Lenient,
        &group_schema(),
        &group(),
        &["members"],
        json!([{"op": "add", "path": "licenses", "value": [{"value": "l"}]}]),
    );
    assert_eq!(result.expect_err("readOnly").scim_type, ScimType::Mutability);
    // externalId is a common readWrite attribute even though the schema omits it.
    let out = user_ok(json!([{"op": "replace", "path": "externalId", "value": "e1"}]));
    assert_eq!(out.resource["externalId"], json!("e1"));
}

#[test]
fn read_only_sub_attribute_in_merge_only_fails_when_changed() {
    let doc = json!({"userName": "u", ENTERPRISE: {"manager": {"value": "m", "displayName": "M"}}});
    let path = format!("{ENTERPRISE}:manager");
    let out = user_ok_on(
        &doc,
        json!([{"op": "replace", "path": path, "value": {"value": "n", "displayName": "M"}}]),
    );
    assert_eq!(
        out.resource[ENTERPRISE]["manager"],
        json!({"value": "n", "displayName": "M"})
    );
    let (result, _) = run(
        ClientProfile::Lenient,
        &user_schema(),
        &doc,
        &[],
        json!([{"op": "replace", "path": path, "value": {"displayName": "X"}}]),
    );
    assert_eq!(result.expect_err("readOnly").scim_type, ScimType::Mutability);
}

#[test]
fn immutable_sub_attributes() {
    // Group members kept in the document (no deferral) to exercise `members.value` immutable.
    let doc = json!({"displayName": "g", "members": [{"value": "a", "display": "A"}]});
    let schema = group_schema();
    let go = |ops: Value| run(ClientProfile::Strict, &schema, &doc, &[], ops).0;
    let err = go(json!([{"op": "replace", "path": "members[value eq \"a\"].value", "value": "b"}]));
    assert_eq!(err.expect_err("immutable").scim_type, ScimType::Mutability);
    let err = go(json!([{"op": "remove", "path": "members[value eq \"a\"].value"}]));
    assert_eq!(err.expect_err("immutable").scim_type, ScimType::Mutability);
    // Same value, other sub-attributes, whole elements: fine.
    let out = go(
        json!([{"op": "replace", "path": "members[value eq \"a\"]", "value": {"value": "a", "display": "AA"}}]),
    );
    assert_eq!(
        out.expect("ok").resource["members"],
        json!([{"value": "a", "display": "AA"}])
    );
    // Setting an immutable sub-attribute that is unset is allowed.
    let out = go(json!([{"op": "add", "path": "members[value eq \"a\"].type", "value": "User"}]));
    assert_eq!(out.expect("ok").resource["members"][0]["type"], json!("User"));
    let out = go(json!([{"op": "remove", "path": "members[value eq \"a\"]"}]));
    assert!(out.expect("ok").resource.get("members").is_none());
}

#[test]
fn immutable_top_level_attribute() {
    let core: Schema = serde_json::from_value(json!({
        "id": "urn:example:Thing", "name": "Thing",
        "attributes": [with(attr("badge", "string"), "mutability", json!("immutable")), attr("note", "string")]
    }))
    .expect("schema");
    let schema = resource_schema(&core, vec![]);
    let go = |doc: Value, ops: Value| run(ClientProfile::Strict, &schema, &doc, &[], ops).0;
    let set = go(json!({}), json!([{"op": "add", "path": "badge", "value": "b1"}]));
    assert_eq!(set.expect("set while unset").resource["badge"], json!("b1"));
    let same = go(
        json!({"badge": "b1"}),
        json!([{"op": "replace", "value": {"badge": "b1", "note": "n"}}]),
    );
    assert_eq!(same.expect("same value").resource["note"], json!("n"));
    for ops in [
        json!([{"op": "replace", "path": "badge", "value": "b2"}]),
        json!([{"op": "replace", "value": {"badge": "b2"}}]),
        json!([{"op": "remove", "path": "badge"}]),
    ] {
        let err = go(json!({"badge": "b1"}), ops.clone()).expect_err("immutable");
        assert_eq!(err.scim_type, ScimType::Mutability, "{ops}");
    }
}

// ---------------------------------------------------------------------------------------
// primary, all-or-nothing, changed

#[test]
fn primary_is_unique() {
    let out = user_ok(
        json!([{"op": "add", "path": "emails", "value": [{"value": "n@x.org", "type": "other", "primary": true}]}]),
    );
    assert_eq!(out.resource["emails"][0]["primary"], json!(false));
    assert_eq!(out.resource["emails"][2]["primary"], json!(true));

    let out = user_ok(json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]));
    assert_eq!(out.resource["emails"][0]["primary"], json!(false));
    assert_eq!(out.resource["emails"][1]["primary"], json!(true));

    let out = user_ok(json!([{"op": "replace", "path": "emails", "value": [
        {"value": "a", "primary": true}, {"value": "b", "primary": "True"}]}]));
    assert_eq!(
        out.resource["emails"],
        json!([{"value": "a", "primary": false}, {"value": "b", "primary": "True"}])
    );

    // No primary written: nothing else changes.
    let out = user_ok(json!([{"op": "add", "path": "emails", "value": {"value": "z@x.org"}}]));
    assert_eq!(out.resource["emails"][0]["primary"], json!(true));
}

#[test]
fn all_or_nothing() {
    let (result, _) = run(
        ClientProfile::Lenient,
        &user_schema(),
        &user(),
        &[],
        json!([
            {"op": "replace", "path": "displayName", "value": "changed"},
            {"op": "replace", "path": "nope", "value": "x"}
        ]),
    );
    let err = result.expect_err("second op fails");
    assert_eq!(err.scim_type, ScimType::InvalidPath);
    assert!(err.detail.starts_with("Operations[1]: "), "{}", err.detail);

    let (result, _) = run(
        ClientProfile::Lenient,
        &group_schema(),
        &group(),
        &["members"],
        json!([
            {"op": "add", "path": "members", "value": [{"value": "u1"}]},
            {"op": "replace", "path": "id", "value": "x"}
        ]),
    );
    assert_eq!(result.expect_err("fails").scim_type, ScimType::Mutability);
}

#[test]
fn changed_flag() {
    let out = user_ok(json!([{"op": "replace", "path": "displayName", "value": "Babs Jensen"}]));
    assert!(!out.changed);
    assert_eq!(out.resource, user());
    let out = user_ok(json!([
        {"op": "replace", "path": "displayName", "value": "X"},
        {"op": "replace", "path": "displayName", "value": "Babs Jensen"}
    ]));
    assert!(!out.changed, "ops that cancel out change nothing");
}

// ---------------------------------------------------------------------------------------
// Robustness

mod props {
    use super::*;
    use proptest::prelude::*;

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            prop::sample::select(vec![
                "add",
                "Replace",
                "remove",
                "members",
                "emails",
                "name.givenName",
                "value",
                "emails[type eq \"work\"].value",
                "members[value eq \"u1\"]",
                "primary",
                "type",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "id",
                "meta",
                "groups",
                "work",
                "u1",
                "title",
                "[",
                "a.b.c",
                "emails[",
                "True",
            ])
            .prop_map(|s| Value::String(s.to_string())),
            "\\PC{0,12}".prop_map(Value::String),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        json_leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..5)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "op",
            "path",
            "value",
            "Operations",
            "schemas",
            "members",
            "emails",
            "name",
            "name.givenName",
            "active",
            "id",
            "primary",
            "type",
            "display",
            "displayName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            "$ref",
            "x",
        ])
        .prop_map(str::to_string)
    }

    fn operation() -> impl Strategy<Value = Value> {
        (
            json_leaf(),
            prop::option::of(json_leaf()),
            prop::option::of(json_value()),
        )
            .prop_map(|(op, path, value)| {
                let mut m = Map::new();
                m.insert("op".into(), op);
                if let Some(p) = path {
                    m.insert("path".into(), p);
                }
                if let Some(v) = value {
                    m.insert("value".into(), v);
                }
                Value::Object(m)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_requests_never_panic(
            request in json_value(),
            ops in prop::collection::vec(operation(), 0..5),
            doc in json_value(),
            profile in prop::sample::select(vec![ClientProfile::Strict, ClientProfile::Lenient, ClientProfile::Entra, ClientProfile::Okta]),
        ) {
            let schema = user_schema();
            let group = group_schema();
            let mut leniency = Leniency::new(profile);
            let _ = apply_patch(&doc, &request, &schema, &[], USER_ID, &mut leniency);
            let _ = apply_patch(&user(), &body(Value::Array(ops.clone())), &schema, &[], USER_ID, &mut leniency);
            let _ = apply_patch(&doc, &body(Value::Array(ops.clone())), &group, &["members"], GROUP_ID, &mut leniency);
            if let Ok(out) = apply_patch(&user(), &body(Value::Array(ops)), &schema, &[], USER_ID, &mut leniency) {
                prop_assert!(out.resource.is_object());
                let text = out.resource.to_string();
                prop_assert!(!text.contains("\"name.givenName\""));
            }
        }
    }
}

/// Properties of well-formed PATCHes on well-formed users: a PATCH followed by its
/// inverse restores the user; replaces are idempotent.
mod algebra {
    use super::*;
    use proptest::prelude::*;

    const SINGLE: [&str; 4] = ["displayName", "title", "nickName", "active"];

    fn word() -> impl Strategy<Value = String> {
        "[a-z]{1,6}"
    }

    fn single_value(attr: &str) -> BoxedStrategy<Value> {
        if attr == "active" {
            any::<bool>().prop_map(Value::Bool).boxed()
        } else {
            word().prop_map(Value::String).boxed()
        }
    }

    /// A stored user: some single-valued attributes, maybe a given name, 0–3 emails.
    fn stored_user() -> impl Strategy<Value = Value> {
        (
            prop::collection::vec(prop::option::of(word()), SINGLE.len()),
            any::<bool>(),
            prop::option::of(word()),
            prop::collection::vec(prop::sample::select(vec!["work", "home"]), 0..4),
        )
            .prop_map(|(singles, active, given, email_types)| {
                let mut doc = Map::new();
                doc.insert("userName".into(), json!("prop@example.com"));
                for (attr, value) in SINGLE.iter().zip(singles) {
                    match (*attr, value) {
                        ("active", Some(_)) => {
                            doc.insert("active".into(), json!(active));
                        }
                        (attr, Some(v)) => {
                            doc.insert(attr.into(), json!(v));
                        }
                        _ => {}
                    }
                }
                if let Some(given) = given {
                    doc.insert("name".into(), json!({"givenName": given}));
                }
                if !email_types.is_empty() {
                    let emails: Vec<Value> = email_types
                        .iter()
                        .enumerate()
                        .map(|(i, t)| json!({"value": format!("e{i}@example.com"), "type": t}))
                        .collect();
                    doc.insert("emails".into(), Value::Array(emails));
                }
                Value::Object(doc)
            })
    }

    #[derive(Debug, Clone)]
    enum Step {
        Replace(&'static str, Value),
        Remove(&'static str),
        GivenName(String),
        /// Add a fresh email (its value made unique by the step's position).
        AddEmail,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            prop::sample::select(SINGLE.to_vec())
                .prop_flat_map(|attr| single_value(attr).prop_map(move |v| Step::Replace(attr, v))),
            prop::sample::select(SINGLE.to_vec()).prop_map(Step::Remove),
            word().prop_map(Step::GivenName),
            Just(Step::AddEmail),
        ]
    }

    fn operation(step: &Step, position: usize) -> Value {
        match step {
            Step::Replace(attr, value) => json!({"op": "replace", "path": attr, "value": value}),
            Step::Remove(attr) => json!({"op": "remove", "path": attr}),
            Step::GivenName(given) => json!({"op": "replace", "path": "name.givenName", "value": given}),
            Step::AddEmail => {
                json!({"op": "add", "path": "emails", "value": [{"value": format!("new{position}@example.com"), "type": "other"}]})
            }
        }
    }

    /// The operation undoing `step` on `before` (the document it applied to).
    fn inverse(step: &Step, position: usize, before: &Value) -> Option<Value> {
        let restore = |path: &str, old: Option<&Value>| match old {
            Some(old) => json!({"op": "replace", "path": path, "value": old}),
            None => json!({"op": "remove", "path": path}),
        };
        match step {
            Step::Replace(attr, _) => Some(restore(attr, before.get(*attr))),
            Step::Remove(attr) => before.get(*attr).map(|old| restore(attr, Some(old))),
            Step::GivenName(_) => Some(restore("name.givenName", before.pointer("/name/givenName"))),
            Step::AddEmail => Some(
                json!({"op": "remove", "path": format!("emails[value eq \"new{position}@example.com\"]")}),
            ),
        }
    }

    fn strict(doc: &Value, ops: Vec<Value>) -> Result<PatchOutcome, ProtocolError> {
        run(ClientProfile::Strict, &user_schema(), doc, &[], Value::Array(ops)).0
    }

    fn replace_op() -> impl Strategy<Value = Value> {
        prop_oneof![
            prop::sample::select(SINGLE.to_vec())
                .prop_flat_map(|attr| single_value(attr).prop_map(move |v| json!({"op": "replace", "path": attr, "value": v}))),
            word().prop_map(|g| json!({"op": "replace", "path": "name.givenName", "value": g})),
            word().prop_map(|g| json!({"op": "replace", "path": "name", "value": {"familyName": g}})),
            (word(), any::<bool>()).prop_map(|(w, primary)| json!({"op": "replace", "path": "emails", "value": [{"value": format!("{w}@example.com"), "type": "work", "primary": primary}, {"value": "x@example.com", "primary": true}]})),
            word().prop_map(|d| json!({"op": "replace", "path": "emails[type eq \"work\"].display", "value": d})),
            (word(), word()).prop_map(|(a, b)| json!({"op": "replace", "value": {"title": a, "name": {"givenName": b}}})),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_patch_then_its_inverse_restores_the_resource(
            original in stored_user(),
            steps in prop::collection::vec(step(), 1..8),
        ) {
            let mut doc = original.clone();
            let mut inverses = Vec::new();
            let mut forward = Vec::new();
            for (position, step) in steps.iter().enumerate() {
                let op = operation(step, position);
                inverses.extend(inverse(step, position, &doc));
                doc = strict(&doc, vec![op.clone()]).expect("a well-formed step applies").resource;
                forward.push(op);
            }
            inverses.reverse();
            let patched = strict(&original, forward).expect("the PATCH applies");
            prop_assert_eq!(&patched.resource, &doc);
            // Only removes of absent attributes: nothing to undo.
            let restored = if inverses.is_empty() {
                patched.resource
            } else {
                strict(&patched.resource, inverses).expect("the inverse applies").resource
            };
            prop_assert_eq!(restored, original);
        }

        #[test]
        fn replaces_are_idempotent(
            original in stored_user(),
            ops in prop::collection::vec(replace_op(), 1..6),
            profile in prop::sample::select(vec![ClientProfile::Strict, ClientProfile::Lenient]),
        ) {
            let schema = user_schema();
            let (once, _) = run(profile, &schema, &original, &[], Value::Array(ops.clone()));
            if let Ok(once) = once {
                let (twice, _) = run(profile, &schema, &once.resource, &[], Value::Array(ops));
                let twice = twice.expect("a replace that applied once applies again");
                prop_assert_eq!(&twice.resource, &once.resource);
                prop_assert!(!twice.changed);
            }
        }
    }
}

/// Element visits (see [`values::WORK`]) of a lenient PATCH of `ops` on `doc`, which must
/// succeed.
fn work_of(schema: &ResourceSchema, doc: &Value, deferred: &[&str], ops: Value) -> usize {
    values::WORK.with(|work| work.set(0));
    let (result, _) = run(ClientProfile::Lenient, schema, doc, deferred, ops);
    result.expect("the PATCH applies");
    values::WORK.with(std::cell::Cell::get)
}

fn user_with_emails(n: usize) -> Value {
    let emails: Vec<Value> = (0..n)
        .map(|i| json!({"value": format!("e{i}@example.com"), "type": "work"}))
        .collect();
    json!({"userName": "many@example.com", "emails": emails})
}

/// Work for `n` operations, and for `4n`: linear work quadruples, quadratic work grows 16×.
fn growth(ops_for: impl Fn(usize) -> (Value, Value)) -> (usize, usize) {
    let schema = user_schema();
    let (doc, ops) = ops_for(500);
    let small = work_of(&schema, &doc, &[], ops);
    let (doc, ops) = ops_for(2_000);
    (small, work_of(&schema, &doc, &[], ops))
}

#[test]
fn appending_values_is_linear_in_the_operations() {
    // Each operation adds one email (every other one primary) to a user already holding
    // as many, plus a duplicate of an existing one.
    let (small, large) = growth(|n| {
        let ops: Vec<Value> = (0..n)
            .flat_map(|i| {
                [
                    json!({"op": "add", "path": "emails", "value": [{"value": format!("a{i}@example.com"), "primary": i % 2 == 0}]}),
                    json!({"op": "add", "path": "emails", "value": {"value": format!("e{i}@example.com"), "type": "work"}}),
                ]
            })
            .collect();
        (user_with_emails(n), Value::Array(ops))
    });
    assert!(small > 0 && large <= 5 * small, "{small} → {large}");
}

#[test]
fn appending_keeps_one_primary_and_skips_equal_values() {
    let ops: Vec<Value> = (0..3)
        .map(|i| json!({"op": "add", "path": "emails", "value": [{"value": format!("a{i}@example.com"), "primary": true}]}))
        .chain([json!({"op": "add", "path": "emails", "value": {"value": "a1@example.com", "primary": false}})])
        .chain([json!({"op": "add", "path": "emails", "value": {"value": "e0@example.com", "type": "work"}})])
        .collect();
    let outcome = user_ok_on(&user_with_emails(1), Value::Array(ops));
    assert_eq!(
        outcome.resource["emails"],
        json!([
            {"value": "e0@example.com", "type": "work"},
            {"value": "a0@example.com", "primary": false},
            {"value": "a1@example.com", "primary": false},
            {"value": "a2@example.com", "primary": true},
        ])
    );
}

#[test]
fn removing_many_matched_values_is_linear() {
    // One filtered remove matching every element, on ever larger arrays.
    let (small, large) = growth(|n| {
        (
            user_with_emails(n),
            json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]),
        )
    });
    assert!(small > 0 && large <= 5 * small, "{small} → {large}");
}

#[test]
fn deferred_values_are_deduplicated_in_linear_work() {
    let schema = group_schema();
    let members = |n: usize| -> Value {
        (0..n)
            .map(|i| json!({"value": format!("u{}", i % (n / 2))}))
            .collect()
    };
    let small = work_of(
        &schema,
        &group(),
        &["members"],
        json!([{"op": "add", "path": "members", "value": members(500)}]),
    );
    let large = work_of(
        &schema,
        &group(),
        &["members"],
        json!([{"op": "add", "path": "members", "value": members(2_000)}]),
    );
    assert!(large <= 5 * small.max(1), "{small} → {large}");
}

/// Removing an all-readOnly extension that holds nothing changes nothing, as adding or
/// replacing it with an empty value does; removing one that holds values is refused.
#[test]
fn an_empty_read_only_extension_is_removed_as_it_is_added_or_replaced() {
    use crate::catalog::{LICENSE_USER, user_schema};
    let schema = user_schema();
    let empty = json!({"schemas": [LICENSE_USER]});
    for ops in [
        json!([{"op": "remove", "path": LICENSE_USER}]),
        json!([{"op": "add", "path": LICENSE_USER, "value": empty}]),
        json!([{"op": "replace", "path": LICENSE_USER, "value": empty}]),
    ] {
        let (result, _) = run(ClientProfile::Strict, schema, &user(), &[], ops.clone());
        let out = result.expect("patch succeeds");
        assert!(!out.changed, "{ops}");
        assert_eq!(out.resource, user(), "{ops}");
    }
    let mut holding = user();
    holding[LICENSE_USER] = json!({"licenses": [{"product": "sales_navigator", "state": "assigned"}]});
    let (result, _) = run(
        ClientProfile::Lenient,
        schema,
        &holding,
        &[],
        json!([{"op": "remove", "path": LICENSE_USER}]),
    );
    assert_eq!(result.expect_err("readOnly").scim_type, ScimType::Mutability);
}
