use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "furrow", description = "Open, self-hostable, Leaf-compatible farm-data API"),
    paths(
        crate::health,
        crate::auth::authenticate, crate::auth::logout,
        crate::users::list, crate::users::get, crate::users::create, crate::users::replace, crate::users::patch, crate::users::delete,
        crate::credentials::get, crate::credentials::create, crate::credentials::delete, crate::credentials::events,
        crate::alerts::create, crate::alerts::list, crate::alerts::get, crate::alerts::delete, crate::alerts::failed_calls,
        crate::configs::get_owner, crate::configs::patch_owner, crate::configs::get_user, crate::configs::patch_user,
        crate::configs::delete_user,
        crate::fields::list_fields, crate::fields::get_field, crate::fields::create_field, crate::fields::patch_field,
        crate::fields::delete_field, crate::fields::intersects, crate::fields::intersect, crate::fields::list_boundaries,
        crate::fields::get_boundary, crate::fields::active_boundary, crate::fields::replace_boundary,
        crate::fields::list_farms, crate::fields::get_farm, crate::fields::create_farm, crate::fields::update_farm,
        crate::fields::list_growers, crate::fields::get_grower, crate::fields::create_grower, crate::fields::update_grower,
        crate::files::list, crate::files::get, crate::files::status, crate::files::summary, crate::files::units,
        crate::files::standard_geoparquet, crate::files::download, crate::files::outside_field_geojson, crate::files::polygon_geoparquet,
        crate::sync::fields, crate::sync::files, crate::sync::enable_field, crate::sync::enable_growers,
        crate::organizations::connected, crate::organizations::list, crate::organizations::get,
        crate::organizations::patch, crate::organizations::sync,
        crate::provider_events::endpoint, crate::provider_events::receive,
        crate::operations::list, crate::operations::get, crate::operations::reprocess, crate::operations::summary, crate::operations::units,
        crate::operations::files, crate::operations::standard_geojson, crate::operations::filtered_geojson,
        crate::operations::standard_geoparquet, crate::operations::filtered_geoparquet,
        crate::operations::polygon_geoparquet, crate::operations::polygon_geojson, crate::operations::download,
        crate::images::file_images, crate::images::file_download, crate::images::operation_images,
        crate::images::operation_images_v2, crate::images::operation_geotiffs, crate::images::operation_download,
        crate::batch::upload, crate::batch::list, crate::batch::get, crate::batch::status,
        crate::onboarding::app_keys::list, crate::onboarding::app_keys::get, crate::onboarding::app_keys::get_env,
        crate::onboarding::app_keys::create, crate::onboarding::app_keys::create_env,
        crate::onboarding::app_keys::replace, crate::onboarding::app_keys::replace_env,
        crate::onboarding::app_keys::delete, crate::onboarding::app_keys::delete_env,
        crate::onboarding::api_keys::list, crate::onboarding::api_keys::create, crate::onboarding::api_keys::revoke,
        crate::onboarding::links::create_for_user, crate::onboarding::links::create_external,
        crate::onboarding::links::list, crate::onboarding::links::get, crate::onboarding::links::delete,
        crate::onboarding::session::get, crate::onboarding::session::providers,
        crate::onboarding::session::authorize, crate::onboarding::session::disconnect,
        crate::onboarding::session::upload,
    ),
    components(schemas(crate::error::Problem, crate::auth::AuthenticateRequest, crate::auth::TokenResponse, crate::users::UserDoc, crate::files::FileDoc, crate::files::FileListDoc, crate::operations::OperationDoc)),
    modifiers(&BearerAuth),
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // The widget session API: a Leaf-user API key and the user it was issued for.
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
        components.add_security_scheme(
            "leafUserId",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Leaf-User-Id"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

mod contract;
mod schemas;

/// The OpenAPI 3.1 document of every route, as `GET /openapi.json` serves it. (A JSON value: the rules
/// [`contract`] adds, such as `const` and `minimum` on shared parameters, go beyond what utoipa's types hold.)
pub fn openapi() -> serde_json::Value {
    document().clone()
}

/// The document as served: the handlers' declarations with the rules every operation keeps.
fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        contract::apply(&mut doc);
        doc
    })
}

pub(crate) async fn serve() -> axum::Json<&'static serde_json::Value> {
    axum::Json(document())
}
