//! The behavioural suite: one test binary, every test run against SQLite and Postgres.
//! Files mirror the URL tree.

mod helpers;

mod admin;
mod auth;
mod browser;
mod center;
mod cli;
mod discovery;
mod errors;
mod fidelity;
mod filters;
mod groups;
mod idp;
mod licensing;
mod replicas;
mod root;
mod store;
mod tokens;
mod ui;
mod users;
