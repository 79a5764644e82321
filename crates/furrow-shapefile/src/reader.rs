//! Opening a set and reading it in columnar batches.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::crs::{Crs, Reprojector};
use crate::dbf::{CodePage, DbfField, DbfHeader};
use crate::error::{Error, Result, Warning, WarningKind};
use crate::profile::{self, DeereMetadata, JD_CROP_CODES, Profile, Role, Target, TimeKind};
use crate::set::ShapefileSet;
use crate::shp::{self, GeomCounts, GeomSink, GeometryKind, Polygons, ShpReader};
use crate::text::{self, Clock, DayCache, Num};

/// Rows per batch unless [`ReadOptions::batch_size`] says otherwise (64 Ki).
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// Options of [`ShapefileSet::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// Rows per batch (at least 1). Memory is bounded by it: about one DBF record and 50 bytes of
    /// columns per row, plus the polygon coordinates.
    pub batch_size: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

/// A text column: UTF-8 values laid out like Arrow's `StringArray` (offsets into one buffer),
/// with a validity flag per row (blank cells are null).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextColumn {
    offsets: Vec<i32>,
    data: String,
    valid: Vec<bool>,
}

impl TextColumn {
    fn with_capacity(rows: usize) -> TextColumn {
        let mut offsets = Vec::with_capacity(rows + 1);
        offsets.push(0);
        TextColumn {
            offsets,
            data: String::new(),
            valid: Vec::with_capacity(rows),
        }
    }

    fn push(&mut self, value: Option<&str>) {
        if let Some(v) = value {
            self.data.push_str(v);
        }
        self.valid.push(value.is_some());
        self.offsets
            .push(i32::try_from(self.data.len()).unwrap_or(i32::MAX));
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.valid.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.valid.is_empty()
    }

    /// The value of row `i` (None when null or out of range).
    pub fn get(&self, i: usize) -> Option<&str> {
        if !*self.valid.get(i)? {
            return None;
        }
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        self.data.get(a..b)
    }

    /// The values in row order.
    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Arrow's layout: `(offsets (rows + 1), values buffer, validity per row)`.
    pub fn into_parts(self) -> (Vec<i32>, String, Vec<bool>) {
        (self.offsets, self.data, self.valid)
    }
}

/// The values of one output column.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ColumnData {
    /// Numbers; NaN is a missing value (blank cell, `*****` overflow, unparsable text).
    Number(Vec<f64>),
    /// Text; blank cells are null.
    Text(TextColumn),
}

/// One output column of a batch: a mapped property (named by it, in its METRIC unit) or an extra
/// (named as in the DBF, values as they are).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Column {
    /// The property name, or the original DBF name for extras.
    pub name: Arc<str>,
    /// True for standard properties, false for extras.
    pub standard: bool,
    /// The values.
    pub data: ColumnData,
}

/// A batch of rows in columns. All vectors have one entry per row.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Batch {
    /// Index of each row's record in the files (0-based; deleted records are skipped, so it can jump).
    pub record_index: Vec<u64>,
    /// WGS 84 longitude in degrees (the polygon's centroid for swaths); NaN for a null geometry.
    pub lon: Vec<f64>,
    /// WGS 84 latitude in degrees; NaN for a null geometry.
    pub lat: Vec<f64>,
    /// The swath polygons, for polygon sets.
    pub polygons: Option<Polygons>,
    /// Milliseconds per row as [`Profile::time`] says (UTC, local or date); None when the set has
    /// no time column or the cell is blank or unparsable.
    pub time: Option<Vec<Option<i64>>>,
    /// Mapped and extra columns, in DBF order.
    pub columns: Vec<Column>,
}

impl Batch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.lon.len()
    }

    /// True when the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }

    /// The column named `name` (a property, or an extra's original name).
    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.columns
            .iter()
            .find(|c| &*c.name == name)
            .map(|c| &c.data)
    }

    /// The numeric column named `name`.
    pub fn numbers(&self, name: &str) -> Option<&[f64]> {
        match self.column(name)? {
            ColumnData::Number(v) => Some(v),
            ColumnData::Text(_) => None,
        }
    }

    /// The text column named `name`.
    pub fn text(&self, name: &str) -> Option<&TextColumn> {
        match self.column(name)? {
            ColumnData::Text(t) => Some(t),
            ColumnData::Number(_) => None,
        }
    }
}

/// Counts of what reading met so far (complete once the reader is exhausted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadStats {
    /// Rows yielded.
    pub rows: u64,
    /// DBF records flagged deleted (`*`), skipped with their shape.
    pub deleted: u64,
    /// Rows whose shape is a null shape (or an empty multipoint/polygon): NaN coordinates.
    pub null_geometry: u64,
    /// Rows whose shape record is malformed or cut short: NaN coordinates.
    pub bad_geometry: u64,
    /// Rows with no shape record at all (the `.shp` ends before the `.dbf`): NaN coordinates.
    pub missing_geometry: u64,
    /// Multipoint rows with several points (their mean is the position).
    pub multipoint_mean: u64,
    /// Cells that could not be parsed as their column's type (left missing).
    pub invalid_values: u64,
    /// Positions that failed to reproject (NaN).
    pub reprojection_failures: u64,
}

#[derive(Debug, Clone)]
enum Decode {
    Number {
        field: usize,
        factor: f64,
    },
    Text {
        field: usize,
    },
    Crop {
        field: usize,
    },
    Machine {
        field: usize,
        machines: Arc<Vec<(u32, String)>>,
    },
}

/// DBF bytes read and decoded at a time (so a block stays in the CPU cache).
const BLOCK_BYTES: usize = 256 * 1024;

/// A batch's columns while it fills up.
struct Outputs {
    columns: Vec<ColumnData>,
    time: Option<Vec<Option<i64>>>,
    invalid: u64,
}

#[derive(Debug, Clone, Copy)]
struct TimePlan {
    field: usize,
    /// A date column that completes a time-of-day column.
    date: Option<usize>,
    kind: TimeKind,
}

/// Reads one shapefile set in batches. Made by [`ShapefileSet::open`].
#[derive(Debug)]
pub struct Reader {
    set_name: String,
    dbf_path: PathBuf,
    geometry: Option<GeometryKind>,
    crs: Crs,
    reproject: Reprojector,
    profile: Profile,
    header: DbfHeader,
    record_count: u64,
    readable_records: u64,
    next_record: u64,
    dbf: BufReader<File>,
    shp: ShpReader,
    codepage: CodePage,
    decoders: Vec<(Arc<str>, bool, Decode)>,
    time: Option<TimePlan>,
    batch_size: usize,
    buf: Vec<u8>,
    stats: ReadStats,
    geom: GeomCounts,
    invalid_by_field: Vec<u64>,
    warnings: Vec<Warning>,
    finished: bool,
}

fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    file.take(limit)
        .read_to_end(&mut out)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(out)
}

impl ShapefileSet {
    /// Opens the set with default options.
    pub fn open(&self) -> Result<Reader> {
        self.open_with(ReadOptions::default())
    }

    /// Opens the set: reads the headers and sidecars, resolves the CRS and the column profile.
    pub fn open_with(&self, options: ReadOptions) -> Result<Reader> {
        Reader::open(self, options)
    }
}

impl Reader {
    fn open(set: &ShapefileSet, options: ReadOptions) -> Result<Reader> {
        let set_name = set
            .shp
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let dbf_path = set.dbf.clone().ok_or_else(|| Error::MissingDbf {
            shp: set.shp.clone(),
        })?;
        let mut warnings = Vec::new();

        // .shp header and CRS.
        let (shp_header, shp_size) = shp::read_header(&set.shp)?;
        let geometry = shp_header.geometry_kind(&set.shp)?;
        // An empty .prj says as little as none.
        let prj_text = match &set.prj {
            Some(prj) => Some(String::from_utf8_lossy(&read_small(prj, 1 << 20)?).to_string())
                .filter(|t| !t.trim().trim_start_matches('\u{feff}').is_empty())
                .map(|t| (prj, t)),
            None => None,
        };
        let crs = match prj_text {
            Some((prj, text)) => Crs::from_wkt(prj, &text, &mut warnings)?,
            None => {
                let [min_x, min_y, max_x, max_y] = shp_header.bbox;
                let finite = [min_x, min_y, max_x, max_y].iter().all(|v| v.is_finite());
                let lonlat = min_x >= -180.0 && max_x <= 180.0 && min_y >= -90.0 && max_y <= 90.0;
                if finite && !lonlat {
                    return Err(Error::UnknownCrs {
                        path: set.shp.clone(),
                        min_x,
                        min_y,
                        max_x,
                        max_y,
                    });
                }
                warnings.push(Warning::new(
                    WarningKind::AssumedWgs84,
                    format!("{set_name}: no .prj; the coordinates are within longitude/latitude ranges, WGS 84 is assumed"),
                ));
                Crs::wgs84(true)
            }
        };
        let reproject = Reprojector::new(set.prj.as_deref().unwrap_or(&set.shp), &crs)?;

        // .dbf header.
        let dbf_io = |source| Error::Io {
            path: dbf_path.clone(),
            source,
        };
        let mut dbf_file = File::open(&dbf_path).map_err(dbf_io)?;
        let dbf_size = dbf_file.metadata().map_err(dbf_io)?.len();
        let mut head = [0u8; 32];
        let got = read_up_to(&mut dbf_file, &mut head).map_err(dbf_io)?;
        if got < 32 {
            return Err(Error::Header {
                path: dbf_path.clone(),
                message: format!("{got} bytes, shorter than a dBase header"),
            });
        }
        let header_len = usize::from(u16::from_le_bytes([head[8], head[9]]));
        let mut rest = vec![0u8; header_len.saturating_sub(32)];
        let got_rest = read_up_to(&mut dbf_file, &mut rest).map_err(dbf_io)?;
        let mut full = head.to_vec();
        full.extend_from_slice(&rest[..got_rest]);
        let mut header = DbfHeader::parse(&dbf_path, &full)?;
        if full.len() < header.header_len {
            return Err(Error::Header {
                path: dbf_path.clone(),
                message: format!("file ends inside its {}-byte header", header.header_len),
            });
        }
        let record_count = u64::from(header.record_count);
        let in_file = dbf_size.saturating_sub(header.header_len as u64) / header.record_len as u64;
        let readable_records = record_count.min(in_file);
        if in_file < record_count {
            warnings.push(Warning::new(
                WarningKind::CountMismatch,
                format!(
                    "{}: the header counts {record_count} records but the file holds {in_file}; {in_file} are read",
                    dbf_path.display()
                ),
            ));
        }
        if let Some(shx) = &set.shx {
            if let Ok(meta) = std::fs::metadata(shx) {
                let shx_count = meta.len().saturating_sub(100) / 8;
                if shx_count != record_count {
                    warnings.push(Warning::new(
                        WarningKind::CountMismatch,
                        format!(
                            "{set_name}: the .shx indexes {shx_count} shapes but the .dbf counts {record_count} records; rows follow the .dbf"
                        ),
                    ));
                }
            }
        }

        // Code page.
        let cpg = match &set.cpg {
            Some(p) => Some(String::from_utf8_lossy(&read_small(p, 4096)?).to_string()),
            None => None,
        };
        let codepage = CodePage::resolve(
            cpg.as_deref(),
            header.language_driver,
            &set_name,
            &mut warnings,
        );
        // Field names are in the same code page as the cells.
        decode_field_names(&mut header, &full, codepage);

        // Sidecar metadata and the profile.
        let deere = match &set.deere_metadata {
            Some(p) => {
                let bytes = read_small(p, 16 << 20)?;
                match DeereMetadata::parse(&String::from_utf8_lossy(&bytes)) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        warnings.push(Warning::new(
                            WarningKind::Sidecar,
                            format!("{}: not usable ({e}); ignored", p.display()),
                        ));
                        None
                    }
                }
            }
            None => None,
        };
        let mut profile = profile::resolve(&header.fields, deere.as_ref(), &set_name);

        // Binary and memo cells this crate does not decode.
        for plan in &mut profile.columns {
            let k = plan.field.kind;
            let binary_double = k == 'B' && plan.field.length == 8 && header.is_visual_foxpro();
            if matches!(k, 'M' | 'G' | 'P' | 'B' | 'T' | '@' | '0' | 'W' | 'Q' | 'V')
                && !binary_double
                && !matches!(plan.role, Role::Skipped { .. })
            {
                let reason = format!("dBase type `{k}` is not read by this crate");
                profile.warnings.push(Warning::new(
                    WarningKind::Column,
                    format!(
                        "{set_name}: column `{}` is skipped: {reason}",
                        plan.field.name
                    ),
                ));
                plan.role = Role::Skipped { reason };
            }
        }

        // Time: peek at the first records to see what the time columns hold.
        let sample = read_sample(&dbf_path, &header, readable_records.min(64))?;
        let time = choose_time(&mut profile, &sample, &header, &set_name);
        profile.time = time.map(|t| t.kind);

        let deere_machines: Arc<Vec<(u32, String)>> = Arc::new(
            deere
                .as_ref()
                .map(|d| {
                    let mut v: Vec<(u32, String)> =
                        d.machines.iter().map(|(k, v)| (*k, v.clone())).collect();
                    v.sort();
                    v
                })
                .unwrap_or_default(),
        );
        let mut decoders = Vec::new();
        for (i, plan) in profile.columns.iter().enumerate() {
            let name: Arc<str> = Arc::from(plan.output.as_str());
            let numeric_type = matches!(
                plan.field.kind,
                'N' | 'F' | 'I' | '+' | 'O' | 'Y' | 'L' | 'B'
            );
            let decode = match &plan.role {
                Role::Property(m) => Some((
                    true,
                    Decode::Number {
                        field: i,
                        factor: m.factor,
                    },
                )),
                Role::Text { property } => Some((
                    true,
                    match (*property, plan.row.map(|r| r.target)) {
                        ("crop", Some(Target::CropCode)) => Decode::Crop { field: i },
                        ("machinery", _) => Decode::Machine {
                            field: i,
                            machines: deere_machines.clone(),
                        },
                        _ => Decode::Text { field: i },
                    },
                )),
                Role::Extra if numeric_type => Some((
                    false,
                    Decode::Number {
                        field: i,
                        factor: 1.0,
                    },
                )),
                Role::Extra => Some((false, Decode::Text { field: i })),
                Role::Time | Role::Skipped { .. } => None,
            };
            if let Some((standard, d)) = decode {
                decoders.push((name, standard, d));
            }
        }

        // The file handle stands right after the header, which was read whole above.
        let dbf = BufReader::with_capacity(1 << 16, dbf_file);
        let shp_end = shp_header.declared_len.min(shp_size);
        if shp_header.declared_len > shp_size {
            warnings.push(Warning::new(
                WarningKind::CountMismatch,
                format!(
                    "{set_name}: the .shp header says {} bytes but the file has {shp_size}",
                    shp_header.declared_len
                ),
            ));
        }
        let shp = ShpReader::open(&set.shp, shp_end)?;
        warnings.append(&mut profile.warnings.clone());
        let field_count = header.fields.len();
        Ok(Reader {
            set_name,
            dbf_path,
            geometry,
            crs,
            reproject,
            profile,
            header,
            record_count,
            readable_records,
            next_record: 0,
            dbf,
            shp,
            codepage,
            decoders,
            time,
            batch_size: options.batch_size.max(1),
            buf: Vec::new(),
            stats: ReadStats::default(),
            geom: GeomCounts::default(),
            invalid_by_field: vec![0; field_count],
            warnings,
            finished: false,
        })
    }

    /// The geometry family (None when the `.shp` header says Null shapes only).
    pub fn geometry(&self) -> Option<GeometryKind> {
        self.geometry
    }

    /// The coordinate reference system, as parsed from the `.prj`.
    pub fn crs(&self) -> &Crs {
        &self.crs
    }

    /// The record count from the `.dbf` header (deleted records included).
    pub fn record_count(&self) -> u64 {
        self.record_count
    }

    /// How the columns map to standard properties, the operation type and the time column.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The DBF columns.
    pub fn fields(&self) -> &[DbfField] {
        &self.header.fields
    }

    /// The code page text is decoded with (WHATWG name, e.g. `windows-1252`, `UTF-8`).
    pub fn code_page(&self) -> &'static str {
        self.codepage.name()
    }

    /// Warnings so far: from opening (CRS, counts, profile) and, once the reader is exhausted,
    /// the totals of what reading met.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Counts so far.
    pub fn stats(&self) -> ReadStats {
        let mut s = self.stats;
        s.null_geometry = self.geom.null;
        s.bad_geometry = self.geom.bad;
        s.missing_geometry = self.geom.missing;
        s.multipoint_mean = self.geom.multipoint_mean;
        s
    }

    /// The next batch, or None at the end.
    pub fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.next_record >= self.readable_records {
            self.finish();
            return Ok(None);
        }
        let rec_len = self.header.record_len;
        let capacity =
            (self.readable_records - self.next_record).min(self.batch_size as u64) as usize;
        let fields = &self.header.fields;
        let mut out = Outputs {
            columns: self
                .decoders
                .iter()
                .map(|(_, _, d)| match d {
                    Decode::Number { .. } => ColumnData::Number(Vec::with_capacity(capacity)),
                    Decode::Text { field }
                    | Decode::Crop { field }
                    | Decode::Machine { field, .. } => {
                        let mut t = TextColumn::with_capacity(capacity);
                        t.data
                            .reserve(capacity * usize::from(fields[*field].length).min(16));
                        ColumnData::Text(t)
                    }
                })
                .collect(),
            time: self.time.map(|_| Vec::with_capacity(capacity)),
            invalid: 0,
        };
        let mut sink = GeomSink::new(self.geometry == Some(GeometryKind::Polygon), capacity);
        let mut record_index = Vec::with_capacity(capacity);
        // Records are read a block at a time (about 256 KB) and decoded while the block is in the
        // CPU cache; the batch fills up over blocks.
        let block_rows = (BLOCK_BYTES / rec_len).max(16);
        let mut rows: Vec<usize> = Vec::with_capacity(block_rows);
        while record_index.len() < self.batch_size && self.next_record < self.readable_records {
            let want = (self.readable_records - self.next_record)
                .min(block_rows as u64)
                .min((self.batch_size - record_index.len()) as u64) as usize;
            self.buf.resize(want * rec_len, 0);
            let got = read_up_to(&mut self.dbf, &mut self.buf).map_err(|source| Error::Io {
                path: self.dbf_path.clone(),
                source,
            })?;
            let n = got / rec_len;
            if n < want {
                // The file is shorter than its size said a moment ago (it changed under us).
                self.readable_records = self.next_record + n as u64;
            }
            rows.clear();
            for r in 0..n {
                let flag = self.buf[r * rec_len];
                if flag == 0x1A {
                    // dBase's end-of-file marker where a record should start: the header over-counts.
                    self.warnings.push(Warning::new(
                        WarningKind::CountMismatch,
                        format!(
                            "{}: end-of-file marker at record {}; the header counts {}",
                            self.dbf_path.display(),
                            self.next_record + r as u64,
                            self.record_count
                        ),
                    ));
                    self.readable_records = self.next_record + r as u64;
                    break;
                }
                if flag == b'*' {
                    self.stats.deleted += 1;
                    self.shp.skip(&mut self.geom)?;
                    continue;
                }
                self.shp.next_into(&mut sink, &mut self.geom)?;
                rows.push(r * rec_len);
                record_index.push(self.next_record + r as u64);
            }
            self.next_record = (self.next_record + n as u64).min(self.readable_records);
            self.decode_block(&rows, &mut out);
        }
        if record_index.is_empty() {
            self.finish();
            return Ok(None);
        }
        self.stats.invalid_values += out.invalid;
        let columns = self
            .decoders
            .iter()
            .zip(out.columns)
            .map(|((name, standard, _), data)| Column {
                name: name.clone(),
                standard: *standard,
                data,
            })
            .collect();
        let before = sink.x.iter().filter(|v| v.is_finite()).count();
        self.reproject.apply(&mut sink.x, &mut sink.y)?;
        if let Some(p) = &mut sink.polygons {
            self.reproject.apply(&mut p.lon, &mut p.lat)?;
        }
        let after = sink
            .x
            .iter()
            .zip(&sink.y)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .count();
        self.stats.reprojection_failures += (before - after.min(before)) as u64;
        self.stats.rows += record_index.len() as u64;
        Ok(Some(Batch {
            record_index,
            lon: sink.x,
            lat: sink.y,
            polygons: sink.polygons,
            time: out.time,
            columns,
        }))
    }

    /// Decodes the rows (byte offsets into `self.buf`) of one block, column by column.
    fn decode_block(&mut self, rows: &[usize], out: &mut Outputs) {
        let buf = &self.buf;
        let fields = &self.header.fields;
        let rec_len = self.header.record_len;
        for ((_, _, decode), column) in self.decoders.iter().zip(out.columns.iter_mut()) {
            match (decode, column) {
                (Decode::Number { field, factor }, ColumnData::Number(column)) => {
                    let bad = decode_numbers(buf, rows, &fields[*field], *factor, column);
                    self.invalid_by_field[*field] += bad;
                    out.invalid += bad;
                }
                (Decode::Text { field }, ColumnData::Text(column)) => {
                    let f = &fields[*field];
                    for &r in rows {
                        push_text(column, cell(&buf[r..r + rec_len], f), f, self.codepage);
                    }
                }
                (Decode::Crop { field }, ColumnData::Text(column)) => {
                    let f = &fields[*field];
                    for &r in rows {
                        let name = match text::parse_number(cell(&buf[r..r + rec_len], f)) {
                            Num::Value(v) => {
                                let hit = JD_CROP_CODES
                                    .iter()
                                    .find(|(c, _)| f64::from(*c) == v)
                                    .map(|(_, n)| *n);
                                if hit.is_none() {
                                    self.invalid_by_field[*field] += 1;
                                    out.invalid += 1;
                                }
                                hit
                            }
                            Num::Missing => None,
                            Num::Invalid => {
                                self.invalid_by_field[*field] += 1;
                                out.invalid += 1;
                                None
                            }
                        };
                        column.push(name);
                    }
                }
                (Decode::Machine { field, machines }, ColumnData::Text(column)) => {
                    let f = &fields[*field];
                    for &r in rows {
                        let name = match text::parse_number(cell(&buf[r..r + rec_len], f)) {
                            Num::Value(v) => machines
                                .iter()
                                .find(|(k, _)| f64::from(*k) == v)
                                .map(|(_, n)| n.as_str()),
                            _ => None,
                        };
                        column.push(name);
                    }
                }
                _ => {}
            }
        }
        if let (Some(plan), Some(times)) = (self.time, out.time.as_mut()) {
            let f = &fields[plan.field];
            let date_field = plan.date.map(|d| &fields[d]);
            let mut cache = DayCache::default();
            for &r in rows {
                let record = &buf[r..r + rec_len];
                let v = time_value(record, f, date_field, plan.kind, &mut cache);
                if v.is_none() && !text::trim(cell(record, f)).is_empty() {
                    self.invalid_by_field[plan.field] += 1;
                    out.invalid += 1;
                }
                times.push(v);
            }
        }
    }

    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let name = &self.set_name;
        let s = self.stats();
        if s.deleted > 0 {
            self.warnings.push(Warning::new(
                WarningKind::DeletedRecords,
                format!(
                    "{name}: {} records flagged deleted in the .dbf were skipped",
                    s.deleted
                ),
            ));
        }
        if s.null_geometry > 0 {
            self.warnings.push(Warning::new(
                WarningKind::NullGeometry,
                format!(
                    "{name}: {} rows have a null geometry (NaN coordinates)",
                    s.null_geometry
                ),
            ));
        }
        if s.bad_geometry > 0 {
            self.warnings.push(Warning::new(
                WarningKind::BadRecord,
                format!(
                    "{name}: {} shape records are malformed or cut short (NaN coordinates; reading of the .shp stops at a cut)",
                    s.bad_geometry
                ),
            ));
        }
        if s.missing_geometry > 0 {
            self.warnings.push(Warning::new(
                WarningKind::CountMismatch,
                format!(
                    "{name}: the .shp ends {} records before the .dbf (NaN coordinates)",
                    s.missing_geometry
                ),
            ));
        }
        if self.shp.has_more() {
            self.warnings.push(Warning::new(
                WarningKind::CountMismatch,
                format!("{name}: the .shp holds more shapes than the .dbf has records; the rest are not read"),
            ));
        }
        if s.multipoint_mean > 0 {
            self.warnings.push(Warning::new(
                WarningKind::MultiPoint,
                format!(
                    "{name}: {} multipoint rows have several points; their mean is the position",
                    s.multipoint_mean
                ),
            ));
        }
        if s.reprojection_failures > 0 {
            self.warnings.push(Warning::new(
                WarningKind::InvalidValue,
                format!(
                    "{name}: {} positions could not be reprojected (NaN)",
                    s.reprojection_failures
                ),
            ));
        }
        for (i, &bad) in self.invalid_by_field.iter().enumerate() {
            if bad > 0 {
                let f = &self.header.fields[i];
                self.warnings.push(Warning::new(
                    WarningKind::InvalidValue,
                    format!(
                        "{name}: column `{}`: {bad} values could not be read (left missing)",
                        f.name
                    ),
                ));
            }
        }
    }
}

impl Iterator for Reader {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn decode_field_names(header: &mut DbfHeader, bytes: &[u8], cp: CodePage) {
    let (start, size, name_len) = if header.version & 0x07 == 4 {
        (68, 48, 32)
    } else {
        (32, 32, 11)
    };
    for (i, f) in header.fields.iter_mut().enumerate() {
        let pos = start + i * size;
        let Some(raw) = bytes.get(pos..pos + name_len) else {
            break;
        };
        let end = raw.iter().position(|&b| b == 0).unwrap_or(name_len);
        f.name = cp.decode(&raw[..end]).trim().to_string();
    }
}

/// Decodes one numeric column; returns the count of unparsable cells.
fn decode_numbers(
    buf: &[u8],
    rows: &[usize],
    f: &DbfField,
    factor: f64,
    out: &mut Vec<f64>,
) -> u64 {
    let (off, len) = (f.offset, usize::from(f.length));
    let mut bad = 0u64;
    match f.kind {
        'I' | '+' if len == 4 => {
            for &r in rows {
                let c = &buf[r + off..r + off + 4];
                out.push(f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])) * factor);
            }
        }
        'O' | 'B' if len == 8 => {
            for &r in rows {
                let mut a = [0u8; 8];
                a.copy_from_slice(&buf[r + off..r + off + 8]);
                out.push(f64::from_le_bytes(a) * factor);
            }
        }
        'Y' if len == 8 => {
            for &r in rows {
                let mut a = [0u8; 8];
                a.copy_from_slice(&buf[r + off..r + off + 8]);
                #[allow(clippy::cast_precision_loss)]
                out.push(i64::from_le_bytes(a) as f64 / 10_000.0 * factor);
            }
        }
        'L' => {
            for &r in rows {
                let v = match text::trim(&buf[r + off..r + off + len]).first() {
                    Some(b'T' | b't' | b'Y' | b'y') => 1.0,
                    Some(b'F' | b'f' | b'N' | b'n') => 0.0,
                    _ => f64::NAN,
                };
                out.push(v * factor);
            }
        }
        _ => {
            if factor == 1.0 {
                for &r in rows {
                    out.push(match text::parse_number(&buf[r + off..r + off + len]) {
                        Num::Value(v) => v,
                        Num::Missing => f64::NAN,
                        Num::Invalid => {
                            bad += 1;
                            f64::NAN
                        }
                    });
                }
            } else {
                for &r in rows {
                    out.push(match text::parse_number(&buf[r + off..r + off + len]) {
                        Num::Value(v) => v * factor,
                        Num::Missing => f64::NAN,
                        Num::Invalid => {
                            bad += 1;
                            f64::NAN
                        }
                    });
                }
            }
        }
    }
    bad
}

fn push_text(out: &mut TextColumn, cell: &[u8], f: &DbfField, cp: CodePage) {
    match f.kind {
        'D' => {
            let t = text::trim(cell);
            if t.len() == 8 && t.iter().all(u8::is_ascii_digit) {
                let s = std::str::from_utf8(t).unwrap_or_default();
                out.push(Some(&format!("{}-{}-{}", &s[0..4], &s[4..6], &s[6..8])));
            } else {
                out.push(None);
            }
        }
        'C' => {
            let t = text::trim_end(cell);
            if t.iter().all(|&b| b == b' ') {
                out.push(None);
            } else {
                out.push(Some(&cp.decode(t)));
            }
        }
        _ => {
            let t = text::trim(cell);
            if t.is_empty() {
                out.push(None);
            } else {
                out.push(Some(&cp.decode(t)));
            }
        }
    }
}

fn cell<'a>(record: &'a [u8], f: &DbfField) -> &'a [u8] {
    &record[f.offset..f.offset + usize::from(f.length)]
}

/// Parses a record's time as the plan's kind asks; None when blank or of another kind.
fn time_value(
    record: &[u8],
    f: &DbfField,
    date: Option<&DbfField>,
    kind: TimeKind,
    cache: &mut DayCache,
) -> Option<i64> {
    let (ms, clock) = if f.kind == 'D' {
        (text::parse_dbf_date(cell(record, f))?, Clock::Date)
    } else {
        text::parse_time_with(cell(record, f), cache)?
    };
    match (kind, clock) {
        (TimeKind::Utc, Clock::Utc)
        | (TimeKind::Local, Clock::Local)
        | (TimeKind::Date, Clock::Date) => Some(ms),
        (TimeKind::Local, Clock::TimeOfDay) => {
            let d = date?;
            let day = if d.kind == 'D' {
                text::parse_dbf_date(cell(record, d))?
            } else {
                match text::parse_time(cell(record, d))? {
                    (day, Clock::Date) => day,
                    _ => return None,
                }
            };
            Some(day + ms)
        }
        _ => None,
    }
}

/// The first records (not deleted) of the DBF, for deciding how to read the time columns.
fn read_sample(path: &Path, header: &DbfHeader, count: u64) -> Result<Vec<Vec<u8>>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut skip = vec![0u8; header.header_len];
    read_up_to(&mut file, &mut skip).map_err(io)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; header.record_len];
    for _ in 0..count {
        if read_up_to(&mut file, &mut buf).map_err(io)? < header.record_len {
            break;
        }
        if buf[0] == 0x1A {
            break;
        }
        if buf[0] != b'*' {
            out.push(buf.clone());
        }
    }
    Ok(out)
}

/// Picks the time column(s) from the sample and marks the others skipped.
fn choose_time(
    profile: &mut Profile,
    sample: &[Vec<u8>],
    header: &DbfHeader,
    set_name: &str,
) -> Option<TimePlan> {
    struct Candidate {
        index: usize,
        rank: u8,
        clock: Option<Clock>,
    }
    let mut candidates = Vec::new();
    for (i, plan) in profile.columns.iter().enumerate() {
        if plan.role != Role::Time {
            continue;
        }
        let rank = match plan.row.map(|r| r.target) {
            Some(Target::Time { rank }) => rank,
            _ => 9,
        };
        let f = &header.fields[i];
        let mut clock = None;
        for rec in sample {
            let c = if f.kind == 'D' {
                text::parse_dbf_date(cell(rec, f)).map(|_| Clock::Date)
            } else {
                text::parse_time(cell(rec, f)).map(|(_, c)| c)
            };
            if c.is_some() {
                clock = c;
                break;
            }
        }
        candidates.push(Candidate {
            index: i,
            rank,
            clock,
        });
    }
    if candidates.is_empty() {
        return None;
    }
    let best_full = candidates
        .iter()
        .filter(|c| matches!(c.clock, Some(Clock::Utc | Clock::Local)))
        .min_by_key(|c| (c.rank, c.clock != Some(Clock::Utc)));
    let tod = candidates
        .iter()
        .find(|c| c.clock == Some(Clock::TimeOfDay));
    let date = candidates
        .iter()
        .filter(|c| c.clock == Some(Clock::Date))
        .min_by_key(|c| c.rank);
    let plan = if let Some(c) = best_full {
        Some(TimePlan {
            field: c.index,
            date: None,
            kind: if c.clock == Some(Clock::Utc) {
                TimeKind::Utc
            } else {
                TimeKind::Local
            },
        })
    } else if let (Some(t), Some(d)) = (tod, date) {
        Some(TimePlan {
            field: t.index,
            date: Some(d.index),
            kind: TimeKind::Local,
        })
    } else {
        date.map(|d| TimePlan {
            field: d.index,
            date: None,
            kind: TimeKind::Date,
        })
    };
    let used: Vec<usize> = plan
        .iter()
        .flat_map(|p| std::iter::once(p.field).chain(p.date))
        .collect();
    let chosen_name = plan.map(|p| header.fields[p.field].name.clone());
    for c in &candidates {
        if used.contains(&c.index) {
            continue;
        }
        let col = &mut profile.columns[c.index];
        match (&chosen_name, c.clock) {
            (Some(chosen), Some(_)) => {
                col.role = Role::Skipped {
                    reason: format!("the time is read from `{chosen}`"),
                };
            }
            _ => {
                // Nothing in it reads as a time: keep it as it is.
                col.role = Role::Extra;
                profile.warnings.push(Warning::new(
                    WarningKind::Column,
                    format!(
                        "{set_name}: column `{}` does not read as a time in its first records; kept as an extra column",
                        col.field.name
                    ),
                ));
            }
        }
    }
    plan
}
