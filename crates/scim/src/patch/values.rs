//! What the engine's parts (single attributes, multi-valued ones, the element index)
//! share about values: sub-attribute merges, `primary` uniqueness, and the work counter
//! the linearity tests read. Below all three, so none imports another for these.

use serde_json::{Map, Value};

use super::mutability::check_sub_change;
use crate::case_insensitive;
use crate::error::ProtocolError;
use crate::schema::AttributeDef;

#[cfg(test)]
thread_local! {
    /// Elements the engine has visited (cloned, compared, scanned) on this thread: what
    /// the linearity tests count instead of timing.
    pub(super) static WORK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Record `elements` element visits (a no-op outside tests).
#[inline]
pub(super) fn count_work(elements: usize) {
    #[cfg(test)]
    WORK.with(|work| work.set(work.get() + elements));
    #[cfg(not(test))]
    let _ = elements;
}

pub(super) fn is_true(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// RFC 7643 §2.4: at most one `primary: true`. The last touched element holding it wins.
pub(super) fn enforce_primary(elements: &mut [Value], touched: &[usize]) {
    let winner = touched.iter().rev().copied().find(|&i| {
        elements
            .get(i)
            .and_then(Value::as_object)
            .is_some_and(|m| is_true(case_insensitive::get(m, "primary")))
    });
    let Some(winner) = winner else {
        return;
    };
    count_work(elements.len());
    for (i, element) in elements.iter_mut().enumerate() {
        if i != winner {
            clear_primary(element);
        }
    }
}

/// A true `primary` of `element` becomes `false`.
pub(super) fn clear_primary(element: &mut Value) {
    if let Value::Object(map) = element
        && let Some(key) = case_insensitive::key(map, "primary").map(str::to_string)
        && is_true(map.get(&key))
    {
        map.insert(key, Value::Bool(false));
    }
}

/// Merge `members` (canonical names) into a complex value: a null member clears that
/// sub-attribute, others replace or add.
pub(super) fn merge_into(
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
