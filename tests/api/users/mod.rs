mod create;
mod delete;
mod get;
mod import;
mod list;
mod patch;
mod replace;
mod sort;
