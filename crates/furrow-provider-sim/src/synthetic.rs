//! Synthetic machine files in the layouts providers really deliver, generated in code (no grower's data and no
//! third-party file is copied): Ag Leader SMS shapefile exports, Raven Slingshot shapefile exports, and
//! stand-ins for proprietary display files (Precision Planting 20|20, Ag Leader INTEGRA, Raven's native job
//! data and FMIS export) whose formats have no public specification.
//!
//! The shapefile sets are real shapefiles (`.shp`, `.shx`, `.dbf`, `.prj`): WGS 84 points in serpentine passes
//! inside one of the seeded fields, with values that vary smoothly across the field. The Ag Leader sets follow
//! SMS's column layout (names cut to 10 characters, units in the uncut names, `Time` and `Date` as DBF dates);
//! what Slingshot's shapefiles hold is not documented, so its sets use columns whose names state their unit
//! [A]. The proprietary stand-ins have the real files' names and extensions (which is how furrow recognises
//! them) and a text header saying what they are; their bytes are not the real formats.

use std::f64::consts::PI;
use std::io::Write;

/// `GEOGCS` WGS 84 in ESRI's flavour, as SMS and most exporters write it.
const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

/// Metres per degree of latitude (spherical; enough for synthetic passes).
const M_PER_DEG: f64 = 111_320.0;
const M_PER_FT: f64 = 0.3048;
const FT2_PER_AC: f64 = 43_560.0;

/// A deterministic number in `[0, 1)` for `(seed, i)` (splitmix64): the same input gives the same bytes.
fn unit_noise(seed: u64, i: u64) -> f64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(i.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// One logged position of a pass plan.
#[derive(Debug, Clone, Copy)]
struct Fix {
    lon: f64,
    lat: f64,
    /// Heading, degrees clockwise from north.
    heading: f64,
    /// 1-based pass number.
    pass: u32,
    /// Across the passes, 0..1.
    u: f64,
    /// Along the pass, 0..1.
    v: f64,
}

/// Serpentine north–south passes from the south-west corner `(lon, lat)`: `passes` passes `swath_m` apart,
/// `points` fixes each, `step_m` apart.
fn passes(lon: f64, lat: f64, passes: u32, points: u32, swath_m: f64, step_m: f64) -> Vec<Fix> {
    let m_per_deg_lon = M_PER_DEG * (lat * PI / 180.0).cos();
    let mut out = Vec::with_capacity((passes * points) as usize);
    for p in 0..passes {
        let x = lon + (f64::from(p) * swath_m) / m_per_deg_lon;
        let north = p % 2 == 0;
        for k in 0..points {
            let j = if north { k } else { points - 1 - k };
            out.push(Fix {
                lon: x,
                lat: lat + (f64::from(j) * step_m) / M_PER_DEG,
                heading: if north { 0.0 } else { 180.0 },
                pass: p + 1,
                u: f64::from(p) / f64::from(passes.max(2) - 1),
                v: f64::from(j) / f64::from(points.max(2) - 1),
            });
        }
    }
    out
}

/// A DBF cell.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Number(f64),
    /// `YYYYMMDD`.
    Date(&'static str),
}

/// A DBF column: name (cut to 10 characters in the file, as DBF does), type letter, width, decimals.
type Column = (&'static str, u8, u8, u8);

/// The four files of a point shapefile set named `stem`.
fn point_set(
    stem: &str,
    points: &[(f64, f64)],
    columns: &[Column],
    rows: &[Vec<Cell>],
) -> Vec<(String, Vec<u8>)> {
    let (shp, shx) = shp_and_shx(points);
    vec![
        (format!("{stem}.shp"), shp),
        (format!("{stem}.shx"), shx),
        (format!("{stem}.dbf"), dbf(columns, rows)),
        (format!("{stem}.prj"), WGS84_PRJ.as_bytes().to_vec()),
    ]
}

/// `.shp` and `.shx` of Point records (shape type 1).
fn shp_and_shx(points: &[(f64, f64)]) -> (Vec<u8>, Vec<u8>) {
    const RECORD: usize = 8 + 20;
    let n = points.len();
    let bbox = points.iter().fold(
        [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ],
        |b, &(x, y)| [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)],
    );
    let header = |length_bytes: usize| {
        let mut h = Vec::with_capacity(100);
        h.extend_from_slice(&9994i32.to_be_bytes());
        h.extend_from_slice(&[0u8; 20]);
        h.extend_from_slice(&((length_bytes / 2) as i32).to_be_bytes());
        h.extend_from_slice(&1000i32.to_le_bytes());
        h.extend_from_slice(&1i32.to_le_bytes());
        for v in bbox {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.extend_from_slice(&[0u8; 32]);
        h
    };
    let mut shp = header(100 + n * RECORD);
    let mut shx = header(100 + n * 8);
    for (i, &(x, y)) in points.iter().enumerate() {
        shx.extend_from_slice(&(((100 + i * RECORD) / 2) as i32).to_be_bytes());
        shx.extend_from_slice(&10i32.to_be_bytes());
        shp.extend_from_slice(&(i as i32 + 1).to_be_bytes());
        shp.extend_from_slice(&10i32.to_be_bytes());
        shp.extend_from_slice(&1i32.to_le_bytes());
        shp.extend_from_slice(&x.to_le_bytes());
        shp.extend_from_slice(&y.to_le_bytes());
    }
    (shp, shx)
}

/// A dBase III table (language driver 0x57: ANSI, Windows-1252).
fn dbf(columns: &[Column], rows: &[Vec<Cell>]) -> Vec<u8> {
    let header_len = 32 + 32 * columns.len() + 1;
    let record_len = 1 + columns.iter().map(|c| usize::from(c.2)).sum::<usize>();
    let mut out = Vec::with_capacity(header_len + record_len * rows.len() + 1);
    out.push(0x03);
    out.extend_from_slice(&[124, 1, 1]); // last update 2024-01-01
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    out.extend_from_slice(&(header_len as u16).to_le_bytes());
    out.extend_from_slice(&(record_len as u16).to_le_bytes());
    let mut reserved = [0u8; 20];
    reserved[17] = 0x57;
    out.extend_from_slice(&reserved);
    for &(name, kind, width, decimals) in columns {
        let mut d = [0u8; 32];
        d[..name.len().min(10)].copy_from_slice(&name.as_bytes()[..name.len().min(10)]);
        d[11] = kind;
        d[16] = width;
        d[17] = decimals;
        out.extend_from_slice(&d);
    }
    out.push(0x0D);
    for row in rows {
        out.push(b' ');
        for (cell, &(_, _, width, decimals)) in row.iter().zip(columns) {
            let w = usize::from(width);
            let text = match cell {
                Cell::Text(t) => format!("{t:<w$.w$}"),
                Cell::Number(v) => {
                    let s = format!("{v:>w$.d$}", d = usize::from(decimals));
                    if s.len() > w { "*".repeat(w) } else { s }
                }
                Cell::Date(d) => format!("{d:<w$.w$}"),
            };
            out.extend_from_slice(text.as_bytes());
        }
    }
    out.push(0x1A);
    out
}

/// A crop of an Ag Leader SMS harvest export.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Harvest {
    /// The set's file stem.
    pub(crate) stem: &'static str,
    /// SMS's `Field` text.
    pub(crate) field: &'static str,
    /// SMS's `Product` (the crop, upper case).
    pub(crate) product: &'static str,
    /// Test weight, lb/bu (60 soybeans, 56 corn).
    pub(crate) lb_per_bu: f64,
    /// The moisture dry yields are corrected to, % (13 soybeans, 15.5 corn).
    pub(crate) standard_moisture: f64,
    /// Mean dry yield, bu/ac.
    pub(crate) dry_bu_ac: f64,
    /// The harvest date, `YYYYMMDD`.
    pub(crate) date: &'static str,
    /// South-west corner of the passes, inside the field.
    pub(crate) origin: (f64, f64),
    /// Passes and fixes per pass.
    pub(crate) size: (u32, u32),
    /// Noise seed.
    pub(crate) seed: u64,
}

/// SMS's column layout for a harvest (imperial export): the order and types SMS writes.
const SMS_HARVEST: &[Column] = &[
    ("Field", b'C', 40, 0),
    ("Dataset", b'C', 40, 0),
    ("Product", b'C', 40, 0),
    ("Obj__Id", b'N', 15, 4),
    ("Distance_f", b'N', 15, 4),
    ("Track_deg_", b'N', 15, 4),
    ("Duration_s", b'N', 15, 4),
    ("Elevation_", b'N', 15, 4),
    ("Time", b'D', 8, 0),
    ("Swth_Wdth_", b'N', 15, 4),
    ("Crop_Flw_M", b'N', 15, 4),
    ("Moisture__", b'N', 15, 4),
    ("Yld_Mass_W", b'N', 15, 4),
    ("Yld_Vol_We", b'N', 15, 4),
    ("Yld_Mass_D", b'N', 15, 4),
    ("Yld_Vol_Dr", b'N', 15, 4),
    ("Work_State", b'C', 8, 0),
    ("Pass_Num", b'N', 15, 4),
    ("Speed_mph_", b'N', 15, 4),
    ("Prod_ac_hr", b'N', 15, 4),
    ("Crop_Flw_V", b'N', 15, 4),
    ("Date", b'D', 8, 0),
];

impl Harvest {
    /// Records in the set.
    #[cfg(test)]
    pub(crate) fn records(&self) -> usize {
        (self.size.0 * self.size.1) as usize
    }

    /// The set's files: a combine with a 30 ft head logging every second at about 4.5 mph.
    pub(crate) fn files(&self) -> Vec<(String, Vec<u8>)> {
        const WIDTH_FT: f64 = 30.0;
        const STEP_FT: f64 = 6.6;
        let fixes = passes(
            self.origin.0,
            self.origin.1,
            self.size.0,
            self.size.1,
            WIDTH_FT * M_PER_FT,
            STEP_FT * M_PER_FT,
        );
        let dataset = format!(
            "{}/{}/{}-10:14:05 ({})",
            &self.date[2..4],
            &self.date[4..6],
            &self.date[6..8],
            1_900_000_000 + self.seed
        );
        let mut points = Vec::with_capacity(fixes.len());
        let mut rows = Vec::with_capacity(fixes.len());
        for (i, f) in fixes.iter().enumerate() {
            let n = |k: u64| unit_noise(self.seed * 16 + k, i as u64);
            let speed_mph = 4.5 * (0.96 + 0.08 * n(0));
            let duration = 1.0;
            let distance_ft = speed_mph * 5280.0 / 3600.0 * duration;
            let moisture = 12.0 + 2.5 * f.u + 0.6 * n(1);
            let dry = self.dry_bu_ac
                * (0.85 + 0.25 * (f.v * PI).sin() + 0.1 * (f.u * 2.0 * PI).cos())
                * (0.93 + 0.14 * n(2));
            let wet = dry * (100.0 - self.standard_moisture) / (100.0 - moisture);
            let ac_per_s = WIDTH_FT * distance_ft / FT2_PER_AC / duration;
            let flow_lb_s = wet * self.lb_per_bu * ac_per_s;
            points.push((f.lon, f.lat));
            rows.push(vec![
                Cell::Text(self.field.to_owned()),
                Cell::Text(dataset.clone()),
                Cell::Text(self.product.to_owned()),
                Cell::Number((i + 1) as f64),
                Cell::Number(distance_ft),
                Cell::Number(f.heading + 0.4 * (n(3) - 0.5)),
                Cell::Number(duration),
                Cell::Number(905.0 + 18.0 * f.v - 7.0 * f.u + 0.3 * n(4)),
                Cell::Date(self.date),
                Cell::Number(WIDTH_FT),
                Cell::Number(flow_lb_s),
                Cell::Number(moisture),
                Cell::Number(wet * self.lb_per_bu),
                Cell::Number(wet),
                Cell::Number(dry * self.lb_per_bu),
                Cell::Number(dry),
                Cell::Text("In".into()),
                Cell::Number(f64::from(f.pass)),
                Cell::Number(speed_mph),
                Cell::Number(WIDTH_FT * speed_mph / 8.25),
                Cell::Number(flow_lb_s * 3600.0 / self.lb_per_bu),
                Cell::Date(self.date),
            ]);
        }
        point_set(self.stem, &points, SMS_HARVEST, &rows)
    }
}

/// A Raven Slingshot application job as its shapefile export (`format=shp`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Application {
    /// The set's file stem.
    pub(crate) stem: &'static str,
    /// The product applied.
    pub(crate) product: &'static str,
    /// Target rate, gal/ac.
    pub(crate) target_gal_ac: f64,
    /// Start, ISO 8601 UTC without the `Z` (`2024-05-14T15:00:00`); one fix a second from there.
    pub(crate) start: &'static str,
    /// South-west corner of the passes, inside the field.
    pub(crate) origin: (f64, f64),
    /// Passes and fixes per pass.
    pub(crate) size: (u32, u32),
    /// Noise seed.
    pub(crate) seed: u64,
}

/// The columns of the simulated Slingshot shapefile export [A]: names that state their unit (the generic
/// profile maps those), cut to 10 characters as DBF does. Heading is `Heading_deg`: a `Track_deg` column would
/// read as Ag Leader SMS's `Track_deg_`.
const SLINGSHOT_APPLICATION: &[Column] = &[
    ("Product", b'C', 40, 0),
    ("Applied_gal_ac", b'N', 12, 3),
    ("Target_gal", b'N', 12, 3),
    ("Speed_mph", b'N', 10, 2),
    ("Heading_deg", b'N', 10, 2),
    ("Width_ft", b'N', 10, 2),
    ("Elev_ft", b'N', 10, 2),
    ("DateTime", b'C', 24, 0),
];

impl Application {
    /// Records in the set.
    #[cfg(test)]
    pub(crate) fn records(&self) -> usize {
        (self.size.0 * self.size.1) as usize
    }

    /// The set's files: a self-propelled sprayer with a 90 ft boom at about 12 mph, one fix a second.
    pub(crate) fn files(&self) -> Vec<(String, Vec<u8>)> {
        const WIDTH_FT: f64 = 90.0;
        const STEP_M: f64 = 5.4;
        let fixes = passes(
            self.origin.0,
            self.origin.1,
            self.size.0,
            self.size.1,
            WIDTH_FT * M_PER_FT,
            STEP_M,
        );
        let (date, clock) = self
            .start
            .split_once('T')
            .unwrap_or((self.start, "00:00:00"));
        let start_s: u32 = clock
            .split(':')
            .map(|p| p.parse::<u32>().unwrap_or(0))
            .fold(0, |acc, p| acc * 60 + p);
        let mut points = Vec::with_capacity(fixes.len());
        let mut rows = Vec::with_capacity(fixes.len());
        for (i, f) in fixes.iter().enumerate() {
            let n = |k: u64| unit_noise(self.seed * 16 + k, i as u64);
            // Each pass turns for 20 s at the headland.
            let t = start_s + i as u32 + 20 * (f.pass - 1);
            let time = format!(
                "{date}T{:02}:{:02}:{:02}Z",
                (t / 3600) % 24,
                (t / 60) % 60,
                t % 60
            );
            points.push((f.lon, f.lat));
            rows.push(vec![
                Cell::Text(self.product.to_owned()),
                Cell::Number(self.target_gal_ac * (0.97 + 0.06 * n(0))),
                Cell::Number(self.target_gal_ac),
                Cell::Number(STEP_M / M_PER_FT * 3600.0 / 5280.0 * (0.97 + 0.06 * n(1))),
                Cell::Number(f.heading + 0.5 * (n(2) - 0.5)),
                Cell::Number(WIDTH_FT),
                Cell::Number(1010.0 + 12.0 * f.v + 4.0 * f.u),
                Cell::Text(time),
            ]);
        }
        point_set(self.stem, &points, SLINGSHOT_APPLICATION, &rows)
    }
}

/// A stand-in for a proprietary file: a header naming what it stands for, then `len` deterministic bytes (real
/// display files are binary and do not compress).
pub(crate) fn proprietary(what: &str, len: usize, seed: u64) -> Vec<u8> {
    let mut out = format!(
        "furrow-sim stand-in for {what}. The real format has no public specification; furrow keeps such files \
         and reports them unsupported.\n"
    )
    .into_bytes();
    out.extend((0..len as u64).map(|i| (unit_noise(seed, i) * 256.0) as u8));
    out
}

/// A zip of one proprietary stand-in per `(path, what, len)`, stored (their bytes do not compress).
pub(crate) fn proprietary_zip(entries: &[(&str, &str, usize)], seed: u64) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        for (i, (path, what, len)) in entries.iter().enumerate() {
            if z.start_file(*path, opts).is_ok() {
                let _ = z.write_all(&proprietary(what, *len, seed + i as u64));
            }
        }
        let _ = z.finish();
    }
    out.into_inner()
}
