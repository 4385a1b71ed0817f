//! Bounds on expensive input (docs/limits.md): each checked before the work it bounds,
//! each refusal naming the limit. Pure: the HTTP layer answers [`RequestTooLarge`] with
//! 413 and a [`ProtocolError`] with its 400.

use serde_json::Value;

use crate::case_insensitive;
use crate::error::{ProtocolError, ScimType};
use crate::filter::Filter;
use crate::schema::ResourceSchema;

/// Operations in one PATCH request.
pub const MAX_PATCH_OPERATIONS: usize = 1_000;
/// Values of deferred attributes (a Group's `members`) one request may carry.
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;
/// Values one multi-valued attribute of a stored resource may hold (deferred attributes
/// aside: they are bounded per request only).
pub const MAX_VALUES_PER_ATTRIBUTE: usize = 100;
/// Bytes (UTF-8) of a value of an indexed attribute ([`INDEXED_ATTRIBUTES`]): below
/// Postgres' btree entry limit (about 2,700 bytes), on every backend alike.
pub const MAX_INDEXED_VALUE_BYTES: usize = 1_024;
/// Bytes of a filter's text.
pub const MAX_FILTER_BYTES: usize = 8_192;
/// Attribute expressions on multi-valued attributes in one filter: each is evaluated
/// against every value of every resource, so this bounds terms × fan-out.
pub const MAX_MULTI_VALUED_TERMS: usize = 32;

/// The attributes the stores index, as (attribute, sub-attribute) of a canonical
/// document: Users have all four, Groups `externalId` and `displayName`.
pub const INDEXED_ATTRIBUTES: [(&str, Option<&str>); 4] = [
    ("userName", None),
    ("externalId", None),
    ("displayName", None),
    ("emails", Some("value")),
];

/// A request carrying more than the server takes: 413 (docs/limits.md says why).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RequestTooLarge(pub String);

/// A PATCH body's operations and the values it carries for `deferred` attributes; the
/// number of operations.
pub fn check_patch_request(body: &Value, deferred: &[&str]) -> Result<usize, RequestTooLarge> {
    let Some(Value::Array(operations)) = body
        .as_object()
        .and_then(|b| case_insensitive::get(b, "Operations"))
    else {
        return Ok(0);
    };
    if operations.len() > MAX_PATCH_OPERATIONS {
        return Err(RequestTooLarge(format!(
            "a PATCH request may carry at most {MAX_PATCH_OPERATIONS} operations, this one \
             has {}: split it into several requests",
            operations.len()
        )));
    }
    let carried: usize = operations
        .iter()
        .filter_map(Value::as_object)
        .map(|op| {
            let value = case_insensitive::get(op, "value");
            match case_insensitive::get(op, "path").and_then(Value::as_str) {
                Some(path) if names_deferred(path, deferred) => value.map_or(0, count_values),
                Some(_) => 0,
                None => value.map_or(0, |v| deferred_values(v, deferred)),
            }
        })
        .sum();
    check_members(carried)?;
    Ok(operations.len())
}

/// A POST/PUT body's values of `deferred` attributes.
pub fn check_resource_request(body: &Value, deferred: &[&str]) -> Result<(), RequestTooLarge> {
    check_members(deferred_values(body, deferred))
}

fn check_members(carried: usize) -> Result<(), RequestTooLarge> {
    if carried > MAX_MEMBERS_PER_REQUEST {
        return Err(RequestTooLarge(format!(
            "a request may carry at most {MAX_MEMBERS_PER_REQUEST} members, this one has \
             {carried}: split it into several PATCH requests"
        )));
    }
    Ok(())
}

/// Does a PATCH path name a deferred attribute (`members`, `members[value eq "x"]`)?
fn names_deferred(path: &str, deferred: &[&str]) -> bool {
    let name = path.trim().split(['[', '.', ' ']).next().unwrap_or_default();
    deferred.iter().any(|d| d.eq_ignore_ascii_case(name))
}

/// Values of the `deferred` attributes among the members of an object.
fn deferred_values(object: &Value, deferred: &[&str]) -> usize {
    object.as_object().map_or(0, |map| {
        deferred
            .iter()
            .filter_map(|name| case_insensitive::get(map, name))
            .map(count_values)
            .sum()
    })
}

fn count_values(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len(),
        Value::Null => 0,
        _ => 1,
    }
}

/// A canonical document (after normalizing) about to be stored: values per multi-valued
/// attribute (`tooMany`) and the length of indexed values (`invalidValue`).
pub fn check_document(doc: &Value, schema: &ResourceSchema, deferred: &[&str]) -> Result<(), ProtocolError> {
    let Some(doc) = doc.as_object() else {
        return Ok(());
    };
    let containers = std::iter::once((&schema.core, Some(doc))).chain(
        schema
            .extensions
            .iter()
            .map(|ext| (ext, doc.get(&ext.id).and_then(Value::as_object))),
    );
    for (owner, container) in containers {
        let Some(container) = container else { continue };
        for def in owner.attributes.iter().filter(|a| a.multi_valued) {
            if deferred.iter().any(|d| d.eq_ignore_ascii_case(&def.name)) {
                continue;
            }
            if let Some(Value::Array(values)) = container.get(&def.name)
                && values.len() > MAX_VALUES_PER_ATTRIBUTE
            {
                return Err(ProtocolError::new(
                    ScimType::TooMany,
                    format!(
                        "\"{}\" may hold at most {MAX_VALUES_PER_ATTRIBUTE} values, this request \
                         leaves it {}",
                        def.name,
                        values.len()
                    ),
                ));
            }
        }
    }
    for (name, sub) in INDEXED_ATTRIBUTES {
        let values: Vec<&Value> = match (doc.get(name), sub) {
            (Some(value), None) => vec![value],
            (Some(Value::Array(elements)), Some(sub)) => elements.iter().filter_map(|e| e.get(sub)).collect(),
            _ => Vec::new(),
        };
        if let Some(long) = values
            .iter()
            .filter_map(|v| v.as_str())
            .find(|s| s.len() > MAX_INDEXED_VALUE_BYTES)
        {
            let what = sub.map_or_else(|| name.to_owned(), |sub| format!("{name}.{sub}"));
            return Err(ProtocolError::invalid_value(format!(
                "\"{what}\" may be at most {MAX_INDEXED_VALUE_BYTES} bytes long, this value has {}",
                long.len()
            )));
        }
    }
    Ok(())
}

/// A filter's text, before it is parsed: `invalidFilter` when too long.
pub fn check_filter_text(text: &str) -> Result<(), ProtocolError> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(ProtocolError::invalid_filter(format!(
            "a filter may be at most {MAX_FILTER_BYTES} bytes long, this one has {}",
            text.len()
        )));
    }
    Ok(())
}

/// A parsed filter's expressions on multi-valued attributes: `tooMany` above
/// [`MAX_MULTI_VALUED_TERMS`].
pub fn check_filter_work(filter: &Filter, schema: &ResourceSchema) -> Result<(), ProtocolError> {
    let terms = multi_valued_terms(filter, schema);
    if terms > MAX_MULTI_VALUED_TERMS {
        return Err(ProtocolError::new(
            ScimType::TooMany,
            format!(
                "a filter may hold at most {MAX_MULTI_VALUED_TERMS} expressions on multi-valued \
                 attributes (each is compared with every value of every resource), this one has \
                 {terms}"
            ),
        ));
    }
    Ok(())
}

fn multi_valued_terms(filter: &Filter, schema: &ResourceSchema) -> usize {
    let multi_valued = |path| schema.resolve(path).is_some_and(|r| r.attribute.multi_valued);
    match filter {
        Filter::Compare { path, .. } | Filter::Present(path) => usize::from(multi_valued(path)),
        Filter::ValuePath { filter, .. } => terms(filter).max(1),
        Filter::And(a, b) | Filter::Or(a, b) => multi_valued_terms(a, schema) + multi_valued_terms(b, schema),
        Filter::Not(inner) => multi_valued_terms(inner, schema),
    }
}

/// Attribute expressions in a filter (inside a value path: one per element comparison).
fn terms(filter: &Filter) -> usize {
    match filter {
        Filter::Compare { .. } | Filter::Present(_) => 1,
        Filter::ValuePath { filter, .. } | Filter::Not(filter) => terms(filter),
        Filter::And(a, b) | Filter::Or(a, b) => terms(a) + terms(b),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::catalog::{group_schema, user_schema};
    use crate::filter::parse_filter;
    use crate::tolerance::{ClientProfile, Leniency};

    fn emails(n: usize, len: usize) -> Value {
        let values: Vec<Value> = (0..n)
            .map(|i| json!({"value": format!("{i}{}", "x".repeat(len))}))
            .collect();
        json!({"userName": "a", "emails": values})
    }

    #[test]
    fn documents_are_bounded_in_values_and_indexed_lengths() {
        let schema = user_schema();
        assert!(check_document(&emails(MAX_VALUES_PER_ATTRIBUTE, 3), schema, &[]).is_ok());
        let many = check_document(&emails(MAX_VALUES_PER_ATTRIBUTE + 1, 3), schema, &[]).unwrap_err();
        assert_eq!(many.scim_type, ScimType::TooMany);
        let long = check_document(&emails(1, MAX_INDEXED_VALUE_BYTES), schema, &[]).unwrap_err();
        assert_eq!(long.scim_type, ScimType::InvalidValue);
        let name = json!({"userName": "é".repeat(MAX_INDEXED_VALUE_BYTES / 2 + 1)});
        assert_eq!(
            check_document(&name, schema, &[]).unwrap_err().scim_type,
            ScimType::InvalidValue
        );
        let members: Vec<Value> = (0..MAX_VALUES_PER_ATTRIBUTE + 1)
            .map(|i| json!({"value": i.to_string()}))
            .collect();
        let group = json!({"displayName": "g", "members": members});
        assert!(check_document(&group, group_schema(), &["members"]).is_ok());
    }

    #[test]
    fn patch_requests_are_bounded_in_operations_and_members() {
        let op = json!({"op": "add", "path": "members", "value": [{"value": "u"}]});
        let body = |ops: Vec<Value>| json!({"Operations": ops});
        assert!(check_patch_request(&body(vec![op.clone(); MAX_PATCH_OPERATIONS]), &["members"]).is_ok());
        assert!(check_patch_request(&body(vec![op; MAX_PATCH_OPERATIONS + 1]), &["members"]).is_err());
        let members: Vec<Value> = (0..=MAX_MEMBERS_PER_REQUEST)
            .map(|i| json!({"value": i.to_string()}))
            .collect();
        for op in [
            json!({"op": "add", "path": "members", "value": members}),
            json!({"op": "replace", "value": {"Members": members}}),
        ] {
            assert!(check_patch_request(&body(vec![op]), &["members"]).is_err());
        }
        let user_op = json!({"op": "add", "path": "emails", "value": members});
        assert!(check_patch_request(&body(vec![user_op]), &[]).is_ok());
    }

    #[test]
    fn filters_are_bounded_in_multi_valued_terms() {
        let schema = user_schema();
        let filter = |n: usize| {
            let text = vec!["emails.value co \"x\""; n].join(" or ");
            parse_filter(&text, &mut Leniency::new(ClientProfile::Strict)).unwrap()
        };
        assert!(check_filter_work(&filter(MAX_MULTI_VALUED_TERMS), schema).is_ok());
        let refused = check_filter_work(&filter(MAX_MULTI_VALUED_TERMS + 1), schema).unwrap_err();
        assert_eq!(refused.scim_type, ScimType::TooMany);
        let single: Filter = parse_filter(
            &vec!["userName eq \"x\""; 100].join(" or "),
            &mut Leniency::new(ClientProfile::Strict),
        )
        .unwrap();
        assert!(check_filter_work(&single, schema).is_ok());
        let value_path = parse_filter(
            &vec!["emails[type eq \"work\" and value co \"x\"]"; MAX_MULTI_VALUED_TERMS / 2 + 1].join(" or "),
            &mut Leniency::new(ClientProfile::Strict),
        )
        .unwrap();
        assert!(check_filter_work(&value_path, schema).is_err());
        assert!(check_filter_text(&"x".repeat(MAX_FILTER_BYTES + 1)).is_err());
    }
}
