//! Schemas and resources shared by the tests.

use serde_json::{Value, json};

use crate::catalog::resource_schema;
use crate::schema::{ResourceSchema, Schema};
use crate::tolerance::{ClientProfile, Leniency};

pub(crate) const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(crate) fn strict() -> Leniency {
    Leniency::new(ClientProfile::Strict)
}

fn attr(name: &str, ty: &str, multi: bool, case_exact: bool) -> Value {
    json!({"name": name, "type": ty, "multiValued": multi, "required": false,
           "caseExact": case_exact, "mutability": "readWrite", "returned": "default"})
}

fn complex(name: &str, multi: bool, subs: Vec<Value>) -> Value {
    let mut a = attr(name, "complex", multi, false);
    a["subAttributes"] = Value::Array(subs);
    a
}

fn multi_complex(name: &str) -> Value {
    complex(
        name,
        true,
        vec![
            attr("value", "string", false, false),
            attr("display", "string", false, false),
            attr("type", "string", false, false),
            attr("primary", "boolean", false, false),
        ],
    )
}

/// A small User resource type: the common attributes (`meta.lastModified` dateTime, …),
/// core (userName caseExact false, name, emails, active, …) plus the enterprise extension.
pub(crate) fn user_schema() -> ResourceSchema {
    let core: Schema = serde_json::from_value(json!({
        "id": CORE_USER,
        "name": "User",
        "attributes": [
            attr("userName", "string", false, false),
            complex("name", false, vec![
                attr("formatted", "string", false, false),
                attr("familyName", "string", false, false),
                attr("givenName", "string", false, false),
                attr("middleName", "string", false, false),
            ]),
            attr("displayName", "string", false, false),
            attr("nickName", "string", false, false),
            attr("title", "string", false, false),
            attr("userType", "string", false, false),
            attr("active", "boolean", false, false),
            multi_complex("emails"),
            multi_complex("phoneNumbers"),
            multi_complex("ims"),
            complex("groups", true, vec![
                attr("value", "string", false, false),
                attr("$ref", "reference", false, false),
                attr("display", "string", false, false),
            ]),
        ]
    }))
    .expect("valid core schema");
    let enterprise: Schema = serde_json::from_value(json!({
        "id": ENTERPRISE,
        "name": "EnterpriseUser",
        "attributes": [
            attr("employeeNumber", "string", false, false),
            attr("department", "string", false, false),
            complex("manager", false, vec![
                attr("value", "string", false, false),
                attr("$ref", "reference", false, false),
                attr("displayName", "string", false, false),
            ]),
        ]
    }))
    .expect("valid enterprise schema");
    resource_schema(&core, vec![enterprise])
}

pub(crate) fn group_schema() -> ResourceSchema {
    let core: Schema = serde_json::from_value(json!({
        "id": "urn:ietf:params:scim:schemas:core:2.0:Group",
        "name": "Group",
        "attributes": [
            attr("displayName", "string", false, false),
            complex("members", true, vec![
                attr("value", "string", false, true),
                attr("$ref", "reference", false, false),
                attr("display", "string", false, false),
                attr("type", "string", false, false),
            ]),
        ]
    }))
    .expect("valid group schema");
    resource_schema(&core, vec![])
}

/// The RFC 7643 §8.3 full enterprise User example, shared with the other protocol tests.
pub(crate) fn full_user() -> Value {
    crate::fixtures::rfc_enterprise_user()
}

pub(crate) fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "g1",
        "externalId": "0a1b2c",
        "displayName": "Tour Guides",
        "members": [
            {"value": "u1", "display": "Babs Jensen", "type": "User"},
            {"value": "u2", "display": "Mandy Pepperidge", "type": "User"}
        ],
        "meta": {"resourceType": "Group", "lastModified": "2011-05-13T04:42:34Z"}
    })
}
