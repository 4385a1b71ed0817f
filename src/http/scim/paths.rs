//! Paths people type (docs/client-profiles.md, `path_variant`): `/users`, `/Users/`,
//! `/users/.SEARCH`. A request whose path matches no route but names a SCIM endpoint
//! in another case or with a trailing slash is answered as that endpoint when the
//! caller's client profile allows it (every profile but `strict`, as Microsoft's
//! reference server does), with the tolerance noted; ids stay exact.

use axum::extract::{FromRequestParts, Request};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use crate::activity::ActivityNote;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::extract::Authenticated;
use crate::scim::tolerance::{Leniency, Tolerance};

/// The endpoint names of the SCIM routes, as routed.
const ENDPOINTS: [&str; 7] = [
    "Users",
    "Groups",
    "ServiceProviderConfig",
    "ResourceTypes",
    "Schemas",
    "Bulk",
    "Me",
];

/// The routed spelling of `path` (relative to its SCIM mount) when it differs only in
/// the case of the endpoint names or a trailing slash; `None` when `path` is routed as
/// it is or names no endpoint. Only the endpoint name and `.search` are re-cased: an id
/// is compared exactly.
pub(super) fn canonical(path: &str) -> Option<String> {
    let trimmed = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let mut segments: Vec<String> = trimmed.split('/').map(str::to_owned).collect();
    // `["", endpoint, …]`: a leading slash, then at most an endpoint and one more segment.
    if segments.len() < 2 || segments.len() > 3 || !segments[0].is_empty() {
        return None;
    }
    let first = &segments[1];
    if first.eq_ignore_ascii_case(".search") {
        segments[1] = ".search".to_owned();
    } else {
        segments[1] = (*ENDPOINTS.iter().find(|e| e.eq_ignore_ascii_case(first))?).to_owned();
    }
    if let Some(second) = segments.get_mut(2)
        && second.eq_ignore_ascii_case(".search")
    {
        *second = ".search".to_owned();
    }
    let canonical = segments.join("/");
    (canonical != path).then_some(canonical)
}

/// The fallback of a SCIM mount: re-dispatch a path variant to `exact` (the same routes
/// without this fallback) when the caller's profile allows it, else 404.
pub(super) async fn variant(state: AppState, exact: axum::Router, request: Request) -> Response {
    let not_found = || ApiError::NotFound("no such SCIM endpoint".into()).into_response();
    let Some(path) = canonical(request.uri().path()) else {
        return not_found();
    };
    let (mut parts, body) = request.into_parts();
    let principal = match Authenticated::from_request_parts(&mut parts, &state).await {
        Ok(Authenticated(principal)) => principal,
        Err(e) => return e.into_response(),
    };
    let mut leniency = Leniency::new(principal.configuration.client_profile);
    if !leniency.permit(Tolerance::PathVariant) {
        return ApiError::NotFound(format!(
            "no such SCIM endpoint: paths are exact under this client profile (did you mean {path}?)"
        ))
        .into_response();
    }
    if let Some(note) = parts.extensions.get::<ActivityNote>() {
        note.tolerances(&leniency);
    }
    let uri = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    match uri.parse::<Uri>() {
        Ok(uri) => parts.uri = uri,
        Err(_) => return not_found(),
    }
    match exact.oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_names_are_recased_and_trailing_slashes_dropped_but_ids_stay_exact() {
        assert_eq!(canonical("/users").as_deref(), Some("/Users"));
        assert_eq!(canonical("/Users/").as_deref(), Some("/Users"));
        assert_eq!(canonical("/USERS/AbC/").as_deref(), Some("/Users/AbC"));
        assert_eq!(canonical("/groups/.SEARCH").as_deref(), Some("/Groups/.search"));
        assert_eq!(
            canonical("/serviceproviderconfig").as_deref(),
            Some("/ServiceProviderConfig")
        );
        assert_eq!(canonical("/.Search").as_deref(), Some("/.search"));
        // Routed as they are, or not SCIM endpoints at all.
        assert_eq!(canonical("/Users"), None);
        assert_eq!(canonical("/Users/AbC"), None);
        assert_eq!(canonical("/nosuch"), None);
        assert_eq!(canonical("/users/a/b"), None);
        assert_eq!(canonical("/"), None);
    }
}
