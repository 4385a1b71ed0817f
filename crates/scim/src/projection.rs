//! Which attributes a response carries: the `attributes` and `excludedAttributes`
//! parameters (RFC 7644 §3.4.2.5, §3.9) combined with each attribute's `returned`
//! characteristic (RFC 7643 §2.4).
//!
//! Rules, applied per attribute and then per sub-attribute:
//! - `returned: never` is never present (`password`); `always` always is (`id`; `schemas`
//!   is rebuilt for every response), and `excludedAttributes` cannot remove it.
//! - `default` is present unless `attributes` is given and does not name it, or
//!   `excludedAttributes` names it.
//! - `request` is present only when `attributes` names it.
//! - Naming a parent (`name`) selects its whole value; naming a sub-attribute
//!   (`name.givenName`, `emails.value`) keeps only the named sub-attributes, in every
//!   element of a multi-valued attribute. Excluding a sub-attribute removes just that.
//! - A bare schema URN names every attribute of that schema (`excludedAttributes` with
//!   the enterprise URN drops the whole extension).
//! - When both parameters are given, `attributes` selects first and
//!   `excludedAttributes` then removes (RFC 7644 does not forbid combining them).
//! - Names match case-insensitively; names the schema does not define are ignored, as
//!   RFC 7644 §3.4.2.5 has no error for them.
//! - Keys of the resource that the schema does not define are dropped, and a complex
//!   value left with no sub-attribute is dropped with them: a response only carries
//!   schema attributes.
//! - `schemas` lists the core URN and exactly the extensions whose object is still
//!   present after projection, so it never announces an extension the body lacks.

use serde_json::{Map, Value};

use super::error::ProtocolError;
use super::schema::{AttrPath, AttrType, AttributeDef, ResourceSchema, Returned, Schema};

/// Parse an `attributes` or `excludedAttributes` parameter: comma-separated paths,
/// surrounding whitespace and empty items ignored. A malformed path is `invalidPath`,
/// the type RFC 7644 §3.12 gives a malformed attribute path (there is none specific to
/// these parameters).
/// A malformed name is `invalidValue`: RFC 7644 §3.12 keeps `invalidPath` for the PATCH
/// `path` attribute, and these are query parameter values.
pub fn parse_attribute_list(list: &str) -> Result<Vec<AttrPath>, ProtocolError> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            AttrPath::parse(item).map_err(|e| {
                ProtocolError::invalid_value(format!("attributes/excludedAttributes: {}", e.detail))
            })
        })
        .collect()
}

/// The response representation of a stored `resource` under the request's
/// `attributes` / `excludedAttributes` (see the module docs for the rules).
pub fn project(
    resource: &Value,
    schema: &ResourceSchema,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> Value {
    let projection = Projection {
        schema,
        attributes,
        excluded,
    };
    let out = resource
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| match schema.extension(key) {
            Some(extension) => projection
                .extension(extension, value)
                .map(|kept| (extension.id.clone(), kept)),
            None => {
                let attr = schema.core.attribute(key)?;
                projection
                    .attribute(&schema.core, attr, value)
                    .map(|kept| (attr.name.clone(), kept))
            }
        })
        .collect();
    schema.document(out)
}

/// Whether a response would carry any part of the top-level attribute `name` (a plain
/// path such as `members` or `urn:…:User:manager`; a sub-attribute part is ignored).
/// Lets the store skip loading an expensive attribute, e.g. group `members` under
/// `excludedAttributes=members`. Unknown or malformed names are never needed.
pub fn needs_attribute(
    schema: &ResourceSchema,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
    name: &str,
) -> bool {
    let Ok(path) = AttrPath::parse(name) else {
        return false;
    };
    let Some(resolved) = schema.resolve(&path) else {
        return false;
    };
    let owner = resolved
        .extension
        .and_then(|urn| schema.extension(urn))
        .unwrap_or(&schema.core);
    let projection = Projection {
        schema,
        attributes,
        excluded,
    };
    projection.select(owner, resolved.attribute).is_some()
}

/// One request's attribute parameters, resolved against a resource schema.
struct Projection<'a> {
    schema: &'a ResourceSchema,
    attributes: &'a [AttrPath],
    excluded: &'a [AttrPath],
}

impl<'a> Projection<'a> {
    fn extension(&self, extension: &Schema, value: &Value) -> Option<Value> {
        let kept: Map<_, _> = value
            .as_object()?
            .iter()
            .filter_map(|(key, value)| {
                let attr = extension.attribute(key)?;
                let kept = self.attribute(extension, attr, value)?;
                Some((attr.name.clone(), kept))
            })
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    }

    fn attribute(&self, owner: &Schema, attr: &AttributeDef, value: &Value) -> Option<Value> {
        let selection = self.select(owner, attr)?;
        if attr.attr_type != AttrType::Complex {
            return Some(value.clone());
        }
        match value {
            Value::Array(items) => {
                let kept: Vec<_> = items.iter().filter_map(|v| selection.complex(attr, v)).collect();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            single => selection.complex(attr, single),
        }
    }

    /// How much of `attr` (declared in `owner`) the response keeps; `None` for nothing.
    fn select(&self, owner: &Schema, attr: &'a AttributeDef) -> Option<Selection<'a>> {
        let chosen = self.mention(self.attributes, owner, attr);
        let excluded = self.mention(self.excluded, owner, attr);
        let included = match attr.returned {
            Returned::Never => return None,
            Returned::Always => {
                return Some(Selection {
                    chosen,
                    excluded: Mention::Absent,
                });
            }
            Returned::Default if self.attributes.is_empty() => true,
            Returned::Default | Returned::Request => chosen != Mention::Absent,
        };
        (included && excluded != Mention::Whole).then_some(Selection { chosen, excluded })
    }

    /// How `paths` name `attr`: as a whole (itself or its whole schema), through some of
    /// its sub-attributes, or not at all.
    fn mention(&self, paths: &[AttrPath], owner: &Schema, attr: &'a AttributeDef) -> Mention<'a> {
        let mut subs = Vec::new();
        for path in paths {
            if self
                .schema
                .schema_named_by(path)
                .is_some_and(|s| std::ptr::eq(s, owner))
            {
                return Mention::Whole;
            }
            let Some(resolved) = self.schema.resolve(path) else {
                continue;
            };
            if std::ptr::eq(resolved.attribute, attr) {
                match resolved.sub_attribute {
                    None => return Mention::Whole,
                    Some(sub) => subs.push(sub),
                }
            }
        }
        if subs.is_empty() {
            Mention::Absent
        } else {
            Mention::Subs(subs)
        }
    }
}

#[derive(Debug, PartialEq)]
enum Mention<'a> {
    Absent,
    Whole,
    Subs(Vec<&'a AttributeDef>),
}

impl Mention<'_> {
    fn names(&self, sub: &AttributeDef) -> bool {
        matches!(self, Mention::Subs(subs) if subs.iter().any(|s| std::ptr::eq(*s, sub)))
    }
}

/// A kept attribute, with how `attributes` and `excludedAttributes` named it.
struct Selection<'a> {
    chosen: Mention<'a>,
    excluded: Mention<'a>,
}

impl Selection<'_> {
    fn keeps(&self, sub: &AttributeDef) -> bool {
        let chosen = match sub.returned {
            Returned::Never => return false,
            Returned::Always => return true,
            Returned::Default => !matches!(self.chosen, Mention::Subs(_)) || self.chosen.names(sub),
            Returned::Request => self.chosen.names(sub),
        };
        chosen && !self.excluded.names(sub)
    }

    /// One complex value with only the kept sub-attributes; `None` when nothing is left.
    fn complex(&self, attr: &AttributeDef, value: &Value) -> Option<Value> {
        let kept: Map<_, _> = value
            .as_object()?
            .iter()
            .filter_map(|(key, value)| {
                let sub = attr.sub_attribute(key)?;
                self.keeps(sub).then(|| (sub.name.clone(), value.clone()))
            })
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ENTERPRISE_USER, LICENSE_USER, USER, group_schema, user_schema};
    use crate::error::ScimType;
    use crate::fixtures::{rfc_enterprise_user, thing_schema};
    use proptest::prelude::*;
    use serde_json::json;

    fn paths(list: &str) -> Vec<AttrPath> {
        parse_attribute_list(list).expect("valid list")
    }

    /// The RFC 7643 §8.3 user as the store would hold it, with a license.
    fn stored_user() -> Value {
        let mut user = rfc_enterprise_user();
        user[LICENSE_USER] = json!({"licenses": [{"product": "sales_navigator", "state": "assigned"}]});
        user["schemas"] = json!([USER, ENTERPRISE_USER, LICENSE_USER]);
        user
    }

    fn user(attributes: &str, excluded: &str) -> Value {
        project(
            &stored_user(),
            user_schema(),
            &paths(attributes),
            &paths(excluded),
        )
    }

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<_> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn attribute_lists_are_comma_separated_and_whitespace_tolerant() {
        let list = paths(
            " userName ,name.givenName,, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value ",
        );
        assert_eq!(list.len(), 3);
        assert_eq!(list[1], AttrPath::with_sub("name", "givenName"));
        assert_eq!(list[2].urn.as_deref(), Some(ENTERPRISE_USER));
        assert!(paths("").is_empty());
        let error = parse_attribute_list("userName,emails[type eq \"work\"]").expect_err("filter");
        assert_eq!(error.scim_type, ScimType::InvalidValue);
    }

    #[test]
    fn default_projection_returns_everything_but_password() {
        let projected = user("", "");
        let mut expected = stored_user();
        expected.as_object_mut().expect("object").remove("password");
        assert_eq!(projected, expected);
    }

    #[test]
    fn attributes_keep_only_the_named_ones_plus_always_returned() {
        let projected = user("userName", "");
        assert_eq!(
            projected,
            json!({"schemas": [USER], "id": "2819c223-7f76-453a-919d-413861904646",
                   "userName": "bjensen@example.com"})
        );
        assert_eq!(
            keys(&user("USERNAME,Name", "")),
            ["id", "name", "schemas", "userName"]
        );
        assert_eq!(user("name", "")["name"], stored_user()["name"]);
    }

    #[test]
    fn naming_a_sub_attribute_keeps_only_it() {
        assert_eq!(
            user("name.givenName", "")["name"],
            json!({"givenName": "Barbara"})
        );
        assert_eq!(
            user("emails.value", "")["emails"],
            json!([{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}])
        );
        assert_eq!(
            user("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "")["name"],
            json!({"familyName": "Jensen"})
        );
        assert_eq!(
            user("meta.lastModified", "")["meta"],
            json!({"lastModified": "2011-05-13T04:42:34Z"})
        );
        let photos = user("photos.type", "")["photos"].clone();
        assert_eq!(photos, json!([{"type": "photo"}, {"type": "thumbnail"}]));
    }

    #[test]
    fn extension_attributes_and_schemas_follow_what_is_present() {
        let department = user(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "",
        );
        assert_eq!(
            department[ENTERPRISE_USER],
            json!({"department": "Tour Operations"})
        );
        assert_eq!(department["schemas"], json!([USER, ENTERPRISE_USER]));

        let manager = user(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:MANAGER.value",
            "",
        );
        assert_eq!(
            manager[ENTERPRISE_USER],
            json!({"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}})
        );

        let whole = user(ENTERPRISE_USER, "");
        assert_eq!(whole[ENTERPRISE_USER], stored_user()[ENTERPRISE_USER]);
        assert_eq!(keys(&whole), ["id", "schemas", ENTERPRISE_USER]);

        let without = user("", ENTERPRISE_USER);
        assert!(without.get(ENTERPRISE_USER).is_none());
        assert_eq!(without["schemas"], json!([USER, LICENSE_USER]));
    }

    #[test]
    fn excluded_attributes_remove_default_ones_but_never_always_ones() {
        let projected = user("", "emails, id, name.givenName, schemas, password");
        assert!(projected.get("emails").is_none());
        assert_eq!(projected["id"], "2819c223-7f76-453a-919d-413861904646");
        assert_eq!(projected["schemas"], json!([USER, ENTERPRISE_USER, LICENSE_USER]));
        assert!(projected["name"].get("givenName").is_none());
        assert_eq!(projected["name"]["familyName"], "Jensen");
        assert!(user("", "meta")["meta"].is_null());
    }

    #[test]
    fn password_is_never_returned_even_when_asked_for() {
        assert!(user("password", "")["password"].is_null());
        assert!(user("urn:ietf:params:scim:schemas:core:2.0:User", "")["password"].is_null());
    }

    #[test]
    fn unknown_names_are_ignored() {
        assert_eq!(keys(&user("bogus,name.bogus,urn:x:y:z", "")), ["id", "schemas"]);
        assert_eq!(user("", "bogus,urn:x:y:z"), user("", ""));
    }

    #[test]
    fn both_parameters_select_then_exclude() {
        assert_eq!(user("name", "name.givenName")["name"].get("givenName"), None);
        assert_eq!(keys(&user("name,emails", "emails")), ["id", "name", "schemas"]);
    }

    #[test]
    fn request_attributes_need_naming() {
        let thing = thing_schema();
        let stored = json!({"id": "1", "count": 2, "secret": "s", "settings": {"note": "n", "secret": "t"}});
        let project_thing =
            |attributes: &str, excluded: &str| project(&stored, &thing, &paths(attributes), &paths(excluded));
        assert_eq!(
            project_thing("", ""),
            json!({"schemas": ["urn:test:Thing"], "id": "1", "count": 2, "settings": {"note": "n"}})
        );
        assert_eq!(project_thing("secret", "")["secret"], "s");
        assert_eq!(project_thing("settings", "")["settings"], json!({"note": "n"}));
        assert_eq!(
            project_thing("settings.secret", "")["settings"],
            json!({"secret": "t"})
        );
        assert!(project_thing("", "count")["secret"].is_null());
    }

    #[test]
    fn keys_outside_the_schema_are_dropped() {
        let stored =
            json!({"id": "g", "displayName": "Sales", "legacy": 1, "members": [{"value": "u", "weird": 2}]});
        assert_eq!(
            project(&stored, group_schema(), &[], &[]),
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g",
                   "displayName": "Sales", "members": [{"value": "u"}]})
        );
    }

    #[test]
    fn needs_attribute_tells_whether_members_would_be_returned() {
        let needs = |attributes: &str, excluded: &str, name: &str| {
            needs_attribute(group_schema(), &paths(attributes), &paths(excluded), name)
        };
        assert!(needs("", "", "members"));
        assert!(!needs("", "members", "members"));
        assert!(!needs("displayName", "", "members"));
        assert!(needs("members.value", "", "members"));
        assert!(needs("", "members.display", "Members"));
        assert!(needs("", "members", "id"));
        assert!(!needs("", "", "bogus"));
        assert!(!needs("", "", "not a path"));
        let user_needs =
            |attributes: &str, name: &str| needs_attribute(user_schema(), &paths(attributes), &[], name);
        assert!(user_needs("", &format!("{LICENSE_USER}:licenses")));
        assert!(!user_needs("userName", &format!("{LICENSE_USER}:licenses")));
        assert!(!user_needs("", "password"));
    }

    proptest! {
        /// Never panics on any document or parameter text; `schemas` and `id` survive.
        #[test]
        fn project_is_total(
            doc in prop::collection::btree_map("[a-zA-Z:.]{1,10}", any::<i32>(), 0..6),
            attributes in "[a-zA-Z:., ]{0,24}",
            excluded in "[a-zA-Z:., ]{0,24}",
        ) {
            let mut resource: Map<String, Value> = doc.into_iter().map(|(k, v)| (k, json!(v))).collect();
            resource.insert("id".into(), json!("x"));
            let attributes = parse_attribute_list(&attributes).unwrap_or_default();
            let excluded = parse_attribute_list(&excluded).unwrap_or_default();
            for schema in [user_schema(), group_schema()] {
                let projected = project(&Value::Object(resource.clone()), schema, &attributes, &excluded);
                prop_assert_eq!(&projected["id"], "x");
                prop_assert_eq!(&projected["schemas"][0], &json!(schema.core.id));
            }
        }
    }
}
