//! Images drawn from stored standard points, read back pixel by pixel: swaths from width, distance and
//! heading, the filtered points for operations, transparency where there is no value.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use furrow_geoparquet::{GeoParquetOptions, GeoParquetWriter};
use furrow_pipeline::{
    ImageOwner, NO_VALUE, OperationInput, Settings, build_operation, render_file_images,
    render_operation_images,
};
use furrow_render::{Grid, Legend};

const LON0: f64 = -93.49;
const LAT0: f64 = 41.77;
const R: f64 = 6_378_137.0;
const PASSES: usize = 10;
const PER_PASS: usize = 50;
const WIDTH: f64 = 12.0;
const STEP: f64 = 2.0;
const HIGH_PASS: usize = 4;
const SLOW_PASS: usize = 9;
const HOLE: (usize, usize) = (7, 25);

fn dlat(m: f64) -> f64 {
    m / (6_371_008.8 * std::f64::consts::PI / 180.0)
}

fn dlon(m: f64) -> f64 {
    dlat(m) / LAT0.to_radians().cos()
}

fn yield_of(pass: usize, k: usize) -> Option<f64> {
    if (pass, k) == HOLE {
        None
    } else if pass == HIGH_PASS {
        Some(20.0)
    } else {
        Some(8.0 + (k % 5) as f64)
    }
}

/// Where a point of `pass` at step `k` is (the front of its swath: the harvester heads east).
fn position(pass: usize, k: usize) -> (f64, f64) {
    (
        LON0 + dlon(STEP * (k + 1) as f64),
        LAT0 + dlat(WIDTH * pass as f64 + WIDTH / 2.0),
    )
}

/// The middle of the swath of a point.
fn swath_centre(pass: usize, k: usize) -> (f64, f64) {
    let (x, y) = position(pass, k);
    (x - dlon(STEP / 2.0), y)
}

/// A standard harvest GeoParquet: 10 east-going passes of 12 m, a point every 2 m; pass 4 yields 20 t/ha,
/// the others 8–12; one point has no yield; pass 9 crawls at 0.1 m/s (the filtered view drops it).
fn write_harvest(path: &Path) {
    let unit = |name: &str, u: &str| {
        Field::new(name, DataType::Float64, true)
            .with_metadata(HashMap::from([("unit".to_owned(), u.to_owned())]))
    };
    let schema = Arc::new(Schema::new_with_metadata(
        vec![
            Field::new("x", DataType::Float64, false),
            Field::new("y", DataType::Float64, false),
            unit("heading", "deg"),
            unit("distance", "m"),
            unit("equipmentWidth", "m"),
            unit("speed", "m/s"),
            unit("wetMassPerArea", "t/ha"),
        ],
        HashMap::from([("unitSystem".to_owned(), "METRIC".to_owned())]),
    ));
    let (mut xs, mut ys, mut speed, mut wet) = (vec![], vec![], vec![], vec![]);
    for pass in 0..PASSES {
        for k in 0..PER_PASS {
            let (x, y) = position(pass, k);
            xs.push(x);
            ys.push(y);
            speed.push(if pass == SLOW_PASS { 0.1 } else { 2.0 });
            wet.push(yield_of(pass, k));
        }
    }
    let n = xs.len();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(xs)),
        Arc::new(Float64Array::from(ys)),
        Arc::new(Float64Array::from(vec![90.0; n])),
        Arc::new(Float64Array::from(vec![STEP; n])),
        Arc::new(Float64Array::from(vec![WIDTH; n])),
        Arc::new(Float64Array::from(speed)),
        Arc::new(Float64Array::from(wet)),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = GeoParquetWriter::try_new(f, schema, &GeoParquetOptions::default()).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
}

struct Decoded {
    width: u32,
    height: u32,
    rgba: Vec<u8>,
}

fn decode(png: &[u8]) -> Decoded {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    Decoded {
        width: info.width,
        height: info.height,
        rgba: buf,
    }
}

impl Decoded {
    /// The pixel under a longitude/latitude of a Web Mercator grid.
    fn at(&self, grid: &Grid, lon: f64, lat: f64) -> [u8; 4] {
        let x = R * lon.to_radians();
        let y = R
            * (std::f64::consts::FRAC_PI_4 + lat.to_radians() / 2.0)
                .tan()
                .ln();
        let col = ((x - grid.x0) / grid.cell).floor() as usize;
        let row = ((grid.y0 - y) / grid.cell).floor() as usize;
        assert!(col < self.width as usize && row < self.height as usize);
        let i = (row * self.width as usize + col) * 4;
        self.rgba[i..i + 4].try_into().unwrap()
    }

    fn opaque_colours(&self) -> BTreeSet<[u8; 3]> {
        self.rgba
            .chunks_exact(4)
            .filter(|p| p[3] == 255)
            .map(|p| [p[0], p[1], p[2]])
            .collect()
    }
}

#[test]
fn a_files_v1_images_draw_its_swaths_with_the_ramp_and_leave_holes_transparent() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("standard.parquet");
    write_harvest(&parquet);
    let images =
        render_file_images(&parquet, &["wetMassPerArea", "speed", "harvestMoisture"]).unwrap();
    assert_eq!(images.points, (PASSES * PER_PASS) as u64);
    let drawn: Vec<_> = images.pngs.iter().map(|p| p.property.as_str()).collect();
    assert_eq!(drawn, ["speed", "wetMassPerArea"], "sorted by property");
    assert_eq!(
        images.skipped,
        [("harvestMoisture".to_owned(), NO_VALUE.to_owned())]
    );
    assert_eq!(images.failures().count(), 0);
    let png = &images.pngs[1];
    let img = decode(&png.png);
    assert_eq!((img.width, img.height), (png.width, png.height));
    // 100 m east to west in cells of 0.00001° (0.83 m on the ground at this latitude), with a margin.
    assert!((120..=150).contains(&img.width), "{}", img.width);
    let Legend::Ramp(legend) = &png.legend else {
        panic!("V1 images carry a ramp: {:?}", png.legend)
    };
    assert_eq!((legend.min, legend.max), (8.0, 20.0));
    assert_eq!(legend.unit, "t/ha");
    // The high strip is the ramp's 100 % colour, the lowest points its 0 %.
    let (x, y) = swath_centre(HIGH_PASS, 20);
    assert_eq!(img.at(&png.grid, x, y), [0, 130, 0, 255]);
    let (x, y) = swath_centre(2, 10);
    assert_eq!(img.at(&png.grid, x, y), [200, 0, 0, 255]);
    // The swath is the 2 m behind the point, 12 m across: 5 m north of the travel line is still drawn.
    let (x, y) = swath_centre(HIGH_PASS, 20);
    assert_eq!(img.at(&png.grid, x, y + dlat(5.0)), [0, 130, 0, 255]);
    // The point without a yield leaves its swath transparent.
    let (x, y) = swath_centre(HOLE.0, HOLE.1);
    assert_eq!(img.at(&png.grid, x, y)[3], 0);
    // The side file georeferences the PNG in Web Mercator.
    assert!(png.aux_xml.contains("3857"), "{}", png.aux_xml);
    // Speed is drawn too, with every point (the file view does not filter).
    let speed = &images.pngs[0];
    let Legend::Ramp(legend) = &speed.legend else {
        panic!()
    };
    assert_eq!((legend.min, legend.max), (0.1, 2.0));
}

#[test]
fn an_operations_v2_images_come_from_its_filtered_points_in_seven_classes() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("standard.parquet");
    write_harvest(&parquet);
    let settings = Settings {
        remove_outliers: false,
        ..Settings::default()
    };
    let input = OperationInput::new("harvested", vec![(parquet, None)], None, &settings);
    let built = build_operation(&input).unwrap();
    let images =
        render_operation_images(&input, Some(&built.filter), &["wetMassPerArea"], true).unwrap();
    // The slow pass is filtered out.
    assert_eq!(images.points, ((PASSES - 1) * PER_PASS) as u64);
    assert_eq!(images.pngs.len(), 1);
    assert_eq!(images.geotiffs.len(), 1);
    assert!(images.geotiffs[0].tiff.starts_with(b"II*\0"));
    let png = &images.pngs[0];
    let img = decode(&png.png);
    let Legend::Classes(legend) = &png.legend else {
        panic!("V2 images carry classes: {:?}", png.legend)
    };
    // Values 8..12 and 20: the quantile breaks merge where values repeat, so there may be fewer than 7.
    assert!(!legend.ranges.is_empty() && legend.ranges.len() <= 7);
    assert_eq!(img.opaque_colours().len(), legend.ranges.len());
    // The legend covers every filtered value.
    assert_eq!(legend.ranges[0].min, 8.0);
    assert_eq!(legend.ranges.last().unwrap().max, 20.0);
    // The high strip is the top class colour.
    let top = furrow_render::parse_hex_colour(&legend.ranges.last().unwrap().color_code).unwrap();
    let (x, y) = swath_centre(HIGH_PASS, 30);
    let px = img.at(&png.grid, x, y);
    assert_eq!([px[0], px[1], px[2], px[3]], [top[0], top[1], top[2], 255]);
    // The slow pass and the point without a value are transparent.
    let (x, y) = swath_centre(SLOW_PASS, 10);
    assert_eq!(img.at(&png.grid, x, y)[3], 0);
    let (x, y) = swath_centre(HOLE.0, HOLE.1);
    assert_eq!(img.at(&png.grid, x, y)[3], 0);
    // Without the filtered view the slow pass is drawn.
    let all = render_operation_images(&input, None, &["wetMassPerArea"], false).unwrap();
    assert_eq!(all.points, (PASSES * PER_PASS) as u64);
    assert!(all.geotiffs.is_empty());
    let png = &all.pngs[0];
    let img = decode(&png.png);
    let (x, y) = swath_centre(SLOW_PASS, 10);
    assert_eq!(img.at(&png.grid, x, y)[3], 255);
}

#[test]
fn objects_and_manifest_name_the_download_paths() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("standard.parquet");
    write_harvest(&parquet);
    let mut cfg = furrow_model::config_defaults();
    cfg.insert("operationsImageCreation".into(), true.into());
    cfg.insert("operationsImageAsGeoTiff".into(), true.into());
    cfg.insert(
        "operationsImageAttributeCreation".into(),
        serde_json::json!({"harvested": {"wetMassPerArea": true, "speed": false, "elevation": true}}),
    );
    let settings = Settings::from_config(&cfg);
    let choice = settings.images_for("harvested");
    assert_eq!(choice.properties, ["elevation", "wetMassPerArea"]);
    assert!(settings.images_for("planted").is_empty());
    let input = OperationInput::new("harvested", vec![(parquet, None)], None, &settings);
    let images = render_operation_images(&input, None, &choice.properties, choice.geotiff).unwrap();
    let (objects, manifest) = images.into_objects(ImageOwner::Operation, "v3", &choice);
    let names: Vec<_> = objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "imagesV2/wetMassPerArea.png.aux.xml",
            "imagesV2/wetMassPerArea.png",
            "geotiff/wetMassPerArea.tif",
            "images.json"
        ]
    );
    let stored: furrow_pipeline::ImageManifest =
        serde_json::from_slice(&objects.last().unwrap().bytes).unwrap();
    assert_eq!(stored, manifest);
    assert_eq!(manifest.images.len(), 1);
    assert_eq!(manifest.geotiffs, ["wetMassPerArea"]);
    assert_eq!(
        manifest.skipped,
        [("elevation".to_owned(), NO_VALUE.to_owned())]
    );
    assert!(manifest.is_current("v3", &choice));
    assert!(!manifest.is_current("v4", &choice));
    let mut fewer = choice.clone();
    fewer.properties.pop();
    assert!(!manifest.is_current("v3", &fewer));
    // Switched off, nothing is chosen.
    cfg.insert("operationsImageCreation".into(), false.into());
    assert!(
        Settings::from_config(&cfg)
            .images_for("harvested")
            .is_empty()
    );
}
