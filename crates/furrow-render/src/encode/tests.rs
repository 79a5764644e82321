use super::*;
use crate::grid::{Grid, Projection};

#[test]
fn gdal_float_matches_printf() {
    assert_eq!(gdal_float(-10407493.0), "-1.0407493000000000e+07");
    // printf("%.16e", 1.1131949) prints the double's 17th digit too
    assert_eq!(gdal_float(1.1131949), "1.1131949000000001e+00");
    assert_eq!(gdal_float(0.0), "0.0000000000000000e+00");
    assert_eq!(gdal_float(-1.5e-5), "-1.5000000000000000e-05");
    assert_eq!(gdal_float(2.5e120), "2.5000000000000001e+120");
    for v in [-10407493.123456, 1.1131949079327356, 5127976.8] {
        assert_eq!(gdal_float(v).parse::<f64>().unwrap(), v);
    }
}

#[test]
fn aux_xml_has_srs_transform_and_band_name() {
    let g = Grid {
        projection: Projection::WebMercator,
        x0: -10407493.0,
        y0: 5127976.8,
        cell: 1.1131949,
        width: 3,
        height: 2,
    };
    let xml = aux_xml(&g, "wet<Mass>");
    assert!(xml.starts_with("<PAMDataset>\n  <SRS>PROJCS[&quot;WGS 84 / Pseudo-Mercator&quot;"));
    assert!(xml.contains("AUTHORITY[&quot;EPSG&quot;,&quot;3857&quot;]]</SRS>"));
    assert!(xml.contains(
        "<GeoTransform>-1.0407493000000000e+07, 1.1131949000000001e+00, 0.0000000000000000e+00, \
         5.1279767999999998e+06, 0.0000000000000000e+00, -1.1131949000000001e+00</GeoTransform>"
    ));
    assert!(
        xml.contains("<PAMRasterBand band=\"1\">\n    <Description>wet&lt;Mass&gt;</Description>")
    );
}

#[test]
fn png_round_trips() {
    let rgba = [255, 0, 0, 255, 0, 0, 0, 0];
    let bytes = png_rgba(&rgba, 2, 1).unwrap();
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (2, 1));
    assert_eq!(&buf[..8], &rgba);
}
