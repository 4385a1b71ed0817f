//! The pages and form actions of the web UI. GET handlers render; POST handlers check
//! the CSRF token, call the Account Center and redirect back with a notice or an error
//! (except token issue, whose page shows the token once and is never redirected to).

use std::collections::HashMap;

use axum::Form;
use axum::extract::FromRequestParts;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use maud::{Markup, html};
use serde::Deserialize;

use super::session::{self, LOGIN_COOKIE, SESSION_COOKIE, Session};
use super::{Flash, Tab, back, bare_page, page, path_segment, when};
use crate::accounts::{Account, BearerToken, FidelityPreset};
use crate::center::{
    AccountChange, ActivityFilter, Center, CenterError, IssuedToken, NewAccount, NewPool,
    NewScimConfiguration, PoolView, UserSearch,
};
use crate::http::AppState;
use crate::http::extract::origin;
use crate::ids::{GroupId, PoolId, UserId};
use crate::licensing::{LicenseState, Product};
use crate::scim::tolerance::ClientProfile;
use Heading::{Hidden, Shown};

type Page = Result<Response, Response>;

/// What every page of one account starts from: a session, and the account named in the
/// path (or a 404 page).
pub(super) struct AccountPage {
    state: AppState,
    session: Session,
    account: Account,
}

impl FromRequestParts<AppState> for AccountPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state).await?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let name = params.get("account").map(String::as_str).unwrap_or_default();
        let account = account(&state.center(), &session, name).await?;
        Ok(AccountPage {
            state: state.clone(),
            session,
            account,
        })
    }
}

/// The account named `name`, or a 404 page.
async fn account(center: &Center, session: &Session, name: &str) -> Result<Account, Response> {
    center.account(name).await.map_err(|e| {
        let status = match e {
            CenterError::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let content = html! {
            h1 { "Not found" }
            p { (e.to_string()) ". " a href="/admin/accounts" { "Back to the accounts" } }
        };
        (
            status,
            page("Not found", session, None, &Flash::default(), content),
        )
            .into_response()
    })
}

/// An unexpected failure while rendering (the database is down, …).
fn failed(session: &Session, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "admin page failed");
    let content = html! { h1 { "Something went wrong" } p { (e.to_string()) } };
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        page("Error", session, None, &Flash::default(), content),
    )
        .into_response()
}

fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A form field: the label, then its control (which carries the id `id`).
fn field(id: &str, label: &str, control: Markup) -> Markup {
    html! { div.field { label for=(id) { (label) } (control) } }
}

/// A column's heading: `Hidden` ones are for screen readers only (a checkbox or actions column).
enum Heading {
    Shown(&'static str),
    Hidden(&'static str),
}

/// A table with a header row of `headings`; `body` is its `tbody`.
fn table(class: Option<&str>, headings: &[Heading], body: Markup) -> Markup {
    html! {
        table class=[class] {
            thead { tr {
                @for heading in headings {
                    @match heading {
                        Heading::Shown(text) => th scope="col" { (text) },
                        Heading::Hidden(text) => th scope="col" { span.sr { (text) } },
                    }
                }
            } }
            (body)
        }
    }
}

fn account_url(account: &Account, tab: Tab) -> String {
    tab.href(&account.name)
}

// ---- login ----

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    token: String,
    csrf: String,
}

pub(super) async fn login_form(jar: PrivateCookieJar, Query(flash): Query<Flash>) -> Response {
    let csrf = session::random_token();
    let jar = jar.add(session::cookie(LOGIN_COOKIE, csrf.clone()));
    let content = html! {
        section.card.login {
            h1 { span.logo aria-hidden="true" { "in" } " Account Center" }
            p.muted { "Sign in with the admin token: the server prints it at start-up, or it is the one given with " code { "--admin-token" } "." }
            @if let Some(error) = &flash.error {
                p.flash.err role="alert" { (error) }
            }
            form method="post" action="/admin/login" {
                input type="hidden" name="csrf" value=(csrf);
                label for="token" { "Admin token" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                button.primary type="submit" { "Sign in" }
            }
        }
    };
    (jar, bare_page("Sign in", content)).into_response()
}

pub(super) async fn login(
    State(state): State<AppState>,
    jar: PrivateCookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = jar.get(LOGIN_COOKIE).map(|c| c.value().to_owned());
    if expected.as_deref() != Some(form.csrf.as_str()) {
        return super::back(
            "/admin/login",
            Err(CenterError::Forbidden(
                "the sign-in form expired: try again".into(),
            )),
        );
    }
    let valid = BearerToken::parse(form.token.trim()).is_some_and(|t| state.admin_token.matches(&t.hash().0));
    if !valid {
        return super::back(
            "/admin/login",
            Err(CenterError::Forbidden(
                "that is not this server's admin token".into(),
            )),
        );
    }
    let jar = Session::start(&state, jar.remove(session::cookie(LOGIN_COOKIE, String::new())));
    (jar, Redirect::to("/admin/accounts")).into_response()
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    csrf: String,
}

pub(super) async fn logout(session: Session, jar: PrivateCookieJar, Form(form): Form<CsrfForm>) -> Page {
    session.check(&form.csrf)?;
    let jar = jar.remove(session::cookie(SESSION_COOKIE, String::new()));
    Ok((jar, Redirect::to("/admin/login")).into_response())
}

// ---- accounts ----

pub(super) async fn accounts(
    State(state): State<AppState>,
    session: Session,
    Query(flash): Query<Flash>,
) -> Page {
    let accounts = state.center().accounts().await.map_err(|e| failed(&session, e))?;
    let content = html! {
        h1 { "Accounts" }
        section.card {
            @if accounts.is_empty() {
                p.muted { "No account yet: create the first one below." }
            } @else {
                (table(None, &[Shown("Account"), Shown("Fidelity"), Shown("Token lifetime")], html! {
                    tbody {
                        @for a in &accounts {
                            tr {
                                td { a href=(account_url(a, Tab::Dashboard)) { (a.name) } }
                                td { @if a.fidelity.lock_admin_edits { "LinkedIn" } @else { "custom / RFC" } }
                                td { (a.fidelity.token_ttl_seconds.map_or("never expires".to_owned(), |s| format!("{} days", s / 86_400))) }
                            }
                        }
                    }
                }))
            }
        }
        section.card {
            h2 { "Create account" }
            form.grid method="post" action="/admin/accounts" {
                (csrf_field(&session))
                (field("account-name", "Account name", html! {
                    input #account-name name="name" required pattern="[A-Za-z0-9_-]+" placeholder="acme";
                    small.muted { "Letters, digits, - and _: it appears in URLs." }
                }))
                (field("account-profile", "Fidelity preset", html! {
                    select #account-profile name="profile" {
                        option value="linkedin" selected { "LinkedIn (its documented quirks)" }
                        option value="rfc" { "RFC 7644 (plain SCIM)" }
                    }
                }))
                div.actions { button.primary type="submit" { "Create account" } }
            }
        }
    };
    Ok(page("Accounts", &session, None, &flash, content).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct AccountForm {
    csrf: String,
    name: String,
    profile: FidelityPreset,
}

pub(super) async fn create_account(
    State(state): State<AppState>,
    session: Session,
    Form(form): Form<AccountForm>,
) -> Page {
    session.check(&form.csrf)?;
    let new = NewAccount {
        name: form.name,
        profile: form.profile,
        ..NewAccount::default()
    };
    Ok(match state.center().create_account(&new).await {
        Ok(account) => back(
            &account_url(&account, Tab::Dashboard),
            Ok(format!("Account {:?} created", account.name)),
        ),
        Err(e) => back("/admin/accounts", Err(e)),
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct RenameForm {
    csrf: String,
    name: String,
}

pub(super) async fn rename_account(
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
            Ok(renamed) => back(
                &account_url(&renamed, Tab::Settings),
                Ok(format!("Account renamed to {:?}", renamed.name)),
            ),
            Err(e) => back(&account_url(&account, Tab::Settings), Err(e)),
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct PresetForm {
    csrf: String,
    profile: FidelityPreset,
}

pub(super) async fn apply_preset(
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
        &account_url(&account, Tab::Settings),
        done.map(|_| format!("Fidelity preset {:?} applied", form.profile.as_str())),
    ))
}

pub(super) async fn delete_account(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    Ok(match state.center().delete_account(&account.name).await {
        Ok(()) => back(
            "/admin/accounts",
            Ok(format!("Account {:?} deleted", account.name)),
        ),
        Err(e) => back(&account_url(&account, Tab::Settings), Err(e)),
    })
}

// ---- dashboard: instances and pools ----

fn seat_bar(pool: &PoolView) -> Markup {
    let seats = pool.seats.max(1) as f64;
    let pct = |n: i64| format!("width: {:.2}%", (n as f64) * 100.0 / seats);
    html! {
        div.bar role="img" aria-label=(format!("{} of {} seats used: {} activated, {} assigned, {} free", pool.used, pool.seats, pool.activated, pool.assigned, pool.free)) {
            span.seg.activated style=(pct(pool.activated)) {}
            span.seg.assigned style=(pct(pool.assigned)) {}
        }
        ul.legend {
            li { span.dot.activated {} "Activated " strong { (pool.activated) } }
            li { span.dot.assigned {} "Assigned " strong { (pool.assigned) } }
            li { span.dot.waiting {} "Waiting " strong { (pool.waiting) } }
            li { span.dot.free {} "Free " strong { (pool.free) } " of " (pool.seats) }
        }
    }
}

pub(super) async fn dashboard(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Query(flash): Query<Flash>,
) -> Page {
    let center = state.center();
    let instances = center
        .instances(&account)
        .await
        .map_err(|e| failed(&session, e))?;
    let pools = center.pools(&account).await.map_err(|e| failed(&session, e))?;
    let base = account_url(&account, Tab::Dashboard);
    let content = html! {
        h1 { "Dashboard" }
        @if instances.is_empty() {
            section.card { p.muted { "No application instance yet. Add one below (e.g. Sales Navigator), then its license pools." } }
        }
        div.instances {
            @for instance in &instances {
                section.card.instance {
                    h2 { (instance.name) " " span.badge { (product_label(instance.product.as_str())) } }
                    @let mine: Vec<&PoolView> = pools.iter().filter(|p| p.instance_id == instance.id).collect();
                    @if mine.is_empty() {
                        p.muted { "No license pool yet." }
                    }
                    @for pool in mine {
                        div.pool {
                            div.pool-head {
                                h3 { (pool.license_type) }
                                form.inline method="post" action=(format!("{base}/pools/{}", path_segment(&pool.id))) {
                                    (csrf_field(&session))
                                    label for=(format!("seats-{}", pool.id)) { "Seats" }
                                    input.narrow id=(format!("seats-{}", pool.id)) type="number" min="0" name="seats" value=(pool.seats);
                                    button type="submit" { "Save" }
                                }
                            }
                            (seat_bar(pool))
                        }
                    }
                }
            }
        }
        div.two {
            section.card {
                h2 { "Add application instance" }
                form method="post" action=(format!("{base}/instances")) {
                    (csrf_field(&session))
                    (field("instance-product", "Product", html! {
                        select #instance-product name="product" {
                            option value=(Product::SALES_NAVIGATOR) { "Sales Navigator" }
                            option value=(Product::LEARNING) { "LinkedIn Learning" }
                            option value=(Product::ELEVATE) { "Elevate" }
                        }
                    }))
                    (field("instance-name", "Instance name", html! {
                        input #instance-name name="name" required placeholder="Acme Sales Navigator";
                    }))
                    button.primary type="submit" { "Add instance" }
                }
            }
            section.card {
                h2 { "Add license pool" }
                form method="post" action=(format!("{base}/pools")) {
                    (csrf_field(&session))
                    (field("pool-instance", "Application instance", html! {
                        select #pool-instance name="instance" required {
                            @for instance in &instances { option value=(instance.name) { (instance.name) } }
                        }
                    }))
                    (field("pool-license-type", "License type", html! {
                        input #pool-license-type name="license_type" required list="license-types" placeholder="Advanced Plus";
                        datalist #license-types {
                            option value="Core" {} option value="Advanced" {} option value="Advanced Plus" {}
                            option value="TeamLink Extend" {} option value="LinkedIn Learning" {}
                        }
                    }))
                    (field("pool-seats", "Seats", html! {
                        input #pool-seats type="number" min="0" name="seats" required value="10";
                    }))
                    button.primary type="submit" disabled[instances.is_empty()] { "Add pool" }
                }
            }
        }
    };
    Ok(page(
        "Dashboard",
        &session,
        Some((&account.name, Tab::Dashboard)),
        &flash,
        content,
    )
    .into_response())
}

fn product_label(product: &str) -> &str {
    match product {
        Product::SALES_NAVIGATOR => "Sales Navigator",
        Product::LEARNING => "LinkedIn Learning",
        Product::ELEVATE => "Elevate",
        other => other,
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct InstanceForm {
    csrf: String,
    product: String,
    name: String,
}

pub(super) async fn add_instance(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<InstanceForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = center.add_instance(&account, &form.product, &form.name).await;
    Ok(back(
        &account_url(&account, Tab::Dashboard),
        done.map(|i| format!("Application instance {:?} added", i.name)),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct PoolForm {
    csrf: String,
    instance: String,
    license_type: String,
    seats: i64,
}

pub(super) async fn add_pool(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<PoolForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let new = NewPool {
        instance: form.instance,
        license_type: form.license_type,
        seats: form.seats,
    };
    let done = center.add_pool(&account, &new).await;
    Ok(back(
        &account_url(&account, Tab::Dashboard),
        done.map(|p| format!("License pool {:?} added with {} seats", p.license_type, p.seats)),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct SeatsForm {
    csrf: String,
    seats: i64,
}

pub(super) async fn update_pool(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, pool)): Path<(String, PoolId)>,
    Form(form): Form<SeatsForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = center.update_pool(&account, &pool, Some(form.seats)).await;
    Ok(back(
        &account_url(&account, Tab::Dashboard),
        done.map(|p| format!("{} now has {} seats", p.license_type, p.seats)),
    ))
}

// ---- Settings → SCIM ----

async fn settings_page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    account: &Account,
    flash: &Flash,
    issued: Option<&IssuedToken>,
) -> Result<Markup, Response> {
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
                                                    (Some(i), Some(l)) => { "On: " (i) " · " (l) }
                                                    _ => { span.muted { "Off (user data only)" } }
                                                }
                                            }
                                            td { (c.client_profile.as_str()) }
                                            td { (c.token_created_at.map_or("from the seed file".to_owned(), when)) }
                                            td { (c.token_last_used_at.map_or("never".to_owned(), when)) }
                                            td { (c.token_expires_at.map_or("never".to_owned(), when)) }
                                            td.actions {
                                                form.inline method="post" action=(format!("{base}/configurations/{}/token", path_segment(&c.name))) {
                                                    (csrf_field(session))
                                                    button type="submit" { "Refresh token" }
                                                }
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
                    details.add-config open[configurations.is_empty()] {
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

pub(super) async fn settings(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> Page {
    Ok(settings_page(&state, &session, &headers, &account, &flash, None)
        .await?
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct ConfigurationForm {
    csrf: String,
    name: String,
    auto_assign: Option<String>,
    instance: Option<String>,
    license_type: Option<String>,
    client_profile: ClientProfile,
    patch_response: crate::accounts::PatchResponse,
}

/// The settings page showing a token just issued, once: the answer to the POST that
/// made it, never cached and never redirected to. A refusal goes back with its error.
async fn show_token(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    account: &Account,
    issued: Result<(String, IssuedToken), CenterError>,
) -> Page {
    let (notice, token) = match issued {
        Ok(issued) => issued,
        Err(e) => return Ok(back(&account_url(account, Tab::Settings), Err(e))),
    };
    let flash = Flash {
        notice: Some(notice),
        error: None,
    };
    let markup = settings_page(state, session, headers, account, &flash, Some(&token)).await?;
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], markup).into_response())
}

pub(super) async fn create_configuration(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    headers: HeaderMap,
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
    show_token(&state, &session, &headers, &account, done).await
}

pub(super) async fn refresh_token(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    headers: HeaderMap,
    Path((_, configuration)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    let done = state.center().refresh_token(&account, &configuration).await;
    let done = done.map(|token| {
        let notice = format!("New token for {configuration:?}: the old one no longer works. Update the IdP.");
        (notice, token)
    });
    show_token(&state, &session, &headers, &account, done).await
}

pub(super) async fn delete_configuration(
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
        &account_url(&account, Tab::Settings),
        done.map(|()| format!("SCIM configuration {configuration:?} deleted: its token no longer works")),
    ))
}

// ---- users ----

#[derive(Debug, Default, Deserialize)]
pub(super) struct UsersQuery {
    q: Option<String>,
    start: Option<u64>,
    notice: Option<String>,
    error: Option<String>,
}

const USERS_PER_PAGE: u64 = 50;

pub(super) async fn users(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Query(query): Query<UsersQuery>,
) -> Page {
    let center = state.center();
    let start = query.start.unwrap_or(1).max(1);
    let search = UserSearch {
        q: query.q.clone(),
        start_index: Some(start),
        count: Some(USERS_PER_PAGE),
        ..UserSearch::default()
    };
    let flash = Flash {
        notice: query.notice.clone(),
        error: query.error.clone(),
    };
    let (page_of_users, search_error) = match center.users(&account, &search).await {
        Ok(page) => (page, None),
        Err(e @ CenterError::Invalid { .. }) => (
            crate::store::Page {
                total: 0,
                items: Vec::new(),
                more: false,
            },
            Some(e.to_string()),
        ),
        Err(e) => return Err(failed(&session, e)),
    };
    let pools = center.pools(&account).await.map_err(|e| failed(&session, e))?;
    let base = account_url(&account, Tab::Dashboard);
    let q = query.q.clone().unwrap_or_default();
    let locked = account.fidelity.lock_admin_edits;
    let content = html! {
        h1 { "Users" }
        section.card {
            div.toolbar {
                form.search method="get" action=(format!("{base}/users")) role="search" {
                    label for="user-search" { "Search by userName or externalId" }
                    input #user-search type="search" name="q" value=(q) placeholder="ann@acme.com";
                    button type="submit" { "Search" }
                }
                a.button href=(format!("{base}/users.csv")) download { "Export CSV" }
            }
            @if let Some(e) = &search_error { p.flash.err role="alert" { (e) } }
            p.muted { (page_of_users.total) " user(s)" @if locked { " · licenses of SCIM-managed users are revoked in the IdP under this account's LinkedIn fidelity" } }
            form #delete-users method="post" action=(format!("{base}/users/deletion")) data-confirm="Delete the selected users for good? (LinkedIn's deletion tool: this cannot be undone.)" {
                (csrf_field(&session))
            }
            div.table-wrap {
                (table(Some("users"), &[Hidden("Select"), Shown("userName"), Shown("externalId"), Shown("Status"), Shown("Licenses")], html! {
                    tbody {
                        @for user in &page_of_users.items {
                            tr {
                                td { input type="checkbox" name="ids" value=(user.id) form="delete-users" aria-label=(format!("Select {}", user.user_name)); }
                                td { strong { (user.user_name) } @if let Some(d) = &user.display_name { br; span.muted { (d) } } }
                                td { (user.external_id.as_deref().unwrap_or("—")) }
                                td { @if user.active { span.badge.ok { "Active" } } @else { span.badge { "Inactive" } } }
                                td.licenses {
                                    @if user.licenses.is_empty() { span.muted { "No license" } }
                                    @for l in &user.licenses {
                                        div.license {
                                            span { (product_label(&l.product)) " · " (l.license_type) }
                                            span class=(format!("badge state-{}", l.state.as_str())) { (l.state.as_str()) }
                                            @if l.state == LicenseState::Assigned {
                                                form.inline method="post" action=(format!("{base}/users/{}/licenses/{}/activate", path_segment(&user.id), path_segment(&l.product))) {
                                                    (csrf_field(&session)) button type="submit" { "Activate" }
                                                }
                                            }
                                            @if !locked {
                                                @let others: Vec<&PoolView> = pools.iter().filter(|p| p.product == l.product && !(p.instance == l.instance && p.license_type == l.license_type)).collect();
                                                @if !others.is_empty() {
                                                    form.inline method="post" action=(format!("{base}/users/{}/licenses/{}/move", path_segment(&user.id), path_segment(&l.product))) {
                                                        (csrf_field(&session))
                                                        label.sr for=(format!("move-{}-{}", user.id, l.product)) { "Move to pool" }
                                                        select id=(format!("move-{}-{}", user.id, l.product)) name="pool" {
                                                            @for p in &others { option value=(p.id) { (p.instance) " · " (p.license_type) } }
                                                        }
                                                        button type="submit" { "Move" }
                                                    }
                                                }
                                                form.inline method="post" action=(format!("{base}/users/{}/licenses/{}/revoke", path_segment(&user.id), path_segment(&l.product))) {
                                                    (csrf_field(&session)) button.danger type="submit" { "Revoke" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
            div.toolbar {
                button.danger type="submit" form="delete-users" disabled[page_of_users.items.is_empty()] { "Delete selected users" }
                nav.pager aria-label="Pages" {
                    @if start > 1 {
                        a href=(format!("{base}/users?{}", serde_urlencoded::to_string([("q", q.as_str()), ("start", &start.saturating_sub(USERS_PER_PAGE).max(1).to_string())]).unwrap_or_default())) { "← Previous" }
                    }
                    @if start + USERS_PER_PAGE <= page_of_users.total {
                        a href=(format!("{base}/users?{}", serde_urlencoded::to_string([("q", q.as_str()), ("start", &(start + USERS_PER_PAGE).to_string())]).unwrap_or_default())) { "Next →" }
                    }
                }
            }
        }
    };
    Ok(page(
        "Users",
        &session,
        Some((&account.name, Tab::Users)),
        &flash,
        content,
    )
    .into_response())
}

/// LinkedIn's manual export: every user and license as CSV.
pub(super) async fn users_csv(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
) -> Page {
    let center = state.center();
    let csv = center
        .export_users(&account)
        .await
        .map_err(|e| failed(&session, e))?;
    let disposition = format!("attachment; filename=\"{}-users.csv\"", account.name);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct LicenseForm {
    csrf: String,
    /// With `move`: the pool to move to.
    pool: Option<PoolId>,
}

pub(super) async fn license_action(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, user, product, action)): Path<(String, UserId, String, String)>,
    Form(form): Form<LicenseForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = match action.as_str() {
        "move" => match &form.pool {
            Some(pool) => center
                .move_license(&account, &user, &product, pool)
                .await
                .map(|()| format!("{} license moved", product_label(&product))),
            None => Err(CenterError::Invalid {
                field: "pool",
                message: "choose the pool to move the license to".into(),
            }),
        },
        "activate" => center
            .activate_license(&account, &user, &product)
            .await
            .map(|()| format!("{} license activated", product_label(&product))),
        "revoke" => center
            .revoke_license(&account, &user, &product)
            .await
            .map(|()| format!("{} license revoked: its seat is free", product_label(&product))),
        other => Err(CenterError::NotFound(format!("no license action {other:?}"))),
    };
    Ok(back(&account_url(&account, Tab::Users), done))
}

pub(super) async fn delete_users(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    axum_extra::extract::Form(form): axum_extra::extract::Form<DeleteUsersForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = center.delete_users(&account, &form.ids).await;
    Ok(back(
        &account_url(&account, Tab::Users),
        done.map(|n| format!("{n} user(s) deleted")),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct DeleteUsersForm {
    csrf: String,
    #[serde(default)]
    ids: Vec<UserId>,
}

// ---- groups ----

pub(super) async fn groups(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Query(flash): Query<Flash>,
) -> Page {
    let center = state.center();
    let groups = center.groups(&account).await.map_err(|e| failed(&session, e))?;
    let users = center
        .users(&account, &UserSearch::default())
        .await
        .map_err(|e| failed(&session, e))?;
    let base = account_url(&account, Tab::Dashboard);
    let content = html! {
        h1 { "Groups" }
        @if groups.is_empty() {
            section.card { p.muted { "No group yet: groups arrive from the IdP (Entra's group assignments, Okta's Push Groups)." } }
        }
        @for group in &groups {
            section.card.group {
                h2 { (group.display_name) " " span.muted { "· " (group.members.len()) " member(s)" } }
                @if !group.members.is_empty() {
                    div.table-wrap {
                        (table(None, &[Shown("Member"), Shown("Origin"), Hidden("Actions")], html! {
                            tbody {
                                @for m in &group.members {
                                    tr {
                                        td { (m.user_name) }
                                        td { @if m.origin == "admin" { span.badge { "Added directly" } } @else { span.badge.ok { "From the IdP" } } }
                                        td.actions {
                                            form.inline method="post" action=(format!("{base}/groups/{}/members/{}/remove", path_segment(&group.id), path_segment(&m.id))) {
                                                (csrf_field(&session)) button.danger type="submit" { "Remove" }
                                            }
                                        }
                                    }
                                }
                            }
                        }))
                    }
                }
                form.inline method="post" action=(format!("{base}/groups/{}/members", path_segment(&group.id))) {
                    (csrf_field(&session))
                    label for=(format!("member-{}", group.id)) { "Add a member directly" }
                    select id=(format!("member-{}", group.id)) name="user" required {
                        @for u in &users.items { option value=(u.id) { (u.user_name) } }
                    }
                    button type="submit" disabled[users.items.is_empty()] { "Add member" }
                }
            }
        }
    };
    Ok(page(
        "Groups",
        &session,
        Some((&account.name, Tab::Groups)),
        &flash,
        content,
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct MemberForm {
    csrf: String,
    user: UserId,
}

pub(super) async fn add_member(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, group)): Path<(String, GroupId)>,
    Form(form): Form<MemberForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = center
        .add_members(&account, &group, std::slice::from_ref(&form.user))
        .await;
    Ok(back(
        &account_url(&account, Tab::Groups),
        done.map(|n| {
            if n == 0 {
                "Already a member".to_owned()
            } else {
                "Member added directly".to_owned()
            }
        }),
    ))
}

pub(super) async fn remove_member(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, group, user)): Path<(String, GroupId, UserId)>,
    Form(form): Form<CsrfForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = center.remove_member(&account, &group, &user).await;
    Ok(back(
        &account_url(&account, Tab::Groups),
        done.map(|()| "Member removed".to_owned()),
    ))
}

// ---- activity log ----

#[derive(Debug, Default, Deserialize)]
pub(super) struct ActivityQueryForm {
    configuration: Option<String>,
    status: Option<String>,
    method: Option<String>,
    since: Option<String>,
    /// Only the table rows (what the page's script polls).
    rows: Option<String>,
}

pub(super) async fn activity(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Query(query): Query<ActivityQueryForm>,
) -> Page {
    let center = state.center();
    let configurations = center
        .configurations(&account)
        .await
        .map_err(|e| failed(&session, e))?;
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    // The time field of the form is a `datetime-local` (no zone): read as UTC.
    let since = given(&query.since).map(|t| {
        if t.len() == 16 {
            format!("{t}:00Z")
        } else if t.ends_with('Z') {
            t
        } else {
            format!("{t}Z")
        }
    });
    let status = given(&query.status).and_then(|s| s.parse::<u16>().ok());
    let filter = ActivityFilter {
        limit: Some(200),
        configuration: given(&query.configuration),
        status,
        method: given(&query.method),
        since,
        ..ActivityFilter::default()
    };
    let (records, error) = match center.activity(&account, &filter).await {
        Ok(r) => (r, None),
        Err(e @ CenterError::Invalid { .. }) => (Vec::new(), Some(e.to_string())),
        Err(e) => return Err(failed(&session, e)),
    };
    let config_name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| configurations.iter().find(|c| c.id.as_str() == id))
            .map_or("—".to_owned(), |c| c.name.clone())
    };
    let rows = html! {
        @if records.is_empty() {
            tr { td colspan="7" { span.muted { "No request yet: requests authenticated with a SCIM token appear here as they arrive." } } }
        }
        @for r in &records {
            tr {
                td { time datetime=(crate::clock::rfc3339(r.at)) { (when(r.at)) } }
                td { (config_name(&r.configuration_id)) }
                td.request { code { (r.method) " " (percent_encoding::percent_decode_str(&r.path).decode_utf8_lossy()) } }
                td { span class=(if r.status < 400 { "badge ok" } else { "badge err" }) { (r.status) } }
                td {
                    // A warning (an identifier clash) stands out from what was done.
                    @for (i, part) in r.outcome.as_deref().unwrap_or("").split("; ").enumerate() {
                        @if i > 0 { "; " }
                        @if part.starts_with("warning:") { span.badge.warn role="alert" { (part) } } @else { (part) }
                    }
                }
                td { @for t in &r.tolerances { span.badge.warn title=(t.description()) { (t.description()) } " " } }
                td.detail { (r.detail.as_deref().unwrap_or("")) }
            }
        }
    };
    if query.rows.is_some() {
        return Ok(([(header::CACHE_CONTROL, "no-store")], rows).into_response());
    }
    let base = account_url(&account, Tab::Dashboard);
    let refresh = format!(
        "{base}/activity?{}",
        serde_urlencoded::to_string([
            ("configuration", query.configuration.as_deref().unwrap_or("")),
            ("status", query.status.as_deref().unwrap_or("")),
            ("method", query.method.as_deref().unwrap_or("")),
            ("since", query.since.as_deref().unwrap_or("")),
            ("rows", "1"),
        ])
        .unwrap_or_default()
    );
    let selected = |v: &Option<String>, option: &str| v.as_deref() == Some(option);
    let content = html! {
        h1 { "Activity log" }
        section.card {
            form.filters method="get" action=(format!("{base}/activity")) {
                (field("filter-configuration", "Configuration", html! {
                    select #filter-configuration name="configuration" {
                        option value="" { "All" }
                        @for c in &configurations { option value=(c.name) selected[selected(&query.configuration, &c.name)] { (c.name) } }
                    }
                }))
                (field("filter-status", "Status", html! {
                    input #filter-status.narrow name="status" inputmode="numeric" pattern="[0-9]{3}" value=(query.status.as_deref().unwrap_or("")) placeholder="401";
                }))
                (field("filter-method", "Method", html! {
                    select #filter-method name="method" {
                        option value="" { "All" }
                        @for m in ["GET", "POST", "PUT", "PATCH", "DELETE", crate::activity::PROMOTION_METHOD] { option value=(m) selected[selected(&query.method, m)] { (m) } }
                    }
                }))
                (field("filter-since", "Since (UTC)", html! {
                    input #filter-since type="datetime-local" name="since" value=(query.since.as_deref().unwrap_or(""));
                }))
                div.actions { button type="submit" { "Filter" } a.button href=(format!("{base}/activity")) { "Clear" } }
            }
            @if let Some(e) = &error { p.flash.err role="alert" { (e) } }
            p.muted.live { span.pulse aria-hidden="true" {} "Live: new requests appear as they arrive." }
            div.table-wrap {
                (table(Some("activity"), &[Shown("Time"), Shown("Configuration"), Shown("Request"), Shown("Status"), Shown("Outcome"), Shown("Tolerances"), Shown("Error detail")], html! {
                    tbody #activity-rows data-refresh=(refresh) aria-live="polite" { (rows) }
                }))
            }
        }
    };
    let flash = Flash::default();
    Ok(page(
        "Activity log",
        &session,
        Some((&account.name, Tab::Activity)),
        &flash,
        content,
    )
    .into_response())
}
