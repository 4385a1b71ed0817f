//! The SCIM PATCH engine (RFC 7644 §3.5.2): applies a `PatchOp` request to a stored
//! resource document. Pure: no I/O, no HTTP, no database.
//!
//! [`apply_patch`] takes the stored document (canonical attribute names, extension
//! attributes under their schema URN key, no `id`/`meta`) and returns the new document,
//! the operations on *deferred* attributes (a Group's `members`, kept in its own table and
//! never loaded for a PATCH) and whether anything changed. The caller runs the schema
//! normalizer (type checks, `"True"` → `true`, nulls, required attributes) on the result.
//!
//! The engine's files follow its steps: `request` reads the body and each operation,
//! `path` resolves what a path or path-less key names, `extension` writes whole
//! extension objects, `attribute` writes one attribute, `multi_valued` handles value
//! filters and element lists, `deferred` hands back operations on deferred attributes,
//! and `mutability` says what may not be written.
//!
//! # Decisions (RFC 7644 §3.5.2 and §3.12, Table 9)
//!
//! Request structure — all `invalidSyntax` ("did not conform to the request schema"):
//! - the body is not an object; `schemas` is missing or lacks the PatchOp URN (compared
//!   case-insensitively); `Operations` is not an array; an operation is not an object;
//!   `op` is missing, not a string or not add/replace/remove; `path` is not a string.
//! - `Operations` missing, `null` or `[]`: a no-op success under
//!   [`Tolerance::EmptyOperations`], else `invalidSyntax` (RFC: "one or more operations").
//! - `op` in another case (`"Replace"`): accepted under [`Tolerance::CapitalisedOp`], else
//!   `invalidSyntax`. Member names of the body and of operations (`Operations`, `op`,
//!   `path`, `value`) are matched case-insensitively (RFC 7643 §2.1), no tolerance needed.
//! - `remove` with a `value`: under [`Tolerance::RemoveWithValueList`] a plain attribute
//!   path removes the listed values (a complex value matches an element when every member
//!   it names is equal; `{}` matches nothing; a single-valued attribute is removed only when
//!   it equals a listed value); on a filtered or sub-attribute path the value is ignored.
//!   Without the tolerance: `invalidSyntax` (remove has no `value` in the PatchOp schema,
//!   and silently ignoring it would remove *every* member).
//!
//! Values:
//! - `add`/`replace` without a `value` member: `invalidValue` ("a required value was
//!   missing"). `value: null` means "unassigned" (RFC 7643 §2.5): `add` of null is a no-op,
//!   `replace` with null clears the target (filtered: the matched elements or their
//!   sub-attribute; no match is then not an error).
//! - A path-less `add`/`replace` whose value is not an object: `invalidValue`.
//! - A complex attribute given a non-object: `invalidValue`, except a bare string for a
//!   single-valued complex attribute with a `value` sub-attribute (the enterprise
//!   `manager`), which becomes `{"value": s}` under [`Tolerance::ManagerAsString`]; an
//!   empty string is then read as null (unassign).
//! - Complex values get canonical sub-attribute names; unknown sub-attribute names are kept
//!   as sent for the normalizer to judge. Elements added to multi-valued attributes lose
//!   their null members (`{"$ref": null, "value": "x"}` → `{"value": "x"}`); in a merge into
//!   an existing complex value, a null member clears that sub-attribute.
//! - An attribute left without a value (an emptied array, an emptied complex value, an
//!   emptied extension object) is removed from the document (RFC 7644 §3.5.2.2).
//!
//! Paths:
//! - Unparsable path: `invalidPath` with the parser's detail. Unknown attribute or
//!   sub-attribute: `invalidPath` (no tolerance: a path is an explicit target). A value
//!   filter on a single-valued attribute: `invalidPath`.
//! - A path equal to an extension schema URN targets the whole extension object: `add` /
//!   `replace` merge the object's attributes (per-attribute add/replace rules), `remove`
//!   deletes it (`mutability` if it holds a readOnly or immutable value).
//! - `remove` without a path: `noTarget` (RFC 7644 §3.5.2.2). `remove` of an attribute that
//!   has no value: a no-op success. `remove` whose filter matches nothing: `noTarget`
//!   (Table 9: "a filter that yields no match").
//! - `add`/`replace` whose filter matches nothing: `noTarget`, or, under
//!   [`Tolerance::FilteredPathCreatesValue`], a new element built from the filter's `eq`
//!   comparisons (joined by `and` only; anything else stays `noTarget`) plus the value.
//!   `add` with a filter otherwise behaves like `replace` on the matched elements.
//! - A sub-attribute of a multi-valued attribute without a filter (`emails.type`) applies
//!   to every element; `add`/`replace` on an empty attribute create one element.
//! - `replace` of a single-valued complex attribute merges (RFC 7644 §3.5.2.3: "sub-attributes
//!   that are not specified … are left unchanged"); of a multi-valued one replaces the
//!   whole array. `add` to a multi-valued attribute appends, skipping values equal to an
//!   existing element.
//!
//! Path-less values (the keys of the object):
//! - `schemas` is ignored. A key equal to an extension URN holds that extension's
//!   attributes. `id` equal to `resource_id` is ignored under [`Tolerance::EchoedId`];
//!   any other `id` → `mutability`.
//! - A dotted key (`name.givenName`, also a filtered key `emails[type eq "work"].value`)
//!   needs [`Tolerance::DottedPathKey`]; a URN-qualified attribute key needs
//!   [`Tolerance::UrnPathKey`]; either is then applied exactly as the same operation with
//!   that key as its `path` (never stored as a literal key). Refused: `invalidValue` (the
//!   value does not conform to the resource schema).
//! - An unknown key is dropped under [`Tolerance::UnknownAttribute`], else `invalidValue`.
//!
//! Mutability (`mutability`, RFC 7644 §3.5.2 / RFC 7643 §2.2):
//! - Any operation whose path or key targets a readOnly attribute or sub-attribute (schema
//!   declared, plus `id`, `meta`, `groups`, `licenses`) fails, whatever the value.
//! - An immutable attribute may be set while unassigned; changing or removing an assigned
//!   value fails (writing the same value is accepted). Immutable sub-attributes of an
//!   existing element or complex value follow the same rule; elements added or removed
//!   whole are not a change of their sub-attributes. A readOnly sub-attribute reached
//!   through a merge fails only if its value would change.
//!
//! `primary` (RFC 7643 §2.4): after an operation writes elements with `primary: true`
//! (or the string `"true"`, any case) into a multi-valued attribute, the last such element
//! written keeps it and every other element holding a true `primary` gets `false`.
//!
//! Deferred attributes (`deferred_attributes`, case-insensitive): the document is never
//! touched; each operation becomes a [`DeferredOp`], with elements canonicalised, null
//! members dropped and (for complex attributes with a `value` sub-attribute) a non-empty
//! string `value` required (`invalidValue`). `add` of nothing is dropped; `replace` with
//! `null`/`[]` is `Replace(vec![])`; `remove` with a filter is `RemoveWhere(filter)` (any
//! filter: the filter's paths are relative to one element, as in
//! [`crate::filter::matches_element`]); a filtered or sub-attribute
//! `add`/`replace`, or a sub-attribute `remove`, on a deferred attribute is `invalidPath`.
//!
//! All or nothing: operations apply in order to a copy; the first failure returns its
//! error, its detail prefixed with `Operations[i]: `. Tolerances that fired before the
//! failure stay recorded in `leniency` (the activity log shows what the client sent).

mod attribute;
mod deferred;
mod extension;
mod index;
mod multi_valued;
mod mutability;
mod path;
mod request;
/// Does a PatchOp `body` name the extension `urn`, in a `path` or a key of a path-less
/// value?
pub fn names_extension(body: &Value, urn: &str) -> bool {
    let starts = |text: &str| {
        text.get(..urn.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(urn))
    };
    body.get("Operations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|op| {
            op.get("path").and_then(Value::as_str).is_some_and(starts)
                || op
                    .get("value")
                    .and_then(Value::as_object)
                    .is_some_and(|value| value.keys().any(|k| starts(k)))
        })
}

#[cfg(test)]
mod tests;
mod values;

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::error::ProtocolError;
use crate::filter::Filter;
use crate::schema::{Resolved, ResourceSchema, Schema};
use crate::tolerance::Leniency;
use index::{ElementIndex, IndexKey};
use request::read_request;

/// The `schemas` URI every PATCH request body must carry (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The result of a successful PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOutcome {
    /// The new resource document (attributes only; no id/meta; deferred attributes untouched).
    pub resource: Value,
    /// Operations on deferred attributes (e.g. a Group's `members`, which lives in its own
    /// table and is never loaded for a PATCH), in request order, normalized.
    pub deferred: Vec<DeferredOp>,
    /// Did any operation change anything? (for meta.version bumps)
    pub changed: bool,
}

/// One operation on a deferred attribute, for the store to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum DeferredOp {
    /// Add these elements (already present ones are the store's to skip).
    Add(Vec<Value>),
    /// Remove the elements matching these values (Entra's `remove` with a value list):
    /// an element matches when every member named in the value is equal.
    Remove(Vec<Value>),
    /// Remove the elements matching this filter (`members[value eq "x"]`); its attribute
    /// paths are relative to one element.
    RemoveWhere(Filter),
    /// Remove every element.
    RemoveAll,
    /// Replace the whole set with these elements.
    Replace(Vec<Value>),
}

/// Apply a SCIM PATCH request (RFC 7644 §3.5.2) to `resource`. See the module docs for
/// every interpretation choice. `resource_id` is the resource's own `id` (for Okta's
/// echoed id); `deferred_attributes` names attributes handed back as [`DeferredOp`]s.
pub fn apply_patch(
    resource: &Value,
    request: &Value,
    schema: &ResourceSchema,
    deferred_attributes: &[&str],
    resource_id: &str,
    leniency: &mut Leniency,
) -> Result<PatchOutcome, ProtocolError> {
    let operations = read_request(request, leniency)?;
    let original = match resource {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    let mut engine = Engine {
        schema,
        deferred_attributes,
        resource_id,
        leniency,
        doc: original.clone(),
        deferred: Vec::new(),
        indexes: HashMap::new(),
    };
    for (index, operation) in operations.iter().enumerate() {
        engine
            .apply_operation(operation)
            .map_err(|e| ProtocolError::new(e.scim_type, format!("Operations[{index}]: {}", e.detail)))?;
    }
    engine.drop_emptied_extensions(&original);
    let Engine { doc, deferred, .. } = engine;
    let changed = !deferred.is_empty() || doc != original;
    Ok(PatchOutcome {
        resource: Value::Object(doc),
        deferred,
        changed,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Add,
    Replace,
    Remove,
}

impl OpKind {
    fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Remove => "remove",
        }
    }
}

/// What a path names.
enum Target<'s> {
    /// A whole extension object (the path is the extension's schema URN).
    Extension(&'s Schema),
    /// An attribute, maybe with a sub-attribute and a value filter.
    Attr {
        res: Resolved<'s>,
        filter: Option<Filter>,
    },
}

struct Engine<'a> {
    schema: &'a ResourceSchema,
    deferred_attributes: &'a [&'a str],
    resource_id: &'a str,
    leniency: &'a mut Leniency,
    doc: Map<String, Value>,
    deferred: Vec<DeferredOp>,
    /// Element indexes of the multi-valued attributes operations have appended to.
    indexes: HashMap<IndexKey<'a>, ElementIndex>,
}
