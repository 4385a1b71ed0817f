//! `/Users`: create, read, list/search, replace, patch, delete.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Scim, ScimJson, ScimQuery};
use super::resource::{if_match_fails, no_content, not_modified, render, resource_response, scim_json};
use crate::accounts::{PatchResponse, Principal, UserDelete};
use crate::licensing::{License, SeatRequest};
use crate::scim::catalog::{LICENSE_USER, user_schema};
use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::list::{ListRequest, RawListParams, list_response};
use crate::scim::patch::apply_patch;
use crate::scim::projection::{needs_attribute, project};
use crate::scim::resource::{apply_replace, normalize};
use crate::scim::schema::AttrPath;
use crate::scim::tolerance::Leniency;
use crate::store::{ResourceRecord, StoreError, StoreResult, UserWrite};

const RESOURCE_TYPE: &str = "User";
const ENDPOINT: &str = "Users";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/Users", get(list).post(create))
        .route("/Users/.search", post(search))
        .route("/Users/{id}", get(fetch).put(replace).patch(patch).delete(remove))
}

fn leniency(principal: &Principal) -> Leniency {
    Leniency::new(principal.configuration.client_profile)
}

/// The seat a write by this configuration asks for.
fn seat_request(principal: &Principal) -> SeatRequest {
    SeatRequest {
        pool_id: principal
            .configuration
            .auto_assign
            .as_ref()
            .map(|a| a.pool_id.clone()),
        when_full: principal.account.fidelity.when_pool_full,
    }
}

/// Render users with their licenses (the read-only license extension), projected.
async fn represent_all(
    scim: &Scim,
    records: &[ResourceRecord],
    attributes: &[AttrPath],
    excluded: &[AttrPath],
) -> ApiResult<Vec<Value>> {
    let Scim {
        state,
        principal,
        base,
        ..
    } = scim;
    let schema = user_schema();
    let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
    let licenses = if needs_attribute(schema, attributes, excluded, &format!("{LICENSE_USER}:licenses")) {
        state.store.licenses(&principal.account.id, &ids).await?
    } else {
        Vec::new()
    };
    Ok(records
        .iter()
        .map(|record| {
            let mut doc = render(record, RESOURCE_TYPE, ENDPOINT, base);
            let held: Vec<&License> = licenses
                .iter()
                .filter(|(id, _)| *id == record.id)
                .map(|(_, l)| l)
                .collect();
            if let (Some(map), false) = (doc.as_object_mut(), held.is_empty()) {
                map.insert(LICENSE_USER.to_owned(), json!({ "licenses": held }));
            }
            project(&doc, schema, attributes, excluded)
        })
        .collect())
}

async fn represent(scim: &Scim, record: &ResourceRecord, params: &RawListParams) -> ApiResult<Value> {
    let (attributes, excluded) = params.projection()?;
    let mut docs = represent_all(scim, std::slice::from_ref(record), &attributes, &excluded).await?;
    Ok(docs.pop().unwrap_or_default())
}

/// "disabled" / "reactivated" when a write flips `active`, else "updated".
fn update_outcome(before: &Value, after: &Value) -> &'static str {
    let active = |doc: &Value| doc.get("active").and_then(Value::as_bool).unwrap_or(true);
    match (active(before), active(after)) {
        (true, false) => "disabled",
        (false, true) => "reactivated",
        _ => "updated",
    }
}

async fn create(scim: Scim, ScimQuery(params): ScimQuery, ScimJson(body): ScimJson) -> ApiResult<Response> {
    let Scim {
        state,
        principal,
        note,
        base,
    } = &scim;
    let mut leniency = leniency(principal);
    let normalized = normalize(body, user_schema(), &mut leniency);
    note.tolerances(&leniency);
    let mut doc = normalized?;
    // A provisioned user is active unless the client says otherwise (Okta's SPEC test
    // creates without `active` and expects `active: true`).
    if let Some(map) = doc.as_object_mut() {
        map.entry("active").or_insert(Value::Bool(true));
    }
    let UserWrite { record, seats } = state
        .store
        .create_user(
            &principal.account.id,
            &doc,
            &seat_request(principal),
            state.clock.now_micros(),
        )
        .await?;
    note.resource(RESOURCE_TYPE, &record.id);
    note.outcome("created");
    note.seats(&seats);
    let location = format!("{base}/{ENDPOINT}/{}", record.id);
    let body = represent(&scim, &record, &params).await?;
    Ok(resource_response(
        StatusCode::CREATED,
        &body,
        record.version,
        Some(&location),
    ))
}

async fn load(state: &AppState, principal: &Principal, id: &str) -> ApiResult<ResourceRecord> {
    state
        .store
        .get_user(&principal.account.id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("User {id} not found")))
}

async fn fetch(
    scim: Scim,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Scim {
        state,
        principal,
        note,
        ..
    } = &scim;
    note.resource(RESOURCE_TYPE, &id);
    let record = load(state, principal, &id).await?;
    if not_modified(&headers, record.version) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let body = represent(&scim, &record, &params).await?;
    Ok(resource_response(StatusCode::OK, &body, record.version, None))
}

/// One page of users as SCIM JSON, for `GET /Users`, `POST /Users/.search` and the root
/// `POST /.search`: the validated request, the total, and the projected resources.
pub(super) async fn list_page(
    scim: &Scim,
    params: &RawListParams,
) -> ApiResult<(ListRequest, u64, Vec<Value>)> {
    let Scim {
        state,
        principal,
        note,
        ..
    } = scim;
    let mut leniency = leniency(principal);
    let request = params.parse(state.settings.max_page_size, user_schema(), &mut leniency);
    note.tolerances(&leniency);
    let request: ListRequest = request?;
    refuse_unfiltered_listing(principal, &request)?;
    let page = state.store.list_users(&principal.account.id, &request).await?;
    note.outcome(format!("listed {} of {}", page.items.len(), page.total));
    let resources = represent_all(
        scim,
        &page.items,
        &request.attributes,
        &request.excluded_attributes,
    )
    .await?;
    Ok((request, page.total, resources))
}

async fn run_list(scim: &Scim, params: &RawListParams) -> ApiResult<Response> {
    let (request, total, resources) = list_page(scim, params).await?;
    Ok(scim_json(
        StatusCode::OK,
        &list_response(total, request.start_index, resources),
    ))
}

/// LinkedIn fidelity: Sales Navigator's SCIM serves no unfiltered user list (SaaS
/// managers look users up one by one); the account's settings say which products refuse.
fn refuse_unfiltered_listing(principal: &Principal, request: &ListRequest) -> ApiResult<()> {
    let refused = principal.configuration.auto_assign.as_ref().is_some_and(|a| {
        principal
            .account
            .fidelity
            .unfiltered_list_refused
            .contains(&a.product)
    });
    if request.filter.is_none() && refused {
        return Err(ProtocolError::new(
            ScimType::TooMany,
            "this product does not list users without a filter: look users up by filter (e.g. userName eq \"…\") or id",
        )
        .into());
    }
    Ok(())
}

async fn list(scim: Scim, ScimQuery(params): ScimQuery) -> ApiResult<Response> {
    run_list(&scim, &params).await
}

async fn search(scim: Scim, ScimJson(body): ScimJson) -> ApiResult<Response> {
    let params = RawListParams::from_search_body(&body)?;
    run_list(&scim, &params).await
}

/// Read-modify-write under the store's row lock: `change` turns the stored document
/// into the new one (`None`: nothing to write). `If-Match` is checked against the locked
/// version, so a stale client gets 412 and concurrent writers never lose an update.
async fn modify<F>(scim: &Scim, id: &str, headers: &HeaderMap, mut change: F) -> ApiResult<ResourceRecord>
where
    F: FnMut(&ResourceRecord) -> Result<Option<Value>, ProtocolError> + Send,
{
    let Scim {
        state,
        principal,
        note,
        ..
    } = scim;
    note.resource(RESOURCE_TYPE, id);
    let mut outcome = "unchanged";
    let mut apply = |current: &ResourceRecord| -> StoreResult<Option<Value>> {
        if if_match_fails(headers, current.version) {
            return Err(StoreError::VersionMismatch);
        }
        let new = change(current)?;
        outcome = new
            .as_ref()
            .map_or("unchanged", |doc| update_outcome(&current.doc, doc));
        Ok(new)
    };
    let UserWrite { record, seats } = state
        .store
        .modify_user(
            &principal.account.id,
            id,
            &seat_request(principal),
            state.clock.now_micros(),
            &mut apply,
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::NotFound(format!("User {id} not found")),
            other => other.into(),
        })?;
    note.outcome(outcome);
    note.seats(&seats);
    Ok(record)
}

async fn replace(
    scim: Scim,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let Scim { principal, note, .. } = &scim;
    let mut leniency = leniency(principal);
    let incoming = normalize(body, user_schema(), &mut leniency);
    note.tolerances(&leniency);
    let incoming = incoming?;
    let record = modify(&scim, &id, &headers, |current| {
        Ok(Some(apply_replace(
            &current.doc,
            incoming.clone(),
            user_schema(),
        )?))
    })
    .await?;
    let body = represent(&scim, &record, &params).await?;
    Ok(resource_response(StatusCode::OK, &body, record.version, None))
}

async fn patch(
    scim: Scim,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let Scim { principal, note, .. } = &scim;
    let record = modify(&scim, &id, &headers, |current| {
        let mut leniency = leniency(principal);
        let patched = apply_patch(
            &current.doc,
            &body,
            user_schema(),
            &[],
            &current.id,
            &mut leniency,
        )
        .and_then(|outcome| normalize(outcome.resource, user_schema(), &mut leniency));
        note.tolerances(&leniency);
        let doc = patched?;
        Ok((doc != current.doc).then_some(doc))
    })
    .await?;
    if principal.configuration.patch_response == PatchResponse::NoContent {
        return Ok(no_content(record.version));
    }
    let body = represent(&scim, &record, &params).await?;
    Ok(resource_response(StatusCode::OK, &body, record.version, None))
}

async fn remove(scim: Scim, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    let Scim {
        state,
        principal,
        note,
        ..
    } = &scim;
    note.resource(RESOURCE_TYPE, &id);
    match principal.account.fidelity.user_delete {
        UserDelete::Delete => {
            let current = load(state, principal, &id).await?;
            if if_match_fails(&headers, current.version) {
                return Err(ApiError::PreconditionFailed);
            }
            if !state
                .store
                .delete_user(&principal.account.id, &id, state.clock.now_micros())
                .await?
            {
                return Err(ApiError::NotFound(format!("User {id} not found")));
            }
            note.outcome("deleted (licenses released)");
        }
        UserDelete::Deactivate => {
            modify(&scim, &id, &headers, |current| {
                let mut doc = current.doc.clone();
                match doc.as_object_mut() {
                    Some(map) if map.get("active") != Some(&Value::Bool(false)) => {
                        map.insert("active".into(), Value::Bool(false));
                        Ok(Some(doc))
                    }
                    _ => Ok(None),
                }
            })
            .await?;
        }
        UserDelete::Refuse => {
            load(state, principal, &id).await?;
            return Err(ApiError::NotImplemented(
                "this account does not delete users over SCIM: deprovision with active=false".into(),
            ));
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
