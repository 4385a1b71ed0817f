//! TEMPORARY until the PATCH engine lands.
use serde_json::Value;
use super::error::ProtocolError;
use super::schema::ResourceSchema;
use super::tolerance::Leniency;
pub struct PatchOutcome { pub resource: Value, pub changed: bool }
pub fn apply_patch(_r: &Value, _q: &Value, _s: &ResourceSchema, _d: &[&str], _id: &str, _l: &mut Leniency) -> Result<PatchOutcome, ProtocolError> { Err(ProtocolError::invalid_syntax("todo")) }
