//! Normalization and validation of the resources clients write: POST and PUT bodies and
//! the result of a PATCH, against a [`ResourceSchema`].
//!
//! The output is the canonical document the store keeps: attribute names in the
//! schema's spelling, extension objects under their declared URN, every value checked
//! against its type, no unassigned values, and none of the attributes the server owns
//! (`id`, `meta` and every other readOnly attribute). `schemas` is rebuilt: the core URN
//! plus each extension that has data.
//!
//! Decisions where RFC 7643/7644 leave room:
//! - `schemas` is required (RFC 7643 §3) and must include the core URN, in every client
//!   profile: both Entra and Okta always send it, so no tolerance is needed. A missing
//!   or malformed `schemas` is `invalidValue` ("a required value was missing").
//!   Extension objects are accepted whether or not `schemas` lists their URN, since the
//!   list is rebuilt from the data anyway.
//! - An unknown URN in `schemas` is dropped under [`Tolerance::UnknownSchemaUrn`]
//!   (Microsoft's `…/ADSCIM/2.0/Group` marker), else `invalidValue`.
//! - An attribute the schema does not define is dropped under
//!   [`Tolerance::UnknownAttribute`], else `invalidValue` naming it. RFC 7644 has no
//!   exact type; `invalidSyntax` is about the message structure, while this is a value
//!   the schema does not accept.
//! - `null`, an empty array and a complex value with no assigned sub-attribute are
//!   unassigned (RFC 7643 §2.5) and removed. Empty strings are values and are kept.
//! - readOnly attributes and sub-attributes the client echoes are ignored, without
//!   looking at their value (RFC 7644 §3.3, §3.5.1).
//! - `password` (writeOnly) is dropped entirely: this emulator never stores or checks
//!   passwords, and Okta sends a placeholder one on every create.
//! - Booleans sent as strings (`"True"`, `"false"`, any case) become JSON booleans under
//!   [`Tolerance::StringBoolean`], else `invalidValue`.
//! - The enterprise `manager` sent as a bare id string becomes `{"value": id}` under
//!   [`Tolerance::ManagerAsString`], else `invalidValue`.
//! - A multi-valued attribute must be an array; a single value for it is `invalidValue`
//!   in every profile (no known client sends one in a POST/PUT body; if one appears it
//!   would become a new tolerance, `SingleValueForMultiValued`).
//! - `dateTime` values must be RFC 3339 (with an offset) and are stored as sent.
//!   `binary` values must be strings; their base64 is not decoded. `canonicalValues`
//!   are not enforced (RFC 7643 §7 says SHOULD; Entra sends other `type` values).
//! - Required attributes (`userName`, `displayName`) must be assigned; an empty string
//!   counts as assigned. Required readOnly attributes (`id`) are the server's to set.
//! - Two keys naming the same attribute in different case (`userName`, `UserName`) are
//!   `invalidSyntax`: which one wins would depend on key order.

use serde_json::{Map, Value};

mod replace;
mod walk;

pub use replace::apply_replace;
use walk::{Normalizer, Owner, insert_once};

use super::case_insensitive;
use super::error::ProtocolError;
use super::schema::ResourceSchema;
use super::tolerance::{Leniency, Tolerance};

/// Validate and canonicalize a resource written by a client (POST/PUT body, or the
/// document a PATCH produced). See the module docs for every rule.
pub fn normalize(
    body: Value,
    schema: &ResourceSchema,
    leniency: &mut Leniency,
) -> Result<Value, ProtocolError> {
    let Value::Object(mut body) = body else {
        return Err(ProtocolError::invalid_syntax(
            "a SCIM resource must be a JSON object",
        ));
    };
    let schemas = case_insensitive::take(&mut body, "schemas");
    check_schemas(schemas.as_ref(), schema, leniency)?;

    let mut core = Map::new();
    let mut extensions = Vec::new();
    for (key, value) in body {
        match schema.extension(&key) {
            Some(extension) => extensions.push((extension, value)),
            None => {
                core.insert(key, value);
            }
        }
    }
    let mut normalizer = Normalizer { leniency };
    let mut document = normalizer.object(core, Owner::Schema(&schema.core), "")?;
    for (extension, value) in extensions {
        if let Some(object) = normalizer.extension(extension, value)? {
            insert_once(&mut document, &extension.id, &extension.id, object)?;
        }
    }
    Ok(schema.document(document))
}

fn check_schemas(
    schemas: Option<&Value>,
    schema: &ResourceSchema,
    leniency: &mut Leniency,
) -> Result<(), ProtocolError> {
    let core = &schema.core.id;
    let Some(Value::Array(urns)) = schemas else {
        return Err(ProtocolError::invalid_value(format!(
            "schemas is required: an array of schema URNs including {core}"
        )));
    };
    let mut has_core = false;
    for urn in urns {
        let Some(urn) = urn.as_str() else {
            return Err(ProtocolError::invalid_value("schemas must hold URN strings"));
        };
        has_core |= urn.eq_ignore_ascii_case(core);
        if schema.schema(urn).is_none() && !leniency.permit(Tolerance::UnknownSchemaUrn) {
            return Err(ProtocolError::invalid_value(format!(
                "unknown schema URN {urn:?} in schemas"
            )));
        }
    }
    if !has_core {
        return Err(ProtocolError::invalid_value(format!(
            "schemas must include {core}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ENTERPRISE_USER, GROUP, USER, group_schema, user_schema};
    use crate::error::ScimType;
    use crate::fixtures::{
        entra_create_group, entra_create_user, okta_create_user, rfc_enterprise_user, thing_schema,
    };
    use crate::projection::project;
    use crate::tolerance::ClientProfile;
    use proptest::prelude::*;
    use serde_json::json;

    fn user(body: Value, profile: ClientProfile) -> (Result<Value, ProtocolError>, Vec<Tolerance>) {
        let mut leniency = Leniency::new(profile);
        let result = normalize(body, user_schema(), &mut leniency);
        (result, leniency.fired)
    }

    pub(super) fn strict_user(body: Value) -> Result<Value, ProtocolError> {
        user(body, ClientProfile::Strict).0
    }

    pub(super) fn minimal(extra: Value) -> Value {
        let mut body = json!({"schemas": [USER], "userName": "bjensen"});
        body.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        body
    }

    pub(super) fn assert_error(result: Result<Value, ProtocolError>, scim_type: ScimType, detail: &str) {
        let error = result.expect_err("must be refused");
        assert_eq!(error.scim_type, scim_type, "{error}");
        assert!(
            error.detail.contains(detail),
            "{:?} lacks {detail:?}",
            error.detail
        );
    }

    #[test]
    fn rfc_enterprise_example_keeps_all_client_data_and_drops_server_owned_attributes() {
        let normalized = strict_user(rfc_enterprise_user()).expect("RFC example is valid");
        let mut expected = rfc_enterprise_user();
        let object = expected.as_object_mut().expect("object");
        for server_owned in ["id", "meta", "groups", "password"] {
            object.remove(server_owned);
        }
        object[ENTERPRISE_USER]["manager"]
            .as_object_mut()
            .expect("manager")
            .remove("displayName");
        assert_eq!(normalized, expected);
        assert_eq!(normalized["schemas"], json!([USER, ENTERPRISE_USER]));
    }

    #[test]
    fn entra_create_body_needs_no_tolerance() {
        let (result, fired) = user(entra_create_user(), ClientProfile::Strict);
        let normalized = result.expect("valid");
        assert!(fired.is_empty());
        let object = normalized.as_object().expect("object");
        assert!(!object.contains_key("meta") && !object.contains_key("roles"));
        assert_eq!(
            normalized["schemas"],
            json!([USER]),
            "no enterprise data, so not listed"
        );
        assert_eq!(normalized["name"]["givenName"], "givenName");
    }

    #[test]
    fn okta_create_body_drops_password_and_groups_and_keeps_locale() {
        let normalized = strict_user(okta_create_user()).expect("valid");
        let object = normalized.as_object().expect("object");
        assert!(!object.contains_key("password") && !object.contains_key("groups"));
        assert_eq!(normalized["locale"], "en-US");
        assert_eq!(normalized["active"], true);
    }

    #[test]
    fn nul_characters_are_refused_because_postgres_cannot_store_them() {
        assert_error(
            strict_user(minimal(json!({"displayName": "a\u{0}b"}))),
            ScimType::InvalidValue,
            "a string containing U+0000",
        );
        assert_error(
            strict_user(minimal(json!({"emails": [{"value": "\u{0}"}]}))),
            ScimType::InvalidValue,
            "emails.value",
        );
    }

    #[test]
    fn string_booleans_are_coerced_only_when_the_profile_allows() {
        for (text, value) in [("True", true), ("False", false), ("true", true), ("false", false)] {
            let (result, fired) = user(minimal(json!({"active": text})), ClientProfile::Entra);
            assert_eq!(result.expect("lenient")["active"], value);
            assert_eq!(fired, [Tolerance::StringBoolean]);
        }
        assert_error(
            strict_user(minimal(json!({"active": "False"}))),
            ScimType::InvalidValue,
            "active",
        );
        let (result, fired) = user(minimal(json!({"active": "yes"})), ClientProfile::Lenient);
        assert_error(result, ScimType::InvalidValue, "active must be a boolean");
        assert!(fired.is_empty(), "not a string boolean, so no tolerance fired");
    }

    #[test]
    fn adscim_group_marker_is_ignored_only_when_the_profile_allows() {
        let mut leniency = Leniency::new(ClientProfile::Entra);
        let group = normalize(entra_create_group(), group_schema(), &mut leniency).expect("entra");
        assert_eq!(
            group,
            json!({"schemas": [GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                   "displayName": "displayName"})
        );
        assert_eq!(leniency.fired, [Tolerance::UnknownSchemaUrn]);

        let mut strict = Leniency::new(ClientProfile::Strict);
        let result = normalize(entra_create_group(), group_schema(), &mut strict);
        assert_error(result, ScimType::InvalidValue, "ADSCIM");
    }

    #[test]
    fn names_are_canonicalized_case_insensitively_at_every_level() {
        let body = json!({
            "SCHEMAS": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],
            "UserName": "bjensen",
            "NAME": {"GivenName": "Barbara"},
            "Emails": [{"VALUE": "b@example.com", "Primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {
                "Department": "Tours",
                "MANAGER": {"Value": "boss"}
            }
        });
        assert_eq!(
            strict_user(body).expect("valid"),
            json!({
                "schemas": [USER, ENTERPRISE_USER],
                "userName": "bjensen",
                "name": {"givenName": "Barbara"},
                "emails": [{"value": "b@example.com", "primary": true}],
                ENTERPRISE_USER: {"department": "Tours", "manager": {"value": "boss"}}
            })
        );
    }

    #[test]
    fn nulls_empty_arrays_and_empty_objects_are_unassigned() {
        let body = minimal(json!({
            "title": null,
            "addresses": null,
            "phoneNumbers": [],
            "emails": [null, {"value": null}],
            "name": {"givenName": null},
            ENTERPRISE_USER: {"department": null},
        }));
        assert_eq!(strict_user(body).expect("valid"), minimal(json!({})));
    }

    #[test]
    fn schemas_must_be_present_and_include_the_core_urn() {
        let body = json!({"userName": "bjensen"});
        assert_error(
            strict_user(body.clone()),
            ScimType::InvalidValue,
            "schemas is required",
        );
        assert_error(
            user(body, ClientProfile::Lenient).0,
            ScimType::InvalidValue,
            "schemas is required",
        );
        let only_extension = json!({"schemas": [ENTERPRISE_USER], "userName": "bjensen"});
        assert_error(strict_user(only_extension), ScimType::InvalidValue, USER);
        let not_strings = json!({"schemas": [USER, 7], "userName": "bjensen"});
        assert_error(strict_user(not_strings), ScimType::InvalidValue, "URN strings");
        assert_error(strict_user(json!([USER])), ScimType::InvalidSyntax, "JSON object");
    }

    #[test]
    fn extension_data_counts_even_when_schemas_omits_its_urn() {
        let normalized = strict_user(minimal(json!({ENTERPRISE_USER: {"department": "Tours"}})));
        assert_eq!(
            normalized.expect("valid")["schemas"],
            json!([USER, ENTERPRISE_USER])
        );
    }

    #[test]
    fn required_attributes_must_be_assigned() {
        let no_user_name = json!({"schemas": [USER], "userName": null, "displayName": "x"});
        assert_error(
            strict_user(no_user_name),
            ScimType::InvalidValue,
            "userName is required",
        );
        let mut leniency = Leniency::new(ClientProfile::Strict);
        let group = normalize(json!({"schemas": [GROUP]}), group_schema(), &mut leniency);
        assert_error(group, ScimType::InvalidValue, "displayName is required");
    }

    #[test]
    fn unknown_attributes_are_dropped_only_when_the_profile_allows() {
        let body = minimal(json!({"favouriteColour": "blue", "name": {"nick": "B"}}));
        let (result, fired) = user(body.clone(), ClientProfile::Okta);
        assert_eq!(result.expect("okta drops them"), minimal(json!({})));
        assert_eq!(fired, [Tolerance::UnknownAttribute]);
        assert_error(strict_user(body), ScimType::InvalidValue, "favouriteColour");
        let nested = minimal(json!({"name": {"nick": "B"}}));
        assert_error(strict_user(nested), ScimType::InvalidValue, "name.nick");
    }

    #[test]
    fn read_only_attributes_are_ignored_whatever_their_shape() {
        let body = minimal(json!({
            "id": 42, "meta": "garbage", "groups": [{"value": "g"}],
            ENTERPRISE_USER: {"manager": {"value": "m", "displayName": 7}},
            "urn:linkedin-scim:schemas:extension:license:2.0:User": {"licenses": [{"state": "assigned"}]},
        }));
        assert_eq!(
            strict_user(body).expect("valid"),
            minimal(
                json!({"schemas": [USER, ENTERPRISE_USER], ENTERPRISE_USER: {"manager": {"value": "m"}}})
            )
        );
    }

    #[test]
    fn manager_as_a_bare_string_becomes_a_value_object_only_when_allowed() {
        let body = minimal(json!({ENTERPRISE_USER: {"manager": "26118915"}}));
        let (result, fired) = user(body.clone(), ClientProfile::Entra);
        assert_eq!(
            result.expect("entra")[ENTERPRISE_USER]["manager"],
            json!({"value": "26118915"})
        );
        assert_eq!(fired, [Tolerance::ManagerAsString]);
        assert_error(
            strict_user(body),
            ScimType::InvalidValue,
            "manager must be an object",
        );
        let (result, _) = user(minimal(json!({"name": "Barbara"})), ClientProfile::Lenient);
        assert_error(result, ScimType::InvalidValue, "name must be an object");
    }

    #[test]
    fn values_are_type_checked() {
        let cases = [
            (json!({"userName": 7}), "userName must be a string"),
            (
                json!({"userName": ["a"]}),
                "userName must be a string, not an array",
            ),
            (json!({"active": 1}), "active must be a boolean"),
            (json!({"emails": {"value": "a@b"}}), "emails is multi-valued"),
            (json!({"emails": ["a@b"]}), "emails must be an object"),
            (
                json!({"emails": [{"primary": "yes"}]}),
                "emails.primary must be a boolean",
            ),
            (json!({"profileUrl": false}), "profileUrl must be a reference"),
            (json!({ENTERPRISE_USER: "Tours"}), "must be an object holding"),
            (
                json!({ENTERPRISE_USER: {"department": 1}}),
                ":department must be a string",
            ),
        ];
        for (extra, detail) in cases {
            assert_error(strict_user(minimal(extra)), ScimType::InvalidValue, detail);
        }
    }

    #[test]
    fn numbers_and_date_times_follow_their_types() {
        let thing = thing_schema();
        let check = |body: Value| normalize(body, &thing, &mut Leniency::new(ClientProfile::Strict));
        let valid = json!({"schemas": ["urn:test:Thing"], "count": -3, "ratio": 0.5,
                           "when": "2011-05-13T04:42:34+02:00"});
        assert_eq!(check(valid.clone()).expect("valid"), valid);
        for (extra, detail) in [
            (json!({"count": 1.5}), "count must be an integer"),
            (json!({"count": "1"}), "count must be an integer"),
            (json!({"ratio": "0.5"}), "ratio must be a number"),
            (json!({"when": "2011-05-13"}), "when must be an RFC 3339"),
            (json!({"when": "yesterday"}), "when must be an RFC 3339"),
        ] {
            let mut body = json!({"schemas": ["urn:test:Thing"]});
            body.as_object_mut()
                .expect("object")
                .extend(extra.as_object().expect("object").clone());
            assert_error(check(body), ScimType::InvalidValue, detail);
        }
    }

    #[test]
    fn canonical_values_are_not_enforced() {
        let body = minimal(json!({"emails": [{"value": "a@b", "type": "Work Email"}]}));
        assert!(strict_user(body).is_ok());
    }

    #[test]
    fn the_same_attribute_twice_in_different_case_is_refused() {
        let body = minimal(json!({"UserName": "other"}));
        assert_error(strict_user(body), ScimType::InvalidSyntax, "more than once");
    }

    #[test]
    fn group_members_drop_null_refs_and_client_sent_display() {
        let body = json!({"schemas": [GROUP], "displayName": "Sales",
                          "members": [{"$ref": null, "value": "u1"}, {"value": "u2", "display": "bob"}]});
        let mut leniency = Leniency::new(ClientProfile::Strict);
        let group = normalize(body, group_schema(), &mut leniency).expect("valid");
        assert_eq!(group["members"], json!([{"value": "u1"}, {"value": "u2"}]));
    }

    fn arbitrary_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("schemas".to_owned()),
            Just("userName".to_owned()),
            Just("USERNAME".to_owned()),
            Just("name".to_owned()),
            Just("givenName".to_owned()),
            Just("emails".to_owned()),
            Just("value".to_owned()),
            Just("primary".to_owned()),
            Just("active".to_owned()),
            Just("manager".to_owned()),
            Just("meta".to_owned()),
            Just("id".to_owned()),
            Just("password".to_owned()),
            Just(ENTERPRISE_USER.to_owned()),
            Just(USER.to_owned()),
            "[a-zA-Z$.:]{0,8}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            prop_oneof![Just("True".to_owned()), Just(USER.to_owned()), ".{0,6}"].prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Never panics; whatever it accepts is a fixed point that strict accepts, and a
        /// default projection returns it unchanged.
        #[test]
        fn normalize_is_total_and_idempotent(mut body in arbitrary_json(), with_schemas in any::<bool>()) {
            if let (true, Some(object)) = (with_schemas, body.as_object_mut()) {
                object.insert("schemas".into(), json!([USER]));
                object.insert("userName".into(), json!("u"));
            }
            for schema in [user_schema(), group_schema()] {
                if let Ok(normalized) = normalize(body.clone(), schema, &mut Leniency::default()) {
                    let again = normalize(normalized.clone(), schema, &mut Leniency::new(ClientProfile::Strict));
                    prop_assert_eq!(again, Ok(normalized.clone()));
                    let replaced = apply_replace(&body, normalized.clone(), schema);
                    prop_assert!(replaced.is_ok());
                    prop_assert_eq!(project(&normalized, schema, &[], &[]), normalized);
                }
                project(&body, schema, &[], &[]);
            }
        }
    }
}
