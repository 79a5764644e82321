//! A streaming `.shp` decoder: the header, and records decoded one at a time into a batch's
//! coordinate buffers (points, and polygon rings with their centroid).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The geometry family of a shapefile set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GeometryKind {
    /// Point, PointZ or PointM: one position per record.
    Point,
    /// MultiPoint (Z/M): one position per record (the point, or the mean of several).
    MultiPoint,
    /// Polygon (Z/M), the swath of each record: the position is the polygon's centroid and the
    /// rings are kept.
    Polygon,
}

/// The name of a shape type code in the ESRI specification.
pub(crate) fn shape_type_name(code: i32) -> &'static str {
    match code {
        0 => "Null",
        1 => "Point",
        3 => "PolyLine",
        5 => "Polygon",
        8 => "MultiPoint",
        11 => "PointZ",
        13 => "PolyLineZ",
        15 => "PolygonZ",
        18 => "MultiPointZ",
        21 => "PointM",
        23 => "PolyLineM",
        25 => "PolygonM",
        28 => "MultiPointM",
        31 => "MultiPatch",
        _ => "unknown",
    }
}

fn kind_of(code: i32) -> Option<GeometryKind> {
    match code {
        1 | 11 | 21 => Some(GeometryKind::Point),
        8 | 18 | 28 => Some(GeometryKind::MultiPoint),
        5 | 15 | 25 => Some(GeometryKind::Polygon),
        _ => None,
    }
}

/// The `.shp` header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShpHeader {
    pub(crate) shape_type: i32,
    /// File length the header claims, in bytes.
    pub(crate) declared_len: u64,
    /// min x, min y, max x, max y.
    pub(crate) bbox: [f64; 4],
}

impl ShpHeader {
    pub(crate) fn parse(path: &Path, b: &[u8]) -> Result<ShpHeader> {
        let bad = |message: String| Error::Header {
            path: path.to_path_buf(),
            message,
        };
        if b.len() < 100 {
            return Err(bad(format!(
                "{} bytes, shorter than the 100-byte header",
                b.len()
            )));
        }
        let code = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        if code != 9994 {
            return Err(bad(format!("file code {code}, not 9994")));
        }
        let words = i32::from_be_bytes([b[24], b[25], b[26], b[27]]);
        let shape_type = i32::from_le_bytes([b[32], b[33], b[34], b[35]]);
        let f = |i: usize| f64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        Ok(ShpHeader {
            shape_type,
            declared_len: u64::from(words.max(0).unsigned_abs()) * 2,
            bbox: [f(36), f(44), f(52), f(60)],
        })
    }

    pub(crate) fn geometry_kind(&self, path: &Path) -> Result<Option<GeometryKind>> {
        if self.shape_type == 0 {
            return Ok(None);
        }
        match kind_of(self.shape_type) {
            Some(kind) => Ok(Some(kind)),
            None => Err(Error::UnsupportedShapeType {
                path: path.to_path_buf(),
                shape_type: self.shape_type,
                name: shape_type_name(self.shape_type),
            }),
        }
    }
}

/// Reads the first 100 bytes of a `.shp`, if it is one.
pub(crate) fn read_header(path: &Path) -> Result<(ShpHeader, u64)> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut b = Vec::with_capacity(100);
    (&mut file).take(100).read_to_end(&mut b).map_err(io)?;
    Ok((ShpHeader::parse(path, &b)?, size))
}

/// Polygon rings of a batch in lon/lat, laid out like GeoArrow's MultiPolygon: row → polygons →
/// rings → coordinates.
///
/// A row with a null geometry has no polygon. Rings are grouped into polygons by orientation, as
/// the Shapefile specification writes them: a clockwise ring starts a polygon, counter-clockwise
/// rings that follow are its holes (when a record has no clockwise ring, each ring is a polygon).
/// Rings are closed (first coordinate = last) as the file stores them.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Polygons {
    /// For row `i`, its polygons are `geom_offsets[i]..geom_offsets[i + 1]` (length rows + 1).
    pub geom_offsets: Vec<i32>,
    /// For polygon `p`, its rings are `polygon_offsets[p]..polygon_offsets[p + 1]`; the first is the exterior.
    pub polygon_offsets: Vec<i32>,
    /// For ring `r`, its coordinates are `ring_offsets[r]..ring_offsets[r + 1]`.
    pub ring_offsets: Vec<i32>,
    /// Longitudes (WGS 84, degrees).
    pub lon: Vec<f64>,
    /// Latitudes (WGS 84, degrees).
    pub lat: Vec<f64>,
}

impl Polygons {
    fn new() -> Polygons {
        Polygons {
            geom_offsets: vec![0],
            polygon_offsets: vec![0],
            ring_offsets: vec![0],
            lon: Vec::new(),
            lat: Vec::new(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.geom_offsets.len().saturating_sub(1)
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rings of row `row` as `(lon, lat)` slices, exteriors and holes in file order.
    pub fn rings(&self, row: usize) -> impl Iterator<Item = (&[f64], &[f64])> + '_ {
        let polys = self.geom_offsets[row] as usize..self.geom_offsets[row + 1] as usize;
        let rings = if polys.is_empty() {
            0..0
        } else {
            self.polygon_offsets[polys.start] as usize..self.polygon_offsets[polys.end] as usize
        };
        rings.map(move |r| {
            let c = self.ring_offsets[r] as usize..self.ring_offsets[r + 1] as usize;
            (&self.lon[c.clone()], &self.lat[c])
        })
    }

    fn end_row(&mut self) {
        self.geom_offsets
            .push(offset(self.polygon_offsets.len() - 1));
    }
}

fn offset(n: usize) -> i32 {
    // A .shp is at most 8 GiB by its header field, and a batch is a part of one file: coordinate
    // counts stay far below i32::MAX per batch (16 bytes a coordinate).
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Per-read counts of geometry faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GeomCounts {
    pub(crate) null: u64,
    pub(crate) multipoint_mean: u64,
    pub(crate) bad: u64,
    pub(crate) missing: u64,
}

/// Where decoded geometries go: positions, and rings when the set has polygons.
#[derive(Debug)]
pub(crate) struct GeomSink {
    pub(crate) x: Vec<f64>,
    pub(crate) y: Vec<f64>,
    pub(crate) polygons: Option<Polygons>,
}

impl GeomSink {
    pub(crate) fn new(polygons: bool, capacity: usize) -> GeomSink {
        GeomSink {
            x: Vec::with_capacity(capacity),
            y: Vec::with_capacity(capacity),
            polygons: polygons.then(Polygons::new),
        }
    }

    pub(crate) fn push_null(&mut self) {
        self.x.push(f64::NAN);
        self.y.push(f64::NAN);
        if let Some(p) = &mut self.polygons {
            p.end_row();
        }
    }
}

/// Streams the records of a `.shp`.
#[derive(Debug)]
pub(crate) struct ShpReader {
    path: PathBuf,
    reader: BufReader<File>,
    /// Bytes read so far.
    pos: u64,
    /// Usable length: the smaller of the header's and the file's.
    end: u64,
    buf: Vec<u8>,
    index: u64,
    done: bool,
    ring_scratch: Vec<RingInfo>,
}

#[derive(Debug, Clone, Copy)]
struct RingInfo {
    start: usize,
    end: usize,
    area2: f64,
}

impl ShpReader {
    pub(crate) fn open(path: &Path, end: u64) -> Result<ShpReader> {
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut header = [0u8; 100];
        file.read_exact(&mut header).map_err(io)?;
        Ok(ShpReader {
            path: path.to_path_buf(),
            reader: BufReader::with_capacity(1 << 16, file),
            pos: 100,
            end,
            buf: Vec::new(),
            index: 0,
            done: false,
            ring_scratch: Vec::new(),
        })
    }

    fn read(&mut self, n: usize) -> Result<bool> {
        // The caller has checked n against the file's length, so this never allocates more than the file.
        self.buf.resize(n, 0);
        let mut got = 0;
        while got < n {
            match self.reader.read(&mut self.buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Io {
                        path: self.path.clone(),
                        source,
                    });
                }
            }
        }
        self.pos += got as u64;
        Ok(got == n)
    }

    /// Decodes the next record into `sink` (one row). When the file has no more records, a null
    /// geometry is pushed and counted as missing.
    pub(crate) fn next_into(&mut self, sink: &mut GeomSink, counts: &mut GeomCounts) -> Result<()> {
        let index = self.index;
        self.index += 1;
        if self.done || self.pos + 8 > self.end {
            self.done = true;
            counts.missing += 1;
            sink.push_null();
            return Ok(());
        }
        // Fast path: the whole record is in the read buffer; decode it in place.
        if let Ok(avail) = self.reader.fill_buf() {
            if avail.len() >= 8 {
                let words = i32::from_be_bytes([avail[4], avail[5], avail[6], avail[7]]);
                let len = u64::from(words.max(0).unsigned_abs()) * 2;
                if words >= 2 && self.pos + 8 + len <= self.end && avail.len() as u64 >= 8 + len {
                    let total = 8 + len as usize;
                    decode(&avail[8..total], sink, counts, &mut self.ring_scratch);
                    self.reader.consume(total);
                    self.pos += total as u64;
                    return Ok(());
                }
            }
        }
        if !self.read(8)? {
            self.done = true;
            counts.missing += 1;
            sink.push_null();
            return Ok(());
        }
        let words = i32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]);
        let len = u64::from(words.max(0).unsigned_abs()) * 2;
        if words < 2 || self.pos + len > self.end {
            // A length that runs past the end (a truncated file, or a lie): nothing after it can
            // be trusted. The length is never used to allocate before this check.
            self.done = true;
            counts.bad += 1;
            sink.push_null();
            return Ok(());
        }
        let len = usize::try_from(len).map_err(|_| self.record_error(index, "record too large"))?;
        if !self.read(len)? {
            self.done = true;
            counts.bad += 1;
            sink.push_null();
            return Ok(());
        }
        decode(&self.buf, sink, counts, &mut self.ring_scratch);
        Ok(())
    }

    /// Reads past the next record (the shape of a deleted DBF record).
    pub(crate) fn skip(&mut self, counts: &mut GeomCounts) -> Result<()> {
        let mut sink = GeomSink::new(false, 1);
        let mut scratch = GeomCounts::default();
        self.next_into(&mut sink, &mut scratch)?;
        // A deleted record's shape faults are not the rows' faults, except a cut file.
        counts.bad += scratch.bad;
        Ok(())
    }

    /// True when records remain after the last one read.
    pub(crate) fn has_more(&self) -> bool {
        !self.done && self.pos + 8 <= self.end
    }

    fn record_error(&self, record: u64, message: &str) -> Error {
        Error::Record {
            path: self.path.clone(),
            record,
            message: message.to_string(),
        }
    }
}

#[inline]
fn f64_at(b: &[u8], i: usize) -> Option<f64> {
    b.get(i..i + 8).map(|s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        f64::from_le_bytes(a)
    })
}

#[inline]
fn i32_at(b: &[u8], i: usize) -> Option<i32> {
    b.get(i..i + 4)
        .map(|s| i32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes one record's content (shape type first) into one row of `sink`.
fn decode(b: &[u8], sink: &mut GeomSink, counts: &mut GeomCounts, scratch: &mut Vec<RingInfo>) {
    let Some(shape_type) = i32_at(b, 0) else {
        counts.bad += 1;
        sink.push_null();
        return;
    };
    match shape_type {
        0 => {
            counts.null += 1;
            sink.push_null();
        }
        1 | 11 | 21 => match (f64_at(b, 4), f64_at(b, 12)) {
            (Some(x), Some(y)) => {
                sink.x.push(x);
                sink.y.push(y);
                if let Some(p) = &mut sink.polygons {
                    p.end_row();
                }
            }
            _ => {
                counts.bad += 1;
                sink.push_null();
            }
        },
        8 | 18 | 28 => {
            let n = i32_at(b, 36).unwrap_or(-1);
            let Ok(n) = usize::try_from(n) else {
                counts.bad += 1;
                sink.push_null();
                return;
            };
            if n == 0 {
                counts.null += 1;
                sink.push_null();
                return;
            }
            if 40 + n.saturating_mul(16) > b.len() {
                counts.bad += 1;
                sink.push_null();
                return;
            }
            let (mut sx, mut sy) = (0.0, 0.0);
            for i in 0..n {
                sx += f64_at(b, 40 + 16 * i).unwrap_or(f64::NAN);
                sy += f64_at(b, 48 + 16 * i).unwrap_or(f64::NAN);
            }
            if n > 1 {
                counts.multipoint_mean += 1;
            }
            #[allow(clippy::cast_precision_loss)]
            let nf = n as f64;
            sink.x.push(sx / nf);
            sink.y.push(sy / nf);
            if let Some(p) = &mut sink.polygons {
                p.end_row();
            }
        }
        5 | 15 | 25 => decode_polygon(b, sink, counts, scratch),
        _ => {
            counts.bad += 1;
            sink.push_null();
        }
    }
}

fn bbox_of(b: &[u8], points_at: usize, n: usize) -> (f64, f64, f64, f64) {
    let (mut x0, mut y0, mut x1, mut y1) = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for i in 0..n {
        let x = f64_at(b, points_at + 16 * i).unwrap_or(f64::NAN);
        let y = f64_at(b, points_at + 16 * i + 8).unwrap_or(f64::NAN);
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    (x0, y0, x1, y1)
}

fn decode_polygon(
    b: &[u8],
    sink: &mut GeomSink,
    counts: &mut GeomCounts,
    rings: &mut Vec<RingInfo>,
) {
    let (Some(num_parts), Some(num_points)) = (i32_at(b, 36), i32_at(b, 40)) else {
        counts.bad += 1;
        sink.push_null();
        return;
    };
    let (Ok(num_parts), Ok(num_points)) = (usize::try_from(num_parts), usize::try_from(num_points))
    else {
        counts.bad += 1;
        sink.push_null();
        return;
    };
    if num_parts == 0 || num_points == 0 {
        counts.null += 1;
        sink.push_null();
        return;
    }
    let points_at = 44 + 4 * num_parts;
    if num_parts > b.len() / 4 || points_at + num_points.saturating_mul(16) > b.len() {
        counts.bad += 1;
        sink.push_null();
        return;
    }
    rings.clear();
    for part in 0..num_parts {
        let start = i32_at(b, 44 + 4 * part).unwrap_or(-1);
        let end = if part + 1 < num_parts {
            i32_at(b, 48 + 4 * part).unwrap_or(-1)
        } else {
            i32::try_from(num_points).unwrap_or(-1)
        };
        let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
            counts.bad += 1;
            sink.push_null();
            return;
        };
        if start >= end || end > num_points {
            counts.bad += 1;
            sink.push_null();
            return;
        }
        rings.push(RingInfo {
            start,
            end,
            area2: 0.0,
        });
    }
    let px = |i: usize| f64_at(b, points_at + 16 * i).unwrap_or(f64::NAN);
    let py = |i: usize| f64_at(b, points_at + 16 * i + 8).unwrap_or(f64::NAN);
    // Centroid from signed areas relative to the first vertex (keeps UTM-sized numbers precise).
    let (x0, y0) = (px(0), py(0));
    let (mut a_sum, mut cx_sum, mut cy_sum) = (0.0, 0.0, 0.0);
    for ring in rings.iter_mut() {
        let mut a2 = 0.0;
        for i in ring.start..ring.end {
            let j = if i + 1 < ring.end { i + 1 } else { ring.start };
            let (xi, yi, xj, yj) = (px(i) - x0, py(i) - y0, px(j) - x0, py(j) - y0);
            let cross = xi * yj - xj * yi;
            a2 += cross;
            cx_sum += (xi + xj) * cross;
            cy_sum += (yi + yj) * cross;
        }
        ring.area2 = a2;
        a_sum += a2;
    }
    let (bx0, by0, bx1, by1) = bbox_of(b, points_at, num_points);
    let area_centroid = (a_sum.abs() > 0.0 && a_sum.is_finite())
        .then(|| (x0 + cx_sum / (3.0 * a_sum), y0 + cy_sum / (3.0 * a_sum)))
        // A sliver whose signed areas cancel (a bow tie) has its area centroid anywhere: the
        // centroid of a real polygon lies inside its bounding box.
        .filter(|&(cx, cy)| cx >= bx0 && cx <= bx1 && cy >= by0 && cy <= by1);
    let (cx, cy) = if let Some(c) = area_centroid {
        c
    } else {
        // Degenerate (zero-area) swath: the mean of its vertices.
        let n = rings[0].end - rings[0].start;
        let (mut sx, mut sy) = (0.0, 0.0);
        for i in rings[0].start..rings[0].end {
            sx += px(i);
            sy += py(i);
        }
        #[allow(clippy::cast_precision_loss)]
        let nf = n as f64;
        (sx / nf, sy / nf)
    };
    sink.x.push(cx);
    sink.y.push(cy);
    if let Some(p) = &mut sink.polygons {
        let any_clockwise = rings.iter().any(|r| r.area2 < 0.0);
        for (k, ring) in rings.iter().enumerate() {
            let exterior = k == 0 || !any_clockwise || ring.area2 < 0.0;
            if exterior && k > 0 {
                p.polygon_offsets.push(offset(p.ring_offsets.len() - 1));
            }
            for i in ring.start..ring.end {
                p.lon.push(px(i));
                p.lat.push(py(i));
            }
            p.ring_offsets.push(offset(p.lon.len()));
        }
        p.polygon_offsets.push(offset(p.ring_offsets.len() - 1));
        p.end_row();
    }
}
