//! An account's Settings page, "Global Settings → SCIM" in LinkedIn's words: the tenant
//! URL, the SCIM configurations and their tokens (a token just issued is shown here once,
//! a refresh asks first), and the account itself (rename, fidelity preset, deletion).

use axum::Form;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

use super::Heading::{Hidden, Shown};
use super::{AccountPage, CsrfForm, Page, PageError, account_url, csrf_field, failed, field, table};
use crate::accounts::{Account, FidelityPreset};
use crate::center::{AccountChange, CenterError, IssuedToken, NewScimConfiguration};
use crate::http::AppState;
use crate::http::extract::origin;
use crate::http::ui::session::Session;
use crate::http::ui::{Flash, Tab, back, page, path_segment, when};
use crate::scim::tolerance::ClientProfile;

async fn settings_page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    account: &Account,
    flash: &Flash,
    issued: Option<&IssuedToken>,
) -> Result<Markup, PageError> {
    let center = state.center();
    let configurations = center
        .configurations(account)
        .await
        .map_err(|e| failed(session, e))?;
    let pools = center.pools(account).await.map_err(|e| failed(session, e))?;
    let mut instances: Vec<&str> = pools.iter().map(|p| p.instance.as_str()).collect();
    instances.dedup();
    let tenant_url = format!("{}/scim/v2", origin(state, headers));
    let base = account_url(account, Tab::Dashboard);
    let content = html! {
        h1 { "Global Settings" }
        div.settings {
            nav.subnav aria-label="Settings" {
                a href="#scim" aria-current="page" { "SCIM" }
                a href="#account" { "Account" }
            }
            div.settings-body {
                @if let Some(token) = issued {
                    section.card.token-panel #token aria-labelledby="token-title" {
                        h2 #token-title { "Access token for " (token.configuration) }
                        p.warning role="alert" { strong { "Save your access token to your clipboard or computer before leaving this page." } " It is shown only once: the server keeps only its hash." }
                        div.copy-row {
                            label for="access-token" { "Access token" }
                            input #access-token readonly value=(token.token);
                            button type="button" data-copy="access-token" { "Copy" }
                        }
                        @if let Some(expires) = &token.expires_at { p.muted { "Expires at " (expires) "." } }
                    }
                }
                details.card #scim open {
                    summary { h2 { "SCIM Setup" } }
                    div.copy-row {
                        label for="tenant-url" { "Tenant URL" }
                        input #tenant-url readonly value=(tenant_url);
                        button type="button" data-copy="tenant-url" { "Copy" }
                    }
                    p.muted { "Paste the tenant URL and a configuration's access token into Microsoft Entra ID (Provisioning → Admin Credentials) or Okta (Provisioning → Configure API Integration)." }
                    @if configurations.is_empty() {
                        p.muted { "No SCIM configuration yet." }
                    } @else {
                        div.table-wrap {
                            (table(Some("configurations"), &[Shown("Name"), Shown("Auto-assign licenses"), Shown("Client profile"), Shown("Token created"), Shown("Last used"), Shown("Expires"), Hidden("Actions")], html! {
                                tbody {
                                    @for c in &configurations {
                                        tr {
                                            td { strong { (c.name) } }
                                            td {
                                                @match (&c.instance, &c.license_type) {
                                                    (Some(i), Some(l)) => {
                                                        "On: " (i) " · " (l) " · "
                                                        a href=(format!("{base}/configurations/{}/rules", path_segment(&c.name))) {
                                                            @match c.license_rules.len() {
                                                                0 => { "add license rules" }
                                                                n => { (n) " license rule(s)" }
                                                            }
                                                        }
                                                    }
                                                    _ => { span.muted { "Off (user data only)" } }
                                                }
                                            }
                                            td { (c.client_profile.as_str()) }
                                            td { (c.token_created_at.map_or("from the seed file".to_owned(), when)) }
                                            td { (c.token_last_used_at.map_or("never".to_owned(), when)) }
                                            td { (c.token_expires_at.map_or("never".to_owned(), when)) }
                                            td.actions {
                                                a.button href=(format!("{base}/configurations/{}/token", path_segment(&c.name))) { "Refresh token" }
                                                form.inline method="post" action=(format!("{base}/configurations/{}/delete", path_segment(&c.name))) data-confirm=(format!("Delete the SCIM configuration {:?}? Its token stops working at once.", c.name)) {
                                                    (csrf_field(session))
                                                    button.danger type="submit" { "Delete" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }))
                        }
                    }
                    // Closed until clicked, as the guides say ("click + Add new SCIM
                    // configuration"): open by default, that click closed it.
                    details.add-config {
                        summary.button { "+ Add new SCIM configuration" }
                        form.config-form method="post" action=(format!("{base}/configurations")) {
                            (csrf_field(session))
                            (field("config-name", "Name", html! {
                                input #config-name name="name" required placeholder="Microsoft Entra ID";
                            }))
                            div.field.switch {
                                input #auto-assign type="checkbox" role="switch" name="auto_assign" checked[!pools.is_empty()] disabled[pools.is_empty()];
                                label for="auto-assign" { "Auto-assign licenses" }
                            }
                            p.muted { "When auto-assign licenses is not enabled, only user data is synced. When it is, licenses are assigned first come, first served until all are taken." }
                            (field("config-instance", "Application instance", html! {
                                select #config-instance name="instance" data-auto-assign {
                                    @for i in &instances { option value=(i) { (i) } }
                                }
                            }))
                            (field("config-license-type", "License type", html! {
                                select #config-license-type name="license_type" data-auto-assign {
                                    @for p in &pools { option value=(p.license_type) data-instance=(p.instance) { (p.license_type) } }
                                }
                            }))
                            details.advanced {
                                summary { "Advanced" }
                                (field("config-profile", "Client profile", html! {
                                    select #config-profile name="client_profile" {
                                        @for profile in [ClientProfile::Lenient, ClientProfile::Entra, ClientProfile::Okta, ClientProfile::Strict, ClientProfile::Validator] {
                                            option value=(profile.as_str()) { (profile.as_str()) }
                                        }
                                    }
                                }))
                                (field("config-patch", "PATCH response", html! {
                                    select #config-patch name="patch_response" {
                                        option value="resource" { "200 with the resource" }
                                        option value="no_content" { "204 No Content" }
                                    }
                                }))
                            }
                            button.primary #generate-token type="submit" { "Generate token" }
                        }
                    }
                }
                details.card #account {
                    summary { h2 { "Account" } }
                    form.grid method="post" action=(format!("{base}/rename")) {
                        (csrf_field(session))
                        (field("account-rename", "Account name", html! {
                            input #account-rename name="name" required pattern="[A-Za-z0-9_-]+" value=(account.name);
                        }))
                        div.actions { button type="submit" { "Rename" } }
                    }
                    form.grid method="post" action=(format!("{base}/fidelity")) {
                        (csrf_field(session))
                        (field("account-preset", "Fidelity preset (resets the fidelity settings)", html! {
                            select #account-preset name="profile" {
                                option value="linkedin" { "LinkedIn (its documented quirks)" }
                                option value="rfc" { "RFC 7644 (plain SCIM)" }
                            }
                        }))
                        div.actions { button type="submit" { "Apply preset" } }
                    }
                    form.inline method="post" action=(format!("{base}/delete")) data-confirm=(format!("Delete the account {:?} with all its users, groups, configurations and tokens?", account.name)) {
                        (csrf_field(session))
                        button.danger type="submit" { "Delete account" }
                    }
                }
            }
        }
    };
    Ok(page(
        "Settings",
        session,
        Some((&account.name, Tab::Settings)),
        flash,
        content,
    ))
}

/// The Settings page; a token just issued in this session is shown here once.
pub(in crate::http::ui) async fn settings(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    headers: HeaderMap,
) -> Page {
    let flash = session.take_flash(&state).await;
    let issued = session.take_token(&state, &account.id).await;
    Ok(
        settings_page(&state, &session, &headers, &account, &flash, issued.as_ref())
            .await?
            .into_response(),
    )
}

/// "Refresh token" asks first: the current token stops working at once, and the IdP
/// with it until the new one is pasted in.
pub(in crate::http::ui) async fn confirm_refresh(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, configuration)): Path<(String, String)>,
) -> Page {
    let found = state
        .center()
        .configuration(&account, &configuration)
        .await
        .map_err(|e| PageError::NotFound(session.clone(), e))?;
    let settings = account_url(&account, Tab::Settings);
    let content = html! {
        h1 { "Refresh token" }
        section.card.confirm {
            h2 { "Refresh the access token of " (found.name) "?" }
            p.warning role="alert" {
                strong { "The current token stops working at once." }
                " Every IdP using it gets 401 until you paste the new token into it (Provisioning → Admin Credentials in Entra ID, Configure API Integration in Okta). The new token is shown once, on the next page."
            }
            form.inline method="post" action=(format!("{}/configurations/{}/token", account_url(&account, Tab::Dashboard), path_segment(&found.name))) {
                (csrf_field(&session))
                button.danger #confirm-refresh type="submit" { "Refresh token" }
            }
            " "
            a.button href=(settings) { "Cancel" }
        }
    };
    Ok(page(
        "Refresh token",
        &session,
        Some((&account.name, Tab::Settings)),
        &Flash::default(),
        content,
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct ConfigurationForm {
    csrf: String,
    name: String,
    auto_assign: Option<String>,
    instance: Option<String>,
    license_type: Option<String>,
    client_profile: ClientProfile,
    patch_response: crate::accounts::PatchResponse,
}

/// After a token is issued: leave it in the session and redirect (303) to the Settings
/// page, which shows it once. A reload of that page shows no token and mints none; the
/// POST is never re-sent. A refusal goes back with its error.
async fn show_token(
    state: &AppState,
    session: &Session,
    account: &Account,
    issued: Result<(String, IssuedToken), CenterError>,
) -> Page {
    let settings = account_url(account, Tab::Settings);
    let (notice, token) = match issued {
        Ok(issued) => issued,
        Err(e) => return Ok(back(state, session, &settings, Err(e)).await),
    };
    session
        .leave_token(state, &account.id, token)
        .await
        .map_err(|e| failed(session, e.into()))?;
    Ok(back(state, session, &settings, Ok(notice)).await)
}

pub(in crate::http::ui) async fn create_configuration(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<ConfigurationForm>,
) -> Page {
    session.check(&form.csrf)?;
    let new = NewScimConfiguration {
        name: form.name,
        auto_assign: form.auto_assign.is_some(),
        instance: form.instance,
        license_type: form.license_type,
        client_profile: form.client_profile,
        patch_response: form.patch_response,
    };
    let done = state.center().create_configuration(&account, &new).await;
    let done = done.map(|(config, token)| (format!("SCIM configuration {:?} created", config.name), token));
    show_token(&state, &session, &account, done).await
}

pub(in crate::http::ui) async fn refresh_token(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, configuration)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    let done = state.center().refresh_token(&account, &configuration).await;
    let done = done.map(|token| {
        let notice = format!("New token for {configuration:?}: the old one no longer works. Update the IdP.");
        (notice, token)
    });
    show_token(&state, &session, &account, done).await
}

pub(in crate::http::ui) async fn delete_configuration(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, configuration)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = center.delete_configuration(&account, &configuration).await;
    Ok(back(
        &state,
        &session,
        &account_url(&account, Tab::Settings),
        done.map(|()| format!("SCIM configuration {configuration:?} deleted: its token no longer works")),
    )
    .await)
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct RenameForm {
    csrf: String,
    name: String,
}

pub(in crate::http::ui) async fn rename_account(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<RenameForm>,
) -> Page {
    session.check(&form.csrf)?;
    let change = AccountChange {
        name: Some(form.name),
        ..AccountChange::default()
    };
    Ok(
        match state.center().update_account(&account.name, &change).await {
            Ok(renamed) => {
                back(
                    &state,
                    &session,
                    &account_url(&renamed, Tab::Settings),
                    Ok(format!("Account renamed to {:?}", renamed.name)),
                )
                .await
            }
            Err(e) => back(&state, &session, &account_url(&account, Tab::Settings), Err(e)).await,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct PresetForm {
    csrf: String,
    profile: FidelityPreset,
}

pub(in crate::http::ui) async fn apply_preset(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<PresetForm>,
) -> Page {
    session.check(&form.csrf)?;
    let change = AccountChange {
        profile: Some(form.profile),
        ..AccountChange::default()
    };
    let done = state.center().update_account(&account.name, &change).await;
    Ok(back(
        &state,
        &session,
        &account_url(&account, Tab::Settings),
        done.map(|_| format!("Fidelity preset {:?} applied", form.profile.as_str())),
    )
    .await)
}

pub(in crate::http::ui) async fn delete_account(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    Ok(match state.center().delete_account(&account.name).await {
        Ok(()) => {
            back(
                &state,
                &session,
                "/admin/accounts",
                Ok(format!("Account {:?} deleted", account.name)),
            )
            .await
        }
        Err(e) => back(&state, &session, &account_url(&account, Tab::Settings), Err(e)).await,
    })
}
