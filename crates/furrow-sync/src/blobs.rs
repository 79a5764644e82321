//! A local-folder blob store: `<root>/<owner>/<file>/<name>`. Every blob is written under a temporary name and
//! renamed into place, so a crash never leaves a partial blob under its final name.

use std::path::{Path, PathBuf};

use furrow_provider::ByteStream;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

/// Blobs of machine files under one folder.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// What can go wrong storing a blob.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// A name that is not a plain path segment.
    #[error("invalid blob path segment {0:?}")]
    BadName(String),
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What.
        source: std::io::Error,
    },
    /// The download failed.
    #[error("download: {0}")]
    Download(#[from] furrow_provider::Error),
}

fn safe(segment: &str) -> Result<&str, BlobError> {
    let ok = !segment.is_empty()
        && !segment.starts_with('.')
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(segment)
    } else {
        Err(BlobError::BadName(segment.to_owned()))
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl BlobStore {
    /// A store under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder of one file's blobs.
    pub fn dir(&self, owner_id: &str, file_id: &str) -> Result<PathBuf, BlobError> {
        Ok(self.root.join(safe(owner_id)?).join(safe(file_id)?))
    }

    /// The final path of a blob.
    pub fn path(&self, owner_id: &str, file_id: &str, name: &str) -> Result<PathBuf, BlobError> {
        Ok(self.dir(owner_id, file_id)?.join(safe(name)?))
    }

    /// A fresh temporary folder inside the file's folder (for converters that write several files).
    pub async fn scratch(&self, owner_id: &str, file_id: &str) -> Result<PathBuf, BlobError> {
        let dir = self
            .dir(owner_id, file_id)?
            .join(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
        Ok(dir)
    }

    /// Moves `from` (e.g. a file in a [`scratch`](Self::scratch) folder) to its final name.
    pub async fn publish(
        &self,
        from: &Path,
        owner_id: &str,
        file_id: &str,
        name: &str,
    ) -> Result<PathBuf, BlobError> {
        let to = self.path(owner_id, file_id, name)?;
        tokio::fs::rename(from, &to).await.map_err(io(&to))?;
        Ok(to)
    }

    /// Writes `bytes` as a blob; returns its path.
    pub async fn put(
        &self,
        owner_id: &str,
        file_id: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, BlobError> {
        let chunk: ByteStream = Box::pin(futures_util::stream::once(std::future::ready(Ok(
            bytes::Bytes::copy_from_slice(bytes),
        ))));
        self.put_stream(owner_id, file_id, name, chunk)
            .await
            .map(|(p, _)| p)
    }

    /// Writes a stream as a blob; returns its path and size. Nothing appears under the final name unless the
    /// whole stream arrived.
    pub async fn put_stream(
        &self,
        owner_id: &str,
        file_id: &str,
        name: &str,
        mut stream: ByteStream,
    ) -> Result<(PathBuf, u64), BlobError> {
        let dir = self.dir(owner_id, file_id)?;
        let to = dir.join(safe(name)?);
        tokio::fs::create_dir_all(&dir).await.map_err(io(&dir))?;
        let tmp = dir.join(format!(".{name}.tmp-{}", uuid::Uuid::new_v4().simple()));
        let result = async {
            let mut out = tokio::fs::File::create(&tmp).await.map_err(io(&tmp))?;
            let mut size = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                out.write_all(&chunk).await.map_err(io(&tmp))?;
            }
            out.sync_all().await.map_err(io(&tmp))?;
            drop(out);
            tokio::fs::rename(&tmp, &to).await.map_err(io(&to))?;
            Ok(size)
        }
        .await;
        match result {
            Ok(size) => Ok((to, size)),
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_land_whole_or_not_at_all() {
        let root = std::env::temp_dir().join(format!("furrow-blobs-{}", uuid::Uuid::new_v4()));
        let blobs = BlobStore::new(&root);
        let p = blobs.put("o1", "f1", "original", b"hello").await.unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert_eq!(p, root.join("o1").join("f1").join("original"));
        let failing: ByteStream = Box::pin(futures_util::stream::iter(vec![
            Ok(bytes::Bytes::from_static(b"part")),
            Err(furrow_provider::Error::Unavailable {
                provider: "test",
                message: "cut".into(),
            }),
        ]));
        assert!(
            blobs
                .put_stream("o1", "f1", "broken", failing)
                .await
                .is_err()
        );
        let left: Vec<_> = std::fs::read_dir(root.join("o1").join("f1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["original".to_owned()]);
        assert!(matches!(
            blobs.path("../x", "f", "n"),
            Err(BlobError::BadName(_))
        ));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
