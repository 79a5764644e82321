//! Images after processing (leaf-images.md §7): a file's V1 PNGs once its standard points are converted, an
//! operation's V2 PNGs (and GeoTIFFs) once it is built, when `operationsImageCreation` and the property's flag
//! in `operationsImageAttributeCreation` are on. They are stored beside the other outputs with a manifest the
//! routes list from; the API renders on first request what is missing (switched on later, or lost).

use std::path::PathBuf;

use furrow_pipeline::{ImageChoice, ImageManifest, ImageOwner, Images, MANIFEST_NAME};
use furrow_store::blobs::{file_key, operation_key};
use furrow_store::{BlobError, Blobs};

/// Stores rendered images and their manifest under `base` (replacing what was there).
pub(crate) async fn store(
    blobs: &Blobs,
    base: &str,
    owner: ImageOwner,
    images: Images,
    stamp: &str,
    choice: &ImageChoice,
) -> Result<ImageManifest, BlobError> {
    let (objects, manifest) = images.into_objects(owner, stamp, choice);
    let objects = objects.into_iter().map(|o| (o.name, o.bytes)).collect();
    blobs.replace_set(base, objects, owner.folders()).await?;
    Ok(manifest)
}

/// The folder of a file's outputs.
pub(crate) fn file_base(owner: &str, user: &str, file: &str) -> String {
    file_key(owner, user, file, "")
}

/// The folder of an operation's outputs.
pub(crate) fn operation_base(owner: &str, user: &str, operation: &str) -> String {
    operation_key(owner, user, operation, "")
}

/// The state of the `propertiesPNGs` step for what was rendered: `DONE`, or `FAILED:` with the properties
/// that could not be drawn and why.
pub(crate) fn step_state(images: &Images) -> String {
    let failures: Vec<String> = images
        .failures()
        .map(|(p, why)| format!("{p}: {why}"))
        .collect();
    if failures.is_empty() {
        "DONE".into()
    } else {
        format!("FAILED:{}", failures.join("; "))
    }
}

/// The state of the step when nothing is selected.
pub(crate) const SKIPPED: &str = "SKIPPED:images disabled";

/// Renders a file's V1 images from its converted points (before they move into the blob store).
pub(crate) async fn render_file(parquet: PathBuf, choice: &ImageChoice) -> Result<Images, String> {
    let properties = choice.properties.clone();
    tokio::task::spawn_blocking(move || {
        furrow_pipeline::render_file_images(&parquet, &properties).map_err(|e| e.to_string())
    })
    .await
    .unwrap_or_else(|e| Err(format!("the renderer stopped: {e}")))
}

/// Removes a stale manifest (the data changed and images are off): the routes then render afresh.
pub(crate) async fn forget(blobs: &Blobs, base: &str) -> Result<(), BlobError> {
    blobs.delete(&format!("{base}{MANIFEST_NAME}")).await
}
