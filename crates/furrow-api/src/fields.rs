//! The fields service (`/services/fields/api`): fields, boundaries, farms, growers and geometry queries.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use furrow_allocate::ValidationReport;
use furrow_credentials::FieldError;
use furrow_store::{
    Boundary, BoundaryGeometry, Farm, FarmFilter, Field, FieldFilter, FieldPatch, Grower, NewField,
    multipolygon_geojson,
};
use geo::{BooleanOps, BoundingRect, GeodesicArea};
use geo_types::MultiPolygon;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::Owner;
use crate::error::Problem;
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};

pub(crate) const BASE: &str = "/services/fields/api";

/// A handler failure: any [`ApiError`], or an `invalidGeometry` problem whose title names the problem.
#[derive(Debug)]
pub(crate) struct Reject(Box<Response>);

impl From<ApiError> for Reject {
    fn from(e: ApiError) -> Self {
        Self(Box::new(e.into_response()))
    }
}

impl From<furrow_store::Error> for Reject {
    fn from(e: furrow_store::Error) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// `400 invalidGeometry`, with Leaf's `Invalid geometry: …` as title and message.
fn invalid_geometry(report: &ValidationReport) -> Reject {
    let text = format!("Invalid geometry: {} ({})", report.validity, report.message);
    let mut resp = ApiError::new(
        StatusCode::BAD_REQUEST,
        text.clone(),
        Some("invalidGeometry"),
    )
    .into_response();
    if let Some(p) = resp.extensions_mut().get_mut::<Problem>() {
        p.title = text;
    }
    Reject(Box::new(resp))
}

fn not_found(what: &str) -> Reject {
    ApiError::not_found(what, "notFound").into()
}

fn ts(micros: i64) -> String {
    furrow_model::format_timestamp(furrow_model::timestamp_from_micros(micros))
}

fn area(ha: f64) -> Value {
    json!({"value": ha, "unit": "ha"})
}

/// Inserts `key: value` when the value is present (absent values are left out, as for users).
fn put<T: Into<Value>>(map: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), v.into());
    }
}

fn boundary_json(b: &Boundary) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(b.id));
    m.insert("status".into(), json!(b.status.as_str()));
    put(&mut m, "providerStatus", b.provider_status.clone());
    put(&mut m, "providerBoundaryId", b.provider_boundary_id.clone());
    m.insert("geometry".into(), multipolygon_geojson(&b.geometry));
    m.insert("area".into(), area(b.area_ha));
    m.insert("validity".into(), json!(b.validity));
    put(&mut m, "fixStatus", b.fix_status.clone());
    m.insert("createdTime".into(), json!(ts(b.created_at)));
    m.insert("updatedTime".into(), json!(ts(b.updated_at)));
    Value::Object(m)
}

pub(crate) fn field_json(f: &Field) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.id));
    m.insert("leafUserId".into(), json!(f.user_id));
    put(&mut m, "name", f.name.clone());
    put(&mut m, "providerName", f.provider_name.clone());
    put(&mut m, "providerId", f.provider_id);
    put(&mut m, "providerFieldId", f.provider_field_id.clone());
    put(&mut m, "providerBoundaryId", f.provider_boundary_id.clone());
    put(&mut m, "providerFieldName", f.provider_field_name.clone());
    put(&mut m, "organizationId", f.organization_id.clone());
    m.insert("type".into(), json!(f.field_type));
    put(&mut m, "farmId", f.farm_id);
    m.insert("sources".into(), json!([]));
    m.insert("files".into(), json!([]));
    m.insert("boundaries".into(), json!(f.boundary_ids));
    if let Some(b) = &f.active_boundary {
        m.insert("area".into(), area(b.area_ha));
        m.insert("geometry".into(), multipolygon_geojson(&b.geometry));
    }
    m.insert("createdTime".into(), json!(ts(f.created_at)));
    m.insert("updatedTime".into(), json!(ts(f.updated_at)));
    m.insert("status".into(), json!(f.status));
    Value::Object(m)
}

fn farm_json(f: &Farm) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(f.id));
    put(&mut m, "name", f.name.clone());
    put(&mut m, "providerId", f.provider_id);
    put(&mut m, "providerName", f.provider_name.clone());
    put(&mut m, "providerFarmId", f.provider_farm_id.clone());
    put(&mut m, "providerFarmName", f.provider_farm_name.clone());
    m.insert("leafUserId".into(), json!(f.user_id));
    m.insert("fieldIds".into(), json!(f.field_ids));
    put(&mut m, "growerId", f.grower_id);
    m.insert("createdTime".into(), json!(ts(f.created_at)));
    m.insert("updatedTime".into(), json!(ts(f.updated_at)));
    Value::Object(m)
}

fn grower_json(g: &Grower) -> Value {
    let mut m = Map::new();
    m.insert("id".into(), json!(g.id));
    put(&mut m, "name", g.name.clone());
    m.insert("leafUserId".into(), json!(g.user_id));
    put(&mut m, "providerName", g.provider_name.clone());
    put(&mut m, "providerId", g.provider_id);
    put(&mut m, "providerGrowerId", g.provider_grower_id.clone());
    m.insert("farmIds".into(), json!(g.farm_ids));
    m.insert("createdTime".into(), json!(ts(g.created_at)));
    m.insert("updatedTime".into(), json!(ts(g.updated_at)));
    Value::Object(m)
}

// ---- bodies ----

/// A JSON object body with only the `allowed` keys; values are read with the typed getters below, which
/// collect every problem so one answer names every field at fault.
struct Body<'a> {
    /// What the body is, for the message (`"farm body"`).
    what: &'static str,
    map: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Body<'a> {
    fn new(body: &'a Value, what: &'static str, allowed: &[&str]) -> Result<Self, ApiError> {
        let Value::Object(map) = body else {
            return Err(ApiError::field("body", "must be a JSON object"));
        };
        let errors = map
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()))
            .map(|k| FieldError::new(k.clone(), format!("unknown field `{k}`")))
            .collect();
        Ok(Self { what, map, errors })
    }

    /// Absent: `None`; `null`: `Some(None)`.
    fn string(&mut self, key: &str) -> Option<Option<String>> {
        match self.map.get(key)? {
            Value::Null => Some(None),
            Value::String(s) if s.chars().count() <= 1024 => Some(Some(s.clone())),
            Value::String(_) => {
                self.errors
                    .push(FieldError::new(key, "must be at most 1024 characters"));
                None
            }
            _ => {
                self.errors.push(FieldError::new(key, "must be a string"));
                None
            }
        }
    }

    fn int(&mut self, key: &str) -> Option<Option<i64>> {
        match self.map.get(key)? {
            Value::Null => Some(None),
            v @ Value::Number(_) if crate::extract::json_integer(v).is_some() => {
                Some(crate::extract::json_integer(v))
            }
            _ => {
                self.errors.push(FieldError::new(key, "must be an integer"));
                None
            }
        }
    }

    fn required(&mut self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => {
                self.errors.push(FieldError::new(key, "is required"));
                None
            }
            Some(v) => Some(v),
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.what, self.errors))
        }
    }
}

/// A client-chosen field id must be usable as one path segment.
fn check_field_id(id: &str) -> Result<(), ApiError> {
    if matches!(id, "intersects" | "intersect" | "sync") {
        return Err(ApiError::field(
            "id",
            format!("`{id}` is a reserved path segment"),
        ));
    }
    if id.is_empty() || id.len() > 128 {
        return Err(ApiError::field("id", "must be 1 to 128 characters"));
    }
    if id
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#' | '%' | '\\'))
    {
        return Err(ApiError::field(
            "id",
            "must not contain whitespace, control characters or / ? # % \\",
        ));
    }
    Ok(())
}

/// Checks a boundary geometry: invalid is `400 invalidGeometry`; a repairable problem is repaired
/// (`fixStatus: FIXED`) unless the user's `automaticFixBoundary` is off, when it is a 400 too.
async fn boundary_geometry(
    state: &AppState,
    owner: &Owner,
    user_id: &str,
    value: &Value,
) -> Result<BoundaryGeometry, Reject> {
    let mut g = BoundaryGeometry::from_geojson(value);
    if !g.is_valid() {
        return Err(invalid_geometry(&g.report));
    }
    if g.fixed && !automatic_fix(state, owner, user_id).await? {
        if let Some(problem) = &g.repaired {
            return Err(invalid_geometry(problem));
        }
        // Only re-oriented: shells are always stored counter-clockwise (RFC 7946), not reported as a fix.
        g.fixed = false;
    }
    Ok(g)
}

async fn automatic_fix(state: &AppState, owner: &Owner, user_id: &str) -> Result<bool, Reject> {
    let own = state.store.get_config(&owner.0.id, None).await?;
    let mine = state.store.get_config(&owner.0.id, Some(user_id)).await?;
    let config = furrow_model::effective_config(&own, Some(&mine));
    Ok(config
        .get("automaticFixBoundary")
        .and_then(Value::as_bool)
        .unwrap_or(true))
}

fn int_id(raw: &str, what: &str) -> Result<i64, Reject> {
    raw.parse::<i64>().map_err(|_| not_found(what))
}

fn int_query(name: &'static str, raw: &Option<String>) -> Result<Option<i64>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field(name, "must be an integer")),
    }
}

fn filters<'a>(pairs: &[(&'a str, &'a Option<String>)]) -> Vec<(&'a str, &'a str)> {
    pairs
        .iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (*k, v)))
        .collect()
}

// ---- fields ----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FieldsQuery {
    farm_id: Option<String>,
    provider: Option<String>,
    leaf_user_id: Option<String>,
    #[serde(rename = "type")]
    field_type: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// A field (Leaf's field resource; `area` and `geometry` copy the active boundary).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Field)]
pub(crate) struct FieldDoc {
    id: String,
    #[schema(rename = "leafUserId")]
    leaf_user_id: String,
    name: Option<String>,
    #[schema(rename = "providerName")]
    provider_name: Option<String>,
    #[schema(rename = "providerFieldId")]
    provider_field_id: Option<String>,
    /// `ORIGINAL` or `MERGED`.
    #[schema(rename = "type")]
    field_type: String,
    #[schema(rename = "farmId")]
    farm_id: Option<i64>,
    /// Every boundary id, oldest first.
    boundaries: Vec<String>,
    area: AreaDoc,
    /// GeoJSON MultiPolygon.
    geometry: Object,
    #[schema(rename = "createdTime")]
    created_time: String,
    #[schema(rename = "updatedTime")]
    updated_time: String,
    /// `PROCESSED`.
    status: String,
}

/// A boundary (immutable history; one `ACTIVE` per field).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Boundary)]
pub(crate) struct BoundaryDoc {
    id: String,
    /// `ACTIVE`, `INACTIVE`, `OUTDATED_ON_PROVIDER`, `DELETED_ON_PROVIDER`.
    status: String,
    #[schema(rename = "providerStatus")]
    provider_status: Option<String>,
    /// GeoJSON MultiPolygon.
    geometry: Object,
    area: AreaDoc,
    /// `VALID` or a JTS validity name.
    validity: String,
    /// `FIXED` when repaired.
    #[schema(rename = "fixStatus")]
    fix_status: Option<String>,
    #[schema(rename = "createdTime")]
    created_time: String,
    #[schema(rename = "updatedTime")]
    updated_time: String,
}

/// An area in hectares.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Area)]
pub(crate) struct AreaDoc {
    value: f64,
    /// Always `ha`.
    unit: String,
}

/// A farm (integer id).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Farm)]
pub(crate) struct FarmDoc {
    id: i64,
    name: Option<String>,
    #[schema(rename = "leafUserId")]
    leaf_user_id: String,
    #[schema(rename = "growerId")]
    grower_id: Option<i64>,
    #[schema(rename = "fieldIds")]
    field_ids: Vec<String>,
    #[schema(rename = "createdTime")]
    created_time: String,
    #[schema(rename = "updatedTime")]
    updated_time: String,
}

/// A grower (integer id).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
#[schema(as = Grower)]
pub(crate) struct GrowerDoc {
    id: i64,
    name: Option<String>,
    #[schema(rename = "leafUserId")]
    leaf_user_id: String,
    #[schema(rename = "farmIds")]
    farm_ids: Vec<i64>,
    #[schema(rename = "createdTime")]
    created_time: String,
    #[schema(rename = "updatedTime")]
    updated_time: String,
}

type Object = Map<String, Value>;

/// Lists the owner's fields.
#[utoipa::path(get, operation_id = "fieldsListFields", path = "/services/fields/api/fields", tag = "fields",
    params(("farmId" = Option<i64>, Query), ("provider" = Option<String>, Query, description = "JohnDeere, …; Leaf for manual fields"),
           ("leafUserId" = Option<String>, Query), ("type" = Option<String>, Query, description = "ORIGINAL or MERGED"),
           ("page" = Option<i64>, Query, description = "0-based"), ("size" = Option<i64>, Query, description = "1..100, default 20")),
    responses((status = 200, body = Vec<FieldDoc>, headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_fields(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<FieldsQuery>,
) -> Result<impl IntoResponse, Reject> {
    let page = q.page.page()?;
    let field_type = match q.field_type.as_deref() {
        None | Some("") => None,
        Some(t @ ("ORIGINAL" | "MERGED")) => Some(t.to_owned()),
        Some(_) => return Err(ApiError::field("type", "must be ORIGINAL or MERGED").into()),
    };
    let filter = FieldFilter {
        user_id: q.leaf_user_id.clone(),
        farm_id: int_query("farmId", &q.farm_id)?,
        provider: crate::extract::provider_filter(&q.provider)?,
        field_type,
    };
    let (fields, total) = state.store.list_fields(&owner.0.id, &filter, page).await?;
    let body: Vec<Value> = fields.iter().map(field_json).collect();
    let kept = filters(&[
        ("farmId", &q.farm_id),
        ("provider", &q.provider),
        ("leafUserId", &q.leaf_user_id),
        ("type", &q.field_type),
    ]);
    let headers = pagination::headers(&format!("{BASE}/fields"), &kept, page, total);
    Ok((headers, axum::Json(body)))
}

/// One field of a user.
#[utoipa::path(get, operation_id = "fieldsGetField", path = "/services/fields/api/users/{leafUserId}/fields/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = String, Path)),
    responses((status = 200, body = FieldDoc), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_field(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
) -> Result<axum::Json<Value>, Reject> {
    let f = state.store.get_field(&owner.0.id, &user, &id).await?;
    Ok(axum::Json(field_json(&f)))
}

/// Creates a manual field from a MultiPolygon (`{id?, name?, farmId?, geometry}`).
#[utoipa::path(post, operation_id = "fieldsCreateField", path = "/services/fields/api/users/{leafUserId}/fields", tag = "fields",
    params(("leafUserId" = String, Path)),
    request_body(content = Object, description = "{id?, name?, farmId?, geometry: GeoJSON MultiPolygon}"),
    responses((status = 201, body = FieldDoc),
              (status = 400, body = Problem, description = "validation, or invalidGeometry naming the validity value and the place"),
              (status = 401, body = Problem), (status = 404, body = Problem, description = "unknown user or farm"),
              (status = 409, body = Problem, description = "a field with this id exists")),
    security(("bearer" = [])))]
pub(crate) async fn create_field(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, Reject> {
    state.store.get_user(&owner.0.id, &user).await?;
    let mut b = Body::new(&body, "field body", &["id", "name", "farmId", "geometry"])?;
    let id = b.string("id").flatten();
    let name = b.string("name").flatten();
    let farm_id = b.int("farmId").flatten();
    let geometry = b.required("geometry");
    b.finish()?;
    if let Some(id) = &id {
        check_field_id(id)?;
    }
    let geometry =
        boundary_geometry(&state, &owner, &user, geometry.unwrap_or(&Value::Null)).await?;
    let f = state
        .store
        .create_field(
            &owner.0.id,
            &user,
            &NewField { id, name, farm_id },
            &geometry,
        )
        .await?;
    let boundary = f.active_boundary.as_ref().map(|b| b.id.clone());
    announce(
        &state,
        &owner,
        &user,
        &f.id,
        Some("fieldCreated"),
        boundary.as_deref().map(|b| ("fieldBoundaryCreated", b)),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(field_json(&f))))
}

/// After a field or boundary change through the API: fires the field and boundary webhooks (source `REST`) and
/// asks the worker to re-allocate the user's files to the new boundaries.
async fn announce(
    state: &AppState,
    owner: &Owner,
    user: &str,
    field: &str,
    field_event: Option<&'static str>,
    boundary: Option<(&'static str, &str)>,
) -> Result<(), ApiError> {
    let store = &state.store;
    let o = owner.0.id.as_str();
    if let Some(event) = field_event {
        let ev = furrow_model::Event::Field {
            event,
            source: "REST",
            leaf_user_id: user.to_owned(),
            field_id: field.to_owned(),
        };
        store.fire(o, &ev).await?;
    }
    if let Some((event, boundary_id)) = boundary {
        let ev = furrow_model::Event::Boundary {
            event,
            boundary_id: boundary_id.to_owned(),
            leaf_user_id: user.to_owned(),
            field_id: field.to_owned(),
        };
        store.fire(o, &ev).await?;
    }
    store.enqueue_reallocation(o, user).await?;
    Ok(())
}

fn provider_field_refused() -> Reject {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "fields synced from a provider cannot be changed or deleted here; change them on the provider",
        Some("providerField"),
    )
    .into()
}

/// Changes a manual field's name, farm or geometry (a new geometry becomes the active boundary).
#[utoipa::path(patch, operation_id = "fieldsPatchField", path = "/services/fields/api/users/{leafUserId}/fields/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = String, Path)),
    request_body(content = Object, description = "{name?, farmId?, geometry?}"),
    responses((status = 200, body = FieldDoc), (status = 400, body = Problem, description = "validation, invalidGeometry, or providerField"),
              (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn patch_field(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, Reject> {
    let current = state.store.get_field(&owner.0.id, &user, &id).await?;
    let mut b = Body::new(&body, "field body", &["name", "farmId", "geometry"])?;
    let patch = FieldPatch {
        name: b.string("name"),
        farm_id: b.int("farmId"),
    };
    let geometry = b.map.get("geometry").filter(|v| !v.is_null());
    b.finish()?;
    if current.provider_name.is_some() {
        return Err(provider_field_refused());
    }
    let geometry = match geometry {
        Some(v) => Some(boundary_geometry(&state, &owner, &user, v).await?),
        None => None,
    };
    let f = state
        .store
        .update_field(&owner.0.id, &user, &id, &patch, geometry.as_ref())
        .await?;
    if geometry.is_some() {
        let boundary = f.active_boundary.as_ref().map(|b| b.id.clone());
        announce(
            &state,
            &owner,
            &user,
            &f.id,
            Some("fieldUpdated"),
            boundary.as_deref().map(|b| ("fieldBoundaryUpdated", b)),
        )
        .await?;
    }
    Ok(axum::Json(field_json(&f)))
}

/// Deletes a manual field with its boundaries.
#[utoipa::path(delete, operation_id = "fieldsDeleteField", path = "/services/fields/api/users/{leafUserId}/fields/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 400, body = Problem, description = "providerField"), (status = 401, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn delete_field(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
) -> Result<StatusCode, Reject> {
    let current = state.store.get_field(&owner.0.id, &user, &id).await?;
    if current.provider_name.is_some() {
        return Err(provider_field_refused());
    }
    state.store.delete_field(&owner.0.id, &user, &id).await?;
    // Points that fell in this field are now outside it (or in another field).
    state
        .store
        .enqueue_reallocation(&owner.0.id, &user)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "could not ask for re-allocation");
            ApiError::internal()
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's fields whose active boundary overlaps `geometry` by at least `intersectionThreshold` percent of
/// either the field's area or the geometry's area.
#[utoipa::path(post, operation_id = "fieldsIntersects", path = "/services/fields/api/users/{leafUserId}/fields/intersects", tag = "fields",
    params(("leafUserId" = String, Path)),
    request_body(content = Object, description = "{geometry: GeoJSON MultiPolygon, intersectionThreshold?: 0.01..100 (percent, default 0.01)}"),
    responses((status = 200, body = Vec<FieldDoc>), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn intersects(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Vec<Value>>, Reject> {
    state.store.get_user(&owner.0.id, &user).await?;
    let mut b = Body::new(
        &body,
        "intersection body",
        &["geometry", "intersectionThreshold"],
    )?;
    let geometry = b.required("geometry");
    let threshold = match b.map.get("intersectionThreshold") {
        None | Some(Value::Null) => Some(0.01),
        Some(Value::Number(n)) => n.as_f64().filter(|t| (0.01..=100.0).contains(t)),
        Some(_) => None,
    };
    if threshold.is_none() {
        b.errors.push(FieldError::new(
            "intersectionThreshold",
            "must be a number from 0.01 to 100 (percent)",
        ));
    }
    b.finish()?;
    let threshold = threshold.unwrap_or(0.01);
    let query = BoundaryGeometry::from_geojson(geometry.unwrap_or(&Value::Null));
    if !query.is_valid() {
        return Err(invalid_geometry(&query.report));
    }
    let Some(rect) = query.geometry.bounding_rect() else {
        return Ok(axum::Json(Vec::new()));
    };
    let bbox = [rect.min().x, rect.min().y, rect.max().x, rect.max().y];
    let query_area = query.geometry.geodesic_area_unsigned();
    let candidates = state
        .store
        .active_boundaries_in_bbox(&owner.0.id, &user, bbox)
        .await?;
    let mut out = Vec::new();
    for boundary in candidates {
        let shared = query
            .geometry
            .intersection(&boundary.geometry)
            .geodesic_area_unsigned();
        if shared <= 0.0 {
            continue;
        }
        let field_area = boundary.geometry.geodesic_area_unsigned();
        let percent = |whole: f64| {
            if whole > 0.0 {
                shared / whole * 100.0
            } else {
                0.0
            }
        };
        if percent(field_area).max(percent(query_area)) >= threshold {
            let f = state
                .store
                .get_field(&owner.0.id, &user, &boundary.field_id)
                .await?;
            out.push(field_json(&f));
        }
    }
    Ok(axum::Json(out))
}

/// The intersection of the active boundaries of the listed fields, as a MultiPolygon (empty when disjoint).
#[utoipa::path(post, operation_id = "fieldsIntersect", path = "/services/fields/api/users/{leafUserId}/fields/intersect", tag = "fields",
    params(("leafUserId" = String, Path)),
    request_body(content = Vec<String>, description = "two or more field ids"),
    responses((status = 200, body = Object, description = "GeoJSON MultiPolygon"), (status = 400, body = Problem),
              (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn intersect(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, Reject> {
    state.store.get_user(&owner.0.id, &user).await?;
    let ids: Vec<String> = match &body {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::field("body", "must be an array of field ids (strings)"))?,
        _ => return Err(ApiError::field("body", "must be an array of field ids").into()),
    };
    if ids.len() < 2 {
        return Err(ApiError::field("body", "needs at least two field ids").into());
    }
    let mut acc: Option<MultiPolygon<f64>> = None;
    for id in &ids {
        let field = state.store.get_field(&owner.0.id, &user, id).await?;
        let geometry = field
            .active_boundary
            .map(|b| b.geometry)
            .unwrap_or_else(|| MultiPolygon(Vec::new()));
        acc = Some(match acc {
            None => geometry,
            Some(a) => a.intersection(&geometry),
        });
    }
    Ok(axum::Json(multipolygon_geojson(
        &acc.unwrap_or_else(|| MultiPolygon(Vec::new())),
    )))
}

// ---- boundaries ----

/// Every boundary of a field, oldest first.
#[utoipa::path(get, operation_id = "fieldsListBoundaries", path = "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundaries", tag = "fields",
    params(("leafUserId" = String, Path), ("fieldId" = String, Path)),
    responses((status = 200, body = Vec<BoundaryDoc>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_boundaries(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, field)): Path<(String, String)>,
) -> Result<axum::Json<Vec<Value>>, Reject> {
    let all = state
        .store
        .list_boundaries(&owner.0.id, &user, &field)
        .await?;
    Ok(axum::Json(all.iter().map(boundary_json).collect()))
}

/// One boundary of a field.
#[utoipa::path(get, operation_id = "fieldsGetBoundary", path = "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundaries/{boundaryId}", tag = "fields",
    params(("leafUserId" = String, Path), ("fieldId" = String, Path), ("boundaryId" = String, Path)),
    responses((status = 200, body = BoundaryDoc), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_boundary(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, field, id)): Path<(String, String, String)>,
) -> Result<axum::Json<Value>, Reject> {
    let b = state
        .store
        .get_boundary(&owner.0.id, &user, &field, &id)
        .await?;
    Ok(axum::Json(boundary_json(&b)))
}

/// The field's active boundary.
#[utoipa::path(get, operation_id = "fieldsActiveBoundary", path = "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundary", tag = "fields",
    params(("leafUserId" = String, Path), ("fieldId" = String, Path)),
    responses((status = 200, body = BoundaryDoc), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn active_boundary(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, field)): Path<(String, String)>,
) -> Result<axum::Json<Value>, Reject> {
    let b = state
        .store
        .active_boundary(&owner.0.id, &user, &field)
        .await?;
    Ok(axum::Json(boundary_json(&b)))
}

/// Replaces the field's active boundary (`{geometry}`); the previous one becomes `INACTIVE`.
#[utoipa::path(put, operation_id = "fieldsReplaceBoundary", path = "/services/fields/api/users/{leafUserId}/fields/{fieldId}/boundary", tag = "fields",
    params(("leafUserId" = String, Path), ("fieldId" = String, Path)),
    request_body(content = Object, description = "{geometry: GeoJSON MultiPolygon}"),
    responses((status = 200, body = BoundaryDoc), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn replace_boundary(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, field)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, Reject> {
    state.store.get_field(&owner.0.id, &user, &field).await?;
    let mut b = Body::new(&body, "boundary body", &["geometry"])?;
    let geometry = b.required("geometry");
    b.finish()?;
    let geometry =
        boundary_geometry(&state, &owner, &user, geometry.unwrap_or(&Value::Null)).await?;
    let b = state
        .store
        .replace_boundary(&owner.0.id, &user, &field, &geometry)
        .await?;
    announce(
        &state,
        &owner,
        &user,
        &field,
        None,
        Some(("fieldBoundaryUpdated", &b.id)),
    )
    .await?;
    Ok(axum::Json(boundary_json(&b)))
}

// ---- farms and growers ----

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FarmsQuery {
    grower_id: Option<String>,
    provider: Option<String>,
    leaf_user_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Lists the owner's farms.
#[utoipa::path(get, operation_id = "fieldsListFarms", path = "/services/fields/api/farms", tag = "fields",
    params(("growerId" = Option<i64>, Query), ("provider" = Option<String>, Query), ("leafUserId" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("size" = Option<i64>, Query)),
    responses((status = 200, body = Vec<FarmDoc>, headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_farms(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<FarmsQuery>,
) -> Result<impl IntoResponse, Reject> {
    let page = q.page.page()?;
    let filter = FarmFilter {
        user_id: q.leaf_user_id.clone(),
        provider: crate::extract::provider_filter(&q.provider)?,
        grower_id: int_query("growerId", &q.grower_id)?,
    };
    let (farms, total) = state.store.list_farms(&owner.0.id, &filter, page).await?;
    let kept = filters(&[
        ("growerId", &q.grower_id),
        ("provider", &q.provider),
        ("leafUserId", &q.leaf_user_id),
    ]);
    let headers = pagination::headers(&format!("{BASE}/farms"), &kept, page, total);
    Ok((
        headers,
        axum::Json(farms.iter().map(farm_json).collect::<Vec<_>>()),
    ))
}

/// One farm of a user.
#[utoipa::path(get, operation_id = "fieldsGetFarm", path = "/services/fields/api/users/{leafUserId}/farms/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = FarmDoc), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_farm(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
) -> Result<axum::Json<Value>, Reject> {
    let id = int_id(&id, "farm")?;
    let f = state.store.get_farm(&owner.0.id, &user, id).await?;
    Ok(axum::Json(farm_json(&f)))
}

fn farm_body(body: &Value) -> Result<(Option<String>, Option<i64>), ApiError> {
    let mut b = Body::new(body, "farm body", &["name", "growerId"])?;
    let name = b.string("name").flatten();
    let grower = b.int("growerId").flatten();
    b.finish()?;
    Ok((name, grower))
}

/// Creates a farm (`{name, growerId?}`); the grower must be the same user's.
#[utoipa::path(post, operation_id = "fieldsCreateFarm", path = "/services/fields/api/users/{leafUserId}/farms", tag = "fields",
    params(("leafUserId" = String, Path)), request_body(content = Object, description = "{name, growerId?}"),
    responses((status = 201, body = FarmDoc), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem, description = "unknown user or grower")),
    security(("bearer" = [])))]
pub(crate) async fn create_farm(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, Reject> {
    let (name, grower) = farm_body(&body)?;
    let f = state
        .store
        .create_farm(&owner.0.id, &user, name.as_deref(), grower)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(farm_json(&f))))
}

/// Replaces a farm's name and grower.
#[utoipa::path(put, operation_id = "fieldsUpdateFarm", path = "/services/fields/api/users/{leafUserId}/farms/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = i64, Path)), request_body(content = Object, description = "{name, growerId?}"),
    responses((status = 200, body = FarmDoc), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn update_farm(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, Reject> {
    let id = int_id(&id, "farm")?;
    let (name, grower) = farm_body(&body)?;
    let f = state
        .store
        .update_farm(&owner.0.id, &user, id, name.as_deref(), grower)
        .await?;
    Ok(axum::Json(farm_json(&f)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GrowersQuery {
    provider: Option<String>,
    leaf_user_id: Option<String>,
    #[serde(flatten)]
    page: PageQuery,
}

/// Lists the owner's growers.
#[utoipa::path(get, operation_id = "fieldsListGrowers", path = "/services/fields/api/growers", tag = "fields",
    params(("provider" = Option<String>, Query), ("leafUserId" = Option<String>, Query),
           ("page" = Option<i64>, Query), ("size" = Option<i64>, Query)),
    responses((status = 200, body = Vec<GrowerDoc>, headers(("X-Total-Count" = i64), ("Link" = String))),
              (status = 400, body = Problem), (status = 401, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list_growers(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<GrowersQuery>,
) -> Result<impl IntoResponse, Reject> {
    let page = q.page.page()?;
    let filter = FarmFilter {
        user_id: q.leaf_user_id.clone(),
        provider: crate::extract::provider_filter(&q.provider)?,
        grower_id: None,
    };
    let (growers, total) = state.store.list_growers(&owner.0.id, &filter, page).await?;
    let kept = filters(&[("provider", &q.provider), ("leafUserId", &q.leaf_user_id)]);
    let headers = pagination::headers(&format!("{BASE}/growers"), &kept, page, total);
    Ok((
        headers,
        axum::Json(growers.iter().map(grower_json).collect::<Vec<_>>()),
    ))
}

/// One grower of a user.
#[utoipa::path(get, operation_id = "fieldsGetGrower", path = "/services/fields/api/users/{leafUserId}/growers/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = i64, Path)),
    responses((status = 200, body = GrowerDoc), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get_grower(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
) -> Result<axum::Json<Value>, Reject> {
    let id = int_id(&id, "grower")?;
    let g = state.store.get_grower(&owner.0.id, &user, id).await?;
    Ok(axum::Json(grower_json(&g)))
}

fn grower_body(body: &Value) -> Result<Option<String>, ApiError> {
    let mut b = Body::new(body, "grower body", &["name"])?;
    let name = b.string("name").flatten();
    b.finish()?;
    Ok(name)
}

/// Creates a grower (`{name}`).
#[utoipa::path(post, operation_id = "fieldsCreateGrower", path = "/services/fields/api/users/{leafUserId}/growers", tag = "fields",
    params(("leafUserId" = String, Path)), request_body(content = Object, description = "{name}"),
    responses((status = 201, body = GrowerDoc), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn create_grower(
    State(state): State<AppState>,
    owner: Owner,
    Path(user): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<impl IntoResponse, Reject> {
    let name = grower_body(&body)?;
    let g = state
        .store
        .create_grower(&owner.0.id, &user, name.as_deref())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(grower_json(&g))))
}

/// Renames a grower.
#[utoipa::path(put, operation_id = "fieldsUpdateGrower", path = "/services/fields/api/users/{leafUserId}/growers/{id}", tag = "fields",
    params(("leafUserId" = String, Path), ("id" = i64, Path)), request_body(content = Object, description = "{name}"),
    responses((status = 200, body = GrowerDoc), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 404, body = Problem)),
    security(("bearer" = [])))]
pub(crate) async fn update_grower(
    State(state): State<AppState>,
    owner: Owner,
    Path((user, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<axum::Json<Value>, Reject> {
    let id = int_id(&id, "grower")?;
    let name = grower_body(&body)?;
    let g = state
        .store
        .update_grower(&owner.0.id, &user, id, name.as_deref())
        .await?;
    Ok(axum::Json(grower_json(&g)))
}
