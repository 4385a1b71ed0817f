//! The SCIM protocol, pure: schemas, filters, PATCH, projection. No I/O here.

pub mod bulk;
pub mod case_insensitive;
pub mod catalog;
pub mod cursor;
pub mod discovery;
pub mod error;
pub mod filter;
#[cfg(test)]
mod fixtures;
pub mod limits;
pub mod list;
pub mod normalize;
pub mod patch;
pub mod projection;
pub mod schema;
pub mod tolerance;
