//! Bulk requests (RFC 7644 §3.7), the protocol part: reading a BulkRequest, the
//! `bulkId` references between its operations, the order they can run in, and how a
//! cycle of references is broken. The HTTP layer runs each operation through the same
//! endpoint as a single request.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value, json};

use super::error::ProtocolError;
use super::patch::PATCH_OP_SCHEMA;

pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// The prefix of a reference to the resource another operation creates (§3.7.2).
const BULK_ID_PREFIX: &str = "bulkId:";

/// One operation of a BulkRequest (§3.7.1, "Operations").
#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    /// `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// REQUIRED with POST: names the resource created, for references.
    pub bulk_id: Option<String>,
    /// The resource version the operation applies to (sent as `If-Match`).
    pub version: Option<String>,
    /// The resource's relative path (`/Users`, `/Groups/{id}`).
    pub path: String,
    /// The request body (none for DELETE).
    pub data: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors (§3.7.3); `None`: run every operation.
    pub fail_on_errors: Option<u64>,
    pub operations: Vec<BulkOperation>,
}

fn text<'a>(op: &'a Map<String, Value>, name: &str, index: usize) -> Result<Option<&'a str>, ProtocolError> {
    match op.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ProtocolError::invalid_syntax(format!(
            "Operations[{index}].{name} must be a string"
        ))),
    }
}

impl BulkRequest {
    /// Read a BulkRequest body; structural errors refuse the whole request (400).
    pub fn parse(body: &Value) -> Result<BulkRequest, ProtocolError> {
        let map = body
            .as_object()
            .ok_or_else(|| ProtocolError::invalid_syntax("a BulkRequest must be a JSON object"))?;
        let schemas_ok = map
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(BULK_REQUEST)));
        if !schemas_ok {
            return Err(ProtocolError::invalid_syntax(format!(
                "a BulkRequest must list {BULK_REQUEST:?} in \"schemas\""
            )));
        }
        let fail_on_errors =
            match map.get("failOnErrors") {
                None | Some(Value::Null) => None,
                Some(v) => Some(v.as_u64().filter(|n| *n > 0).ok_or_else(|| {
                    ProtocolError::invalid_value("failOnErrors must be a positive integer")
                })?),
            };
        let raw = map
            .get("Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| ProtocolError::invalid_syntax("a BulkRequest needs an \"Operations\" array"))?;
        let mut seen = BTreeSet::new();
        let mut operations = Vec::with_capacity(raw.len());
        for (index, op) in raw.iter().enumerate() {
            let op = op.as_object().ok_or_else(|| {
                ProtocolError::invalid_syntax(format!("Operations[{index}] must be an object"))
            })?;
            let method = match text(op, "method", index)?.map(str::to_ascii_uppercase).as_deref() {
                Some("POST") => "POST",
                Some("PUT") => "PUT",
                Some("PATCH") => "PATCH",
                Some("DELETE") => "DELETE",
                other => {
                    return Err(ProtocolError::invalid_syntax(format!(
                        "Operations[{index}].method must be POST, PUT, PATCH or DELETE, got {other:?}"
                    )));
                }
            };
            let path = text(op, "path", index)?
                .filter(|p| p.starts_with('/'))
                .ok_or_else(|| {
                    ProtocolError::invalid_syntax(format!(
                        "Operations[{index}].path must be a relative resource path such as \"/Users\""
                    ))
                })?
                .to_owned();
            let bulk_id = text(op, "bulkId", index)?.map(str::to_owned);
            if method == "POST" && bulk_id.is_none() {
                return Err(ProtocolError::invalid_syntax(format!(
                    "Operations[{index}]: a POST needs a \"bulkId\" (RFC 7644 §3.7.1)"
                )));
            }
            if let Some(id) = &bulk_id
                && !seen.insert(id.clone())
            {
                return Err(ProtocolError::invalid_value(format!(
                    "Operations[{index}]: bulkId {id:?} is used twice"
                )));
            }
            let data = op.get("data").filter(|d| !d.is_null()).cloned();
            if method != "DELETE" && data.is_none() {
                return Err(ProtocolError::invalid_syntax(format!(
                    "Operations[{index}]: a {method} needs \"data\""
                )));
            }
            operations.push(BulkOperation {
                method,
                bulk_id,
                version: text(op, "version", index)?.map(str::to_owned),
                path,
                data,
            });
        }
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }
}

fn bulk_id_of(text: &str) -> Option<&str> {
    text.strip_prefix(BULK_ID_PREFIX).filter(|id| !id.is_empty())
}

/// Every bulkId a value refers to, at any depth.
fn collect_references(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => out.extend(bulk_id_of(s).map(str::to_owned)),
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// A POST caught in a cycle of references, split as RFC 7644 §3.7.2 has it ("the
/// service provider MUST try to resolve circular cross-references"): create the
/// resource without the attributes that refer to resources not created yet, then add
/// them with a PATCH once those exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub create: BulkOperation,
    /// `PATCH {path}/bulkId:{own bulkId}`, adding what `create` left out.
    pub complete: BulkOperation,
}

/// Move out of `attributes` every attribute whose value refers to a bulkId that
/// `waits` for (for a multi-valued one, only the values that do), as PatchOp `add`
/// operations. Extension attributes are looked at one by one, so the rest of an
/// extension (the enterprise `department` next to a `manager`) is created at once.
fn defer_attributes(
    attributes: &mut Map<String, Value>,
    prefix: &str,
    waits: &dyn Fn(&Value) -> bool,
    deferred: &mut Vec<Value>,
) {
    let names: Vec<String> = attributes.keys().cloned().collect();
    for name in names {
        let path = format!("{prefix}{name}");
        if prefix.is_empty()
            && name.starts_with("urn:")
            && let Some(Value::Object(extension)) = attributes.get_mut(&name)
        {
            defer_attributes(extension, &format!("{name}:"), waits, deferred);
            continue;
        }
        let Some(value) = attributes.remove(&name) else {
            continue;
        };
        if !waits(&value) {
            attributes.insert(name, value);
            continue;
        }
        let later = match value {
            Value::Array(items) => {
                let (later, now): (Vec<Value>, Vec<Value>) = items.into_iter().partition(waits);
                if !now.is_empty() {
                    attributes.insert(name, Value::Array(now));
                }
                Value::Array(later)
            }
            other => other,
        };
        deferred.push(json!({"op": "add", "path": path, "value": later}));
    }
}

impl BulkOperation {
    /// The bulkIds this operation refers to: `bulkId:x` as a path segment or as any
    /// string value of its data (a member's `value`, a manager's `value`, …).
    pub fn references(&self) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .path
            .split('/')
            .filter_map(bulk_id_of)
            .map(str::to_owned)
            .collect();
        if let Some(data) = &self.data {
            collect_references(data, &mut out);
        }
        out
    }

    /// This POST split in two (see [`Split`]), if it is a POST whose references to
    /// resources not created yet are all in its data.
    pub fn split(&self, created: &HashMap<String, String>) -> Option<Split> {
        let bulk_id = self.bulk_id.as_deref().filter(|_| self.method == "POST")?;
        let waits = |value: &Value| {
            let mut references = BTreeSet::new();
            collect_references(value, &mut references);
            references.iter().any(|r| !created.contains_key(r))
        };
        if self
            .path
            .split('/')
            .filter_map(bulk_id_of)
            .any(|r| !created.contains_key(r))
        {
            return None;
        }
        let mut data = self.data.clone()?;
        let mut deferred = Vec::new();
        defer_attributes(data.as_object_mut()?, "", &waits, &mut deferred);
        if deferred.is_empty() {
            return None;
        }
        Some(Split {
            create: BulkOperation {
                data: Some(data),
                ..self.clone()
            },
            complete: BulkOperation {
                method: "PATCH",
                bulk_id: None,
                version: None,
                path: format!("{}/{BULK_ID_PREFIX}{bulk_id}", self.path.trim_end_matches('/')),
                data: Some(json!({"schemas": [PATCH_OP_SCHEMA], "Operations": deferred})),
            },
        })
    }

    /// The operation with every reference replaced by the id its bulkId created.
    pub fn resolved(&self, ids: &HashMap<String, String>) -> BulkOperation {
        fn walk(value: &mut Value, ids: &HashMap<String, String>) {
            match value {
                Value::String(s) => {
                    if let Some(id) = bulk_id_of(s).and_then(|b| ids.get(b)) {
                        *s = id.clone();
                    }
                }
                Value::Array(items) => items.iter_mut().for_each(|v| walk(v, ids)),
                Value::Object(map) => map.values_mut().for_each(|v| walk(v, ids)),
                _ => {}
            }
        }
        let mut op = self.clone();
        op.path = self
            .path
            .split('/')
            .map(|segment| {
                bulk_id_of(segment)
                    .and_then(|b| ids.get(b))
                    .map_or(segment, String::as_str)
            })
            .collect::<Vec<_>>()
            .join("/");
        if let Some(data) = &mut op.data {
            walk(data, ids);
        }
        op
    }
}

/// What to do next with the operations not run yet (`pending`, indexes into
/// `operations`, in request order), given the bulkIds already created.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run this operation: everything it refers to exists.
    Run(usize),
    /// This operation refers to a bulkId that no operation will create (none defines
    /// it, or the one that did failed): it fails.
    Unresolvable(usize, String),
    /// Every pending operation waits for another pending one: a cycle, broken at this
    /// POST (the first in request order that can be split).
    Split(usize, Box<Split>),
    /// A cycle no POST of which can be split (RFC 7644 §3.7.2: the service provider
    /// "MAY stop after a failed attempt and instead return HTTP status code 409"). The
    /// first pending operation fails.
    Circular(usize),
}

/// The first pending operation, in request order, that can run; a reference to a
/// resource created by a later operation waits for it (§3.7.2: operations may refer to
/// resources created in the same request, in any order).
pub fn next(
    operations: &[BulkOperation],
    references: &[BTreeSet<String>],
    pending: &[usize],
    created: &HashMap<String, String>,
) -> Option<Next> {
    let defined_later = |bulk_id: &str| {
        pending
            .iter()
            .any(|&i| operations[i].bulk_id.as_deref() == Some(bulk_id))
    };
    for &i in pending {
        let mut waits = false;
        for reference in &references[i] {
            if created.contains_key(reference) {
                continue;
            }
            if defined_later(reference) {
                waits = true;
            } else {
                return Some(Next::Unresolvable(i, reference.clone()));
            }
        }
        if !waits {
            return Some(Next::Run(i));
        }
    }
    let split = pending
        .iter()
        .find_map(|&i| operations[i].split(created).map(|s| Next::Split(i, Box::new(s))));
    split.or_else(|| pending.first().map(|&i| Next::Circular(i)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(operations: Value) -> Result<BulkRequest, ProtocolError> {
        BulkRequest::parse(&json!({"schemas": [BULK_REQUEST], "failOnErrors": 2, "Operations": operations}))
    }

    #[test]
    fn requests_are_read_and_structural_errors_refuse_them() {
        let parsed = request(json!([
            {"method": "post", "path": "/Users", "bulkId": "a", "data": {"userName": "a"}},
            {"method": "DELETE", "path": "/Users/x", "version": "W/\"1\""},
        ]))
        .expect("valid");
        assert_eq!(parsed.fail_on_errors, Some(2));
        assert_eq!(parsed.operations[0].method, "POST");
        assert_eq!(parsed.operations[1].version.as_deref(), Some("W/\"1\""));
        for bad in [
            json!([{"method": "POST", "path": "/Users", "data": {}}]),
            json!([{"method": "GET", "path": "/Users"}]),
            json!([{"method": "PUT", "path": "Users/x", "data": {}}]),
            json!([{"method": "PATCH", "path": "/Users/x"}]),
            json!([
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
                {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
            ]),
        ] {
            assert!(request(bad.clone()).is_err(), "{bad}");
        }
        assert!(BulkRequest::parse(&json!({"Operations": []})).is_err());
    }

    #[test]
    fn references_are_found_and_resolved_in_paths_and_data() {
        let op = BulkOperation {
            method: "PATCH",
            bulk_id: None,
            version: None,
            path: "/Groups/bulkId:g".into(),
            data: Some(
                json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:u"}]}]}),
            ),
        };
        assert_eq!(op.references(), BTreeSet::from(["g".to_owned(), "u".to_owned()]));
        let ids = HashMap::from([
            ("g".to_owned(), "G1".to_owned()),
            ("u".to_owned(), "U1".to_owned()),
        ]);
        let resolved = op.resolved(&ids);
        assert_eq!(resolved.path, "/Groups/G1");
        assert_eq!(
            resolved.data.expect("data")["Operations"][0]["value"][0]["value"],
            "U1"
        );
    }

    #[test]
    fn an_operation_waits_for_a_later_one_it_refers_to() {
        let op = |bulk_id: &str, data: Value| BulkOperation {
            method: "POST",
            bulk_id: Some(bulk_id.to_owned()),
            version: None,
            path: "/Groups".into(),
            data: Some(data),
        };
        let ops = vec![
            op("g", json!({"members": [{"value": "bulkId:u"}]})),
            op("u", json!({"userName": "u"})),
            op("x", json!({"members": [{"value": "bulkId:nobody"}]})),
        ];
        let refs: Vec<_> = ops.iter().map(BulkOperation::references).collect();
        let mut created = HashMap::new();
        assert_eq!(next(&ops, &refs, &[0, 1, 2], &created), Some(Next::Run(1)));
        created.insert("u".to_owned(), "U1".to_owned());
        assert_eq!(next(&ops, &refs, &[0, 2], &created), Some(Next::Run(0)));
        assert_eq!(
            next(&ops, &refs, &[2], &created),
            Some(Next::Unresolvable(2, "nobody".into()))
        );
        let cycle = vec![
            op("a", json!({"m": "bulkId:b"})),
            op("b", json!({"m": "bulkId:a"})),
        ];
        let refs: Vec<_> = cycle.iter().map(BulkOperation::references).collect();
        let split = cycle[0].split(&HashMap::new()).expect("a POST splits");
        assert_eq!(
            next(&cycle, &refs, &[0, 1], &HashMap::new()),
            Some(Next::Split(0, Box::new(split)))
        );
        assert_eq!(next(&cycle, &refs, &[], &HashMap::new()), None);
        // A POST waiting on a bulkId in its path cannot be split: 409.
        let stuck = vec![
            BulkOperation {
                path: "/Groups/bulkId:b".into(),
                ..op("a", json!({}))
            },
            BulkOperation {
                path: "/Groups/bulkId:a".into(),
                ..op("b", json!({}))
            },
        ];
        let refs: Vec<_> = stuck.iter().map(BulkOperation::references).collect();
        assert_eq!(
            next(&stuck, &refs, &[0, 1], &HashMap::new()),
            Some(Next::Circular(0))
        );
    }

    #[test]
    fn a_post_in_a_cycle_splits_into_a_create_and_a_patch_of_what_waits() {
        let op = BulkOperation {
            method: "POST",
            bulk_id: Some("a".into()),
            version: None,
            path: "/Groups/".into(),
            data: Some(json!({
                "displayName": "A",
                "members": [{"value": "bulkId:u"}, {"value": "bulkId:b"}, {"value": "known"}],
                "urn:x:Ext": {"department": "Tours", "manager": {"value": "bulkId:b"}},
            })),
        };
        let created = HashMap::from([("u".to_owned(), "U1".to_owned())]);
        let split = op.split(&created).expect("splits");
        assert_eq!(
            split.create.data,
            Some(json!({
                "displayName": "A",
                "members": [{"value": "bulkId:u"}, {"value": "known"}],
                "urn:x:Ext": {"department": "Tours"},
            }))
        );
        assert_eq!(split.create.bulk_id.as_deref(), Some("a"));
        assert_eq!(split.complete.method, "PATCH");
        assert_eq!(split.complete.path, "/Groups/bulkId:a");
        assert_eq!(
            split.complete.data.expect("data")["Operations"],
            json!([
                {"op": "add", "path": "members", "value": [{"value": "bulkId:b"}]},
                {"op": "add", "path": "urn:x:Ext:manager", "value": {"value": "bulkId:b"}},
            ])
        );
        // Nothing waits once everything exists; only POSTs split.
        let all = HashMap::from([
            ("u".to_owned(), "U1".to_owned()),
            ("b".to_owned(), "B1".to_owned()),
        ]);
        assert_eq!(op.split(&all), None);
        assert_eq!(BulkOperation { method: "PUT", ..op }.split(&created), None);
    }
}
