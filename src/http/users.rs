//! `/Users`. The endpoints are the generic ones of `kind.rs`; this file says what is
//! particular to users, and DELETE, which follows the account's LinkedIn fidelity.

use async_trait::async_trait;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use super::kind::{self, Kind, modify};
use crate::accounts::UserDelete;
use crate::scim::catalog::user_schema;
use crate::scim::error::ProtocolError;
use crate::scim::list::ListRequest;
use crate::scim::patch::DeferredOp;
use crate::scim::resource::apply_replace;
use crate::scim::schema::ResourceSchema;
use crate::store::{Change, Micros, Page, References, ResourceRecord, Store, StoreResult};

pub(super) struct Users;

#[async_trait]
impl Kind for Users {
    const RESOURCE_TYPE: &'static str = "User";
    const ENDPOINT: &'static str = "Users";
    const RELATED: &'static str = "groups";
    const RELATED_ENDPOINT: &'static str = "Groups";
    /// Every membership is direct: groups do not nest.
    const RELATED_TYPE: &'static str = "direct";
    type Update = Value;

    fn schema() -> &'static ResourceSchema {
        user_schema()
    }

    fn replaced(current: &ResourceRecord, incoming: &Value) -> Result<Option<Value>, ProtocolError> {
        apply_replace(&current.doc, incoming.clone(), user_schema()).map(Some)
    }

    fn patched(
        current: &ResourceRecord,
        doc: Value,
        _deferred: Vec<DeferredOp>,
    ) -> Result<Option<Value>, ProtocolError> {
        Ok((doc != current.doc).then_some(doc))
    }

    async fn create(
        store: &dyn Store,
        account_id: &str,
        mut doc: Value,
        now: Micros,
    ) -> StoreResult<ResourceRecord> {
        // A provisioned user is active unless the client says otherwise (Okta's SPEC test
        // creates without `active` and expects `active: true`).
        if let Some(map) = doc.as_object_mut() {
            map.entry("active").or_insert(Value::Bool(true));
        }
        store.create_user(account_id, &doc, now).await
    }
    async fn get(store: &dyn Store, account_id: &str, id: &str) -> StoreResult<Option<ResourceRecord>> {
        store.get_user(account_id, id).await
    }
    async fn list(
        store: &dyn Store,
        account_id: &str,
        query: &ListRequest,
    ) -> StoreResult<Page<ResourceRecord>> {
        store.list_users(account_id, query).await
    }
    async fn modify(
        store: &dyn Store,
        account_id: &str,
        id: &str,
        now: Micros,
        change: &mut Change<'_, Value>,
    ) -> StoreResult<ResourceRecord> {
        store.modify_user(account_id, id, now, change).await
    }
    async fn delete(store: &dyn Store, account_id: &str, id: &str, now: Micros) -> StoreResult<bool> {
        store.delete_user(account_id, id, now).await
    }
    async fn related(store: &dyn Store, account_id: &str, ids: &[String]) -> StoreResult<References> {
        store.user_groups(account_id, ids).await
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/Users", get(kind::list::<Users>).post(kind::create::<Users>))
        .route("/Users/.search", post(kind::search::<Users>))
        .route(
            "/Users/{id}",
            get(kind::fetch::<Users>)
                .put(kind::replace::<Users>)
                .patch(kind::patch::<Users>)
                .delete(remove),
        )
}

async fn remove(caller: Caller, Path(id): Path<String>, headers: HeaderMap) -> ApiResult<Response> {
    match caller.principal.account.fidelity.user_delete {
        UserDelete::Delete => kind::remove::<Users>(caller, Path(id), headers).await,
        UserDelete::Deactivate => {
            modify::<Users, _>(&caller, &id, &headers, |current| {
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
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        UserDelete::Refuse => {
            kind::load::<Users>(&caller, &id).await?;
            Err(ApiError::NotImplemented(
                "this account does not delete users over SCIM: deprovision with active=false".into(),
            ))
        }
    }
}
