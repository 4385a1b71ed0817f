//! The leaves of the filter translation: one comparison on a column or on a JSON value,
//! with the evaluator's semantics (case folding, instants in whole microseconds,
//! two-valued `not`), and the sort key of a value.

use serde_json::Value;
use sqlx::QueryBuilder;

use super::{Column, invalid};
use crate::dialect::Dialect;
use crate::fold_case;
use domain::clock::rfc3339;
use scim::error::ProtocolError;
use scim::filter::CompareOp;
use scim::schema::{AttrPath, AttrType, AttributeDef};

/// The sort key of the value at `keys` under `base`, typed by `def`; `None` for complex.
pub(super) fn sort_value<DB: Dialect>(base: &str, keys: &[&str], def: &AttributeDef) -> Option<String> {
    Some(match def.attr_type {
        AttrType::Complex => return None,
        AttrType::Integer | AttrType::Decimal => DB::json_number(base, keys),
        // false before true; absent is NULL (sorted last ascending).
        AttrType::Boolean => format!(
            "(case when {} then 1 when {} then 0 end)",
            DB::json_is_bool(base, keys, true),
            DB::json_is_bool(base, keys, false)
        ),
        _ if def.case_exact => DB::binary_order(&DB::json_text(base, keys)),
        _ => DB::binary_order(&DB::fold(&DB::json_text(base, keys))),
    })
}

pub(super) fn string_value<'v>(path: &AttrPath, value: &'v Value) -> Result<&'v str, ProtocolError> {
    value.as_str().ok_or_else(|| {
        invalid(format!(
            "{path} is a string attribute: compare it with a quoted string"
        ))
    })
}

/// A dateTime comparison `op value` as the same comparison with a whole number of
/// microseconds (what the store keeps), or `None` when it can match nothing. Stored
/// instants are whole microseconds and the evaluator compares exactly: an operand between
/// two microseconds equals no value, and `ge`/`lt` it are `gt`/`le` the microsecond below
/// (`ne` is `not (eq)` by the time this runs).
pub(super) fn instant_operand(
    path: &AttrPath,
    op: CompareOp,
    value: &Value,
) -> Result<Option<(CompareOp, i64)>, ProtocolError> {
    let s = string_value(path, value)?;
    let t = chrono::DateTime::parse_from_rfc3339(s).map_err(|_| {
        invalid(format!(
            "{path} is a dateTime: {s:?} is not an RFC 3339 timestamp"
        ))
    })?;
    let micros = t.timestamp_micros();
    if t.timestamp_subsec_nanos() % 1_000 == 0 {
        return Ok(Some((op, micros)));
    }
    Ok(match op {
        CompareOp::Eq => None,
        CompareOp::Ge => Some((CompareOp::Gt, micros)),
        CompareOp::Lt => Some((CompareOp::Le, micros)),
        other => Some((other, micros)),
    })
}

pub(super) fn comparison_sql(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "",
    }
}

/// `expr op value` on text, with `co`/`sw`/`ew` as substring tests. `expr` is already
/// folded when `fold` is set; the bound value is folded in Rust the same way.
pub(super) fn text_predicate<DB: Dialect>(
    qb: &mut QueryBuilder<DB>,
    expr: &str,
    op: CompareOp,
    value: &str,
    fold: bool,
) {
    let value = if fold { fold_case(value) } else { value.to_owned() };
    qb.push("(");
    match op {
        CompareOp::Co => {
            let (a, b) = split_template(&DB::contains(expr, "{}"));
            qb.push(a);
            DB::bind_text(qb, value);
            qb.push(b);
        }
        CompareOp::Sw => {
            qb.push(format!("substr({expr}, 1, length("));
            DB::bind_text(qb, value.clone());
            qb.push(")) = ");
            DB::bind_text(qb, value);
        }
        CompareOp::Ew => {
            qb.push(format!("substr({expr}, length({expr}) - length("));
            DB::bind_text(qb, value.clone());
            qb.push(") + 1) = ");
            DB::bind_text(qb, value);
        }
        CompareOp::Eq | CompareOp::Ne => {
            qb.push(format!("{expr} {} ", comparison_sql(op)));
            DB::bind_text(qb, value);
        }
        _ => {
            qb.push(format!("{} {} ", DB::binary_order(expr), comparison_sql(op)));
            DB::bind_text(qb, value);
        }
    }
    qb.push(")");
}

/// `not (…)` in two-valued logic: the operand's NULL (unknown) counts as false.
pub(super) fn negate<DB: Dialect>(
    qb: &mut QueryBuilder<DB>,
    operand: impl FnOnce(&mut QueryBuilder<DB>) -> Result<(), ProtocolError>,
) -> Result<(), ProtocolError> {
    qb.push("(not coalesce(");
    operand(qb)?;
    qb.push(", false))");
    Ok(())
}

pub(super) fn split_template(sql: &str) -> (String, String) {
    let (a, b) = sql.split_once("{}").unwrap_or((sql, ""));
    (a.to_owned(), b.to_owned())
}

pub(super) fn column_predicate<DB: Dialect>(
    qb: &mut QueryBuilder<DB>,
    column: Column,
    attribute: &AttributeDef,
    sub: Option<&AttributeDef>,
    path: &AttrPath,
    cmp: Option<(CompareOp, &Value)>,
) -> Result<(), ProtocolError> {
    let def = sub.unwrap_or(attribute);
    let Some((op, value)) = cmp else {
        qb.push(match column {
            Column::Exact(c) | Column::Folded(c) | Column::Text(c) => format!("({c} <> '')"),
            // Nullable in related tables (a waiting license has no `assignedAt`).
            Column::Instant(c) => format!("({c} is not null)"),
            Column::Constant(_) | Column::Opaque => "true".to_owned(),
        });
        return Ok(());
    };
    match column {
        Column::Exact(c) => text_predicate(qb, c, op, string_value(path, value)?, false),
        Column::Folded(c) => text_predicate(qb, c, op, string_value(path, value)?, true),
        Column::Opaque => {
            return Err(invalid(format!(
                "{path} cannot be used in a comparison (it depends on the request URL)"
            )));
        }
        Column::Text(c) if def.case_exact => text_predicate(qb, c, op, string_value(path, value)?, false),
        Column::Text(c) => text_predicate(qb, &DB::fold(c), op, string_value(path, value)?, true),
        Column::Constant(constant) => {
            // Compared in Rust: the answer is the same for every row.
            let s = string_value(path, value)?;
            let hit = text_matches(constant, op, s, def.case_exact);
            qb.push(if hit { "true" } else { "false" });
        }
        Column::Instant(c) => {
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return Err(invalid(format!(
                    "{path} is a dateTime: use eq, ne, gt, ge, lt or le"
                )));
            }
            let Some((op, micros)) = instant_operand(path, op, value)? else {
                qb.push("false");
                return Ok(());
            };
            qb.push(format!("({c} {} ", comparison_sql(op)));
            DB::bind_int(qb, micros);
            qb.push(")");
        }
    }
    Ok(())
}

/// The reference text comparison, for constant columns.
pub(super) fn text_matches(actual: &str, op: CompareOp, expected: &str, case_exact: bool) -> bool {
    let (a, e) = if case_exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (fold_case(actual), fold_case(expected))
    };
    match op {
        CompareOp::Eq => a == e,
        CompareOp::Ne => a != e,
        CompareOp::Co => a.contains(&e),
        CompareOp::Sw => a.starts_with(&e),
        CompareOp::Ew => a.ends_with(&e),
        CompareOp::Gt => a > e,
        CompareOp::Ge => a >= e,
        CompareOp::Lt => a < e,
        CompareOp::Le => a <= e,
    }
}

pub(super) fn bool_value(path: &AttrPath, op: CompareOp, value: &Value) -> Result<bool, ProtocolError> {
    if op != CompareOp::Eq {
        return Err(invalid(format!("{path} is a boolean: use eq or ne")));
    }
    value
        .as_bool()
        .ok_or_else(|| invalid(format!("{path} is a boolean: compare it with true or false")))
}

/// A predicate on the JSON value at `keys` under `base`, typed by `def`.
pub(super) fn json_predicate<DB: Dialect>(
    qb: &mut QueryBuilder<DB>,
    base: &str,
    keys: &[&str],
    def: &AttributeDef,
    path: &AttrPath,
    cmp: Option<(CompareOp, &Value)>,
) -> Result<(), ProtocolError> {
    let Some((op, value)) = cmp else {
        qb.push(DB::json_present(base, keys));
        return Ok(());
    };
    match def.attr_type {
        AttrType::Complex => Err(invalid(format!(
            "{path} is complex: filter on one of its sub-attributes"
        ))),
        AttrType::Boolean => {
            let b = bool_value(path, op, value)?;
            qb.push(format!("coalesce({}, false)", DB::json_is_bool(base, keys, b)));
            Ok(())
        }
        AttrType::Integer | AttrType::Decimal => {
            let n = value
                .as_f64()
                .ok_or_else(|| invalid(format!("{path} is a number: compare it with a number")))?;
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return Err(invalid(format!(
                    "{path} is a number: use eq, ne, gt, ge, lt or le"
                )));
            }
            qb.push(format!(
                "coalesce({} {} ",
                DB::json_number(base, keys),
                comparison_sql(op)
            ));
            DB::bind_real(qb, n);
            qb.push(", false)");
            Ok(())
        }
        AttrType::DateTime if !op.is_substring() => {
            // dateTime values kept in the JSON document are the server's own (the license
            // extension's), written in the canonical form `clock::rfc3339`: UTC, fixed-width
            // microseconds. For that form text order is time order, so the operand is
            // brought to it in Rust and compared as text: exact (no database date parsing,
            // which differs between dialects and rounds) and never an SQL error.
            let Some((op, micros)) = instant_operand(path, op, value)? else {
                qb.push("false");
                return Ok(());
            };
            text_predicate(qb, &DB::json_text(base, keys), op, &rfc3339(micros), false);
            Ok(())
        }
        _ => {
            let s = string_value(path, value)?;
            let text = DB::json_text(base, keys);
            if def.case_exact {
                text_predicate(qb, &text, op, s, false);
            } else {
                text_predicate(qb, &DB::fold(&text), op, s, true);
            }
            Ok(())
        }
    }
}
