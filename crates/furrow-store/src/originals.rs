//! Originals: what a provider listed or a user uploaded, stored once per owner, user, provider and provider id,
//! downloaded once into the blob store. Every dataset found in an original becomes a row of `files`.

use furrow_model::MachineFileDescriptor;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::files::json_col;
use crate::queue::{FILE_PROCESS_JOB, ProcessPayload};
use crate::{Batch, Error, Result, Store};

/// Where an original stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OriginalStatus {
    /// Listed but held back (its organization is in preview or not selected): not downloaded.
    Listed,
    /// To download and process.
    Pending,
    /// Processed: its files exist.
    Done,
    /// Could not be downloaded or opened; the message says why.
    Failed,
}

impl OriginalStatus {
    /// How the store keeps it.
    pub fn as_str(self) -> &'static str {
        match self {
            OriginalStatus::Listed => "LISTED",
            OriginalStatus::Pending => "PENDING",
            OriginalStatus::Done => "DONE",
            OriginalStatus::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> OriginalStatus {
        match s {
            "LISTED" => OriginalStatus::Listed,
            "DONE" => OriginalStatus::Done,
            "FAILED" => OriginalStatus::Failed,
            _ => OriginalStatus::Pending,
        }
    }
}

/// A stored original.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOriginal {
    /// UUID.
    pub id: String,
    /// The Leaf user.
    pub user_id: String,
    /// Leaf provider name (`Other`, `JohnDeere`, … for uploads).
    pub provider: String,
    /// The provider's id of the file (the batch id for uploads).
    pub provider_file_id: String,
    /// The credential it came through.
    pub credential_id: Option<String>,
    /// The provider organization.
    pub organization_id: Option<String>,
    /// `provider` or `uploaded`.
    pub origin: String,
    /// File name.
    pub file_name: String,
    /// Bytes, when known.
    pub size_bytes: Option<i64>,
    /// Blob key once downloaded.
    pub blob_key: Option<String>,
    /// The upload batch.
    pub batch_id: Option<String>,
    /// Where it stands.
    pub status: OriginalStatus,
    /// Why it failed.
    pub message: Option<String>,
    /// How the provider describes it (its download reference).
    pub descriptor: Option<MachineFileDescriptor>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

/// An original to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewOriginal {
    /// The Leaf user.
    pub user_id: String,
    /// Leaf provider name.
    pub provider: String,
    /// The provider's id of the file.
    pub provider_file_id: String,
    /// The credential it came through.
    pub credential_id: Option<String>,
    /// The provider organization.
    pub organization_id: Option<String>,
    /// `provider` or `uploaded`.
    pub origin: String,
    /// File name.
    pub file_name: String,
    /// Bytes, when known.
    pub size_bytes: Option<i64>,
    /// How the provider describes it.
    pub descriptor: Option<MachineFileDescriptor>,
}

const COLUMNS: &str = "id, user_id, provider, provider_file_id, credential_id, organization_id, origin, file_name, \
    size_bytes, blob_key, batch_id, status, message, descriptor, created_at, updated_at";

fn original_from_row(r: &AnyRow) -> Result<StoredOriginal> {
    let status: String = r.try_get("status")?;
    Ok(StoredOriginal {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        provider: r.try_get("provider")?,
        provider_file_id: r.try_get("provider_file_id")?,
        credential_id: r.try_get("credential_id")?,
        organization_id: r.try_get("organization_id")?,
        origin: r.try_get("origin")?,
        file_name: r.try_get("file_name")?,
        size_bytes: r.try_get("size_bytes")?,
        blob_key: r.try_get("blob_key")?,
        batch_id: r.try_get("batch_id")?,
        status: OriginalStatus::parse(&status),
        message: r.try_get("message")?,
        descriptor: json_col(r, "descriptor")?.and_then(|v| serde_json::from_value(v).ok()),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// What a registered upload made.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredUpload {
    /// The batch.
    pub batch: Batch,
    /// Its original.
    pub original_id: String,
}

impl Store {
    /// Records an original unless the user already has this provider file, in `status`; returns its id and
    /// whether it is new.
    pub async fn insert_original_if_absent(
        &self,
        owner_id: &str,
        o: &NewOriginal,
        status: OriginalStatus,
    ) -> Result<(String, bool)> {
        let id = new_id();
        let now = furrow_model::now_micros();
        let descriptor = o
            .descriptor
            .as_ref()
            .and_then(|d| serde_json::to_string(d).ok());
        let n = sqlx::query(
            "INSERT INTO originals (id, owner_id, user_id, provider, provider_file_id, credential_id, \
             organization_id, origin, file_name, size_bytes, status, descriptor, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             ON CONFLICT (owner_id, user_id, provider, provider_file_id) DO NOTHING",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&o.user_id)
        .bind(&o.provider)
        .bind(&o.provider_file_id)
        .bind(o.credential_id.as_deref())
        .bind(o.organization_id.as_deref())
        .bind(&o.origin)
        .bind(&o.file_name)
        .bind(o.size_bytes)
        .bind(status.as_str())
        .bind(descriptor)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 1 {
            return Ok((id, true));
        }
        let existing: String = sqlx::query_scalar(
            "SELECT id FROM originals WHERE owner_id = $1 AND user_id = $2 AND provider = $3 \
             AND provider_file_id = $4",
        )
        .bind(owner_id)
        .bind(&o.user_id)
        .bind(&o.provider)
        .bind(&o.provider_file_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((existing, false))
    }

    /// One of the owner's originals.
    pub async fn get_original(&self, owner_id: &str, id: &str) -> Result<StoredOriginal> {
        let sql = format!("SELECT {COLUMNS} FROM originals WHERE id = $1 AND owner_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| original_from_row(&r))
            .transpose()?
            .ok_or(Error::NotFound("original"))
    }

    /// A user's originals of one provider in `status` (for example those held back, once their organization is
    /// selected).
    pub async fn user_originals(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        status: OriginalStatus,
    ) -> Result<Vec<StoredOriginal>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM originals WHERE owner_id = $1 AND user_id = $2 AND provider = $3 \
             AND status = $4 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(provider)
            .bind(status.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(original_from_row).collect()
    }

    /// Sets an original's state (and its blob once downloaded).
    pub async fn set_original_state(
        &self,
        owner_id: &str,
        id: &str,
        status: OriginalStatus,
        message: Option<&str>,
        blob: Option<(&str, i64)>,
    ) -> Result<()> {
        let now = furrow_model::now_micros();
        let n = match blob {
            Some((key, size)) => sqlx::query(
                "UPDATE originals SET status = $1, message = $2, blob_key = $3, size_bytes = $4, updated_at = $5 \
                 WHERE id = $6 AND owner_id = $7",
            )
            .bind(status.as_str())
            .bind(message)
            .bind(key)
            .bind(size)
            .bind(now)
            .bind(id)
            .bind(owner_id)
            .execute(&self.pool)
            .await?,
            None => sqlx::query(
                "UPDATE originals SET status = $1, message = $2, updated_at = $3 WHERE id = $4 AND owner_id = $5",
            )
            .bind(status.as_str())
            .bind(message)
            .bind(now)
            .bind(id)
            .bind(owner_id)
            .execute(&self.pool)
            .await?,
        }
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("original"));
        }
        Ok(())
    }

    /// Records an upload in one transaction: its batch, its original (already stored under `blob_key`) and the
    /// job that processes it, so a crash leaves all three or none.
    #[allow(clippy::too_many_arguments)]
    pub async fn register_upload(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        file_name: &str,
        size_bytes: i64,
        batch_id: &str,
        original_id: &str,
        blob_key: &str,
    ) -> Result<RegisteredUpload> {
        let now = furrow_model::now_micros();
        let original_id = original_id.to_owned();
        let descriptor = MachineFileDescriptor {
            id: batch_id.to_owned(),
            name: file_name.to_owned(),
            organization_id: String::new(),
            created_time: None,
            size: u64::try_from(size_bytes).ok(),
            format: None,
            download_ref: None,
        };
        let payload = serde_json::to_string(&ProcessPayload {
            original_id: original_id.clone(),
            descriptor: descriptor.clone(),
        })
        .unwrap_or_default();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO batches (id, owner_id, user_id, provider, file_name, size_bytes, status, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'RECEIVED', $7, $7)",
        )
        .bind(batch_id)
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(file_name)
        .bind(size_bytes)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO originals (id, owner_id, user_id, provider, provider_file_id, origin, file_name, \
             size_bytes, blob_key, batch_id, status, descriptor, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'uploaded', $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&original_id)
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(batch_id)
        .bind(file_name)
        .bind(size_bytes)
        .bind(blob_key)
        .bind(batch_id)
        .bind(OriginalStatus::Pending.as_str())
        .bind(serde_json::to_string(&descriptor).ok())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO jobs (id, owner_id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, 5, $6, $6, $6)",
        )
        .bind(new_id())
        .bind(owner_id)
        .bind(FILE_PROCESS_JOB)
        .bind(payload)
        .bind(format!("process:{original_id}"))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RegisteredUpload {
            batch: self.get_batch(owner_id, batch_id).await?,
            original_id,
        })
    }

    /// A batch's state from its original and files: `RECEIVED` while it is processed, then `PROCESSED` when
    /// at least one file was converted, `FAILED` otherwise (with why).
    pub async fn batch_state(
        &self,
        owner_id: &str,
        batch_id: &str,
    ) -> Result<(String, Option<String>)> {
        let original: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT status, message FROM originals WHERE owner_id = $1 AND batch_id = $2 LIMIT 1",
        )
        .bind(owner_id)
        .bind(batch_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((status, message)) = original else {
            let b = self.get_batch(owner_id, batch_id).await?;
            return Ok((b.status, b.status_details));
        };
        match OriginalStatus::parse(&status) {
            OriginalStatus::Failed => return Ok(("FAILED".into(), message)),
            OriginalStatus::Pending | OriginalStatus::Listed => {
                return Ok(("RECEIVED".into(), None));
            }
            OriginalStatus::Done => {}
        }
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM files WHERE owner_id = $1 AND batch_id = $2 GROUP BY status",
        )
        .bind(owner_id)
        .bind(batch_id)
        .fetch_all(&self.pool)
        .await?;
        let count = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
        let (processing, processed, failed) =
            (count("PROCESSING"), count("PROCESSED"), count("FAILED"));
        if processing > 0 {
            return Ok(("RECEIVED".into(), None));
        }
        if processed > 0 {
            let details = (failed > 0)
                .then(|| format!("{processed} file(s) converted, {failed} could not be converted"));
            return Ok(("PROCESSED".into(), details));
        }
        let first: Option<Option<String>> = sqlx::query_scalar(
            "SELECT message FROM files WHERE owner_id = $1 AND batch_id = $2 AND status = 'FAILED' \
             ORDER BY created_at, id LIMIT 1",
        )
        .bind(owner_id)
        .bind(batch_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok((
            "FAILED".into(),
            first
                .flatten()
                .or_else(|| Some("No valid files found".into())),
        ))
    }
}
