//! Shared helpers: a synthetic field of swaths, PNG decoding, pixel geometry.

use std::collections::BTreeMap;

use furrow_render::{Grid, Points};

pub(crate) const LON0: f64 = -93.49;
pub(crate) const LAT0: f64 = 41.77;
/// Metres per degree of latitude on the Web Mercator sphere.
pub(crate) const M_PER_DEG: f64 = 6_378_137.0 * std::f64::consts::PI / 180.0;

pub(crate) fn dlat(m: f64) -> f64 {
    m / M_PER_DEG
}

pub(crate) fn dlon(m: f64) -> f64 {
    m / (M_PER_DEG * LAT0.to_radians().cos())
}

/// A rectangle `[east0, east1] × [north0, north1]` metres from the field origin, as a lon/lat ring.
pub(crate) fn rect(east0: f64, east1: f64, north0: f64, north1: f64) -> Vec<[f64; 2]> {
    let (w, e) = (LON0 + dlon(east0), LON0 + dlon(east1));
    let (s, n) = (LAT0 + dlat(north0), LAT0 + dlat(north1));
    vec![[w, s], [e, s], [e, n], [w, n], [w, s]]
}

/// A field of `passes` east-going passes, `width` m apart, each of `per_pass` swaths `step` m long that
/// tile the rectangle exactly. Returns the points and each point's (pass, index along the pass).
pub(crate) fn field(
    passes: usize,
    per_pass: usize,
    width: f64,
    step: f64,
) -> (Points, Vec<(usize, usize)>) {
    let mut points = Points::with_capacity(passes * per_pass);
    let mut ids = Vec::with_capacity(passes * per_pass);
    for p in 0..passes {
        let north0 = p as f64 * width;
        for k in 0..per_pass {
            let east0 = k as f64 * step;
            let ring = rect(east0, east0 + step, north0, north0 + width);
            points.push_swath(
                LON0 + dlon(east0 + step / 2.0),
                LAT0 + dlat(north0 + width / 2.0),
                &[ring],
            );
            ids.push((p, k));
        }
    }
    (points, ids)
}

/// Decoded RGBA pixels.
pub(crate) struct Decoded {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) rgba: Vec<u8>,
}

impl Decoded {
    pub(crate) fn px(&self, col: u32, row: u32) -> [u8; 4] {
        let i = (row as usize * self.width as usize + col as usize) * 4;
        self.rgba[i..i + 4].try_into().unwrap()
    }

    /// Opaque colours and how many pixels each has; panics on a pixel neither opaque nor fully transparent.
    pub(crate) fn colours(&self) -> BTreeMap<[u8; 3], usize> {
        let mut m = BTreeMap::new();
        for px in self.rgba.chunks_exact(4) {
            match px[3] {
                255 => *m.entry([px[0], px[1], px[2]]).or_insert(0) += 1,
                0 => assert_eq!(px, [0, 0, 0, 0], "transparent pixels are all zero"),
                a => panic!("partial alpha {a}"),
            }
        }
        m
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Decoded {
    let dec = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = dec.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("one frame");
    assert_eq!(info.color_type, png::ColorType::Rgba);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buf.truncate(info.buffer_size());
    Decoded {
        width: info.width,
        height: info.height,
        rgba: buf,
    }
}

/// Longitude/latitude of a pixel centre of an EPSG:3857 grid.
pub(crate) fn pixel_lonlat(grid: &Grid, col: u32, row: u32) -> (f64, f64) {
    let x = grid.x0 + (f64::from(col) + 0.5) * grid.cell;
    let y = grid.y0 - (f64::from(row) + 0.5) * grid.cell;
    let lat = (2.0 * (y / 6_378_137.0).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (x / M_PER_DEG, lat)
}

/// Metres east and north of the field origin of a pixel centre.
pub(crate) fn pixel_metres(grid: &Grid, col: u32, row: u32) -> (f64, f64) {
    let (lon, lat) = pixel_lonlat(grid, col, row);
    ((lon - LON0) / dlon(1.0), (lat - LAT0) / dlat(1.0))
}

pub(crate) fn hex(rgb: [u8; 3]) -> String {
    furrow_render::hex_colour(rgb)
}
