//! furrow's Leaf-compatible REST API.
//!
//! [`router`] builds the axum [`Router`](axum::Router) for a [`Store`](furrow_store::Store): API-owner
//! authentication (`POST /api/authenticate`, throttled; `POST /api/logout`), Leaf users and provider
//! credentials under `/services/usermanagement/api`, `GET /health` and `GET /openapi.json`; [`metrics_router`]
//! serves `GET /metrics` for Prometheus on a listener of its own. Paths, JSON and errors follow Leaf's
//! documentation; every error is `application/problem+json`.
//!
//! ```no_run
//! # async fn demo(store: furrow_store::Store, key: furrow_store::SecretKey) {
//! let app = furrow_api::router(furrow_api::AppState::new(store, &key, furrow_api::ApiConfig::default()));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await.unwrap();
//! axum::serve(listener, app).await.unwrap();
//! # }
//! ```
#![warn(missing_docs)]

mod alerts;
mod auth;
mod batch;
mod configs;
mod credentials;
mod error;
mod extract;
mod fields;
mod files;
mod images;
mod metrics;
mod onboarding;
mod openapi;
mod operations;
mod organizations;
mod pagination;
mod provider_events;
mod state;
mod stream;
mod sync;
mod users;

pub use auth::{Claims, TokenIssuer};
pub use error::ApiError;
pub use metrics::router as metrics_router;
pub use onboarding::{Onboarding, OnboardingConfig};
pub use openapi::openapi;
pub use state::{ApiConfig, AppState};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// The complete API router.
pub fn router(state: AppState) -> Router {
    const UM: &str = "/services/usermanagement/api";
    const ALERTS: &str = "/services/alerts/api/alerts";
    const CONFIG: &str = "/services/config/api";
    const FIELDS: &str = fields::BASE;
    const OPS: &str = files::BASE;
    let limit = state.config.max_body_bytes;
    Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi::serve))
        .route("/api/authenticate", post(auth::authenticate))
        .route("/api/logout", post(auth::logout))
        .route(
            &format!("{UM}/users"),
            get(users::list).post(users::create).put(users::replace),
        )
        .route(
            &format!("{UM}/users/{{id}}"),
            get(users::get).patch(users::patch).delete(users::delete),
        )
        .route(
            &format!("{UM}/users/{{leafUserId}}/{{credentials}}"),
            get(credentials::get)
                .post(credentials::create)
                .delete(credentials::delete),
        )
        .route(
            &format!("{UM}/users/{{leafUserId}}/{{credentials}}/events"),
            get(credentials::events),
        )
        .route(
            &format!("{UM}/users/{{leafUserId}}/organizations/{{provider}}"),
            get(organizations::connected),
        )
        .route(
            &format!("{UM}/providers/{{provider}}/events"),
            get(provider_events::endpoint),
        )
        .route(
            "/services/providers/api/events/{provider}/{ownerId}",
            post(provider_events::receive),
        )
        .route(
            &format!("{UM}/users/{{leafUserId}}/{{credentials}}/organizations"),
            get(organizations::list),
        )
        .route(
            &format!("{UM}/users/{{leafUserId}}/{{credentials}}/organizations/sync"),
            post(organizations::sync),
        )
        .route(
            &format!("{UM}/users/{{leafUserId}}/{{credentials}}/organizations/{{providerOrgId}}"),
            get(organizations::get).patch(organizations::patch),
        )
        .route(
            &format!("{ALERTS}/webhooks"),
            get(alerts::list).post(alerts::create),
        )
        .route(
            &format!("{ALERTS}/webhooks/failed-calls"),
            get(alerts::failed_calls),
        )
        .route(
            &format!("{ALERTS}/webhooks/{{id}}"),
            get(alerts::get).delete(alerts::delete),
        )
        .route(
            &format!("{CONFIG}/configs"),
            get(configs::get_owner).patch(configs::patch_owner),
        )
        .route(
            &format!("{CONFIG}/configs/{{leafUserId}}"),
            get(configs::get_user)
                .post(configs::patch_user)
                .patch(configs::patch_user)
                .delete(configs::delete_user),
        )
        .route(&format!("{FIELDS}/fields"), get(fields::list_fields))
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields"),
            post(fields::create_field),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/intersects"),
            post(fields::intersects),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/intersect"),
            post(fields::intersect),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/{{id}}"),
            get(fields::get_field)
                .patch(fields::patch_field)
                .delete(fields::delete_field),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/{{id}}/boundaries"),
            get(fields::list_boundaries),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/{{id}}/boundaries/{{boundaryId}}"),
            get(fields::get_boundary),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/{{id}}/boundary"),
            get(fields::active_boundary).put(fields::replace_boundary),
        )
        .route(&format!("{FIELDS}/farms"), get(fields::list_farms))
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/farms"),
            post(fields::create_farm),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/farms/{{id}}"),
            get(fields::get_farm).put(fields::update_farm),
        )
        .route(&format!("{FIELDS}/growers"), get(fields::list_growers))
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/growers"),
            post(fields::create_grower),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/growers/{{id}}"),
            get(fields::get_grower).put(fields::update_grower),
        )
        .route(&format!("{OPS}/files"), get(files::list))
        .route(&format!("{OPS}/files/{{id}}"), get(files::get))
        .route(&format!("{OPS}/files/{{id}}/status"), get(files::status))
        .route(&format!("{OPS}/files/{{id}}/summary"), get(files::summary))
        .route(&format!("{OPS}/files/{{id}}/units"), get(files::units))
        .route(
            &format!("{OPS}/files/{{id}}/standardGeoparquet"),
            get(files::standard_geoparquet),
        )
        .route(
            &format!("{OPS}/files/{{id}}/download/{{artifact}}"),
            get(files::download),
        )
        .route(
            &format!("{OPS}/files/{{id}}/images"),
            get(images::file_images),
        )
        .route(
            &format!("{OPS}/files/{{id}}/download/images/{{name}}"),
            get(images::file_download),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/images"),
            get(images::operation_images),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/imagesV2"),
            get(images::operation_images_v2),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/geotiffImages"),
            get(images::operation_geotiffs),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/download/{{folder}}/{{name}}"),
            get(images::operation_download),
        )
        .route(
            &format!("{OPS}/files/{{id}}/outsideFieldGeojson"),
            get(files::outside_field_geojson),
        )
        .route(
            &format!("{OPS}/files/{{id}}/polygonGeoparquet"),
            get(files::polygon_geoparquet),
        )
        .route(
            &format!("{OPS}/users/{{leafUserId}}/files/sync"),
            post(sync::files),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/sync"),
            post(sync::fields),
        )
        .route(
            &format!("{FIELDS}/users/{{leafUserId}}/fields/{{id}}/enableSync"),
            post(sync::enable_field),
        )
        .route(
            &format!("{FIELDS}/growers/enableSync"),
            post(sync::enable_growers),
        )
        .route(&format!("{OPS}/operations"), get(operations::list))
        .route(&format!("{OPS}/operations/{{id}}"), get(operations::get))
        .route(
            &format!("{OPS}/operations/{{id}}/summary"),
            get(operations::summary),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/reprocess"),
            post(operations::reprocess),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/units"),
            get(operations::units),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/files"),
            get(operations::files),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/standardGeojson"),
            get(operations::standard_geojson),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/filteredGeojson"),
            get(operations::filtered_geojson),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/standardGeoparquet"),
            get(operations::standard_geoparquet),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/filteredGeoparquet"),
            get(operations::filtered_geoparquet),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/polygonGeoparquet"),
            get(operations::polygon_geoparquet),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/polygonGeojson"),
            get(operations::polygon_geojson),
        )
        .route(
            &format!("{OPS}/operations/{{id}}/download/{{artifact}}"),
            get(operations::download),
        )
        .route(
            &format!("{OPS}/batch"),
            get(batch::list)
                .post(batch::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(&format!("{OPS}/batch/{{id}}"), get(batch::get))
        .route(&format!("{OPS}/batch/{{id}}/status"), get(batch::status))
        .merge(onboarding::routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn(error::problem_path))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// `GET /health`: no auth; answers while the process serves.
#[utoipa::path(get, operation_id = "health", path = "/health", tag = "health", responses((status = 200, description = "The server is up", body = serde_json::Value)))]
pub(crate) async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({"status": "UP"}))
}
