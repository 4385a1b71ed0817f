//! The SCIM PATCH engine (RFC 7644 §3.5.2): applies a `PatchOp` request to a stored
//! resource document. Pure: no I/O, no HTTP, no database.
//!
//! [`apply_patch`] takes the stored document (canonical attribute names, extension
//! attributes under their schema URN key, no `id`/`meta`) and returns the new document,
//! the operations on *deferred* attributes (a Group's `members`, kept in its own table and
//! never loaded for a PATCH) and whether anything changed. The caller runs the schema
//! normalizer (type checks, `"True"` → `true`, nulls, required attributes) on the result.
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
//! [`filter::matches_element`]); a filtered or sub-attribute `add`/`replace`, or a
//! sub-attribute `remove`, on a deferred attribute is `invalidPath`.
//!
//! All or nothing: operations apply in order to a copy; the first failure returns its
//! error, its detail prefixed with `Operations[i]: `. Tolerances that fired before the
//! failure stay recorded in `leniency` (the activity log shows what the client sent).

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::scim::case_insensitive;
use crate::scim::error::ProtocolError;
use crate::scim::filter::{self, CompareOp, Filter};
use crate::scim::schema::{
    AttrPath, AttrType, AttributeDef, Mutability, Resolved, ResourceSchema, Returned, Schema, Uniqueness,
};
use crate::scim::tolerance::{Leniency, Tolerance};

#[cfg(test)]
mod tests;

/// The `schemas` URI every PATCH request body must carry (RFC 7644 §3.5.2).
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Attributes that are read-only whatever the schema says (when they exist at all).
const ALWAYS_READ_ONLY: [&str; 4] = ["id", "meta", "groups", "licenses"];

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

fn read_request<'r>(request: &'r Value, leniency: &mut Leniency) -> Result<&'r [Value], ProtocolError> {
    let body = request
        .as_object()
        .ok_or_else(|| ProtocolError::invalid_syntax("a PATCH request body must be a JSON object"))?;
    let declares_patch_op = match case_insensitive::get(body, "schemas") {
        Some(Value::Array(schemas)) => schemas.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
        }),
        _ => false,
    };
    if !declares_patch_op {
        return Err(ProtocolError::invalid_syntax(format!(
            "\"schemas\" must be an array holding \"{PATCH_OP_SCHEMA}\""
        )));
    }
    let operations: &[Value] = match case_insensitive::get(body, "Operations") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(ops)) => ops,
        Some(_) => {
            return Err(ProtocolError::invalid_syntax(
                "\"Operations\" must be an array of operations",
            ));
        }
    };
    if operations.is_empty() && !leniency.permit(Tolerance::EmptyOperations) {
        return Err(ProtocolError::invalid_syntax(
            "\"Operations\" must hold at least one operation",
        ));
    }
    Ok(operations)
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
}

impl<'a> Engine<'a> {
    fn apply_operation(&mut self, operation: &Value) -> Result<(), ProtocolError> {
        let operation = operation
            .as_object()
            .ok_or_else(|| ProtocolError::invalid_syntax("an operation must be a JSON object"))?;
        let kind = self.op_kind(case_insensitive::get(operation, "op"))?;
        let path = match case_insensitive::get(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) => Some(path.as_str()),
            Some(_) => return Err(ProtocolError::invalid_syntax("\"path\" must be a string")),
        };
        let value = case_insensitive::get(operation, "value");
        match (kind, path) {
            (OpKind::Remove, None) => Err(ProtocolError::no_target(
                "a remove operation needs a \"path\" (RFC 7644 §3.5.2.2)",
            )),
            (OpKind::Remove, Some(path)) => {
                let target = self.resolve_target(path)?;
                self.apply_target(kind, target, value.filter(|v| !v.is_null()), path)
            }
            (_, path) => {
                let value = value.ok_or_else(|| {
                    ProtocolError::invalid_value(format!("an {} operation needs a \"value\"", kind.as_str()))
                })?;
                match path {
                    None => self.apply_no_path(kind, value),
                    Some(path) => {
                        let target = self.resolve_target(path)?;
                        self.apply_target(kind, target, Some(value), path)
                    }
                }
            }
        }
    }

    fn op_kind(&mut self, op: Option<&Value>) -> Result<OpKind, ProtocolError> {
        let name = match op {
            Some(Value::String(name)) => name.as_str(),
            Some(_) => return Err(ProtocolError::invalid_syntax("\"op\" must be a string")),
            None => {
                return Err(ProtocolError::invalid_syntax("an operation needs an \"op\""));
            }
        };
        let kind = [OpKind::Add, OpKind::Replace, OpKind::Remove]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                ProtocolError::invalid_syntax(format!(
                    "unknown op {name:?}: expected \"add\", \"replace\" or \"remove\""
                ))
            })?;
        if name != kind.as_str() && !self.leniency.permit(Tolerance::CapitalisedOp) {
            return Err(ProtocolError::invalid_syntax(format!(
                "op {name:?} must be written in lower case: \"{}\"",
                kind.as_str()
            )));
        }
        Ok(kind)
    }

    fn resolve_target(&self, text: &str) -> Result<Target<'a>, ProtocolError> {
        let schema: &'a ResourceSchema = self.schema;
        let trimmed = text.trim();
        if let Some(ext) = schema
            .extensions
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(trimmed))
        {
            return Ok(Target::Extension(ext));
        }
        let parsed = filter::parse_path(trimmed)
            .map_err(|e| ProtocolError::invalid_path(format!("invalid path {text:?}: {e}")))?;
        let res = resolve_attr(schema, &parsed.attr).ok_or_else(|| {
            ProtocolError::invalid_path(format!("path {text:?} names no attribute of this resource type"))
        })?;
        check_filter_target(&res, parsed.filter.as_ref())?;
        Ok(Target::Attr {
            res,
            filter: parsed.filter,
        })
    }

    fn apply_target(
        &mut self,
        kind: OpKind,
        target: Target<'a>,
        value: Option<&Value>,
        label: &str,
    ) -> Result<(), ProtocolError> {
        match target {
            Target::Extension(ext) => self.apply_extension(kind, ext, value, label),
            Target::Attr { res, filter } => self.apply_attr(kind, res, filter, value, label),
        }
    }

    /// A path-less `add`/`replace`: every key of the value object is an attribute.
    fn apply_no_path(&mut self, kind: OpKind, value: &Value) -> Result<(), ProtocolError> {
        let attributes = value.as_object().ok_or_else(|| {
            ProtocolError::invalid_value(format!(
                "an {} without a \"path\" needs an object of attributes as \"value\"",
                kind.as_str()
            ))
        })?;
        for (key, value) in attributes {
            self.apply_key(kind, key, value, None)?;
        }
        Ok(())
    }

    /// One key of a path-less value. `within` is the schema URN of the enclosing
    /// extension object, if the key sits inside one.
    fn apply_key(
        &mut self,
        kind: OpKind,
        key: &str,
        value: &Value,
        within: Option<&'a str>,
    ) -> Result<(), ProtocolError> {
        let schema: &'a ResourceSchema = self.schema;
        if within.is_none() {
            if key.eq_ignore_ascii_case("schemas") {
                return Ok(());
            }
            if let Some(ext) = schema.extensions.iter().find(|s| s.id.eq_ignore_ascii_case(key)) {
                return self.apply_extension(kind, ext, Some(value), key);
            }
            if key.eq_ignore_ascii_case(&schema.core.id) {
                let attributes = value
                    .as_object()
                    .ok_or_else(|| ProtocolError::invalid_value(format!("{key:?} must hold an object")))?;
                for (inner, value) in attributes {
                    self.apply_key(kind, inner, value, Some(schema.core.id.as_str()))?;
                }
                return Ok(());
            }
        }
        let in_core = within.is_none_or(|w| w.eq_ignore_ascii_case(&schema.core.id));
        if in_core && key.eq_ignore_ascii_case("id") {
            if value.as_str() == Some(self.resource_id) && self.leniency.permit(Tolerance::EchoedId) {
                return Ok(());
            }
            return Err(ProtocolError::mutability("\"id\" is readOnly"));
        }
        let Ok(mut parsed) = filter::parse_path(key) else {
            return self.unknown_key(key);
        };
        let qualified = parsed.attr.urn.is_some();
        if let (Some(urn), None) = (within, &parsed.attr.urn) {
            parsed.attr.urn = Some(urn.to_string());
        }
        let Some(res) = resolve_attr(schema, &parsed.attr) else {
            return self.unknown_key(key);
        };
        if qualified && !self.leniency.permit(Tolerance::UrnPathKey) {
            return Err(ProtocolError::invalid_value(format!(
                "{key:?} is not an attribute name: put extension attributes under their \
                 schema URN key, or send the key as a \"path\""
            )));
        }
        if (parsed.attr.sub.is_some() || parsed.filter.is_some())
            && !self.leniency.permit(Tolerance::DottedPathKey)
        {
            return Err(ProtocolError::invalid_value(format!(
                "{key:?} is not an attribute name: nest sub-attributes in an object, or send \
                 the key as a \"path\""
            )));
        }
        check_filter_target(&res, parsed.filter.as_ref())?;
        self.apply_attr(kind, res, parsed.filter, Some(value), key)
    }

    fn unknown_key(&mut self, key: &str) -> Result<(), ProtocolError> {
        if self.leniency.permit(Tolerance::UnknownAttribute) {
            Ok(())
        } else {
            Err(ProtocolError::invalid_value(format!(
                "{key:?} is not an attribute of this resource type"
            )))
        }
    }

    fn apply_extension(
        &mut self,
        kind: OpKind,
        ext: &'a Schema,
        value: Option<&Value>,
        label: &str,
    ) -> Result<(), ProtocolError> {
        match (kind, value) {
            (OpKind::Remove, value) => {
                if value.is_some() {
                    self.permit_remove_value()?;
                }
                self.remove_extension(ext, label)
            }
            (_, None | Some(Value::Null)) => match kind {
                OpKind::Replace => self.remove_extension(ext, label),
                _ => Ok(()),
            },
            (_, Some(Value::Object(attributes))) => {
                for (key, value) in attributes {
                    self.apply_key(kind, key, value, Some(ext.id.as_str()))?;
                }
                Ok(())
            }
            (_, Some(_)) => Err(ProtocolError::invalid_value(format!(
                "{label:?} is an extension: its value must be an object of attributes"
            ))),
        }
    }

    fn remove_extension(&mut self, ext: &Schema, label: &str) -> Result<(), ProtocolError> {
        // An extension the server maintains entirely (e.g. the license extension) is
        // readOnly as a whole, whether or not the stored document holds it.
        if ext
            .attributes
            .iter()
            .all(|a| a.mutability == Mutability::ReadOnly)
        {
            return Err(ProtocolError::mutability(format!(
                "{label:?} has only readOnly attributes: the server maintains it"
            )));
        }
        let Some(Value::Object(removed)) = case_insensitive::take(&mut self.doc, &ext.id) else {
            return Ok(());
        };
        for (key, value) in &removed {
            if let Some(def) = ext.attribute(key) {
                if def.mutability == Mutability::ReadOnly && !is_unassigned(value) {
                    return Err(ProtocolError::mutability(format!(
                        "{label:?} holds the readOnly attribute \"{}\"",
                        def.name
                    )));
                }
                check_change(def, Some(value), None, label)?;
            }
        }
        Ok(())
    }

    fn permit_remove_value(&mut self) -> Result<(), ProtocolError> {
        if self.leniency.permit(Tolerance::RemoveWithValueList) {
            Ok(())
        } else {
            Err(ProtocolError::invalid_syntax(
                "a remove operation takes no \"value\" (RFC 7644 §3.5.2.2): name the values to \
                 remove with a filter, e.g. members[value eq \"…\"]",
            ))
        }
    }

    fn is_deferred(&self, def: &AttributeDef) -> bool {
        self.deferred_attributes
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&def.name))
    }

    /// Take out the object holding the attributes of `extension` (the whole document for
    /// core); [`Engine::put_container`] puts it back under the canonical key.
    fn take_container(&mut self, extension: Option<&str>) -> Map<String, Value> {
        match extension {
            None => std::mem::take(&mut self.doc),
            Some(urn) => match case_insensitive::take(&mut self.doc, urn) {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            },
        }
    }

    fn put_container(&mut self, extension: Option<&str>, container: Map<String, Value>) {
        match extension {
            None => self.doc = container,
            Some(urn) => {
                self.doc.insert(urn.to_string(), Value::Object(container));
            }
        }
    }

    /// Drop extension objects this PATCH left empty (an extension with no attribute has
    /// no value), keeping an empty one the stored document already had.
    fn drop_emptied_extensions(&mut self, original: &Map<String, Value>) {
        for ext in &self.schema.extensions {
            let Some(key) = case_insensitive::key(&self.doc, &ext.id).map(str::to_string) else {
                continue;
            };
            let emptied = self.doc.get(&key).is_some_and(is_unassigned);
            if emptied && original.get(&key) != self.doc.get(&key) {
                self.doc.remove(&key);
            }
        }
    }

    fn apply_attr(
        &mut self,
        kind: OpKind,
        res: Resolved<'a>,
        filter: Option<Filter>,
        value: Option<&Value>,
        label: &str,
    ) -> Result<(), ProtocolError> {
        if is_read_only(&res) {
            return Err(ProtocolError::mutability(format!("{label:?} is readOnly")));
        }
        if self.is_deferred(res.attribute) {
            return self.apply_deferred(kind, &res, filter, value, label);
        }
        let mut remove_list = None;
        if kind == OpKind::Remove
            && let Some(list) = value
        {
            self.permit_remove_value()?;
            if filter.is_none() && res.sub_attribute.is_none() {
                remove_list = Some(list);
            }
        }
        let mut container = self.take_container(res.extension);
        let result = self.write_attr(
            kind,
            &res,
            filter.as_ref(),
            value,
            remove_list,
            label,
            &mut container,
        );
        self.put_container(res.extension, container);
        result
    }

    /// Compute and store the new value of `res.attribute` in `container`.
    #[allow(clippy::too_many_arguments)]
    fn write_attr(
        &mut self,
        kind: OpKind,
        res: &Resolved<'a>,
        filter: Option<&Filter>,
        value: Option<&Value>,
        remove_list: Option<&Value>,
        label: &str,
        container: &mut Map<String, Value>,
    ) -> Result<(), ProtocolError> {
        let def = res.attribute;
        let old = case_insensitive::take(container, &def.name);
        let new = match (filter, res.sub_attribute) {
            (Some(filter), sub) => self.filtered(kind, res, filter, sub, old.as_ref(), value, label)?,
            (None, Some(sub)) => sub_no_filter(kind, def, sub, old.as_ref(), value, label)?,
            (None, None) => self.whole(kind, def, old.as_ref(), value, remove_list, label)?,
        };
        check_change(def, old.as_ref(), new.as_ref(), label)?;
        match (new, old) {
            (Some(new), _) if !is_unassigned(&new) => {
                container.insert(def.name.clone(), new);
            }
            // Keep a stored empty value as it was rather than report a change.
            (_, Some(old)) if is_unassigned(&old) => {
                container.insert(def.name.clone(), old);
            }
            _ => {}
        }
        Ok(())
    }

    /// An operation on a whole attribute (no sub-attribute, no filter).
    fn whole(
        &mut self,
        kind: OpKind,
        def: &AttributeDef,
        old: Option<&Value>,
        value: Option<&Value>,
        remove_list: Option<&Value>,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        let value = match (kind, value) {
            (OpKind::Remove, _) => {
                let Some(list) = remove_list else {
                    return Ok(None);
                };
                let patterns = element_list(def, list);
                return Ok(if def.multi_valued {
                    let mut elements = as_elements(old);
                    elements.retain(|e| !patterns.iter().any(|p| value_matches(p, e)));
                    Some(Value::Array(elements))
                } else {
                    match old {
                        Some(old) if patterns.iter().any(|p| value_matches(p, old)) => None,
                        other => other.cloned(),
                    }
                });
            }
            (_, None | Some(Value::Null)) => return Ok(null_write(kind, old)),
            (_, Some(value)) => value,
        };
        if def.multi_valued {
            let mut elements = match kind {
                OpKind::Add => as_elements(old),
                _ => Vec::new(),
            };
            let mut touched = Vec::new();
            for element in element_list(def, value) {
                if !elements.contains(&element) {
                    elements.push(element);
                    touched.push(elements.len() - 1);
                }
            }
            enforce_primary(&mut elements, &touched);
            Ok(Some(Value::Array(elements)))
        } else if def.attr_type == AttrType::Complex {
            let Some(members) = self.complex_value(def, value, label)? else {
                return Ok(null_write(kind, old));
            };
            let mut base = match old {
                Some(Value::Object(map)) => map.clone(),
                _ => Map::new(),
            };
            merge_into(def, &mut base, members, label)?;
            Ok(Some(Value::Object(base)))
        } else {
            Ok(Some(value.clone()))
        }
    }

    /// The members of a value written to a single-valued complex attribute; `None` for
    /// "unassign".
    fn complex_value(
        &mut self,
        def: &AttributeDef,
        value: &Value,
        label: &str,
    ) -> Result<Option<Map<String, Value>>, ProtocolError> {
        match value {
            Value::Object(map) => Ok(Some(canonical_map(def, map, true))),
            Value::Null => Ok(None),
            Value::String(id) if def.sub_attribute("value").is_some() => {
                if !self.leniency.permit(Tolerance::ManagerAsString) {
                    return Err(ProtocolError::invalid_value(format!(
                        "{label:?} is a complex attribute: send {{\"value\": \"…\"}}, not a string"
                    )));
                }
                if id.is_empty() {
                    return Ok(None);
                }
                let mut map = Map::new();
                let name = def.sub_attribute("value").map_or("value", |s| s.name.as_str());
                map.insert(name.to_string(), Value::String(id.clone()));
                Ok(Some(map))
            }
            _ => Err(ProtocolError::invalid_value(format!(
                "{label:?} is a complex attribute: its value must be an object"
            ))),
        }
    }

    /// An operation on a multi-valued attribute through a value filter.
    #[allow(clippy::too_many_arguments)]
    fn filtered(
        &mut self,
        kind: OpKind,
        res: &Resolved<'a>,
        filter: &Filter,
        sub: Option<&AttributeDef>,
        old: Option<&Value>,
        value: Option<&Value>,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        let def = res.attribute;
        let attr = AttrPath {
            urn: res.extension.map(str::to_string),
            name: def.name.clone(),
            sub: None,
        };
        let mut elements = as_elements(old);
        let matched: Vec<usize> = elements
            .iter()
            .enumerate()
            .filter(|(_, e)| filter::matches_element(filter, &attr, e, self.schema))
            .map(|(i, _)| i)
            .collect();
        let no_match = || ProtocolError::no_target(format!("the filter in {label:?} matches no value"));
        let value = match (kind, value) {
            (OpKind::Remove, _) => {
                if matched.is_empty() {
                    return Err(no_match());
                }
                remove_matched(&mut elements, &matched, sub, label)?;
                return Ok(Some(Value::Array(elements)));
            }
            (_, None | Some(Value::Null)) => {
                if kind == OpKind::Replace && !matched.is_empty() {
                    remove_matched(&mut elements, &matched, sub, label)?;
                    return Ok(Some(Value::Array(elements)));
                }
                return Ok(old.cloned());
            }
            (_, Some(value)) => value,
        };
        // Without a sub-attribute the value is merged into each complex element.
        let members = match (sub, def.attr_type) {
            (None, AttrType::Complex) => Some(
                value
                    .as_object()
                    .map(|m| canonical_map(def, m, true))
                    .ok_or_else(|| {
                        ProtocolError::invalid_value(format!(
                            "{label:?} selects complex values: the value must be an object"
                        ))
                    })?,
            ),
            _ => None,
        };
        let touched = if matched.is_empty() {
            let mut element = Map::new();
            let creatable =
                def.attr_type == AttrType::Complex && filter_equalities(filter, def, &mut element);
            if !creatable || !self.leniency.permit(Tolerance::FilteredPathCreatesValue) {
                return Err(no_match());
            }
            match (sub, members) {
                (Some(sub), _) => {
                    element.insert(sub.name.clone(), value.clone());
                }
                (None, Some(members)) => {
                    for (k, v) in members {
                        if v.is_null() {
                            element.remove(&k);
                        } else {
                            element.insert(k, v);
                        }
                    }
                }
                (None, None) => {}
            }
            elements.push(Value::Object(element));
            vec![elements.len() - 1]
        } else {
            for &i in &matched {
                let Some(element) = elements.get_mut(i) else {
                    continue;
                };
                match (sub, &members) {
                    (Some(sub), _) => {
                        if let Value::Object(map) = element {
                            let before = case_insensitive::take(map, &sub.name);
                            check_sub_change(sub, before.as_ref(), Some(value), label)?;
                            map.insert(sub.name.clone(), value.clone());
                        }
                    }
                    (None, Some(members)) => {
                        if !element.is_object() {
                            *element = Value::Object(Map::new());
                        }
                        if let Value::Object(map) = element {
                            merge_into(def, map, members.clone(), label)?;
                        }
                    }
                    (None, None) => *element = value.clone(),
                }
            }
            matched
        };
        enforce_primary(&mut elements, &touched);
        Ok(Some(Value::Array(elements)))
    }

    fn apply_deferred(
        &mut self,
        kind: OpKind,
        res: &Resolved<'a>,
        filter: Option<Filter>,
        value: Option<&Value>,
        label: &str,
    ) -> Result<(), ProtocolError> {
        let def = res.attribute;
        if res.sub_attribute.is_some() {
            return Err(ProtocolError::invalid_path(format!(
                "{label:?}: only whole \"{}\" values can be added, replaced or removed",
                def.name
            )));
        }
        let op = match (kind, filter) {
            (OpKind::Remove, Some(filter)) => {
                if value.is_some() {
                    self.permit_remove_value()?;
                }
                DeferredOp::RemoveWhere(filter)
            }
            (OpKind::Remove, None) => match value {
                None => DeferredOp::RemoveAll,
                Some(list) => {
                    self.permit_remove_value()?;
                    let items = deferred_items(def, list, label)?;
                    if items.is_empty() {
                        return Ok(());
                    }
                    DeferredOp::Remove(items)
                }
            },
            (_, Some(_)) => {
                return Err(ProtocolError::invalid_path(format!(
                    "{label:?}: a filtered {} on \"{}\" is not supported; add or replace \
                     whole values",
                    kind.as_str(),
                    def.name
                )));
            }
            (OpKind::Add, None) => {
                let items = deferred_items(def, value.unwrap_or(&Value::Null), label)?;
                if items.is_empty() {
                    return Ok(());
                }
                DeferredOp::Add(items)
            }
            (OpKind::Replace, None) => {
                DeferredOp::Replace(deferred_items(def, value.unwrap_or(&Value::Null), label)?)
            }
        };
        self.deferred.push(op);
        Ok(())
    }
}

/// `add` of null keeps the old value; `replace` with null unassigns it.
fn null_write(kind: OpKind, old: Option<&Value>) -> Option<Value> {
    match kind {
        OpKind::Add => old.cloned(),
        _ => None,
    }
}

/// An operation on `attr.sub` without a filter: on a single-valued complex attribute the
/// sub-attribute of its value, on a multi-valued one that of every element.
fn sub_no_filter(
    kind: OpKind,
    def: &AttributeDef,
    sub: &AttributeDef,
    old: Option<&Value>,
    value: Option<&Value>,
    label: &str,
) -> Result<Option<Value>, ProtocolError> {
    let value = match (kind, value) {
        (OpKind::Remove, _) | (OpKind::Replace, None | Some(Value::Null)) => None,
        (OpKind::Add, None | Some(Value::Null)) => return Ok(old.cloned()),
        (_, Some(value)) => Some(value),
    };
    if def.multi_valued {
        let mut elements = as_elements(old);
        let mut touched = Vec::new();
        match value {
            None => {
                let all: Vec<usize> = (0..elements.len()).collect();
                remove_matched(&mut elements, &all, Some(sub), label)?;
            }
            Some(value) if elements.is_empty() => {
                let mut element = Map::new();
                element.insert(sub.name.clone(), value.clone());
                elements.push(Value::Object(element));
                touched.push(0);
            }
            Some(value) => {
                for (i, element) in elements.iter_mut().enumerate() {
                    if let Value::Object(map) = element {
                        let before = case_insensitive::take(map, &sub.name);
                        check_sub_change(sub, before.as_ref(), Some(value), label)?;
                        map.insert(sub.name.clone(), value.clone());
                        touched.push(i);
                    }
                }
            }
        }
        enforce_primary(&mut elements, &touched);
        Ok(Some(Value::Array(elements)))
    } else {
        let mut map = match old {
            Some(Value::Object(map)) => map.clone(),
            _ => Map::new(),
        };
        let before = case_insensitive::take(&mut map, &sub.name);
        check_sub_change(sub, before.as_ref(), value, label)?;
        if let Some(value) = value {
            map.insert(sub.name.clone(), value.clone());
        }
        Ok(Some(Value::Object(map)))
    }
}

/// Remove the matched elements, or only their `sub` sub-attribute (dropping elements
/// left empty).
fn remove_matched(
    elements: &mut Vec<Value>,
    matched: &[usize],
    sub: Option<&AttributeDef>,
    label: &str,
) -> Result<(), ProtocolError> {
    match sub {
        None => {
            let mut index = 0;
            elements.retain(|_| {
                let keep = !matched.contains(&index);
                index += 1;
                keep
            });
        }
        Some(sub) => {
            for &i in matched {
                if let Some(Value::Object(map)) = elements.get_mut(i) {
                    let before = case_insensitive::take(map, &sub.name);
                    check_sub_change(sub, before.as_ref(), None, label)?;
                }
            }
            elements.retain(|e| !matches!(e, Value::Object(m) if m.is_empty()));
        }
    }
    Ok(())
}

/// Merge `members` (canonical names) into a complex value: a null member clears that
/// sub-attribute, others replace or add.
fn merge_into(
    def: &AttributeDef,
    base: &mut Map<String, Value>,
    members: Map<String, Value>,
    label: &str,
) -> Result<(), ProtocolError> {
    for (key, value) in members {
        let before = case_insensitive::take(base, &key);
        let after = (!value.is_null()).then_some(&value);
        if let Some(sub) = def.sub_attribute(&key) {
            check_sub_change(sub, before.as_ref(), after, label)?;
        }
        if !value.is_null() {
            base.insert(key, value);
        }
    }
    Ok(())
}

fn deferred_items(def: &AttributeDef, value: &Value, label: &str) -> Result<Vec<Value>, ProtocolError> {
    let mut items: Vec<Value> = Vec::new();
    for item in element_list(def, value) {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    if def.attr_type == AttrType::Complex
        && let Some(value_def) = def.sub_attribute("value")
    {
        for item in &items {
            let ok = matches!(
                item.get(&value_def.name),
                Some(Value::String(s)) if !s.is_empty()
            );
            if !ok {
                return Err(ProtocolError::invalid_value(format!(
                    "{label:?}: every value needs a non-empty string \"{}\"",
                    value_def.name
                )));
            }
        }
    }
    Ok(items)
}

/// Collect the `eq` comparisons of a filter made only of `eq` joined by `and` into
/// `element` (canonical sub-attribute names); false if the filter has any other shape.
fn filter_equalities(filter: &Filter, def: &AttributeDef, element: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let name = match (&path.sub, &path.urn) {
                (None, None) => path.name.as_str(),
                (Some(sub), _) if path.name.eq_ignore_ascii_case(&def.name) => sub.as_str(),
                _ => return false,
            };
            let Some(sub) = def.sub_attribute(name) else {
                return false;
            };
            if value.is_null() {
                return false;
            }
            match element.get(&sub.name) {
                Some(existing) if existing != value => false,
                _ => {
                    element.insert(sub.name.clone(), value.clone());
                    true
                }
            }
        }
        Filter::And(left, right) => {
            filter_equalities(left, def, element) && filter_equalities(right, def, element)
        }
        _ => false,
    }
}

fn check_filter_target(res: &Resolved<'_>, filter: Option<&Filter>) -> Result<(), ProtocolError> {
    if filter.is_some() && !res.attribute.multi_valued {
        return Err(ProtocolError::invalid_path(format!(
            "a value filter needs a multi-valued attribute; \"{}\" is single-valued",
            res.attribute.name
        )));
    }
    Ok(())
}

fn is_read_only(res: &Resolved<'_>) -> bool {
    res.attribute.mutability == Mutability::ReadOnly
        || res
            .sub_attribute
            .is_some_and(|s| s.mutability == Mutability::ReadOnly)
        || (res.extension.is_none()
            && ALWAYS_READ_ONLY
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&res.attribute.name)))
}

/// Immutable top-level attribute: set while unassigned, never changed or removed after.
fn check_change(
    def: &AttributeDef,
    old: Option<&Value>,
    new: Option<&Value>,
    label: &str,
) -> Result<(), ProtocolError> {
    if def.mutability == Mutability::Immutable && !unassigned(old) && !same(old, new) {
        return Err(ProtocolError::mutability(format!(
            "{label:?}: \"{}\" is immutable and already has a value",
            def.name
        )));
    }
    Ok(())
}

fn check_sub_change(
    sub: &AttributeDef,
    old: Option<&Value>,
    new: Option<&Value>,
    label: &str,
) -> Result<(), ProtocolError> {
    let refused = match sub.mutability {
        Mutability::ReadOnly => !same(old, new),
        Mutability::Immutable => !unassigned(old) && !same(old, new),
        _ => false,
    };
    if refused {
        let what = match sub.mutability {
            Mutability::ReadOnly => "readOnly",
            _ => "immutable and already has a value",
        };
        return Err(ProtocolError::mutability(format!(
            "{label:?}: sub-attribute \"{}\" is {what}",
            sub.name
        )));
    }
    Ok(())
}

fn unassigned(value: Option<&Value>) -> bool {
    value.is_none_or(is_unassigned)
}

/// Null, `[]` and `{}` are "no value" (RFC 7643 §2.5).
fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (is_unassigned(a) && is_unassigned(b)),
        (Some(v), None) | (None, Some(v)) => is_unassigned(v),
        (None, None) => true,
    }
}

/// The values of an `add`/`replace`/`remove` on a multi-valued attribute: the array's
/// elements or the single value, canonicalised, nulls dropped.
fn element_list(def: &AttributeDef, value: &Value) -> Vec<Value> {
    let raw: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    raw.into_iter()
        .filter(|v| !v.is_null())
        .map(|v| match v {
            Value::Object(map) if def.attr_type == AttrType::Complex => {
                Value::Object(canonical_map(def, map, false))
            }
            other => other.clone(),
        })
        .collect()
}

/// Sub-attribute names made canonical; null members dropped unless `keep_nulls`.
fn canonical_map(def: &AttributeDef, map: &Map<String, Value>, keep_nulls: bool) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, value) in map {
        if value.is_null() && !keep_nulls {
            continue;
        }
        let name = def.sub_attribute(key).map_or(key.as_str(), |s| s.name.as_str());
        out.insert(name.to_string(), value.clone());
    }
    out
}

fn as_elements(old: Option<&Value>) -> Vec<Value> {
    match old {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
    }
}

/// Does `pattern` (from a remove value list) name `element`? Objects: every member of a
/// non-empty pattern is equal in the element (names case-insensitive); else equality.
fn value_matches(pattern: &Value, element: &Value) -> bool {
    match (pattern, element) {
        (Value::Object(p), Value::Object(e)) => {
            !p.is_empty() && p.iter().all(|(k, v)| case_insensitive::get(e, k) == Some(v))
        }
        (p, e) => p == e,
    }
}

fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// RFC 7643 §2.4: at most one `primary: true`. The last touched element holding it wins.
fn enforce_primary(elements: &mut [Value], touched: &[usize]) {
    let winner = touched.iter().rev().copied().find(|&i| {
        elements
            .get(i)
            .and_then(Value::as_object)
            .is_some_and(|m| is_true(case_insensitive::get(m, "primary")))
    });
    let Some(winner) = winner else {
        return;
    };
    for (i, element) in elements.iter_mut().enumerate() {
        if i == winner {
            continue;
        }
        if let Value::Object(map) = element
            && let Some(key) = case_insensitive::key(map, "primary").map(str::to_string)
            && is_true(map.get(&key))
        {
            map.insert(key, Value::Bool(false));
        }
    }
}

/// Resolve against the schema (which holds the common attributes, see
/// [`crate::scim::catalog::resource_schema`]). An unqualified name from
/// [`ALWAYS_READ_ONLY`] that this resource type lacks (a Group's `groups`, a User's
/// unqualified `licenses`) still resolves, to a read-only placeholder, so that writing it
/// is `mutability` like the attribute it names elsewhere rather than an unknown path.
fn resolve_attr<'s>(schema: &'s ResourceSchema, path: &AttrPath) -> Option<Resolved<'s>> {
    if let Some(res) = schema.resolve(path) {
        return Some(res);
    }
    let core = path
        .urn
        .as_deref()
        .is_none_or(|urn| urn.eq_ignore_ascii_case(&schema.core.id));
    if !core || path.sub.is_some() || schema.core.attribute(&path.name).is_some() {
        return None;
    }
    let attribute = read_only_placeholders()
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(&path.name))?;
    Some(Resolved {
        extension: None,
        attribute,
        sub_attribute: None,
    })
}

/// One multi-valued, read-only definition per [`ALWAYS_READ_ONLY`] name, with no
/// sub-attributes: nothing but its name and mutability is ever read.
fn read_only_placeholders() -> &'static [AttributeDef] {
    static PLACEHOLDERS: OnceLock<Vec<AttributeDef>> = OnceLock::new();
    PLACEHOLDERS.get_or_init(|| {
        ALWAYS_READ_ONLY
            .iter()
            .map(|name| AttributeDef {
                name: (*name).to_string(),
                attr_type: AttrType::Complex,
                multi_valued: true,
                description: String::new(),
                required: false,
                case_exact: false,
                mutability: Mutability::ReadOnly,
                returned: Returned::Default,
                uniqueness: Uniqueness::None,
                canonical_values: Vec::new(),
                reference_types: Vec::new(),
                sub_attributes: Vec::new(),
            })
            .collect()
    })
}
