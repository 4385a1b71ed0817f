//! Mutability (RFC 7643 §2.2): readOnly targets and immutable values.

use serde_json::Value;

use crate::error::ProtocolError;
use crate::schema::{AttributeDef, Mutability, Resolved};

/// Attributes that are read-only whatever the schema says (when they exist at all).
pub(super) const ALWAYS_READ_ONLY: [&str; 4] = ["id", "meta", "groups", "licenses"];

pub(super) fn is_read_only(res: &Resolved<'_>) -> bool {
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
pub(super) fn check_change(
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

pub(super) fn check_sub_change(
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

pub(super) fn unassigned(value: Option<&Value>) -> bool {
    value.is_none_or(is_unassigned)
}

/// Null, `[]` and `{}` are "no value" (RFC 7643 §2.5).
pub(super) fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

pub(super) fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b || (is_unassigned(a) && is_unassigned(b)),
        (Some(v), None) | (None, Some(v)) => is_unassigned(v),
        (None, None) => true,
    }
}
