//! What an original holds: its datasets and their formats.
//!
//! An original is a zip, a folder or a single file. Zips inside it are opened too, down to
//! [`Limits::max_zip_depth`] levels (Leaf accepts two), each extracted to the scratch folder with a byte cap so
//! that a zip bomb is refused instead of filling the disk. Every folder or archive (a *container*) is then
//! looked at by each format's reader: ISOXML (`TASKDATA.XML`), Shapefile sets (`.shp` with its sidecars), and
//! the proprietary display formats recognised by their layout, which are kept and reported as unsupported.

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Bounds on what an original may unpack to.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Deepest nesting of zips inside the original (Leaf: two levels).
    pub max_zip_depth: usize,
    /// Most bytes a nested zip may extract to.
    pub max_nested_bytes: u64,
    /// Most bytes a shapefile set may extract to.
    pub max_set_bytes: u64,
    /// Most entries listed over the whole original.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_zip_depth: 2,
            max_nested_bytes: 4 << 30,
            max_set_bytes: 4 << 30,
            max_entries: 200_000,
        }
    }
}

/// Proprietary families furrow recognises but cannot convert (no public specification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// John Deere GreenStar 2 (2600) documentation data: `RCD/*.fdd` + `.fdl`.
    JohnDeereGs2,
    /// John Deere GreenStar 3 (2630): `GS3_2630/…/RCD/…`, `global.ver`.
    JohnDeereGs3,
    /// John Deere Gen4 (4600, 4640): `JD-Data/log/*.jdl`.
    JohnDeereGen4,
    /// Climate / Precision Planting 20|20: `.2020`, `.dat`.
    PrecisionPlanting,
    /// CNH (Case IH, New Holland) AFS/PLM: `*.cn1/index.vy1`.
    CnhCn1,
    /// Ag Leader: `.yld`, `.ilf`, `.agdata` + `.agsetup`.
    AgLeader,
    /// Trimble AgData: `AgData/*.agf`, `.agi`, `.agm`, `.agt`, `.agu`, `.agv`.
    TrimbleAgData,
    /// Raven JDP: `.jdp`.
    RavenJdp,
}

impl Family {
    /// The `fileFormat` furrow reports.
    pub fn file_format(self) -> &'static str {
        match self {
            Family::JohnDeereGs2 => "JD_GS2",
            Family::JohnDeereGs3 => "JD_GS3",
            Family::JohnDeereGen4 => "JD_GEN4",
            Family::PrecisionPlanting => "PP2020",
            Family::CnhCn1 => "CN1",
            Family::AgLeader => "AGDATA",
            Family::TrimbleAgData => "TRIMBLE_AGDATA",
            Family::RavenJdp => "RAVEN_JDP",
        }
    }

    /// A name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Family::JohnDeereGs2 => "John Deere GreenStar 2 display data",
            Family::JohnDeereGs3 => "John Deere GreenStar 3 display data",
            Family::JohnDeereGen4 => "John Deere Gen4 display data",
            Family::PrecisionPlanting => "Precision Planting 20|20 data",
            Family::CnhCn1 => "CNH CN1 data",
            Family::AgLeader => "Ag Leader display data",
            Family::TrimbleAgData => "Trimble AgData",
            Family::RavenJdp => "Raven JDP data",
        }
    }

    /// Recognises a family from one entry's path (lower case, `/` separated).
    fn of_entry(path: &str) -> Option<Family> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        let in_dir = |d: &str| path.split('/').any(|p| p == d);
        // A display's folder layout names it before any file extension does.
        if in_dir("gs3_2630") || name == "global.ver" {
            return Some(Family::JohnDeereGs3);
        }
        if in_dir("jd-data") {
            return Some(Family::JohnDeereGen4);
        }
        match ext {
            "fdd" | "fdl" => Some(Family::JohnDeereGs2),
            "jdl" => Some(Family::JohnDeereGen4),
            "2020" => Some(Family::PrecisionPlanting),
            "vy1" => Some(Family::CnhCn1),
            "yld" | "ilf" | "agdata" | "agsetup" => Some(Family::AgLeader),
            "agf" | "agi" | "agm" | "agt" | "agu" | "agv" => Some(Family::TrimbleAgData),
            "jdp" => Some(Family::RavenJdp),
            "dat" if in_dir("rcd") => None,
            "dat" => Some(Family::PrecisionPlanting),
            _ => None,
        }
    }
}

/// A dataset's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// ISO 11783-10 task data.
    IsoXml,
    /// A Shapefile set (`.shp`, `.shx`, `.dbf`, `.prj`, …).
    Shapefile,
    /// A proprietary format furrow keeps but cannot convert.
    Unsupported(Family),
}

impl Format {
    /// The `fileFormat` value of files of this format.
    pub fn file_format(self) -> &'static str {
        match self {
            Format::IsoXml => "ISO11783",
            Format::Shapefile => "SHAPEFILE",
            Format::Unsupported(f) => f.file_format(),
        }
    }
}

/// Where a dataset's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// A folder, zip or XML file holding one or more TASKDATA sets.
    IsoXml(PathBuf),
    /// A folder holding exactly one shapefile set (extracted or copied to scratch).
    Shapefile(PathBuf),
    /// Nothing to read.
    None,
}

/// One dataset of an original.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Stable key within the original: the container's path inside it, then what inside the container.
    pub key: String,
    /// Its format.
    pub format: Format,
    /// A short human name (a shapefile set's name, the container's name).
    pub name: String,
    pub(crate) location: Location,
}

/// Something in the original that could not be looked at, with why (counted and reported, never dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the original.
    pub key: String,
    /// What went wrong.
    pub message: String,
}

/// What [`detect`] found.
#[derive(Debug, Clone, Default)]
pub struct Detection {
    /// The datasets, in a stable order.
    pub datasets: Vec<Dataset>,
    /// Containers or entries that could not be read.
    pub problems: Vec<Problem>,
    /// How many entries were listed, for messages.
    pub entries: usize,
    /// A few entry names, for the message when nothing is found.
    pub sample: Vec<String>,
}

impl Detection {
    /// Why nothing could be converted, for a file's message when there are no datasets.
    pub fn nothing_found(&self) -> String {
        let mut m = if self.entries == 0 {
            "no machine data found: the original is empty or not an archive furrow can read"
                .to_owned()
        } else {
            format!(
                "no machine data found among {} entries (no TASKDATA.XML, shapefile set or known display format){}",
                self.entries,
                if self.sample.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.sample.join(", "))
                }
            )
        };
        for p in &self.problems {
            m.push_str(&format!("; {}: {}", p.key, p.message));
        }
        m
    }
}

fn is_junk(path: &str) -> bool {
    path.split('/').any(|part| {
        part.eq_ignore_ascii_case("__MACOSX")
            || part.eq_ignore_ascii_case("_MACOSX")
            || part.starts_with("._")
    })
}

fn ext_of(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

fn stem_of(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rfind('.') {
        Some(i) => &name[..i],
        None => name,
    }
}

/// Sidecar extensions that belong to a shapefile set.
const SHAPEFILE_PARTS: &[&str] = &["shp", "shx", "dbf", "prj", "cpg", "qpj"];

/// One listed entry of a container.
#[derive(Debug, Clone)]
struct Entry {
    /// Path inside the container, `/` separated.
    path: String,
}

#[derive(Debug, Clone)]
enum Container {
    Folder(PathBuf),
    Zip(PathBuf),
    /// A single non-archive file (a bare `TASKDATA.XML`).
    Xml(PathBuf),
}

fn looks_like_zip(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && (&magic == b"PK\x03\x04" || &magic == b"PK\x05\x06")
}

fn looks_like_xml(path: &Path) -> bool {
    let mut head = [0u8; 256];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..n]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with("<?xml") || t.starts_with("<ISO11783_TaskData")
}

struct Walker<'a> {
    scratch: &'a Path,
    limits: &'a Limits,
    out: Detection,
    nested: usize,
}

/// Lists the datasets of an original (a zip, a folder, or a bare XML file). Nested zips and the members of
/// shapefile sets inside zips are extracted under `scratch`, which must outlive the datasets.
pub fn detect(original: &Path, scratch: &Path, limits: &Limits) -> Result<Detection> {
    let meta = std::fs::metadata(original).map_err(|source| Error::Io {
        path: original.to_path_buf(),
        source,
    })?;
    let root = if meta.is_dir() {
        Container::Folder(original.to_path_buf())
    } else if looks_like_zip(original) {
        Container::Zip(original.to_path_buf())
    } else if looks_like_xml(original) {
        Container::Xml(original.to_path_buf())
    } else {
        let mut d = Detection {
            entries: 1,
            ..Default::default()
        };
        d.problems.push(Problem {
            key: String::new(),
            message: "not a zip archive, a folder or an ISOXML file".into(),
        });
        return Ok(d);
    };
    let mut w = Walker {
        scratch,
        limits,
        out: Detection::default(),
        nested: 0,
    };
    w.container(&root, "", 0);
    Ok(w.out)
}

impl Walker<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.out.problems.push(Problem {
            key: key.to_owned(),
            message: message.into(),
        });
    }

    fn list(&mut self, c: &Container, key: &str) -> Option<Vec<Entry>> {
        let budget = self.limits.max_entries.saturating_sub(self.out.entries);
        let listed = match c {
            Container::Folder(dir) => {
                let mut out = Vec::new();
                list_dir(dir, dir, 0, budget, &mut out);
                Ok(out)
            }
            Container::Zip(path) => list_zip(path, budget),
            Container::Xml(path) => Ok(vec![Entry {
                path: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            }]),
        };
        match listed {
            Ok(entries) => {
                self.out.entries += entries.len();
                for e in entries.iter().filter(|e| !is_junk(&e.path)) {
                    if self.out.sample.len() < 8 {
                        self.out.sample.push(e.path.clone());
                    }
                }
                Some(entries)
            }
            Err(m) => {
                self.problem(key, m);
                None
            }
        }
    }

    fn container(&mut self, c: &Container, key: &str, depth: usize) {
        let Some(entries) = self.list(c, key) else {
            return;
        };
        let entries: Vec<Entry> = entries.into_iter().filter(|e| !is_junk(&e.path)).collect();
        let join = |inner: &str| {
            if key.is_empty() {
                inner.to_owned()
            } else if inner.is_empty() {
                key.to_owned()
            } else {
                format!("{key}!{inner}")
            }
        };
        let display = |k: &str| {
            if k.is_empty() {
                "the original".to_owned()
            } else {
                k.to_owned()
            }
        };
        // ISOXML: every TASKDATA.XML of the container is read by the ISOXML reader in one go.
        let xml_root = matches!(c, Container::Xml(_));
        if xml_root
            || entries.iter().any(|e| {
                e.path
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case("TASKDATA.XML"))
            })
        {
            let path = match c {
                Container::Folder(p) | Container::Zip(p) | Container::Xml(p) => p.clone(),
            };
            self.out.datasets.push(Dataset {
                key: join("TASKDATA"),
                format: Format::IsoXml,
                name: display(key),
                location: Location::IsoXml(path),
            });
        }
        // Shapefile sets: one per `.shp`, with the sidecars of the same folder and stem.
        let mut shps: Vec<&Entry> = entries
            .iter()
            .filter(|e| ext_of(&e.path) == "shp")
            .collect();
        shps.sort_by(|a, b| a.path.cmp(&b.path));
        for shp in shps {
            let dir = parent_of(&shp.path);
            let stem = stem_of(&shp.path);
            let members: Vec<&Entry> = entries
                .iter()
                .filter(|e| {
                    parent_of(&e.path) == dir && {
                        let s = stem_of(&e.path);
                        let ext = ext_of(&e.path);
                        (s.eq_ignore_ascii_case(stem) && SHAPEFILE_PARTS.contains(&ext.as_str()))
                            // Vendor sidecars named after the set (John Deere's `<set>-Deere-Metadata.json`).
                            || (ext == "json"
                                && s.len() > stem.len()
                                && s[..stem.len()].eq_ignore_ascii_case(stem))
                    }
                })
                .collect();
            let set_key = join(&shp.path);
            match self.shapefile_set(c, &members) {
                Ok(folder) => self.out.datasets.push(Dataset {
                    key: set_key,
                    format: Format::Shapefile,
                    name: stem.to_owned(),
                    location: Location::Shapefile(folder),
                }),
                Err(m) => self.problem(&set_key, m),
            }
        }
        // Proprietary display formats: one dataset per family per container.
        let mut families: Vec<(Family, usize)> = Vec::new();
        for e in &entries {
            if let Some(f) = Family::of_entry(&e.path.to_ascii_lowercase()) {
                match families.iter_mut().find(|(g, _)| *g == f) {
                    Some((_, n)) => *n += 1,
                    None => families.push((f, 1)),
                }
            }
        }
        for (f, n) in families {
            self.out.datasets.push(Dataset {
                key: join(f.file_format()),
                format: Format::Unsupported(f),
                name: format!("{} ({n} files)", f.name()),
                location: Location::None,
            });
        }
        // Zips inside: extracted and looked at in turn.
        let mut zips: Vec<&Entry> = entries
            .iter()
            .filter(|e| ext_of(&e.path) == "zip")
            .collect();
        zips.sort_by(|a, b| a.path.cmp(&b.path));
        for z in zips {
            let zkey = join(&z.path);
            if depth >= self.limits.max_zip_depth {
                self.problem(
                    &zkey,
                    format!(
                        "a zip nested more than {} levels deep is not opened",
                        self.limits.max_zip_depth
                    ),
                );
                continue;
            }
            match self.extract_nested(c, z) {
                Ok(path) => self.container(&Container::Zip(path), &zkey, depth + 1),
                Err(m) => self.problem(&zkey, m),
            }
        }
    }

    /// A folder holding exactly the set's members: the original folder's files linked or copied, or a zip's
    /// entries extracted.
    fn shapefile_set(&mut self, c: &Container, members: &[&Entry]) -> Result<PathBuf, String> {
        self.nested += 1;
        let dir = self.scratch.join(format!("set-{}", self.nested));
        std::fs::create_dir_all(&dir).map_err(|e| format!("scratch: {e}"))?;
        match c {
            Container::Folder(root) => {
                for m in members {
                    let from = root.join(&m.path);
                    let name = m.path.rsplit('/').next().unwrap_or(&m.path);
                    let to = dir.join(name);
                    if std::fs::hard_link(&from, &to).is_err() {
                        std::fs::copy(&from, &to).map_err(|e| format!("{}: {e}", m.path))?;
                    }
                }
            }
            Container::Zip(path) => {
                let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
                let mut archive =
                    zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| e.to_string())?;
                let mut budget = self.limits.max_set_bytes;
                for m in members {
                    let name = m.path.rsplit('/').next().unwrap_or(&m.path);
                    let to = dir.join(name);
                    let written = extract_entry(&mut archive, &m.path, &to, budget)?;
                    budget = budget.saturating_sub(written);
                }
            }
            Container::Xml(_) => return Err("not an archive".into()),
        }
        Ok(dir)
    }

    fn extract_nested(&mut self, c: &Container, z: &Entry) -> Result<PathBuf, String> {
        match c {
            Container::Folder(root) => Ok(root.join(&z.path)),
            Container::Zip(path) => {
                self.nested += 1;
                let to = self.scratch.join(format!("nested-{}.zip", self.nested));
                let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
                let mut archive =
                    zip::ZipArchive::new(std::io::BufReader::new(f)).map_err(|e| e.to_string())?;
                extract_entry(&mut archive, &z.path, &to, self.limits.max_nested_bytes)?;
                Ok(to)
            }
            Container::Xml(_) => Err("not an archive".into()),
        }
    }
}

/// Copies one zip entry to `to`, refusing to write more than `cap` bytes (whatever the entry claims).
fn extract_entry<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    to: &Path,
    cap: u64,
) -> Result<u64, String> {
    let entry = archive.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    if entry.size() > cap {
        return Err(format!(
            "{name}: {} bytes uncompressed, more than the limit of {cap}",
            entry.size()
        ));
    }
    let mut out = std::fs::File::create(to).map_err(|e| format!("scratch: {e}"))?;
    // The reader is capped one past the limit, so a lying size header is caught without writing more.
    let mut limited = entry.take(cap + 1);
    let n = std::io::copy(&mut limited, &mut out).map_err(|e| format!("{name}: {e}"))?;
    if n > cap {
        drop(out);
        let _ = std::fs::remove_file(to);
        return Err(format!(
            "{name}: expands past the limit of {cap} bytes (a zip bomb?)"
        ));
    }
    Ok(n)
}

fn list_zip(path: &Path, budget: usize) -> Result<Vec<Entry>, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| format!("not a readable zip archive: {e}"))?;
    let mut out = Vec::new();
    for i in 0..archive.len() {
        if out.len() >= budget {
            return Err(format!(
                "more than {budget} entries; the rest of the archive was not looked at"
            ));
        }
        let Ok(e) = archive.by_index_raw(i) else {
            continue;
        };
        if e.is_dir() {
            continue;
        }
        out.push(Entry {
            path: e.name().replace('\\', "/"),
        });
    }
    Ok(out)
}

fn list_dir(root: &Path, dir: &Path, depth: usize, budget: usize, out: &mut Vec<Entry>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if out.len() >= budget {
            return;
        }
        let Ok(kind) = e.file_type() else { continue };
        let path = e.path();
        if kind.is_dir() && depth < 16 {
            list_dir(root, &path, depth + 1, budget, out);
        } else if kind.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(Entry { path: rel });
        }
    }
}
