//! The schemas this server implements, as data: the JSON files under `schemas/` are
//! compiled in and parsed once.
//!
//! Two views of each core schema exist. The *published* schema (what `/Schemas` serves,
//! see [`all_schemas`]) holds only the schema's own attributes, as RFC 7643 §8.7.1 lists
//! them. The *resource* schema ([`user_schema`], [`group_schema`]) prepends the common
//! attributes `id`, `externalId` and `meta` (RFC 7643 §3.1, defined in
//! `schemas/common.json`) to the core schema, so that `ResourceSchema::resolve`,
//! projection, filters and PATCH treat them like any other attribute.

use std::sync::LazyLock;

use super::schema::{AttributeDef, ResourceSchema, Schema};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// This project's extension: the LinkedIn licenses a user holds (read-only).
pub const LICENSE_USER: &str = "urn:linkedin-scim:schemas:extension:license:2.0:User";

/// The resource types this server serves (RFC 7643 §6), in the order `/ResourceTypes`
/// lists them and a root `/.search` concatenates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    User,
    Group,
}

impl ResourceType {
    pub const ALL: [ResourceType; 2] = [ResourceType::User, ResourceType::Group];

    /// The resource type's name: its `id` on `/ResourceTypes` and its `meta.resourceType`.
    pub const fn name(self) -> &'static str {
        match self {
            ResourceType::User => "User",
            ResourceType::Group => "Group",
        }
    }

    /// The endpoint relative to the service root, without the leading `/`.
    pub const fn endpoint(self) -> &'static str {
        match self {
            ResourceType::User => "Users",
            ResourceType::Group => "Groups",
        }
    }

    pub const fn description(self) -> &'static str {
        match self {
            ResourceType::User => "User Account",
            ResourceType::Group => "Group",
        }
    }

    /// The schemas a resource of this type is read and written with.
    pub fn schema(self) -> &'static ResourceSchema {
        match self {
            ResourceType::User => user_schema(),
            ResourceType::Group => group_schema(),
        }
    }
}

struct Catalog {
    common: Vec<AttributeDef>,
    user_core: Schema,
    enterprise_user: Schema,
    license_user: Schema,
    group_core: Schema,
    user: ResourceSchema,
    group: ResourceSchema,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::load);

impl Catalog {
    fn load() -> Catalog {
        let common: Vec<AttributeDef> = embedded(include_str!("schemas/common.json"));
        let user_core: Schema = embedded(include_str!("schemas/user.json"));
        let enterprise_user: Schema = embedded(include_str!("schemas/enterprise_user.json"));
        let license_user: Schema = embedded(include_str!("schemas/license_user.json"));
        let group_core: Schema = embedded(include_str!("schemas/group.json"));
        let user = with_common(
            &common,
            &user_core,
            vec![enterprise_user.clone(), license_user.clone()],
        );
        let group = with_common(&common, &group_core, Vec::new());
        Catalog {
            common,
            user_core,
            enterprise_user,
            license_user,
            group_core,
            user,
            group,
        }
    }
}

/// Parse a file compiled into the binary. It is not input: a broken file is a build
/// defect, caught by this module's tests, so failing loudly is right.
#[expect(clippy::expect_used, reason = "compiled-in data, checked by the unit tests")]
fn embedded<T: serde::de::DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).expect("embedded schema file is valid")
}

fn with_common(common: &[AttributeDef], published: &Schema, extensions: Vec<Schema>) -> ResourceSchema {
    let core = Schema {
        attributes: common.iter().chain(&published.attributes).cloned().collect(),
        ..published.clone()
    };
    ResourceSchema { core, extensions }
}

/// The common attributes `id`, `externalId` and `meta` (RFC 7643 §3.1), as
/// `schemas/common.json` defines them.
pub fn common_attributes() -> &'static [AttributeDef] {
    &CATALOG.common
}

/// A resource schema for the core schema `published`: the [`common_attributes`]
/// followed by its own, plus `extensions`. [`user_schema`] and [`group_schema`] are
/// built so; so are the smaller schemas of the protocol modules' tests.
pub fn resource_schema(published: &Schema, extensions: Vec<Schema>) -> ResourceSchema {
    with_common(common_attributes(), published, extensions)
}

/// Core User (with the common attributes) plus the enterprise and license extensions.
pub fn user_schema() -> &'static ResourceSchema {
    &CATALOG.user
}

/// Core Group (with the common attributes); Groups have no extensions.
pub fn group_schema() -> &'static ResourceSchema {
    &CATALOG.group
}

/// Every schema as published on `/Schemas`: only each schema's own attributes.
pub fn all_schemas() -> impl Iterator<Item = &'static Schema> {
    let c = &*CATALOG;
    [&c.user_core, &c.group_core, &c.enterprise_user, &c.license_user].into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{AttrPath, AttrType, Mutability, Returned, Uniqueness};

    fn resolve<'a>(schema: &'a ResourceSchema, path: &str) -> &'a AttributeDef {
        let path = AttrPath::parse(path).expect("valid path");
        schema.resolve(&path).expect("resolvable").target()
    }

    #[test]
    fn published_schemas_have_the_declared_ids_and_no_common_attributes() {
        let ids: Vec<_> = all_schemas().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [USER, GROUP, ENTERPRISE_USER, LICENSE_USER]);
        for schema in all_schemas() {
            for common in ["id", "externalId", "meta"] {
                assert!(schema.attribute(common).is_none(), "{} lists {common}", schema.id);
            }
        }
    }

    #[test]
    fn common_attributes_resolve_for_both_resource_types() {
        for schema in [user_schema(), group_schema()] {
            let id = resolve(schema, "id");
            assert_eq!(
                (id.mutability, id.returned, id.case_exact, id.uniqueness),
                (Mutability::ReadOnly, Returned::Always, true, Uniqueness::Server)
            );
            let external = resolve(schema, "externalId");
            assert_eq!(
                (external.mutability, external.case_exact),
                (Mutability::ReadWrite, true)
            );
            assert_eq!(resolve(schema, "meta.lastModified").attr_type, AttrType::DateTime);
            assert_eq!(resolve(schema, "meta").mutability, Mutability::ReadOnly);
        }
    }

    #[test]
    fn common_attributes_come_from_common_json_alone() {
        let names: Vec<_> = common_attributes().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["id", "externalId", "meta"]);
        let meta = common_attributes()
            .iter()
            .find(|a| a.name == "meta")
            .expect("meta");
        let types: Vec<_> = meta
            .sub_attributes
            .iter()
            .map(|a| (a.name.as_str(), a.attr_type))
            .collect();
        assert_eq!(
            types,
            [
                ("resourceType", AttrType::String),
                ("created", AttrType::DateTime),
                ("lastModified", AttrType::DateTime),
                ("location", AttrType::Reference),
                ("version", AttrType::String),
            ]
        );
        for schema in [user_schema(), group_schema()] {
            assert_eq!(&schema.core.attributes[..3], common_attributes());
        }
    }

    #[test]
    fn a_test_schema_gets_the_same_common_attributes() {
        let published: Schema = serde_json::from_value(serde_json::json!({
            "id": "urn:test:Thing", "name": "Thing", "attributes": []
        }))
        .expect("valid schema");
        let schema = resource_schema(&published, Vec::new());
        assert_eq!(schema.core.attributes, common_attributes());
        assert_eq!(resolve(&schema, "meta.created").attr_type, AttrType::DateTime);
    }

    #[test]
    fn resource_types_name_their_endpoint_and_schema() {
        let listed: Vec<_> = ResourceType::ALL
            .iter()
            .map(|t| (t.name(), t.endpoint(), t.schema().core.id.as_str()))
            .collect();
        assert_eq!(listed, [("User", "Users", USER), ("Group", "Groups", GROUP)]);
    }

    #[test]
    fn user_schema_matches_rfc_7643_characteristics() {
        let user = user_schema();
        let password = resolve(user, "password");
        assert_eq!(
            (password.mutability, password.returned),
            (Mutability::WriteOnly, Returned::Never)
        );
        assert_eq!(resolve(user, "groups").mutability, Mutability::ReadOnly);
        assert_eq!(resolve(user, "groups.$ref").reference_types, ["User", "Group"]);
        let user_name = resolve(user, "userName");
        assert!(user_name.required && !user_name.case_exact);
        assert_eq!(
            resolve(user, "emails.type").canonical_values,
            ["work", "home", "other"]
        );
        assert_eq!(
            resolve(user, "x509Certificates.value").attr_type,
            AttrType::Binary
        );
        let top_level: Vec<_> = user.core.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            top_level,
            [
                "id",
                "externalId",
                "meta",
                "userName",
                "name",
                "displayName",
                "nickName",
                "profileUrl",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
                "active",
                "password",
                "emails",
                "phoneNumbers",
                "ims",
                "photos",
                "addresses",
                "groups",
                "entitlements",
                "roles",
                "x509Certificates",
            ]
        );
        for attr in &user.core.attributes {
            if attr.attr_type == AttrType::Reference {
                assert!(!attr.reference_types.is_empty(), "{}", attr.name);
            }
            assert_eq!(
                attr.sub_attributes.is_empty(),
                attr.attr_type != AttrType::Complex
            );
        }
    }

    #[test]
    fn extensions_and_group_are_as_specified() {
        let user = user_schema();
        let manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager";
        assert_eq!(resolve(user, manager).attr_type, AttrType::Complex);
        assert_eq!(
            resolve(user, &format!("{manager}.$ref")).reference_types,
            ["User"]
        );
        let licenses = resolve(user, &format!("{LICENSE_USER}:licenses"));
        assert!(licenses.multi_valued && licenses.mutability == Mutability::ReadOnly);
        let state = resolve(user, &format!("{LICENSE_USER}:licenses.state"));
        assert_eq!(state.canonical_values, ["assigned", "activated", "waiting"]);
        let activated = resolve(user, &format!("{LICENSE_USER}:licenses.activatedAt"));
        assert_eq!(activated.attr_type, AttrType::DateTime);

        let group = group_schema();
        assert!(resolve(group, "displayName").required);
        assert_eq!(resolve(group, "members.value").mutability, Mutability::Immutable);
        assert_eq!(resolve(group, "members.type").canonical_values, ["User", "Group"]);
    }
}
