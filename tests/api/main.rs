//! The behavioural suite: one test binary, every test run against SQLite and Postgres.
//! Files mirror the URL tree.

#![expect(unreachable_pub, reason = "a test or bench binary has no public API")]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test and bench helpers report a failure by panicking"
)]

mod helpers;

mod limits;

mod abuse;

mod admin;
mod auth;
mod browser;
mod brute_force;
mod bulk;
mod cli;
mod cursors;
mod discovery;
mod edge;
mod errors;
mod fairness;
mod fidelity;
mod filters;
mod groups;
mod idp;
mod licensing;
mod metrics;
mod mounts;
mod outage;
mod products;
mod profiles;
mod replicas;
mod root;
mod routes;
mod rules;
mod store;
mod throttle;
mod tls;
mod tokens;
mod ui;
mod users;
