//! Deferred attributes (a Group's `members`): operations handed back as
//! [`DeferredOp`]s instead of applied to the document.

use serde_json::Value;

use super::index::ElementIndex;
use super::multi_valued::element_list;
use super::{DeferredOp, Engine, OpKind};
use crate::error::ProtocolError;
use crate::filter::Filter;
use crate::schema::{AttrType, AttributeDef, Resolved};

impl<'a> Engine<'a> {
    pub(super) fn is_deferred(&self, def: &AttributeDef) -> bool {
        self.deferred_attributes
            .iter()
            .any(|d| d.eq_ignore_ascii_case(&def.name))
    }

    pub(super) fn apply_deferred(
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

pub(super) fn deferred_items(
    def: &AttributeDef,
    value: &Value,
    label: &str,
) -> Result<Vec<Value>, ProtocolError> {
    let mut items: Vec<Value> = Vec::new();
    let mut index = ElementIndex::default();
    for item in element_list(def, value) {
        if !index.contains(&items, &item) {
            index.push(&mut items, item);
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
