//! The per-account LinkedIn fidelity profile (`docs/fidelity.md` documents each setting
//! and both presets) and the decisions it makes: how a product answers a user list that
//! is not a lookup of a known user, what a user DELETE does, which admin license edits
//! are locked. The HTTP layer asks and renders; the rules live here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::lookup::{is_group_lookup, is_user_lookup};
use crate::licensing::{Product, WhenFull};
use scim::filter::Filter;

/// Which behaviours an account emulates: LinkedIn's documented quirks, or plain RFC 7644
/// (what conformance suites expect). See `docs/fidelity.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
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

/// How a product's configurations answer a user list that is not a lookup of a known
/// user (see [`is_user_lookup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserListing {
    /// List as RFC 7644 says.
    Serve,
    /// 200 with an empty page: the list is not served, and a client that checks the
    /// connection with a list (Okta's "Test API Credentials", `GET /Users?count=2`) still
    /// sees a working endpoint.
    EmptyPage,
    /// 400 `tooMany`, saying to look users up instead.
    Refuse,
}

/// What a user list answers, when the settings do not refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListAnswer {
    /// The matching users.
    Serve,
    /// An empty page (the product lists no users).
    EmptyPage,
}

/// Two years: how long LinkedIn's Sales Navigator SCIM tokens are valid.
pub const TWO_YEARS_SECONDS: i64 = 2 * 365 * 24 * 60 * 60;

/// The per-account LinkedIn fidelity settings (`docs/fidelity.md` documents each one
/// and both presets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredFidelity")]
pub struct Fidelity {
    pub user_delete: UserDelete,
    /// How each product's configurations answer a user list that is not a lookup of a
    /// known user; a product not named here (and a configuration without auto-assign)
    /// serves lists. LinkedIn's Sales Navigator SCIM serves no user list (SaaS managers
    /// look users up one by one).
    pub user_listing: BTreeMap<Product, UserListing>,
    /// A full pool: record the user as waiting, or refuse the write.
    pub when_pool_full: WhenFull,
    /// Lifetime of a generated or seeded token, in seconds; `None`: no expiry.
    pub token_ttl_seconds: Option<i64>,
    /// Admin edits of licenses of SCIM-managed users are refused: once SCIM is on, the
    /// IdP is the source of truth.
    pub lock_admin_edits: bool,
    /// `POST /Bulk` (RFC 7644 §3.7) is offered. LinkedIn documents no Bulk endpoint, so
    /// its preset answers 501 and advertises `bulk.supported: false`. (Accounts stored
    /// before the setting existed: see [`StoredFidelity`].)
    pub bulk: bool,
}

/// [`Fidelity`] as an account row holds it. Rows written before the `bulk` setting
/// existed lack it; the row does not name its preset, so a missing `bulk` follows the
/// preset the other settings are: on for an account whose settings are exactly the
/// `rfc` preset's (which offers Bulk), off for any other (the `linkedin` preset, which
/// offers none, and customised accounts, which a seed override can turn it on for).
#[derive(Deserialize)]
struct StoredFidelity {
    user_delete: UserDelete,
    user_listing: BTreeMap<Product, UserListing>,
    when_pool_full: WhenFull,
    token_ttl_seconds: Option<i64>,
    lock_admin_edits: bool,
    bulk: Option<bool>,
}

impl From<StoredFidelity> for Fidelity {
    fn from(stored: StoredFidelity) -> Fidelity {
        let mut fidelity = Fidelity {
            user_delete: stored.user_delete,
            user_listing: stored.user_listing,
            when_pool_full: stored.when_pool_full,
            token_ttl_seconds: stored.token_ttl_seconds,
            lock_admin_edits: stored.lock_admin_edits,
            bulk: false,
        };
        fidelity.bulk = stored.bulk.unwrap_or_else(|| {
            let rfc = FidelityPreset::Rfc.settings();
            fidelity == Fidelity { bulk: false, ..rfc }
        });
        fidelity
    }
}

impl FidelityPreset {
    pub fn settings(self) -> Fidelity {
        match self {
            FidelityPreset::Linkedin => Fidelity {
                user_delete: UserDelete::Deactivate,
                user_listing: BTreeMap::from([(Product::sales_navigator(), UserListing::EmptyPage)]),
                when_pool_full: WhenFull::Wait,
                token_ttl_seconds: Some(TWO_YEARS_SECONDS),
                lock_admin_edits: true,
                bulk: false,
            },
            FidelityPreset::Rfc => Fidelity {
                user_delete: UserDelete::Delete,
                user_listing: BTreeMap::new(),
                when_pool_full: WhenFull::Wait,
                token_ttl_seconds: None,
                lock_admin_edits: false,
                bulk: true,
            },
        }
    }
}

/// Seed-file overrides of single fidelity settings on top of the preset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FidelityOverrides {
    pub user_delete: Option<UserDelete>,
    /// Replaces the preset's whole map.
    pub user_listing: Option<BTreeMap<Product, UserListing>>,
    pub when_pool_full: Option<WhenFull>,
    /// 0 means "no expiry".
    pub token_ttl_seconds: Option<i64>,
    pub lock_admin_edits: Option<bool>,
    pub bulk: Option<bool>,
}

impl FidelityOverrides {
    pub fn apply(&self, mut fidelity: Fidelity) -> Fidelity {
        if let Some(v) = self.user_delete {
            fidelity.user_delete = v;
        }
        if let Some(v) = &self.user_listing {
            fidelity.user_listing = v.clone();
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
        if let Some(v) = self.bulk {
            fidelity.bulk = v;
        }
        fidelity
    }
}

/// A request the account's fidelity settings refuse; the detail says what to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FidelityRefusal {
    #[error(
        "this product does not list users: look a user up by id or with an eq filter on userName, externalId, id or emails.value"
    )]
    UserList,
    #[error(
        "this product does not list groups: look a group up by id or with an eq filter on displayName, externalId or id"
    )]
    GroupList,
    #[error("this account does not delete users over SCIM: deprovision with active=false")]
    UserDelete,
    #[error("licenses of SCIM-managed users are edited in the IdP: this account locks admin edits")]
    AdminEditLocked,
    #[error(
        "this account offers no /Bulk endpoint (LinkedIn documents none): send one request per operation"
    )]
    Bulk,
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
pub enum AdminLicenseEdit {
    /// The user accepts the license (`assigned` → `activated`).
    Activate,
    /// The admin takes the license away.
    Revoke,
    /// The admin moves the license to another pool of its product.
    Move,
}

impl Fidelity {
    /// How a configuration auto-assigning `assigns` answers a user list with `filter`.
    /// A lookup of a known user ([`is_user_lookup`]) is always served; any other list,
    /// filtered or not, follows the product's [`UserListing`].
    pub fn user_list(
        &self,
        assigns: Option<&Product>,
        filter: Option<&Filter>,
    ) -> Result<ListAnswer, FidelityRefusal> {
        if filter.is_some_and(is_user_lookup) {
            return Ok(ListAnswer::Serve);
        }
        match self.listing(assigns) {
            UserListing::Serve => Ok(ListAnswer::Serve),
            UserListing::EmptyPage => Ok(ListAnswer::EmptyPage),
            UserListing::Refuse => Err(FidelityRefusal::UserList),
        }
    }

    /// How a configuration auto-assigning `assigns` answers a group list with `filter`:
    /// the product's [`UserListing`] applies to groups too (else a client that may not
    /// list users could enumerate them through groups), but for a lookup of a known group
    /// ([`is_group_lookup`]).
    pub fn group_list(
        &self,
        assigns: Option<&Product>,
        filter: Option<&Filter>,
    ) -> Result<ListAnswer, FidelityRefusal> {
        if filter.is_some_and(is_group_lookup) {
            return Ok(ListAnswer::Serve);
        }
        match self.listing(assigns) {
            UserListing::Serve => Ok(ListAnswer::Serve),
            UserListing::EmptyPage => Ok(ListAnswer::EmptyPage),
            UserListing::Refuse => Err(FidelityRefusal::GroupList),
        }
    }

    /// Whether a group's `members` are shown through a configuration auto-assigning
    /// `assigns`: only where the product lists users. A product that lists none (Sales
    /// Navigator under the `linkedin` preset) would otherwise name, in a group it looks
    /// up, users it could not list.
    pub fn names_members(&self, assigns: Option<&Product>) -> bool {
        self.listing(assigns) == UserListing::Serve
    }

    /// The listing of `assigns`' product; a product not named, and no product, serve.
    fn listing(&self, assigns: Option<&Product>) -> UserListing {
        assigns
            .and_then(|product| self.user_listing.get(product))
            .copied()
            .unwrap_or(UserListing::Serve)
    }

    /// What DELETE of a user does, or why it is refused.
    pub fn user_deletion(&self) -> Result<UserDeletion, FidelityRefusal> {
        match self.user_delete {
            UserDelete::Delete => Ok(UserDeletion::Remove),
            UserDelete::Deactivate => Ok(UserDeletion::Deactivate),
            UserDelete::Refuse => Err(FidelityRefusal::UserDelete),
        }
    }

    /// May an admin make this license edit? Activation is the user's own act on
    /// LinkedIn, so it is allowed even while SCIM manages the user; revocation is the
    /// IdP's once the account locks admin edits.
    pub fn check_license_edit(&self, edit: AdminLicenseEdit) -> Result<(), FidelityRefusal> {
        match edit {
            AdminLicenseEdit::Revoke | AdminLicenseEdit::Move if self.lock_admin_edits => {
                Err(FidelityRefusal::AdminEditLocked)
            }
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

/// Which users a list through a configuration of `product` shows: a lookup of a known
/// user (the "same unique identifiers" rule) finds the person across products; any
/// other list shows only the users of that product (written through it or licensed in
/// it; `licensing::status`). `None`: every user of the account.
pub fn list_scope<'p>(product: Option<&'p Product>, filter: Option<&Filter>) -> Option<&'p Product> {
    if filter.is_some_and(is_user_lookup) {
        return None;
    }
    product
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use scim::tolerance::{ClientProfile, Leniency};

    /// A row stored before the `bulk` setting existed: the preset's JSON without it.
    fn stored_without_bulk(fidelity: &Fidelity) -> Fidelity {
        let mut row = serde_json::to_value(fidelity).expect("serialises");
        row.as_object_mut().expect("object").remove("bulk");
        serde_json::from_value(row).expect("reads")
    }

    #[test]
    fn a_stored_account_without_the_bulk_setting_follows_its_preset() {
        for preset in [FidelityPreset::Rfc, FidelityPreset::Linkedin] {
            let settings = preset.settings();
            assert_eq!(stored_without_bulk(&settings), settings, "{preset:?}");
            // A stored `bulk` is read as stored, whatever the preset says.
            let flipped = Fidelity {
                bulk: !settings.bulk,
                ..settings.clone()
            };
            let row = serde_json::to_value(&flipped).expect("serialises");
            assert_eq!(serde_json::from_value::<Fidelity>(row).expect("reads"), flipped);
        }
        // An account customised away from the `rfc` preset keeps Bulk off, as before.
        let customised = Fidelity {
            user_delete: UserDelete::Refuse,
            ..FidelityPreset::Rfc.settings()
        };
        assert!(!stored_without_bulk(&customised).bulk);
    }

    fn filter(text: &str) -> Filter {
        let mut strict = Leniency::new(ClientProfile::Strict);
        scim::filter::parse_filter(text, &mut strict).unwrap_or_else(|e| panic!("{text}: {e:?}"))
    }

    #[test]
    fn linkedin_answers_sales_navigator_lists_with_an_empty_page_only() {
        let linkedin = FidelityPreset::Linkedin.settings();
        let sales_navigator = Product::sales_navigator();
        let lookup = filter("userName eq \"a@acme.com\"");
        assert_eq!(
            linkedin.user_list(Some(&sales_navigator), None),
            Ok(ListAnswer::EmptyPage)
        );
        assert_eq!(
            linkedin.user_list(Some(&sales_navigator), Some(&lookup)),
            Ok(ListAnswer::Serve)
        );
        assert_eq!(
            linkedin.user_list(Some(&sales_navigator), Some(&filter("active eq true"))),
            Ok(ListAnswer::EmptyPage)
        );
        assert_eq!(
            linkedin.user_list(Some(&Product::learning()), None),
            Ok(ListAnswer::Serve)
        );
        assert_eq!(linkedin.user_list(None, None), Ok(ListAnswer::Serve));
        let rfc = FidelityPreset::Rfc.settings();
        assert_eq!(rfc.user_list(Some(&sales_navigator), None), Ok(ListAnswer::Serve));
        let refusing = FidelityOverrides {
            user_listing: Some(BTreeMap::from([(sales_navigator.clone(), UserListing::Refuse)])),
            ..Default::default()
        }
        .apply(linkedin);
        assert_eq!(
            refusing.user_list(Some(&sales_navigator), None),
            Err(FidelityRefusal::UserList)
        );
        assert_eq!(
            refusing.user_list(Some(&sales_navigator), Some(&lookup)),
            Ok(ListAnswer::Serve)
        );
    }

    #[test]
    fn groups_follow_the_user_listing_and_hide_members_where_users_are_not_listed() {
        let linkedin = FidelityPreset::Linkedin.settings();
        let sales_navigator = Product::sales_navigator();
        let lookup = filter("displayName eq \"Sales\"");
        assert_eq!(
            linkedin.group_list(Some(&sales_navigator), None),
            Ok(ListAnswer::EmptyPage)
        );
        assert_eq!(
            linkedin.group_list(Some(&sales_navigator), Some(&filter("displayName pr"))),
            Ok(ListAnswer::EmptyPage)
        );
        assert_eq!(
            linkedin.group_list(Some(&sales_navigator), Some(&lookup)),
            Ok(ListAnswer::Serve)
        );
        assert_eq!(
            linkedin.group_list(Some(&Product::learning()), None),
            Ok(ListAnswer::Serve)
        );
        assert!(!linkedin.names_members(Some(&sales_navigator)));
        assert!(linkedin.names_members(Some(&Product::learning())));
        assert!(linkedin.names_members(None));
        let rfc = FidelityPreset::Rfc.settings();
        assert_eq!(
            rfc.group_list(Some(&sales_navigator), None),
            Ok(ListAnswer::Serve)
        );
        assert!(rfc.names_members(Some(&sales_navigator)));
        let refusing = FidelityOverrides {
            user_listing: Some(BTreeMap::from([(sales_navigator.clone(), UserListing::Refuse)])),
            ..Default::default()
        }
        .apply(linkedin);
        assert_eq!(
            refusing.group_list(Some(&sales_navigator), None),
            Err(FidelityRefusal::GroupList)
        );
        assert!(!refusing.names_members(Some(&sales_navigator)));
    }

    #[test]
    fn user_deletion_follows_the_setting() {
        let mut fidelity = FidelityPreset::Linkedin.settings();
        assert_eq!(fidelity.user_deletion(), Ok(UserDeletion::Deactivate));
        fidelity.user_delete = UserDelete::Refuse;
        assert_eq!(fidelity.user_deletion(), Err(FidelityRefusal::UserDelete));
        assert_eq!(
            FidelityPreset::Rfc.settings().user_deletion(),
            Ok(UserDeletion::Remove)
        );
    }

    #[test]
    fn the_admin_lock_refuses_revocation_but_not_activation() {
        let linkedin = FidelityPreset::Linkedin.settings();
        assert_eq!(
            linkedin.check_license_edit(AdminLicenseEdit::Revoke),
            Err(FidelityRefusal::AdminEditLocked)
        );
        assert_eq!(linkedin.check_license_edit(AdminLicenseEdit::Activate), Ok(()));
        let rfc = FidelityPreset::Rfc.settings();
        assert_eq!(rfc.check_license_edit(AdminLicenseEdit::Revoke), Ok(()));
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
    #[cfg(feature = "clap")]
    #[test]
    fn presets_have_one_name_on_the_command_line_and_in_seed_files() {
        use clap::ValueEnum;
        for preset in FidelityPreset::value_variants() {
            let cli = preset.to_possible_value().map(|v| v.get_name().to_owned());
            let serde = serde_json::to_value(preset)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned));
            assert_eq!(cli, serde);
        }
    }

    #[test]
    fn lookups_cross_products_and_other_lists_stay_in_the_product() {
        let learning = Product::learning();
        let parse = |text: &str| {
            let mut strict = Leniency::new(ClientProfile::Strict);
            scim::filter::parse_filter(text, &mut strict).ok()
        };
        let (lookup, other) = (parse(r#"userName eq "a@acme.com""#), parse(r#"userName sw "a""#));
        assert!(lookup.is_some() && other.is_some());
        assert_eq!(list_scope(Some(&learning), lookup.as_ref()), None);
        assert_eq!(list_scope(Some(&learning), other.as_ref()), Some(&learning));
        assert_eq!(list_scope(Some(&learning), None), Some(&learning));
        assert_eq!(list_scope(None, None), None);
    }
}
