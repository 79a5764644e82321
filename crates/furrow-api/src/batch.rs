//! Batch upload (`POST /batch`): a zip of machine data, streamed to the blob store and processed like a
//! provider file; `GET /batch`, `/batch/{id}`, `/batch/{id}/status`.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use furrow_store::{Batch, FileFilter, FileStatus};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Owner;
use crate::extract::{ApiMultipart, ApiQuery};
use crate::files::ts;
use crate::pagination::{self, PageQuery};
use crate::{ApiError, AppState};

const BASE: &str = "/services/operations/api";

/// Leaf's upload `provider` values.
pub(crate) const PROVIDERS: &[&str] = &[
    "Other",
    "Leaf",
    "ClimateFieldView",
    "CNHI",
    "JohnDeere",
    "Trimble",
    "AgLeader",
    "Farmobile",
    "PrecisionPlanting",
];

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadQuery {
    leaf_user_id: Option<String>,
    provider: Option<String>,
}

fn batch_json(b: &Batch) -> Value {
    let mut v = json!({
        "id": b.id,
        "leafUserId": b.user_id,
        "fileName": b.file_name,
        "size": b.size_bytes,
        "provider": b.provider,
        "status": b.status,
        "uploadTimestamp": ts(b.created_at),
    });
    if let Some(d) = &b.status_details {
        v["statusDetails"] = json!(d);
    }
    v
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::field(
        "file",
        format!("the multipart body could not be read: {}", e.body_text()),
    )
}

/// Uploads a zip of machine data for a user (multipart part `file`; `leafUserId` and `provider` as query
/// parameters or multipart fields). The zip is streamed to the blob store, then processed in the background.
#[utoipa::path(post, operation_id = "batchUpload", path = "/services/operations/api/batch", tag = "batch",
    params(("leafUserId" = Option<String>, Query), ("provider" = Option<String>, Query, description = "Other, Leaf, ClimateFieldView, CNHI, JohnDeere, Trimble, AgLeader, Farmobile or PrecisionPlanting")),
    request_body(content_type = "multipart/form-data", description = "part `file`: the zip"),
    responses((status = 201, body = serde_json::Value), (status = 400, body = crate::error::Problem),
              (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem),
              (status = 413, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<UploadQuery>,
    ApiMultipart(multipart): ApiMultipart,
) -> Result<impl IntoResponse, ApiError> {
    let batch = receive(
        &state,
        &owner.0.id,
        Upload {
            user: q.leaf_user_id,
            provider: q.provider,
            user_fixed: false,
        },
        multipart,
        async |_| Ok(()),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(batch_json(&batch))))
}

/// Who an upload is for: from the query or multipart fields (`POST /batch`), or fixed by a Magic Link.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) user: Option<String>,
    pub(crate) provider: Option<String>,
    /// The multipart fields cannot change `user` and `provider`.
    pub(crate) user_fixed: bool,
}

/// The one upload path (`POST /batch` and the file-upload Magic Link): streams the `file` part to the blob
/// store, runs `check` on the other text fields once the body is read (a CSRF token, a link's use), then
/// registers batch, original and processing job in one transaction. Whatever fails leaves no blob behind.
pub(crate) async fn receive(
    state: &AppState,
    owner_id: &str,
    who: Upload,
    mut multipart: Multipart,
    check: impl AsyncFnOnce(&std::collections::HashMap<String, String>) -> Result<(), ApiError>,
) -> Result<Batch, ApiError> {
    let owner_id = owner_id.to_owned();
    let mut fields = std::collections::HashMap::new();
    let q = UploadQuery {
        leaf_user_id: who.user,
        provider: who.provider,
    };
    let Some(blobs) = state.config.blobs.clone() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "uploads are disabled: this server has no blob store",
            Some("uploadsDisabled"),
        ));
    };
    let (mut user, mut provider) = (q.leaf_user_id, q.provider);
    let fields = &mut fields;
    // The upload streams straight into the blob store under its original's key; nothing is buffered whole.
    let (batch_id, original_id) = (new_uuid(), new_uuid());
    let mut stored: Option<(String, String, u64)> = None;
    let max = state.config.max_upload_bytes;
    let result = async {
        while let Some(part) = multipart.next_field().await.map_err(multipart_error)? {
            match part.name().unwrap_or_default() {
                "leafUserId" if !who.user_fixed => {
                    user = Some(part.text().await.map_err(multipart_error)?)
                }
                "provider" if !who.user_fixed => {
                    provider = Some(part.text().await.map_err(multipart_error)?)
                }
                "file" => {
                    let name = part
                        .file_name()
                        .map(str::to_owned)
                        .unwrap_or_else(|| "upload.zip".into());
                    // The user is known only once every field arrived: a provisional key under the owner, moved
                    // to its place in the same key space once the user is checked.
                    let key = format!("{owner_id}/uploads/{original_id}/original");
                    let too_large = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let flag = too_large.clone();
                    let mut size = 0u64;
                    let chunks = part
                        .map(move |chunk| {
                            let chunk = chunk.map_err(|e| e.body_text())?;
                            size += chunk.len() as u64;
                            if size > max {
                                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                                return Err(format!("larger than {max} bytes"));
                            }
                            Ok(chunk)
                        })
                        .boxed();
                    match blobs.put_stream(&key, chunks).await {
                        Ok(n) => stored = Some((key, name, n)),
                        Err(_) if too_large.load(std::sync::atomic::Ordering::Relaxed) => {
                            return Err(ApiError::new(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                format!("file: larger than the {max} bytes this server accepts"),
                                Some("fileTooLarge"),
                            ));
                        }
                        Err(furrow_store::BlobError::Source(m)) => {
                            return Err(ApiError::field(
                                "file",
                                format!("the multipart body could not be read: {m}"),
                            ));
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot store the upload");
                            return Err(ApiError::internal());
                        }
                    }
                }
                name => {
                    let name = name.to_owned();
                    // Small text fields only (a CSRF token); anything else is ignored as before.
                    if name.len() <= 64 && fields.len() < 16 {
                        let text = part.text().await.map_err(multipart_error)?;
                        if text.len() <= 4096 {
                            fields.insert(name, text);
                        }
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    let discard = async |stored: &Option<(String, String, u64)>| {
        if let Some((key, _, _)) = stored {
            let _ = blobs.delete(key).await;
        }
    };
    if let Err(e) = result {
        discard(&stored).await;
        return Err(e);
    }
    let mut errors = Vec::new();
    let user = user.filter(|u| !u.trim().is_empty());
    if user.is_none() {
        errors.push((
            "leafUserId",
            "is required (query parameter or multipart field)".to_owned(),
        ));
    }
    let provider = provider
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "Other".into());
    if !PROVIDERS.contains(&provider.as_str()) {
        errors.push((
            "provider",
            format!("must be one of {}", PROVIDERS.join(", ")),
        ));
    }
    if stored.is_none() {
        errors.push((
            "file",
            "is required: a multipart part named `file` holding the zip".to_owned(),
        ));
    }
    if let Some(&(field, ref message)) = errors.first() {
        discard(&stored).await;
        let mut e = ApiError::field(field, message.clone());
        for (f, m) in errors.iter().skip(1) {
            e = e.with_field(f, m.clone());
        }
        return Err(e);
    }
    let (Some(user), Some((key, name, size))) = (user, stored.clone()) else {
        return Err(ApiError::internal());
    };
    if let Err(e) = state.store.get_user(&owner_id, &user).await {
        discard(&stored).await;
        return Err(e.into());
    }
    if let Err(e) = check(fields).await {
        discard(&stored).await;
        return Err(e);
    }
    let provider = if provider == "Other" {
        "Leaf".to_owned()
    } else {
        provider
    };
    // Batch, original and processing job in one transaction: a crash leaves all three or none (the blob of an
    // upload that was never registered is removed by the sweeper).
    let registered = state
        .store
        .register_upload(
            &owner_id,
            &user,
            &provider,
            &name,
            i64::try_from(size).unwrap_or(i64::MAX),
            &batch_id,
            &original_id,
            &key,
        )
        .await;
    match registered {
        Ok(r) => Ok(r.batch),
        Err(e) => {
            discard(&stored).await;
            Err(e.into())
        }
    }
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Lists the owner's batches, newest first.
#[utoipa::path(get, operation_id = "batchList", path = "/services/operations/api/batch", tag = "batch",
    params(("page" = Option<i64>, Query), ("size" = Option<i64>, Query)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    owner: Owner,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let page = q.page()?;
    let (batches, total) = state.store.list_batches(&owner.0.id, page).await?;
    let headers = pagination::headers(&format!("{BASE}/batch"), &[], page, total);
    Ok((
        headers,
        axum::Json(Value::Array(batches.iter().map(batch_json).collect())),
    ))
}

async fn batch_files(
    state: &AppState,
    owner: &Owner,
    batch: &Batch,
) -> Result<Vec<furrow_store::StoredFile>, ApiError> {
    let filter = FileFilter {
        batch_id: Some(batch.id.clone()),
        ..Default::default()
    };
    let mut out = Vec::new();
    for page in 0.. {
        let (files, total) = state
            .store
            .list_files(&owner.0.id, &filter, furrow_model::Page { page, size: 100 })
            .await?;
        let done =
            files.is_empty() || out.len() + files.len() >= usize::try_from(total).unwrap_or(0);
        out.extend(files);
        if done {
            break;
        }
    }
    Ok(out)
}

/// One batch with its files: `{id, leafUserId, provider, status, leafFiles}`.
#[utoipa::path(get, operation_id = "batchGet", path = "/services/operations/api/batch/{id}", tag = "batch", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn get(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let mut batch = state.store.get_batch(&owner.0.id, &id).await?;
    (batch.status, batch.status_details) = state.store.batch_state(&owner.0.id, &id).await?;
    let files = batch_files(&state, &owner, &batch).await?;
    let mut v = batch_json(&batch);
    v["leafFiles"] = json!(files.iter().map(|f| f.id.clone()).collect::<Vec<_>>());
    Ok(axum::Json(v))
}

/// A batch's files by state: `{converted: {leafFiles}, processing: {leafFiles}, failed: {<step>: {...}}}`.
#[utoipa::path(get, operation_id = "batchStatus", path = "/services/operations/api/batch/{id}/status", tag = "batch", params(("id" = String, Path)),
    responses((status = 200, body = serde_json::Value), (status = 401, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub(crate) async fn status(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let batch = state.store.get_batch(&owner.0.id, &id).await?;
    let files = batch_files(&state, &owner, &batch).await?;
    let ids = |s: FileStatus| -> Vec<String> {
        files
            .iter()
            .filter(|f| f.status == s)
            .map(|f| f.id.clone())
            .collect()
    };
    let mut failed = serde_json::Map::new();
    for f in files.iter().filter(|f| f.status == FileStatus::Failed) {
        let step = f
            .steps
            .as_object()
            .and_then(|m| m.iter().find(|(_, v)| v.as_str() == Some("FAILED")))
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| "standard".into());
        let entry = failed
            .entry(step)
            .or_insert_with(|| json!({"leafFiles": [], "status": "failed", "message": f.message}));
        if let Some(list) = entry.get_mut("leafFiles").and_then(Value::as_array_mut) {
            list.push(json!(f.id));
        }
    }
    Ok(axum::Json(json!({
        "converted": {"leafFiles": ids(FileStatus::Processed)},
        "processing": {"leafFiles": ids(FileStatus::Processing)},
        "failed": failed,
    })))
}
