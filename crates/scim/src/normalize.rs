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

use chrono::DateTime;
use serde_json::{Map, Value, json};

use super::case_insensitive;
use super::error::ProtocolError;
use super::schema::{AttrType, AttributeDef, Mutability, ResourceSchema, Schema};
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

/// The document a PUT stores (RFC 7644 §3.5.1): `incoming` (already [`normalize`]d)
/// replaces `existing` entirely, so attributes it omits are cleared, except immutable
/// ones: an immutable attribute that has a value keeps it when omitted, and a different
/// value is `mutability`; one not yet set may be set. Immutable sub-attributes are
/// checked inside single-valued complex attributes only: an element of a multi-valued
/// attribute (a group member) has no identity across a replace, so its immutable
/// sub-attributes (`members.value`) do not stop the element being swapped for another.
/// Like [`normalize`], the result holds no readOnly attributes: the store adds them.
pub fn apply_replace(
    existing: &Value,
    incoming_normalized: Value,
    schema: &ResourceSchema,
) -> Result<Value, ProtocolError> {
    let Value::Object(mut incoming) = incoming_normalized else {
        return Err(ProtocolError::invalid_syntax(
            "a SCIM resource must be a JSON object",
        ));
    };
    incoming.remove("schemas");
    let empty = Map::new();
    let existing = existing.as_object().unwrap_or(&empty);
    keep_immutable(&schema.core.attributes, existing, &mut incoming, "")?;
    for extension in &schema.extensions {
        let before = case_insensitive::get(existing, &extension.id).and_then(Value::as_object);
        let prefix = format!("{}:", extension.id);
        keep_immutable_within(
            &extension.attributes,
            before,
            &mut incoming,
            &extension.id,
            &prefix,
        )?;
    }
    Ok(schema.document(incoming))
}

/// Carry immutable attributes of `before` into `after`, or refuse a changed one.
fn keep_immutable(
    defs: &[AttributeDef],
    before: &Map<String, Value>,
    after: &mut Map<String, Value>,
    prefix: &str,
) -> Result<(), ProtocolError> {
    for def in defs {
        let Some(old) = case_insensitive::get(before, &def.name).filter(|v| !v.is_null()) else {
            continue;
        };
        if def.mutability == Mutability::Immutable {
            match after.get(&def.name) {
                None => {
                    after.insert(def.name.clone(), old.clone());
                }
                Some(new) if new == old => {}
                Some(_) => {
                    return Err(ProtocolError::mutability(format!(
                        "{prefix}{} is immutable and already has a value",
                        def.name
                    )));
                }
            }
        } else if def.attr_type == AttrType::Complex && !def.multi_valued {
            let prefix = format!("{prefix}{}.", def.name);
            keep_immutable_within(&def.sub_attributes, old.as_object(), after, &def.name, &prefix)?;
        }
    }
    Ok(())
}

/// [`keep_immutable`] inside the object under `key` of `after` (an extension or a
/// single-valued complex attribute), given that object's previous value.
fn keep_immutable_within(
    defs: &[AttributeDef],
    before: Option<&Map<String, Value>>,
    after: &mut Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Result<(), ProtocolError> {
    let Some(before) = before else {
        return Ok(());
    };
    let mut inner = match after.remove(key) {
        Some(Value::Object(inner)) => inner,
        _ => Map::new(),
    };
    keep_immutable(defs, before, &mut inner, prefix)?;
    if !inner.is_empty() {
        after.insert(key.to_owned(), Value::Object(inner));
    }
    Ok(())
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

/// Where a set of attributes is declared: a schema's top level or a complex attribute.
#[derive(Clone, Copy)]
enum Owner<'a> {
    Schema(&'a Schema),
    Complex(&'a AttributeDef),
}

impl<'a> Owner<'a> {
    fn lookup(self, name: &str) -> Option<&'a AttributeDef> {
        match self {
            Owner::Schema(schema) => schema.attribute(name),
            Owner::Complex(attr) => attr.sub_attribute(name),
        }
    }

    fn attributes(self) -> &'a [AttributeDef] {
        match self {
            Owner::Schema(schema) => &schema.attributes,
            Owner::Complex(attr) => &attr.sub_attributes,
        }
    }
}

/// Walks one client document, recording the tolerances it needs.
struct Normalizer<'l> {
    leniency: &'l mut Leniency,
}

impl Normalizer<'_> {
    /// An extension's object; `None` when it assigns nothing.
    fn extension(&mut self, extension: &Schema, value: Value) -> Result<Option<Value>, ProtocolError> {
        match value {
            Value::Null => Ok(None),
            Value::Object(map) => {
                let prefix = format!("{}:", extension.id);
                let object = self.object(map, Owner::Schema(extension), &prefix)?;
                Ok((!object.is_empty()).then_some(Value::Object(object)))
            }
            _ => Err(ProtocolError::invalid_value(format!(
                "{} must be an object holding the extension's attributes",
                extension.id
            ))),
        }
    }

    /// The attributes of one JSON object, canonicalized; `prefix` qualifies names in
    /// error details (`""`, `"emails."`, `"urn:…:User:"`).
    fn object(
        &mut self,
        map: Map<String, Value>,
        owner: Owner<'_>,
        prefix: &str,
    ) -> Result<Map<String, Value>, ProtocolError> {
        let mut out = Map::new();
        for (key, value) in map {
            let Some(def) = owner.lookup(&key) else {
                self.unknown(&format!("{prefix}{key}"))?;
                continue;
            };
            let label = format!("{prefix}{}", def.name);
            if let Some(value) = self.attribute(def, value, &label)? {
                insert_once(&mut out, &def.name, &label, value)?;
            }
        }
        if let Some(missing) = owner.attributes().iter().find(|def| {
            def.required && def.mutability != Mutability::ReadOnly && !out.contains_key(&def.name)
        }) {
            return Err(ProtocolError::invalid_value(format!(
                "{prefix}{} is required",
                missing.name
            )));
        }
        Ok(out)
    }

    fn unknown(&mut self, label: &str) -> Result<(), ProtocolError> {
        if self.leniency.permit(Tolerance::UnknownAttribute) {
            Ok(())
        } else {
            Err(ProtocolError::invalid_value(format!(
                "{label} is not an attribute of this resource's schemas"
            )))
        }
    }

    /// One attribute's value; `None` when it is unassigned or the server ignores it.
    fn attribute(
        &mut self,
        def: &AttributeDef,
        value: Value,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            return Ok(None);
        }
        if !def.multi_valued {
            return self.single(def, value, label);
        }
        match value {
            Value::Null => Ok(None),
            Value::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.extend(self.single(def, item, label)?);
                }
                Ok((!values.is_empty()).then_some(Value::Array(values)))
            }
            _ => Err(ProtocolError::invalid_value(format!(
                "{label} is multi-valued: expected an array"
            ))),
        }
    }

    /// A single value (or one element of a multi-valued attribute).
    fn single(
        &mut self,
        def: &AttributeDef,
        value: Value,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        match (def.attr_type, value) {
            (_, Value::Null) => Ok(None),
            (AttrType::Complex, Value::Object(map)) => {
                let object = self.object(map, Owner::Complex(def), &format!("{label}."))?;
                Ok((!object.is_empty()).then_some(Value::Object(object)))
            }
            (AttrType::Complex, Value::String(id))
                if is_manager(def) && self.leniency.permit(Tolerance::ManagerAsString) =>
            {
                Ok(Some(json!({ "value": id })))
            }
            (_, value) => self.scalar(def.attr_type, value, label).map(Some),
        }
    }

    fn scalar(&mut self, attr_type: AttrType, value: Value, label: &str) -> Result<Value, ProtocolError> {
        let valid = match (attr_type, &value) {
            // U+0000: Postgres text and jsonb cannot store it (and filters refuse it).
            (_, Value::String(s)) if s.contains('\0') => false,
            (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => true,
            (AttrType::Boolean, Value::Bool(_)) => true,
            (AttrType::Boolean, Value::String(s)) => match string_boolean(s) {
                Some(b) if self.leniency.permit(Tolerance::StringBoolean) => {
                    return Ok(Value::Bool(b));
                }
                _ => false,
            },
            (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (AttrType::Decimal, Value::Number(_)) => true,
            (AttrType::DateTime, Value::String(s)) => DateTime::parse_from_rfc3339(s).is_ok(),
            _ => false,
        };
        if valid {
            Ok(value)
        } else {
            Err(ProtocolError::invalid_value(format!(
                "{label} must be {}, not {}",
                expected(attr_type),
                describe(&value)
            )))
        }
    }
}

/// The enterprise extension's `manager`, the one complex attribute Entra sends as a
/// bare id string. No other schema here has an attribute of that name.
fn is_manager(def: &AttributeDef) -> bool {
    def.name == "manager" && def.sub_attribute("value").is_some()
}

fn string_boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn expected(attr_type: AttrType) -> &'static str {
    match attr_type {
        AttrType::String => "a string",
        AttrType::Reference => "a reference (URI string)",
        AttrType::Binary => "a base64 string",
        AttrType::Boolean => "a boolean",
        AttrType::Integer => "an integer",
        AttrType::Decimal => "a number",
        AttrType::DateTime => "an RFC 3339 date-time string such as 2008-01-23T04:56:22Z",
        AttrType::Complex => "an object",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\0') => "a string containing U+0000".to_owned(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Insert `value` under its canonical `key`, refusing a second key that names the same
/// attribute in another case.
fn insert_once(
    map: &mut Map<String, Value>,
    key: &str,
    label: &str,
    value: Value,
) -> Result<(), ProtocolError> {
    if map.contains_key(key) {
        return Err(ProtocolError::invalid_syntax(format!(
            "{label} is given more than once (attribute names are case-insensitive)"
        )));
    }
    map.insert(key.to_owned(), value);
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

    fn user(body: Value, profile: ClientProfile) -> (Result<Value, ProtocolError>, Vec<Tolerance>) {
        let mut leniency = Leniency::new(profile);
        let result = normalize(body, user_schema(), &mut leniency);
        (result, leniency.fired)
    }

    fn strict_user(body: Value) -> Result<Value, ProtocolError> {
        user(body, ClientProfile::Strict).0
    }

    fn minimal(extra: Value) -> Value {
        let mut body = json!({"schemas": [USER], "userName": "bjensen"});
        body.as_object_mut()
            .expect("object")
            .extend(extra.as_object().expect("object").clone());
        body
    }

    fn assert_error(result: Result<Value, ProtocolError>, scim_type: ScimType, detail: &str) {
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

    fn replace(existing: Value, incoming: Value, schema: &ResourceSchema) -> Result<Value, ProtocolError> {
        let incoming = normalize(incoming, schema, &mut Leniency::new(ClientProfile::Strict))?;
        apply_replace(&existing, incoming, schema)
    }

    #[test]
    fn replace_clears_what_the_body_omits() {
        let existing = strict_user(rfc_enterprise_user()).expect("valid");
        let replaced = replace(existing, minimal(json!({"title": "Boss"})), user_schema());
        assert_eq!(replaced.expect("valid"), minimal(json!({"title": "Boss"})));
    }

    #[test]
    fn replace_keeps_or_checks_immutable_attributes() {
        let thing = thing_schema();
        let existing = json!({"schemas": ["urn:test:Thing"], "id": "1", "code": "A", "count": 1,
                              "settings": {"key": "K", "note": "n"}});
        let body = |extra: Value| {
            let mut body = json!({"schemas": ["urn:test:Thing"]});
            body.as_object_mut()
                .expect("object")
                .extend(extra.as_object().expect("object").clone());
            body
        };
        let kept = replace(existing.clone(), body(json!({})), &thing).expect("omitted is kept");
        assert_eq!(
            kept,
            json!({"schemas": ["urn:test:Thing"], "code": "A", "settings": {"key": "K"}})
        );
        let same = replace(
            existing.clone(),
            body(json!({"code": "A", "settings": {"key": "K"}})),
            &thing,
        );
        assert_eq!(same.expect("equal is fine"), kept);
        let changed = replace(existing.clone(), body(json!({"code": "B"})), &thing);
        assert_error(changed, ScimType::Mutability, "code is immutable");
        let nested = replace(existing, body(json!({"settings": {"key": "L"}})), &thing);
        assert_error(nested, ScimType::Mutability, "settings.key is immutable");

        let unset = json!({"schemas": ["urn:test:Thing"], "id": "1"});
        let set = replace(unset, body(json!({"code": "B"})), &thing).expect("may be set once");
        assert_eq!(set["code"], "B");
    }

    #[test]
    fn replace_may_swap_group_members_despite_immutable_member_values() {
        let existing = json!({"schemas": [GROUP], "id": "g", "displayName": "Sales",
                              "members": [{"value": "u1"}, {"value": "u2"}]});
        let incoming = json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": "u3"}]});
        let replaced = replace(existing, incoming.clone(), group_schema()).expect("valid");
        assert_eq!(replaced, incoming);
    }

    #[test]
    fn okta_put_of_the_echoed_resource_round_trips() {
        let stored = strict_user(rfc_enterprise_user()).expect("valid");
        let mut echoed = project(&rfc_enterprise_user(), user_schema(), &[], &[]);
        echoed["name"]["middleName"] = json!("J.");
        echoed["emails"][0]["display"] = json!("Babs (work)");
        let replaced = replace(stored.clone(), echoed, user_schema()).expect("valid");
        let mut expected = stored;
        expected["name"]["middleName"] = json!("J.");
        expected["emails"][0]["display"] = json!("Babs (work)");
        assert_eq!(replaced, expected);
    }

    #[test]
    fn group_members_drop_null_refs_and_client_sent_display() {
        let body = json!({"schemas": [GROUP], "displayName": "Sales",
                          "members": [{"$ref": null, "value": "u1"}, {"value": "u2", "display": "bob"}]});
        let mut leniency = Leniency::new(ClientProfile::Strict);
        let group = normalize(body, group_schema(), &mut leniency).expect("valid");
        assert_eq!(group["members"], json!([{"value": "u1"}, {"value": "u2"}]));
    }

    #[test]
    fn replace_clears_an_omitted_extension() {
        let existing = minimal(json!({ENTERPRISE_USER: {"department": "Tours"}}));
        let replaced = replace(existing, minimal(json!({})), user_schema()).expect("valid");
        assert_eq!(replaced, minimal(json!({})));
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
