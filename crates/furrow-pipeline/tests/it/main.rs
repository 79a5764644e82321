//! furrow-pipeline integration tests, on the samples in the repository (`samples/`).

mod convert;
#[cfg(feature = "corpus")]
mod corpus;
mod detect;
mod images;
mod operation;
mod settings;
pub(crate) mod shapefile;

use std::path::PathBuf;

/// A file of the repository's `samples/` folder.
pub(crate) fn sample(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples")
        .join(rel);
    assert!(p.exists(), "sample {} missing", p.display());
    p
}

/// Writes a zip of `(name, bytes)` entries (deflated) to `path`.
pub(crate) fn write_zip(path: &std::path::Path, entries: &[(&str, &[u8])]) {
    use std::io::Write;
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        z.start_file(*name, opts).unwrap();
        z.write_all(bytes).unwrap();
    }
    z.finish().unwrap();
}
