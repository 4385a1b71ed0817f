//! The small set of SQL fragments that differ between Postgres (jsonb) and SQLite (json1).
//! Everything else in the store is the same SQL text for both.
//!
//! JSON keys passed here are canonical attribute names from our own schemas, never client
//! input (see `query.rs`), so they are written into the SQL; client values are always
//! bound as parameters.

use sqlx::{Postgres, QueryBuilder, Sqlite};

pub(crate) trait Dialect: sqlx::Database + Sized {
    /// Suffix of a `select` that locks the row for the rest of the transaction. SQLite
    /// has no row locks: its write transactions (`begin immediate`) already exclude
    /// every other writer.
    const LOCK_ROW: &'static str;
    /// The statement opening a transaction that writes. SQLite upgrades a read
    /// transaction to a write lock lazily and fails with BUSY if another writer got there
    /// first; taking the write lock up front (`begin immediate`) makes concurrent writers
    /// queue on `busy_timeout` instead.
    const BEGIN_WRITE: &'static str;
    /// The prefix that makes a query return its plan, and the plan row's text column.
    const EXPLAIN: &'static str;
    const EXPLAIN_COLUMN: usize;
    /// The statement telling other processes that principals changed (see
    /// `store/principals.rs`); SQLite has no notifications and relies on the TTL.
    const NOTIFY_PRINCIPALS: Option<&'static str>;
    /// What follows a bound parameter written to a JSON column (`::jsonb` on Postgres).
    const JSON_PARAM: &'static str;

    fn bind_text(qb: &mut QueryBuilder<Self>, value: String);
    fn bind_int(qb: &mut QueryBuilder<Self>, value: i64);
    fn bind_real(qb: &mut QueryBuilder<Self>, value: f64);

    /// The string at `keys` inside the JSON expression `base`, as SQL text (NULL if absent).
    fn json_text(base: &str, keys: &[&str]) -> String;
    /// True when the value at `keys` is the JSON boolean `value`.
    fn json_is_bool(base: &str, keys: &[&str], value: bool) -> String;
    /// The number at `keys` as an SQL number, NULL when absent or not a number.
    fn json_number(base: &str, keys: &[&str]) -> String;
    /// True when the value at `keys` is present and not null, "", [] or {} (RFC `pr`).
    fn json_present(base: &str, keys: &[&str]) -> String;
    /// True when the JSON object `base` has the member `key` (whatever its value, null
    /// included). `key` must be a validated slug: it is written into the SQL text.
    fn json_has_key(base: &str, key: &str) -> String;
    /// A FROM item iterating the elements of the array at `keys` as alias `alias`, the
    /// expression of one element (a JSON value usable as `base`), and the element's
    /// position in the array (for "the first value").
    fn json_elements(base: &str, keys: &[&str], alias: &str) -> (String, String, String);

    /// A scalar subquery: the rows of `select` as a JSON array of objects with these
    /// columns as keys, in the select's order (`[]` when there are none).
    fn json_rows(select: &str, columns: &[&str]) -> String;

    /// ASCII-only lower-casing, matching Rust's `to_ascii_lowercase`.
    fn fold(expr: &str) -> String;
    /// Byte-order comparison collation for ordering operators.
    fn binary_order(expr: &str) -> String;
    /// 1-based position test: does `haystack` contain `needle`?
    fn contains(haystack: &str, needle: &str) -> String;
}

fn pg_path(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    format!("'{{{}}}'", quoted.join(","))
}

fn sqlite_path(keys: &[&str]) -> String {
    let mut path = String::from("'$");
    for k in keys {
        path.push_str(&format!(".\"{k}\""));
    }
    path.push('\'');
    path
}

/// `'key', x.key, …` for a JSON object of these columns of the subquery `x`.
fn json_pairs(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("'{c}', x.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Dialect for Postgres {
    const LOCK_ROW: &'static str = " for update";
    const BEGIN_WRITE: &'static str = "begin";
    const EXPLAIN: &'static str = "explain ";
    const EXPLAIN_COLUMN: usize = 0;
    // The channel is `principals::PRINCIPALS_CHANNEL`.
    const NOTIFY_PRINCIPALS: Option<&'static str> = Some("notify linkedin_scim_principals");
    const JSON_PARAM: &'static str = "::jsonb";

    fn bind_text(qb: &mut QueryBuilder<Self>, value: String) {
        qb.push_bind(value);
    }
    fn bind_int(qb: &mut QueryBuilder<Self>, value: i64) {
        qb.push_bind(value);
    }
    fn bind_real(qb: &mut QueryBuilder<Self>, value: f64) {
        qb.push_bind(value);
    }
    fn json_text(base: &str, keys: &[&str]) -> String {
        format!("({base} #>> {})", pg_path(keys))
    }
    fn json_is_bool(base: &str, keys: &[&str], value: bool) -> String {
        format!("(({base} #> {}) = '{value}'::jsonb)", pg_path(keys))
    }
    fn json_number(base: &str, keys: &[&str]) -> String {
        let p = pg_path(keys);
        format!("(case when jsonb_typeof({base} #> {p}) = 'number' then ({base} #>> {p})::float8 end)")
    }
    fn json_present(base: &str, keys: &[&str]) -> String {
        let v = format!("({base} #> {})", pg_path(keys));
        format!("coalesce({v} not in ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{{}}'::jsonb), false)")
    }
    fn json_has_key(base: &str, key: &str) -> String {
        format!("jsonb_exists({base}, '{key}')")
    }
    fn json_elements(base: &str, keys: &[&str], alias: &str) -> (String, String, String) {
        let v = format!("({base} #> {})", pg_path(keys));
        (
            format!(
                "jsonb_array_elements(case when jsonb_typeof({v}) = 'array' then {v} else '[]'::jsonb end) \
                 with ordinality as {alias}(v, n)"
            ),
            format!("{alias}.v"),
            format!("{alias}.n"),
        )
    }
    fn json_rows(select: &str, columns: &[&str]) -> String {
        format!(
            "(select coalesce(json_agg(json_build_object({})), '[]'::json) from ({select}) x)",
            json_pairs(columns)
        )
    }
    fn fold(expr: &str) -> String {
        format!("translate({expr}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
    }
    fn binary_order(expr: &str) -> String {
        format!("({expr} collate \"C\")")
    }
    fn contains(haystack: &str, needle: &str) -> String {
        format!("(strpos({haystack}, {needle}) > 0)")
    }
}

impl Dialect for Sqlite {
    const LOCK_ROW: &'static str = "";
    const BEGIN_WRITE: &'static str = "begin immediate";
    const EXPLAIN: &'static str = "explain query plan ";
    /// Columns: id, parent, notused, detail.
    const EXPLAIN_COLUMN: usize = 3;
    const NOTIFY_PRINCIPALS: Option<&'static str> = None;
    const JSON_PARAM: &'static str = "";

    fn bind_text(qb: &mut QueryBuilder<Self>, value: String) {
        qb.push_bind(value);
    }
    fn bind_int(qb: &mut QueryBuilder<Self>, value: i64) {
        qb.push_bind(value);
    }
    fn bind_real(qb: &mut QueryBuilder<Self>, value: f64) {
        qb.push_bind(value);
    }
    fn json_text(base: &str, keys: &[&str]) -> String {
        let p = sqlite_path(keys);
        format!("(case when json_type({base}, {p}) = 'text' then json_extract({base}, {p}) end)")
    }
    fn json_is_bool(base: &str, keys: &[&str], value: bool) -> String {
        format!("(json_type({base}, {}) = '{value}')", sqlite_path(keys))
    }
    fn json_number(base: &str, keys: &[&str]) -> String {
        let p = sqlite_path(keys);
        format!(
            "(case when json_type({base}, {p}) in ('integer', 'real') then json_extract({base}, {p}) end)"
        )
    }
    fn json_present(base: &str, keys: &[&str]) -> String {
        let p = sqlite_path(keys);
        format!(
            "coalesce(case json_type({base}, {p}) \
             when 'null' then 0 \
             when 'text' then json_extract({base}, {p}) <> '' \
             when 'array' then json_array_length({base}, {p}) > 0 \
             when 'object' then json_extract({base}, {p}) <> '{{}}' \
             else json_type({base}, {p}) is not null end, 0)"
        )
    }
    fn json_has_key(base: &str, key: &str) -> String {
        format!("(json_type({base}, {}) is not null)", sqlite_path(&[key]))
    }
    fn json_elements(base: &str, keys: &[&str], alias: &str) -> (String, String, String) {
        (
            format!("json_each({base}, {}) as {alias}", sqlite_path(keys)),
            format!("{alias}.value"),
            format!("{alias}.key"),
        )
    }
    fn json_rows(select: &str, columns: &[&str]) -> String {
        format!(
            "(select json_group_array(json_object({})) from ({select}) x)",
            json_pairs(columns)
        )
    }
    fn fold(expr: &str) -> String {
        format!("lower({expr})")
    }
    fn binary_order(expr: &str) -> String {
        format!("({expr} collate binary)")
    }
    fn contains(haystack: &str, needle: &str) -> String {
        format!("(instr({haystack}, {needle}) > 0)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_every_key() {
        assert_eq!(
            pg_path(&[
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "department"
            ]),
            "'{\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\",\"department\"}'"
        );
        assert_eq!(sqlite_path(&["name", "givenName"]), "'$.\"name\".\"givenName\"'");
    }
}
