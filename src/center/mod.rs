//! The Account Center's operations: what an admin does to accounts, instances, pools,
//! SCIM configurations, users, groups and the activity log. The admin JSON API, the web
//! UI and the CLI all call these, so each rule (validation, token issue, 404 for another
//! account's resources) lives here once; the callers only parse and render. One file per
//! subject, each with its request and view types and an `impl Center` block.

mod accounts;
mod activity;
mod configurations;
pub mod export;
mod groups;
mod licensing;
mod rules;
pub mod seed;
mod users;

use std::sync::Arc;

pub use accounts::{AccountChange, NewAccount};
pub use activity::ActivityFilter;
pub use configurations::{IssuedToken, NewScimConfiguration};
pub use groups::{GroupView, MemberView};
pub use licensing::{NewPool, NextInLine, PoolView};
pub use rules::LicenseRuleView;
pub use users::{MAX_USERS_PAGE, UserSearch, UserView};

use crate::clock::Clock;
use crate::store::{Store, StoreError};

/// Why an Account Center operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum CenterError {
    /// Bad input: `field` is the request member at fault.
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    /// A name is taken.
    #[error("{0}")]
    Conflict(String),
    /// The license pool cannot do it (full, or more seats in use than asked for).
    #[error("{0}")]
    Seats(String),
    /// The account's fidelity settings forbid the edit.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for CenterError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(detail) => CenterError::Conflict(detail),
            StoreError::Seats(detail) | StoreError::PoolFull(detail) => CenterError::Seats(detail),
            StoreError::UnknownMembers(ids) => CenterError::Invalid {
                field: "members",
                message: format!("no user of this account has the id {}", ids.join(", ")),
            },
            other => CenterError::Store(other),
        }
    }
}

pub type CenterResult<T> = Result<T, CenterError>;

fn invalid(field: &'static str, message: impl Into<String>) -> CenterError {
    CenterError::Invalid {
        field,
        message: message.into(),
    }
}

/// A display name typed by an admin: trimmed, 1 to 100 characters.
fn name(field: &'static str, text: &str) -> CenterResult<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > 100 || trimmed.chars().any(char::is_control) {
        return Err(invalid(field, "use at most 100 printable characters"));
    }
    Ok(trimmed.to_owned())
}

/// The Account Center over one store and clock.
#[derive(Clone)]
pub struct Center {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Center {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Center {
        Center { store, clock }
    }

    fn now(&self) -> i64 {
        self.clock.now_micros()
    }
}
