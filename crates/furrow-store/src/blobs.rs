//! Blobs by key: the bytes of machine files and their outputs, over `object_store` (a local folder by default;
//! `s3://`, `gs://`, `az://` URLs by configuration). Rows keep keys, never paths, so any node of a cluster reads
//! what another wrote. A blob appears under its key whole or not at all: streams go through multipart uploads,
//! which only publish on completion.
//!
//! Work that needs a file on disk (the converters read zips and Parquet with seeks) asks for a *local copy*
//! ([`Blobs::local_copy`]): the blob's own file on a local store, a download into the scratch folder otherwise.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

/// Parts of a multipart upload (S3 needs at least 5 MiB a part but the last).
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploading at once.
const PART_CONCURRENCY: usize = 4;

/// What can go wrong with blobs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The key is not a plain relative path of safe segments.
    #[error("invalid blob key {0:?}")]
    BadKey(String),
    /// No blob under this key.
    #[error("blob {0} not found")]
    NotFound(String),
    /// The object store failed (network, permissions, disk).
    #[error("blob store: {0}")]
    Store(String),
    /// The local scratch folder failed.
    #[error("scratch {path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// The stream being stored failed (a download cut short, a client gone).
    #[error("{0}")]
    Source(String),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => BlobError::NotFound(path),
            e => BlobError::Store(e.to_string()),
        }
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Key of an original machine file (a provider file or an upload). Every key of a user's data starts with
/// [`user_prefix`], so deleting a user's blobs is one prefix.
pub fn original_key(owner_id: &str, user_id: &str, original_id: &str) -> String {
    format!("{owner_id}/{user_id}/originals/{original_id}/original")
}

/// Key of one of a file's outputs (`standard.parquet`, …).
pub fn file_key(owner_id: &str, user_id: &str, file_id: &str, name: &str) -> String {
    format!("{owner_id}/{user_id}/files/{file_id}/{name}")
}

/// Key of one of an operation's outputs (its images and their manifest).
pub fn operation_key(owner_id: &str, user_id: &str, operation_id: &str, name: &str) -> String {
    format!("{owner_id}/{user_id}/operations/{operation_id}/{name}")
}

/// The prefix of every blob of a user's data.
pub fn user_prefix(owner_id: &str, user_id: &str) -> String {
    format!("{owner_id}/{user_id}/")
}

fn object_path(key: &str) -> Result<ObjectPath, BlobError> {
    let ok = !key.is_empty()
        && key.split('/').all(|s| {
            !s.is_empty()
                && !s.starts_with('.')
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if !ok {
        return Err(BlobError::BadKey(key.to_owned()));
    }
    ObjectPath::parse(key).map_err(|_| BlobError::BadKey(key.to_owned()))
}

/// A local file holding a blob's bytes: the blob itself on a local store, or a scratch copy removed on drop.
#[derive(Debug)]
pub struct LocalCopy {
    path: PathBuf,
    temporary: bool,
}

impl LocalCopy {
    /// Where the bytes are.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalCopy {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
            live(&self.path, false);
        }
    }
}

/// Scratch paths in use by this process (the sweeper never touches them, however old).
static LIVE: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<PathBuf>>> =
    std::sync::LazyLock::new(Default::default);

fn live(path: &Path, on: bool) {
    let mut set = LIVE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if on {
        set.insert(path.to_path_buf());
    } else {
        set.remove(path);
    }
}

fn is_live(path: &Path) -> bool {
    LIVE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .contains(path)
}

/// What a sweep removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Leftover scratch folders and files (work of a process that stopped mid-way).
    pub scratch: usize,
    /// Leftover staging files of uploads that never completed, in a local blob folder.
    pub staging: usize,
}

/// A scratch folder for one piece of work, removed (with everything in it) on drop.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
        live(&self.path, false);
    }
}

/// The blob store: an object store plus a local scratch folder for work on files.
#[derive(Debug, Clone)]
pub struct Blobs {
    inner: Arc<dyn ObjectStore>,
    /// The root folder when the store is a local folder (blobs can be read in place).
    local_root: Option<PathBuf>,
    scratch: PathBuf,
    label: String,
}

impl Blobs {
    /// Blobs in a local folder (created when missing); scratch work in `scratch`.
    pub fn local(root: impl Into<PathBuf>, scratch: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(io(&root))?;
        let root = std::fs::canonicalize(&root).map_err(io(&root))?;
        let fs = LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true);
        Ok(Self {
            inner: Arc::new(fs),
            label: root.display().to_string(),
            local_root: Some(root),
            scratch: scratch.into(),
        })
    }

    /// Blobs at a URL: a folder path or `file://` URL (local), `s3://bucket/prefix`, `gs://bucket/prefix`,
    /// `az://container/prefix` or `memory://`. `options` configure the cloud stores (`aws_access_key_id`,
    /// `aws_endpoint`, `aws_region`, `aws_allow_http`, `google_service_account`, `azure_storage_account_name`, …;
    /// see the `object_store` builders); the binaries read them from the environment.
    pub fn open(
        url: &str,
        options: impl IntoIterator<Item = (String, String)>,
        scratch: impl Into<PathBuf>,
    ) -> Result<Self, BlobError> {
        let scratch = scratch.into();
        if !url.contains("://") {
            return Self::local(url, scratch);
        }
        let parsed = url::Url::parse(url).map_err(|e| BlobError::Store(format!("{url}: {e}")))?;
        if parsed.scheme() == "file" {
            let path = parsed
                .to_file_path()
                .map_err(|_| BlobError::Store(format!("{url}: not a local path")))?;
            return Self::local(path, scratch);
        }
        let (store, prefix) = object_store::parse_url_opts(&parsed, options)?;
        let inner: Arc<dyn ObjectStore> = if prefix.as_ref().is_empty() {
            Arc::from(store)
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        };
        Ok(Self {
            inner,
            local_root: None,
            scratch,
            label: url.to_owned(),
        })
    }

    /// Where the blobs are (a folder or a URL), for logs.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Whether blobs live in a local folder.
    pub fn is_local(&self) -> bool {
        self.local_root.is_some()
    }

    /// A fresh scratch folder, removed when the returned guard drops.
    pub fn scratch(&self) -> Result<Scratch, BlobError> {
        let path = self
            .scratch
            .join(format!("work-{}", uuid::Uuid::new_v4().simple()));
        live(&path, true);
        if let Err(e) = std::fs::create_dir_all(&path) {
            live(&path, false);
            return Err(io(&path)(e));
        }
        Ok(Scratch { path })
    }

    /// The scratch root (the sweeper removes leftovers in it).
    pub fn scratch_root(&self) -> &Path {
        &self.scratch
    }

    /// Removes what work cut short left behind, when it is older than `older_than` (by modification time):
    /// entries of the scratch folder this process is not using (a killed process's unpacked zips and
    /// conversions), and in a local blob folder the staging files of uploads that never completed
    /// (`object_store` writes `<key>#<n>` and renames it on completion). Blocking (walks folders): run it off
    /// the async threads. Object stores keep incomplete multipart uploads out of sight; expire them with the
    /// bucket's lifecycle rule (docs/OPERATIONS.md).
    pub fn sweep(&self, older_than: std::time::Duration) -> Sweep {
        let cutoff = std::time::SystemTime::now()
            .checked_sub(older_than)
            .unwrap_or(std::time::UNIX_EPOCH);
        let old = |p: &Path| {
            std::fs::symlink_metadata(p)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < cutoff)
        };
        let mut out = Sweep::default();
        if let Ok(entries) = std::fs::read_dir(&self.scratch) {
            for e in entries.flatten() {
                let p = e.path();
                if is_live(&p) || !old(&p) {
                    continue;
                }
                let removed = if e.file_type().is_ok_and(|t| t.is_dir()) {
                    std::fs::remove_dir_all(&p)
                } else {
                    std::fs::remove_file(&p)
                };
                if removed.is_ok() {
                    out.scratch += 1;
                }
            }
        }
        if let Some(root) = &self.local_root {
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in entries.flatten() {
                    let p = e.path();
                    match e.file_type() {
                        Ok(t) if t.is_dir() => stack.push(p),
                        Ok(t) if t.is_file() => {
                            let staging = e.file_name().to_string_lossy().contains('#');
                            if staging && old(&p) && std::fs::remove_file(&p).is_ok() {
                                out.staging += 1;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Stores a stream under `key`; returns its size. Nothing is visible under the key unless the whole
    /// stream arrived.
    pub async fn put_stream<E: std::fmt::Display>(
        &self,
        key: &str,
        mut stream: BoxStream<'_, Result<Bytes, E>>,
    ) -> Result<u64, BlobError> {
        let path = object_path(key)?;
        let upload = self.inner.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut size = 0u64;
        loop {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    size += chunk.len() as u64;
                    if let Err(e) = writer.wait_for_capacity(PART_CONCURRENCY).await {
                        let _ = writer.abort().await;
                        return Err(e.into());
                    }
                    writer.put(chunk);
                }
                Some(Err(e)) => {
                    let _ = writer.abort().await;
                    return Err(BlobError::Source(e.to_string()));
                }
                None => break,
            }
        }
        writer.finish().await?;
        Ok(size)
    }

    /// Stores bytes under `key`.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.inner.put(&object_path(key)?, bytes.into()).await?;
        Ok(())
    }

    /// Stores a local file under `key` (moved into place on a local store when it can be; uploaded in parts
    /// otherwise). Returns its size.
    pub async fn put_file(&self, key: &str, from: &Path) -> Result<u64, BlobError> {
        let path = object_path(key)?;
        let size = tokio::fs::metadata(from).await.map_err(io(from))?.len();
        if let Some(root) = &self.local_root {
            let to = root.join(key);
            if let Some(dir) = to.parent() {
                tokio::fs::create_dir_all(dir).await.map_err(io(dir))?;
            }
            if tokio::fs::rename(from, &to).await.is_ok() {
                return Ok(size);
            }
        }
        let mut file = tokio::fs::File::open(from).await.map_err(io(from))?;
        let upload = self.inner.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; 1024 * 1024];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(io(from)(e));
                }
            };
            if n == 0 {
                break;
            }
            if let Err(e) = writer.wait_for_capacity(PART_CONCURRENCY).await {
                let _ = writer.abort().await;
                return Err(e.into());
            }
            writer.write(&buf[..n]);
        }
        writer.finish().await?;
        Ok(size)
    }

    /// The bytes under `key`, streamed.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let got = self.inner.get(&object_path(key)?).await?;
        Ok(got.into_stream().map_err(BlobError::from).boxed())
    }

    /// All bytes under `key` (for small blobs only).
    pub async fn get_bytes(&self, key: &str) -> Result<Bytes, BlobError> {
        Ok(self.inner.get(&object_path(key)?).await?.bytes().await?)
    }

    /// Size of the blob under `key`, or `None` when there is none.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match self.inner.head(&object_path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A local file with the blob's bytes: the blob itself on a local store, else a scratch download (removed
    /// when the copy drops).
    pub async fn local_copy(&self, key: &str) -> Result<LocalCopy, BlobError> {
        let path = object_path(key)?;
        if let Some(root) = &self.local_root {
            let p = root.join(key);
            return match tokio::fs::metadata(&p).await {
                Ok(_) => Ok(LocalCopy {
                    path: p,
                    temporary: false,
                }),
                Err(_) => Err(BlobError::NotFound(key.to_owned())),
            };
        }
        tokio::fs::create_dir_all(&self.scratch)
            .await
            .map_err(io(&self.scratch))?;
        let to = self
            .scratch
            .join(format!("copy-{}", uuid::Uuid::new_v4().simple()));
        live(&to, true);
        let copy = LocalCopy {
            path: to.clone(),
            temporary: true,
        };
        let mut stream = self.inner.get(&path).await?.into_stream();
        let mut out = tokio::fs::File::create(&to).await.map_err(io(&to))?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            tokio::io::AsyncWriteExt::write_all(&mut out, &chunk)
                .await
                .map_err(io(&to))?;
        }
        tokio::io::AsyncWriteExt::flush(&mut out)
            .await
            .map_err(io(&to))?;
        Ok(copy)
    }

    /// Deletes the blob under `key` (no error when there is none).
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.inner.delete(&object_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes every blob whose key starts with `prefix` (a folder-like prefix ending in `/`); returns how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, BlobError> {
        let trimmed = prefix.trim_end_matches('/');
        let path = object_path(trimmed)?;
        let locations = self
            .inner
            .list(Some(&path))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut deleted = 0u64;
        let mut results = self.inner.delete_stream(locations);
        while let Some(r) = results.next().await {
            match r {
                Ok(_) => deleted += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(deleted)
    }

    /// Replaces a set of blobs under `base`: stores each `(name, bytes)` at `base/name` in order (the last
    /// one, a manifest, last), then deletes every other blob under `base/{folder}/` for `folders`. A reader
    /// that goes by the manifest never sees a missing object; one that lists the folders sees only the set.
    pub async fn replace_set(
        &self,
        base: &str,
        objects: Vec<(String, Vec<u8>)>,
        folders: &[&str],
    ) -> Result<(), BlobError> {
        let base = base.trim_end_matches('/');
        let mut keep = std::collections::HashSet::new();
        for (name, bytes) in objects {
            let key = format!("{base}/{name}");
            self.put_bytes(&key, Bytes::from(bytes)).await?;
            keep.insert(key);
        }
        for folder in folders {
            for key in self.list(&format!("{base}/{folder}/")).await? {
                if !keep.contains(&key) {
                    self.delete(&key).await?;
                }
            }
        }
        Ok(())
    }

    /// Keys under `prefix` (for the sweeper and tests).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let trimmed = prefix.trim_end_matches('/');
        let path = if trimmed.is_empty() {
            None
        } else {
            Some(object_path(trimmed)?)
        };
        let metas: Vec<_> = self.inner.list(path.as_ref()).try_collect().await?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }
}

/// What [`Blobs::sweep_orphans`] found and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrphanSweep {
    /// Blobs old enough to be looked at.
    pub checked: usize,
    /// Blobs whose original, file or operation row is gone, removed.
    pub removed: usize,
    /// Blobs under keys this version does not write, left alone.
    pub unknown: usize,
}

/// The row a blob key belongs to: `(owner, table, id)`, or `None` for a key this version does not write.
///
/// Keys: `{owner}/{user}/originals/{id}/…`, `{owner}/{user}/files/{id}/…`, `{owner}/{user}/operations/{id}/…`
/// and an upload's `{owner}/uploads/{original id}/original`.
fn row_of(key: &str) -> Option<(&str, &'static str, &str)> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        [owner, "uploads", id, "original"] => Some((owner, "originals", id)),
        [owner, _user, kind, id, _, ..] => {
            let table = match *kind {
                "originals" => "originals",
                "files" => "files",
                "operations" => "operations",
                _ => return None,
            };
            Some((owner, table, id))
        }
        _ => None,
    }
}

impl Blobs {
    /// Keys older than `older_than` (by last modification), with every key under `prefix`.
    pub async fn list_older(
        &self,
        prefix: &str,
        older_than: std::time::Duration,
    ) -> Result<Vec<String>, BlobError> {
        let trimmed = prefix.trim_end_matches('/');
        let path = if trimmed.is_empty() {
            None
        } else {
            Some(object_path(trimmed)?)
        };
        let cutoff = furrow_model::now_micros()
            .saturating_sub(i64::try_from(older_than.as_micros()).unwrap_or(i64::MAX));
        let metas: Vec<_> = self.inner.list(path.as_ref()).try_collect().await?;
        Ok(metas
            .into_iter()
            .filter(|m| m.last_modified.timestamp_micros() < cutoff)
            .map(|m| m.location.to_string())
            .collect())
    }

    /// Removes blobs whose row (original, file or operation) no longer exists and that are older than
    /// `older_than`: what a crash between deleting rows and deleting their blobs, or between storing an upload
    /// and registering it, left behind. A blob younger than `older_than` may belong to work whose row is not
    /// committed yet, so it is left for a later sweep; keys of another layout are never touched.
    pub async fn sweep_orphans(
        &self,
        store: &crate::Store,
        older_than: std::time::Duration,
    ) -> crate::Result<OrphanSweep> {
        let keys = self.list_older("", older_than).await?;
        let mut out = OrphanSweep {
            checked: keys.len(),
            ..OrphanSweep::default()
        };
        // (owner, table) -> id -> keys
        let mut groups: std::collections::BTreeMap<
            (String, &'static str),
            std::collections::BTreeMap<String, Vec<String>>,
        > = std::collections::BTreeMap::new();
        for key in keys {
            match row_of(&key) {
                Some((owner, table, id)) => {
                    let (owner, id) = (owner.to_owned(), id.to_owned());
                    groups
                        .entry((owner, table))
                        .or_default()
                        .entry(id)
                        .or_default()
                        .push(key);
                }
                None => out.unknown += 1,
            }
        }
        for ((owner, table), ids) in groups {
            let wanted: Vec<String> = ids.keys().cloned().collect();
            let existing = store.existing_ids(table, &owner, &wanted).await?;
            for (id, keys) in ids {
                if existing.contains(&id) {
                    continue;
                }
                for key in keys {
                    match self.delete(&key).await {
                        Ok(()) => out.removed += 1,
                        Err(e) => tracing::warn!(%key, "could not remove an orphaned blob: {e}"),
                    }
                }
            }
        }
        Ok(out)
    }
}

impl crate::Store {
    /// Of `ids`, those with a row in `table` (`originals`, `files` or `operations`) under `owner_id`.
    pub(crate) async fn existing_ids(
        &self,
        table: &'static str,
        owner_id: &str,
        ids: &[String],
    ) -> crate::Result<std::collections::HashSet<String>> {
        debug_assert!(matches!(table, "originals" | "files" | "operations"));
        let mut out = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT id FROM {table} WHERE owner_id = $1 AND id IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(owner_id);
            for id in chunk {
                q = q.bind(id);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod orphan_tests {
    use super::row_of;

    #[test]
    fn keys_name_their_rows_and_other_layouts_are_unknown() {
        assert_eq!(
            row_of("o1/u1/originals/a/original"),
            Some(("o1", "originals", "a"))
        );
        assert_eq!(
            row_of("o1/u1/files/f/standard.parquet"),
            Some(("o1", "files", "f"))
        );
        assert_eq!(
            row_of("o1/u1/files/f/images/yield.png"),
            Some(("o1", "files", "f"))
        );
        assert_eq!(
            row_of("o1/u1/operations/p/images.json"),
            Some(("o1", "operations", "p"))
        );
        assert_eq!(
            row_of("o1/uploads/a/original"),
            Some(("o1", "originals", "a"))
        );
        assert_eq!(row_of("o1/u1/fields/x/y"), None);
        assert_eq!(row_of("o1/u1/files/f"), None);
        assert_eq!(row_of("stray"), None);
    }
}
