//! Request extractors whose rejections are SCIM errors: bearer-token authentication, the
//! SCIM JSON body, and the base URL resources are located under.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use super::throttle::client_address;
use crate::accounts::{AccountId, BearerToken, Principal, TokenRejection, admit};
use crate::activity::ActivityNote;
use crate::scim::error::ProtocolError;
use crate::scim::list::RawListParams;

/// Why a request carries no usable bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BearerProblem {
    /// No `Authorization` header.
    Missing,
    /// Not `Bearer <token>` (the scheme is case-insensitive, RFC 7235 §2.1).
    Malformed,
    /// A token no configuration could have (too short, long, or not printable ASCII).
    Invalid,
}

/// The token of an `Authorization: Bearer <token>` header: one parser for the SCIM and
/// the admin API, which word their refusals differently.
pub(super) fn bearer_token(headers: &HeaderMap) -> Result<BearerToken, BearerProblem> {
    let header = headers.get(header::AUTHORIZATION).ok_or(BearerProblem::Missing)?;
    let raw = header
        .to_str()
        .ok()
        .and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or(BearerProblem::Malformed)?;
    BearerToken::parse(raw).ok_or(BearerProblem::Invalid)
}

/// The account and SCIM configuration a valid bearer token belongs to.
pub(crate) struct Authenticated(pub(crate) Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = client_address(&parts.extensions);
        state.auth_failures.admit(client)?;
        let token = match bearer_token(&parts.headers) {
            Ok(token) => token,
            Err(problem) => {
                let detail = match problem {
                    BearerProblem::Missing => "missing Authorization: Bearer token",
                    BearerProblem::Malformed => "the Authorization header must be `Bearer <token>`",
                    BearerProblem::Invalid => "unknown or revoked token",
                };
                // A missing header guesses nothing; a wrong credential counts.
                if problem != BearerProblem::Missing {
                    state.auth_failures.failed(client)?;
                }
                return Err(ApiError::Unauthorized(detail.into()));
            }
        };
        let hash = token.hash();
        let found = state.store.find_token(&hash).await?;
        let now = state.clock.now_micros();
        // An expired token still names its configuration: the journal records the
        // refusal against it (cloned only for such a token).
        let expired = found
            .as_ref()
            .filter(|f| f.expires_at.is_some_and(|at| at <= now))
            .map(|f| f.principal.clone());
        match admit(&hash, found, now) {
            Ok(principal) => {
                if let Some(note) = parts.extensions.get::<ActivityNote>() {
                    note.principal(&principal);
                }
                state
                    .throttle
                    .admit(state.store.as_ref(), &state.clock, &principal.configuration.id)
                    .await?;
                Ok(Authenticated(principal))
            }
            Err(TokenRejection::Unknown) => {
                // Only on this refusal path: is it a revoked token, and whose?
                let revoked = state.store.revoked_token(&hash).await.ok().flatten();
                if let (Some(note), Some(revoked)) = (parts.extensions.get::<ActivityNote>(), &revoked) {
                    note.revoked(revoked);
                }
                // A token this server issued (revoked since, or the admin token at the
                // wrong door) is a mistake, not a guess: only guesses count.
                if revoked.is_none() && !state.admin_token.matches(&hash.0) {
                    state.auth_failures.failed(client)?;
                }
                Err(ApiError::Unauthorized("unknown or revoked token".into()))
            }
            Err(TokenRejection::Expired) => {
                if let (Some(note), Some(principal)) = (parts.extensions.get::<ActivityNote>(), &expired) {
                    note.principal(principal);
                }
                Err(ApiError::Unauthorized(
                    "the token has expired: refresh it in the SCIM configuration".into(),
                ))
            }
        }
    }
}

/// A JSON request body sent as `application/scim+json` or `application/json` (any
/// parameters, e.g. Entra's `; charset=utf-8`). A missing Content-Type is accepted:
/// some clients omit it, and the body must parse as JSON anyway.
pub(crate) struct ScimJson(pub(crate) Value);

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
        if super::hygiene::json_has_nul(&value) {
            return Err(ProtocolError::invalid_value(super::hygiene::NUL_REFUSAL).into());
        }
        Ok(ScimJson(value))
    }
}

/// The SCIM base URL of this request, e.g. `http://host:8080/scim/v2`: the configured
/// public URL (or the Host header) plus the mount the client used (`/scim/v2`, `/scim`,
/// or none at the server root).
pub(crate) struct BaseUrl(pub(crate) String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let path = OriginalUri::from_request_parts(parts, state)
            .await
            .map(|OriginalUri(uri)| uri.path().to_owned())
            .unwrap_or_default();
        let mount = if path.starts_with("/scim/v2") {
            "/scim/v2"
        } else if path.starts_with("/scim") {
            "/scim"
        } else {
            ""
        };
        Ok(BaseUrl(format!("{}{mount}", origin(state, &parts.headers))))
    }
}

/// Where clients reach this server: the configured public URL, else the Host header.
pub(crate) fn origin(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    match &state.settings.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| h.bytes().all(|b| b.is_ascii_graphic()))
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    }
}

/// An admin endpoint's query string as `T`; a malformed one is a 400 naming `what`.
pub(crate) fn query_params<T>(
    params: Result<Query<T>, QueryRejection>,
    what: &str,
) -> Result<T, ProtocolError> {
    params
        .map(|Query(params)| params)
        .map_err(|e| ProtocolError::invalid_value(format!("bad {what} query: {}", e.body_text())))
}

/// The list/search and projection query parameters; a malformed query string is a SCIM
/// 400 rather than axum's plain-text rejection.
pub(crate) struct ScimQuery(pub(crate) RawListParams);

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
                "cursor" => &mut raw.cursor,
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
pub(crate) struct Scim {
    pub(crate) state: AppState,
    pub(crate) principal: Principal,
    pub(crate) note: ActivityNote,
    pub(crate) base: String,
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
    pub(crate) fn account_id(&self) -> &AccountId {
        &self.principal.account.id
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn with_authorization(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(header::AUTHORIZATION, value);
        }
        headers
    }

    #[test]
    fn bearer_tokens_parse_with_any_scheme_case_and_spacing() {
        for header in [
            "Bearer acme-okta-token",
            "bearer acme-okta-token",
            " BEARER  acme-okta-token ",
        ] {
            let token = bearer_token(&with_authorization(header));
            assert_eq!(
                token.map(|t| t.expose().to_owned()),
                Ok("acme-okta-token".to_owned()),
                "{header}"
            );
        }
    }

    #[test]
    fn bad_authorization_headers_say_what_is_wrong() {
        let problem = |headers: &HeaderMap| bearer_token(headers).err();
        assert_eq!(problem(&HeaderMap::new()), Some(BearerProblem::Missing));
        assert_eq!(
            problem(&with_authorization("Basic YWxhZGRpbjpvcGVuc2VzYW1l")),
            Some(BearerProblem::Malformed)
        );
        assert_eq!(
            problem(&with_authorization("acme-okta-token")),
            Some(BearerProblem::Malformed)
        );
        assert_eq!(
            problem(&with_authorization("Bearer short")),
            Some(BearerProblem::Invalid)
        );
    }
}
