//! LinkedIn licensing: products, license states, what a SCIM write asks of the seat
//! pools, and the rules deciding assignment, waiting, refusal, release, promotion and
//! activation (`rules`). The store carries the decisions out inside the write's
//! transaction (`store/sql/licenses.rs`), where the seat invariant is enforced across
//! server replicas.

pub mod rules;

use serde::{Deserialize, Serialize};

pub use crate::ids::{InstanceId, PoolId};

pub use rules::{Activation, Assignment, Refusal, Release, SeatPlan};

/// A LinkedIn product (`sales_navigator`, `learning`, `elevate`, …): lower-case ASCII
/// letters, digits and `_`, so new products need no code change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Product(String);

impl Product {
    pub const SALES_NAVIGATOR: &'static str = "sales_navigator";
    pub const LEARNING: &'static str = "learning";
    pub const ELEVATE: &'static str = "elevate";

    pub fn sales_navigator() -> Product {
        Product(Self::SALES_NAVIGATOR.to_owned())
    }

    pub fn learning() -> Product {
        Product(Self::LEARNING.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Product {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Product(s))
        } else {
            Err(format!(
                "invalid product {s:?}: use lower-case letters, digits and _ (e.g. sales_navigator)"
            ))
        }
    }
}

impl From<Product> for String {
    fn from(p: Product) -> String {
        p.0
    }
}

impl std::fmt::Display for Product {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a user's license for one product stands (stored and shown lower-case).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum LicenseState {
    /// Provisioned over SCIM; the user has not accepted it yet.
    Assigned,
    /// The user accepted the license (emulated by the admin API).
    Activated,
    /// No seat was free when it was requested; first come, first served.
    Waiting,
}

impl LicenseState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Does this state occupy a seat?
    pub fn holds_seat(self) -> bool {
        !matches!(self, LicenseState::Waiting)
    }
}

/// What to do when the pool a configuration auto-assigns from is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WhenFull {
    /// Sync the user anyway and record the license as waiting (LinkedIn's behaviour as
    /// far as it is known: user data always syncs).
    #[default]
    Wait,
    /// Refuse the write with 409, so a connector sees the shortage as an error.
    Refuse,
}

/// The seat a SCIM write asks for: the pool its configuration auto-assigns from, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRequest {
    pub pool_id: Option<PoolId>,
    pub when_full: WhenFull,
}

impl SeatRequest {
    /// A write that syncs user data only (auto-assign off, or an admin action).
    pub fn none() -> Self {
        SeatRequest {
            pool_id: None,
            when_full: WhenFull::Wait,
        }
    }
}

/// What a write did to the user's licenses: for the activity log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatChange {
    /// No licensing applies (a group write).
    Unchanged,
    /// A user write that changed no license, and why.
    Kept(NoChange),
    /// A seat of `product` was taken.
    Assigned(String),
    /// The pool was full: the user waits for a seat of `product`.
    Waiting(String),
    /// The user was deleted; this many licenses were released.
    Released(usize),
}

/// Why a user write changed no license: every no-op licensing decision says what and
/// why in the activity log, so an admin need not guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChange {
    /// The configuration does not auto-assign: only user data is synced.
    NoAutoAssign,
    /// One license per product: the user already holds one of `product`, from the pool
    /// of `license_type` (perhaps another configuration's).
    Holds { product: String, license_type: String },
    /// The user's license of `product` is waiting and no seat is free yet.
    StillWaiting(String),
    /// A deactivation through the configuration of `product`; the user holds none.
    NothingToRelease(String),
    /// The configuration's pool no longer exists.
    NoPool,
}

impl std::fmt::Display for NoChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoChange::NoAutoAssign => {
                f.write_str("no license: this configuration does not auto-assign (only user data is synced)")
            }
            NoChange::Holds {
                product,
                license_type,
            } => write!(
                f,
                "no license: one license per product, holds {license_type} ({product})"
            ),
            NoChange::StillWaiting(product) => {
                write!(
                    f,
                    "no license: still waiting for a {product} seat (the pool is full)"
                )
            }
            NoChange::NothingToRelease(product) => {
                write!(f, "no license released: the user holds no {product} license")
            }
            NoChange::NoPool => f.write_str("no license: the configuration's pool no longer exists"),
        }
    }
}

impl SeatChange {
    pub fn describe(&self) -> Option<String> {
        match self {
            SeatChange::Unchanged => None,
            SeatChange::Kept(why) => Some(why.to_string()),
            SeatChange::Assigned(p) => Some(format!("license assigned ({p})")),
            SeatChange::Waiting(p) => Some(format!("no seat free ({p}): waiting")),
            SeatChange::Released(0) => None,
            SeatChange::Released(n) => Some(format!("{n} license(s) released")),
        }
    }
}

/// One license of a user, as shown on the SCIM User and in the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct License {
    pub product: String,
    pub instance: String,
    pub license_type: String,
    pub state: LicenseState,
    /// RFC 3339, when a seat was assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assigned_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_validated_slugs() {
        assert!(Product::try_from("sales_navigator".to_owned()).is_ok());
        assert!(Product::try_from("Sales Navigator".to_owned()).is_err());
        assert!(Product::try_from(String::new()).is_err());
    }

    #[test]
    fn states_round_trip_and_waiting_holds_no_seat() {
        for s in [
            LicenseState::Assigned,
            LicenseState::Activated,
            LicenseState::Waiting,
        ] {
            assert_eq!(s.as_str().parse::<LicenseState>(), Ok(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::json!(s.as_str())));
        }
        assert!("Assigned".parse::<LicenseState>().is_err());
        assert!(!LicenseState::Waiting.holds_seat());
        assert!(LicenseState::Activated.holds_seat());
    }
}
