//! The emulator's rules, without I/O: typed ids, the injected clock, accounts with their
//! fidelity profile and tokens, licensing (seat rules), group membership, what a SCIM write means (provisioning), the activity
//! and journal records, faults and snapshots. It builds on the protocol crate only; the
//! store persists these types and the application serves them.
//!
//! Framework impls for its types sit behind features that only the crates above turn
//! on: `sqlx` (ids bound and read as text), `clap` (command-line value enums),
//! `utoipa` (OpenAPI schemas).

pub mod accounts;
pub mod activity;
pub mod clock;
pub mod faults;
pub mod ids;
pub mod journal;
pub mod licensing;
pub mod membership;
pub mod provisioning;
pub mod snapshot;
