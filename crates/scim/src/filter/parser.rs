//! Recursive-descent parser for RFC 7644 §3.4.2.2 filters and §3.5.2 PATCH paths.
//!
//! ```text
//! filter     = or-expr
//! or-expr    = and-expr *( "or" and-expr )            ; left-associative
//! and-expr   = unary *( "and" unary )                  ; left-associative
//! unary      = "not" "(" or-expr ")" / "(" or-expr ")" / attr-expr
//! attr-expr  = attrPath "pr"
//!            / attrPath compareOp compValue
//!            / attrPath "[" or-expr "]"                ; value path (not nested)
//! attrPath   = [URN ":"] ATTRNAME ["." ATTRNAME]       ; URN = up to the last ":"
//! ATTRNAME   = ALPHA *(ALPHA / DIGIT / "-" / "_") / "$ref"
//! compValue  = JSON string / JSON number / true / false / null
//! path       = attrPath / attrPath "[" or-expr "]" ["." ATTRNAME]
//! ```
//! Keywords and operators are case-insensitive. Whitespace is space, tab, CR or LF.
//! `(` (including the one of `not (`) and `[` each add one level of nesting, limited to [`MAX_DEPTH`]; the number
//! of attribute expressions is limited to [`MAX_TERMS`]. `and`/`or` chains are parsed
//! iteratively, so recursion depth is bounded by `MAX_DEPTH`.

use serde_json::Value;

use super::lexer::{Cursor, excerpt, parse_number, short};
use super::{CompareOp, Filter, FilterError, MAX_DEPTH, MAX_TERMS, PatchPath};
use crate::schema::{AttrPath, AttrType, AttributeDef, ResourceSchema};
use crate::tolerance::{ClientProfile, Leniency, Tolerance};

const EXPECTED_OPERATOR: &str = "a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)";
const EXPECTED_VALUE: &str = "a value (a quoted string, a number, true, false or null)";

/// Where an expression is being parsed.
#[derive(Clone, Copy)]
enum Scope<'p> {
    /// Top level: paths are resource attributes.
    Resource,
    /// Inside `attr[ … ]`: paths are sub-attributes of `attr`.
    ValuePath(&'p AttrPath),
}

struct Parser<'a, 'l, 's> {
    cur: Cursor<'a>,
    leniency: &'l mut Leniency,
    schema: Option<&'s ResourceSchema>,
    depth: usize,
    terms: usize,
    /// "filter" or "path", for messages.
    what: &'static str,
}

pub(crate) fn parse_filter(
    input: &str,
    leniency: &mut Leniency,
    schema: Option<&ResourceSchema>,
) -> Result<Filter, FilterError> {
    let mut p = Parser {
        cur: Cursor::new(input),
        leniency,
        schema,
        depth: 0,
        terms: 0,
        what: "filter",
    };
    p.cur.skip_ws();
    if p.cur.at_end() {
        return Err(FilterError::new(
            p.cur.pos,
            "empty filter: expected an attribute expression such as `userName eq \"bjensen\"`",
        ));
    }
    let f = p.or_expr(Scope::Resource)?;
    p.cur.skip_ws();
    if !p.cur.at_end() {
        return Err(p.trailing_error(Scope::Resource));
    }
    Ok(f)
}

pub(crate) fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    // Filters inside a PATCH path get no tolerances: the IdPs quote their values there.
    let mut leniency = Leniency::new(ClientProfile::Strict);
    let mut p = Parser {
        cur: Cursor::new(input),
        leniency: &mut leniency,
        schema: None,
        depth: 0,
        terms: 0,
        what: "path",
    };
    p.cur.skip_ws();
    let start = p.cur.pos;
    let word = p.cur.read_word();
    if word.is_empty() {
        return Err(p.expected("an attribute name", start));
    }
    let mut attr = make_path(word, start)?;
    let mut filter = None;
    if p.cur.peek() == Some(b'[') {
        if attr.sub.is_some() {
            return Err(FilterError::new(
                p.cur.pos,
                format!("a value filter `[...]` must follow an attribute, not the sub-attribute `{attr}`"),
            ));
        }
        let inner = p.bracketed(&attr)?;
        filter = Some(inner);
        if p.cur.peek() == Some(b'.') {
            p.cur.pos += 1;
            let sub_start = p.cur.pos;
            let sub = p.cur.read_word();
            if sub.is_empty() {
                return Err(p.expected("a sub-attribute name after `.`", sub_start));
            }
            check_name(sub, sub_start)?;
            attr.sub = Some(sub.to_string());
        }
    }
    p.cur.skip_ws();
    if !p.cur.at_end() {
        let what = if filter.is_some() {
            "`.` and a sub-attribute name, or the end of the path"
        } else {
            "`[`, or the end of the path"
        };
        return Err(p.expected(what, p.cur.pos));
    }
    Ok(PatchPath { attr, filter })
}

/// Split an attribute-path word into `[urn ":"] name ["." sub]` and check the names.
fn make_path(word: &str, start: usize) -> Result<AttrPath, FilterError> {
    let (urn, rest, rest_start) = match word.rfind(':') {
        Some(i) => (Some(&word[..i]), &word[i + 1..], start + i + 1),
        None => (None, word, start),
    };
    if urn.is_some_and(str::is_empty) {
        return Err(FilterError::new(
            start,
            format!("expected a schema URN before `:` in {}", short(word)),
        ));
    }
    if rest.is_empty() {
        return Err(FilterError::new(
            rest_start,
            format!(
                "expected an attribute name after the schema URN in {}",
                short(word)
            ),
        ));
    }
    let mut parts = rest.splitn(3, '.');
    let name = parts.next().unwrap_or_default();
    let sub = parts.next();
    if parts.next().is_some() {
        let second_dot = rest_start + name.len() + 1 + sub.map_or(0, str::len);
        return Err(FilterError::new(
            second_dot,
            format!(
                "attribute path {} has more than one `.`: SCIM paths are `attribute.subAttribute`",
                short(word)
            ),
        ));
    }
    check_name(name, rest_start)?;
    if let Some(sub) = sub {
        check_name(sub, rest_start + name.len() + 1)?;
    }
    Ok(AttrPath {
        urn: urn.map(str::to_string),
        name: name.to_string(),
        sub: sub.map(str::to_string),
    })
}

/// `ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_")`, or `$ref`.
fn check_name(name: &str, at: usize) -> Result<(), FilterError> {
    let bytes = name.as_bytes();
    let ok = name.eq_ignore_ascii_case("$ref")
        || (bytes.first().is_some_and(u8::is_ascii_alphabetic)
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')));
    if ok {
        Ok(())
    } else if name.is_empty() {
        Err(FilterError::new(
            at,
            "expected an attribute name, found an empty name",
        ))
    } else {
        Err(FilterError::new(
            at,
            format!(
                "invalid attribute name {}: a name starts with a letter and has only letters, digits, `-` and `_`",
                short(name)
            ),
        ))
    }
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

impl<'a, 'l, 's> Parser<'a, 'l, 's> {
    fn expected(&self, what: &str, at: usize) -> FilterError {
        FilterError::new(
            at,
            format!("expected {what}, found {}", excerpt(self.cur.src, at)),
        )
    }

    /// The error for input left over after a complete expression.
    fn trailing_error(&self, scope: Scope<'_>) -> FilterError {
        let at = self.cur.pos;
        match (self.cur.peek(), scope) {
            (Some(b')'), _) => FilterError::new(at, "unbalanced `)`: no `(` is open here"),
            (Some(b']'), Scope::Resource) => FilterError::new(at, "unbalanced `]`: no `[` is open here"),
            (_, Scope::Resource) => {
                self.expected(&format!("`and`, `or` or the end of the {}", self.what), at)
            }
            (_, Scope::ValuePath(_)) => self.expected("`and`, `or` or `]`", at),
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::new(
                at,
                format!(
                    "{} nested too deeply: at most {MAX_DEPTH} levels of `(`, `not (` and `[`",
                    self.what
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Consume the keyword `kw` (after optional whitespace) if it is next as a whole word.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let save = self.cur.pos;
        self.cur.skip_ws();
        if is_keyword(self.cur.peek_word(), kw) {
            self.cur.pos += kw.len();
            true
        } else {
            self.cur.pos = save;
            false
        }
    }

    fn or_expr(&mut self, scope: Scope<'_>) -> Result<Filter, FilterError> {
        let mut left = self.and_expr(scope)?;
        while self.eat_keyword("or") {
            let right = self.and_expr(scope)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self, scope: Scope<'_>) -> Result<Filter, FilterError> {
        let mut left = self.unary(scope)?;
        while self.eat_keyword("and") {
            let right = self.unary(scope)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `( or-expr )` with the cursor on `(`.
    fn parenthesised(&mut self, scope: Scope<'_>) -> Result<Filter, FilterError> {
        let open = self.cur.pos;
        self.enter(open)?;
        self.cur.pos += 1;
        let inner = self.or_expr(scope)?;
        self.cur.skip_ws();
        if !self.cur.eat(b')') {
            let at = self.cur.pos;
            return Err(match self.cur.peek() {
                None => FilterError::new(
                    at,
                    format!("expected `)` to close the `(` at position {open}, found end of input"),
                ),
                _ => self.expected(
                    &format!("`and`, `or` or `)` to close the `(` at position {open}"),
                    at,
                ),
            });
        }
        self.leave();
        Ok(inner)
    }

    fn unary(&mut self, scope: Scope<'_>) -> Result<Filter, FilterError> {
        self.cur.skip_ws();
        let start = self.cur.pos;
        if self.cur.peek() == Some(b'(') {
            return self.parenthesised(scope);
        }
        let word = self.cur.peek_word();
        if word.is_empty() {
            let what = match scope {
                Scope::Resource => "an attribute name, `(` or `not (`",
                Scope::ValuePath(_) => "a sub-attribute name, `(` or `not (`",
            };
            return Err(self.expected(what, start));
        }
        let after = self.cur.src.as_bytes().get(self.cur.pos + word.len()).copied();
        if is_keyword(word, "not") && after != Some(b'[') {
            let mut look = self.cur;
            look.pos += word.len();
            look.skip_ws();
            if look.peek() == Some(b'(') {
                // `not (` is one level: the parenthesis counts it.
                self.cur = look;
                let inner = self.parenthesised(scope)?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            // `not` is only an attribute name when an operator or `[` follows it.
            let next = look.peek_word();
            if !(is_keyword(next, "pr") || CompareOp::from_keyword(next).is_some()) {
                return Err(self.expected("`(` after `not`", look.pos));
            }
        }
        self.cur.pos += word.len();
        self.attr_expr(word, start, scope)
    }

    fn count_term(&mut self, at: usize) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(FilterError::new(
                at,
                format!("{} has too many expressions: at most {MAX_TERMS}", self.what),
            ));
        }
        Ok(())
    }

    fn attr_expr(&mut self, word: &'a str, start: usize, scope: Scope<'_>) -> Result<Filter, FilterError> {
        let path = make_path(word, start)?;
        self.count_term(start)?;
        if let Scope::ValuePath(outer) = scope
            && (path.urn.is_some() || path.sub.is_some())
        {
            return Err(FilterError::new(
                start,
                format!(
                    "inside `{outer}[...]` name a sub-attribute of `{outer}` only (like `value` or `type`), found {}",
                    short(word)
                ),
            ));
        }

        if self.cur.peek() == Some(b'[') {
            if let Scope::ValuePath(outer) = scope {
                return Err(FilterError::new(
                    self.cur.pos,
                    format!(
                        "value filters cannot be nested: `{}[` inside `{outer}[...]`",
                        path
                    ),
                ));
            }
            if path.sub.is_some() {
                return Err(FilterError::new(
                    self.cur.pos,
                    format!(
                        "a value filter `[...]` must follow an attribute, not the sub-attribute `{path}`"
                    ),
                ));
            }
            self.check_value_path(&path, start)?;
            let inner = self.bracketed(&path)?;
            if self.cur.peek() == Some(b'.') {
                return Err(FilterError::new(
                    self.cur.pos,
                    format!(
                        "`{path}[...]` cannot be followed by `.subAttribute` in a filter; move the condition inside the brackets, e.g. `{path}[type eq \"work\" and value co \"x\"]`"
                    ),
                ));
            }
            return Ok(Filter::ValuePath {
                attr: path,
                filter: Box::new(inner),
            });
        }

        let had_space = self.cur.skip_ws();
        let op_start = self.cur.pos;
        let op_word = self.cur.peek_word();
        if !had_space || op_word.is_empty() {
            return Err(self.expected(&format!("{EXPECTED_OPERATOR} after `{path}`"), op_start));
        }
        if is_keyword(op_word, "pr") {
            self.cur.pos += op_word.len();
            self.reject_value_after_pr()?;
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(op_word) else {
            return Err(self.expected(&format!("{EXPECTED_OPERATOR} after `{path}`"), op_start));
        };
        self.cur.pos += op_word.len();
        self.cur.skip_ws();
        let value_start = self.cur.pos;
        let value = self.comp_value(op)?;
        self.check_operand(op, &value, value_start)?;
        self.check_comparison(&path, op, scope, start)?;
        Ok(Filter::Compare { path, op, value })
    }

    /// `[ or-expr ]` with the cursor on `[`.
    fn bracketed(&mut self, attr: &AttrPath) -> Result<Filter, FilterError> {
        let open = self.cur.pos;
        self.enter(open)?;
        self.cur.pos += 1;
        let inner = self.or_expr(Scope::ValuePath(attr))?;
        self.cur.skip_ws();
        if !self.cur.eat(b']') {
            let at = self.cur.pos;
            return Err(match self.cur.peek() {
                None => FilterError::new(
                    at,
                    format!("expected `]` to close the `[` at position {open}, found end of input"),
                ),
                _ => self.expected(
                    &format!("`and`, `or` or `]` to close the `[` at position {open}"),
                    at,
                ),
            });
        }
        self.leave();
        Ok(inner)
    }

    fn reject_value_after_pr(&self) -> Result<(), FilterError> {
        let mut look = self.cur;
        look.skip_ws();
        let looks_like_value = match look.peek() {
            Some(b'"' | b'-' | b'0'..=b'9') => true,
            Some(_) => {
                let w = look.peek_word();
                ["true", "false", "null"].iter().any(|k| is_keyword(w, k))
            }
            None => false,
        };
        if looks_like_value {
            return Err(FilterError::new(
                look.pos,
                format!(
                    "the `pr` operator takes no value, found {}",
                    excerpt(look.src, look.pos)
                ),
            ));
        }
        Ok(())
    }

    fn comp_value(&mut self, op: CompareOp) -> Result<Value, FilterError> {
        let start = self.cur.pos;
        match self.cur.peek() {
            None => {
                return Err(self.expected(&format!("{EXPECTED_VALUE} after `{op}`"), start));
            }
            Some(b'"') => return self.cur.read_string().map(Value::String),
            Some(_) => {}
        }
        let bare = self.cur.read_bare();
        if bare.is_empty() {
            return Err(self.expected(&format!("{EXPECTED_VALUE} after `{op}`"), start));
        }
        for (kw, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if is_keyword(bare, kw) {
                return Ok(value);
            }
        }
        let numeric = bare.starts_with(|c: char| c == '-' || c.is_ascii_digit());
        if numeric && let Some(n) = parse_number(bare) {
            return Ok(n);
        }
        // As in quoted strings (see `Cursor::read_string`).
        if bare.contains('\0') {
            return Err(FilterError::new(
                start,
                format!("invalid value {}: U+0000 is not allowed", short(bare)),
            ));
        }
        if self.leniency.permit(Tolerance::UnquotedFilterValue) {
            return Ok(Value::String(bare.to_string()));
        }
        let message = if numeric {
            format!(
                "invalid number {}: expected a JSON number, or a string in double quotes",
                short(bare)
            )
        } else {
            format!(
                "expected {EXPECTED_VALUE} after `{op}`, found {}: string values must be in double quotes",
                short(bare)
            )
        };
        Err(FilterError::new(start, message))
    }

    /// Operator/literal combinations RFC 7644 rules out regardless of the attribute.
    fn check_operand(&self, op: CompareOp, value: &Value, at: usize) -> Result<(), FilterError> {
        if op.is_ordering() && matches!(value, Value::Bool(_) | Value::Null) {
            return Err(FilterError::new(
                at,
                format!("`{op}` cannot compare with `{value}`: ordering needs a string, number or date"),
            ));
        }
        if op.is_substring() && !value.is_string() {
            return Err(FilterError::new(
                at,
                format!("`{op}` needs a string value, found `{value}`"),
            ));
        }
        Ok(())
    }

    fn definition(&self, path: &AttrPath, scope: Scope<'_>) -> Option<&'s AttributeDef> {
        let schema = self.schema?;
        match scope {
            Scope::Resource => schema.resolve(path).map(|r| r.target()),
            Scope::ValuePath(outer) => {
                let full = AttrPath {
                    urn: outer.urn.clone(),
                    name: outer.name.clone(),
                    sub: Some(path.name.clone()),
                };
                schema.resolve(&full).map(|r| r.target())
            }
        }
    }

    fn check_value_path(&self, attr: &AttrPath, at: usize) -> Result<(), FilterError> {
        match self.definition(attr, Scope::Resource) {
            Some(def) if def.attr_type != AttrType::Complex => Err(FilterError::new(
                at,
                format!("`{attr}` is not a complex attribute, so it takes no value filter `[...]`"),
            )),
            _ => Ok(()),
        }
    }

    fn check_comparison(
        &self,
        path: &AttrPath,
        op: CompareOp,
        scope: Scope<'_>,
        at: usize,
    ) -> Result<(), FilterError> {
        let Some(def) = self.definition(path, scope) else {
            return Ok(());
        };
        let def = if def.attr_type == AttrType::Complex {
            match def.sub_attribute("value") {
                Some(value) => value,
                None => {
                    let example = def
                        .sub_attributes
                        .first()
                        .map_or_else(|| "sub".to_string(), |s| s.name.clone());
                    return Err(FilterError::new(
                        at,
                        format!(
                            "`{path}` is a complex attribute: compare one of its sub-attributes, e.g. `{path}.{example}`"
                        ),
                    ));
                }
            }
        } else {
            def
        };
        if def.attr_type == AttrType::Boolean && (op.is_ordering() || op.is_substring()) {
            return Err(FilterError::new(
                at,
                format!("`{path}` is a boolean: only `eq`, `ne` and `pr` apply, not `{op}`"),
            ));
        }
        Ok(())
    }
}
