//! Writing one attribute of the document: a whole attribute, a sub-attribute without a
//! filter, a merge into a complex value.

use serde_json::{Map, Value};

use super::index::ElementIndex;
use super::multi_valued::{
    as_elements, canonical_map, element_list, into_elements, remove_matched, value_matches,
};
use super::mutability::{check_change, check_sub_change, is_read_only, is_unassigned};
use super::values::{count_work, enforce_primary, merge_into};
use super::{Engine, OpKind};
use crate::case_insensitive;
use crate::error::ProtocolError;
use crate::filter::Filter;
use crate::schema::Mutability;
use crate::schema::{AttrType, AttributeDef, Resolved};
use crate::tolerance::Tolerance;

impl<'a> Engine<'a> {
    pub(super) fn apply_attr(
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
    #[expect(
        clippy::too_many_arguments,
        reason = "one PATCH operation's resolved parts, passed apart so the engine borrows them separately"
    )]
    pub(super) fn write_attr(
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
        let key = (res.extension, def.name.as_str());
        let appends = kind == OpKind::Add
            && filter.is_none()
            && res.sub_attribute.is_none()
            && def.multi_valued
            && def.mutability != Mutability::Immutable
            && value.is_some_and(|v| !v.is_null());
        if !appends {
            self.indexes.remove(&key);
        }
        // Keep a stored empty value as it was rather than report a change.
        let stored_empty = old.as_ref().filter(|v| is_unassigned(v)).cloned();
        if let (true, Some(value)) = (appends, value) {
            let new = self.append(key, def, old, value);
            put_value(container, def, Some(new), stored_empty);
            return Ok(());
        }
        // Only an immutable attribute's old value is looked at once the new one is made.
        let immutable_old = (def.mutability == Mutability::Immutable)
            .then(|| old.clone())
            .flatten();
        let new = match (filter, res.sub_attribute) {
            (Some(filter), sub) => self.filtered(kind, res, filter, sub, old, value, label)?,
            (None, Some(sub)) => sub_no_filter(kind, def, sub, old.as_ref(), value, label)?,
            (None, None) => self.whole(kind, def, old.as_ref(), value, remove_list, label)?,
        };
        check_change(def, immutable_old.as_ref(), new.as_ref(), label)?;
        put_value(container, def, new, stored_empty);
        Ok(())
    }

    /// `add` of values to a multi-valued attribute (no filter, no sub-attribute): values
    /// equal to an element are skipped, the others appended. Linear in the values added,
    /// whatever the attribute holds, through the attribute's [`ElementIndex`].
    fn append(
        &mut self,
        key: super::index::IndexKey<'a>,
        def: &AttributeDef,
        old: Option<Value>,
        value: &Value,
    ) -> Value {
        let fresh = !self.indexes.contains_key(&key);
        let mut elements = if fresh {
            into_elements(old)
        } else {
            // An indexed array is only appended to: take it as it is, without a pass.
            match old {
                Some(Value::Array(items)) => items,
                other => into_elements(other),
            }
        };
        let index = self
            .indexes
            .entry(key)
            .or_insert_with(|| ElementIndex::build(&elements));
        for element in element_list(def, value) {
            count_work(1);
            if !index.contains(&elements, &element) {
                index.push(&mut elements, element);
            }
        }
        Value::Array(elements)
    }

    /// An operation on a whole attribute (no sub-attribute, no filter).
    pub(super) fn whole(
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
    pub(super) fn complex_value(
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
}

/// Store `new` unless it is no value; then keep `stored_empty`, the empty value the
/// document held, if any.
fn put_value(
    container: &mut Map<String, Value>,
    def: &AttributeDef,
    new: Option<Value>,
    stored_empty: Option<Value>,
) {
    if let Some(value) = new.filter(|n| !is_unassigned(n)).or(stored_empty) {
        container.insert(def.name.clone(), value);
    }
}

/// `add` of null keeps the old value; `replace` with null unassigns it.
pub(super) fn null_write(kind: OpKind, old: Option<&Value>) -> Option<Value> {
    match kind {
        OpKind::Add => old.cloned(),
        _ => None,
    }
}

/// An operation on `attr.sub` without a filter: on a single-valued complex attribute the
/// sub-attribute of its value, on a multi-valued one that of every element.
pub(super) fn sub_no_filter(
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
