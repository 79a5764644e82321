//! `furrow render` and `furrow convert --images`: the images exist without a server.

use super::{furrow, sample};

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

#[test]
fn convert_with_images_draws_every_property_with_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    let stdout = ok(&furrow(&[
        "convert",
        &sample("isoxml-dotnet/AFE.zip"),
        "-o",
        dir.path().join("points").to_str().unwrap(),
        "--images",
        images.to_str().unwrap(),
    ]));
    let manifests: Vec<String> = names(&images)
        .into_iter()
        .filter(|n| n.ends_with(".images.json"))
        .collect();
    assert_eq!(manifests.len(), 1, "{:?}", names(&images));
    let stem = manifests[0].trim_end_matches(".images.json").to_owned();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(images.join(&manifests[0])).unwrap()).unwrap();
    let drawn: Vec<&str> = m["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["property"].as_str().unwrap())
        .collect();
    assert!(drawn.contains(&"seedRate"), "{m}");
    // Every imageable property of a planting is either drawn or said to have no value.
    let skipped = m["skipped"].as_array().unwrap();
    assert_eq!(
        drawn.len() + skipped.len(),
        furrow_render::imageable_properties("planted").len(),
        "{m}"
    );
    for i in m["images"].as_array().unwrap() {
        let p = i["property"].as_str().unwrap();
        let png = std::fs::read(images.join(format!("{stem}.{p}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        assert!(images.join(format!("{stem}.{p}.png.aux.xml")).exists());
        let ranges = i["legend"]["ranges"].as_array().unwrap();
        assert!((1..=7).contains(&ranges.len()), "{i}");
    }
    assert!(stdout.contains("image(s) of"), "{stdout}");
}

#[test]
fn render_draws_chosen_properties_as_ramps_and_geotiffs_and_refuses_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let points = dir.path().join("afe");
    ok(&furrow(&[
        "convert",
        &sample("isoxml-dotnet/AFE.zip"),
        "-o",
        points.to_str().unwrap(),
    ]));
    let parquet = names(&points)
        .into_iter()
        .find(|n| n.ends_with(".parquet"))
        .unwrap();
    let parquet = points.join(parquet);
    let out = dir.path().join("out");
    let stdout = ok(&furrow(&[
        "render",
        parquet.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--property",
        "seedRate",
        "--property",
        "seedDepth",
        "--style",
        "ramp",
        "--geotiff",
        "--max-side",
        "256",
    ]));
    let stem = parquet.file_stem().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        names(&out),
        [
            format!("{stem}.images.json"),
            format!("{stem}.seedRate.png"),
            format!("{stem}.seedRate.png.aux.xml"),
            format!("{stem}.seedRate.tif"),
        ]
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(format!("{stem}.images.json"))).unwrap())
            .unwrap();
    assert!(m["images"][0]["width"].as_u64().unwrap() <= 256);
    assert!(m["images"][0]["height"].as_u64().unwrap() <= 256);
    assert_eq!(
        m["images"][0]["legend"]["ramp"]["100%"],
        serde_json::json!([0, 130, 0])
    );
    assert_eq!(
        m["skipped"],
        serde_json::json!([{"property": "seedDepth", "reason": "no value"}])
    );
    assert!(stdout.contains("1 image(s)"), "{stdout}");

    let bad = furrow(&[
        "render",
        parquet.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--property",
        "colour",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--property colour") && err.contains("wetMass"),
        "{err}"
    );
    let missing = furrow(&[
        "render",
        "/nonexistent.parquet",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent.parquet"));
}

/// A file of the repository's `samples/shapefile/john-deere/`.
fn jd(rel: &str) -> std::path::PathBuf {
    let p = furrow_provider_sim::samples_dir()
        .join("shapefile/john-deere")
        .join(rel);
    assert!(p.exists(), "{}", p.display());
    p
}

fn json_of(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn convert_takes_shapefile_exports_as_zips_folders_and_single_sets() {
    let dir = tempfile::tempdir().unwrap();
    let zip = jd("Shapefiles/Export From MyJohnDeere - Harvest.zip");
    let out = dir.path().join("harvest");
    let stdout = ok(&furrow(&[
        "convert",
        zip.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--polygons",
        "--filtered",
        "--images",
        dir.path().join("images").to_str().unwrap(),
        "--property",
        "wetMassPerArea",
    ]));
    let written = names(&out);
    let parquet: Vec<_> = written
        .iter()
        .filter(|n| n.ends_with("-harvested.parquet"))
        .collect();
    assert_eq!(parquet.len(), 1, "{written:?}");
    let stem = parquet[0].trim_end_matches(".parquet");
    for tail in [
        "polygons.parquet",
        "filtered.parquet",
        "summary.json",
        "units.json",
    ] {
        assert!(
            written.contains(&format!("{stem}.{tail}")),
            "{tail}: {written:?}"
        );
    }
    let summary = json_of(&out.join(format!("{stem}.summary.json")));
    assert_eq!(summary["properties"]["operationType"], "harvested");
    // Every record of the export was read; the line reports the counts.
    assert_eq!(
        summary["properties"]["pointCounts"]["raw"], 40_960,
        "{summary}"
    );
    assert!(stdout.contains("points written (raw 40960"), "{stdout}");
    let units = json_of(&out.join(format!("{stem}.units.json")));
    assert_eq!(units["wetMassPerArea"], "t/ha", "--units metric by default");
    assert!(
        dir.path()
            .join(format!("images/{stem}.wetMassPerArea.png"))
            .exists()
    );

    // One set given by its .shp, to one GeoJSON file, in imperial units.
    let folder = dir.path().join("unzipped");
    let f = std::fs::File::open(&zip).unwrap();
    zip::ZipArchive::new(f).unwrap().extract(&folder).unwrap();
    let shp = walk(&folder)
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "shp"))
        .unwrap();
    let gj = dir.path().join("one.geojson");
    ok(&furrow(&[
        "convert",
        shp.to_str().unwrap(),
        "-o",
        gj.to_str().unwrap(),
        "--units",
        "imperial",
    ]));
    let doc = json_of(&gj);
    let n = doc["features"].as_array().unwrap().len();
    assert_eq!(
        n as u64,
        summary["properties"]["pointCounts"]["standard"]
            .as_u64()
            .unwrap()
    );
    assert_eq!(
        json_of(&dir.path().join("one.units.json"))["wetMassPerArea"],
        "lb/ac"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn convert_names_display_data_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    let out = furrow(&[
        "convert",
        jd("Display data/GS2 - 2600 Documentation Data - Field 1.zip")
            .to_str()
            .unwrap(),
        "-o",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("JD_GS2") && err.contains("cannot be converted"),
        "{err}"
    );
}
