//! GeoTIFFs read back with the `tiff` crate.

use std::io::Cursor;

use furrow_render::{GEOTIFF_NODATA, Points, Projection, Property, RenderOptions, render_geotiff};
use tiff::decoder::{Decoder, DecodingResult};
use tiff::tags::Tag;

use crate::util::{LAT0, LON0, dlat, dlon, field};

#[test]
fn raw_values_georeferenced_in_epsg_4326() {
    // 600 × 300 m: more than one 256-cell tile each way at 0.00001°
    let (points, ids) = field(25, 150, 12.0, 4.0);
    let values: Vec<f64> = ids
        .iter()
        .map(|&(p, k)| p as f64 * 100.0 + k as f64 + 0.25)
        .collect();
    let img = render_geotiff(
        &points,
        &Property {
            name: "elevation",
            unit: "m",
            values: &values,
        },
        &RenderOptions::default(),
    )
    .unwrap();
    assert_eq!(img.grid.projection, Projection::Geographic);
    assert!((img.grid.cell - 1e-5).abs() < 1e-18);
    assert!(
        img.width > 256 && img.height > 256,
        "{} × {}",
        img.width,
        img.height
    );

    let mut dec = Decoder::new(Cursor::new(&img.tiff)).unwrap();
    assert_eq!(dec.dimensions().unwrap(), (img.width, img.height));
    assert_eq!(dec.get_tag_u32(Tag::TileWidth).unwrap(), 256);
    assert_eq!(dec.get_tag_u32(Tag::Compression).unwrap(), 8);
    assert_eq!(dec.get_tag_u32(Tag::SampleFormat).unwrap(), 3);
    let scale = dec.get_tag_f64_vec(Tag::ModelPixelScaleTag).unwrap();
    assert_eq!(scale, [img.grid.cell, img.grid.cell, 0.0]);
    let tie = dec.get_tag_f64_vec(Tag::ModelTiepointTag).unwrap();
    assert_eq!(tie, [0.0, 0.0, 0.0, img.extent.xmin, img.extent.ymax, 0.0]);
    let keys = dec.get_tag_u16_vec(Tag::GeoKeyDirectoryTag).unwrap();
    assert_eq!(
        keys,
        [1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326]
    );
    assert_eq!(dec.get_tag_ascii_string(Tag::GdalNodata).unwrap(), "-9999");
    let meta = dec.get_tag_ascii_string(Tag::Unknown(42112)).unwrap();
    assert!(
        meta.contains(r#"role="description">elevation</Item>"#),
        "{meta}"
    );

    let DecodingResult::F32(cells) = dec.read_image().unwrap() else {
        panic!("Float32")
    };
    assert_eq!(cells.len(), img.width as usize * img.height as usize);
    let w = img.width as usize;
    let (mut data, mut checked) = (0, 0);
    for (i, &v) in cells.iter().enumerate() {
        let (col, row) = (i % w, i / w);
        let lon = img.extent.xmin + (col as f64 + 0.5) * img.grid.cell;
        let lat = img.extent.ymax - (row as f64 + 0.5) * img.grid.cell;
        let (e, n) = ((lon - LON0) / dlon(1.0), (lat - LAT0) / dlat(1.0));
        if !(-0.01..=600.01).contains(&e) || !(-0.01..=300.01).contains(&n) {
            assert_eq!(v, GEOTIFF_NODATA, "cell {col},{row}");
        } else if v != GEOTIFF_NODATA {
            data += 1;
        }
        // away from swath edges the cell holds exactly its swath's value
        let (k, p) = (e / 4.0, n / 12.0);
        if (0.0..150.0).contains(&k)
            && (0.0..25.0).contains(&p)
            && k.fract() > 0.05
            && k.fract() < 0.95
            && p.fract() > 0.02
            && p.fract() < 0.98
        {
            let expect = p.floor() * 100.0 + k.floor() + 0.25;
            assert_eq!(v, expect as f32, "cell {col},{row}");
            checked += 1;
        }
    }
    assert!(checked > 100_000 && data >= checked, "{checked} {data}");
}

#[test]
fn one_cell_geotiff() {
    let mut points = Points::new();
    let p = [LON0, LAT0];
    points.push_swath(LON0, LAT0, &[[p, p, p]]);
    let img = render_geotiff(
        &points,
        &Property {
            name: "speed",
            unit: "m/s",
            values: &[2.5],
        },
        &RenderOptions::default(),
    )
    .unwrap();
    let mut dec = Decoder::new(Cursor::new(&img.tiff)).unwrap();
    assert_eq!(dec.dimensions().unwrap(), (1, 1));
    let DecodingResult::F32(cells) = dec.read_image().unwrap() else {
        panic!("Float32")
    };
    assert_eq!(cells, [2.5]);
}
