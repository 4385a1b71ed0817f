//! SCIM schemas as data (RFC 7643 §7): attribute definitions and the lookups that the
//! filter evaluator, the PATCH engine and response projection need.
//!
//! This file is the contract between the protocol modules; keep it pure (no I/O).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ProtocolError;

/// A reference to an attribute as written by a client in a filter, a PATCH path, `sortBy`
/// or `attributes`: `[urn ":"] name ["." sub]`. Names keep the client's spelling; they are
/// matched case-insensitively (RFC 7643 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// Schema URN prefix when the client wrote a fully qualified name, e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: None,
        }
    }

    pub fn with_sub(name: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            name: name.into(),
            sub: Some(sub.into()),
        }
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

/// One attribute definition, in the JSON shape RFC 7643 §7 uses for `/Schemas`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDef {
    pub name: String,
    #[serde(rename = "type")]
    pub attr_type: AttrType,
    pub multi_valued: bool,
    #[serde(default)]
    pub description: String,
    pub required: bool,
    #[serde(default)]
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    #[serde(default = "uniqueness_none")]
    pub uniqueness: Uniqueness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<AttributeDef>,
}

fn uniqueness_none() -> Uniqueness {
    Uniqueness::None
}

impl AttributeDef {
    pub fn sub_attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A schema (RFC 7643 §7): its URN and top-level attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub attributes: Vec<AttributeDef>,
}

impl Schema {
    pub fn attribute(&self, name: &str) -> Option<&AttributeDef> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A resource type's schemas: the core schema plus its extensions. This is what the
/// protocol modules resolve attribute paths against.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    pub core: Schema,
    pub extensions: Vec<Schema>,
}

/// Where an attribute path lives in a resource's JSON document.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved<'a> {
    /// `None` for a core attribute (a top-level key); `Some(urn)` for an extension
    /// attribute, stored under the key `urn` (the extension's schema id, as declared).
    pub extension: Option<&'a str>,
    /// The top-level attribute definition (`path.name`).
    pub attribute: &'a AttributeDef,
    /// The sub-attribute definition when `path.sub` is set.
    pub sub_attribute: Option<&'a AttributeDef>,
}

impl<'a> Resolved<'a> {
    /// The definition the path ends at: the sub-attribute if there is one.
    pub fn target(&self) -> &'a AttributeDef {
        self.sub_attribute.unwrap_or(self.attribute)
    }
}

impl ResourceSchema {
    /// The schema with this URN (case-insensitive), core or extension.
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        std::iter::once(&self.core)
            .chain(self.extensions.iter())
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolve a path against the schemas. An unqualified name, or one qualified with the
    /// core URN, is a core attribute; a name qualified with an extension URN lives under
    /// that extension. A sub-attribute that the definition does not declare is unknown.
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved<'_>> {
        let (extension, schema) = match &path.urn {
            None => (None, &self.core),
            Some(urn) if urn.eq_ignore_ascii_case(&self.core.id) => (None, &self.core),
            Some(urn) => {
                let ext = self.extensions.iter().find(|s| s.id.eq_ignore_ascii_case(urn))?;
                (Some(ext.id.as_str()), ext)
            }
        };
        let attribute = schema.attribute(&path.name)?;
        let sub_attribute = match &path.sub {
            None => None,
            Some(sub) => Some(attribute.sub_attribute(sub)?),
        };
        Some(Resolved {
            extension,
            attribute,
            sub_attribute,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Additions beyond the contract: parsing attribute paths and building documents.
// ---------------------------------------------------------------------------------------

impl AttrPath {
    /// Parse a plain attribute path (RFC 7644 §3.10 without value filters):
    /// `userName`, `name.givenName`, `urn:…:enterprise:2.0:User:manager.value`, or a bare
    /// schema URN such as `urn:…:enterprise:2.0:User`.
    ///
    /// A string starting with `urn:` is split at its last `:`: the URN is everything
    /// before it. The parse is purely syntactic, so a bare schema URN comes back as
    /// `urn: "urn:…:2.0", name: "User"`; [`ResourceSchema::schema_named_by`] recognises it.
    /// Names follow RFC 7643 §2.1 `ATTRNAME` (plus `$ref`). Errors are `invalidPath`.
    pub fn parse(text: &str) -> Result<AttrPath, ProtocolError> {
        let fail = |why: &str| ProtocolError::invalid_path(format!("invalid attribute path {text:?}: {why}"));
        let (urn, rest) = match split_urn(text) {
            Some((urn, _)) if urn.len() <= URN_PREFIX.len() => {
                return Err(fail("the URN is empty"));
            }
            Some((urn, rest)) => (Some(urn.to_owned()), rest),
            None => (None, text),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if !is_attr_name(name) || !sub.is_none_or(is_attr_name) {
            return Err(fail(
                "expected name or name.subAttribute, each a letter followed by letters, digits, '-' or '_'",
            ));
        }
        Ok(AttrPath {
            urn,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }
}

const URN_PREFIX: &str = "urn:";

/// `(urn, rest)` when `text` starts with `urn:` (case-insensitively) and has a `:` after it.
fn split_urn(text: &str) -> Option<(&str, &str)> {
    let prefix = text.get(..URN_PREFIX.len())?;
    if !prefix.eq_ignore_ascii_case(URN_PREFIX) {
        return None;
    }
    text.rsplit_once(':')
}

/// RFC 7643 §2.1: `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`;
/// `$ref` is the one reserved name outside that grammar.
fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    name == "$ref"
        || chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl ResourceSchema {
    /// The extension schema with this URN (case-insensitive); `None` for the core URN.
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions.iter().find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// The schema a path names as a whole (`attributes=urn:…:enterprise:2.0:User`), core
    /// or extension. [`AttrPath::parse`] splits such a URN into `urn` + `name`, so the
    /// two are joined back here.
    pub fn schema_named_by(&self, path: &AttrPath) -> Option<&Schema> {
        match (&path.urn, &path.sub) {
            (Some(urn), None) => self.schema(&format!("{urn}:{}", path.name)),
            _ => None,
        }
    }

    /// A resource document from its attributes, with `schemas` first: the core URN,
    /// then every extension whose object is present (keyed by its declared URN, as the
    /// protocol modules always store it). Clients read `schemas` to know which
    /// extensions a resource carries, so it lists exactly those with data.
    pub fn document(&self, attributes: Map<String, Value>) -> Value {
        let urns = std::iter::once(&self.core)
            .chain(self.extensions.iter().filter(|e| attributes.contains_key(&e.id)))
            .map(|s| Value::String(s.id.clone()))
            .collect();
        let mut doc = Map::with_capacity(attributes.len() + 1);
        doc.insert("schemas".to_owned(), Value::Array(urns));
        doc.extend(attributes);
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user_schema() -> ResourceSchema {
        let core: Schema = serde_json::from_value(json!({
            "id": "urn:ietf:params:scim:schemas:core:2.0:User",
            "name": "User",
            "attributes": [
                {"name": "userName", "type": "string", "multiValued": false, "required": true,
                 "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "server"},
                {"name": "name", "type": "complex", "multiValued": false, "required": false,
                 "mutability": "readWrite", "returned": "default",
                 "subAttributes": [
                    {"name": "givenName", "type": "string", "multiValued": false, "required": false,
                     "mutability": "readWrite", "returned": "default"}
                 ]}
            ]
        }))
        .expect("valid schema");
        let enterprise: Schema = serde_json::from_value(json!({
            "id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "name": "EnterpriseUser",
            "attributes": [
                {"name": "department", "type": "string", "multiValued": false, "required": false,
                 "mutability": "readWrite", "returned": "default"}
            ]
        }))
        .expect("valid schema");
        ResourceSchema {
            core,
            extensions: vec![enterprise],
        }
    }

    #[test]
    fn resolves_core_extension_and_sub_attributes_case_insensitively() {
        let schema = user_schema();
        let r = schema.resolve(&AttrPath::new("USERNAME")).expect("core");
        assert_eq!(r.extension, None);
        assert_eq!(r.target().name, "userName");

        let r = schema
            .resolve(&AttrPath::with_sub("Name", "GIVENNAME"))
            .expect("sub");
        assert_eq!(r.target().name, "givenName");

        let path = AttrPath {
            urn: Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user".into()),
            name: "department".into(),
            sub: None,
        };
        let r = schema.resolve(&path).expect("extension");
        assert_eq!(
            r.extension,
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );

        assert!(schema.resolve(&AttrPath::new("nope")).is_none());
        assert!(schema.resolve(&AttrPath::with_sub("name", "nope")).is_none());
    }

    #[test]
    fn parses_plain_and_urn_qualified_paths() {
        let parse = |text: &str| AttrPath::parse(text).expect(text);
        assert_eq!(parse("userName"), AttrPath::new("userName"));
        assert_eq!(parse("name.givenName"), AttrPath::with_sub("name", "givenName"));
        assert_eq!(parse("members.$ref"), AttrPath::with_sub("members", "$ref"));
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let manager = parse(&format!("{enterprise}:manager.value"));
        assert_eq!(manager.urn.as_deref(), Some(enterprise));
        assert_eq!(
            (manager.name.as_str(), manager.sub.as_deref()),
            ("manager", Some("value"))
        );
        let core = parse("URN:ietf:params:scim:schemas:core:2.0:User:name.familyName");
        assert_eq!(
            core.urn.as_deref(),
            Some("URN:ietf:params:scim:schemas:core:2.0:User")
        );
        for text in [
            "userName",
            "name.givenName",
            &format!("{enterprise}:manager.value"),
        ] {
            assert_eq!(parse(text).to_string(), text, "Display round-trips");
        }
    }

    #[test]
    fn rejects_malformed_paths_as_invalid_path() {
        for text in [
            "",
            " userName",
            "1name",
            "name.",
            ".name",
            "a.b.c",
            "emails[type eq \"work\"]",
            "urn:",
            "urn:x",
            "urn:a:b:",
            "user name",
            "na$me",
            "$refs",
        ] {
            let error = AttrPath::parse(text).expect_err(text);
            assert_eq!(error.scim_type, crate::error::ScimType::InvalidPath, "{text}");
        }
    }

    #[test]
    fn a_bare_schema_urn_names_the_whole_schema() {
        let schema = user_schema();
        let path =
            AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:USER").expect("valid");
        assert!(schema.resolve(&path).is_none());
        let named = schema.schema_named_by(&path).expect("extension");
        assert_eq!(named.name, "EnterpriseUser");
        let core = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User").expect("valid");
        assert_eq!(
            schema.schema_named_by(&core).map(|s| s.name.as_str()),
            Some("User")
        );
        let attribute =
            AttrPath::parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
                .expect("valid");
        assert!(schema.schema_named_by(&attribute).is_none());
        assert!(schema.extension(&schema.core.id).is_none());
    }

    #[test]
    fn documents_list_the_extensions_that_have_data() {
        let schema = user_schema();
        let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mut attributes = Map::new();
        attributes.insert("userName".into(), json!("b"));
        assert_eq!(
            schema.document(attributes.clone()),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "b"})
        );
        attributes.insert(enterprise.into(), json!({"department": "x"}));
        assert_eq!(
            schema.document(attributes)["schemas"],
            json!(["urn:ietf:params:scim:schemas:core:2.0:User", enterprise])
        );
    }
}
