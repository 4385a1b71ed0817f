//! License assignment rules of a SCIM configuration (docs/licensing.md, "License
//! rules"): ordered SCIM filters, each naming a license type of the configuration's
//! instance; the configuration's own license type is the fallback.

use serde::{Deserialize, Serialize};

use super::{Center, CenterError, CenterResult, invalid};
use crate::accounts::Account;
use crate::ids::PoolId;
use crate::licensing::assignment::{LicenseRule, StoredRule};
use crate::store::{ConfigurationState, PoolUsage};

/// One rule as an admin writes and reads it: users matching `filter` get a license of
/// `licenseType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LicenseRuleView {
    /// A SCIM filter over the user, e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`
    /// or `groups[display eq "SN Advanced"]`.
    pub filter: String,
    /// A license type of the configuration's instance.
    pub license_type: String,
}

impl LicenseRuleView {
    /// A rule as one line, `LICENSE TYPE=SCIM FILTER` (the CLI's `--rule`, a line of the
    /// UI's rules box), split at the first `=`: SCIM filters have none.
    pub fn parse_line(text: &str) -> Result<LicenseRuleView, String> {
        let (license_type, filter) = text
            .split_once('=')
            .ok_or_else(|| format!("{:?}: write LICENSE TYPE=SCIM FILTER", text.trim()))?;
        Ok(LicenseRuleView {
            filter: filter.trim().to_owned(),
            license_type: license_type.trim().to_owned(),
        })
    }

    /// The rule as [`parse_line`](Self::parse_line) reads it.
    pub fn line(&self) -> String {
        format!("{}={}", self.license_type, self.filter)
    }
}

/// The rules as stored: each filter checked, each license type resolved to its pool by
/// `pool_of` (the configuration's instance's pools). The message names the rule at fault.
pub(crate) fn resolve(
    rules: &[LicenseRuleView],
    pool_of: impl Fn(&str) -> Option<PoolId>,
) -> Result<Vec<StoredRule>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let n = i + 1;
            let pool_id = pool_of(rule.license_type.trim()).ok_or_else(|| {
                format!(
                    "rule {n}: the configuration's instance has no license type {:?}",
                    rule.license_type
                )
            })?;
            let parsed = LicenseRule::parse(&rule.filter, pool_id).map_err(|e| format!("rule {n}: {e}"))?;
            Ok(StoredRule {
                filter: parsed.text,
                pool_id: parsed.pool_id,
            })
        })
        .collect()
}

/// The stored rules of `configuration` with their license types.
pub(crate) fn views(configuration: &ConfigurationState, pools: &[PoolUsage]) -> Vec<LicenseRuleView> {
    configuration
        .license_rules
        .iter()
        .map(|rule| LicenseRuleView {
            filter: rule.filter.clone(),
            license_type: pools
                .iter()
                .find(|p| p.id == rule.pool_id)
                .map_or_else(|| rule.pool_id.to_string(), |p| p.license_type.clone()),
        })
        .collect()
}

impl Center {
    /// Replace a configuration's rules (none: its license type for everyone). Rules
    /// need auto-assign, and name license types of its instance. They apply from the
    /// next write of each user: a user whose rule now picks another pool moves there.
    pub async fn set_license_rules(
        &self,
        account: &Account,
        configuration: &str,
        rules: &[LicenseRuleView],
    ) -> CenterResult<Vec<LicenseRuleView>> {
        let state = self.configuration(account, configuration).await?;
        let pools = self.store.pools(&account.id).await?;
        let instance = match (&state.instance, rules.is_empty()) {
            (Some(instance), _) => instance.clone(),
            (None, true) => String::new(),
            (None, false) => {
                return Err(invalid(
                    "rules",
                    "license rules pick among an instance's license types: turn auto-assign on first",
                ));
            }
        };
        let stored = resolve(rules, |license_type| {
            pools
                .iter()
                .find(|p| p.instance == instance && p.license_type == license_type)
                .map(|p| p.id.clone())
        })
        .map_err(|message| invalid("rules", message))?;
        let found = self
            .store
            .set_license_rules(&account.id, configuration, &stored)
            .await?;
        if !found {
            return Err(CenterError::NotFound(format!(
                "no SCIM configuration {configuration:?}"
            )));
        }
        let state = self.configuration(account, configuration).await?;
        Ok(views(&state, &pools))
    }

    /// A configuration's rules with their license types.
    pub async fn license_rules(
        &self,
        account: &Account,
        configuration: &ConfigurationState,
    ) -> CenterResult<Vec<LicenseRuleView>> {
        let pools = self.store.pools(&account.id).await?;
        Ok(views(configuration, &pools))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_resolve_license_types_and_name_the_rule_at_fault() {
        let rule = |filter: &str, license_type: &str| LicenseRuleView {
            filter: filter.to_owned(),
            license_type: license_type.to_owned(),
        };
        let pool_of = |t: &str| (t == "Advanced Plus").then(|| PoolId::from("p1"));
        let stored = resolve(&[rule("title sw \"VP\"", "Advanced Plus")], pool_of).expect("resolves");
        assert_eq!(stored[0].pool_id.as_str(), "p1");
        let unknown = resolve(
            &[rule("title pr", "Advanced Plus"), rule("title pr", "Core")],
            pool_of,
        );
        assert!(unknown.is_err_and(|e| e.starts_with("rule 2:") && e.contains("Core")));
        let malformed = resolve(&[rule("title eq", "Advanced Plus")], pool_of);
        assert!(malformed.is_err_and(|e| e.starts_with("rule 1:")));
    }

    #[test]
    fn a_rule_line_splits_at_the_first_equals_sign_and_reads_back() {
        let parsed = LicenseRuleView::parse_line(" TeamLink Extend = title sw \"Partner\" ").expect("a rule");
        assert_eq!(parsed.license_type, "TeamLink Extend");
        assert_eq!(parsed.filter, "title sw \"Partner\"");
        assert_eq!(LicenseRuleView::parse_line(&parsed.line()), Ok(parsed));
        assert!(
            LicenseRuleView::parse_line("title pr").is_err_and(|e| e.contains("LICENSE TYPE=SCIM FILTER"))
        );
    }
}
