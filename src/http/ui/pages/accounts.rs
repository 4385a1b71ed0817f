//! The accounts page, the start page after sign-in: every account with its fidelity, and
//! the form that creates one.

use axum::Form;
use axum::extract::State;
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::Heading::Shown;
use super::{Page, account_url, csrf_field, failed, field, table};
use crate::accounts::FidelityPreset;
use crate::center::NewAccount;
use crate::http::AppState;
use crate::http::ui::session::Session;
use crate::http::ui::{Tab, back, page};

pub(in crate::http::ui) async fn accounts(State(state): State<AppState>, session: Session) -> Page {
    let flash = session.take_flash(&state).await;
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
pub(in crate::http::ui) struct AccountForm {
    csrf: String,
    name: String,
    profile: FidelityPreset,
}

pub(in crate::http::ui) async fn create_account(
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
        Ok(account) => {
            back(
                &state,
                &session,
                &account_url(&account, Tab::Dashboard),
                Ok(format!("Account {:?} created", account.name)),
            )
            .await
        }
        Err(e) => back(&state, &session, "/admin/accounts", Err(e)).await,
    })
}
