//! What a path or a path-less key names: an extension object or an attribute of the
//! resource schema (with sub-attribute and value filter), and the tolerances for keys
//! written as paths.

use std::sync::OnceLock;

use serde_json::Value;

use super::mutability::ALWAYS_READ_ONLY;
use super::{Engine, OpKind, Target};
use crate::error::ProtocolError;
use crate::filter::{self, Filter};
use crate::schema::{
    AttrPath, AttrType, AttributeDef, Mutability, Resolved, ResourceSchema, Returned, Uniqueness,
};
use crate::tolerance::Tolerance;

impl<'a> Engine<'a> {
    pub(super) fn resolve_target(&self, text: &str) -> Result<Target<'a>, ProtocolError> {
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

    pub(super) fn apply_target(
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
    pub(super) fn apply_no_path(&mut self, kind: OpKind, value: &Value) -> Result<(), ProtocolError> {
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
    pub(super) fn apply_key(
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

    pub(super) fn unknown_key(&mut self, key: &str) -> Result<(), ProtocolError> {
        if self.leniency.permit(Tolerance::UnknownAttribute) {
            Ok(())
        } else {
            Err(ProtocolError::invalid_value(format!(
                "{key:?} is not an attribute of this resource type"
            )))
        }
    }
}

pub(super) fn check_filter_target(res: &Resolved<'_>, filter: Option<&Filter>) -> Result<(), ProtocolError> {
    if filter.is_some() && !res.attribute.multi_valued {
        return Err(ProtocolError::invalid_path(format!(
            "a value filter needs a multi-valued attribute; \"{}\" is single-valued",
            res.attribute.name
        )));
    }
    Ok(())
}

/// Resolve against the schema (which holds the common attributes, see
/// [`crate::catalog::resource_schema`]). An unqualified name from
/// [`ALWAYS_READ_ONLY`] that this resource type lacks (a Group's `groups`, a User's
/// unqualified `licenses`) still resolves, to a read-only placeholder, so that writing it
/// is `mutability` like the attribute it names elsewhere rather than an unknown path.
pub(super) fn resolve_attr<'s>(schema: &'s ResourceSchema, path: &AttrPath) -> Option<Resolved<'s>> {
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
pub(super) fn read_only_placeholders() -> &'static [AttributeDef] {
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
