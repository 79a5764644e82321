//! Finding shapefile sets in a folder tree: each `.shp` with its sidecars.

use std::ffi::OsStr;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// One shapefile set: a `.shp` and the sidecars beside it with the same stem (any case).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct ShapefileSet {
    /// The `.shp` file.
    pub shp: PathBuf,
    /// The `.shx` index, if present (only used to check the record count).
    pub shx: Option<PathBuf>,
    /// The `.dbf` attribute table. A set without one cannot be opened ([`Error::MissingDbf`]).
    pub dbf: Option<PathBuf>,
    /// The `.prj` coordinate reference system, if present.
    pub prj: Option<PathBuf>,
    /// The `.cpg` code page, if present.
    pub cpg: Option<PathBuf>,
    /// John Deere's `<stem>-Deere-Metadata.json`, if present.
    pub deere_metadata: Option<PathBuf>,
}

fn ext_is(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl ShapefileSet {
    /// Every shapefile set under `dir`, recursively, sorted by path.
    ///
    /// Sidecars are matched by the `.shp`'s stem ignoring case; `.sbn`, `.sbx`, `.shp.xml` and
    /// any other file are ignored, as are macOS resource forks (`__MACOSX/`, `._*`). Symbolic
    /// links to folders are not followed. A `.shp` without a `.dbf` is listed (its
    /// [`open`](ShapefileSet::open) fails with [`Error::MissingDbf`]).
    pub fn discover(dir: &Path) -> Result<Vec<ShapefileSet>> {
        let mut sets = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            let mut files = Vec::new();
            for entry in fs::read_dir(&folder).map_err(io_err(&folder))? {
                let entry = entry.map_err(io_err(&folder))?;
                let path = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if name.starts_with("._") || name == "__MACOSX" {
                    continue;
                }
                let kind = entry.file_type().map_err(io_err(&path))?;
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                    files.push(path);
                }
            }
            for shp in files.iter().filter(|p| ext_is(p, "shp")) {
                sets.push(Self::with_siblings(shp, &files));
            }
        }
        sets.sort();
        Ok(sets)
    }

    /// The set of one `.shp`, with the sidecars found beside it.
    pub fn from_shp(shp: &Path) -> Result<ShapefileSet> {
        let folder = match shp.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(&folder).map_err(io_err(&folder))? {
            files.push(entry.map_err(io_err(&folder))?.path());
        }
        Ok(Self::with_siblings(shp, &files))
    }

    fn with_siblings(shp: &Path, files: &[PathBuf]) -> ShapefileSet {
        let stem = shp
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let sibling = |suffix: &str| -> Option<PathBuf> {
            let wanted = format!("{stem}{suffix}");
            let mut found: Vec<&PathBuf> = files
                .iter()
                .filter(|p| {
                    p.file_name()
                        .map(|n| n.to_string_lossy())
                        .is_some_and(|n| n.eq_ignore_ascii_case(&wanted))
                })
                .collect();
            // Two files differing only in case: take the exact match, else the first by name.
            found.sort();
            found
                .iter()
                .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == wanted))
                .or(found.first())
                .map(|p| (*p).clone())
        };
        ShapefileSet {
            shp: shp.to_path_buf(),
            shx: sibling(".shx"),
            dbf: sibling(".dbf"),
            prj: sibling(".prj"),
            cpg: sibling(".cpg"),
            deere_metadata: sibling("-Deere-Metadata.json"),
        }
    }

    /// The set's name: the `.shp` file stem.
    pub fn name(&self) -> String {
        self.shp
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    }

    /// Cheap detection: does `path` start like a `.shp` (file code 9994, version 1000)?
    ///
    /// Reads 32 bytes; false on any error.
    pub fn sniff(path: &Path) -> bool {
        let Ok(file) = fs::File::open(path) else {
            return false;
        };
        let mut b = Vec::with_capacity(32);
        if file.take(32).read_to_end(&mut b).is_err() || b.len() < 32 {
            return false;
        }
        i32::from_be_bytes([b[0], b[1], b[2], b[3]]) == 9994
            && i32::from_le_bytes([b[28], b[29], b[30], b[31]]) == 1000
    }
}
