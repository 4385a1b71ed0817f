//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): the AST, the
//! parser and the reference evaluator.
//!
//! * [`parse_filter`] parses a `filter` query parameter / `.search` body member;
//!   [`parse_filter_with_schema`] additionally checks the filter against a resource type's
//!   schema (comparison on a complex attribute, ordering on a boolean, …) so that such
//!   mistakes become `invalidFilter` with a position instead of a silent non-match.
//! * [`parse_path`] parses a PATCH `path`.
//! * [`matches`] / [`matches_element`] are the reference semantics; `eval.rs` documents
//!   every rule, and the SQL translation in the store must reproduce them.
//! * `Display` for [`Filter`] and [`PatchPath`] renders a canonical string that parses
//!   back to the same AST.
//!
//! Error positions are **byte offsets** (0-based) into the input string.

mod eval;
mod lexer;
mod parser;

use std::fmt;

use serde_json::Value;

use crate::error::ProtocolError;
use crate::schema::{AttrPath, ResourceSchema};
use crate::tolerance::Leniency;

pub use eval::{matches, matches_element};

/// Maximum nesting of `(`, `not (` and `[` in one filter.
pub const MAX_DEPTH: usize = 64;
/// Maximum number of attribute expressions (comparisons, `pr`, value paths and the
/// expressions inside them) in one filter. `and`/`or` chains are nested boxes, so this
/// bounds the AST's depth (≤ `MAX_TERMS + MAX_DEPTH`) and with it the stack that every
/// recursive consumer (Display, eval, clone, drop, the SQL translation) needs: measured in
/// a debug build at under 1 KiB per level, i.e. well under 512 KiB, against tokio's 2 MiB
/// worker stacks. IdPs send one to three expressions.
pub const MAX_TERMS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator as written in a filter (lower case).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Parse an operator keyword, case-insensitively (`pr` is not a `CompareOp`).
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `gt`, `ge`, `lt`, `le`.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// `co`, `sw`, `ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`; value is a JSON string, number, bool or null.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Value,
    },
    /// `path pr`
    Present(AttrPath),
    /// `attr[inner]`: `attr` names a (multi-valued) complex attribute (its `sub` is None);
    /// paths inside `filter` are relative to one element: their `name` is the sub-attribute
    /// name and their `urn`/`sub` are None.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`.
/// `members[value eq "x"]` → attr {name: members, sub: None}, filter Some(..).
/// `emails[type eq "work"].value` → attr {name: emails, sub: Some("value")}, filter Some(..).
/// `name.givenName` → attr {name: name, sub: Some(givenName)}, filter None.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
}

/// A filter or path the parser refuses. `position` is a 0-based **byte** offset into the
/// input; `message` says what was expected and quotes what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct FilterError {
    pub position: usize,
    pub message: String,
}

impl FilterError {
    pub fn new(position: usize, message: impl Into<String>) -> Self {
        FilterError {
            position,
            message: message.into(),
        }
    }

    /// The error as an `invalidPath` protocol error (for PATCH paths).
    pub fn into_invalid_path(self) -> ProtocolError {
        ProtocolError::invalid_path(format!("invalid path: {self}"))
    }
}

impl From<FilterError> for ProtocolError {
    /// `invalidFilter`; the detail carries the message (which quotes the offending
    /// text) and the position.
    fn from(e: FilterError) -> Self {
        ProtocolError::invalid_filter(format!("invalid filter: {e}"))
    }
}

/// Parse a SCIM filter. Unquoted comparison values are accepted only when
/// `leniency.permit(Tolerance::UnquotedFilterValue)`.
pub fn parse_filter(input: &str, leniency: &mut Leniency) -> Result<Filter, FilterError> {
    parser::parse_filter(input, leniency, None)
}

/// [`parse_filter`], then check every attribute expression against `schema`: a comparison
/// on a complex attribute that has no `value` sub-attribute, a value path on a
/// non-complex attribute, and an ordering or substring operator on a boolean attribute are
/// `invalidFilter`. Unknown attributes are not errors (they simply match nothing).
pub fn parse_filter_with_schema(
    input: &str,
    leniency: &mut Leniency,
    schema: &ResourceSchema,
) -> Result<Filter, FilterError> {
    parser::parse_filter(input, leniency, Some(schema))
}

/// Parse a PATCH path. The PATCH engine maps the error to `invalidPath`
/// ([`FilterError::into_invalid_path`]). Filters inside a path must quote their values.
pub fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    parser::parse_path(input)
}

impl Filter {
    /// `a and b`
    pub fn and(a: Filter, b: Filter) -> Filter {
        Filter::And(Box::new(a), Box::new(b))
    }

    /// `a or b`
    pub fn or(a: Filter, b: Filter) -> Filter {
        Filter::Or(Box::new(a), Box::new(b))
    }

    /// `not (f)`
    pub fn negate(f: Filter) -> Filter {
        Filter::Not(Box::new(f))
    }

    /// `path op value`
    pub fn compare(path: AttrPath, op: CompareOp, value: impl Into<Value>) -> Filter {
        Filter::Compare {
            path,
            op,
            value: value.into(),
        }
    }
}

/// Binding strength used by `Display` to decide where parentheses are needed.
fn precedence(f: &Filter) -> u8 {
    match f {
        Filter::Or(..) => 1,
        Filter::And(..) => 2,
        _ => 3,
    }
}

fn write_operand(f: &mut fmt::Formatter<'_>, inner: &Filter, min: u8) -> fmt::Result {
    if precedence(inner) < min {
        write!(f, "({inner})")
    } else {
        write!(f, "{inner}")
    }
}

impl fmt::Display for Filter {
    /// Canonical form: lower-case operators, JSON literals, single spaces, and only the
    /// parentheses that the left-associative `and`/`or` grammar needs. Parsing the output
    /// gives back the same AST.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::ValuePath { attr, filter } => write!(f, "{attr}[{filter}]"),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::And(a, b) => {
                write_operand(f, a, 2)?;
                f.write_str(" and ")?;
                write_operand(f, b, 3)
            }
            Filter::Or(a, b) => {
                write_operand(f, a, 1)?;
                f.write_str(" or ")?;
                write_operand(f, b, 2)
            }
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => write!(f, "{}", self.attr),
            Some(filter) => {
                if let Some(urn) = &self.attr.urn {
                    write!(f, "{urn}:")?;
                }
                write!(f, "{}[{filter}]", self.attr.name)?;
                if let Some(sub) = &self.attr.sub {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
