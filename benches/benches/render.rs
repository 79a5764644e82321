//! furrow-render: 1 M swath polygons into a 2,048 px image (PNG V2 classes, PNG V1 ramp, GeoTIFF), and
//! 1 M square footprints. The same synthetic field is drawn by `scripts/render-peer.py` with GeoPandas
//! `plot` + matplotlib `savefig` for the side-by-side figure in `benches/README.md`.
//!
//! `FURROW_RENDER_OUT=DIR` also writes the images, side files and legend there (to look at them, or to
//! open them in QGIS/GDAL).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use furrow_render::{Points, Property, RenderOptions, render_geotiff, render_png};
use std::hint::black_box;
use std::time::Duration;

// Keep in step with scripts/render-peer.py.
const PASSES: usize = 400;
const PER_PASS: usize = 2_500;
const WIDTH_M: f64 = 12.0;
const STEP_M: f64 = 2.0;
const TILT_DEG: f64 = 10.0;
const LON0: f64 = -93.50;
const LAT0: f64 = 41.76;
const M_PER_DEG: f64 = 6_378_137.0 * std::f64::consts::PI / 180.0;

/// Serpentine passes tilted by 10°, one swath quadrilateral per point, yield-like values with a high strip
/// (passes 150..160) and a little deterministic noise.
fn field(squares: bool) -> (Points, Vec<f64>) {
    let (sin, cos) = TILT_DEG.to_radians().sin_cos();
    let m_per_lon = M_PER_DEG * LAT0.to_radians().cos();
    let to_ll = |e: f64, n: f64| [LON0 + e / m_per_lon, LAT0 + n / M_PER_DEG];
    let mut points = Points::with_capacity(PASSES * PER_PASS);
    let mut values = Vec::with_capacity(PASSES * PER_PASS);
    for p in 0..PASSES {
        for k in 0..PER_PASS {
            let i = p * PER_PASS + k;
            let along = if p % 2 == 0 {
                k as f64 + 0.5
            } else {
                (PER_PASS - k) as f64 - 0.5
            } * STEP_M;
            let across = (p as f64 + 0.5) * WIDTH_M;
            let e = along * cos - across * sin;
            let n = along * sin + across * cos;
            let [lon, lat] = to_ll(e, n);
            if squares {
                points.push_square(lon, lat, Some(WIDTH_M));
            } else {
                let (da, dc) = (STEP_M / 2.0, WIDTH_M / 2.0);
                let corner = |a: f64, c: f64| to_ll(e + a * cos - c * sin, n + a * sin + c * cos);
                let ring = [
                    corner(-da, -dc),
                    corner(da, -dc),
                    corner(da, dc),
                    corner(-da, dc),
                ];
                points.push_swath(lon, lat, &[ring]);
            }
            let noise = ((i as u64 * 2_654_435_761) % (1 << 32)) as f64 / 4_294_967_296.0 - 0.5;
            let strip = if (150..160).contains(&p) { 3.0 } else { 0.0 };
            values.push(8.0 + 2.0 * (e / 300.0).sin() * (n / 200.0).cos() + strip + noise);
        }
    }
    (points, values)
}

fn bench(c: &mut Criterion) {
    let (swaths, values) = field(false);
    let (squares, _) = field(true);
    let property = Property {
        name: "wetMassPerArea",
        unit: "t/ha",
        values: &values,
    };
    let v2 = RenderOptions::operation_v2().with_max_side(2048);
    let v1 = RenderOptions::file_v1().with_max_side(2048);

    if let Some(dir) = std::env::var_os("FURROW_RENDER_OUT") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("output dir");
        let img = render_png(&swaths, &property, &v2).expect("render");
        std::fs::write(dir.join("v2.png"), &img.png).expect("write");
        std::fs::write(dir.join("v2.png.aux.xml"), &img.aux_xml).expect("write");
        let legend = serde_json::json!({"legend": img.legend, "extent": img.extent});
        std::fs::write(dir.join("v2.json"), legend.to_string()).expect("write");
        let img = render_png(&swaths, &property, &v1).expect("render");
        std::fs::write(dir.join("v1.png"), &img.png).expect("write");
        std::fs::write(dir.join("v1.png.aux.xml"), &img.aux_xml).expect("write");
        let tif = render_geotiff(&swaths, &property, &v2).expect("render");
        std::fs::write(dir.join("raw.tif"), &tif.tiff).expect("write");
    }

    let mut g = c.benchmark_group("render_1M_points_2048px");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(values.len() as u64));
    g.bench_function("png_v2_swaths", |b| {
        b.iter(|| render_png(black_box(&swaths), &property, &v2).expect("render"))
    });
    g.bench_function("png_v1_swaths", |b| {
        b.iter(|| render_png(black_box(&swaths), &property, &v1).expect("render"))
    });
    g.bench_function("png_v2_squares_12m", |b| {
        b.iter(|| render_png(black_box(&squares), &property, &v2).expect("render"))
    });
    g.bench_function("geotiff_swaths", |b| {
        b.iter(|| render_geotiff(black_box(&swaths), &property, &v2).expect("render"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
