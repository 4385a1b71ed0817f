//! The discovery documents of RFC 7644 §4: `/ServiceProviderConfig`, `/ResourceTypes`
//! and `/Schemas`, in the shapes of RFC 7643 §5, §6, §7 and the examples of §8.5–§8.7.

use serde_json::{Map, Value, json};

use super::catalog::ResourceType;
use super::schema::Schema;

pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// What the HTTP layer implements, so that `/ServiceProviderConfig` advertises exactly
/// that and nothing more. Filtering is always supported; `filter_max_results` is the
/// largest page a query returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpcFeatures {
    pub patch: bool,
    /// `(maxOperations, maxPayloadSize in bytes)` when `/Bulk` is implemented.
    pub bulk: Option<(u32, u32)>,
    pub filter_max_results: u32,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
}

/// One schema as served by `/Schemas` and `/Schemas/{id}` (RFC 7643 §7, §8.7). The
/// schema is rendered as given: pass the published schemas of
/// [`all_schemas`](super::catalog::all_schemas), which leave out the common attributes.
pub fn schema_document(schema: &Schema, base_url: &str) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes,
        "meta": meta("Schema", base_url, &format!("Schemas/{}", schema.id)),
    })
}

/// The resource types (RFC 7643 §6, §8.6), in [`ResourceType::ALL`] order. No extension
/// is required: a User without enterprise data is valid, and licenses are the server's
/// to set.
pub fn resource_type_documents(base_url: &str) -> Vec<Value> {
    ResourceType::ALL
        .into_iter()
        .map(|resource_type| resource_type_document(resource_type, base_url))
        .collect()
}

fn resource_type_document(resource_type: ResourceType, base_url: &str) -> Value {
    let name = resource_type.name();
    let schema = resource_type.schema();
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([RESOURCE_TYPE_SCHEMA]));
    doc.insert("id".into(), json!(name));
    doc.insert("name".into(), json!(name));
    doc.insert("endpoint".into(), json!(format!("/{}", resource_type.endpoint())));
    doc.insert("description".into(), json!(resource_type.description()));
    doc.insert("schema".into(), json!(schema.core.id));
    if !schema.extensions.is_empty() {
        let extensions: Vec<_> = schema
            .extensions
            .iter()
            .map(|e| json!({ "schema": e.id, "required": false }))
            .collect();
        doc.insert("schemaExtensions".into(), Value::Array(extensions));
    }
    doc.insert(
        "meta".into(),
        meta("ResourceType", base_url, &format!("ResourceTypes/{name}")),
    );
    Value::Object(doc)
}

/// `/ServiceProviderConfig` (RFC 7643 §5, §8.5). `bulk` always carries its limits, as
/// §5 makes them required; they are 0 when bulk is not supported.
pub fn service_provider_config(base_url: &str, features: &SpcFeatures) -> Value {
    let (max_operations, max_payload_size) = features.bulk.unwrap_or((0, 0));
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": { "supported": features.patch },
        "bulk": {
            "supported": features.bulk.is_some(),
            "maxOperations": max_operations,
            "maxPayloadSize": max_payload_size,
        },
        "filter": { "supported": true, "maxResults": features.filter_max_results },
        // RFC 9865 §4: both paging methods; a page without `count` is the largest.
        // Cursors do not expire, so no cursorTimeout is given.
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": features.filter_max_results,
            "maxPageSize": features.filter_max_results,
        },
        "changePassword": { "supported": features.change_password },
        "sort": { "supported": features.sort },
        "etag": { "supported": features.etag },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the bearer token of a SCIM configuration, \
                            generated in the Account Center and sent as \
                            'Authorization: Bearer <token>'.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": meta("ServiceProviderConfig", base_url, "ServiceProviderConfig"),
    })
}

fn meta(resource_type: &str, base_url: &str, path: &str) -> Value {
    json!({
        "resourceType": resource_type,
        "location": format!("{}/{path}", base_url.trim_end_matches('/')),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{ENTERPRISE_USER, LICENSE_USER, USER, all_schemas};

    const BASE: &str = "https://scim.example.com/scim/v2/";

    #[test]
    fn schema_documents_follow_rfc_7643_section_7() {
        for schema in all_schemas() {
            let doc = schema_document(schema, BASE);
            assert_eq!(doc["schemas"], json!([SCHEMA_SCHEMA]));
            assert_eq!(doc["id"], schema.id.as_str());
            assert_eq!(doc["meta"]["resourceType"], "Schema");
            assert_eq!(
                doc["meta"]["location"],
                format!("https://scim.example.com/scim/v2/Schemas/{}", schema.id)
            );
            let rendered: Schema = serde_json::from_value(doc).expect("round-trips");
            assert_eq!(&rendered, schema);
        }
        let user = all_schemas().find(|s| s.id == USER).expect("user");
        let doc = schema_document(user, BASE);
        let attributes = doc["attributes"].as_array().expect("attributes");
        assert_eq!(
            attributes[0]["name"], "userName",
            "common attributes are not rendered"
        );
        let password = attributes
            .iter()
            .find(|a| a["name"] == "password")
            .expect("password");
        assert_eq!(password["mutability"], "writeOnly");
        assert_eq!(password["returned"], "never");
        let name = attributes.iter().find(|a| a["name"] == "name").expect("name");
        assert_eq!(name["subAttributes"][2]["name"], "givenName");
        assert_eq!(name["subAttributes"][2]["caseExact"], false);
    }

    #[test]
    fn resource_types_follow_rfc_7643_section_6() {
        let docs = resource_type_documents(BASE);
        assert_eq!(
            docs[0],
            json!({
                "schemas": [RESOURCE_TYPE_SCHEMA],
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "description": "User Account",
                "schema": USER,
                "schemaExtensions": [
                    {"schema": ENTERPRISE_USER, "required": false},
                    {"schema": LICENSE_USER, "required": false}
                ],
                "meta": {"resourceType": "ResourceType",
                         "location": "https://scim.example.com/scim/v2/ResourceTypes/User"}
            })
        );
        assert_eq!(docs[1]["endpoint"], "/Groups");
        assert_eq!(docs[1]["schema"], "urn:ietf:params:scim:schemas:core:2.0:Group");
        assert!(docs[1].get("schemaExtensions").is_none());
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn service_provider_config_advertises_exactly_the_features() {
        let features = SpcFeatures {
            patch: true,
            bulk: None,
            filter_max_results: 200,
            change_password: false,
            sort: true,
            etag: true,
        };
        let doc = service_provider_config("https://scim.example.com/scim", &features);
        assert_eq!(doc["schemas"], json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
        assert_eq!(doc["patch"], json!({"supported": true}));
        assert_eq!(
            doc["bulk"],
            json!({"supported": false, "maxOperations": 0, "maxPayloadSize": 0})
        );
        assert_eq!(doc["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(doc["changePassword"], json!({"supported": false}));
        assert_eq!(doc["sort"], json!({"supported": true}));
        assert_eq!(doc["etag"], json!({"supported": true}));
        let scheme = &doc["authenticationSchemes"][0];
        assert_eq!(scheme["type"], "oauthbearertoken");
        assert_eq!(scheme["primary"], true);
        assert_eq!(scheme["specUri"], "https://www.rfc-editor.org/info/rfc6750");
        assert!(scheme["name"].is_string() && scheme["description"].is_string());
        assert_eq!(
            doc["meta"],
            json!({"resourceType": "ServiceProviderConfig",
                   "location": "https://scim.example.com/scim/ServiceProviderConfig"})
        );

        let bulk = SpcFeatures {
            bulk: Some((1000, 1_048_576)),
            ..features
        };
        let doc = service_provider_config(BASE, &bulk);
        assert_eq!(
            doc["bulk"],
            json!({"supported": true, "maxOperations": 1000, "maxPayloadSize": 1_048_576})
        );
    }
}
