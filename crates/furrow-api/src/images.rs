//! Images of files and field operations (`leaf-images.md`): `GET /files/{id}/images` (V1),
//! `GET /operations/{id}/images` (always `[]`), `/imagesV2` and `/geotiffImages`, and their downloads.
//!
//! The worker renders them after processing when `operationsImageCreation` and the property's flag in
//! `operationsImageAttributeCreation` are on; what is switched on later, or missing, is rendered here on first
//! request and stored. A manifest beside the images lists them; it is current while the data it was drawn
//! from (the file's standard points, the operation's built version) and the selection are unchanged.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use furrow_pipeline::{
    GEOTIFF_FOLDER, ImageChoice, ImageManifest, ImageOwner, MANIFEST_NAME, Settings,
    image_content_type,
};
use furrow_store::blobs::{file_key, operation_key};
use furrow_store::{Blobs, FileStatus, StoredFile, StoredOperation};
use serde_json::{Value, json};

use crate::auth::Owner;
use crate::files::blobs;
use crate::{ApiError, AppState};

const BASE: &str = "/services/operations/api";

async fn settings(state: &AppState, owner: &Owner, user: &str) -> Result<Settings, ApiError> {
    Ok(Settings::from_config(
        &state.store.effective_config(&owner.0.id, user).await?,
    ))
}

async fn read_manifest(blobs: &Blobs, base: &str) -> Option<ImageManifest> {
    let bytes = blobs
        .get_bytes(&format!("{base}{MANIFEST_NAME}"))
        .await
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

async fn store(
    blobs: &Blobs,
    base: &str,
    owner: ImageOwner,
    images: furrow_pipeline::Images,
    stamp: &str,
    choice: &ImageChoice,
) -> Result<ImageManifest, ApiError> {
    let (objects, manifest) = images.into_objects(owner, stamp, choice);
    let objects = objects.into_iter().map(|o| (o.name, o.bytes)).collect();
    blobs
        .replace_set(base, objects, owner.folders())
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "images not stored");
            ApiError::internal()
        })?;
    Ok(manifest)
}

fn render_failed(e: String) -> ApiError {
    tracing::error!(error = %e, "images could not be rendered");
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        format!("the images could not be rendered: {e}"),
        Some("imagesFailed"),
    )
}

/// A file's manifest, rendered now when missing or stale; `None` when the file has no images (not processed,
/// or images switched off for its type).
async fn file_manifest(
    state: &AppState,
    owner: &Owner,
    f: &StoredFile,
) -> Result<Option<(ImageManifest, String)>, ApiError> {
    let (Some(standard), Some(operation_type)) = (&f.standard_key, &f.operation_type) else {
        return Ok(None);
    };
    if f.status != FileStatus::Processed {
        return Ok(None);
    }
    let choice = settings(state, owner, &f.user_id)
        .await?
        .images_for(operation_type);
    if choice.is_empty() {
        return Ok(None);
    }
    let blobs = blobs(state)?;
    let base = file_key(&owner.0.id, &f.user_id, &f.id, "");
    if let Some(m) = read_manifest(blobs, &base).await
        && m.is_current(standard, &choice)
    {
        return Ok(Some((m, base)));
    }
    let copy = blobs.local_copy(standard).await.map_err(|e| {
        tracing::error!(error = %e, key = %standard, "blob missing");
        ApiError::not_found("images", "notFound")
    })?;
    let properties = choice.properties.clone();
    let images = tokio::task::spawn_blocking(move || {
        furrow_pipeline::render_file_images(copy.path(), &properties).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("the renderer stopped: {e}")))
    .map_err(render_failed)?;
    let m = store(blobs, &base, ImageOwner::File, images, standard, &choice).await?;
    Ok(Some((m, base)))
}

/// An operation's manifest, rendered now when missing or stale; `None` when the operation has no images
/// (not built, its build failed, or images switched off for its type).
async fn operation_manifest(
    state: &AppState,
    owner: &Owner,
    op: &StoredOperation,
) -> Result<Option<(ImageManifest, String)>, ApiError> {
    if op.filter.is_none() || op.message.is_some() || op.built_version != op.version {
        return Ok(None);
    }
    let m = &op.membership;
    let settings = settings(state, owner, &m.user_id).await?;
    let choice = settings.images_for(&m.operation_type);
    if choice.is_empty() {
        return Ok(None);
    }
    let blobs = blobs(state)?;
    let base = operation_key(&owner.0.id, &m.user_id, &m.id, "");
    let stamp = furrow_pipeline::operation_stamp(op.built_version);
    if let Some(found) = read_manifest(blobs, &base).await
        && found.is_current(&stamp, &choice)
    {
        return Ok(Some((found, base)));
    }
    let (input, copies, _) =
        crate::operations::operation_input(state, owner, op, blobs, "images").await?;
    let limits = crate::operations::filter_limits(op);
    let filtered = settings.filtered_output;
    let render = choice.clone();
    let images = tokio::task::spawn_blocking(move || {
        let r = furrow_pipeline::render_operation_images(
            &input,
            filtered.then_some(&limits),
            &render.properties,
            render.geotiff,
        )
        .map_err(|e| e.to_string());
        drop(copies);
        r
    })
    .await
    .unwrap_or_else(|e| Err(format!("the renderer stopped: {e}")))
    .map_err(render_failed)?;
    let found = store(blobs, &base, ImageOwner::Operation, images, &stamp, &choice).await?;
    Ok(Some((found, base)))
}

fn url(kind: &str, id: &str, tail: &str) -> String {
    format!("{BASE}/{kind}/{id}/download/{tail}")
}

/// A file's images (V1): `[{property, ramp, url, downloadUrl}]` by property; `[]` when there are none.
#[utoipa::path(get, operation_id = "imagesFileImages", path = "/services/operations/api/files/{id}/images", tag = "files", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn file_images(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    let Some((m, _)) = file_manifest(&state, &owner, &f).await? else {
        return Ok(axum::Json(json!([])));
    };
    let out: Vec<Value> = m
        .images
        .iter()
        .map(|i| {
            let u = url("files", &f.id, &format!("images/{}.png", i.property));
            let ramp = match &i.legend {
                furrow_render::Legend::Ramp(r) => json!(r.ramp),
                furrow_render::Legend::Classes(_) => Value::Null,
            };
            json!({"property": i.property, "ramp": ramp, "url": u, "downloadUrl": u})
        })
        .collect();
    Ok(axum::Json(Value::Array(out)))
}

/// An operation's V1 images: always `[]` (furrow renders operation images as V2, `leaf-images.md` §2.2).
#[utoipa::path(get, operation_id = "imagesOperationImages", path = "/services/operations/api/operations/{id}/images", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn operation_images(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    state.store.get_operation(&owner.0.id, &id).await?;
    Ok(axum::Json(json!([])))
}

/// An operation's V2 images: `[{property, legend: {ranges: [{colorCode, min, max}], unit}, extent, url,
/// downloadUrl}]` by property; `[]` when there are none.
#[utoipa::path(get, operation_id = "imagesOperationImagesV2", path = "/services/operations/api/operations/{id}/imagesV2", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn operation_images_v2(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    let Some((m, _)) = operation_manifest(&state, &owner, &op).await? else {
        return Ok(axum::Json(json!([])));
    };
    let id = &op.membership.id;
    let out: Vec<Value> = m
        .images
        .iter()
        .map(|i| {
            let u = url("operations", id, &format!("imagesV2/{}.png", i.property));
            json!({"property": i.property, "legend": i.legend, "extent": i.extent, "url": u, "downloadUrl": u})
        })
        .collect();
    Ok(axum::Json(Value::Array(out)))
}

/// An operation's GeoTIFFs (`operationsImageAsGeoTiff`): `[{property, url, downloadUrl}]` by property.
#[utoipa::path(get, operation_id = "imagesOperationGeotiffs", path = "/services/operations/api/operations/{id}/geotiffImages", tag = "operations", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn operation_geotiffs(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    let Some((m, _)) = operation_manifest(&state, &owner, &op).await? else {
        return Ok(axum::Json(json!([])));
    };
    let id = &op.membership.id;
    let out: Vec<Value> = m
        .geotiffs
        .iter()
        .map(|p| {
            let u = url("operations", id, &format!("{GEOTIFF_FOLDER}/{p}.tif"));
            json!({"property": p, "url": u, "downloadUrl": u})
        })
        .collect();
    Ok(axum::Json(Value::Array(out)))
}

/// `{property}.png`, `{property}.png.aux.xml` or `{property}.tif` → the property and whether the name is one
/// the manifest lists.
fn listed(m: &ImageManifest, folder: &str, name: &str) -> bool {
    let (property, kind) = if let Some(p) = name.strip_suffix(".png.aux.xml") {
        (p, "png")
    } else if let Some(p) = name.strip_suffix(".png") {
        (p, "png")
    } else if let Some(p) = name.strip_suffix(".tif") {
        (p, "tif")
    } else {
        return false;
    };
    match (folder, kind) {
        (GEOTIFF_FOLDER, "tif") => m.geotiffs.iter().any(|g| g == property),
        (GEOTIFF_FOLDER, _) | (_, "tif") => false,
        _ => m.images.iter().any(|i| i.property == property),
    }
}

async fn serve(blobs: &Blobs, key: &str, name: &str) -> Result<Response, ApiError> {
    let bytes = blobs.get_bytes(key).await.map_err(|e| {
        tracing::error!(error = %e, key, "image missing");
        ApiError::not_found("image", "notFound")
    })?;
    let mut resp = bytes.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(image_content_type(name)),
    );
    Ok(resp)
}

fn no_image(name: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!(
            "image `{name}` not found: it is not among the images of this record (see operationsImageCreation \
             and operationsImageAttributeCreation)"
        ),
        Some("notFound"),
    )
}

/// Downloads one of a file's images or its side file.
#[utoipa::path(get, operation_id = "imagesFileDownload", path = "/services/operations/api/files/{id}/download/images/{name}", tag = "files",
    params(("id" = String, Path), ("name" = String, Path, description = "`{property}.png` or `{property}.png.aux.xml`")),
    responses((status = 200, description = "image/png or application/xml"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn file_download(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let f = state.store.get_file(&owner.0.id, &id).await?;
    let Some((m, base)) = file_manifest(&state, &owner, &f).await? else {
        return Err(no_image(&name));
    };
    if !listed(&m, "images", &name) {
        return Err(no_image(&name));
    }
    serve(blobs(&state)?, &format!("{base}images/{name}"), &name).await
}

/// Downloads one of an operation's V2 images, side files or GeoTIFFs.
#[utoipa::path(get, operation_id = "imagesOperationDownload", path = "/services/operations/api/operations/{id}/download/{folder}/{name}", tag = "operations",
    params(("id" = String, Path), ("folder" = String, Path, description = "`imagesV2` or `geotiff`"),
        ("name" = String, Path, description = "`{property}.png`, `{property}.png.aux.xml` or `{property}.tif`")),
    responses((status = 200, description = "image/png, application/xml or image/tiff"), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn operation_download(
    State(state): State<AppState>,
    owner: Owner,
    Path((id, folder, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    if !ImageOwner::Operation.folders().contains(&folder.as_str()) {
        return Err(ApiError::not_found("artifact", "notFound"));
    }
    let op = state.store.get_operation(&owner.0.id, &id).await?;
    let Some((m, base)) = operation_manifest(&state, &owner, &op).await? else {
        return Err(no_image(&name));
    };
    if !listed(&m, &folder, &name) {
        return Err(no_image(&name));
    }
    serve(blobs(&state)?, &format!("{base}{folder}/{name}"), &name).await
}
