//! Integration tests of furrow-shapefile.

mod corpus;
mod props;
mod samples;
mod synthetic;
mod writer;

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use furrow_shapefile::{Batch, OperationType, Reader, ShapefileSet};

/// A reader run to its end, with its batches.
#[derive(Debug)]
pub struct Read {
    pub reader: Reader,
    pub batches: Vec<Batch>,
}

pub fn read_all(shp: &Path) -> Read {
    let mut reader = ShapefileSet::from_shp(shp).unwrap().open().unwrap();
    let mut batches = Vec::new();
    while let Some(b) = reader.next_batch().unwrap() {
        batches.push(b);
    }
    Read { reader, batches }
}

/// Unpacks every zip under `src` (nested zips too) into `dest/<zip stem>/`; returns how many.
pub fn unzip_tree(src: &Path, dest: &Path) -> usize {
    let mut count = 0;
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
            {
                count += unzip(&path, &dest.join(path.file_stem().unwrap()));
            }
        }
    }
    count
}

fn unzip(zip: &Path, dest: &Path) -> usize {
    let mut archive = zip::ZipArchive::new(File::open(zip).unwrap()).unwrap();
    let mut count = 1;
    let mut nested = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let out = dest.join(name);
        if entry.is_dir() {
            std::fs::create_dir_all(&out).unwrap();
            continue;
        }
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let mut file = File::create(&out).unwrap();
        std::io::copy(&mut entry, &mut file).unwrap();
        if out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            nested.push(out);
        }
    }
    for n in nested {
        count += unzip(&n, &n.with_extension(""));
    }
    count
}

/// What the corpus acceptance checks for one set.
#[derive(Debug)]
pub struct Outcome {
    pub records: u64,
    pub rows: u64,
    pub operation: OperationType,
    pub main_rate: Option<&'static str>,
    pub main_rate_rows: u64,
    /// min lon, min lat, max lon, max lat of the points, or of the polygon rings for polygon sets.
    pub bbox: [f64; 4],
    pub centroids_inside: bool,
}

pub fn outcome(shp: &Path) -> Outcome {
    let Read { reader, batches } = read_all(shp);
    let main_rate = reader.profile().main_rate();
    let mut bbox = [
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut grow = |x: f64, y: f64| {
        if x.is_finite() && y.is_finite() {
            bbox = [
                bbox[0].min(x),
                bbox[1].min(y),
                bbox[2].max(x),
                bbox[3].max(y),
            ];
        }
    };
    let mut main_rate_rows = 0;
    let mut points = Vec::new();
    for b in &batches {
        match &b.polygons {
            Some(p) => {
                for (x, y) in p.lon.iter().zip(&p.lat) {
                    grow(*x, *y);
                }
                points.extend(b.lon.iter().copied().zip(b.lat.iter().copied()));
            }
            None => {
                for (x, y) in b.lon.iter().zip(&b.lat) {
                    grow(*x, *y);
                }
            }
        }
        if let Some(v) = main_rate.and_then(|m| b.numbers(m)) {
            main_rate_rows += v.iter().filter(|x| x.is_finite()).count() as u64;
        }
    }
    let centroids_inside = points
        .iter()
        .all(|(x, y)| *x >= bbox[0] && *x <= bbox[2] && *y >= bbox[1] && *y <= bbox[3]);
    Outcome {
        records: reader.record_count(),
        rows: reader.stats().rows,
        operation: reader.profile().operation_type,
        main_rate,
        main_rate_rows,
        bbox,
        centroids_inside,
    }
}

/// `tests/data/corpus-expected.tsv`: set path → (records, kind, bbox) from GeoPandas.
pub fn expected() -> HashMap<String, (u64, String, [f64; 4])> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus-expected.tsv"),
    )
    .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            let f = |i: usize| c[i].parse::<f64>().unwrap();
            (
                c[0].to_string(),
                (
                    c[1].parse().unwrap(),
                    c[2].to_string(),
                    [f(3), f(4), f(5), f(6)],
                ),
            )
        })
        .collect()
}

/// The operation type a corpus set records, from its folder name (MANIFEST.md).
pub fn expected_operation(rel: &str) -> OperationType {
    if rel.contains("Harvest") || rel.starts_with("ag-leader-sms") {
        OperationType::Harvested
    } else if rel.contains("Seeding") || rel.contains("Planting") {
        OperationType::Planted
    } else if rel.contains("Application") {
        OperationType::Applied
    } else {
        OperationType::Other
    }
}

/// Checks every set under `root` against the GeoPandas values; returns the sets checked.
pub fn check_tree(root: &Path) -> Vec<(PathBuf, Outcome)> {
    let expected = expected();
    let mut out = Vec::new();
    for set in ShapefileSet::discover(root).unwrap() {
        let rel = set
            .shp
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (records, kind, bbox) = expected
            .get(&rel)
            .unwrap_or_else(|| panic!("no expected values for {rel}"));
        let o = outcome(&set.shp);
        assert_eq!(o.records, *records, "{rel}: records");
        assert_eq!(
            o.rows, *records,
            "{rel}: rows (no deleted records in the corpus)"
        );
        for k in 0..4 {
            assert!(
                (o.bbox[k] - bbox[k]).abs() < 1e-6,
                "{rel}: bbox {:?} vs GeoPandas {bbox:?}",
                o.bbox
            );
        }
        assert!(
            o.centroids_inside,
            "{rel}: a centroid outside the polygons' bbox"
        );
        let op = expected_operation(&rel);
        assert_eq!(o.operation, op, "{rel}: operation type");
        if op != OperationType::Other {
            let rate = o
                .main_rate
                .unwrap_or_else(|| panic!("{rel}: no main rate mapped"));
            assert!(
                o.main_rate_rows * 10 >= o.rows * 9,
                "{rel}: {rate} on {} of {} rows",
                o.main_rate_rows,
                o.rows
            );
        }
        let _ = kind;
        out.push((set.shp.clone(), o));
    }
    out
}
