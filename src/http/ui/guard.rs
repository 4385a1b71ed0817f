//! What every Account Center response carries and every form post must show: the
//! security headers (no framing, no sniffing, no referrer to other sites, scripts and
//! styles from this origin only, HSTS under TLS), `Cache-Control: no-store` on pages
//! (Back after sign-out must not show a cached users page), and, behind the CSRF token,
//! an `Origin` check: a form posted from another origin is refused. The referrer policy
//! is `same-origin`, not `no-referrer`: under `no-referrer` Chromium posts forms with
//! `Origin: null`.

use axum::Router;
use axum::extract::Request;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::AppState;

/// Scripts, styles and images from this origin only, no inline script or style (the seat
/// bars are SVG sized by attributes), forms only to this origin, never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
/// A year; sent only when this server speaks TLS (`--tls-cert`).
const HSTS: &str = "max-age=31536000";

/// The pages' cache rule: never stored, so Back after sign-out (or another user of the
/// same browser) cannot show a users page from the cache. The assets are not pages.
pub(super) fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// The Account Center's routes with the security headers on every answer (redirects and
/// refusals too), and form posts from another origin refused.
pub(super) fn secured(router: Router<AppState>, tls: bool) -> Router<AppState> {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(axum::middleware::from_fn(refuse_foreign_posts))
        .layer(set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::REFERRER_POLICY, "same-origin"))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            tls.then(|| HeaderValue::from_static(HSTS)),
        ))
}

/// Behind the CSRF token: a form posted from another origin is refused (403).
async fn refuse_foreign_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST && !same_origin(request.headers(), request.uri()) {
        return (
            StatusCode::FORBIDDEN,
            "this form was posted from another site: open the Account Center and submit it there",
        )
            .into_response();
    }
    next.run(request).await
}

/// A request whose `Origin`, when it has one, is the host it was sent to (the `Host`
/// header, or under HTTP/2 the `:authority` in the URI). Browsers send `Origin` on every
/// form post; a client without one (curl) is left to the CSRF token.
fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(pairs: &[(&'static str, &'static str)]) -> bool {
        same_origin(&headers(pairs), &Uri::from_static("/admin/accounts"))
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_post_from_this_host_or_without_origin_passes() {
        assert!(same(&[("host", "127.0.0.1:8080")]));
        assert!(same(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ]));
        assert!(same(&[
            ("host", "scim.example.com"),
            ("origin", "https://SCIM.example.com")
        ]));
    }

    #[test]
    fn a_post_from_another_port_or_host_is_refused() {
        assert!(!same(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9090")
        ]));
        assert!(!same(&[("host", "127.0.0.1:8080"), ("origin", "null")]));
        assert!(!same(&[("origin", "http://127.0.0.1:8080")]));
    }

    #[test]
    fn under_http2_the_authority_is_the_host() {
        let origin = headers(&[("origin", "https://127.0.0.1:8443")]);
        let uri = Uri::from_static("https://127.0.0.1:8443/admin/accounts");
        assert!(same_origin(&origin, &uri));
        let other = Uri::from_static("https://127.0.0.1:9443/admin/accounts");
        assert!(!same_origin(&origin, &other));
    }
}
