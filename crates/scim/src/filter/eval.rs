//! The reference evaluator: what a filter means. The SQL translation (Postgres jsonb and
//! SQLite json1) must give the same answer as [`matches`] on every resource, and property
//! tests hold it to that, so every rule here is deliberately simple and stated in full.
//!
//! # Semantic rules
//!
//! **Logic.** Two-valued: every attribute expression is `true` or `false` (never
//! "unknown"), and `and`, `or`, `not` are plain boolean logic. (SQL must `COALESCE` its
//! three-valued NULLs to false at each attribute expression.)
//!
//! **Finding the values of a path** `[urn:]name[.sub]` in a resource:
//! 1. Container: no URN, or the core schema's URN → the resource object itself; any other
//!    URN → the member of the resource whose key equals the URN (ASCII case-insensitive).
//! 2. Member lookup is ASCII case-insensitive on keys: an exact-case key wins, otherwise
//!    the first key (in the JSON object's order) that matches ignoring ASCII case.
//! 3. A JSON array contributes its elements, any other value contributes itself, and
//!    `null` (as a value or an array element) contributes nothing.
//! 4. With `.sub`, step 2–3 is applied to each value from step 3 (a non-object value
//!    contributes nothing). So `emails.value` is every element's `value`: multi-valued
//!    attributes match if ANY value matches.
//!
//! The attribute's definition comes from [`ResourceSchema::resolve`], which knows the
//! RFC 7643 §3.1 common attributes (`id`, `externalId`, `meta`) as `schemas/common.json`
//! defines them. Unknown attributes (also `schemas`) have no definition: they are still
//! looked up in the JSON, compared as caseExact=false, never as dateTime.
//!
//! **`pr`**: true iff some value from the lookup is non-empty — not `""`, not `[]`, not
//! `{}` (null never gets that far). `emails pr` on `[{}]` is false.
//!
//! **Complex attribute without a sub-attribute** (`emails co "@x"`, `members eq "u"`):
//! every comparison operator (not `pr`) compares each value's `value` sub-attribute
//! instead: any JSON object among the values is replaced by its `value` member (looked up
//! as in step 2, dropped when missing or null; this holds for unknown attributes too), and
//! a `complex` definition is replaced by its `value` sub-attribute's definition. So
//! `emails co "@x"` ≡ `emails.value co "@x"` and `members eq "u"` ≡ `members.value eq "u"`.
//! [`super::parse_filter_with_schema`] rejects this form when the complex attribute has no
//! `value` sub-attribute (`name eq "x"`).
//!
//! **Comparison of one value `v` with the operand `x`** (`cmp`):
//! * both strings: if the definition is `dateTime` and both parse as RFC 3339
//!   (chrono `DateTime::parse_from_rfc3339`), `eq`/`gt`/`ge`/`lt`/`le` compare the instants
//!   (`…:34Z` = `…:34.000+00:00`); otherwise strings are compared, both sides folded with
//!   **ASCII-only lower-casing** (`to_ascii_lowercase`) unless the definition says
//!   `caseExact: true`. ASCII folding is deliberate: SQLite's `lower()` folds only ASCII and
//!   Postgres' `lower()` depends on the collation, so the SQL translation folds ASCII
//!   explicitly (e.g. `translate(x, 'ABC…Z', 'abc…z')` or SQLite `lower()`) and agrees with
//!   Rust. `co`/`sw`/`ew` are substring/prefix/suffix tests; `gt`/`ge`/`lt`/`le` compare
//!   the (folded) strings **byte-wise** (UTF-8 byte order = code point order; Postgres must
//!   use `COLLATE "C"`).
//! * both numbers: numeric comparison (integers exactly, otherwise as f64; `1` eq `1.0`).
//!   `co`/`sw`/`ew` → false.
//! * both booleans: `eq` only (ordering and substring operators → false; the parser
//!   rejects them anyway).
//! * any other combination (type mismatch, e.g. `"5"` vs `5`, `"true"` vs `true`) → false.
//!
//! **Operators over the values of a path:**
//! * `eq`, `co`, `sw`, `ew`, `gt`, `ge`, `lt`, `le`: true iff ANY value compares true.
//!   No values (absent attribute) → false.
//! * `ne`: `not (path eq x)` — true iff NO value equals `x`. On a multi-valued attribute
//!   `emails ne "a"` is therefore true only when no email is `a` (RFC 7644 is ambiguous
//!   here; this is the choice). On an absent attribute `ne` is true.
//! * `eq null` ≡ `not (path pr)` (absent/empty); `ne null` ≡ `path pr`. RFC 7644 does
//!   not define null comparison.
//!
//! **Value paths** `attr[f]`: the values of `attr` (step 1–3; a single complex value counts
//! as one element) — true iff some element satisfies `f`, where `f`'s paths name members
//! of that element (definitions: `attr`'s sub-attributes). A value path nested inside an
//! element context evaluates to false (the parser never produces one).

use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::Value;

use super::{CompareOp, Filter};
use crate::case_insensitive;
use crate::schema::{AttrPath, AttrType, AttributeDef, ResourceSchema};

/// Reference semantics: does `resource` (a full SCIM JSON resource incl. id, meta,
/// extensions under their URN keys) match?
pub fn matches(filter: &Filter, resource: &Value, schema: &ResourceSchema) -> bool {
    eval(filter, Scope::Resource(resource), schema)
}

/// Evaluate a value-path inner filter against one element of the multi-valued attribute
/// `attr`.
pub fn matches_element(filter: &Filter, attr: &AttrPath, element: &Value, schema: &ResourceSchema) -> bool {
    eval(filter, Scope::Element { attr, element }, schema)
}

#[derive(Clone, Copy)]
enum Scope<'a> {
    Resource(&'a Value),
    Element { attr: &'a AttrPath, element: &'a Value },
}

fn eval(filter: &Filter, scope: Scope<'_>, schema: &ResourceSchema) -> bool {
    match filter {
        Filter::And(a, b) => eval(a, scope, schema) && eval(b, scope, schema),
        Filter::Or(a, b) => eval(a, scope, schema) || eval(b, scope, schema),
        Filter::Not(inner) => !eval(inner, scope, schema),
        Filter::Present(path) => {
            let (values, _) = lookup(scope, path, schema);
            values.into_iter().any(non_empty)
        }
        Filter::Compare { path, op, value } => compare(scope, path, *op, value, schema),
        Filter::ValuePath { attr, filter } => match scope {
            Scope::Resource(resource) => {
                let (elements, _) = lookup(Scope::Resource(resource), attr, schema);
                elements
                    .into_iter()
                    .any(|element| eval(filter, Scope::Element { attr, element }, schema))
            }
            Scope::Element { .. } => false,
        },
    }
}

fn compare(
    scope: Scope<'_>,
    path: &AttrPath,
    op: CompareOp,
    operand: &Value,
    schema: &ResourceSchema,
) -> bool {
    if operand.is_null() {
        let present = eval(&Filter::Present(path.clone()), scope, schema);
        return match op {
            CompareOp::Eq => !present,
            CompareOp::Ne => present,
            _ => false,
        };
    }
    let (values, def) = lookup(scope, path, schema);
    // A complex attribute compared without a sub-attribute compares its `value`.
    let def = match def {
        Some(d) if d.attr_type == AttrType::Complex => d.sub_attribute("value"),
        other => other,
    };
    let mut values = values.into_iter().flat_map(|v| match v {
        Value::Object(obj) => collect(case_insensitive::get(obj, "value")),
        other => vec![other],
    });
    match op {
        CompareOp::Ne => !values.any(|v| cmp(v, CompareOp::Eq, operand, def)),
        _ => values.any(|v| cmp(v, op, operand, def)),
    }
}

/// Compare one attribute value with the operand (`op` is never `Ne` here).
fn cmp(value: &Value, op: CompareOp, operand: &Value, def: Option<&AttributeDef>) -> bool {
    match (value, operand) {
        (Value::String(a), Value::String(b)) => {
            let is_date = def.is_some_and(|d| d.attr_type == AttrType::DateTime);
            if is_date
                && !op.is_substring()
                && let (Ok(x), Ok(y)) = (DateTime::parse_from_rfc3339(a), DateTime::parse_from_rfc3339(b))
            {
                return ordering_holds(op, x.cmp(&y));
            }
            let case_exact = def.is_some_and(|d| d.case_exact);
            let (a, b) = if case_exact {
                (a.clone(), b.clone())
            } else {
                (a.to_ascii_lowercase(), b.to_ascii_lowercase())
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ordering_holds(op, a.as_bytes().cmp(b.as_bytes())),
            }
        }
        (Value::Number(a), Value::Number(b)) => {
            let ord = match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
                (Some(x), Some(y), _, _) => Some(x.cmp(&y)),
                (_, _, Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x.partial_cmp(&y),
                    _ => None,
                },
            };
            !op.is_substring() && ord.is_some_and(|o| ordering_holds(op, o))
        }
        (Value::Bool(a), Value::Bool(b)) => op == CompareOp::Eq && a == b,
        _ => false,
    }
}

fn ordering_holds(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// `pr`: not `""`, not `[]`, not `{}` (and not null, which never reaches here).
fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn member<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    v.as_object().and_then(|obj| case_insensitive::get(obj, key))
}

/// Rule 3: an array gives its non-null elements, null gives nothing.
fn collect(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).collect(),
        Some(other) => vec![other],
    }
}

/// The values a path selects and the definition it ends at.
fn lookup<'v, 's>(
    scope: Scope<'v>,
    path: &AttrPath,
    schema: &'s ResourceSchema,
) -> (Vec<&'v Value>, Option<&'s AttributeDef>) {
    let (values, def) = match scope {
        Scope::Resource(resource) => {
            let container = match &path.urn {
                Some(urn) if !urn.eq_ignore_ascii_case(&schema.core.id) => member(resource, urn),
                _ => Some(resource),
            };
            let values = collect(container.and_then(|c| member(c, &path.name)));
            (values, definition(path, schema))
        }
        Scope::Element { attr, element } => {
            let values = collect(member(element, &path.name));
            let def = if path.sub.is_some() || path.urn.is_some() {
                None
            } else {
                let full = AttrPath {
                    urn: attr.urn.clone(),
                    name: attr.name.clone(),
                    sub: Some(path.name.clone()),
                };
                definition(&full, schema)
            };
            (values, def)
        }
    };
    match &path.sub {
        None => (values, def),
        Some(sub) => (
            values.into_iter().flat_map(|v| collect(member(v, sub))).collect(),
            def,
        ),
    }
}

/// The schema's definition of `path` (the common attributes are part of every resource
/// schema, see [`crate::catalog::resource_schema`]).
fn definition<'s>(path: &AttrPath, schema: &'s ResourceSchema) -> Option<&'s AttributeDef> {
    schema.resolve(path).map(|resolved| resolved.target())
}
