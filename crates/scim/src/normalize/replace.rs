//! The document a PUT stores (RFC 7644 §3.5.1): the normalized replacement, with the
//! immutable attributes the existing resource already holds kept or checked.

use serde_json::{Map, Value};

use crate::case_insensitive;
use crate::error::ProtocolError;
use crate::schema::{AttrType, AttributeDef, Mutability, ResourceSchema};

/// The document a PUT stores (RFC 7644 §3.5.1): `incoming` (already [`normalize`](super::normalize)d)
/// replaces `existing` entirely, so attributes it omits are cleared, except immutable
/// ones: an immutable attribute that has a value keeps it when omitted, and a different
/// value is `mutability`; one not yet set may be set. Immutable sub-attributes are
/// checked inside single-valued complex attributes only: an element of a multi-valued
/// attribute (a group member) has no identity across a replace, so its immutable
/// sub-attributes (`members.value`) do not stop the element being swapped for another.
/// Like [`normalize`](super::normalize), the result holds no readOnly attributes: the store adds them.
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::normalize;
    use super::super::tests::{assert_error, minimal, strict_user};
    use super::*;
    use crate::catalog::{ENTERPRISE_USER, GROUP, group_schema, user_schema};
    use crate::error::ScimType;
    use crate::fixtures::{rfc_enterprise_user, thing_schema};
    use crate::projection::project;
    use crate::tolerance::{ClientProfile, Leniency};

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
    fn replace_clears_an_omitted_extension() {
        let existing = minimal(json!({ENTERPRISE_USER: {"department": "Tours"}}));
        let replaced = replace(existing, minimal(json!({})), user_schema()).expect("valid");
        assert_eq!(replaced, minimal(json!({})));
    }
}
