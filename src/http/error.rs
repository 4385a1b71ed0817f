//! One error type for the HTTP layer, rendered once as an RFC 7644 §3.12 error response.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::fidelity::FidelityRefusal;
use crate::scim::error::{ProtocolError, ScimType};
use crate::scim::limits::RequestTooLarge;
use crate::store::StoreError;

pub(crate) const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub(crate) const SCIM_MEDIA_TYPE: &str = "application/scim+json";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// The license pool cannot do what was asked (full, or more seats in use).
    #[error("{0}")]
    SeatConflict(String),
    /// A fault injected on purpose (`crate::faults`): this status, this detail.
    #[error("{1}")]
    Injected(StatusCode, String),
    /// The server is not in a state that allows the request (e.g. moving a system clock).
    #[error("{0}")]
    WrongState(String),
    #[error("the resource changed: its version no longer matches If-Match")]
    PreconditionFailed,
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    NotImplemented(String),
    /// The SCIM configuration's rate limit is exhausted: retry after that many seconds.
    #[error("too many requests for this SCIM configuration: retry after {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// This client presented too many wrong tokens: retry after that many seconds.
    #[error("too many wrong tokens from this address: retry after {retry_after_secs} s")]
    TooManyFailures { retry_after_secs: u64 },
    /// Overloaded or out of time: retry later.
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot be reached: retry later (and the circuit breaker probes it).
    #[error("the database is unavailable: retry later")]
    DatabaseUnavailable,
    /// A failure that is not the client's: logged in full, answered with a generic 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(detail) => ApiError::Conflict(detail),
            StoreError::NotFound => ApiError::NotFound("resource not found".into()),
            StoreError::VersionMismatch => ApiError::PreconditionFailed,
            StoreError::Query(p) => ApiError::Protocol(p),
            StoreError::UnknownMembers(ids) => ApiError::Protocol(ProtocolError::invalid_value(format!(
                "members: no user of this account has the id {}",
                ids.join(", ")
            ))),
            StoreError::Seats(detail) => ApiError::SeatConflict(detail),
            // Not 409: Entra reads a 409 on create as "the user already exists" and goes
            // matching (docs/licensing.md, "A full pool in strict mode").
            StoreError::PoolFull(detail) => ApiError::Forbidden(format!(
                "{detail}: nothing was written; an administrator must add seats or free one, then the IdP's retry succeeds"
            )),
            StoreError::Database(e) if database_unavailable(&e) => {
                tracing::warn!(error = %e, "the database is unavailable");
                ApiError::DatabaseUnavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<RequestTooLarge> for ApiError {
    fn from(e: RequestTooLarge) -> Self {
        ApiError::PayloadTooLarge(e.0)
    }
}

/// Errors that say the database cannot be reached now (an outage, a restart, a full
/// pool, SQLite's write lock held past the busy timeout), not that the request is wrong:
/// answered 503 with `Retry-After`.
fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            sqlite_busy(db.as_ref())
                || db
                    .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some_and(|pg| postgres_unavailable(pg.code()))
        }
        _ => false,
    }
}

/// Postgres SQLSTATEs of a server that is going away or not taking connections: class 08
/// (connection exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
/// connect now (starting up or in recovery), 53300 too many connections.
fn postgres_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03" | "53300")
}

/// SQLITE_BUSY or SQLITE_LOCKED (any extended code): another connection holds the lock.
fn sqlite_busy(e: &dyn sqlx::error::DatabaseError) -> bool {
    e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && e.code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// Seconds a client is told to wait after a 503.
pub(crate) const RETRY_AFTER_SECONDS: &str = "5";

/// Fidelity refusals: what RFC 7644 calls them, with the detail saying what to do instead.
impl From<FidelityRefusal> for ApiError {
    fn from(refusal: FidelityRefusal) -> Self {
        let detail = refusal.to_string();
        match refusal {
            FidelityRefusal::UserList | FidelityRefusal::GroupList => {
                ApiError::Protocol(ProtocolError::new(ScimType::TooMany, detail))
            }
            FidelityRefusal::UserDelete | FidelityRefusal::Bulk => ApiError::NotImplemented(detail),
            FidelityRefusal::AdminEditLocked => ApiError::Forbidden(detail),
        }
    }
}

impl ApiError {
    fn parts(&self) -> (StatusCode, Option<ScimType>, String) {
        match self {
            ApiError::Protocol(p) => (
                StatusCode::from_u16(p.scim_type.status()).unwrap_or(StatusCode::BAD_REQUEST),
                Some(p.scim_type),
                p.detail.clone(),
            ),
            ApiError::NotFound(d) => (StatusCode::NOT_FOUND, None, d.clone()),
            ApiError::Unauthorized(d) => (StatusCode::UNAUTHORIZED, None, d.clone()),
            ApiError::Forbidden(d) => (StatusCode::FORBIDDEN, None, d.clone()),
            ApiError::Conflict(d) => (StatusCode::CONFLICT, Some(ScimType::Uniqueness), d.clone()),
            ApiError::SeatConflict(d) | ApiError::WrongState(d) => (StatusCode::CONFLICT, None, d.clone()),
            ApiError::Injected(status, d) => (*status, None, d.clone()),
            ApiError::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, None, self.to_string()),
            ApiError::PayloadTooLarge(d) => (StatusCode::PAYLOAD_TOO_LARGE, None, d.clone()),
            ApiError::UnsupportedMediaType(d) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, None, d.clone()),
            ApiError::MethodNotAllowed(d) => (StatusCode::METHOD_NOT_ALLOWED, None, d.clone()),
            ApiError::NotImplemented(d) => (StatusCode::NOT_IMPLEMENTED, None, d.clone()),
            ApiError::Unavailable(d) => (StatusCode::SERVICE_UNAVAILABLE, None, d.clone()),
            ApiError::DatabaseUnavailable => (StatusCode::SERVICE_UNAVAILABLE, None, self.to_string()),
            ApiError::Throttled { .. } | ApiError::TooManyFailures { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, None, self.to_string())
            }
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "internal server error; see the server log".to_owned(),
            ),
        }
    }
}

/// Set on a response whose request met the database down (the circuit breaker's cue).
#[derive(Debug, Clone, Copy)]
pub(crate) struct DatabaseDown;

/// The detail of an error response, for the activity log.
#[derive(Debug, Clone)]
pub(crate) struct ErrorDetail(pub(crate) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, scim_type, detail) = self.parts();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": status.as_u16().to_string(),
            "detail": &detail,
        });
        if let Some(t) = scim_type {
            body["scimType"] = json!(t.as_str());
        }
        let mut response = (status, body.to_string()).into_response();
        response.extensions_mut().insert(ErrorDetail(detail));
        if matches!(self, ApiError::DatabaseUnavailable) {
            response.extensions_mut().insert(DatabaseDown);
        }
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        if let ApiError::Throttled { retry_after_secs } | ApiError::TooManyFailures { retry_after_secs } =
            &self
        {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"linkedin-scim\""),
            );
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_503_with_retry_after() {
        for cause in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            let response = ApiError::from(StoreError::Database(cause)).into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers()[header::RETRY_AFTER], RETRY_AFTER_SECONDS);
            assert_eq!(response.headers()[header::CONTENT_TYPE], SCIM_MEDIA_TYPE);
        }
        let other = ApiError::from(StoreError::Database(sqlx::Error::RowNotFound)).into_response();
        assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let reset = ApiError::from(StoreError::Database(sqlx::Error::Io(reset))).into_response();
        assert_eq!(reset.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn postgres_going_away_is_unavailable_and_a_constraint_is_not() {
        for sqlstate in ["57P01", "57P02", "57P03", "53300", "08006", "08001"] {
            assert!(postgres_unavailable(sqlstate), "{sqlstate}");
        }
        for sqlstate in ["23505", "22021", "40001", "42P01"] {
            assert!(!postgres_unavailable(sqlstate), "{sqlstate}");
        }
    }
}
