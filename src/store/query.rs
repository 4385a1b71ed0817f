//! Translation of a SCIM filter AST and `sortBy` into SQL, for both dialects.
//!
//! The reference semantics are `scim::filter::matches`; this module reproduces them in
//! SQL (property tests in `tests/api/filters.rs` hold the two together):
//! - every leaf predicate is coalesced to a strict boolean, so `not` of a comparison on
//!   an absent attribute is true, as in the evaluator;
//! - `ne` is `not (eq)`; on a multi-valued attribute, "no element equals";
//! - multi-valued attributes match when any element matches (`exists` over elements);
//! - strings compare ASCII-case-folded unless the schema says `caseExact`;
//! - indexed attributes (`id`, `userName`, `externalId`, `displayName`, `active`,
//!   `emails.value eq`, `meta.created`, `meta.lastModified`) use their columns;
//!   multi-valued attributes kept in another table (the license extension's `licenses`,
//!   a group's `members`, a user's `groups`) are filtered through that table
//!   ([`Relation`]); everything else reads the JSON document;
//! - `eq` is written `(x is not null and x = $v)` rather than `coalesce(x = $v, false)`:
//!   the same two-valued answer, but a form both planners turn into an index lookup.
//!
//! Attribute names reach the SQL text only after resolution against our own schema
//! (canonical names); every client value is a bound parameter.

use serde_json::Value;
use sqlx::QueryBuilder;

use super::dialect::Dialect;
use super::fold_case;
use crate::scim::error::ProtocolError;
use crate::scim::filter::{CompareOp, Filter};
use crate::scim::schema::{AttrPath, AttrType, AttributeDef, Resolved, ResourceSchema};

/// A column (a qualified SQL expression, e.g. `r.user_name_key`) that backs an attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column {
    /// Text compared as stored (caseExact).
    Exact(&'static str),
    /// Text stored ASCII-lower-cased (caseExact=false attributes).
    Folded(&'static str),
    Bool(&'static str),
    /// Microseconds since the epoch.
    Instant(&'static str),
    /// A constant (e.g. `meta.resourceType`).
    Constant(&'static str),
    /// Text compared per the schema's `caseExact` (folded in SQL when false).
    Text(&'static str),
}

/// A multi-valued attribute that lives in another table rather than in the document
/// (e.g. the license extension's `licenses`): filters on it become
/// `exists (select 1 from <from> where <join> and <predicates on its columns>)`.
pub(crate) struct Relation {
    /// The extension URN the attribute belongs to (`None`: core schema).
    pub extension: Option<&'static str>,
    pub attribute: &'static str,
    /// FROM items and the condition tying a row to `r`, e.g.
    /// `license_assignments l … where l.user_id = r.id`.
    pub from_where: &'static str,
    /// Sub-attribute → column expression (already qualified with the relation's aliases).
    pub columns: &'static [(&'static str, Column)],
}

/// What the translator needs to know about one resource table.
pub(crate) struct Target {
    pub schema: &'static ResourceSchema,
    /// (attribute, sub-attribute) → column.
    pub columns: &'static [(&'static str, Option<&'static str>, Column)],
    /// Index-backed `eq` on a multi-valued sub-attribute: (attribute, sub, SQL with `{}`
    /// standing for the bound folded value).
    pub indexed_elements: &'static [(&'static str, &'static str, &'static str)],
    pub relations: &'static [Relation],
}

/// Builds one SQL predicate; owns the counter that keeps nested aliases unique.
pub(crate) struct FilterSql<'t> {
    target: &'t Target,
    aliases: usize,
}

/// Where a path is evaluated: the resource root, or inside one element / complex value.
#[derive(Clone)]
struct Scope<'a> {
    /// SQL expression of the JSON value paths are relative to.
    base: String,
    /// Keys from `base` to the attribute (empty at the root).
    prefix: Vec<&'a str>,
    /// The complex attribute whose sub-attributes the paths name; `None` at the root.
    parent: Option<&'a AttributeDef>,
    /// Set inside a relation's `exists`: sub-attributes are its columns.
    relation: Option<&'a Relation>,
}

fn invalid(detail: impl Into<String>) -> ProtocolError {
    ProtocolError::invalid_filter(detail)
}

impl<'t> FilterSql<'t> {
    pub fn new(target: &'t Target) -> Self {
        FilterSql { target, aliases: 0 }
    }

    /// Push the SQL predicate for `filter` (resource table aliased `r`).
    pub fn push<DB: Dialect>(
        &mut self,
        qb: &mut QueryBuilder<DB>,
        filter: &Filter,
    ) -> Result<(), ProtocolError> {
        let root = Scope {
            base: "r.doc".to_owned(),
            prefix: Vec::new(),
            parent: None,
            relation: None,
        };
        self.node(qb, filter, &root)
    }

    fn node<DB: Dialect>(
        &mut self,
        qb: &mut QueryBuilder<DB>,
        filter: &Filter,
        scope: &Scope<'t>,
    ) -> Result<(), ProtocolError> {
        match filter {
            Filter::And(a, b) | Filter::Or(a, b) => {
                qb.push("(");
                self.node(qb, a, scope)?;
                qb.push(if matches!(filter, Filter::And(..)) {
                    " and "
                } else {
                    " or "
                });
                self.node(qb, b, scope)?;
                qb.push(")");
                Ok(())
            }
            Filter::Not(inner) => {
                qb.push("(not ");
                self.node(qb, inner, scope)?;
                qb.push(")");
                Ok(())
            }
            Filter::Present(path) => self.leaf(qb, path, None, scope),
            Filter::Compare { path, op, value } => self.leaf(qb, path, Some((*op, value)), scope),
            Filter::ValuePath { attr, filter } => self.value_path(qb, attr, filter, scope),
        }
    }

    fn resolve(
        &self,
        path: &AttrPath,
        scope: &Scope<'t>,
    ) -> Result<(Option<&'t str>, &'t AttributeDef, Option<&'t AttributeDef>), ProtocolError> {
        match scope.parent {
            None => {
                let Resolved {
                    extension,
                    attribute,
                    sub_attribute,
                } = self
                    .target
                    .schema
                    .resolve(path)
                    .ok_or_else(|| invalid(format!("unknown attribute {path}")))?;
                Ok((extension, attribute, sub_attribute))
            }
            Some(parent) => {
                if path.urn.is_some() || path.sub.is_some() {
                    return Err(invalid(format!(
                        "{path} is not a sub-attribute of {}",
                        parent.name
                    )));
                }
                let sub = parent
                    .sub_attribute(&path.name)
                    .ok_or_else(|| invalid(format!("{} has no sub-attribute {}", parent.name, path.name)))?;
                Ok((None, sub, None))
            }
        }
    }

    /// Push the predicate for `filter` on one row of the core attribute `attribute`'s
    /// relation (paths relative to the element, as inside `members[…]`), for a caller
    /// that selects from the relation itself (e.g. to delete the matching members).
    pub fn push_related<DB: Dialect>(
        &mut self,
        qb: &mut QueryBuilder<DB>,
        attribute: &str,
        filter: &Filter,
    ) -> Result<(), ProtocolError> {
        let (relation, def) = self
            .target
            .relations
            .iter()
            .filter(|r| r.extension.is_none() && r.attribute == attribute)
            .find_map(|r| Some((r, self.target.schema.core.attribute(r.attribute)?)))
            .ok_or_else(|| invalid(format!("{attribute} is not kept in its own table")))?;
        let scope = Scope {
            base: String::new(),
            prefix: Vec::new(),
            parent: Some(def),
            relation: Some(relation),
        };
        self.node(qb, filter, &scope)
    }

    fn relation(&self, extension: Option<&str>, attribute: &AttributeDef) -> Option<&'t Relation> {
        self.target
            .relations
            .iter()
            .find(|r| r.extension == extension && r.attribute == attribute.name)
    }

    /// `exists (select 1 from <relation> where … and <inner>)`.
    fn relation_exists<DB: Dialect>(
        &mut self,
        qb: &mut QueryBuilder<DB>,
        relation: &'t Relation,
        attribute: &'t AttributeDef,
        inner: impl FnOnce(&mut Self, &mut QueryBuilder<DB>, &Scope<'t>) -> Result<(), ProtocolError>,
    ) -> Result<(), ProtocolError> {
        qb.push(format!("exists (select 1 from {} and ", relation.from_where));
        let scope = Scope {
            base: String::new(),
            prefix: Vec::new(),
            parent: Some(attribute),
            relation: Some(relation),
        };
        inner(self, qb, &scope)?;
        qb.push(")");
        Ok(())
    }

    fn column(&self, attribute: &AttributeDef, sub: Option<&AttributeDef>) -> Option<Column> {
        self.target
            .columns
            .iter()
            .find(|(a, s, _)| *a == attribute.name && s.map(str::to_owned) == sub.map(|d| d.name.clone()))
            .map(|(_, _, c)| *c)
    }

    /// A comparison (`cmp` = Some) or presence test (None) on `path`.
    fn leaf<DB: Dialect>(
        &mut self,
        qb: &mut QueryBuilder<DB>,
        path: &AttrPath,
        cmp: Option<(CompareOp, &Value)>,
        scope: &Scope<'t>,
    ) -> Result<(), ProtocolError> {
        let (extension, attribute, sub) = self.resolve(path, scope)?;
        if let Some((CompareOp::Ne, value)) = cmp {
            qb.push("(not ");
            self.leaf(qb, path, Some((CompareOp::Eq, value)), scope)?;
            qb.push(")");
            return Ok(());
        }
        if let Some((op, Value::Null)) = cmp {
            // `eq null` means "unassigned" (RFC 7643 §2.5); other operators are meaningless.
            if op != CompareOp::Eq {
                return Err(invalid(format!(
                    "{path}: null can only be compared with eq or ne"
                )));
            }
            qb.push("(not ");
            self.leaf(qb, path, None, scope)?;
            qb.push(")");
            return Ok(());
        }
        if let Some(relation) = scope.relation {
            let column = relation
                .columns
                .iter()
                .find(|(name, _)| *name == attribute.name)
                .map(|(_, c)| *c)
                .ok_or_else(|| invalid(format!("{path} is not filterable")))?;
            return column_predicate(qb, column, attribute, None, path, cmp);
        }
        if scope.parent.is_none()
            && let Some(relation) = self.relation(extension, attribute)
        {
            // `members pr`: any related row at all. `members eq "u"` compares the
            // elements' `value` (RFC 7644 §3.4.2.2), as the evaluator does.
            let sub = match (sub, cmp) {
                (None, None) => {
                    return self.relation_exists(qb, relation, attribute, |_, qb, _| {
                        qb.push("true");
                        Ok(())
                    });
                }
                (Some(sub), _) => sub,
                (None, Some(_)) => attribute
                    .sub_attribute("value")
                    .ok_or_else(|| invalid(format!("{path}: filter on one of its sub-attributes")))?,
            };
            let sub_path = AttrPath::new(sub.name.clone());
            return self.relation_exists(qb, relation, attribute, |this, qb, scope| {
                this.leaf(qb, &sub_path, cmp, scope)
            });
        }
        if scope.parent.is_none() && extension.is_none() {
            if let Some(column) = self.column(attribute, sub) {
                return column_predicate(qb, column, attribute, sub, path, cmp);
            }
            if let (Some((CompareOp::Eq, Value::String(s))), true) = (cmp, attribute.multi_valued) {
                let sub_name = sub.map(|d| d.name.as_str()).unwrap_or("value");
                if let Some((_, _, sql)) = self
                    .target
                    .indexed_elements
                    .iter()
                    .find(|(a, sname, _)| *a == attribute.name && *sname == sub_name)
                {
                    let (before, after) = sql.split_once("{}").unwrap_or((sql, ""));
                    qb.push(before);
                    DB::bind_text(qb, fold_case(s));
                    qb.push(after);
                    return Ok(());
                }
            }
        }
        let mut keys = scope.prefix.clone();
        if let Some(ext) = extension {
            keys.push(ext);
        }
        keys.push(&attribute.name);
        if attribute.multi_valued {
            // Filtering a multi-valued attribute itself compares its `value` (RFC 7644 §3.4.2.2).
            let element_def = match sub {
                Some(d) => Some(d),
                None if attribute.attr_type == AttrType::Complex => attribute.sub_attribute("value"),
                None => None,
            };
            let Some(element_def) = element_def else {
                return Err(invalid(format!("cannot filter on the elements of {path}")));
            };
            let alias = self.alias();
            let (from, element) = DB::json_elements(&scope.base, &keys, &alias);
            qb.push(format!("exists (select 1 from {from} where "));
            json_predicate(qb, &element, &[&element_def.name], element_def, path, cmp)?;
            qb.push(")");
            return Ok(());
        }
        let target_def = match sub {
            Some(d) => {
                keys.push(&d.name);
                d
            }
            None => attribute,
        };
        json_predicate(qb, &scope.base, &keys, target_def, path, cmp)
    }

    fn value_path<DB: Dialect>(
        &mut self,
        qb: &mut QueryBuilder<DB>,
        attr: &AttrPath,
        inner: &Filter,
        scope: &Scope<'t>,
    ) -> Result<(), ProtocolError> {
        let (extension, attribute, sub) = self.resolve(attr, scope)?;
        if sub.is_some() || attribute.attr_type != AttrType::Complex || scope.parent.is_some() {
            return Err(invalid(format!("{attr}[…] needs a complex attribute")));
        }
        if let Some(relation) = self.relation(extension, attribute) {
            return self.relation_exists(qb, relation, attribute, |this, qb, scope| {
                this.node(qb, inner, scope)
            });
        }
        // `emails[value eq "x"]` is the same as `emails.value eq "x"`, which may use an index.
        if let Filter::Compare { path, op, value } = inner
            && path.urn.is_none()
            && path.sub.is_none()
            && attribute.multi_valued
        {
            let flat = AttrPath {
                urn: attr.urn.clone(),
                name: attr.name.clone(),
                sub: Some(path.name.clone()),
            };
            return self.leaf(qb, &flat, Some((*op, value)), scope);
        }
        let mut keys = scope.prefix.clone();
        if let Some(ext) = extension {
            keys.push(ext);
        }
        keys.push(&attribute.name);
        if attribute.multi_valued {
            let alias = self.alias();
            let (from, element) = DB::json_elements(&scope.base, &keys, &alias);
            qb.push(format!("exists (select 1 from {from} where "));
            let inner_scope = Scope {
                base: element,
                prefix: Vec::new(),
                parent: Some(attribute),
                relation: None,
            };
            self.node(qb, inner, &inner_scope)?;
            qb.push(")");
        } else {
            let inner_scope = Scope {
                base: scope.base.clone(),
                prefix: keys,
                parent: Some(attribute),
                relation: None,
            };
            self.node(qb, inner, &inner_scope)?;
        }
        Ok(())
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("e{}", self.aliases)
    }

    /// The SQL expression to order by for `sortBy` (RFC 7644 §3.4.2.3).
    pub fn sort_expr<DB: Dialect>(&self, path: &AttrPath) -> Result<String, ProtocolError> {
        let Resolved {
            extension,
            attribute,
            sub_attribute,
        } = self.target.schema.resolve(path).ok_or_else(|| {
            ProtocolError::invalid_value(format!("cannot sort by unknown attribute {path}"))
        })?;
        if extension.is_none() {
            match self.column(attribute, sub_attribute) {
                Some(Column::Exact(c) | Column::Folded(c) | Column::Bool(c) | Column::Instant(c)) => {
                    return Ok(c.to_owned());
                }
                Some(Column::Text(c)) => return Ok(DB::binary_order(&DB::fold(c))),
                Some(Column::Constant(_)) => return Ok("null".to_owned()),
                None => {}
            }
        }
        if attribute.multi_valued {
            return Err(ProtocolError::invalid_value(format!(
                "sorting by the multi-valued attribute {path} is not supported"
            )));
        }
        let mut keys: Vec<&str> = Vec::new();
        if let Some(ext) = extension {
            keys.push(ext);
        }
        keys.push(&attribute.name);
        let def = match sub_attribute {
            Some(d) => {
                keys.push(&d.name);
                d
            }
            None => attribute,
        };
        Ok(match def.attr_type {
            AttrType::Integer | AttrType::Decimal => DB::json_number("r.doc", &keys),
            AttrType::Complex => {
                return Err(ProtocolError::invalid_value(format!(
                    "cannot sort by the complex attribute {path}"
                )));
            }
            _ if def.case_exact => DB::binary_order(&DB::json_text("r.doc", &keys)),
            _ => DB::binary_order(&DB::fold(&DB::json_text("r.doc", &keys))),
        })
    }
}

fn string_value<'v>(path: &AttrPath, value: &'v Value) -> Result<&'v str, ProtocolError> {
    value.as_str().ok_or_else(|| {
        invalid(format!(
            "{path} is a string attribute: compare it with a quoted string"
        ))
    })
}

fn micros_of(path: &AttrPath, value: &Value) -> Result<i64, ProtocolError> {
    let s = string_value(path, value)?;
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_micros())
        .map_err(|_| {
            invalid(format!(
                "{path} is a dateTime: {s:?} is not an RFC 3339 timestamp"
            ))
        })
}

fn comparison_sql(op: CompareOp) -> &'static str {
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
fn text_predicate<DB: Dialect>(
    qb: &mut QueryBuilder<DB>,
    expr: &str,
    op: CompareOp,
    value: &str,
    fold: bool,
) {
    let value = if fold { fold_case(value) } else { value.to_owned() };
    if op == CompareOp::Eq {
        // Not coalesced: see the module docs (index use).
        qb.push(format!("({expr} is not null and {expr} = "));
        DB::bind_text(qb, value);
        qb.push(")");
        return;
    }
    qb.push("coalesce(");
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
    qb.push(", false)");
}

fn split_template(sql: &str) -> (String, String) {
    let (a, b) = sql.split_once("{}").unwrap_or((sql, ""));
    (a.to_owned(), b.to_owned())
}

fn column_predicate<DB: Dialect>(
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
            Column::Exact(c) | Column::Folded(c) | Column::Text(c) => format!("coalesce({c} <> '', false)"),
            Column::Instant(c) => format!("({c} is not null)"),
            Column::Bool(_) | Column::Constant(_) => "true".to_owned(),
        });
        return Ok(());
    };
    match column {
        Column::Exact(c) => text_predicate(qb, c, op, string_value(path, value)?, false),
        Column::Folded(c) => text_predicate(qb, c, op, string_value(path, value)?, true),
        Column::Text(c) if def.case_exact => text_predicate(qb, c, op, string_value(path, value)?, false),
        Column::Text(c) => text_predicate(qb, &DB::fold(c), op, string_value(path, value)?, true),
        Column::Constant(constant) => {
            // Compared in Rust: the answer is the same for every row.
            let s = string_value(path, value)?;
            let hit = text_matches(constant, op, s, def.case_exact);
            qb.push(if hit { "true" } else { "false" });
        }
        Column::Bool(c) => {
            let b = bool_value(path, op, value)?;
            qb.push(format!("({c} = {b})"));
        }
        Column::Instant(c) => {
            if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                return Err(invalid(format!(
                    "{path} is a dateTime: use eq, ne, gt, ge, lt or le"
                )));
            }
            qb.push(format!("({c} {} ", comparison_sql(op)));
            DB::bind_int(qb, micros_of(path, value)?);
            qb.push(")");
        }
    }
    Ok(())
}

/// The reference text comparison, for constant columns.
fn text_matches(actual: &str, op: CompareOp, expected: &str, case_exact: bool) -> bool {
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

fn bool_value(path: &AttrPath, op: CompareOp, value: &Value) -> Result<bool, ProtocolError> {
    if op != CompareOp::Eq {
        return Err(invalid(format!("{path} is a boolean: use eq or ne")));
    }
    value
        .as_bool()
        .ok_or_else(|| invalid(format!("{path} is a boolean: compare it with true or false")))
}

/// A predicate on the JSON value at `keys` under `base`, typed by `def`.
fn json_predicate<DB: Dialect>(
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
        AttrType::DateTime if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
            let s = string_value(path, value)?;
            if chrono::DateTime::parse_from_rfc3339(s).is_err() {
                return Err(invalid(format!(
                    "{path} is a dateTime: {s:?} is not an RFC 3339 timestamp"
                )));
            }
            qb.push(format!(
                "coalesce({} {} ",
                DB::json_instant(base, keys),
                comparison_sql(op)
            ));
            let (a, b) = split_template(&DB::instant("{}"));
            qb.push(a);
            DB::bind_text(qb, s.to_owned());
            qb.push(b);
            qb.push(", false)");
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
