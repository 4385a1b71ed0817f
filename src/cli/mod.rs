//! The command line: the clap command tree of the one binary. `serve` and `migrate` run
//! the server; the other commands are the Account Center for scripts, on the same
//! database as the server ([`admin`]), or act on a running server through its admin API
//! ([`remote`]: the manual clock, the journal, faults, snapshots).

pub mod admin;
pub mod remote;

use clap::{Parser, Subcommand};

use crate::config::SettingsArgs;

#[derive(Debug, Parser)]
#[command(
    name = "linkedin-scim",
    version,
    about = "A SCIM 2.0 server that behaves like LinkedIn's enterprise provisioning API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Let an Account Center command create the database when there is none (`serve`
    /// and `migrate` always may); without it a mistyped path is an error.
    #[arg(long, global = true)]
    pub create: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Account Center commands on the same database (see `docs/account-center.md`).
    #[command(flatten)]
    Admin(admin::AdminCommand),
    /// The running server's manual clock (`serve --clock manual`), through its admin API.
    #[command(subcommand)]
    Clock(remote::ClockCommand),
    /// Load synthetic users into an account, fast (for `bench/run`).
    #[command(hide = true)]
    SeedUsers(admin::SeedUsers),
    /// The running server's request journal: export it, assert on it.
    #[command(subcommand)]
    Journal(remote::JournalCommand),
    /// Faults injected into the running server's SCIM answers.
    #[command(subcommand)]
    Fault(remote::FaultCommand),
    /// Export an account's whole state, or restore it (through the running server).
    #[command(subcommand)]
    Snapshot(remote::SnapshotCommand),
    /// Ask the running server's `/readyz`: exit 0 when it is ready, 1 when not (the
    /// container image's HEALTHCHECK, which has no curl).
    Health {
        #[command(flatten)]
        server: remote::ServerArg,
    },
}
