//! The web UI's session: after a login with the admin token, a row in the store (the
//! session's id, CSRF token and expiry) and an encrypted, HttpOnly, SameSite=Strict
//! cookie naming it (`Secure` when the server speaks TLS). Signing out deletes the row,
//! so a cookie copied before sign-out is refused afterwards, on every replica and after
//! a restart; "sign out everywhere" deletes them all. The cookie key is derived from the
//! admin token's hash, so a server started with another admin token (a random one each
//! start by default) ends every session too. The row also carries the flash line an
//! action leaves for the next page ([`Session::leave`], [`Session::take_flash`]) and a
//! token just issued, sealed, for its one view ([`Session::take_token`]).

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use sha2::{Digest, Sha512};

use super::Flash;
use crate::accounts::AccountId;
use crate::center::IssuedToken;
use crate::http::AppState;
use crate::store::{AdminSession, SessionNote, StoreError};

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

/// A logged-in admin; the CSRF token every form of the session carries.
#[derive(Debug, Clone)]
pub(super) struct Session {
    id: String,
    pub(super) csrf: String,
    /// The flash line waiting when the session was read (JSON of a [`Flash`]).
    flash: Option<String>,
    /// A token just issued, sealed, waiting for its one view.
    token_view: Option<String>,
}

/// A token waiting in the session for the Settings page of its account.
#[derive(serde::Serialize, serde::Deserialize)]
struct TokenView {
    account: AccountId,
    issued: IssuedToken,
}

impl Session {
    /// Start a session: recorded in the store, and the cookie to set.
    pub(super) async fn start(
        state: &AppState,
        jar: PrivateCookieJar,
    ) -> Result<PrivateCookieJar, StoreError> {
        let now = state.clock.now_micros();
        let session = AdminSession {
            id: random_token(),
            csrf: random_token(),
            expires_at: now.saturating_add(SESSION_MICROS),
            flash: None,
            token_view: None,
        };
        state.store.start_session(&session, now).await?;
        Ok(jar.add(cookie(state, SESSION_COOKIE, session.id)))
    }

    /// End this session (sign-out): its cookie is refused from now on, wherever shown.
    pub(super) async fn end(&self, state: &AppState) -> Result<(), StoreError> {
        state.store.end_session(&self.id).await
    }

    /// Leave a flash line for the next page of this session. Losing it (the database
    /// failed just now) costs only the message: the action itself is done or refused.
    pub(super) async fn leave(&self, state: &AppState, flash: &Flash) {
        let stored = match serde_json::to_string(flash) {
            Ok(json) => {
                state
                    .store
                    .put_session_note(&self.id, SessionNote::Flash, &json)
                    .await
            }
            Err(e) => {
                tracing::warn!(error = %e, "flash message not serialisable");
                return;
            }
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "flash message not stored");
        }
    }

    /// The flash line an action left, once: the page that takes it shows it, a reload
    /// (or a second tab) does not.
    pub(super) async fn take_flash(&self, state: &AppState) -> Flash {
        match &self.flash {
            Some(seen) if self.take(state, SessionNote::Flash, seen).await => {
                serde_json::from_str(seen).unwrap_or_default()
            }
            _ => Flash::default(),
        }
    }

    /// Leave a token just issued for the Settings page of `account` to show once, sealed
    /// with the cookie key and bound to this session.
    pub(super) async fn leave_token(
        &self,
        state: &AppState,
        account: &AccountId,
        issued: IssuedToken,
    ) -> Result<(), StoreError> {
        let view = TokenView {
            account: account.clone(),
            issued,
        };
        let json = serde_json::to_string(&view).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut jar = cookie::CookieJar::new();
        jar.private_mut(&key(state))
            .add(cookie::Cookie::new(self.token_view_name(), json));
        let sealed = jar
            .get(&self.token_view_name())
            .map(|c| c.value().to_owned())
            .ok_or_else(|| StoreError::Invalid("the token view was not sealed".into()))?;
        state
            .store
            .put_session_note(&self.id, SessionNote::TokenView, &sealed)
            .await?;
        Ok(())
    }

    /// The token waiting for `account`'s Settings page, once: a reload shows none.
    pub(super) async fn take_token(&self, state: &AppState, account: &AccountId) -> Option<IssuedToken> {
        let sealed = self.token_view.as_ref()?;
        let jar = cookie::CookieJar::new();
        let opened = jar
            .private(&key(state))
            .decrypt(cookie::Cookie::new(self.token_view_name(), sealed.clone()))?;
        let view: TokenView = serde_json::from_str(opened.value()).ok()?;
        // Another account's token waits for that account's page.
        if view.account != *account || !self.take(state, SessionNote::TokenView, sealed).await {
            return None;
        }
        Some(view.issued)
    }

    /// What a sealed token view is bound to (the AEAD's associated data): this session.
    fn token_view_name(&self) -> String {
        format!("token-view {}", self.id)
    }

    /// Take a note read with the session: true for the one page that gets it.
    async fn take(&self, state: &AppState, note: SessionNote, seen: &str) -> bool {
        state
            .store
            .take_session_note(&self.id, note, seen)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, ?note, "session note not taken");
                false
            })
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

/// An HttpOnly, SameSite=Strict cookie for the admin pages, `Secure` over TLS.
pub(super) fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.tls_cert.is_some())
        .build()
}

pub(super) fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(id) = PrivateCookieJar::from_headers(&parts.headers, key(state))
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
        else {
            return Err(Redirect::to("/admin/login").into_response());
        };
        match state.store.live_session(&id, state.clock.now_micros()).await {
            Ok(Some(session)) => Ok(Session {
                id: session.id,
                csrf: session.csrf,
                flash: session.flash,
                token_view: session.token_view,
            }),
            Ok(None) => Err(Redirect::to("/admin/login").into_response()),
            Err(e) => {
                tracing::warn!(error = %e, "admin session lookup failed");
                Err((
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "1")],
                    "the database is not answering: try again in a moment",
                )
                    .into_response())
            }
        }
    }
}
