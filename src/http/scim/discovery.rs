//! Discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes, Schemas. What these
//! advertise is what the server implements.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Scim, ScimQuery};
use crate::http::render::scim_json;
use crate::scim::catalog::all_schemas;
use crate::scim::discovery::{
    SpcFeatures, resource_type_documents, schema_document, service_provider_config,
};
use crate::scim::list::list_response;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/ServiceProviderConfig", get(spc))
        .route("/ResourceTypes", get(resource_types))
        .route("/ResourceTypes/{name}", get(resource_type))
        .route("/Schemas", get(schemas))
        .route("/Schemas/{urn}", get(schema))
}

/// Per account: Bulk is offered when its fidelity settings say so (not under the
/// `linkedin` preset), with the limits `POST /Bulk` enforces.
async fn spc(
    Scim {
        state,
        base,
        principal,
        ..
    }: Scim,
) -> Response {
    let settings = &state.settings;
    let features = SpcFeatures {
        patch: true,
        bulk: principal.account.fidelity.bulk.then(|| {
            (
                settings.bulk_max_operations,
                u32::try_from(settings.max_body_bytes).unwrap_or(u32::MAX),
            )
        }),
        filter_max_results: state.settings.max_page_size,
        change_password: false,
        sort: true,
        etag: true,
    };
    scim_json(StatusCode::OK, &service_provider_config(&base, &features))
}

/// RFC 7644 §4: discovery endpoints take no filter.
fn refuse_filter(params: &crate::scim::list::RawListParams) -> ApiResult<()> {
    match params.filter {
        Some(_) => Err(ApiError::Forbidden(
            "discovery endpoints do not support filtering".into(),
        )),
        None => Ok(()),
    }
}

fn listing(resources: Vec<Value>) -> Response {
    let total = resources.len() as u64;
    scim_json(StatusCode::OK, &list_response(total, 1, resources))
}

async fn resource_types(Scim { base, .. }: Scim, ScimQuery(params): ScimQuery) -> ApiResult<Response> {
    refuse_filter(&params)?;
    Ok(listing(resource_type_documents(&base)))
}

async fn resource_type(Scim { base, .. }: Scim, Path(name): Path<String>) -> ApiResult<Response> {
    resource_type_documents(&base)
        .into_iter()
        .find(|doc| {
            doc["id"]
                .as_str()
                .is_some_and(|id| id.eq_ignore_ascii_case(&name))
        })
        .map(|doc| scim_json(StatusCode::OK, &doc))
        .ok_or_else(|| ApiError::NotFound(format!("no resource type {name:?}")))
}

async fn schemas(Scim { base, .. }: Scim, ScimQuery(params): ScimQuery) -> ApiResult<Response> {
    refuse_filter(&params)?;
    Ok(listing(
        all_schemas().map(|s| schema_document(s, &base)).collect(),
    ))
}

async fn schema(Scim { base, .. }: Scim, Path(urn): Path<String>) -> ApiResult<Response> {
    all_schemas()
        .find(|s| s.id.eq_ignore_ascii_case(&urn))
        .map(|s| scim_json(StatusCode::OK, &schema_document(s, &base)))
        .ok_or_else(|| ApiError::NotFound(format!("no schema {urn:?}")))
}
