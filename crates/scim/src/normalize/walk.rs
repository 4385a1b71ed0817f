//! Walking one client document against its schema: each attribute's name canonicalized,
//! its value type-checked, the client profile's tolerances applied, unassigned and
//! server-owned values left out (the rules are in the parent module's docs).

use chrono::DateTime;
use serde_json::{Map, Value, json};

use crate::error::ProtocolError;
use crate::schema::{AttrType, AttributeDef, Mutability, Schema};
use crate::tolerance::{Leniency, Tolerance};

/// Where a set of attributes is declared: a schema's top level or a complex attribute.
#[derive(Clone, Copy)]
pub(super) enum Owner<'a> {
    Schema(&'a Schema),
    Complex(&'a AttributeDef),
}

impl<'a> Owner<'a> {
    fn lookup(self, name: &str) -> Option<&'a AttributeDef> {
        match self {
            Owner::Schema(schema) => schema.attribute(name),
            Owner::Complex(attr) => attr.sub_attribute(name),
        }
    }

    fn attributes(self) -> &'a [AttributeDef] {
        match self {
            Owner::Schema(schema) => &schema.attributes,
            Owner::Complex(attr) => &attr.sub_attributes,
        }
    }
}

/// Walks one client document, recording the tolerances it needs.
pub(super) struct Normalizer<'l> {
    pub(super) leniency: &'l mut Leniency,
}

impl Normalizer<'_> {
    /// An extension's object; `None` when it assigns nothing.
    pub(super) fn extension(
        &mut self,
        extension: &Schema,
        value: Value,
    ) -> Result<Option<Value>, ProtocolError> {
        match value {
            Value::Null => Ok(None),
            Value::Object(map) => {
                let prefix = format!("{}:", extension.id);
                let object = self.object(map, Owner::Schema(extension), &prefix)?;
                Ok((!object.is_empty()).then_some(Value::Object(object)))
            }
            _ => Err(ProtocolError::invalid_value(format!(
                "{} must be an object holding the extension's attributes",
                extension.id
            ))),
        }
    }

    /// The attributes of one JSON object, canonicalized; `prefix` qualifies names in
    /// error details (`""`, `"emails."`, `"urn:…:User:"`).
    pub(super) fn object(
        &mut self,
        map: Map<String, Value>,
        owner: Owner<'_>,
        prefix: &str,
    ) -> Result<Map<String, Value>, ProtocolError> {
        let mut out = Map::new();
        for (key, value) in map {
            let Some(def) = owner.lookup(&key) else {
                self.unknown(&format!("{prefix}{key}"))?;
                continue;
            };
            let label = format!("{prefix}{}", def.name);
            if let Some(value) = self.attribute(def, value, &label)? {
                insert_once(&mut out, &def.name, &label, value)?;
            }
        }
        if let Some(missing) = owner.attributes().iter().find(|def| {
            def.required && def.mutability != Mutability::ReadOnly && !out.contains_key(&def.name)
        }) {
            return Err(ProtocolError::invalid_value(format!(
                "{prefix}{} is required",
                missing.name
            )));
        }
        Ok(out)
    }

    fn unknown(&mut self, label: &str) -> Result<(), ProtocolError> {
        if self.leniency.permit(Tolerance::UnknownAttribute) {
            Ok(())
        } else {
            Err(ProtocolError::invalid_value(format!(
                "{label} is not an attribute of this resource's schemas"
            )))
        }
    }

    /// One attribute's value; `None` when it is unassigned or the server ignores it.
    fn attribute(
        &mut self,
        def: &AttributeDef,
        value: Value,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            return Ok(None);
        }
        if !def.multi_valued {
            return self.single(def, value, label);
        }
        match value {
            Value::Null => Ok(None),
            Value::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.extend(self.single(def, item, label)?);
                }
                Ok((!values.is_empty()).then_some(Value::Array(values)))
            }
            _ => Err(ProtocolError::invalid_value(format!(
                "{label} is multi-valued: expected an array"
            ))),
        }
    }

    /// A single value (or one element of a multi-valued attribute).
    fn single(
        &mut self,
        def: &AttributeDef,
        value: Value,
        label: &str,
    ) -> Result<Option<Value>, ProtocolError> {
        match (def.attr_type, value) {
            (_, Value::Null) => Ok(None),
            (AttrType::Complex, Value::Object(map)) => {
                let object = self.object(map, Owner::Complex(def), &format!("{label}."))?;
                Ok((!object.is_empty()).then_some(Value::Object(object)))
            }
            (AttrType::Complex, Value::String(id))
                if is_manager(def) && self.leniency.permit(Tolerance::ManagerAsString) =>
            {
                Ok(Some(json!({ "value": id })))
            }
            (_, value) => self.scalar(def.attr_type, value, label).map(Some),
        }
    }

    fn scalar(&mut self, attr_type: AttrType, value: Value, label: &str) -> Result<Value, ProtocolError> {
        let valid = match (attr_type, &value) {
            // U+0000: Postgres text and jsonb cannot store it (and filters refuse it).
            (_, Value::String(s)) if s.contains('\0') => false,
            (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => true,
            (AttrType::Boolean, Value::Bool(_)) => true,
            (AttrType::Boolean, Value::String(s)) => match string_boolean(s) {
                Some(b) if self.leniency.permit(Tolerance::StringBoolean) => {
                    return Ok(Value::Bool(b));
                }
                _ => false,
            },
            (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (AttrType::Decimal, Value::Number(_)) => true,
            (AttrType::DateTime, Value::String(s)) => DateTime::parse_from_rfc3339(s).is_ok(),
            _ => false,
        };
        if valid {
            Ok(value)
        } else {
            Err(ProtocolError::invalid_value(format!(
                "{label} must be {}, not {}",
                expected(attr_type),
                describe(&value)
            )))
        }
    }
}

/// The enterprise extension's `manager`, the one complex attribute Entra sends as a
/// bare id string. No other schema here has an attribute of that name.
fn is_manager(def: &AttributeDef) -> bool {
    def.name == "manager" && def.sub_attribute("value").is_some()
}

fn string_boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn expected(attr_type: AttrType) -> &'static str {
    match attr_type {
        AttrType::String => "a string",
        AttrType::Reference => "a reference (URI string)",
        AttrType::Binary => "a base64 string",
        AttrType::Boolean => "a boolean",
        AttrType::Integer => "an integer",
        AttrType::Decimal => "a number",
        AttrType::DateTime => "an RFC 3339 date-time string such as 2008-01-23T04:56:22Z",
        AttrType::Complex => "an object",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\0') => "a string containing U+0000".to_owned(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

/// Insert `value` under its canonical `key`, refusing a second key that names the same
/// attribute in another case.
pub(super) fn insert_once(
    map: &mut Map<String, Value>,
    key: &str,
    label: &str,
    value: Value,
) -> Result<(), ProtocolError> {
    if map.contains_key(key) {
        return Err(ProtocolError::invalid_syntax(format!(
            "{label} is given more than once (attribute names are case-insensitive)"
        )));
    }
    map.insert(key.to_owned(), value);
    Ok(())
}
