//! What keeps a PATCH linear in its operations: an index of the elements of a
//! multi-valued attribute, kept across the operations that append to it, so that `add`
//! finds an equal element and the `primary` holders without scanning the array each time.
//!
//! An index lives as long as only appends (`add` of whole values, no filter, no
//! sub-attribute) write its attribute; any other write drops it and the next append
//! builds it again (one pass).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;

use super::values::{clear_primary, count_work, is_true};
use crate::case_insensitive;

/// Which attribute an index is of: the extension URN (`None` for core) and the
/// attribute's canonical name.
pub(super) type IndexKey<'a> = (Option<&'a str>, &'a str);

/// Positions of the elements by hash, and of those holding a true `primary`.
#[derive(Debug, Default)]
pub(super) struct ElementIndex {
    by_hash: HashMap<u64, Vec<usize>>,
    primaries: Vec<usize>,
}

impl ElementIndex {
    pub(super) fn build(elements: &[Value]) -> Self {
        count_work(elements.len());
        let mut index = ElementIndex::default();
        for (position, element) in elements.iter().enumerate() {
            index.insert(element, position);
            if holds_primary(element) {
                index.primaries.push(position);
            }
        }
        index
    }

    /// Is an element equal to `value` among `elements`? Only equal hashes are compared.
    pub(super) fn contains(&self, elements: &[Value], value: &Value) -> bool {
        self.by_hash.get(&value_hash(value)).is_some_and(|positions| {
            count_work(positions.len());
            positions.iter().any(|&p| elements.get(p) == Some(value))
        })
    }

    /// Append `element` to `elements`. RFC 7643 §2.4: an appended element holding a true
    /// `primary` takes it from every other element.
    pub(super) fn push(&mut self, elements: &mut Vec<Value>, element: Value) {
        let position = elements.len();
        let primary = holds_primary(&element);
        self.insert(&element, position);
        elements.push(element);
        if !primary {
            return;
        }
        for previous in std::mem::take(&mut self.primaries) {
            if let Some(element) = elements.get_mut(previous) {
                self.remove(element, previous);
                clear_primary(element);
                self.insert(element, previous);
            }
        }
        self.primaries.push(position);
    }

    fn insert(&mut self, element: &Value, position: usize) {
        self.by_hash
            .entry(value_hash(element))
            .or_default()
            .push(position);
    }

    fn remove(&mut self, element: &Value, position: usize) {
        if let Some(positions) = self.by_hash.get_mut(&value_hash(element)) {
            positions.retain(|&p| p != position);
        }
    }
}

fn holds_primary(element: &Value) -> bool {
    element
        .as_object()
        .is_some_and(|m| is_true(case_insensitive::get(m, "primary")))
}

/// A hash consistent with `Value`'s equality: objects are `BTreeMap`s (sorted keys, so
/// equal objects iterate alike) and numbers hash by their `f64` value (`-0.0` as `0.0`).
pub(super) fn value_hash(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_into(value, &mut hasher);
    hasher.finish()
}

fn hash_into(value: &Value, hasher: &mut DefaultHasher) {
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(b) => (1u8, b).hash(hasher),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or_default();
            (2u8, if f == 0.0 { 0 } else { f.to_bits() }).hash(hasher);
        }
        Value::String(s) => (3u8, s).hash(hasher),
        Value::Array(items) => {
            (4u8, items.len()).hash(hasher);
            for item in items {
                hash_into(item, hasher);
            }
        }
        Value::Object(map) => {
            (5u8, map.len()).hash(hasher);
            for (key, item) in map {
                key.hash(hasher);
                hash_into(item, hasher);
            }
        }
    }
}
