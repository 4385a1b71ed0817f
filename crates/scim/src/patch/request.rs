//! Reading the request: the `PatchOp` body, each operation's `op`, `path` and `value`,
//! and the tolerances for what Entra and Okta send there.

use serde_json::Value;

use super::{Engine, OpKind, PATCH_OP_SCHEMA};
use crate::case_insensitive;
use crate::error::ProtocolError;
use crate::tolerance::{Leniency, Tolerance};

pub(super) fn read_request<'r>(
    request: &'r Value,
    leniency: &mut Leniency,
) -> Result<&'r [Value], ProtocolError> {
    let body = request
        .as_object()
        .ok_or_else(|| ProtocolError::invalid_syntax("a PATCH request body must be a JSON object"))?;
    let declares_patch_op = match case_insensitive::get(body, "schemas") {
        Some(Value::Array(schemas)) => schemas.iter().any(|s| {
            s.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
        }),
        _ => false,
    };
    if !declares_patch_op {
        return Err(ProtocolError::invalid_syntax(format!(
            "\"schemas\" must be an array holding \"{PATCH_OP_SCHEMA}\""
        )));
    }
    let operations: &[Value] = match case_insensitive::get(body, "Operations") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(ops)) => ops,
        Some(_) => {
            return Err(ProtocolError::invalid_syntax(
                "\"Operations\" must be an array of operations",
            ));
        }
    };
    if operations.is_empty() && !leniency.permit(Tolerance::EmptyOperations) {
        return Err(ProtocolError::invalid_syntax(
            "\"Operations\" must hold at least one operation",
        ));
    }
    Ok(operations)
}

impl<'a> Engine<'a> {
    pub(super) fn apply_operation(&mut self, operation: &Value) -> Result<(), ProtocolError> {
        let operation = operation
            .as_object()
            .ok_or_else(|| ProtocolError::invalid_syntax("an operation must be a JSON object"))?;
        let kind = self.op_kind(case_insensitive::get(operation, "op"))?;
        let path = match case_insensitive::get(operation, "path") {
            None | Some(Value::Null) => None,
            Some(Value::String(path)) => Some(path.as_str()),
            Some(_) => return Err(ProtocolError::invalid_syntax("\"path\" must be a string")),
        };
        let value = case_insensitive::get(operation, "value");
        match (kind, path) {
            (OpKind::Remove, None) => Err(ProtocolError::no_target(
                "a remove operation needs a \"path\" (RFC 7644 §3.5.2.2)",
            )),
            (OpKind::Remove, Some(path)) => {
                let target = self.resolve_target(path)?;
                self.apply_target(kind, target, value.filter(|v| !v.is_null()), path)
            }
            (_, path) => {
                let value = value.ok_or_else(|| {
                    ProtocolError::invalid_value(format!("an {} operation needs a \"value\"", kind.as_str()))
                })?;
                match path {
                    None => self.apply_no_path(kind, value),
                    Some(path) => {
                        let target = self.resolve_target(path)?;
                        self.apply_target(kind, target, Some(value), path)
                    }
                }
            }
        }
    }

    pub(super) fn op_kind(&mut self, op: Option<&Value>) -> Result<OpKind, ProtocolError> {
        let name = match op {
            Some(Value::String(name)) => name.as_str(),
            Some(_) => return Err(ProtocolError::invalid_syntax("\"op\" must be a string")),
            None => {
                return Err(ProtocolError::invalid_syntax("an operation needs an \"op\""));
            }
        };
        let kind = [OpKind::Add, OpKind::Replace, OpKind::Remove]
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                ProtocolError::invalid_syntax(format!(
                    "unknown op {name:?}: expected \"add\", \"replace\" or \"remove\""
                ))
            })?;
        if name != kind.as_str() && !self.leniency.permit(Tolerance::CapitalisedOp) {
            return Err(ProtocolError::invalid_syntax(format!(
                "op {name:?} must be written in lower case: \"{}\"",
                kind.as_str()
            )));
        }
        Ok(kind)
    }

    pub(super) fn permit_remove_value(&mut self) -> Result<(), ProtocolError> {
        if self.leniency.permit(Tolerance::RemoveWithValueList) {
            Ok(())
        } else {
            Err(ProtocolError::invalid_syntax(
                "a remove operation takes no \"value\" (RFC 7644 §3.5.2.2): name the values to \
                 remove with a filter, e.g. members[value eq \"…\"]",
            ))
        }
    }
}
