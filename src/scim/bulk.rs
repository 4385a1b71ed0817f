//! Bulk requests (RFC 7644 §3.7), the protocol part: reading a BulkRequest, the
//! `bulkId` references between its operations, and the order they can run in. The
//! HTTP layer runs each operation through the same endpoint as a single request.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::error::ProtocolError;

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

impl BulkOperation {
    /// The bulkIds this operation refers to: `bulkId:x` as a path segment or as any
    /// string value of its data (a member's `value`, a manager's `value`, …).
    pub fn references(&self) -> BTreeSet<String> {
        fn walk(value: &Value, out: &mut BTreeSet<String>) {
            match value {
                Value::String(s) => out.extend(bulk_id_of(s).map(str::to_owned)),
                Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                Value::Object(map) => map.values().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut out: BTreeSet<String> = self
            .path
            .split('/')
            .filter_map(bulk_id_of)
            .map(str::to_owned)
            .collect();
        if let Some(data) = &self.data {
            walk(data, &mut out);
        }
        out
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Run this operation: everything it refers to exists.
    Run(usize),
    /// This operation refers to a bulkId that no operation will create (none defines
    /// it, or the one that did failed): it fails.
    Unresolvable(usize, String),
    /// Every pending operation waits for another pending one: a cycle. The first fails.
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
    pending.first().map(|&i| Next::Circular(i))
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
        assert_eq!(
            next(&cycle, &refs, &[0, 1], &HashMap::new()),
            Some(Next::Circular(0))
        );
        assert_eq!(next(&cycle, &refs, &[], &HashMap::new()), None);
    }
}
