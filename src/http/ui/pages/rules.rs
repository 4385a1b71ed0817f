//! A SCIM configuration's license rules (docs/licensing.md, "License rules"): the
//! ordered filters that pick each user's license type, edited as lines of
//! `LICENSE TYPE=SCIM FILTER`, the same syntax as `linkedin-scim config rules --rule`.

use axum::Form;
use axum::extract::Path;
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::Heading::Shown;
use super::{AccountPage, Page, PageError, account_url, csrf_field, failed, field, table};
use crate::center::{CenterError, LicenseRuleView};
use crate::http::ui::{Tab, back, page, path_segment};

fn rules_url(account: &crate::accounts::Account, configuration: &str) -> String {
    format!(
        "{}/configurations/{}/rules",
        account_url(account, Tab::Dashboard),
        path_segment(configuration)
    )
}

pub(in crate::http::ui) async fn rules(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, configuration)): Path<(String, String)>,
) -> Page {
    let center = state.center();
    let found = center
        .configuration(&account, &configuration)
        .await
        .map_err(|e| PageError::NotFound(session.clone(), e))?;
    let rules = center
        .license_rules(&account, &found)
        .await
        .map_err(|e| failed(&session, e))?;
    let pools = center.pools(&account).await.map_err(|e| failed(&session, e))?;
    let flash = session.take_flash(&state).await;
    let types: Vec<&str> = pools
        .iter()
        .filter(|p| found.instance.as_deref() == Some(p.instance.as_str()))
        .map(|p| p.license_type.as_str())
        .collect();
    let text: Vec<String> = rules.iter().map(LicenseRuleView::line).collect();
    let content = html! {
        h1 { "License rules" }
        section.card {
            h2 { (found.name) }
            @match (&found.instance, &found.license_type) {
                (Some(instance), Some(fallback)) => {
                    p {
                        "Each user gets a license of " (instance) " from the first rule whose filter matches them, "
                        "else " strong { (fallback) } " (the configuration's license type). A team move that changes "
                        "the matching rule moves the license at the user's next write: a seat in the new pool, first "
                        "come, first served, and the old seat to the longest waiting."
                    }
                    @if rules.is_empty() {
                        p.muted { "No rules: " (fallback) " for everyone." }
                    } @else {
                        div.table-wrap {
                            (table(Some("rules"), &[Shown("#"), Shown("License type"), Shown("Filter")], html! {
                                tbody {
                                    @for (n, rule) in rules.iter().enumerate() {
                                        tr { td { (n + 1) } td { (rule.license_type) } td { code { (rule.filter) } } }
                                    }
                                }
                            }))
                        }
                    }
                    form.config-form method="post" action=(rules_url(&account, &found.name)) {
                        (csrf_field(&session))
                        (field("rules-text", "Rules, one per line, first match wins", html! {
                            textarea #rules-text name="rules" rows="6" spellcheck="false"
                                placeholder="TeamLink Extend=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Partners\"" {
                                (text.join("\n"))
                            }
                        }))
                        p.muted {
                            "Write " code { "LICENSE TYPE=SCIM FILTER" } ", e.g. "
                            code { "Advanced Plus=groups[display eq \"SN Advanced\"]" } ". License types of "
                            (instance) ": " (types.join(", ")) ". An empty box removes every rule."
                        }
                        button.primary #save-rules type="submit" { "Save rules" }
                    }
                }
                _ => {
                    p.muted { "Auto-assign licenses is off for this configuration (user data only), so no rule applies." }
                }
            }
            p { a href=(account_url(&account, Tab::Settings)) { "Back to Settings" } }
        }
    };
    Ok(page(
        "License rules",
        &session,
        Some((&account.name, Tab::Settings)),
        &flash,
        content,
    )
    .into_response())
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct RulesForm {
    csrf: String,
    rules: String,
}

/// Replace the rules with the box's lines, in order (blank lines skipped); a line that
/// does not parse, or names no license type of the instance, changes nothing and says
/// which rule is at fault.
pub(in crate::http::ui) async fn save_rules(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Path((_, configuration)): Path<(String, String)>,
    Form(form): Form<RulesForm>,
) -> Page {
    session.check(&form.csrf)?;
    let parsed: Result<Vec<LicenseRuleView>, String> = form
        .rules
        .lines()
        .filter(|line| !line.trim().is_empty())
        .enumerate()
        .map(|(i, line)| LicenseRuleView::parse_line(line).map_err(|e| format!("rule {}: {e}", i + 1)))
        .collect();
    let done = match parsed {
        Ok(rules) => state
            .center()
            .set_license_rules(&account, &configuration, &rules)
            .await
            .map(|saved| match saved.len() {
                0 => format!("SCIM configuration {configuration:?}: no license rules"),
                n => format!("SCIM configuration {configuration:?}: {n} license rule(s) saved"),
            }),
        Err(message) => Err(CenterError::Invalid {
            field: "rules",
            message,
        }),
    };
    Ok(back(&state, &session, &rules_url(&account, &configuration), done).await)
}
