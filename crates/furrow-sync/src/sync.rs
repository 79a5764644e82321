//! Asking for a credential's sync: its fields and its machine files, each as its own durable job.

use crate::Result;

/// Enqueues the sync of a credential's fields and machine files (each at most once while queued or running).
/// Validation calls it when a credential turns valid, the scheduler every `sync_interval`, and the API on
/// demand.
pub async fn enqueue_sync(
    store: &furrow_store::Store,
    owner_id: &str,
    credential_id: &str,
) -> Result<()> {
    crate::fields::enqueue_fields_sync(store, owner_id, credential_id).await?;
    crate::files::enqueue_files_sync(store, owner_id, credential_id).await?;
    Ok(())
}
