//! Shapefile exports through the pipeline: every set of the in-repository John Deere samples converts with the
//! DBF's record count, the right operation type and the main rate on (nearly) every point.

use arrow_array::Array;
use furrow_pipeline::{Format, Limits, Settings, detect, open};

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

#[test]
fn every_sample_export_converts_with_its_records_type_and_main_rate() {
    let zips = sample_zips();
    assert_eq!(zips.len(), 6, "the in-repository John Deere exports");
    let mut converted = 0;
    for zip in &zips {
        let name = zip.file_name().unwrap().to_string_lossy().into_owned();
        let scratch = tempfile::tempdir().unwrap();
        let found = detect(zip, scratch.path(), &Limits::default()).unwrap();
        assert_eq!(found.datasets.len(), 1, "{name}");
        assert_eq!(found.datasets[0].format, Format::Shapefile, "{name}");
        let opened = open(&found.datasets[0]).unwrap();
        let units = opened.units();
        assert_eq!(units.len(), 1, "{name}");
        let want = if name.contains("Harvest") {
            "harvested"
        } else if name.contains("Application") {
            "applied"
        } else {
            "planted"
        };
        assert_eq!(
            units[0].operation_type.map(|o| o.to_string()).as_deref(),
            Some(want),
            "{name}"
        );
        let out = tempfile::tempdir().unwrap();
        let c = opened
            .convert(&units[0], &Settings::default(), out.path())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        // The source, read directly: its record count and its main rate (METRIC).
        let set_dir = std::fs::read_dir(scratch.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .unwrap();
        let set = furrow_shapefile::ShapefileSet::discover(&set_dir)
            .unwrap()
            .remove(0);
        let mut reader = set.open().unwrap();
        let records = reader.record_count();
        let rate = reader.profile().main_rate().unwrap();
        let mut source = Vec::new();
        while let Some(b) = reader.next_batch().unwrap() {
            source.extend(
                b.numbers(rate)
                    .unwrap()
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite()),
            );
        }
        let counts = c.counts;
        assert_eq!(counts.raw, records, "{name}: every DBF record read");
        assert_eq!(
            counts.written + counts.cleaned + counts.invalid_position,
            counts.raw,
            "{name}: {counts:?}"
        );
        assert!(counts.written > 0, "{name}: {counts:?}");
        // The main rate on at least 90 % of points, its median within 2 % of the source's.
        let units_doc = &c.units;
        let written: Vec<f64> = column(&c.parquet, rate).into_iter().flatten().collect();
        assert!(
            written.len() as f64 >= 0.9 * counts.written as f64,
            "{name}: {rate} on {} of {} points",
            written.len(),
            counts.written
        );
        let unit = units_doc[rate].as_str().unwrap();
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
        // DEFAULT keeps the export's own system: John Deere's US exports are imperial.
        assert_eq!(units_doc["distance"], "ft", "{name}");
        converted += 1;
    }
    assert_eq!(converted, 6);
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
