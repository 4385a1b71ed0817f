//! License assignment rules: a SCIM configuration's ordered rules pick the license type
//! (pool) of a user from the user's attributes and groups, written as SCIM filters
//! (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`,
//! `groups[display eq "SN Advanced"]`), with the configuration's own pool as the
//! fallback. LinkedIn: Sales Navigator licenses "are assigned based on rules defined in
//! Sales Navigator", and are "updated … automatically when employees … switch teams".

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use scim::catalog::user_schema;
use scim::filter::{Filter, matches, parse_filter_with_schema};
use scim::tolerance::{ClientProfile, Leniency};

use super::PoolId;

/// A rule as a configuration row stores it (and the admin API shows it): the filter
/// text and the pool it assigns from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRule {
    pub filter: String,
    pub pool_id: PoolId,
}

/// One rule: users matching `filter` get a license from `pool_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct LicenseRule {
    pub filter: Filter,
    /// The filter as the admin wrote it (shown back, and in the activity log).
    pub text: String,
    pub pool_id: PoolId,
}

impl LicenseRule {
    /// A rule from its filter text: strict RFC 7644 syntax, against the User schema.
    pub fn parse(text: &str, pool_id: PoolId) -> Result<LicenseRule, String> {
        let mut strict = Leniency::new(ClientProfile::Strict);
        let filter = parse_filter_with_schema(text.trim(), &mut strict, user_schema())
            .map_err(|e| format!("{:?}: {e}", text.trim()))?;
        Ok(LicenseRule {
            filter,
            text: text.trim().to_owned(),
            pool_id,
        })
    }

    /// Does the rule look at the user's groups (so group writes must re-apply it)?
    pub fn names_groups(&self) -> bool {
        filter_names(&self.filter, "groups")
    }

    /// The rules a configuration row stores, parsed.
    pub fn parse_all(stored: &[StoredRule]) -> Result<Vec<LicenseRule>, String> {
        stored
            .iter()
            .map(|rule| LicenseRule::parse(&rule.filter, rule.pool_id.clone()))
            .collect()
    }
}

/// Does `filter` name the attribute `name` anywhere?
fn filter_names(filter: &Filter, name: &str) -> bool {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => filter_names(a, name) || filter_names(b, name),
        Filter::Not(inner) => filter_names(inner, name),
        Filter::Compare { path, .. } | Filter::Present(path) => path.name.eq_ignore_ascii_case(name),
        Filter::ValuePath { attr, .. } => attr.name.eq_ignore_ascii_case(name),
    }
}

/// The user as rules see it: the document with its groups (`value`, `display`), which
/// live in the membership table rather than in the document.
pub fn rule_view<'g>(doc: &Value, groups: impl IntoIterator<Item = (&'g str, &'g str)>) -> Value {
    let mut view = doc.clone();
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(id, display)| json!({"value": id, "display": display, "type": "direct"}))
        .collect();
    if let (Some(map), false) = (view.as_object_mut(), groups.is_empty()) {
        map.insert("groups".to_owned(), Value::Array(groups));
    }
    view
}

/// The pool a user's license comes from: the first matching rule's (and the rule, for
/// the activity log), else `fallback`.
pub fn pick<'r>(
    rules: &'r [LicenseRule],
    fallback: &'r PoolId,
    user: &Value,
) -> (&'r PoolId, Option<&'r LicenseRule>) {
    rules
        .iter()
        .find(|rule| matches(&rule.filter, user, user_schema()))
        .map_or((fallback, None), |rule| (&rule.pool_id, Some(rule)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPARTMENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";

    fn rules() -> Vec<LicenseRule> {
        [
            (format!("{DEPARTMENT} eq \"Sales\""), "advanced"),
            (r#"groups[display eq "SN Core"]"#.to_owned(), "core"),
        ]
        .into_iter()
        .map(|(text, pool)| LicenseRule::parse(&text, PoolId::from(pool)).expect("a rule"))
        .collect()
    }

    #[test]
    fn the_first_matching_rule_picks_the_pool_else_the_fallback() {
        let rules = rules();
        let fallback = PoolId::from("teamlink");
        let sales = json!({
            "userName": "a",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "sales"}
        });
        let (pool, rule) = pick(&rules, &fallback, &sales);
        assert_eq!(pool.as_str(), "advanced", "string comparison is case-insensitive");
        assert_eq!(
            rule.map(|r| r.text.as_str()),
            Some(format!("{DEPARTMENT} eq \"Sales\"").as_str())
        );
        let in_core = rule_view(&json!({"userName": "b"}), [("g1", "SN Core")]);
        assert_eq!(pick(&rules, &fallback, &in_core).0.as_str(), "core");
        assert!(rules[1].names_groups() && !rules[0].names_groups());
        let neither = json!({"userName": "c"});
        assert_eq!(pick(&rules, &fallback, &neither), (&fallback, None));
    }

    #[test]
    fn a_rule_is_a_valid_filter() {
        assert!(LicenseRule::parse("department eq", PoolId::from("p")).is_err());
        assert!(
            LicenseRule::parse("title eq Sales", PoolId::from("p")).is_err(),
            "unquoted"
        );
        let rule = LicenseRule::parse("  title sw \"VP\" ", PoolId::from("p")).expect("a rule");
        assert_eq!(rule.text, "title sw \"VP\"");
    }
}
