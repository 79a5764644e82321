//! GeoParquet 1.1 writing (through geoparquet 0.9 and the upstream Parquet writer) and reading.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BinaryArray, Float64Array, RecordBatch, StructArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{Field, Schema, SchemaRef};
use geoarrow_array::GeoArrowArray;
use geoarrow_array::array::{CoordBuffer, PointArray, SeparatedCoordBuffer};
use geoarrow_schema::crs::Crs;
use geoarrow_schema::{CoordType, Dimension, Metadata, PointType, PolygonType};
use geoparquet::writer::{
    GeoParquetRecordBatchEncoder, GeoParquetWriterEncoding, GeoParquetWriterOptions,
    GeoParquetWriterOptionsBuilder,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::chunked::ChunkedWriter;
use crate::crs::crs84;
use crate::error::{Error, Result};

/// Name of the geometry column furrow writes.
pub const GEOMETRY_COLUMN: &str = "geometry";
/// Name of the bounding-box covering column furrow writes.
pub const BBOX_COLUMN: &str = "bbox";

/// How geometries are stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GeometryEncoding {
    /// ISO WKB in a binary column (the default: every reader supports it).
    #[default]
    Wkb,
    /// Native GeoArrow encoding (`point`: a struct of `x`, `y` doubles). Weaker reader support.
    Native,
}

/// Options of [`GeoParquetWriter`].
#[derive(Debug, Clone)]
pub struct GeoParquetOptions {
    /// Geometry encoding (default WKB).
    pub encoding: GeometryEncoding,
    /// Rows per row group (default 65,536; GeoParquet readers prune by row group statistics).
    pub row_group_rows: usize,
    /// zstd level (default 1: fast, and within a few per cent of level 3 on point data).
    pub zstd_level: i32,
    /// Add the 1.1 `bbox` covering column (default true).
    pub covering: bool,
    /// Keep the input's `x`/`y` columns next to the point geometry (default true: the allocation engine
    /// and columnar filters read them directly).
    pub keep_xy: bool,
}

impl Default for GeoParquetOptions {
    fn default() -> Self {
        GeoParquetOptions {
            encoding: GeometryEncoding::Wkb,
            row_group_rows: 64 * 1024,
            zstd_level: 1,
            covering: true,
            keep_xy: true,
        }
    }
}

/// What a finished file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteStats {
    /// Rows written.
    pub rows: u64,
    /// Row groups written.
    pub row_groups: usize,
    /// Bytes written.
    pub bytes: u64,
    /// `[xmin, ymin, xmax, ymax]` of the geometries, `None` when there were none.
    pub bbox: Option<[f64; 4]>,
}

#[derive(Debug)]
enum Mode {
    /// Points built from two Float64 columns.
    Points {
        x: usize,
        y: usize,
        keep: Vec<usize>,
    },
    /// The input already holds a GeoArrow geometry column (polygons).
    Geometry,
}

/// The geo metadata of the CRS: always CRS84 as PROJJSON (geoparquet 0.9 drops authority codes).
fn crs_metadata() -> Arc<Metadata> {
    Arc::new(Metadata::new(Crs::from_projjson(crs84()), None))
}

/// The GeoArrow point type furrow writes (separated x/y, CRS84).
pub fn point_type() -> PointType {
    PointType::new(Dimension::XY, crs_metadata()).with_coord_type(CoordType::Separated)
}

/// The GeoArrow polygon type furrow writes (separated x/y, CRS84).
pub fn polygon_type() -> PolygonType {
    PolygonType::new(Dimension::XY, crs_metadata()).with_coord_type(CoordType::Separated)
}

/// A streaming GeoParquet 1.1 writer over Arrow record batches.
///
/// Input batches hold either flat `x`/`y` Float64 columns (longitude/latitude; a point geometry column
/// is built from them without copying the coordinates) or a GeoArrow `geometry` column (for example
/// [`crate::swath_polygons`]). Memory stays bounded by one row group: batches are encoded and handed
/// to the Parquet writer as they come.
pub struct GeoParquetWriter<W: Write + Send> {
    writer: ChunkedWriter<W>,
    encoder: GeoParquetRecordBatchEncoder,
    input: SchemaRef,
    geo_schema: SchemaRef,
    mode: Mode,
    encoding: GeometryEncoding,
    covering: bool,
    /// Whether a point batch held a null geometry (told to the metadata encoder at the end).
    point_nulls: bool,
    polygons: bool,
    batches: usize,
    rows: u64,
    bbox: Option<[f64; 4]>,
}

impl<W: Write + Send> std::fmt::Debug for GeoParquetWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoParquetWriter")
            .field("mode", &self.mode)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

fn f64_index(schema: &Schema, name: &str) -> Option<usize> {
    schema
        .index_of(name)
        .ok()
        .filter(|&i| schema.field(i).data_type() == &arrow_schema::DataType::Float64)
}

impl<W: Write + Send> GeoParquetWriter<W> {
    /// A writer of batches with `schema` into `out`.
    pub fn try_new(out: W, schema: SchemaRef, options: &GeoParquetOptions) -> Result<Self> {
        let geometry_ext = schema.index_of(GEOMETRY_COLUMN).ok().map(|i| {
            schema
                .field(i)
                .metadata()
                .get("ARROW:extension:name")
                .cloned()
                .unwrap_or_default()
        });
        let (mode, geo_schema, polygons) =
            if let Some(ext) = geometry_ext.filter(|e| e.starts_with("geoarrow.")) {
                (Mode::Geometry, schema.clone(), ext.contains("polygon"))
            } else if let (Some(x), Some(y)) = (f64_index(&schema, "x"), f64_index(&schema, "y")) {
                let keep: Vec<usize> = (0..schema.fields().len())
                    .filter(|&i| options.keep_xy || (i != x && i != y))
                    .filter(|&i| schema.field(i).name() != GEOMETRY_COLUMN)
                    .collect();
                let mut fields: Vec<Field> = keep
                    .iter()
                    .map(|&i| schema.field(i).as_ref().clone())
                    .collect();
                fields.push(point_type().to_field(GEOMETRY_COLUMN, true));
                let geo = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
                (Mode::Points { x, y, keep }, geo, false)
            } else {
                return Err(Error::Column {
                    column: "x/y".into(),
                    message: "need Float64 x and y columns or a GeoArrow geometry column".into(),
                });
            };
        let geo_options = geo_options(options.encoding, options.covering);
        let encoder = GeoParquetRecordBatchEncoder::try_new(&geo_schema, &geo_options)?;
        let level = ZstdLevel::try_new(options.zstd_level)?;
        // No dictionaries: WKB, coordinates and measurements are nearly all distinct, and trying to
        // intern them cost more than everything else in the writer. Byte-array leaves (strings, nested
        // ones such as machinery names and `extra` keys included, and WKB) have no min/max statistics:
        // a string column holds one or two values a file, zstd shrinks the repeats to nothing, min/max
        // of WKB bytes prune nothing (the `bbox` covering carries the extent), and comparing every value
        // cost 7.6 % of a conversion's instructions (`benches/README.md`).
        let target = encoder.target_schema();
        let mut props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(options.row_group_rows.max(1)))
            .set_dictionary_enabled(false)
            .set_write_batch_size(8192);
        let leaves = parquet::arrow::ArrowSchemaConverter::new().convert(&target)?;
        for leaf in leaves.columns() {
            if leaf.physical_type() == parquet::basic::Type::BYTE_ARRAY {
                props = props
                    .set_column_statistics_enabled(leaf.path().clone(), EnabledStatistics::None);
            }
        }
        // chunk statistics only, no page index: one page per column chunk, so the index would repeat
        // what the chunk metadata says
        let props = props
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .build();
        let writer = ChunkedWriter::try_new(out, target, props, options.row_group_rows)?;
        Ok(GeoParquetWriter {
            writer,
            encoder,
            input: schema,
            geo_schema,
            mode,
            encoding: options.encoding,
            covering: options.covering,
            point_nulls: false,
            polygons,
            batches: 0,
            rows: 0,
            bbox: None,
        })
    }

    /// The schema of the written file (geometry and covering columns included).
    pub fn file_schema(&self) -> SchemaRef {
        self.encoder.target_schema()
    }

    /// Encodes and writes one batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let index = self.batches;
        self.batches += 1;
        if batch.schema().fields() != self.input.fields() {
            return Err(Error::Schema { index });
        }
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let encoded = match &self.mode {
            Mode::Points { x, y, keep } => {
                let xs = as_f64(batch.column(*x), "x")?;
                let ys = as_f64(batch.column(*y), "y")?;
                let nulls = arrow_buffer::NullBuffer::union(xs.nulls(), ys.nulls());
                extend_bbox(&mut self.bbox, xs, ys, nulls.as_ref());
                self.point_nulls |= nulls.as_ref().is_some_and(|n| n.null_count() > 0);
                // The geometry and its covering are built here in one pass over the coordinate buffers
                // (the geoparquet encoder goes through geo-traits per row); the encoder still writes
                // the `geo` metadata, from the extent (see `finish`).
                let target = self.encoder.target_schema();
                let mut columns: Vec<ArrayRef> =
                    keep.iter().map(|&i| batch.column(i).clone()).collect();
                columns.push(match self.encoding {
                    GeometryEncoding::Wkb => Arc::new(wkb_points(xs, ys, nulls.clone())),
                    GeometryEncoding::Native => {
                        native_points(&target, keep.len(), xs, ys, nulls.clone())?
                    }
                });
                if self.covering {
                    columns.push(point_covering(&target, xs, ys, nulls)?);
                }
                RecordBatch::try_new(target, columns)?
            }
            Mode::Geometry => {
                let encoded = self.encoder.encode_record_batch(batch)?;
                if let Some(b) = encoded
                    .column_by_name(BBOX_COLUMN)
                    .and_then(|c| c.as_any().downcast_ref::<arrow_array::StructArray>())
                {
                    extend_bbox_from_covering(&mut self.bbox, b);
                }
                encoded
            }
        };
        self.rows += batch.num_rows() as u64;
        self.writer.write(&encoded)?;
        Ok(())
    }

    /// Writes the `geo` metadata and the Parquet footer.
    pub fn finish(self) -> Result<WriteStats> {
        let GeoParquetWriter {
            mut writer,
            mut encoder,
            geo_schema,
            mode,
            encoding,
            covering,
            polygons,
            point_nulls,
            rows,
            bbox,
            ..
        } = self;
        if matches!(mode, Mode::Points { .. }) && rows > 0 {
            // Point batches were encoded without the encoder: hand it the extent's corners (and a
            // null when there were nulls) so its metadata (bbox, geometry_types) matches the data.
            let geometry = geo_schema.field(geo_schema.fields().len() - 1).clone();
            let mut xs: Vec<Option<f64>> = Vec::new();
            let mut ys: Vec<Option<f64>> = Vec::new();
            if let Some([x0, y0, x1, y1]) = bbox {
                xs.extend([Some(x0), Some(x1)]);
                ys.extend([Some(y0), Some(y1)]);
            }
            if point_nulls || bbox.is_none() {
                xs.push(None);
                ys.push(None);
            }
            let (xs, ys) = (Float64Array::from(xs), Float64Array::from(ys));
            let nulls = xs.nulls().cloned();
            let coords = SeparatedCoordBuffer::from_array(
                [
                    xs.values().clone(),
                    ys.values().clone(),
                    Default::default(),
                    Default::default(),
                ],
                Dimension::XY,
            )?;
            let points = PointArray::try_new(
                CoordBuffer::Separated(coords),
                nulls,
                point_type().metadata().clone(),
            )?;
            let schema = Arc::new(Schema::new(vec![geometry]));
            let mut meta =
                GeoParquetRecordBatchEncoder::try_new(&schema, &geo_options(encoding, covering))?;
            meta.encode_record_batch(&RecordBatch::try_new(
                schema,
                vec![points.into_array_ref()],
            )?)?;
            encoder = meta;
        }
        let kv = encoder.into_keyvalue()?;
        let kv = if polygons {
            // geoparquet 0.9 never writes `orientation`; swath rings are built counter-clockwise.
            let mut v: serde_json::Value = kv
                .value
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| Error::Metadata(e.to_string()))?
                .unwrap_or_default();
            if let Some(col) = v
                .get_mut("columns")
                .and_then(|c| c.get_mut(GEOMETRY_COLUMN))
                .and_then(|c| c.as_object_mut())
            {
                col.insert("orientation".into(), "counterclockwise".into());
            }
            KeyValue::new("geo".to_string(), Some(v.to_string()))
        } else {
            kv
        };
        writer.append_key_value_metadata(kv);
        let meta = writer.finish()?;
        let bytes = writer.bytes_written() as u64;
        Ok(WriteStats {
            rows,
            row_groups: meta.num_row_groups(),
            bytes,
            bbox,
        })
    }
}

fn geo_options(encoding: GeometryEncoding, covering: bool) -> GeoParquetWriterOptions {
    let encoding = match encoding {
        GeometryEncoding::Wkb => GeoParquetWriterEncoding::WKB,
        GeometryEncoding::Native => GeoParquetWriterEncoding::GeoArrow,
    };
    GeoParquetWriterOptionsBuilder::default()
        .set_primary_column(GEOMETRY_COLUMN.to_string())
        .set_encoding(encoding)
        .set_generate_covering(covering)
        // no per-column options: once a column has its own entry, geoparquet 0.9 ignores the defaults
        // (encoding, covering) for it; the covering of `geometry` is named `bbox` by default
        .build()
}

/// ISO WKB points (21 bytes each, little endian) written straight from the coordinate buffers; a null
/// row is an empty null entry.
fn wkb_points(
    xs: &Float64Array,
    ys: &Float64Array,
    nulls: Option<arrow_buffer::NullBuffer>,
) -> BinaryArray {
    const HEAD: [u8; 5] = [1, 1, 0, 0, 0];
    let n = xs.len();
    if nulls.is_none() {
        // every row a point: 21 bytes each, one fixed-size copy a row (no zero fill first)
        let mut values: Vec<u8> = Vec::with_capacity(n * 21);
        let mut w = [0u8; 21];
        w[..5].copy_from_slice(&HEAD);
        for (x, y) in xs.values().iter().zip(ys.values().iter()) {
            w[5..13].copy_from_slice(&x.to_le_bytes());
            w[13..].copy_from_slice(&y.to_le_bytes());
            values.extend_from_slice(&w);
        }
        let offsets: Vec<i32> = (0..=n).map(|i| (i * 21) as i32).collect();
        return BinaryArray::new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(values),
            None,
        );
    }
    let mut values: Vec<u8> = Vec::with_capacity(n * 21);
    let mut offsets: Vec<i32> = Vec::with_capacity(n + 1);
    offsets.push(0);
    for (i, (x, y)) in xs.values().iter().zip(ys.values().iter()).enumerate() {
        if nulls.as_ref().is_none_or(|b| b.is_valid(i)) {
            values.extend_from_slice(&HEAD);
            values.extend_from_slice(&x.to_le_bytes());
            values.extend_from_slice(&y.to_le_bytes());
        }
        offsets.push(values.len() as i32);
    }
    BinaryArray::new(
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Buffer::from_vec(values),
        nulls,
    )
}

/// Native GeoArrow points (a struct of the `x`/`y` buffers, shared, not copied).
fn native_points(
    target: &Schema,
    index: usize,
    xs: &Float64Array,
    ys: &Float64Array,
    nulls: Option<arrow_buffer::NullBuffer>,
) -> Result<ArrayRef> {
    let arrow_schema::DataType::Struct(fields) = target.field(index).data_type() else {
        return Err(Error::Column {
            column: GEOMETRY_COLUMN.into(),
            message: "native points are a struct of x and y".into(),
        });
    };
    let values =
        |a: &Float64Array| -> ArrayRef { Arc::new(Float64Array::new(a.values().clone(), None)) };
    Ok(Arc::new(StructArray::try_new(
        fields.clone(),
        vec![values(xs), values(ys)],
        nulls,
    )?))
}

/// The `bbox` covering of points: xmin = xmax = x, ymin = ymax = y (buffers shared).
fn point_covering(
    target: &Schema,
    xs: &Float64Array,
    ys: &Float64Array,
    nulls: Option<arrow_buffer::NullBuffer>,
) -> Result<ArrayRef> {
    let field = target
        .field_with_name(BBOX_COLUMN)
        .map_err(|e| Error::Column {
            column: BBOX_COLUMN.into(),
            message: e.to_string(),
        })?;
    let arrow_schema::DataType::Struct(fields) = field.data_type() else {
        return Err(Error::Column {
            column: BBOX_COLUMN.into(),
            message: "the covering is a struct".into(),
        });
    };
    let x: ArrayRef = Arc::new(Float64Array::new(xs.values().clone(), None));
    let y: ArrayRef = Arc::new(Float64Array::new(ys.values().clone(), None));
    Ok(Arc::new(StructArray::try_new(
        fields.clone(),
        vec![x.clone(), y.clone(), x, y],
        nulls,
    )?))
}

fn as_f64<'a>(a: &'a ArrayRef, name: &str) -> Result<&'a Float64Array> {
    a.as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| Error::Column {
            column: name.into(),
            message: "expected Float64".into(),
        })
}

fn extend_bbox(
    bbox: &mut Option<[f64; 4]>,
    xs: &Float64Array,
    ys: &Float64Array,
    nulls: Option<&arrow_buffer::NullBuffer>,
) {
    let mut b = bbox.unwrap_or([
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ]);
    let (xv, yv) = (xs.values(), ys.values());
    for i in 0..xv.len() {
        if nulls.is_some_and(|n| n.is_null(i)) {
            continue;
        }
        let (x, y) = (xv[i], yv[i]);
        b[0] = b[0].min(x);
        b[1] = b[1].min(y);
        b[2] = b[2].max(x);
        b[3] = b[3].max(y);
    }
    if b[0] <= b[2] {
        *bbox = Some(b);
    }
}

fn extend_bbox_from_covering(bbox: &mut Option<[f64; 4]>, cov: &arrow_array::StructArray) {
    let col = |n: &str| {
        cov.column_by_name(n)
            .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
    };
    let (Some(x0), Some(y0), Some(x1), Some(y1)) =
        (col("xmin"), col("ymin"), col("xmax"), col("ymax"))
    else {
        return;
    };
    let mut b = bbox.unwrap_or([
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    ]);
    for i in 0..cov.len() {
        if cov.is_null(i) {
            continue;
        }
        b[0] = b[0].min(x0.value(i));
        b[1] = b[1].min(y0.value(i));
        b[2] = b[2].max(x1.value(i));
        b[3] = b[3].max(y1.value(i));
    }
    if b[0] <= b[2] {
        *bbox = Some(b);
    }
}

/// Writes `batches` (all with `schema`) to a GeoParquet file at `path`.
pub fn write_geoparquet(
    path: impl AsRef<Path>,
    schema: SchemaRef,
    batches: impl IntoIterator<Item = RecordBatch>,
    options: &GeoParquetOptions,
) -> Result<WriteStats> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut w = GeoParquetWriter::try_new(std::io::BufWriter::new(file), schema, options)?;
    for b in batches {
        w.write(&b)?;
    }
    w.finish()
}

/// A GeoParquet file read back: its batches, the parsed `geo` metadata and the Arrow schema.
#[derive(Debug, Clone)]
pub struct GeoParquetFile {
    /// The Arrow schema of the file.
    pub schema: SchemaRef,
    /// The record batches.
    pub batches: Vec<RecordBatch>,
    /// The `geo` key-value metadata, parsed.
    pub geo: serde_json::Value,
    /// Number of row groups.
    pub row_groups: usize,
}

impl GeoParquetFile {
    /// Total rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Reads a GeoParquet file whole (for tests and small files), checking the `geo` metadata's required keys.
pub fn read_geoparquet(path: impl AsRef<Path>) -> Result<GeoParquetFile> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
    let meta = builder.metadata().clone();
    let geo = meta
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.clone())
        .ok_or_else(|| Error::Metadata("no `geo` key".into()))?;
    let geo: serde_json::Value =
        serde_json::from_str(&geo).map_err(|e| Error::Metadata(e.to_string()))?;
    for key in ["version", "primary_column", "columns"] {
        if geo.get(key).is_none() {
            return Err(Error::Metadata(format!("missing `{key}`")));
        }
    }
    let schema = builder.schema().clone();
    let reader = builder.with_batch_size(64 * 1024).build()?;
    let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(GeoParquetFile {
        schema,
        batches,
        geo,
        row_groups: meta.num_row_groups(),
    })
}

/// Decodes a 2D ISO WKB point (either byte order); `None` for anything else.
pub fn wkb_point(bytes: &[u8]) -> Option<(f64, f64)> {
    let le = *bytes.first()? == 1;
    let word = |b: &[u8]| -> Option<[u8; 4]> { b.try_into().ok() };
    let dword = |b: &[u8]| -> Option<[u8; 8]> { b.try_into().ok() };
    let t = word(bytes.get(1..5)?)?;
    let t = if le {
        u32::from_le_bytes(t)
    } else {
        u32::from_be_bytes(t)
    };
    if t != 1 {
        return None;
    }
    let f = |b: [u8; 8]| {
        if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        }
    };
    Some((f(dword(bytes.get(5..13)?)?), f(dword(bytes.get(13..21)?)?)))
}

/// Reads a GeoParquet file a batch at a time (memory bounded by one batch, whatever the file's size).
pub struct GeoParquetBatches {
    schema: SchemaRef,
    rows: usize,
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
}

impl std::fmt::Debug for GeoParquetBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoParquetBatches")
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl GeoParquetBatches {
    /// Opens `path`; batches of `batch_rows` rows.
    pub fn open(path: impl AsRef<Path>, batch_rows: usize) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)?;
        let has_geo = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .is_some_and(|kv| kv.iter().any(|k| k.key == "geo"));
        if !has_geo {
            return Err(Error::Metadata("no `geo` key".into()));
        }
        let rows = usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
        let schema = builder.schema().clone();
        let reader = builder.with_batch_size(batch_rows.max(1)).build()?;
        Ok(Self {
            schema,
            rows,
            reader,
        })
    }

    /// The Arrow schema of the file.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows in the file.
    pub fn num_rows(&self) -> usize {
        self.rows
    }
}

impl Iterator for GeoParquetBatches {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader.next().map(|r| r.map_err(Error::from))
    }
}
