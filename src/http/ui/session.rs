//! The web UI's session: after a login with the admin token, an encrypted, HttpOnly,
//! SameSite=Strict cookie holding the session's CSRF token and expiry. The cookie key is
//! derived from the admin token's hash, so a server started with another admin token
//! (a random one each start by default) ends every session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

use crate::http::AppState;

pub(super) const SESSION_COOKIE: &str = "lscim_session";
/// The CSRF token of the login form, before there is a session.
pub(super) const LOGIN_COOKIE: &str = "lscim_login";
/// How long a session lasts without a new login.
const SESSION_MICROS: i64 = 12 * 60 * 60 * 1_000_000;

/// The cookie key of this server's admin token.
pub(super) fn key(state: &AppState) -> Key {
    let digest = Sha512::new()
        .chain_update(b"linkedin-scim admin ui session\0")
        .chain_update(state.admin_token.0.as_bytes())
        .finalize();
    // A SHA-512 digest is exactly the 64 bytes `Key` needs, so the fallback (a random
    // key: every session would end) never runs.
    Key::try_from(digest.as_slice()).unwrap_or_else(|_| Key::generate())
}

/// What lets handlers take a `PrivateCookieJar`.
impl axum::extract::FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        key(state)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionData {
    csrf: String,
    expires_at: i64,
}

/// A logged-in admin; the CSRF token every form of the session carries.
#[derive(Debug, Clone)]
pub(super) struct Session {
    pub(super) csrf: String,
}

impl Session {
    /// Start a session: the cookie to set.
    pub(super) fn start(state: &AppState, jar: PrivateCookieJar) -> PrivateCookieJar {
        let data = SessionData {
            csrf: random_token(),
            expires_at: state.clock.now_micros().saturating_add(SESSION_MICROS),
        };
        let value = serde_json::to_string(&data).unwrap_or_default();
        jar.add(cookie(SESSION_COOKIE, value))
    }

    /// Does a submitted form carry this session's CSRF token?
    pub(super) fn check(&self, presented: &str) -> Result<(), CsrfMismatch> {
        let ok: bool = subtle::ConstantTimeEq::ct_eq(self.csrf.as_bytes(), presented.as_bytes()).into();
        if ok { Ok(()) } else { Err(CsrfMismatch) }
    }
}

/// A form without this session's CSRF token (the pages answer 403).
#[derive(Debug)]
pub(super) struct CsrfMismatch;

/// An HttpOnly, SameSite=Strict cookie for the admin pages.
pub(super) fn cookie(name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

pub(super) fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let data = PrivateCookieJar::from_headers(&parts.headers, key(state))
            .get(SESSION_COOKIE)
            .and_then(|c| serde_json::from_str::<SessionData>(c.value()).ok())
            .filter(|d| d.expires_at > state.clock.now_micros());
        match data {
            Some(d) => Ok(Session { csrf: d.csrf }),
            None => Err(Redirect::to("/admin/login").into_response()),
        }
    }
}
