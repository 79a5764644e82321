//! Integration tests of furrow-isoxml: the repository's samples (`samples/isoxml`, see its MANIFEST.md) by
//! default; the team's larger corpus with the `corpus` feature (`cargo test -p furrow-isoxml --features
//! corpus`), which fails, never skips, when the corpus is missing.

#[cfg(feature = "corpus")]
mod corpus;
mod oracle;
mod props;
mod samples;

use std::path::{Path, PathBuf};

use furrow_isoxml::{Error, Summary, TaskData};

/// The repository's `samples/isoxml` folder.
pub(crate) fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/isoxml")
}

/// A file or folder of `samples/isoxml`.
pub(crate) fn sample(rel: &str) -> PathBuf {
    let p = samples_dir().join(rel);
    assert!(p.exists(), "sample {} missing", p.display());
    p
}

/// Every input under `root`: zips, folders holding a TASKDATA.XML, and lone XML files.
pub(crate) fn inputs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(root, &mut out);
    out.sort();
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let has_taskdata = entries.iter().any(|p| {
        p.is_file()
            && p.file_name()
                .unwrap()
                .to_string_lossy()
                .eq_ignore_ascii_case("TASKDATA.XML")
    });
    if has_taskdata {
        out.push(dir.to_path_buf());
    }
    for p in entries {
        let name = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_ascii_uppercase();
        if p.is_dir() {
            collect(&p, out);
        } else if name.ends_with(".ZIP")
            || (!has_taskdata && name.ends_with(".XML") && !name.starts_with("._"))
        {
            out.push(p);
        }
    }
}

/// `(time logs, records)` of each data set of an input; empty when it holds no data set.
pub(crate) fn counts(input: &Path) -> Vec<(usize, u64)> {
    match TaskData::open_all(input) {
        Ok(all) => all
            .iter()
            .map(|td| {
                let s = Summary::of(td);
                (
                    s.time_logs.len(),
                    s.time_logs.iter().filter_map(|t| t.records).sum(),
                )
            })
            .collect(),
        Err(Error::NoTaskData { .. }) => Vec::new(),
        Err(e) => panic!("{}: {e}", input.display()),
    }
}

/// Reads every input under `root` and checks it against `expected` (path relative to `root` → counts per
/// data set), in order; returns (inputs, data sets, time logs, records).
pub(crate) fn check_inputs(
    root: &Path,
    expected: &[(&str, &[(usize, u64)])],
) -> (usize, usize, usize, u64) {
    let inputs = inputs(root);
    let names: Vec<String> = inputs
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    let expected_names: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(names, expected_names, "inputs under {}", root.display());
    let (mut sets, mut logs, mut records) = (0usize, 0usize, 0u64);
    for (input, (name, want)) in inputs.iter().zip(expected) {
        let got = counts(input);
        assert_eq!(&got, want, "{name}");
        sets += got.len();
        logs += got.iter().map(|g| g.0).sum::<usize>();
        records += got.iter().map(|g| g.1).sum::<u64>();
    }
    (inputs.len(), sets, logs, records)
}
