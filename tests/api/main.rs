//! The behavioural suite: one test binary, every test run against SQLite and Postgres.
//! Files mirror the URL tree.

mod helpers;

mod activity;
mod admin;
mod auth;
mod browser;
mod center;
mod cli;
mod discovery;
mod errors;
mod filters;
mod groups;
mod idp;
mod licensing;
mod root;
mod ui;
mod users;
