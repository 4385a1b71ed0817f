//! The `/Users` and `/Groups` endpoints, written once and made generic over the
//! resource kind: create, GET by id, list/search, PUT, PATCH and DELETE, with
//! conditional writes (If-Match under the row lock), the activity note of each request,
//! and rendering of the attribute kept in the membership table (a group's `members`, a
//! user's `groups`). A [`ResourceKind`] supplies only what differs: its schema, its store calls
//! and how a write becomes an update.

use async_trait::async_trait;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::accounts::AccountId;
use crate::accounts::fidelity::ListAnswer;
use crate::accounts::{PatchResponse, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Scim, ScimJson, ScimQuery};
use crate::http::render::{if_match_fails, no_content, not_modified, render, resource_response, scim_json};
use crate::licensing::SeatChange;
use crate::scim::catalog::ResourceType;
use crate::scim::cursor::{Cursor, Position, fingerprint};
use crate::scim::error::ProtocolError;
use crate::scim::limits::{check_document, check_patch_request, check_resource_request};
use crate::scim::list::{ListRequest, RawListParams, cursor_list_response, list_response};
use crate::scim::normalize::normalize;
use crate::scim::patch::{DeferredOp, apply_patch};
use crate::scim::projection::{needs_attribute, project};
use crate::scim::schema::{AttrPath, ResourceSchema};
use crate::scim::tolerance::Leniency;
use crate::store::{
    Change, Micros, Page, Reference, References, ResourceRecord, Store, StoreError, StoreResult,
};

/// A write and what it did to licenses (always unchanged for groups).
pub(super) type Written = (ResourceRecord, SeatChange);

/// One SCIM resource type: its names, schema and store calls.
#[async_trait]
pub(super) trait ResourceKind: Send + Sync + 'static {
    const RESOURCE_TYPE: ResourceType;
    /// The multi-valued attribute derived from the membership table.
    const RELATED: &'static str;
    /// The type of the related resources (for their `$ref`).
    const RELATED_RESOURCE_TYPE: ResourceType;
    /// The `type` each related value carries.
    const RELATED_TYPE: &'static str;
    /// Attributes a PATCH hands back as [`DeferredOp`]s instead of applying them to the
    /// document (they live in their own table).
    const DEFERRED: &'static [&'static str] = &[];
    /// What the activity log says a DELETE did.
    const DELETED: &'static str;
    /// What one read-modify-write produces (a user's document, a group update).
    type Update: Send + 'static;

    fn schema() -> &'static ResourceSchema {
        Self::RESOURCE_TYPE.schema()
    }
    /// The update a PUT makes: `incoming` (normalized) replaces `current`.
    fn replaced(current: &ResourceRecord, incoming: &Value) -> Result<Option<Self::Update>, ProtocolError>;
    /// The update a PATCH makes: the patched, normalized document and the operations on
    /// [`ResourceKind::DEFERRED`] attributes (`None`: nothing changed).
    fn patched(
        current: &ResourceRecord,
        doc: Value,
        deferred: Vec<DeferredOp>,
    ) -> Result<Option<Self::Update>, ProtocolError>;
    /// What the activity log says an update did ("updated", "disabled", …).
    fn outcome(_current: &ResourceRecord, _update: &Self::Update) -> &'static str {
        "updated"
    }
    /// How this account answers a list request: served, an empty page, or refused
    /// (LinkedIn fidelity).
    fn check_list(_principal: &Principal, _request: &ListRequest) -> ApiResult<ListAnswer> {
        Ok(ListAnswer::Serve)
    }
    /// Whether responses through this principal may carry [`ResourceKind::RELATED`] (a
    /// group's members are hidden from a product that lists no users).
    fn shows_related(_principal: &Principal) -> bool {
        true
    }
    /// What the server keeps outside the document under an extension URN (a user's
    /// licenses) that this PATCH `body` names, so that the PATCH engine sees it: removing
    /// it is refused while it holds values and changes nothing when it holds none.
    async fn server_held(_scim: &Scim, _id: &str, _body: &Value) -> ApiResult<Option<(&'static str, Value)>> {
        Ok(None)
    }
    /// Store a new resource from its normalized document.
    async fn create(scim: &Scim, doc: Value) -> StoreResult<Written>;
    async fn get(store: &dyn Store, account_id: &AccountId, id: &str) -> StoreResult<Option<ResourceRecord>>;
    async fn list(scim: &Scim, query: &ListRequest) -> StoreResult<Page<ResourceRecord>>;
    async fn modify(scim: &Scim, id: &str, change: &mut Change<'_, Self::Update>) -> StoreResult<Written>;
    /// Delete the resource (false: it was not there).
    async fn delete(scim: &Scim, id: &str, now: Micros) -> StoreResult<bool>;
    /// The related resources of each of these records, in one query.
    async fn related(store: &dyn Store, account_id: &AccountId, ids: &[String]) -> StoreResult<References>;
    /// Add what else lives outside the document (a user's licenses) to the rendered
    /// `docs` of `records`, before projection.
    async fn extend(
        _scim: &Scim,
        _records: &[ResourceRecord],
        _projection: &AttributeSelection,
        _docs: &mut [Value],
    ) -> ApiResult<()> {
        Ok(())
    }
}

/// The `attributes` and `excludedAttributes` of one request.
pub(super) type AttributeSelection = (Vec<AttrPath>, Vec<AttrPath>);

fn leniency(principal: &Principal) -> Leniency {
    Leniency::new(principal.configuration.client_profile)
}

fn not_found<K: ResourceKind>(id: &str) -> ApiError {
    ApiError::NotFound(format!("{} {id} not found", K::RESOURCE_TYPE.name()))
}

pub(super) async fn load<K: ResourceKind>(scim: &Scim, id: &str) -> ApiResult<ResourceRecord> {
    scim.note.resource(K::RESOURCE_TYPE.name(), id);
    K::get(scim.state.store.as_ref(), scim.account_id(), id)
        .await?
        .ok_or_else(|| not_found::<K>(id))
}

/// The response representations of `records` under `projection`. The related attribute
/// is read from the membership table only when the projection keeps it, in one query
/// for all the records (a page of a list, or one resource).
/// Each record's document moves into its representation (no copy per render).
async fn represent<K: ResourceKind>(
    scim: &Scim,
    records: &mut [ResourceRecord],
    projection: &AttributeSelection,
) -> ApiResult<Vec<Value>> {
    let (attributes, excluded) = projection;
    let wanted =
        K::shows_related(&scim.principal) && needs_attribute(K::schema(), attributes, excluded, K::RELATED);
    // Records read with their related resources attached need no second query.
    let fetched = if wanted && records.iter().any(|r| r.attached.is_none()) {
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        K::related(scim.state.store.as_ref(), scim.account_id(), &ids).await?
    } else {
        References::new()
    };

    let base = &scim.base;
    let mut docs: Vec<Value> = records
        .iter_mut()
        .map(|record| {
            let mut doc = render(record, K::RESOURCE_TYPE.name(), K::RESOURCE_TYPE.endpoint(), base);
            let refs = related_of(record, &fetched);
            if let (false, true, Some(map)) = (refs.is_empty(), wanted, doc.as_object_mut()) {
                let values = refs
                    .iter()
                    .map(|r| {
                        json!({
                            "value": r.id,
                            "display": r.display,
                            "$ref": format!("{base}/{}/{}", K::RELATED_RESOURCE_TYPE.endpoint(), r.id),
                            "type": K::RELATED_TYPE,
                        })
                    })
                    .collect();
                map.insert(K::RELATED.to_owned(), Value::Array(values));
            }
            doc
        })
        .collect();
    K::extend(scim, records, projection, &mut docs).await?;
    Ok(docs
        .iter()
        .map(|doc| project(doc, K::schema(), attributes, excluded))
        .collect())
}

/// A record's related resources: attached to it by the read, else from `fetched`.
fn related_of<'a>(record: &'a ResourceRecord, fetched: &'a References) -> &'a [Reference] {
    match &record.attached {
        Some(attached) => &attached.related,
        None => fetched.get(&record.id).map_or(&[], Vec::as_slice),
    }
}

/// A single-resource response (`ETag`; `Location` when given).
async fn respond<K: ResourceKind>(
    scim: &Scim,
    mut record: ResourceRecord,
    projection: &AttributeSelection,
    status: StatusCode,
    location: Option<&str>,
) -> ApiResult<Response> {
    let body = represent::<K>(scim, std::slice::from_mut(&mut record), projection)
        .await?
        .pop()
        .unwrap_or(Value::Null);
    Ok(resource_response(status, &body, record.version, location))
}

/// A POST/PUT body validated and canonicalized against the kind's schema; the
/// tolerances that fired are noted even when it is refused.
fn read_resource<K: ResourceKind>(scim: &Scim, body: Value) -> ApiResult<Value> {
    check_resource_request(&body, K::DEFERRED)?;
    let mut leniency = leniency(&scim.principal);
    let doc = normalize(body, K::schema(), &mut leniency);
    scim.note.tolerances(&leniency);
    let doc = doc?;
    check_document(&doc, K::schema(), K::DEFERRED)?;
    Ok(doc)
}

/// `POST /{ResourceKind}`: 201 with the resource and its `Location`.
pub(super) async fn create<K: ResourceKind>(
    scim: Scim,
    ScimQuery(params): ScimQuery,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let doc = read_resource::<K>(&scim, body)?;
    let (record, seats) = K::create(&scim, doc).await?;
    scim.note.resource(K::RESOURCE_TYPE.name(), &record.id);
    scim.note.outcome("created");
    scim.note.seats(&seats);
    let location = format!("{}/{}/{}", scim.base, K::RESOURCE_TYPE.endpoint(), record.id);
    let projection = params.projection()?;
    respond::<K>(&scim, record, &projection, StatusCode::CREATED, Some(&location)).await
}

/// `PUT /{ResourceKind}/{id}` (RFC 7644 §3.5.1).
pub(super) async fn replace<K: ResourceKind>(
    scim: Scim,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    scim.note.resource(K::RESOURCE_TYPE.name(), &id);
    let incoming = read_resource::<K>(&scim, body)?;
    let record = modify::<K, _>(&scim, &id, &headers, |current| K::replaced(current, &incoming)).await?;
    respond::<K>(&scim, record, &params.projection()?, StatusCode::OK, None).await
}

/// `PATCH /{ResourceKind}/{id}` (RFC 7644 §3.5.2): the PATCH engine runs on the locked record.
/// Answers 204 when the SCIM configuration asks for it.
pub(super) async fn patch<K: ResourceKind>(
    scim: Scim,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
    ScimJson(body): ScimJson,
) -> ApiResult<Response> {
    let projection = params.projection()?;
    let operations = check_patch_request(&body, K::DEFERRED)?;
    let held = K::server_held(&scim, &id, &body).await?;
    let record = modify::<K, _>(&scim, &id, &headers, |current| {
        let mut leniency = leniency(&scim.principal);
        let run = |leniency: &mut Leniency| -> Result<_, ProtocolError> {
            // The server-held extension (licenses) is seen by the PATCH, never written.
            let with_held = held.as_ref().map(|(urn, value)| {
                let mut doc = current.doc.clone();
                if let Some(map) = doc.as_object_mut() {
                    map.insert((*urn).to_owned(), value.clone());
                }
                doc
            });
            let mut outcome = apply_patch(
                with_held.as_ref().unwrap_or(&current.doc),
                &body,
                K::schema(),
                K::DEFERRED,
                &current.id,
                leniency,
            )?;
            if let (Some((urn, _)), Some(map)) = (&held, outcome.resource.as_object_mut()) {
                map.remove(*urn);
            }
            let doc = normalize(outcome.resource, K::schema(), leniency)?;
            check_document(&doc, K::schema(), K::DEFERRED)?;
            Ok((doc, outcome.deferred))
        };
        let patched = if operations > LARGE_PATCH_OPERATIONS {
            off_the_async_workers(|| run(&mut leniency))
        } else {
            run(&mut leniency)
        };
        scim.note.tolerances(&leniency);
        let (doc, deferred) = patched?;
        K::patched(current, doc, deferred)
    })
    .await?;
    if scim.principal.configuration.patch_response == PatchResponse::NoContent {
        return Ok(no_content(record.version));
    }
    respond::<K>(&scim, record, &projection, StatusCode::OK, None).await
}

/// Above this many operations a PATCH is CPU work worth taking off the async workers.
const LARGE_PATCH_OPERATIONS: usize = 100;

/// Run `work` (CPU-bound, under a database lock) so that the other tasks of this async
/// worker move to another thread meanwhile (`block_in_place`); in place on a
/// current-thread runtime, which cannot.
fn off_the_async_workers<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// Read-modify-write under the store's row lock: `change` turns the stored record into
/// the update (`None`: nothing to write). `If-Match` is checked against the locked
/// version, so a stale client gets 412 and concurrent writers never lose an update.
pub(super) async fn modify<K: ResourceKind, F>(
    scim: &Scim,
    id: &str,
    headers: &HeaderMap,
    mut change: F,
) -> ApiResult<ResourceRecord>
where
    F: FnMut(&ResourceRecord) -> Result<Option<K::Update>, ProtocolError> + Send,
{
    scim.note.resource(K::RESOURCE_TYPE.name(), id);
    let mut outcome = "unchanged";
    let mut apply = |current: &ResourceRecord| -> StoreResult<Option<K::Update>> {
        if if_match_fails(headers, current.version) {
            return Err(StoreError::VersionMismatch);
        }
        let update = change(current)?;
        outcome = update
            .as_ref()
            .map_or("unchanged", |update| K::outcome(current, update));
        Ok(update)
    };
    let (record, seats) = K::modify(scim, id, &mut apply).await.map_err(|e| match e {
        StoreError::NotFound => not_found::<K>(id),
        other => other.into(),
    })?;
    scim.note.outcome(outcome);
    scim.note.seats(&seats);
    Ok(record)
}

/// `DELETE /{ResourceKind}/{id}`: 412 on a failed `If-Match`, 404 when absent, else 204. (Users
/// go through their account's fidelity setting first.)
pub(super) async fn remove<K: ResourceKind>(
    scim: Scim,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let current = load::<K>(&scim, &id).await?;
    if if_match_fails(&headers, current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let now = scim.state.clock.now_micros();
    if !K::delete(&scim, &id, now).await? {
        return Err(not_found::<K>(&id));
    }
    scim.note.outcome(K::DELETED);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /{ResourceKind}/{id}`, with `If-None-Match` → 304.
pub(super) async fn fetch<K: ResourceKind>(
    scim: Scim,
    Path(id): Path<String>,
    ScimQuery(params): ScimQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let record = load::<K>(&scim, &id).await?;
    if not_modified(&headers, record.version) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    respond::<K>(&scim, record, &params.projection()?, StatusCode::OK, None).await
}

/// The RFC 9865 cursors of a cursor-paged list: `(nextCursor, previousCursor)`.
pub(super) type Cursors = (Option<String>, Option<String>);

/// One page of `K` as SCIM JSON, for `GET /{ResourceKind}`, `POST /{ResourceKind}/.search` and the root
/// `POST /.search`: the request's `startIndex`, the total, the projected resources, and
/// the cursors when the request pages by cursor.
pub(super) async fn list_page<K: ResourceKind>(
    scim: &Scim,
    params: &RawListParams,
) -> ApiResult<(u64, u64, Vec<Value>, Option<Cursors>)> {
    let mut leniency = leniency(&scim.principal);
    let request = params.parse(scim.state.settings.max_page_size, K::schema(), &mut leniency);
    scim.note.tolerances(&leniency);
    let request = request?;
    let page = match K::check_list(&scim.principal, &request)? {
        ListAnswer::Serve => {
            let page = K::list(scim, &request).await?;
            scim.note
                .outcome(format!("listed {} of {}", page.items.len(), page.total));
            page
        }
        ListAnswer::EmptyPage => {
            let kind = K::RESOURCE_TYPE.endpoint().to_lowercase();
            scim.note.outcome(format!(
                "listed nothing: this product lists no {kind}, only lookups of a known one (fidelity user_listing = empty_page)"
            ));
            Page {
                total: 0,
                items: Vec::new(),
                more: false,
            }
        }
    };
    let cursors = request
        .cursor
        .as_ref()
        .map(|cursor| cursors(cursor, &page, &fingerprint(request.filter.as_ref())));
    let start_index = request.start_index;
    let projection = (request.attributes, request.excluded_attributes);
    let mut items = page.items;
    let resources = represent::<K>(scim, &mut items, &projection).await?;
    Ok((start_index, page.total, resources, cursors))
}

/// The pages around a cursor page (RFC 9865 §2.2): a next page when rows follow its
/// last item, a previous one when rows precede its first.
fn cursors(cursor: &Cursor, page: &Page<ResourceRecord>, print: &str) -> Cursors {
    let position = |record: &ResourceRecord| Position {
        created_at: record.created_at,
        seq: record.created_seq.unwrap_or_default(),
    };
    let (has_next, has_previous) = match cursor {
        Cursor::First => (page.more, false),
        Cursor::After(_) => (page.more, true),
        Cursor::Before(_) => (true, page.more),
    };
    let next = page
        .items
        .last()
        .filter(|_| has_next)
        .and_then(|last| Cursor::After(position(last)).encode(print));
    let previous = page
        .items
        .first()
        .filter(|_| has_previous)
        .and_then(|first| Cursor::Before(position(first)).encode(print));
    (next, previous)
}

async fn run_list<K: ResourceKind>(scim: &Scim, params: &RawListParams) -> ApiResult<Response> {
    let (start_index, total, resources, cursors) = list_page::<K>(scim, params).await?;
    let body = match cursors {
        Some((next, previous)) => cursor_list_response(total, resources, next, previous),
        None => list_response(total, start_index, resources),
    };
    Ok(scim_json(StatusCode::OK, &body))
}

/// `GET /{ResourceKind}`: list with filter, sort, paging and projection.
pub(super) async fn list<K: ResourceKind>(scim: Scim, ScimQuery(params): ScimQuery) -> ApiResult<Response> {
    run_list::<K>(&scim, &params).await
}

/// `POST /{ResourceKind}/.search` (RFC 7644 §3.4.3).
pub(super) async fn search<K: ResourceKind>(scim: Scim, ScimJson(body): ScimJson) -> ApiResult<Response> {
    run_list::<K>(&scim, &RawListParams::from_search_body(&body)?).await
}
