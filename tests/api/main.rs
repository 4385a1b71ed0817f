//! The behavioural suite: one test binary, every test run against SQLite and Postgres.
//! Files mirror the URL tree.

mod helpers;

mod activity;
mod admin;
mod auth;
mod discovery;
mod errors;
mod filters;
mod groups;
mod idp;
mod licensing;
mod root;
mod store;
mod users;
