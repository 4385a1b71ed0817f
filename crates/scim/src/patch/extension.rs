//! Extension objects: writing or removing one as a whole, and the container (core
//! document or extension object) an attribute is written in.

use serde_json::{Map, Value};

use super::mutability::{check_change, is_unassigned};
use super::{Engine, OpKind};
use crate::case_insensitive;
use crate::error::ProtocolError;
use crate::schema::{Mutability, Schema};

impl<'a> Engine<'a> {
    pub(super) fn apply_extension(
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
                    if key.eq_ignore_ascii_case("schemas") && self.names_own_schemas(value) {
                        continue;
                    }
                    self.apply_key(kind, key, value, Some(ext.id.as_str()))?;
                }
                Ok(())
            }
            (_, Some(_)) => Err(ProtocolError::invalid_value(format!(
                "{label:?} is an extension: its value must be an object of attributes"
            ))),
        }
    }

    /// A `schemas` member inside an extension value that names only this resource
    /// type's own schemas (a copied resource fragment) says nothing to write: harmless,
    /// so every profile, `strict` too, skips it. Anything else in `schemas` is an
    /// unknown attribute.
    fn names_own_schemas(&self, value: &Value) -> bool {
        let known = |urn: &str| {
            urn.eq_ignore_ascii_case(&self.schema.core.id)
                || self
                    .schema
                    .extensions
                    .iter()
                    .any(|e| e.id.eq_ignore_ascii_case(urn))
        };
        value
            .as_array()
            .is_some_and(|urns| urns.iter().all(|u| u.as_str().is_some_and(known)))
    }

    pub(super) fn remove_extension(&mut self, ext: &Schema, label: &str) -> Result<(), ProtocolError> {
        // An extension the server maintains entirely (e.g. the license extension) is
        // readOnly as a whole: removing it is refused when it holds a value, and changes
        // nothing when it holds none, as adding or replacing it with an empty value does
        // (RFC 7643 §2.5: unassigned and empty are equivalent in state).
        if ext
            .attributes
            .iter()
            .all(|a| a.mutability == Mutability::ReadOnly)
        {
            let held = case_insensitive::get(&self.doc, &ext.id)
                .and_then(Value::as_object)
                .is_some_and(|attributes| attributes.values().any(|v| !is_unassigned(v)));
            if !held {
                return Ok(());
            }
            return Err(ProtocolError::mutability(format!(
                "{label:?} has only readOnly attributes: the server maintains it"
            )));
        }
        self.indexes
            .retain(|(extension, _), _| *extension != Some(ext.id.as_str()));
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

    /// Take out the object holding the attributes of `extension` (the whole document for
    /// core); [`Engine::put_container`] puts it back under the canonical key.
    pub(super) fn take_container(&mut self, extension: Option<&str>) -> Map<String, Value> {
        match extension {
            None => std::mem::take(&mut self.doc),
            Some(urn) => match case_insensitive::take(&mut self.doc, urn) {
                Some(Value::Object(map)) => map,
                _ => Map::new(),
            },
        }
    }

    pub(super) fn put_container(&mut self, extension: Option<&str>, container: Map<String, Value>) {
        match extension {
            None => self.doc = container,
            Some(urn) => {
                self.doc.insert(urn.to_string(), Value::Object(container));
            }
        }
    }

    /// Drop extension objects this PATCH left empty (an extension with no attribute has
    /// no value), keeping an empty one the stored document already had.
    pub(super) fn drop_emptied_extensions(&mut self, original: &Map<String, Value>) {
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
}
