//! Request extractors whose rejections are SCIM errors: bearer-token authentication, the
//! SCIM JSON body, and the base URL resources are located under.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::accounts::{AccountId, BearerToken, Principal, TokenRejection, admit};
use crate::activity::ActivityNote;
use crate::scim::error::ProtocolError;
use crate::scim::list::RawListParams;

/// The account and SCIM configuration a valid bearer token belongs to.
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("missing Authorization: Bearer token".into()))?;
        let raw = header
            .to_str()
            .ok()
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let token = BearerToken::parse(raw)
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?;
        let hash = token.hash();
        let found = state.store.find_token(&hash).await?;
        match admit(&hash, found, state.clock.now_micros()) {
            Ok(principal) => {
                if let Some(note) = parts.extensions.get::<ActivityNote>() {
                    note.principal(&principal);
                }
                Ok(Authenticated(principal))
            }
            Err(TokenRejection::Unknown) => Err(ApiError::Unauthorized("unknown or revoked token".into())),
            Err(TokenRejection::Expired) => Err(ApiError::Unauthorized(
                "the token has expired: refresh it in the SCIM configuration".into(),
            )),
        }
    }
}

/// A JSON request body sent as `application/scim+json` or `application/json` (any
/// parameters, e.g. Entra's `; charset=utf-8`). A missing Content-Type is accepted:
/// some clients omit it, and the body must parse as JSON anyway.
pub struct ScimJson(pub Value);

impl<S: Send + Sync> FromRequest<S> for ScimJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
            let media = content_type
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if media != "application/scim+json" && media != "application/json" {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "Content-Type {media:?} is not supported: send application/scim+json or application/json"
                )));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("the request body is larger than the server accepts".into())
            } else {
                ApiError::Protocol(ProtocolError::invalid_syntax(format!(
                    "cannot read the request body: {rejection}"
                )))
            }
        })?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ProtocolError::invalid_syntax(format!("the request body is not valid JSON: {e}")))?;
        Ok(ScimJson(value))
    }
}

/// The SCIM base URL of this request, e.g. `http://host:8080/scim/v2`: the configured
/// public URL (or the Host header) plus the mount the client used (`/scim/v2` or `/scim`).
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = OriginalUri::from_request_parts(parts, state)
            .await
            .map(|OriginalUri(uri)| uri.path().to_owned())
            .unwrap_or_default();
        let mount = if path.starts_with("/scim/v2") {
            "/scim/v2"
        } else {
            "/scim"
        };
        let origin = match &state.settings.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let host = parts
                    .headers
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
                    .unwrap_or("localhost");
                format!("http://{host}")
            }
        };
        Ok(BaseUrl(format!("{origin}{mount}")))
    }
}

/// The list/search and projection query parameters; a malformed query string is a SCIM
/// 400 rather than axum's plain-text rejection.
pub struct ScimQuery(pub RawListParams);

impl<S: Send + Sync> FromRequestParts<S> for ScimQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let params: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|e| ProtocolError::invalid_value(format!("malformed query string: {e}")))?;
        let mut raw = RawListParams::default();
        for (key, value) in params {
            let slot = match key.as_str() {
                "filter" => &mut raw.filter,
                "sortBy" => &mut raw.sort_by,
                "sortOrder" => &mut raw.sort_order,
                "startIndex" => &mut raw.start_index,
                "count" => &mut raw.count,
                "attributes" => &mut raw.attributes,
                "excludedAttributes" => &mut raw.excluded_attributes,
                // Entra passes feature flags such as `aadOptscim062020`; other
                // unknown parameters are ignored as well.
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(ScimQuery(raw))
    }
}

/// Everything a SCIM handler needs about its request: the state, who is calling, the
/// activity note to fill in, and the base URL resources are located under.
pub struct Scim {
    pub state: AppState,
    pub principal: Principal,
    pub note: ActivityNote,
    pub base: String,
}

impl FromRequestParts<AppState> for Scim {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Authenticated(principal) = Authenticated::from_request_parts(parts, state).await?;
        let BaseUrl(base) = BaseUrl::from_request_parts(parts, state).await?;
        Ok(Scim {
            state: state.clone(),
            principal,
            note: parts
                .extensions
                .get::<ActivityNote>()
                .cloned()
                .unwrap_or_default(),
            base,
        })
    }
}

impl Scim {
    pub fn account_id(&self) -> &AccountId {
        &self.principal.account.id
    }
}
