//! A minimal shapefile writer for tests: `.shp`, `.shx`, `.dbf`, and optional `.prj`/`.cpg`.

use std::path::{Path, PathBuf};

/// A shape to write.
#[derive(Debug, Clone)]
pub(crate) enum Shape {
    Null,
    Point(f64, f64),
    /// x, y, z, m.
    PointZ(f64, f64, f64, f64),
    MultiPoint(Vec<(f64, f64)>),
    /// Rings (closed by the writer when open).
    Polygon(Vec<Vec<(f64, f64)>>),
    /// Rings with a z per vertex.
    PolygonZ(Vec<Vec<(f64, f64, f64)>>),
}

/// A DBF column.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) kind: u8,
    pub(crate) len: u8,
    pub(crate) dec: u8,
}

pub(crate) fn field(name: &'static str, kind: u8, len: u8, dec: u8) -> Field {
    Field {
        name,
        kind,
        len,
        dec,
    }
}

/// A set to write.
#[derive(Debug, Clone)]
pub(crate) struct TestSet {
    pub(crate) shape_type: i32,
    pub(crate) fields: Vec<Field>,
    /// (deleted, cells as raw bytes, shape)
    pub(crate) records: Vec<(bool, Vec<Vec<u8>>, Shape)>,
    pub(crate) prj: Option<String>,
    pub(crate) cpg: Option<String>,
    pub(crate) ldid: u8,
    /// Overrides the record count written in the DBF header.
    pub(crate) dbf_count: Option<u32>,
}

impl TestSet {
    pub(crate) fn new(shape_type: i32, fields: Vec<Field>) -> TestSet {
        TestSet {
            shape_type,
            fields,
            records: Vec::new(),
            prj: None,
            cpg: None,
            ldid: 0x57,
            dbf_count: None,
        }
    }

    pub(crate) fn record(&mut self, cells: &[&str], shape: Shape) -> &mut Self {
        self.records.push((
            false,
            cells.iter().map(|c| c.as_bytes().to_vec()).collect(),
            shape,
        ));
        self
    }

    pub(crate) fn raw_record(
        &mut self,
        deleted: bool,
        cells: Vec<Vec<u8>>,
        shape: Shape,
    ) -> &mut Self {
        self.records.push((deleted, cells, shape));
        self
    }

    /// Writes `<dir>/<stem>.*`; returns the `.shp` path.
    pub(crate) fn write(&self, dir: &Path, stem: &str) -> PathBuf {
        let (shp, shx, bbox) = self.shp_bytes();
        let _ = bbox;
        std::fs::write(dir.join(format!("{stem}.shp")), shp).unwrap();
        std::fs::write(dir.join(format!("{stem}.shx")), shx).unwrap();
        std::fs::write(dir.join(format!("{stem}.dbf")), self.dbf_bytes()).unwrap();
        if let Some(prj) = &self.prj {
            std::fs::write(dir.join(format!("{stem}.prj")), prj).unwrap();
        }
        if let Some(cpg) = &self.cpg {
            std::fs::write(dir.join(format!("{stem}.cpg")), cpg).unwrap();
        }
        dir.join(format!("{stem}.shp"))
    }

    pub(crate) fn dbf_bytes(&self) -> Vec<u8> {
        let record_len: usize = 1 + self
            .fields
            .iter()
            .map(|f| usize::from(f.len))
            .sum::<usize>();
        let header_len = 32 + 32 * self.fields.len() + 1;
        let mut b = vec![0u8; 32];
        b[0] = 0x03;
        b[1] = 124;
        b[2] = 1;
        b[3] = 1;
        let count = self.dbf_count.unwrap_or(self.records.len() as u32);
        b[4..8].copy_from_slice(&count.to_le_bytes());
        b[8..10].copy_from_slice(&(header_len as u16).to_le_bytes());
        b[10..12].copy_from_slice(&(record_len as u16).to_le_bytes());
        b[29] = self.ldid;
        for f in &self.fields {
            let mut d = [0u8; 32];
            d[..f.name.len()].copy_from_slice(f.name.as_bytes());
            d[11] = f.kind;
            d[16] = f.len;
            d[17] = f.dec;
            b.extend_from_slice(&d);
        }
        b.push(0x0D);
        for (deleted, cells, _) in &self.records {
            b.push(if *deleted { b'*' } else { b' ' });
            for (f, c) in self.fields.iter().zip(cells) {
                let len = usize::from(f.len);
                let mut cell = vec![b' '; len];
                let c = &c[..c.len().min(len)];
                if matches!(f.kind, b'N' | b'F') {
                    cell[len - c.len()..].copy_from_slice(c);
                } else {
                    cell[..c.len()].copy_from_slice(c);
                }
                b.extend_from_slice(&cell);
            }
        }
        b.push(0x1A);
        b
    }

    pub(crate) fn shp_bytes(&self) -> (Vec<u8>, Vec<u8>, [f64; 4]) {
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut grow = |x: f64, y: f64| {
            bbox = [
                bbox[0].min(x),
                bbox[1].min(y),
                bbox[2].max(x),
                bbox[3].max(y),
            ];
        };
        let mut body = Vec::new();
        let mut index = Vec::new();
        for (i, (_, _, shape)) in self.records.iter().enumerate() {
            let mut c = Vec::new();
            match shape {
                Shape::Null => c.extend_from_slice(&0i32.to_le_bytes()),
                Shape::Point(x, y) => {
                    grow(*x, *y);
                    c.extend_from_slice(&1i32.to_le_bytes());
                    c.extend_from_slice(&x.to_le_bytes());
                    c.extend_from_slice(&y.to_le_bytes());
                }
                Shape::PointZ(x, y, z, m) => {
                    grow(*x, *y);
                    c.extend_from_slice(&11i32.to_le_bytes());
                    for v in [x, y, z, m] {
                        c.extend_from_slice(&v.to_le_bytes());
                    }
                }
                Shape::MultiPoint(points) => {
                    c.extend_from_slice(&8i32.to_le_bytes());
                    c.extend_from_slice(&[0u8; 32]);
                    c.extend_from_slice(&(points.len() as i32).to_le_bytes());
                    for (x, y) in points {
                        grow(*x, *y);
                        c.extend_from_slice(&x.to_le_bytes());
                        c.extend_from_slice(&y.to_le_bytes());
                    }
                }
                Shape::Polygon(rings) => {
                    let rings: Vec<Vec<(f64, f64, f64)>> = rings
                        .iter()
                        .map(|r| r.iter().map(|&(x, y)| (x, y, 0.0)).collect())
                        .collect();
                    polygon(&mut c, 5, &rings, &mut grow);
                }
                Shape::PolygonZ(rings) => polygon(&mut c, 15, rings, &mut grow),
            }
            let offset_words = (100 + body.len()) / 2;
            index.extend_from_slice(&(offset_words as i32).to_be_bytes());
            index.extend_from_slice(&((c.len() / 2) as i32).to_be_bytes());
            body.extend_from_slice(&((i + 1) as i32).to_be_bytes());
            body.extend_from_slice(&((c.len() / 2) as i32).to_be_bytes());
            body.extend_from_slice(&c);
        }
        if !bbox[0].is_finite() {
            bbox = [0.0; 4];
        }
        let header = |len: usize| {
            let mut h = vec![0u8; 100];
            h[0..4].copy_from_slice(&9994i32.to_be_bytes());
            h[24..28].copy_from_slice(&((len / 2) as i32).to_be_bytes());
            h[28..32].copy_from_slice(&1000i32.to_le_bytes());
            h[32..36].copy_from_slice(&self.shape_type.to_le_bytes());
            for (k, v) in bbox.iter().enumerate() {
                h[36 + 8 * k..44 + 8 * k].copy_from_slice(&v.to_le_bytes());
            }
            h
        };
        let mut shp = header(100 + body.len());
        shp.extend_from_slice(&body);
        let mut shx = header(100 + index.len());
        shx.extend_from_slice(&index);
        (shp, shx, bbox)
    }
}

fn polygon(
    c: &mut Vec<u8>,
    shape_type: i32,
    rings: &[Vec<(f64, f64, f64)>],
    grow: &mut impl FnMut(f64, f64),
) {
    let rings: Vec<Vec<(f64, f64, f64)>> = rings
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r.first() != r.last() {
                r.push(r[0]);
            }
            r
        })
        .collect();
    let n: usize = rings.iter().map(Vec::len).sum();
    c.extend_from_slice(&shape_type.to_le_bytes());
    c.extend_from_slice(&[0u8; 32]);
    c.extend_from_slice(&(rings.len() as i32).to_le_bytes());
    c.extend_from_slice(&(n as i32).to_le_bytes());
    let mut start = 0i32;
    for r in &rings {
        c.extend_from_slice(&start.to_le_bytes());
        start += r.len() as i32;
    }
    for r in &rings {
        for &(x, y, _) in r {
            grow(x, y);
            c.extend_from_slice(&x.to_le_bytes());
            c.extend_from_slice(&y.to_le_bytes());
        }
    }
    if shape_type == 15 {
        c.extend_from_slice(&[0u8; 16]);
        for r in &rings {
            for &(_, _, z) in r {
                c.extend_from_slice(&z.to_le_bytes());
            }
        }
    }
}
