//! Accounts: create, rename, re-profile, delete and reset them. An account's name appears
//! in URLs and its fidelity settings are a preset with single settings overriding it.

use serde::Deserialize;

use super::{Center, CenterError, CenterResult, invalid, name};
use crate::accounts::{Account, Fidelity, FidelityOverrides, FidelityPreset};

/// A new account: a fidelity preset and single settings overriding it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewAccount {
    pub name: String,
    /// `linkedin` (default) or `rfc`.
    #[serde(default)]
    #[schema(value_type = String)]
    pub profile: FidelityPreset,
    /// Single settings overriding the preset (docs/fidelity.md).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fidelity: FidelityOverrides,
}

/// A change to an account; absent members stay as they are. A new `profile` resets the
/// fidelity settings to that preset before `fidelity` overrides apply.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountChange {
    pub name: Option<String>,
    #[schema(value_type = Option<String>)]
    pub profile: Option<FidelityPreset>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fidelity: FidelityOverrides,
}

/// An account name: it appears in URLs, so letters, digits, `-` and `_` only.
fn account_name(text: &str) -> CenterResult<String> {
    let name = name("name", text)?;
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(invalid(
            "name",
            "use letters, digits, - and _ (it appears in URLs)",
        ));
    }
    Ok(name)
}

fn overrides(overrides: &FidelityOverrides, base: Fidelity) -> CenterResult<Fidelity> {
    if overrides.token_ttl_seconds.is_some_and(|t| t < 0) {
        return Err(invalid(
            "fidelity.token_ttl_seconds",
            "cannot be negative (0: no expiry)",
        ));
    }
    Ok(overrides.apply(base))
}

impl Center {
    pub async fn accounts(&self) -> CenterResult<Vec<Account>> {
        Ok(self.store.list_accounts().await?)
    }

    pub async fn account(&self, name: &str) -> CenterResult<Account> {
        self.store
            .account_by_name(name)
            .await?
            .ok_or_else(|| CenterError::NotFound(format!("no account {name:?}")))
    }

    pub async fn create_account(&self, new: &NewAccount) -> CenterResult<Account> {
        let name = account_name(&new.name)?;
        let fidelity = overrides(&new.fidelity, new.profile.settings())?;
        Ok(self.store.create_account(&name, &fidelity, self.now()).await?)
    }

    pub async fn update_account(&self, current: &str, change: &AccountChange) -> CenterResult<Account> {
        let account = self.account(current).await?;
        let name = match &change.name {
            Some(n) => account_name(n)?,
            None => account.name.clone(),
        };
        let base = change
            .profile
            .map_or(account.fidelity.clone(), FidelityPreset::settings);
        let fidelity = overrides(&change.fidelity, base)?;
        self.store
            .update_account(&account.id, &name, &fidelity, self.now())
            .await?;
        Ok(Account {
            id: account.id,
            name,
            fidelity,
        })
    }

    pub async fn delete_account(&self, name: &str) -> CenterResult<()> {
        let account = self.account(name).await?;
        self.store.delete_account(&account.id).await?;
        Ok(())
    }

    /// Test-harness reset: (users, groups) removed.
    pub async fn reset_account(&self, name: &str) -> CenterResult<(u64, u64)> {
        let account = self.account(name).await?;
        Ok(self.store.reset_account(&account.id).await?)
    }
}
