//! An account's groups: their members, where each membership came from (the IdP or an
//! admin), and the forms that add and remove members directly.

use axum::Form;
use axum::extract::Path;
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::Heading::{Hidden, Shown};
use super::{AccountPage, CsrfForm, Page, account_url, csrf_field, failed, table};
use crate::center::UserSearch;
use crate::http::ui::{Tab, back, page, path_segment};
use crate::ids::{GroupId, UserId};

pub(in crate::http::ui) async fn groups(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
) -> Page {
    let flash = session.take_flash(&state).await;
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
pub(in crate::http::ui) struct MemberForm {
    csrf: String,
    user: UserId,
}

pub(in crate::http::ui) async fn add_member(
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
        &state,
        &session,
        &account_url(&account, Tab::Groups),
        done.map(|n| {
            if n == 0 {
                "Already a member".to_owned()
            } else {
                "Member added directly".to_owned()
            }
        }),
    )
    .await)
}

pub(in crate::http::ui) async fn remove_member(
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
        &state,
        &session,
        &account_url(&account, Tab::Groups),
        done.map(|()| "Member removed".to_owned()),
    )
    .await)
}
