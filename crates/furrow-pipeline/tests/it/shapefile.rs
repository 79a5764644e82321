//! Shapefile exports through the pipeline: every set of the in-repository John Deere samples converts with the
//! DBF's record count, the right operation type and the main rate on (nearly) every point.

use arrow_array::Array;
use furrow_pipeline::{Format, Limits, Settings, detect, open};
use furrow_shapefile::ShapefileSet;

use crate::{sample, write_zip};

fn sample_zips() -> Vec<std::path::PathBuf> {
    let dir = sample("shapefile/john-deere/Shapefiles");
    let mut zips: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "zip"))
        .collect();
    zips.sort();
    zips
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn column(path: &std::path::Path, name: &str) -> Vec<Option<f64>> {
    let f = furrow_geoparquet::read_geoparquet(path).unwrap();
    f.batches
        .iter()
        .flat_map(|b| {
            let c = b
                .column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<arrow_array::Float64Array>()
                .unwrap()
                .clone();
            (0..c.len())
                .map(move |i| c.is_valid(i).then(|| c.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Converts every shapefile set of `path` (a zip or a folder) and checks each against its source: every DBF
/// record read, the operation type `want`, the main rate on at least 90 % of the points written with a median
/// within 2 % of the source column's. Returns how many sets were checked.
pub(crate) fn check_export(path: &std::path::Path, want: &str, system: &str) -> usize {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let scratch = tempfile::tempdir().unwrap();
    let found = detect(path, scratch.path(), &Limits::default()).unwrap();
    assert!(found.problems.is_empty(), "{name}: {:?}", found.problems);
    let mut checked = 0;
    for ds in &found.datasets {
        assert_eq!(ds.format, Format::Shapefile, "{name}");
        let opened = open(ds).unwrap();
        let units = opened.units();
        assert_eq!(units.len(), 1, "{name}");
        assert_eq!(
            units[0].operation_type.map(|o| o.to_string()).as_deref(),
            Some(want),
            "{name} {}",
            ds.key
        );
        let out = tempfile::tempdir().unwrap();
        let c = opened
            .convert(&units[0], &Settings::default(), out.path())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The source, read directly: its record count and its main rate (METRIC).
        let set = ShapefileSet::discover(&ds_folder(scratch.path(), path, &ds.key))
            .unwrap()
            .into_iter()
            .find(|s| {
                ds.key.ends_with(&format!("{}.shp", s.name()))
                    || ds.key.ends_with(&format!("{}.SHP", s.name()))
            })
            .unwrap_or_else(|| panic!("{name}: set {}", ds.key));
        let mut reader = set.open().unwrap();
        let records = reader.record_count();
        let rate = reader.profile().main_rate();
        let mut source = Vec::new();
        while let Some(b) = reader.next_batch().unwrap() {
            if let Some(r) = rate {
                source.extend(
                    b.numbers(r)
                        .unwrap()
                        .iter()
                        .copied()
                        .filter(|v| v.is_finite()),
                );
            }
        }
        let counts = c.counts;
        assert_eq!(counts.raw, records, "{name}: every DBF record read");
        assert_eq!(
            counts.written + counts.cleaned + counts.invalid_position,
            counts.raw,
            "{name}: {counts:?}"
        );
        assert!(counts.written > 0, "{name}: {counts:?}");
        if want == "harvested" {
            // The crop, from a Deere sidecar or from the rows' own column (Ag Leader's `Product` in a harvest).
            let crops = &c.summary["properties"]["crop"];
            assert!(
                crops.as_array().is_some_and(|a| !a.is_empty()),
                "{name}: the summary names the harvested crop: {}",
                c.summary["properties"]
            );
        }
        assert_eq!(
            c.units["distance"], system,
            "{name}: DEFAULT keeps the export's system"
        );
        checked += 1;
        let Some(rate) = rate else {
            assert_eq!(want, "other", "{name}: a typed operation has a main rate");
            continue;
        };
        let written: Vec<f64> = column(&c.parquet, rate).into_iter().flatten().collect();
        assert!(
            written.len() as f64 >= 0.9 * counts.written as f64,
            "{name}: {rate} on {} of {} points",
            written.len(),
            counts.written
        );
        let unit = c.units[rate].as_str().unwrap();
        let to_metric = match unit {
            "bu/ac" => 0.035_239_070_166_88 / 0.404_685_642_24,
            "seeds/ac" => 1.0 / 0.404_685_642_24,
            "gal/ac" => 3.785_411_784 / 0.404_685_642_24,
            "lb/ac" => 0.453_592_37 / 0.404_685_642_24,
            _ => 1.0,
        };
        let ours = median(written.iter().map(|v| v * to_metric).collect());
        let theirs = median(source);
        assert!(
            (ours - theirs).abs() <= 0.02 * theirs.abs(),
            "{name}: {rate} median {ours} vs source {theirs} ({unit})"
        );
    }
    checked
}

/// The folder a dataset's set was found in: the scratch copy of a zip's set, or the original folder.
fn ds_folder(
    scratch: &std::path::Path,
    original: &std::path::Path,
    _key: &str,
) -> std::path::PathBuf {
    if original.is_dir() {
        return original.to_path_buf();
    }
    scratch.to_path_buf()
}

/// The operation type a John Deere export's file name says.
pub(crate) fn type_of(name: &str) -> &'static str {
    if name.contains("Harvest") {
        "harvested"
    } else if name.contains("Application") {
        "applied"
    } else if name.contains("Prescription") {
        "other"
    } else {
        "planted"
    }
}

#[test]
fn every_sample_export_converts_with_its_records_type_and_main_rate() {
    let zips = sample_zips();
    assert_eq!(zips.len(), 6, "the in-repository John Deere exports");
    let mut sets = 0;
    for zip in &zips {
        let name = zip.file_name().unwrap().to_string_lossy().into_owned();
        sets += check_export(zip, type_of(&name), "ft");
    }
    assert_eq!(sets, 6);
}

#[test]
fn a_zip_of_several_sets_gives_one_file_per_set() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, z) in sample_zips().iter().take(2).enumerate() {
        let mut archive = zip::ZipArchive::new(std::fs::File::open(z).unwrap()).unwrap();
        for k in 0..archive.len() {
            let mut f = archive.by_index(k).unwrap();
            if f.is_dir() {
                continue;
            }
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut bytes).unwrap();
            let base = f.name().rsplit('/').next().unwrap().to_owned();
            entries.push((format!("set{i}/{base}"), bytes));
        }
    }
    let both = dir.path().join("both.zip");
    let refs: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    write_zip(&both, &refs);
    let found = detect(&both, dir.path(), &Limits::default()).unwrap();
    let keys: Vec<&str> = found.datasets.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| k.ends_with(".shp")), "{keys:?}");
    assert!(found.datasets.iter().all(|d| d.format == Format::Shapefile));
}

#[test]
fn display_data_is_recognised_and_refused() {
    let dir = sample("shapefile/john-deere/Display data");
    let mut seen = Vec::new();
    let mut zips: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    zips.sort();
    for z in &zips {
        let found = detect(z, tempfile::tempdir().unwrap().path(), &Limits::default()).unwrap();
        assert_eq!(found.datasets.len(), 1, "{}", z.display());
        let units = open(&found.datasets[0]).unwrap().units();
        assert!(
            units[0]
                .refusal()
                .unwrap()
                .contains("unsupported file format")
        );
        seen.push(units[0].format.file_format());
    }
    assert_eq!(seen, ["JD_GS2", "JD_GS3", "JD_GEN4"]);
}
