//! Field operations (Leaf's `/operations`), the allocation results of files they are grouped from, and upload
//! batches (`/batch`).
//!
//! Membership (which files form which operation) is written by the grouping step; each change bumps
//! `version`. The outputs (summary, units, GeoParquet/GeoJSON) are built afterwards and record the version they
//! were built from, so a build that raced with a membership change is noticed and redone.

use furrow_model::Page;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::fields::Change;
use crate::files::{Bind, FileStatus, StoredFile, json_col};
use crate::{Error, Result, Store};

/// The allocation step's result for one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileAllocation {
    /// What the grouping needs (a JSON object; see `furrow_allocate::FileFacts`).
    pub facts: Value,
    /// Fields the file attaches to.
    pub field_ids: Vec<String>,
    /// Points outside every field.
    pub outside_count: i64,
}

/// A field's share of an operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OperationField {
    /// The field id.
    pub id: String,
    /// Covered area inside the field / field area, 0–1; None until the outputs are built.
    pub coverage: Option<f64>,
}

/// Which files make an operation (what the grouping decides).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationMembership {
    /// Operation id.
    pub id: String,
    /// The Leaf user.
    pub user_id: String,
    /// `planted`, `applied`, `harvested`, `tillage`.
    pub operation_type: String,
    /// The field (None when operations are not split by field).
    pub field_id: Option<String>,
    /// Crop.
    pub crop: Option<String>,
    /// Till type (when split by it).
    pub till_type: Option<String>,
    /// Earliest start of its files (µs).
    pub start_time: i64,
    /// Latest end of its files (µs).
    pub end_time: i64,
    /// File ids, sorted.
    pub files: Vec<String>,
    /// Provider names, sorted.
    pub providers: Vec<String>,
}

/// A stored field operation.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOperation {
    /// Membership.
    pub membership: OperationMembership,
    /// Fields and their coverage.
    pub fields: Vec<OperationField>,
    /// Membership version.
    pub version: i64,
    /// Version the outputs were built from (0: not yet).
    pub built_version: i64,
    /// `PROCESSING`, `PROCESSED` or `FAILED`.
    pub status: FileStatus,
    /// Why the outputs failed.
    pub message: Option<String>,
    /// Summary (a GeoJSON Feature).
    pub summary: Option<Value>,
    /// Property → unit map.
    pub units: Option<Value>,
    /// The filtered view's limits (a JSON object; see `furrow_pipeline::FilterLimits`), once built.
    pub filter: Option<Value>,
    /// Standard points inside the field, once built.
    pub points: Option<i64>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

/// Built outputs of an operation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationOutputs {
    /// Fields and coverage.
    pub fields: Vec<OperationField>,
    /// Summary.
    pub summary: Option<Value>,
    /// Units.
    pub units: Option<Value>,
    /// The filtered view's limits.
    pub filter: Option<Value>,
    /// Standard points inside the field.
    pub points: Option<i64>,
    /// Set when the build failed.
    pub message: Option<String>,
}

/// Filters of [`Store::list_operations`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperationFilter {
    /// Only this user's operations.
    pub leaf_user_id: Option<String>,
    /// Only operations with a file of this provider.
    pub provider: Option<String>,
    /// Only this type.
    pub operation_type: Option<String>,
    /// Only this field's.
    pub field_id: Option<String>,
    /// Starting at or after (µs).
    pub start_time: Option<i64>,
    /// Ending at or before (µs).
    pub end_time: Option<i64>,
    /// Updated at or after (µs).
    pub updated_time: Option<i64>,
    /// Order by this column (one of [`OPERATION_SORT_COLUMNS`]), descending when true; default: by start.
    pub sort: Option<(&'static str, bool)>,
}

/// The columns [`OperationFilter::sort`] may name.
pub const OPERATION_SORT_COLUMNS: &[&str] = &[
    "id",
    "user_id",
    "start_time",
    "end_time",
    "operation_type",
    "updated_at",
];

/// An upload batch (`POST /batch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// UUID.
    pub id: String,
    /// The Leaf user.
    pub user_id: String,
    /// Declared provider.
    pub provider: String,
    /// Uploaded file name.
    pub file_name: String,
    /// Bytes.
    pub size_bytes: i64,
    /// `RECEIVED`, `PROCESSED` or `FAILED`.
    pub status: String,
    /// Why it failed, or what was found.
    pub status_details: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

const OP_COLUMNS: &str = "id, user_id, operation_type, field_id, crop, till_type, start_time, end_time, files, \
    providers, fields, version, built_version, status, message, summary, units, filter, points, created_at, \
    updated_at";

fn strings(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Store {
    /// Records a file's allocation; the file then waits for its user's grouping (`grouped_at` cleared).
    pub async fn set_file_allocation(
        &self,
        owner_id: &str,
        file_id: &str,
        alloc: &FileAllocation,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE files SET facts = $1, field_ids = $2, outside_count = $3, grouped_at = NULL, \
             updated_at = $4 WHERE id = $5 AND owner_id = $6",
        )
        .bind(alloc.facts.to_string())
        .bind(strings(&alloc.field_ids))
        .bind(alloc.outside_count)
        .bind(furrow_model::now_micros())
        .bind(file_id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("file"));
        }
        Ok(())
    }

    /// A user's files that have an allocation (what the grouping works on; a file being converted again keeps
    /// its last one, a failed file has none), oldest first.
    pub async fn grouping_files(&self, owner_id: &str, user_id: &str) -> Result<Vec<StoredFile>> {
        let sql = format!(
            "SELECT {} FROM files WHERE owner_id = $1 AND user_id = $2 AND status <> $3 \
             AND facts IS NOT NULL ORDER BY created_at, id",
            crate::files::COLUMNS
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(FileStatus::Failed.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crate::files::file_from_row).collect()
    }

    /// Marks files as grouped at `at` (only those still waiting and unchanged since `at`: a file re-allocated
    /// while the grouping ran stays waiting, so it is grouped again with its new facts).
    pub async fn mark_grouped(&self, owner_id: &str, ids: &[String], at: i64) -> Result<()> {
        for chunk in ids.chunks(200) {
            let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            let sql = format!(
                "UPDATE files SET grouped_at = $1 WHERE owner_id = $2 AND grouped_at IS NULL AND updated_at <= $1 \
                 AND id IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(at).bind(owner_id);
            for id in chunk {
                q = q.bind(id.as_str());
            }
            q.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// How many of a user's processed files wait for grouping.
    pub async fn ungrouped_files(&self, owner_id: &str, user_id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM files WHERE owner_id = $1 AND user_id = $2 AND status <> $3 \
             AND facts IS NOT NULL AND grouped_at IS NULL",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(FileStatus::Failed.as_str())
        .fetch_one(&self.pool)
        .await?)
    }

    /// Every operation of a user.
    pub async fn user_operations(
        &self,
        owner_id: &str,
        user_id: &str,
    ) -> Result<Vec<StoredOperation>> {
        let sql = format!(
            "SELECT {OP_COLUMNS} FROM operations WHERE owner_id = $1 AND user_id = $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(operation_from_row).collect()
    }

    /// Creates an operation or updates its membership; the version moves only when the membership changed.
    pub async fn upsert_operation(
        &self,
        owner_id: &str,
        m: &OperationMembership,
    ) -> Result<(Change, i64)> {
        let now = furrow_model::now_micros();
        let existing = match self.get_operation(owner_id, &m.id).await {
            Ok(op) => Some(op),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let fields: Vec<OperationField> = m
            .field_id
            .iter()
            .map(|id| OperationField {
                id: id.clone(),
                coverage: None,
            })
            .collect();
        let fields_json = serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into());
        match existing {
            None => {
                let res = sqlx::query(
                    "INSERT INTO operations (id, owner_id, user_id, operation_type, field_id, crop, till_type, \
                     start_time, end_time, files, providers, fields, version, built_version, status, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, 0, $13, $14, $14)",
                )
                .bind(&m.id)
                .bind(owner_id)
                .bind(&m.user_id)
                .bind(&m.operation_type)
                .bind(m.field_id.as_deref())
                .bind(m.crop.as_deref())
                .bind(m.till_type.as_deref())
                .bind(m.start_time)
                .bind(m.end_time)
                .bind(strings(&m.files))
                .bind(strings(&m.providers))
                .bind(fields_json)
                .bind(FileStatus::Processing.as_str())
                .bind(now)
                .execute(&self.pool)
                .await;
                match res {
                    Ok(_) => Ok((Change::Created, 1)),
                    Err(e) if crate::owners::is_unique_violation(&e) => {
                        Err(Error::AlreadyExists("operation"))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Some(op) if op.membership == *m => Ok((Change::Unchanged, op.version)),
            Some(op) => {
                let version = op.version + 1;
                sqlx::query(
                    "UPDATE operations SET operation_type = $1, field_id = $2, crop = $3, till_type = $4, \
                     start_time = $5, end_time = $6, files = $7, providers = $8, version = $9, status = $10, \
                     updated_at = $11 WHERE id = $12 AND owner_id = $13",
                )
                .bind(&m.operation_type)
                .bind(m.field_id.as_deref())
                .bind(m.crop.as_deref())
                .bind(m.till_type.as_deref())
                .bind(m.start_time)
                .bind(m.end_time)
                .bind(strings(&m.files))
                .bind(strings(&m.providers))
                .bind(version)
                .bind(FileStatus::Processing.as_str())
                .bind(now)
                .bind(&m.id)
                .bind(owner_id)
                .execute(&self.pool)
                .await?;
                Ok((Change::Updated, version))
            }
        }
    }

    /// What an operation is made of: each processed member file's standard-points key with its summary, and the
    /// active boundary of its field (when it has one).
    pub async fn operation_parts(
        &self,
        owner_id: &str,
        op: &StoredOperation,
    ) -> Result<(Vec<(String, Option<Value>)>, Option<furrow_allocate::Field>)> {
        let m = &op.membership;
        let mut parts = Vec::new();
        for id in &m.files {
            match self.get_file(owner_id, id).await {
                Ok(f) if f.status == FileStatus::Processed => {
                    if let Some(key) = f.standard_key {
                        parts.push((key, f.summary));
                    }
                }
                Ok(_) | Err(Error::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let field = match &m.field_id {
            Some(fid) => match self.active_boundary(owner_id, &m.user_id, fid).await {
                Ok(b) => Some(furrow_allocate::Field {
                    id: fid.clone(),
                    boundary: b.geometry,
                }),
                Err(Error::NotFound(_)) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        Ok((parts, field))
    }

    /// Asks for an operation's files to be converted again with the settings now in force (then allocated,
    /// grouped and the operation rebuilt): its files go back to `PROCESSING` (keeping their ids) and the
    /// processing of their originals is queued, in one transaction. Returns how many files.
    pub async fn reprocess_operation(&self, owner_id: &str, id: &str) -> Result<usize> {
        let op = self.get_operation(owner_id, id).await?;
        let mut tx = self.begin_write().await?;
        let now = furrow_model::now_micros();
        let mut originals: Vec<String> = Vec::new();
        for file in &op.membership.files {
            let original: Option<Option<String>> =
                sqlx::query_scalar("SELECT original_id FROM files WHERE id = $1 AND owner_id = $2")
                    .bind(file)
                    .bind(owner_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(Some(original)) = original else {
                continue;
            };
            // The file keeps its allocation facts while it is converted again, so its operation keeps it (and
            // its id) meanwhile; the new allocation replaces them.
            sqlx::query(
                "UPDATE files SET status = $1, steps = '{}', message = NULL, updated_at = $2 \
                 WHERE id = $3 AND owner_id = $4",
            )
            .bind(FileStatus::Processing.as_str())
            .bind(now)
            .bind(file)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
            if !originals.contains(&original) {
                originals.push(original);
            }
        }
        for original in &originals {
            let descriptor: Option<Option<String>> = sqlx::query_scalar(
                "UPDATE originals SET status = 'PENDING', updated_at = $1 WHERE id = $2 AND owner_id = $3 \
                 RETURNING descriptor",
            )
            .bind(now)
            .bind(original)
            .bind(owner_id)
            .fetch_optional(&mut *tx)
            .await?;
            let descriptor = descriptor
                .flatten()
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default();
            let payload = serde_json::to_string(&crate::queue::ProcessPayload {
                original_id: original.clone(),
                descriptor,
            })
            .unwrap_or_default();
            // A processing job already queued for this original will do.
            sqlx::query(
                "INSERT INTO jobs (id, owner_id, kind, payload, dedupe_key, state, attempts, max_attempts, \
                 run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, 5, $6, $6, $6) \
                 ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(new_id())
            .bind(owner_id)
            .bind(crate::queue::FILE_PROCESS_JOB)
            .bind(payload)
            .bind(format!("process:{original}"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // A new version: the rebuild happens even when the membership comes out the same.
        sqlx::query(
            "UPDATE operations SET status = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND owner_id = $4",
        )
        .bind(FileStatus::Processing.as_str())
        .bind(now)
        .bind(id)
        .bind(owner_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(originals.len())
    }

    /// Deletes an operation (its files moved to another).
    pub async fn delete_operation(&self, owner_id: &str, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM operations WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records an operation's outputs built from membership `version`; false (nothing written) when the
    /// membership moved on meanwhile.
    pub async fn set_operation_outputs(
        &self,
        owner_id: &str,
        id: &str,
        version: i64,
        out: &OperationOutputs,
    ) -> Result<bool> {
        let status = if out.message.is_some() {
            FileStatus::Failed
        } else {
            FileStatus::Processed
        };
        let n = sqlx::query(
            "UPDATE operations SET fields = $1, summary = $2, units = $3, filter = $4, points = $5, message = $6, \
             status = $7, built_version = $8, updated_at = $9 WHERE id = $10 AND owner_id = $11 AND version = $8",
        )
        .bind(serde_json::to_string(&out.fields).unwrap_or_else(|_| "[]".into()))
        .bind(out.summary.as_ref().map(Value::to_string))
        .bind(out.units.as_ref().map(Value::to_string))
        .bind(out.filter.as_ref().map(Value::to_string))
        .bind(out.points)
        .bind(out.message.as_deref())
        .bind(status.as_str())
        .bind(version)
        .bind(furrow_model::now_micros())
        .bind(id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// One of the owner's operations.
    pub async fn get_operation(&self, owner_id: &str, id: &str) -> Result<StoredOperation> {
        let sql = format!("SELECT {OP_COLUMNS} FROM operations WHERE id = $1 AND owner_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| operation_from_row(&r))
            .transpose()?
            .ok_or(Error::NotFound("operation"))
    }

    /// A page of the owner's operations, by start time, and the total count.
    pub async fn list_operations(
        &self,
        owner_id: &str,
        filter: &OperationFilter,
        page: Page,
    ) -> Result<(Vec<StoredOperation>, i64)> {
        let mut conds = String::from("owner_id = $1");
        let mut binds = vec![Bind::S(owner_id.to_owned())];
        let mut add = |cond: &str, b: Bind| {
            binds.push(b);
            conds.push_str(&format!(" AND {cond} ${}", binds.len()));
        };
        if let Some(v) = &filter.leaf_user_id {
            add("user_id =", Bind::S(v.clone()));
        }
        if let Some(v) = &filter.provider {
            // providers is a JSON array of names: match the quoted name.
            add(
                "providers LIKE",
                Bind::S(format!("%\"{}\"%", v.replace('"', ""))),
            );
        }
        if let Some(v) = &filter.operation_type {
            add("operation_type =", Bind::S(v.clone()));
        }
        if let Some(v) = &filter.field_id {
            add("field_id =", Bind::S(v.clone()));
        }
        if let Some(v) = filter.start_time {
            add("start_time >=", Bind::I(v));
        }
        if let Some(v) = filter.end_time {
            add("end_time <=", Bind::I(v));
        }
        if let Some(v) = filter.updated_time {
            add("updated_at >=", Bind::I(v));
        }
        let order = match filter.sort {
            Some((col, desc)) if OPERATION_SORT_COLUMNS.contains(&col) => {
                format!("{col} {}, id", if desc { "DESC" } else { "ASC" })
            }
            _ => "start_time, id".to_owned(),
        };
        let count_sql = format!("SELECT COUNT(*) FROM operations WHERE {conds}");
        let total = Bind::all_scalar(sqlx::query_scalar::<_, i64>(&count_sql), &binds)
            .fetch_one(&self.pool)
            .await?;
        let n = binds.len();
        let sql = format!(
            "SELECT {OP_COLUMNS} FROM operations WHERE {conds} ORDER BY {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = Bind::all(sqlx::query(&sql), &binds)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let ops = rows
            .iter()
            .map(operation_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((ops, total))
    }

    /// Records an upload batch.
    pub async fn create_batch(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        file_name: &str,
        size_bytes: i64,
    ) -> Result<Batch> {
        let id = new_id();
        let now = furrow_model::now_micros();
        sqlx::query(
            "INSERT INTO batches (id, owner_id, user_id, provider, file_name, size_bytes, status, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'RECEIVED', $7, $7)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(file_name)
        .bind(size_bytes)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.get_batch(owner_id, &id).await
    }

    /// Sets a batch's status.
    pub async fn set_batch_status(
        &self,
        owner_id: &str,
        id: &str,
        status: &str,
        details: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE batches SET status = $1, status_details = $2, updated_at = $3 WHERE id = $4 AND owner_id = $5",
        )
        .bind(status)
        .bind(details)
        .bind(furrow_model::now_micros())
        .bind(id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One of the owner's batches.
    pub async fn get_batch(&self, owner_id: &str, id: &str) -> Result<Batch> {
        let row = sqlx::query(
            "SELECT id, user_id, provider, file_name, size_bytes, status, status_details, created_at, updated_at \
             FROM batches WHERE id = $1 AND owner_id = $2",
        )
        .bind(id)
        .bind(owner_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| batch_from_row(&r))
            .transpose()?
            .ok_or(Error::NotFound("batch"))
    }

    /// A page of the owner's batches, newest first.
    pub async fn list_batches(&self, owner_id: &str, page: Page) -> Result<(Vec<Batch>, i64)> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM batches WHERE owner_id = $1")
            .bind(owner_id)
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query(
            "SELECT id, user_id, provider, file_name, size_bytes, status, status_details, created_at, updated_at \
             FROM batches WHERE owner_id = $1 ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
        )
        .bind(owner_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        let batches = rows
            .iter()
            .map(batch_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok((batches, total))
    }

    /// One user's batches created at or after `since` (µs), newest first, at most `limit`: a file-upload
    /// link's "recent files".
    pub async fn list_user_batches_since(
        &self,
        owner_id: &str,
        user_id: &str,
        since: i64,
        limit: i64,
    ) -> Result<Vec<Batch>> {
        let rows = sqlx::query(
            "SELECT id, user_id, provider, file_name, size_bytes, status, status_details, created_at, updated_at \
             FROM batches WHERE owner_id = $1 AND user_id = $2 AND created_at >= $3 \
             ORDER BY created_at DESC, id LIMIT $4",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(batch_from_row).collect()
    }
}

fn batch_from_row(r: &AnyRow) -> Result<Batch> {
    Ok(Batch {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        provider: r.try_get("provider")?,
        file_name: r.try_get("file_name")?,
        size_bytes: r.try_get("size_bytes")?,
        status: r.try_get("status")?,
        status_details: r.try_get("status_details")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn list(row: &AnyRow, col: &str) -> Result<Vec<String>> {
    Ok(json_col(row, col)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

fn operation_from_row(r: &AnyRow) -> Result<StoredOperation> {
    let status: String = r.try_get("status")?;
    Ok(StoredOperation {
        membership: OperationMembership {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            operation_type: r.try_get("operation_type")?,
            field_id: r.try_get("field_id")?,
            crop: r.try_get("crop")?,
            till_type: r.try_get("till_type")?,
            start_time: r.try_get("start_time")?,
            end_time: r.try_get("end_time")?,
            files: list(r, "files")?,
            providers: list(r, "providers")?,
        },
        fields: json_col(r, "fields")?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        version: r.try_get("version")?,
        built_version: r.try_get("built_version")?,
        status: FileStatus::parse(&status).unwrap_or(FileStatus::Processing),
        message: r.try_get("message")?,
        summary: json_col(r, "summary")?,
        units: json_col(r, "units")?,
        filter: json_col(r, "filter")?,
        points: r.try_get("points")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
