//! An account's dashboard: its application instances with their license pools and seat
//! use, and the forms that add instances and pools and change a pool's seats.

use axum::Form;
use axum::extract::Path;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

use super::{AccountPage, Page, account_url, csrf_field, failed, field, product_label};
use crate::center::{CenterError, NewPool, PoolView};
use crate::http::ui::{Tab, back, page, path_segment};
use crate::ids::PoolId;
use crate::licensing::Product;

fn seat_bar(pool: &PoolView) -> Markup {
    // An SVG whose rectangles are sized by attributes, not `style`: the CSP allows no
    // inline style.
    let seats = pool.seats.max(1) as f64;
    let pct = |n: i64| ((n.max(0) as f64) * 100.0 / seats).min(100.0);
    let (activated, assigned) = (pct(pool.activated), pct(pool.assigned));
    html! {
        svg.bar viewBox="0 0 100 1" preserveAspectRatio="none" role="img" aria-label=(format!("{} of {} seats used: {} activated, {} assigned, {} free", pool.used, pool.seats, pool.activated, pool.assigned, pool.free)) {
            rect.seg.activated x="0" y="0" height="1" width=(format!("{activated:.2}")) {}
            rect.seg.assigned x=(format!("{activated:.2}")) y="0" height="1" width=(format!("{assigned:.2}")) {}
        }
        ul.legend {
            li { span.dot.activated {} "Activated " strong { (pool.activated) } }
            li { span.dot.assigned {} "Assigned " strong { (pool.assigned) } }
            li { span.dot.waiting {} "Waiting " strong { (pool.waiting) } }
            li { span.dot.free {} "Free " strong { (pool.free) } " of " (pool.seats) }
        }
        @if let Some(next) = &pool.next_in_line {
            p.queue.muted {
                "Next in line: " strong { (next.user_name) } " (waiting since " (next.waiting_since) "); freed seats go to the longest waiting first."
            }
        }
    }
}

pub(in crate::http::ui) async fn dashboard(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
) -> Page {
    let flash = session.take_flash(&state).await;
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

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct InstanceForm {
    csrf: String,
    product: String,
    name: String,
}

pub(in crate::http::ui) async fn add_instance(
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
        &state,
        &session,
        &account_url(&account, Tab::Dashboard),
        done.map(|i| format!("Application instance {:?} added", i.name)),
    )
    .await)
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct PoolForm {
    csrf: String,
    instance: String,
    license_type: String,
    /// As typed: a cleared or non-numeric field is the admin's mistake, not a bad request.
    seats: String,
}

pub(in crate::http::ui) async fn add_pool(
    AccountPage {
        state,
        session,
        account,
    }: AccountPage,
    Form(form): Form<PoolForm>,
) -> Page {
    session.check(&form.csrf)?;
    let center = state.center();
    let done = match seats(&form.seats) {
        Ok(seats) => {
            let new = NewPool {
                instance: form.instance,
                license_type: form.license_type,
                seats,
            };
            center.add_pool(&account, &new).await
        }
        Err(e) => Err(e),
    };
    Ok(back(
        &state,
        &session,
        &account_url(&account, Tab::Dashboard),
        done.map(|p| format!("License pool {:?} added with {} seats", p.license_type, p.seats)),
    )
    .await)
}

#[derive(Debug, Deserialize)]
pub(in crate::http::ui) struct SeatsForm {
    csrf: String,
    seats: String,
}

/// The Seats field as a count, or the error its flash line shows.
fn seats(typed: &str) -> Result<i64, CenterError> {
    typed
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| CenterError::Invalid {
            field: "seats",
            message: format!("Seats must be a whole number, 0 or more (got {:?})", typed.trim()),
        })
}

pub(in crate::http::ui) async fn update_pool(
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
    let done = match seats(&form.seats) {
        Ok(seats) => center.update_pool(&account, &pool, Some(seats)).await,
        Err(e) => Err(e),
    };
    Ok(back(
        &state,
        &session,
        &account_url(&account, Tab::Dashboard),
        done.map(|p| format!("{} now has {} seats", p.license_type, p.seats)),
    )
    .await)
}
