//! `POST /.search` at the service root (RFC 7644 §3.4.3): one query over every resource
//! type the server has.
//!
//! The result is the concatenation of each type's own list, in [`ResourceType::ALL`] order
//! (each sorted by `sortBy` within itself); `totalResults` is the sum, and
//! `startIndex`/`count` page through the concatenation. A resource type plugs in by
//! adding a variant to [`ResourceType`] (its `GET` and this share `endpoints::list_page`).
//!
//! The filter goes to every type as it is. A type that refuses it with `invalidFilter`
//! (an attribute it does not have: `userName eq "x"` for Groups, `members pr` for Users)
//! contributes nothing, as its resources cannot match; only when every type refuses the
//! filter is the request `invalidFilter`.

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use serde_json::Value;

use super::endpoints;
use super::groups::Groups;
use super::users::Users;
use crate::http::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Scim, ScimJson};
use crate::http::render::scim_json;
use crate::scim::catalog::ResourceType;
use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::list::{RawListParams, list_response};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/.search", post(search))
}

/// This type's total for `params` and its resources in the page `params` asks for.
async fn page(
    resource_type: ResourceType,
    scim: &Scim,
    params: &RawListParams,
) -> ApiResult<(u64, Vec<Value>)> {
    let (_, total, resources, _) = match resource_type {
        ResourceType::User => endpoints::list_page::<Users>(scim, params).await?,
        ResourceType::Group => endpoints::list_page::<Groups>(scim, params).await?,
    };
    Ok((total, resources))
}

async fn search(scim: Scim, ScimJson(body): ScimJson) -> ApiResult<Response> {
    let params = RawListParams::from_search_body(&body)?;
    if params.cursor.is_some() {
        // A cursor is a position in one resource type's creation order.
        return Err(ProtocolError::invalid_value(
            "cursor paging is per resource type: use POST /Users/.search or /Groups/.search",
        )
        .into());
    }
    let (start_index, count) = params.paging(scim.state.settings.max_page_size)?;
    // Positions are 0-based here: `skip` of the concatenation still to pass over, `room`
    // left on the page.
    let (mut skip, mut room) = (start_index - 1, count);
    let (mut total, mut resources) = (0u64, Vec::new());
    let mut refusals = Vec::new();
    for resource_type in ResourceType::ALL {
        let local = RawListParams {
            start_index: Some((skip + 1).to_string()),
            count: Some(room.to_string()),
            ..params.clone()
        };
        let (type_total, page) = match page(resource_type, &scim, &local).await {
            Err(ApiError::Protocol(e)) if e.scim_type == ScimType::InvalidFilter => {
                refusals.push(e);
                continue;
            }
            other => other?,
        };
        total += type_total;
        skip = skip.saturating_sub(type_total);
        room -= (page.len() as u64).min(room);
        resources.extend(page);
    }
    if refusals.len() == ResourceType::ALL.len()
        && let Some(first) = refusals.into_iter().next()
    {
        return Err(first.into());
    }
    Ok(scim_json(
        StatusCode::OK,
        &list_response(total, start_index, resources),
    ))
}
