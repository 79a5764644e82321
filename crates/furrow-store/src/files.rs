//! Machine files (Leaf's `/files`): one row per provider file, stored once per owner, user, provider and provider id,
//! with the state of each processing step (`{"original": "DONE", "standard": …}`) and the blob paths of the
//! original and converted files.

use furrow_model::Page;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::{Error, Result, Store};

/// A file's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileStatus {
    /// Waiting or being worked on.
    Processing,
    /// Every step done.
    Processed,
    /// A step failed; [`StoredFile::message`] says why.
    Failed,
}

impl FileStatus {
    /// `PROCESSING`, `PROCESSED` or `FAILED` (how the store keeps it).
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Processing => "PROCESSING",
            FileStatus::Processed => "PROCESSED",
            FileStatus::Failed => "FAILED",
        }
    }

    /// Leaf's lower-case name: `processing`, `processed`, `failed`.
    pub fn leaf_name(self) -> &'static str {
        match self {
            FileStatus::Processing => "processing",
            FileStatus::Processed => "processed",
            FileStatus::Failed => "failed",
        }
    }

    /// Parses either spelling, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "PROCESSING" => Some(FileStatus::Processing),
            "PROCESSED" => Some(FileStatus::Processed),
            "FAILED" => Some(FileStatus::Failed),
            _ => None,
        }
    }
}

/// A stored machine file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    /// UUID.
    pub id: String,
    /// The Leaf user.
    pub user_id: String,
    /// Leaf provider name (`CLAAS`, `JohnDeere`, …; `Leaf` for uploads).
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
    /// `ISO11783`, …
    pub file_format: Option<String>,
    /// Size of the original, bytes.
    pub size_bytes: Option<i64>,
    /// Blob key of the original.
    pub original_key: Option<String>,
    /// The original this file was made from.
    pub original_id: Option<String>,
    /// Which dataset of the original (empty for a file that stands for its whole original).
    pub dataset_key: Option<String>,
    /// Overall state.
    pub status: FileStatus,
    /// Step name → `DONE` / `FAILED` / `SKIPPED` (a JSON object).
    pub steps: Value,
    /// Why it failed.
    pub message: Option<String>,
    /// `planted`, `applied`, `harvested`, `tillage`, …
    pub operation_type: Option<String>,
    /// First point, µs since the epoch.
    pub start_time: Option<i64>,
    /// Last point, µs since the epoch.
    pub end_time: Option<i64>,
    /// Summary (a GeoJSON Feature).
    pub summary: Option<Value>,
    /// Property → unit map.
    pub units: Option<Value>,
    /// Blob key of the standard GeoParquet.
    pub standard_key: Option<String>,
    /// The point counts (a JSON object; see `furrow_machine_data::Counts`).
    pub counts: Option<Value>,
    /// Fields the file's points were allocated to (above `fieldsAttachIntersection`).
    pub field_ids: Vec<String>,
    /// What the operation grouping knows of the file (set by the allocation step).
    pub facts: Option<Value>,
    /// When the file last took part in its user's operation grouping.
    pub grouped_at: Option<i64>,
    /// How many points fell outside every field.
    pub outside_count: Option<i64>,
    /// The upload batch it came in (`POST /batch`).
    pub batch_id: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

/// A file to record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewFile {
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
    /// `ISO11783`, …
    pub file_format: Option<String>,
    /// Size, bytes, when known.
    pub size_bytes: Option<i64>,
    /// The upload batch (`POST /batch`).
    pub batch_id: Option<String>,
    /// The original it is made from.
    pub original_id: Option<String>,
    /// Which dataset of the original.
    pub dataset_key: Option<String>,
    /// Blob key of the original.
    pub original_key: Option<String>,
}

/// Filters of [`Store::list_files`]; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileFilter {
    /// Only this user's files.
    pub leaf_user_id: Option<String>,
    /// Only this provider's files.
    pub provider: Option<String>,
    /// Only files in this state.
    pub status: Option<FileStatus>,
    /// Only this operation type.
    pub operation_type: Option<String>,
    /// Only this origin.
    pub origin: Option<String>,
    /// Files whose data starts at or after this instant (µs).
    pub start_time: Option<i64>,
    /// Files whose data ends at or before this instant (µs).
    pub end_time: Option<i64>,
    /// Only files of this upload batch.
    pub batch_id: Option<String>,
    /// Only files of this provider organization.
    pub organization_id: Option<String>,
    /// Files created at or after this instant (µs).
    pub created_time: Option<i64>,
    /// Files updated at or after this instant (µs).
    pub updated_time: Option<i64>,
    /// Order by this column (one of [`FILE_SORT_COLUMNS`]), descending when true; default: oldest first.
    pub sort: Option<(&'static str, bool)>,
}

/// The columns [`FileFilter::sort`] may name.
pub const FILE_SORT_COLUMNS: &[&str] = &[
    "id",
    "file_name",
    "created_at",
    "updated_at",
    "origin",
    "user_id",
    "size_bytes",
    "provider",
    "organization_id",
    "file_format",
];

/// Changes to a file; `None` leaves a column as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileUpdate {
    /// New overall state.
    pub status: Option<FileStatus>,
    /// Step name → state to merge into the steps object.
    pub steps: Vec<(String, String)>,
    /// `Some(None)` clears the message.
    pub message: Option<Option<String>>,
    /// Blob key of the original.
    pub original_key: Option<String>,
    /// Size of the original.
    pub size_bytes: Option<i64>,
    /// Operation type.
    pub operation_type: Option<String>,
    /// First point (µs).
    pub start_time: Option<i64>,
    /// Last point (µs).
    pub end_time: Option<i64>,
    /// Summary.
    pub summary: Option<Value>,
    /// Units.
    pub units: Option<Value>,
    /// Standard GeoParquet blob key.
    pub standard_key: Option<String>,
    /// Point counts.
    pub counts: Option<Value>,
}

pub(crate) enum Bind {
    S(String),
    I(i64),
    N,
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;
type AnyScalar<'q, O> = sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>;

impl Bind {
    fn value(&self) -> (Option<&str>, Option<i64>) {
        match self {
            Bind::S(s) => (Some(s.as_str()), None),
            Bind::I(i) => (None, Some(*i)),
            Bind::N => (None, None),
        }
    }

    /// Binds `binds` in order (the `$n` of a dynamically built query).
    pub(crate) fn all<'q>(mut q: AnyQuery<'q>, binds: &'q [Bind]) -> AnyQuery<'q> {
        for b in binds {
            q = match b.value() {
                (Some(s), _) => q.bind(s),
                (None, Some(i)) => q.bind(i),
                (None, None) => q.bind(None::<String>),
            };
        }
        q
    }

    /// [`Bind::all`] for a scalar query (counts).
    pub(crate) fn all_scalar<'q, O>(
        mut q: AnyScalar<'q, O>,
        binds: &'q [Bind],
    ) -> AnyScalar<'q, O> {
        for b in binds {
            q = match b.value() {
                (Some(s), _) => q.bind(s),
                (None, Some(i)) => q.bind(i),
                (None, None) => q.bind(None::<String>),
            };
        }
        q
    }
}

pub(crate) const COLUMNS: &str = "id, user_id, provider, provider_file_id, credential_id, organization_id, origin, \
    file_name, file_format, size_bytes, original_key, original_id, dataset_key, status, steps, message, \
    operation_type, start_time, end_time, summary, units, standard_key, counts, field_ids, facts, grouped_at, \
    outside_count, batch_id, created_at, updated_at";

impl Store {
    /// Records a file unless the user already has this provider file; returns its id and whether it is new.
    pub async fn insert_file_if_absent(
        &self,
        owner_id: &str,
        file: &NewFile,
    ) -> Result<(String, bool)> {
        let id = new_id();
        let now = furrow_model::now_micros();
        let n = sqlx::query(
            "INSERT INTO files (id, owner_id, user_id, provider, provider_file_id, credential_id, organization_id, \
             origin, file_name, file_format, size_bytes, status, steps, batch_id, original_id, dataset_key, \
             original_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $15, $16, $17, $18, $14, $14) \
             ON CONFLICT (owner_id, user_id, provider, provider_file_id) DO NOTHING",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&file.user_id)
        .bind(&file.provider)
        .bind(&file.provider_file_id)
        .bind(file.credential_id.as_deref())
        .bind(file.organization_id.as_deref())
        .bind(&file.origin)
        .bind(&file.file_name)
        .bind(file.file_format.as_deref())
        .bind(file.size_bytes)
        .bind(FileStatus::Processing.as_str())
        .bind("{}")
        .bind(now)
        .bind(file.batch_id.as_deref())
        .bind(file.original_id.as_deref())
        .bind(file.dataset_key.as_deref())
        .bind(file.original_key.as_deref())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 1 {
            return Ok((id, true));
        }
        let existing: String = sqlx::query_scalar(
            "SELECT id FROM files WHERE owner_id = $1 AND user_id = $2 AND provider = $3 AND provider_file_id = $4",
        )
        .bind(owner_id)
        .bind(&file.user_id)
        .bind(&file.provider)
        .bind(&file.provider_file_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((existing, false))
    }

    /// One of the owner's files; [`Error::NotFound`] for unknown ids and other owners' files alike.
    pub async fn get_file(&self, owner_id: &str, id: &str) -> Result<StoredFile> {
        let sql = format!("SELECT {COLUMNS} FROM files WHERE id = $1 AND owner_id = $2");
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| file_from_row(&r))
            .transpose()?
            .ok_or(Error::NotFound("file"))
    }

    /// The files made from one original, oldest first.
    pub async fn original_files(
        &self,
        owner_id: &str,
        original_id: &str,
    ) -> Result<Vec<StoredFile>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM files WHERE owner_id = $1 AND original_id = $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(original_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(file_from_row).collect()
    }

    /// A page of the owner's files matching `filter`, oldest first, and the total count.
    pub async fn list_files(
        &self,
        owner_id: &str,
        filter: &FileFilter,
        page: Page,
    ) -> Result<(Vec<StoredFile>, i64)> {
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
            add("provider =", Bind::S(v.clone()));
        }
        if let Some(v) = filter.status {
            add("status =", Bind::S(v.as_str().to_owned()));
        }
        if let Some(v) = &filter.operation_type {
            add("operation_type =", Bind::S(v.clone()));
        }
        if let Some(v) = &filter.origin {
            add("origin =", Bind::S(v.clone()));
        }
        if let Some(v) = filter.start_time {
            add("start_time >=", Bind::I(v));
        }
        if let Some(v) = filter.end_time {
            add("end_time <=", Bind::I(v));
        }
        if let Some(v) = &filter.batch_id {
            add("batch_id =", Bind::S(v.clone()));
        }
        if let Some(v) = &filter.organization_id {
            add("organization_id =", Bind::S(v.clone()));
        }
        if let Some(v) = filter.created_time {
            add("created_at >=", Bind::I(v));
        }
        if let Some(v) = filter.updated_time {
            add("updated_at >=", Bind::I(v));
        }
        let order = match filter.sort {
            Some((col, desc)) if FILE_SORT_COLUMNS.contains(&col) => {
                format!("{col} {}, id", if desc { "DESC" } else { "ASC" })
            }
            _ => "created_at, id".to_owned(),
        };
        let count_sql = format!("SELECT COUNT(*) FROM files WHERE {conds}");
        let total = Bind::all_scalar(sqlx::query_scalar::<_, i64>(&count_sql), &binds)
            .fetch_one(&self.pool)
            .await?;
        let n = binds.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM files WHERE {conds} ORDER BY {order} LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = Bind::all(sqlx::query(&sql), &binds)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let files = rows.iter().map(file_from_row).collect::<Result<Vec<_>>>()?;
        Ok((files, total))
    }

    /// Applies `update` to one of the owner's files (step states are merged into the steps object).
    pub async fn update_file(
        &self,
        owner_id: &str,
        id: &str,
        update: &FileUpdate,
    ) -> Result<StoredFile> {
        let mut tx = self.begin_write().await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT steps FROM files WHERE id = $1 AND owner_id = $2")
                .bind(id)
                .bind(owner_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(current) = current else {
            return Err(Error::NotFound("file"));
        };
        let mut steps = match serde_json::from_str::<Value>(&current) {
            Ok(Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        for (k, v) in &update.steps {
            steps.insert(k.clone(), Value::String(v.clone()));
        }
        let mut sets = vec!["steps = $1".to_owned(), "updated_at = $2".to_owned()];
        let mut binds = vec![
            Bind::S(Value::Object(steps).to_string()),
            Bind::I(furrow_model::now_micros()),
        ];
        let mut set = |col: &str, b: Bind| {
            binds.push(b);
            sets.push(format!("{col} = ${}", binds.len()));
        };
        if let Some(s) = update.status {
            set("status", Bind::S(s.as_str().to_owned()));
            if s == FileStatus::Failed {
                // A failed file takes part in no operation.
                set("facts", Bind::N);
                set("field_ids", Bind::N);
            }
        }
        if let Some(m) = &update.message {
            set("message", m.clone().map_or(Bind::N, Bind::S));
        }
        let text = [
            ("original_key", &update.original_key),
            ("operation_type", &update.operation_type),
            ("standard_key", &update.standard_key),
        ];
        for (col, v) in text {
            if let Some(v) = v {
                set(col, Bind::S(v.clone()));
            }
        }
        for (col, v) in [
            ("size_bytes", update.size_bytes),
            ("start_time", update.start_time),
            ("end_time", update.end_time),
        ] {
            if let Some(v) = v {
                set(col, Bind::I(v));
            }
        }
        if let Some(v) = &update.summary {
            set("summary", Bind::S(v.to_string()));
        }
        if let Some(v) = &update.units {
            set("units", Bind::S(v.to_string()));
        }
        if let Some(v) = &update.counts {
            set("counts", Bind::S(v.to_string()));
        }
        let n = binds.len();
        let sql = format!(
            "UPDATE files SET {} WHERE id = ${} AND owner_id = ${}",
            sets.join(", "),
            n + 1,
            n + 2
        );
        Bind::all(sqlx::query(&sql), &binds)
            .bind(id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.get_file(owner_id, id).await
    }
}

pub(crate) fn json_col(row: &AnyRow, col: &str) -> Result<Option<Value>> {
    let text: Option<String> = row.try_get(col)?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

pub(crate) fn file_from_row(row: &AnyRow) -> Result<StoredFile> {
    let status: String = row.try_get("status")?;
    Ok(StoredFile {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        provider: row.try_get("provider")?,
        provider_file_id: row.try_get("provider_file_id")?,
        credential_id: row.try_get("credential_id")?,
        organization_id: row.try_get("organization_id")?,
        origin: row.try_get("origin")?,
        file_name: row.try_get("file_name")?,
        file_format: row.try_get("file_format")?,
        size_bytes: row.try_get("size_bytes")?,
        original_key: row.try_get("original_key")?,
        original_id: row.try_get("original_id")?,
        dataset_key: row.try_get("dataset_key")?,
        status: FileStatus::parse(&status).unwrap_or(FileStatus::Processing),
        steps: json_col(row, "steps")?.unwrap_or_else(|| Value::Object(Default::default())),
        message: row.try_get("message")?,
        operation_type: row.try_get("operation_type")?,
        start_time: row.try_get("start_time")?,
        end_time: row.try_get("end_time")?,
        summary: json_col(row, "summary")?,
        units: json_col(row, "units")?,
        standard_key: row.try_get("standard_key")?,
        counts: json_col(row, "counts")?,
        field_ids: json_col(row, "field_ids")?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        facts: json_col(row, "facts")?,
        grouped_at: row.try_get("grouped_at")?,
        outside_count: row.try_get("outside_count")?,
        batch_id: row.try_get("batch_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
