//! Where a data set's files live: a folder, a zip file on disk or zip bytes in memory.
//!
//! One case-insensitive map per data set resolves file names; zip entries are read straight from the
//! archive (stored or deflated) so a time log streams without unpacking the archive.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result, Warning, WarningKind};

/// Most entries listed in one folder tree or archive.
const MAX_ENTRIES: usize = 200_000;
/// Deepest folder walked.
const MAX_DIR_DEPTH: usize = 16;

/// The bytes behind a zip archive.
#[derive(Debug)]
pub(crate) enum ZipSource {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Stored,
    Deflated,
    Unsupported,
}

#[derive(Debug, Clone)]
enum Loc {
    Path(PathBuf),
    Zip {
        source: Arc<ZipSource>,
        data_start: u64,
        compressed_size: u64,
        method: Method,
    },
}

/// One file of a data set.
#[derive(Debug, Clone)]
pub(crate) struct FileRef {
    /// Full name inside the folder or archive.
    pub(crate) path: String,
    /// Uncompressed size as listed.
    pub(crate) size: u64,
    loc: Loc,
}

impl FileRef {
    /// Base name (after the last `/`).
    pub(crate) fn name(&self) -> &str {
        base_name(&self.path)
    }

    /// Opens the file as a stream.
    pub(crate) fn open(&self) -> Result<Box<dyn Read + Send>> {
        let io_err = |source| Error::Read {
            file: self.name().to_owned(),
            offset: 0,
            source,
        };
        match &self.loc {
            Loc::Path(path) => Ok(Box::new(File::open(path).map_err(io_err)?)),
            Loc::Zip {
                source,
                data_start,
                compressed_size,
                method,
            } => {
                // In-memory archives inflate straight from the bytes (no copy through a read buffer).
                if let (ZipSource::Bytes(bytes), Method::Deflated) = (&**source, method) {
                    let mut c = Cursor::new(bytes.clone());
                    c.set_position(*data_start);
                    return Ok(Box::new(flate2::bufread::DeflateDecoder::new(
                        c.take(*compressed_size),
                    )));
                }
                let raw: Box<dyn Read + Send> = match &**source {
                    ZipSource::Path(path) => {
                        let mut f = File::open(path).map_err(io_err)?;
                        f.seek(SeekFrom::Start(*data_start)).map_err(io_err)?;
                        Box::new(f.take(*compressed_size))
                    }
                    ZipSource::Bytes(bytes) => {
                        let mut c = Cursor::new(bytes.clone());
                        c.set_position(*data_start);
                        Box::new(c.take(*compressed_size))
                    }
                };
                match method {
                    Method::Stored => Ok(raw),
                    Method::Deflated => Ok(Box::new(flate2::read::DeflateDecoder::new(raw))),
                    Method::Unsupported => Err(io_err(io::Error::new(
                        io::ErrorKind::Unsupported,
                        "zip compression method is not supported (only stored and deflated)",
                    ))),
                }
            }
        }
    }

    /// Reads the whole file, refusing more than `limit` bytes.
    pub(crate) fn read_all(&self, limit: u64) -> Result<Vec<u8>> {
        if self.size > limit {
            return Err(Error::TooLarge {
                file: self.name().to_owned(),
                size: self.size,
                limit,
            });
        }
        let reader = self.open()?;
        // Cap the initial allocation: the listed size may lie.
        let mut buf = Vec::with_capacity(usize::try_from(self.size.min(1 << 24)).unwrap_or(0));
        let read = reader
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|source| Error::Read {
                file: self.name().to_owned(),
                offset: buf.len() as u64,
                source,
            })?;
        if read as u64 > limit {
            return Err(Error::TooLarge {
                file: self.name().to_owned(),
                size: read as u64,
                limit,
            });
        }
        Ok(buf)
    }
}

/// The files of one data set (the folder holding one `TASKDATA.XML`).
#[derive(Debug)]
pub(crate) struct DataSetFiles {
    /// Where the data set is, for messages: `archive.zip!folder/` or a folder path.
    pub(crate) label: String,
    pub(crate) taskdata: FileRef,
    by_name: HashMap<String, Vec<FileRef>>,
    pub(crate) warnings: Vec<Warning>,
}

impl DataSetFiles {
    fn new(label: String, taskdata: FileRef, files: Vec<FileRef>) -> Self {
        let mut by_name: HashMap<String, Vec<FileRef>> = HashMap::new();
        for f in files {
            by_name
                .entry(f.name().to_ascii_uppercase())
                .or_default()
                .push(f);
        }
        let mut warnings = Vec::new();
        let mut dups: Vec<_> = by_name.iter().filter(|(_, v)| v.len() > 1).collect();
        dups.sort_by(|a, b| a.0.cmp(b.0));
        for (name, v) in dups {
            warnings.push(
                Warning::new(
                    WarningKind::Ambiguous,
                    format!(
                        "{} files named {name} (ignoring case); using `{}`",
                        v.len(),
                        v[0].path
                    ),
                )
                .file(name.clone()),
            );
        }
        DataSetFiles {
            label,
            taskdata,
            by_name,
            warnings,
        }
    }

    /// Every file of the data set, `TASKDATA.XML` included.
    pub(crate) fn all_files(&self) -> impl Iterator<Item = &FileRef> {
        let listed = self.by_name.values().flatten();
        let main_listed = listed.clone().any(|f| f.path == self.taskdata.path);
        std::iter::once(&self.taskdata)
            .filter(move |_| !main_listed)
            .chain(listed)
    }

    /// Finds a file by name, ignoring case.
    pub(crate) fn find(&self, name: &str) -> Option<&FileRef> {
        self.by_name
            .get(&name.to_ascii_uppercase())
            .and_then(|v| v.first())
    }

    /// Finds `CODEnnnnn.EXT`, accepting another number of digits for the same number
    /// (`TLG0001.BIN` for `TLG00001`).
    pub(crate) fn find_numbered(&self, stem: &str, ext: &str) -> Option<&FileRef> {
        if let Some(f) = self.find(&format!("{stem}.{ext}")) {
            return Some(f);
        }
        let (code, number) = split_numbered(stem)?;
        let ext = ext.to_ascii_uppercase();
        let mut candidates: Vec<&FileRef> = self
            .by_name
            .iter()
            .filter_map(|(k, v)| {
                let (s, e) = k.rsplit_once('.')?;
                let (c, n) = split_numbered(s)?;
                (e == ext && c.eq_ignore_ascii_case(code) && n == number).then(|| v.first())?
            })
            .collect();
        candidates.sort_by(|a, b| a.path.cmp(&b.path));
        candidates.first().copied()
    }
}

fn split_numbered(stem: &str) -> Option<(&str, u64)> {
    let digits_at = stem.find(|c: char| c.is_ascii_digit())?;
    let (code, digits) = stem.split_at(digits_at);
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((code, digits.parse().ok()?))
}

pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

fn parent_dir(path: &str) -> &str {
    match path.rfind(['/', '\\']) {
        Some(i) => &path[..=i],
        None => "",
    }
}

/// Resource forks and macOS metadata folders are never data.
fn is_junk(path: &str) -> bool {
    path.split(['/', '\\']).any(|part| {
        part.eq_ignore_ascii_case("__MACOSX")
            || part.eq_ignore_ascii_case("_MACOSX")
            || part.starts_with("._")
    })
}

fn is_taskdata(path: &str) -> bool {
    base_name(path).eq_ignore_ascii_case("TASKDATA.XML") && !is_junk(path)
}

/// Orders data sets: those in a folder named `TASKDATA` first, then shallow before deep, then by name.
fn sort_key(path: &str) -> (bool, usize, String) {
    let dir = parent_dir(path).trim_end_matches(['/', '\\']);
    let in_taskdata = base_name(dir).eq_ignore_ascii_case("TASKDATA");
    (
        !in_taskdata,
        path.matches(['/', '\\']).count(),
        path.to_owned(),
    )
}

/// Lists the data sets of a folder tree.
pub(crate) fn discover_dir(root: &Path) -> Result<Vec<DataSetFiles>> {
    let mut files: Vec<FileRef> = Vec::new();
    walk(root, root, 0, &mut files)?;
    Ok(group(files, &root.display().to_string()))
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<FileRef>) -> Result<()> {
    let io_err = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if out.len() >= MAX_ENTRIES {
            break;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() {
            if depth < MAX_DIR_DEPTH {
                // An unreadable sub-folder is not the data set's problem.
                let _ = walk(root, &path, depth + 1, out);
            }
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            out.push(FileRef {
                path: rel,
                size,
                loc: Loc::Path(path),
            });
        }
    }
    Ok(())
}

/// A single XML file given as the data set's TASKDATA, with the files of its folder.
pub(crate) fn single_xml(path: &Path) -> Result<Vec<DataSetFiles>> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let meta = std::fs::metadata(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let taskdata = FileRef {
        path: name,
        size: meta.len(),
        loc: Loc::Path(path.to_path_buf()),
    };
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for entry in rd.flatten() {
            let p = entry.path();
            if p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("._"))
            {
                files.push(FileRef {
                    path: entry.file_name().to_string_lossy().into_owned(),
                    size: entry.metadata().map(|m| m.len()).unwrap_or(0),
                    loc: Loc::Path(p),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(vec![DataSetFiles::new(
        path.display().to_string(),
        taskdata,
        files,
    )])
}

/// Lists the data sets of a zip archive.
pub(crate) fn discover_zip(source: ZipSource, label: &str) -> Result<Vec<DataSetFiles>> {
    let zip_err = |source| Error::Zip {
        path: PathBuf::from(label),
        source,
    };
    let source = Arc::new(source);
    let files = match &*source {
        ZipSource::Path(path) => {
            let f = File::open(path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
            list_zip(
                zip::ZipArchive::new(io::BufReader::new(f)).map_err(zip_err)?,
                &source,
            )
        }
        ZipSource::Bytes(bytes) => list_zip(
            zip::ZipArchive::new(Cursor::new(bytes.clone())).map_err(zip_err)?,
            &source,
        ),
    };
    Ok(group(files, label))
}

fn list_zip<R: Read + Seek>(
    mut archive: zip::ZipArchive<R>,
    source: &Arc<ZipSource>,
) -> Vec<FileRef> {
    let mut files = Vec::new();
    for i in 0..archive.len().min(MAX_ENTRIES) {
        // An unreadable entry is skipped; the data set reports the files it misses.
        let Ok(entry) = archive.by_index_raw(i) else {
            continue;
        };
        if entry.is_dir() {
            continue;
        }
        let method = match entry.compression() {
            zip::CompressionMethod::Stored => Method::Stored,
            zip::CompressionMethod::Deflated => Method::Deflated,
            _ => Method::Unsupported,
        };
        files.push(FileRef {
            path: entry.name().replace('\\', "/"),
            size: entry.size(),
            loc: Loc::Zip {
                source: source.clone(),
                data_start: entry.data_start(),
                compressed_size: entry.compressed_size(),
                method,
            },
        });
    }
    files
}

fn group(files: Vec<FileRef>, label: &str) -> Vec<DataSetFiles> {
    let mut roots: Vec<&FileRef> = files.iter().filter(|f| is_taskdata(&f.path)).collect();
    roots.sort_by_key(|f| sort_key(&f.path));
    roots
        .iter()
        .map(|root| {
            let dir = parent_dir(&root.path);
            let members: Vec<FileRef> = files
                .iter()
                .filter(|f| parent_dir(&f.path) == dir && !is_junk(&f.path))
                .cloned()
                .collect();
            let set_label = if dir.is_empty() {
                label.to_owned()
            } else {
                format!("{label}!{dir}")
            };
            DataSetFiles::new(set_label, (*root).clone(), members)
        })
        .collect()
}

/// Whether bytes look like a zip archive (a local header at the start, or an end record near the end,
/// which also finds archives behind prepended junk).
pub(crate) fn looks_like_zip(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return true;
    }
    let tail_start = bytes.len().saturating_sub(65_557);
    bytes
        .get(tail_start..)
        .is_some_and(|tail| tail.windows(4).any(|w| w == b"PK\x05\x06"))
}

/// Builds a one-file data set from XML bytes (no other files).
pub(crate) fn xml_bytes(bytes: Arc<[u8]>) -> DataSetFiles {
    let size = bytes.len() as u64;
    let source = Arc::new(ZipSource::Bytes(bytes));
    let taskdata = FileRef {
        path: "TASKDATA.XML".to_owned(),
        size,
        loc: Loc::Zip {
            source,
            data_start: 0,
            compressed_size: size,
            method: Method::Stored,
        },
    };
    DataSetFiles::new("<bytes>".to_owned(), taskdata.clone(), vec![taskdata])
}

#[cfg(test)]
mod tests;
