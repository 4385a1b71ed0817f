//! The values of multi-valued attributes: value filters (matching, creating the element
//! a filter describes), element lists, remove-by-value and the single `primary`.

use serde_json::{Map, Value};

use super::mutability::check_sub_change;
use super::values::{count_work, enforce_primary, merge_into};
use super::{Engine, OpKind};
use crate::case_insensitive;
use crate::error::ProtocolError;
use crate::filter::{self, CompareOp, Filter};
use crate::schema::{AttrPath, AttrType, AttributeDef, Resolved};
use crate::tolerance::Tolerance;

impl<'a> Engine<'a> {
    /// An operation on a multi-valued attribute through a value filter.
    #[expect(
        clippy::too_many_arguments,
        reason = "one PATCH operation's resolved parts, passed apart so the engine borrows them separately"
    )]
    pub(super) fn filtered(
        &mut self,
        kind: OpKind,
        res: &Resolved<'a>,
        filter: &Filter,
        sub: Option<&AttributeDef>,
        old: Option<Value>,
        value: Option<&Value>,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        let def = res.attribute;
        let attr = AttrPath {
            urn: res.extension.map(str::to_string),
            name: def.name.clone(),
            sub: None,
        };
        let stored: &[Value] = match &old {
            None | Some(Value::Null) => &[],
            Some(Value::Array(items)) => items,
            Some(other) => std::slice::from_ref(other),
        };
        count_work(stored.len());
        let matched: Vec<usize> = stored
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
                let mut elements = into_elements(old);
                remove_matched(&mut elements, &matched, sub, label)?;
                return Ok(Some(Value::Array(elements)));
            }
            (_, None | Some(Value::Null)) => {
                if kind == OpKind::Replace && !matched.is_empty() {
                    let mut elements = into_elements(old);
                    remove_matched(&mut elements, &matched, sub, label)?;
                    return Ok(Some(Value::Array(elements)));
                }
                return Ok(old);
            }
            (_, Some(value)) => value,
        };
        let mut elements = into_elements(old);
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
}

/// Remove the matched elements (`matched`: ascending positions), or only their `sub`
/// sub-attribute (dropping elements left empty).
pub(super) fn remove_matched(
    elements: &mut Vec<Value>,
    matched: &[usize],
    sub: Option<&AttributeDef>,
    label: &str,
) -> Result<(), ProtocolError> {
    match sub {
        None => {
            // `matched` is ascending: walk it alongside the elements.
            count_work(elements.len());
            let mut matched = matched.iter().peekable();
            let mut index = 0;
            elements.retain(|_| {
                let drop = matched.next_if_eq(&&index).is_some();
                index += 1;
                !drop
            });
        }
        Some(sub) => {
            count_work(elements.len());
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

/// Collect the `eq` comparisons of a filter made only of `eq` joined by `and` into
/// `element` (canonical sub-attribute names); false if the filter has any other shape.
pub(super) fn filter_equalities(
    filter: &Filter,
    def: &AttributeDef,
    element: &mut Map<String, Value>,
) -> bool {
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

/// The values of an `add`/`replace`/`remove` on a multi-valued attribute: the array's
/// elements or the single value, canonicalised, nulls dropped.
pub(super) fn element_list(def: &AttributeDef, value: &Value) -> Vec<Value> {
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
pub(super) fn canonical_map(
    def: &AttributeDef,
    map: &Map<String, Value>,
    keep_nulls: bool,
) -> Map<String, Value> {
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

pub(super) fn as_elements(old: Option<&Value>) -> Vec<Value> {
    into_elements(old.cloned())
}

pub(super) fn into_elements(old: Option<Value>) -> Vec<Value> {
    let elements = match old {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
    };
    count_work(elements.len());
    elements
}

/// Does `pattern` (from a remove value list) name `element`? Objects: every member of a
/// non-empty pattern is equal in the element (names case-insensitive); else equality.
pub(super) fn value_matches(pattern: &Value, element: &Value) -> bool {
    match (pattern, element) {
        (Value::Object(p), Value::Object(e)) => {
            !p.is_empty() && p.iter().all(|(k, v)| case_insensitive::get(e, k) == Some(v))
        }
        (p, e) => p == e,
    }
}
