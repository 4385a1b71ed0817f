//! Translation of a SCIM filter AST and `sortBy` into SQL, for both dialects.
//!
//! The reference semantics are `scim::filter::matches`; this module reproduces them in
//! SQL (property tests in `tests/api/filters.rs` hold the two together):
//! - two-valued logic: a leaf may be NULL in SQL (absent attribute), which `and`, `or`,
//!   `exists` and `where` already treat as false; only `not` would differ (`not NULL` is
//!   NULL), so every `not` coalesces its operand to false first. Leaves stay bare so
//!   that `user_name_key = $1` can use its index;
//! - `ne` is `not (eq)`; on a multi-valued attribute, "no element equals";
//! - multi-valued attributes match when any element matches (`exists` over elements);
//! - strings compare ASCII-case-folded unless the schema says `caseExact`;
//! - indexed attributes (`id`, `userName`, `externalId`, `displayName`,
//!   `emails.value eq`, `meta.created`, `meta.lastModified`) use their columns (and
//!   `meta.*` the store's columns, since the document has no `meta`); multi-valued
//!   attributes kept in another table (the license extension's `licenses`, a group's
//!   `members`, a user's `groups`) are filtered through that table ([`Relation`]);
//!   everything else reads the JSON document.
//!
//! Attribute names reach the SQL text only after resolution against our own schema
//! (canonical names); every client value is a bound parameter.

use serde_json::Value;
use sqlx::QueryBuilder;

mod predicates;

use crate::dialect::Dialect;
use crate::fold_case;
use scim::error::ProtocolError;
use scim::filter::{CompareOp, Filter};
use scim::schema::{AttrPath, AttrType, AttributeDef, Resolved, ResourceSchema};

use predicates::{column_predicate, json_predicate, negate, sort_value};

/// An SQL expression (e.g. `r.user_name_key`, or a related table's `l.state`) that backs
/// an attribute. The store owns `id` and `meta`, which are not in the JSON document, so
/// every one of them needs an entry.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column {
    /// Text compared as stored (caseExact).
    Exact(&'static str),
    /// Text stored ASCII-lower-cased (caseExact=false attributes).
    Folded(&'static str),
    /// Microseconds since the epoch.
    Instant(&'static str),
    /// A constant (e.g. `meta.resourceType`).
    Constant(&'static str),
    /// Always present but not comparable in SQL: `meta` itself, and `meta.location`,
    /// which depends on the URL the request came in on.
    Opaque,
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
    /// Index-backed `eq` on a multi-valued sub-attribute: (attribute, sub, SQL with two
    /// `{}`: the bound account id, then the bound folded value). The account id lets the
    /// subquery use an (account, value) index without correlating to the outer row.
    pub indexed_elements: &'static [(&'static str, &'static str, &'static str)],
    pub relations: &'static [Relation],
}

/// Builds one SQL predicate; owns the counter that keeps nested aliases unique.
pub(crate) struct FilterSql<'t> {
    target: &'t Target,
    account_id: Option<&'t str>,
    /// The product whose status a user's `active` is (`licensing::status`).
    product: Option<&'t str>,
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
    pub(crate) fn new(target: &'t Target) -> Self {
        FilterSql {
            target,
            account_id: None,
            product: None,
            aliases: 0,
        }
    }

    /// The account the filtered rows belong to: lets index-backed element lookups
    /// (`emails.value eq`) search that account's (account, value) index without
    /// correlating to the outer row. Without it they read the JSON document instead.
    pub(crate) fn in_account(mut self, account_id: &'t str) -> Self {
        self.account_id = Some(account_id);
        self
    }

    /// Compare a user's `active` as a configuration of `product` sees it: the product's
    /// status in `r.products` when it has one, else the document's (the person's).
    pub(crate) fn for_product(mut self, product: Option<&'t str>) -> Self {
        self.product = product;
        self
    }

    /// Push the SQL predicate for `filter` (resource table aliased `r`).
    pub(crate) fn push<DB: Dialect>(
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
            Filter::Not(inner) => negate(qb, |qb| self.node(qb, inner, scope)),
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
    pub(crate) fn push_related<DB: Dialect>(
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
            return negate(qb, |qb| self.leaf(qb, path, Some((CompareOp::Eq, value)), scope));
        }
        if let Some((op, Value::Null)) = cmp {
            // `eq null` means "unassigned" (RFC 7643 §2.5); other operators are meaningless.
            if op != CompareOp::Eq {
                return Err(invalid(format!(
                    "{path}: null can only be compared with eq or ne"
                )));
            }
            return negate(qb, |qb| self.leaf(qb, path, None, scope));
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
        // A complex attribute compared without a sub-attribute compares its `value`
        // (`emails co "@x"`, `manager eq "42"`), as in the evaluator.
        let sub = match (sub, cmp) {
            (None, Some(_)) if attribute.attr_type == AttrType::Complex => {
                Some(attribute.sub_attribute("value").ok_or_else(|| {
                    invalid(format!("{path} is complex: filter on one of its sub-attributes"))
                })?)
            }
            _ => sub,
        };
        if scope.parent.is_none() && extension.is_none() {
            if let Some(column) = self.column(attribute, sub) {
                return column_predicate(qb, column, attribute, sub, path, cmp);
            }
            if let (Some((CompareOp::Eq, Value::String(s))), true, Some(account_id)) =
                (cmp, attribute.multi_valued, self.account_id)
            {
                let sub_name = sub.map_or("", |d| d.name.as_str());
                if let Some((_, _, sql)) = self
                    .target
                    .indexed_elements
                    .iter()
                    .find(|(a, sname, _)| *a == attribute.name && *sname == sub_name)
                {
                    let mut binds = [account_id.to_owned(), fold_case(s)].into_iter();
                    for (i, part) in sql.split("{}").enumerate() {
                        if i > 0
                            && let Some(bound) = binds.next()
                        {
                            DB::bind_text(qb, bound);
                        }
                        qb.push(part);
                    }
                    return Ok(());
                }
            }
        }
        let mut keys = scope.prefix.clone();
        if let Some(ext) = extension {
            keys.push(ext);
        }
        keys.push(&attribute.name);
        // `emails pr` falls through to presence of the array: the evaluator wants one
        // non-empty element, and stored documents never hold empty elements (normalization
        // drops null, `{}` and `[]`), so a non-empty array has one.
        if attribute.multi_valued && !(cmp.is_none() && sub.is_none()) {
            // Any element matches (`exists`); `ne` was turned into `not (eq)` above, so
            // it means "no element equals".
            let Some(element_def) = sub else {
                return Err(invalid(format!("cannot filter on the elements of {path}")));
            };
            let alias = self.alias();
            let (from, element, _) = DB::json_elements(&scope.base, &keys, &alias);
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
        if let (Some(product), true, ["active"]) = (self.product, scope.prefix.is_empty(), keys.as_slice()) {
            // A product is a validated slug (`[a-z0-9_]`), safe as a JSON path key.
            qb.push(format!(
                "(case when {} then ",
                DB::json_has_key("r.products", product)
            ));
            json_predicate(qb, "r.products", &[product], target_def, path, cmp)?;
            qb.push(" else ");
            json_predicate(qb, &scope.base, &keys, target_def, path, cmp)?;
            qb.push(" end)");
            return Ok(());
        }
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
        // Not for `ne` or null: inside the brackets they test one element ("an email whose
        // value is not x"), while `emails.value ne "x"` means "no email is x".
        if let Filter::Compare { path, op, value } = inner
            && path.urn.is_none()
            && path.sub.is_none()
            && attribute.multi_valued
            && *op != CompareOp::Ne
            && !value.is_null()
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
            let (from, element, _) = DB::json_elements(&scope.base, &keys, &alias);
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
            // A single complex value is the one element: without it nothing matches, not
            // even `name[not (givenName pr)]`. (Stored documents hold no `{}`, so "present"
            // is "there".)
            qb.push(format!("({} and ", DB::json_present(&scope.base, &keys)));
            let inner_scope = Scope {
                base: scope.base.clone(),
                prefix: keys,
                parent: Some(attribute),
                relation: None,
            };
            self.node(qb, inner, &inner_scope)?;
            qb.push(")");
        }
        Ok(())
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("e{}", self.aliases)
    }

    /// The SQL expression to order by for `sortBy` (RFC 7644 §3.4.2.3). Strings order
    /// byte-wise after the same case folding as filters, so both dialects agree; a
    /// multi-valued attribute sorts by its primary value, else its first value.
    pub(crate) fn sort_expr<DB: Dialect>(&self, path: &AttrPath) -> Result<String, ProtocolError> {
        let Resolved {
            extension,
            attribute,
            sub_attribute,
        } = self.target.schema.resolve(path).ok_or_else(|| {
            ProtocolError::invalid_value(format!("cannot sort by unknown attribute {path}"))
        })?;
        let cannot = |why: &str| ProtocolError::invalid_value(format!("cannot sort by {path}: {why}"));
        if extension.is_none() {
            match self.column(attribute, sub_attribute) {
                Some(Column::Exact(c) | Column::Folded(c)) => return Ok(DB::binary_order(c)),
                Some(Column::Text(c)) if sub_attribute.unwrap_or(attribute).case_exact => {
                    return Ok(DB::binary_order(c));
                }
                Some(Column::Text(c)) => return Ok(DB::binary_order(&DB::fold(c))),
                Some(Column::Instant(c)) => return Ok(c.to_owned()),
                Some(Column::Constant(_) | Column::Opaque) => return Ok("null".to_owned()),
                None => {}
            }
        }
        if let (Some(product), None, None, "active") =
            (self.product, extension, sub_attribute, attribute.name.as_str())
        {
            // As the filter compares it: the product's status when it has one.
            let by_product = sort_value::<DB>("r.products", &[product], attribute)
                .ok_or_else(|| cannot("it is complex"))?;
            let by_person =
                sort_value::<DB>("r.doc", &["active"], attribute).ok_or_else(|| cannot("it is complex"))?;
            return Ok(format!(
                "(case when {} then {by_product} else {by_person} end)",
                DB::json_has_key("r.products", product)
            ));
        }
        // `emails` sorts like `emails.value` (as in filters).
        let sub_attribute = match sub_attribute {
            None if attribute.attr_type == AttrType::Complex && attribute.multi_valued => Some(
                attribute
                    .sub_attribute("value")
                    .ok_or_else(|| cannot("it is complex; name one of its sub-attributes"))?,
            ),
            other => other,
        };
        let mut keys: Vec<&str> = Vec::new();
        if let Some(ext) = extension {
            keys.push(ext);
        }
        keys.push(&attribute.name);
        let Some(sub) = sub_attribute.filter(|_| attribute.multi_valued) else {
            let def = match sub_attribute {
                Some(d) => {
                    keys.push(&d.name);
                    d
                }
                None => attribute,
            };
            return sort_value::<DB>("r.doc", &keys, def).ok_or_else(|| cannot("it is complex"));
        };
        let (from, element, position) = DB::json_elements("r.doc", &keys, "s");
        let value = sort_value::<DB>(&element, &[&sub.name], sub).ok_or_else(|| cannot("it is complex"))?;
        let primary = DB::json_is_bool(&element, &["primary"], true);
        Ok(format!(
            "(select {value} from {from} order by case when {primary} then 0 else 1 end, {position} limit 1)"
        ))
    }
}
