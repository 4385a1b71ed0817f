//! An account's users: search, pages of 50, each user's licenses with their actions
//! (activate, move, revoke), deletion of the selected users and the CSV export.

use axum::Form;
use axum::extract::{Path, Query};
use axum::http::header;
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::Heading::{Hidden, Shown};
use super::{AccountPage, Page, account_url, csrf_field, failed, product_label, table};
use crate::center::{CenterError, PoolView, UserSearch};
use crate::http::ui::{Tab, back, page, path_segment};
use crate::ids::{PoolId, UserId};
use crate::licensing::LicenseState;

#[derive(Debug, Default, Deserialize)]
pub(in crate::http::ui) struct UsersQuery {
    q: Option<String>,
    start: Option<u64>,
}

const USERS_PER_PAGE: u64 = 50;

pub(in crate::http::ui) async fn users(
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
    let flash = session.take_flash(&state).await;
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
                                            span class=(format!("badge state-{}", l.state.as_str())) {
                                                (l.state.as_str())
                                                @if let Some(position) = user.queue_positions.get(&l.product) { " · #" (position) " in line" }
                                            }
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
pub(in crate::http::ui) async fn users_csv(
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
pub(in crate::http::ui) struct LicenseForm {
    csrf: String,
    /// With `move`: the pool to move to.
    pool: Option<PoolId>,
}

pub(in crate::http::ui) async fn license_action(
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
    Ok(back(&state, &session, &account_url(&account, Tab::Users), done).await)
}

pub(in crate::http::ui) async fn delete_users(
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
        &state,
        &session,
        &account_url(&account, Tab::Users),
        done.map(|n| format!("{n} user(s) deleted")),
    )
    .await)
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct DeleteUsersForm {
    csrf: String,
    #[serde(default)]
    ids: Vec<UserId>,
}
