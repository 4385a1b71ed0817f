//! The per-account LinkedIn fidelity profile (`docs/fidelity.md` documents each setting
//! and both presets) and the decisions it makes: which user lists are refused, what a
//! user DELETE does, which admin license edits are locked. The HTTP layer asks and
//! renders; the rules live here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::licensing::{Product, WhenFull};

/// Which behaviours an account emulates: LinkedIn's documented quirks, or plain RFC 7644
/// (what conformance suites expect). See `docs/fidelity.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FidelityPreset {
    #[default]
    Linkedin,
    Rfc,
}

impl FidelityPreset {
    pub fn as_str(self) -> &'static str {
        match self {
            FidelityPreset::Linkedin => "linkedin",
            FidelityPreset::Rfc => "rfc",
        }
    }
}

/// What `DELETE /Users/{id}` does. LinkedIn does not hard-delete over SCIM: deprovisioning
/// is `active: false`, which keeps the user and its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserDelete {
    /// Answer 204 and set `active: false` (LinkedIn preset).
    Deactivate,
    /// Answer 501 (RFC 7644 §3.12: operation not supported) with a detail saying users
    /// are deprovisioned with `active: false` (LinkedIn Learning: "Delete users: No").
    Refuse,
    /// Remove the user (RFC preset).
    Delete,
}

/// Two years: how long LinkedIn's Sales Navigator SCIM tokens are valid.
pub const TWO_YEARS_SECONDS: i64 = 2 * 365 * 24 * 60 * 60;

/// The per-account LinkedIn fidelity settings (`docs/fidelity.md` documents each one
/// and both presets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fidelity {
    pub user_delete: UserDelete,
    /// Products whose configurations may not list users without a filter: LinkedIn's
    /// Sales Navigator SCIM serves no user list (SaaS managers look users up one by one).
    pub unfiltered_list_refused: Vec<Product>,
    /// A full pool: record the user as waiting, or refuse the write.
    pub when_pool_full: WhenFull,
    /// Lifetime of a generated or seeded token, in seconds; `None`: no expiry.
    pub token_ttl_seconds: Option<i64>,
    /// Admin edits of licenses of SCIM-managed users are refused: once SCIM is on, the
    /// IdP is the source of truth.
    pub lock_admin_edits: bool,
}

impl FidelityPreset {
    pub fn settings(self) -> Fidelity {
        match self {
            FidelityPreset::Linkedin => Fidelity {
                user_delete: UserDelete::Deactivate,
                unfiltered_list_refused: vec![Product::sales_navigator()],
                when_pool_full: WhenFull::Wait,
                token_ttl_seconds: Some(TWO_YEARS_SECONDS),
                lock_admin_edits: true,
            },
            FidelityPreset::Rfc => Fidelity {
                user_delete: UserDelete::Delete,
                unfiltered_list_refused: Vec::new(),
                when_pool_full: WhenFull::Wait,
                token_ttl_seconds: None,
                lock_admin_edits: false,
            },
        }
    }
}

/// Seed-file overrides of single fidelity settings on top of the preset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FidelityOverrides {
    pub user_delete: Option<UserDelete>,
    pub unfiltered_list_refused: Option<Vec<Product>>,
    pub when_pool_full: Option<WhenFull>,
    /// 0 means "no expiry".
    pub token_ttl_seconds: Option<i64>,
    pub lock_admin_edits: Option<bool>,
}

impl FidelityOverrides {
    pub fn apply(&self, mut fidelity: Fidelity) -> Fidelity {
        if let Some(v) = self.user_delete {
            fidelity.user_delete = v;
        }
        if let Some(v) = &self.unfiltered_list_refused {
            fidelity.unfiltered_list_refused = v.clone();
        }
        if let Some(v) = self.when_pool_full {
            fidelity.when_pool_full = v;
        }
        if let Some(v) = self.token_ttl_seconds {
            fidelity.token_ttl_seconds = (v > 0).then_some(v);
        }
        if let Some(v) = self.lock_admin_edits {
            fidelity.lock_admin_edits = v;
        }
        fidelity
    }
}

/// A request the account's fidelity settings refuse; the detail says what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "this product does not list users without a filter: look users up by filter (e.g. userName eq \"…\") or id"
    )]
    UnfilteredUserList,
    #[error("this account does not delete users over SCIM: deprovision with active=false")]
    UserDelete,
    #[error("licenses of SCIM-managed users are edited in the IdP: this account locks admin edits")]
    AdminEditLocked,
}

/// What DELETE of a user does when the settings allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserDeletion {
    /// Remove the user and release its seats.
    Remove,
    /// Keep the user and set `active: false` (see [`deactivated`]).
    Deactivate,
}

/// An admin's edit of a user's license in the Account Center.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicenseEdit {
    /// The user accepts the license (`assigned` → `activated`).
    Activate,
    /// The admin takes the license away.
    Revoke,
    /// The admin moves the license to another pool of its product.
    Move,
}

impl Fidelity {
    /// May a configuration auto-assigning `assigns` list users (`filtered`: with a
    /// filter)? LinkedIn's Sales Navigator SCIM serves no unfiltered user list.
    pub fn check_user_list(&self, assigns: Option<&Product>, filtered: bool) -> Result<(), Refusal> {
        let refused = assigns.is_some_and(|product| self.unfiltered_list_refused.contains(product));
        if refused && !filtered {
            return Err(Refusal::UnfilteredUserList);
        }
        Ok(())
    }

    /// What DELETE of a user does, or why it is refused.
    pub fn user_deletion(&self) -> Result<UserDeletion, Refusal> {
        match self.user_delete {
            UserDelete::Delete => Ok(UserDeletion::Remove),
            UserDelete::Deactivate => Ok(UserDeletion::Deactivate),
            UserDelete::Refuse => Err(Refusal::UserDelete),
        }
    }

    /// May an admin make this license edit? Activation is the user's own act on
    /// LinkedIn, so it is allowed even while SCIM manages the user; revocation is the
    /// IdP's once the account locks admin edits.
    pub fn check_license_edit(&self, edit: LicenseEdit) -> Result<(), Refusal> {
        match edit {
            LicenseEdit::Revoke | LicenseEdit::Move if self.lock_admin_edits => Err(Refusal::AdminEditLocked),
            _ => Ok(()),
        }
    }
}

/// The user document a deactivating DELETE writes (`active: false`), or `None` when the
/// user is already inactive (or the document is not an object) and nothing changes.
pub fn deactivated(doc: &Value) -> Option<Value> {
    let mut doc = doc.clone();
    match doc.as_object_mut() {
        Some(map) if map.get("active") != Some(&Value::Bool(false)) => {
            map.insert("active".into(), Value::Bool(false));
            Some(doc)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;
    use serde_json::json;

    use super::*;

    #[test]
    fn linkedin_refuses_unfiltered_sales_navigator_lists_only() {
        let linkedin = FidelityPreset::Linkedin.settings();
        let sales_navigator = Product::sales_navigator();
        assert_eq!(
            linkedin.check_user_list(Some(&sales_navigator), false),
            Err(Refusal::UnfilteredUserList)
        );
        assert_eq!(linkedin.check_user_list(Some(&sales_navigator), true), Ok(()));
        assert_eq!(
            linkedin.check_user_list(Some(&Product::learning()), false),
            Ok(())
        );
        assert_eq!(linkedin.check_user_list(None, false), Ok(()));
        let rfc = FidelityPreset::Rfc.settings();
        assert_eq!(rfc.check_user_list(Some(&sales_navigator), false), Ok(()));
    }

    #[test]
    fn user_deletion_follows_the_setting() {
        let mut fidelity = FidelityPreset::Linkedin.settings();
        assert_eq!(fidelity.user_deletion(), Ok(UserDeletion::Deactivate));
        fidelity.user_delete = UserDelete::Refuse;
        assert_eq!(fidelity.user_deletion(), Err(Refusal::UserDelete));
        assert_eq!(
            FidelityPreset::Rfc.settings().user_deletion(),
            Ok(UserDeletion::Remove)
        );
    }

    #[test]
    fn the_admin_lock_refuses_revocation_but_not_activation() {
        let linkedin = FidelityPreset::Linkedin.settings();
        assert_eq!(
            linkedin.check_license_edit(LicenseEdit::Revoke),
            Err(Refusal::AdminEditLocked)
        );
        assert_eq!(linkedin.check_license_edit(LicenseEdit::Activate), Ok(()));
        let rfc = FidelityPreset::Rfc.settings();
        assert_eq!(rfc.check_license_edit(LicenseEdit::Revoke), Ok(()));
    }

    #[test]
    fn deactivation_writes_only_when_the_user_is_active() {
        assert_eq!(
            deactivated(&json!({"userName": "a"})),
            Some(json!({"userName": "a", "active": false}))
        );
        assert_eq!(
            deactivated(&json!({"userName": "a", "active": true})),
            Some(json!({"userName": "a", "active": false}))
        );
        assert_eq!(deactivated(&json!({"userName": "a", "active": false})), None);
        assert_eq!(deactivated(&json!("not an object")), None);
    }

    #[test]
    fn overrides_replace_single_settings_and_zero_means_no_expiry() {
        let overrides = FidelityOverrides {
            user_delete: Some(UserDelete::Refuse),
            token_ttl_seconds: Some(0),
            ..Default::default()
        };
        let fidelity = overrides.apply(FidelityPreset::Linkedin.settings());
        assert_eq!(fidelity.user_delete, UserDelete::Refuse);
        assert_eq!(fidelity.token_ttl_seconds, None);
        assert!(fidelity.lock_admin_edits);
    }

    /// The seed file (serde) and the command line (clap) name presets the same way.
    #[test]
    fn presets_have_one_name_on_the_command_line_and_in_seed_files() {
        for preset in FidelityPreset::value_variants() {
            let cli = preset.to_possible_value().map(|v| v.get_name().to_owned());
            let serde = serde_json::to_value(preset)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            assert_eq!(cli, serde);
        }
    }
}
