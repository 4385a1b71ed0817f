//! The admin JSON API (`/admin/api`): what an Account Center admin does, and the
//! harness controls a connector test drives (clock, journal, faults, snapshots).
//! Authenticated with the admin token, not a SCIM token; errors use the same body as
//! SCIM. The OpenAPI document at `/admin/api/openapi.json` is generated from the
//! handlers' annotations, listed once here.

mod auth;
mod clock;
mod controls;
mod faults;
mod journal;
mod resources;
mod rules;
mod sessions;
mod snapshot;

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;

use super::AppState;

pub(crate) use auth::Admin;

pub(crate) fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/admin/api/openapi.json", get(openapi))
        .merge(controls::router())
        .merge(resources::router())
        .merge(clock::router())
        .merge(journal::router())
        .merge(faults::router())
        .merge(snapshot::router(state.settings.snapshot_max_bytes))
        .merge(rules::router())
        .merge(sessions::router())
        // Answers hold users, tokens and journals: never kept by a browser or a proxy.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        ))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "linkedin-scim admin API",
        description = "The Account Center: accounts, instances, license pools, SCIM configurations and tokens, users, groups, activity. Every request needs `Authorization: Bearer <admin token>`; SCIM tokens are refused."
    ),
    paths(
        resources::create_account, resources::get_account, resources::update_account, resources::delete_account,
        resources::instances, resources::add_instance, resources::add_pool,
        resources::configurations, resources::configuration, resources::create_configuration,
        resources::delete_configuration,
        resources::rate_limit, resources::set_rate_limit, resources::remove_rate_limit,
        rules::rules, rules::set_rules,
        resources::users, resources::user, resources::move_license, resources::delete_users,
        resources::groups, resources::group, resources::remove_member,
        controls::accounts, controls::pools, controls::update_pool, controls::reset,
        controls::activity, controls::refresh_token, controls::add_group_members,
        controls::user_licenses, controls::activate_license, controls::revoke_license,
        clock::show, clock::set, clock::advance,
        journal::journal, journal::expect, journal::prune,
        faults::list, faults::add, faults::clear, faults::clear_one,
        snapshot::export, snapshot::restore,
        sessions::end_all_sessions,
    ),
    components(schemas(crate::journal::diff::Difference)),
    modifiers(&AdminTokenScheme),
    security(("admin_token" = []))
)]
struct AdminApiDoc;

struct AdminTokenScheme;

impl utoipa::Modify for AdminTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of the admin API (public: it holds no data).
async fn openapi() -> Response {
    axum::Json(AdminApiDoc::openapi()).into_response()
}
