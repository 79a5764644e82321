//! The Parquet writer under [`crate::GeoParquetWriter`]: whole row groups encoded column by column.
//!
//! Flat columns (numbers, timestamps, strings, WKB, and the `bbox` struct of doubles) are encoded here,
//! straight from the Arrow buffers: one data page per column chunk (version 2: the definition levels
//! stored as they are, in front of the compressed values), definition levels as one RLE run (or
//! bit-packed straight from the validity bitmap), values PLAIN (64-bit integers, timestamps above
//! all, DELTA_BINARY_PACKED: a steady clock packs to nothing; WKB DELTA_BYTE_ARRAY: the compressor sees
//! only what differs from the geometry before, not a header a row), zstd. Values without nulls in one
//! piece are compressed straight from the Arrow buffer, and values another column of the row group
//! holds too (a point's `y` and its covering's `ymin` and `ymax`) are compressed once. A chunk whose values are all
//! equal (an operation type, a crop, an implement width: most columns of a machine log) is written as a
//! one-entry dictionary and a single RLE run instead, so the compressor never sees it. Min/max
//! statistics are kept per chunk for numbers (the `bbox` columns prune row groups), not for strings or
//! WKB. Nested columns (lists, maps) go through the upstream Arrow column writers, created for those
//! leaves alone (each writer brings its own codec contexts). Page headers, the footer and the Arrow
//! schema are the `parquet` crate's own.
//!
//! The upstream writer spent as much time growing, copying and levelling buffers as compressing them
//! (`benches/README.md`); this one sizes every buffer once.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    StructArray,
};
use arrow_buffer::{ArrowNativeType, NullBuffer, ToByteSlice};
use arrow_schema::{DataType, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression, Encoding};
use parquet::column::page::{CompressedPage, Page, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ColumnChunkMetaData, KeyValue, ParquetMetaData};
use parquet::file::properties::WriterProperties;
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

type PResult<T> = std::result::Result<T, ParquetError>;

/// How one top-level column is written.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// A flat leaf encoded here.
    Flat(Kind),
    /// A struct of non-null leaves encoded here (the `bbox` covering), each leaf of this kind.
    Struct(Kind, usize),
    /// Any other column, through the upstream writer; the number of Parquet leaves.
    Upstream(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    F64,
    I64,
    I32,
    Utf8,
    Binary,
}

fn kind_of(t: &DataType) -> Option<Kind> {
    match t {
        DataType::Float64 => Some(Kind::F64),
        DataType::Int64 => Some(Kind::I64),
        // seconds are rescaled by the upstream writer (Parquet has no seconds unit)
        DataType::Timestamp(
            TimeUnit::Millisecond | TimeUnit::Microsecond | TimeUnit::Nanosecond,
            _,
        ) => Some(Kind::I64),
        DataType::Int32 => Some(Kind::I32),
        DataType::Utf8 => Some(Kind::Utf8),
        DataType::Binary => Some(Kind::Binary),
        _ => None,
    }
}

fn leaves_of(t: &DataType) -> usize {
    match t {
        DataType::Struct(fields) => fields.iter().map(|f| leaves_of(f.data_type())).sum(),
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            leaves_of(f.data_type())
        }
        DataType::Map(f, _) => leaves_of(f.data_type()),
        _ => 1,
    }
}

fn plan_of(t: &DataType) -> Plan {
    if let Some(k) = kind_of(t) {
        return Plan::Flat(k);
    }
    if let DataType::Struct(fields) = t {
        let kinds: Vec<Option<Kind>> = fields
            .iter()
            .map(|f| (!f.is_nullable()).then(|| kind_of(f.data_type())).flatten())
            .collect();
        if let Some(Some(k)) = kinds.first() {
            if kinds.iter().all(|x| *x == Some(*k))
                && matches!(k, Kind::F64 | Kind::I64 | Kind::I32)
            {
                return Plan::Struct(*k, fields.len());
            }
        }
    }
    Plan::Upstream(leaves_of(t))
}

/// A streaming Parquet writer of record batches, a row group at a time (see the module docs).
pub(crate) struct ChunkedWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    /// The columns that go through the upstream column writers, as a schema of their own (so that a
    /// row group creates writers, and their codecs, for those leaves alone), when there are any.
    upstream: Option<ArrowRowGroupWriterFactory>,
    schema: SchemaRef,
    plans: Vec<Plan>,
    leaves: Vec<ColumnDescPtr>,
    encoder: ChunkEncoder,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    row_group_rows: usize,
}

/// The zstd compressor of the chunks. At level 1 (the default) the hash table gets 2^16 entries and
/// matches start at 6 bytes instead of the level's 2^13 and 7 for inputs of this size: a column chunk
/// (512 KB of doubles for 64 k rows) then finds more of its repeats, which makes it both smaller and
/// faster to compress (measured on the benchmark's harvest columns: −11 % bytes, −7 % time).
fn compressor(level: i32) -> std::io::Result<zstd::bulk::Compressor<'static>> {
    let mut c = zstd::bulk::Compressor::new(level)?;
    if level == 1 {
        use zstd::zstd_safe::CParameter;
        c.set_parameter(CParameter::HashLog(16))?;
        c.set_parameter(CParameter::MinMatch(6))?;
    }
    Ok(c)
}

/// What encoding a flat column chunk needs: the codec and reused page buffers.
struct ChunkEncoder {
    compression: Compression,
    zstd: zstd::bulk::Compressor<'static>,
    buffers: Buffers,
    /// The values of the row group's chunks so far that other columns may share (a point's `y` and its
    /// covering's `ymin` and `ymax`: one buffer), compressed once. Keyed by buffer address, so cleared
    /// with each row group, while the batches it points into are alive.
    shared: Vec<SharedValues>,
}

/// The values part of a chunk without nulls, kept for the columns with the same buffers.
struct SharedValues {
    /// Address and length of each piece's values.
    key: Vec<(usize, usize)>,
    dict: Option<Vec<u8>>,
    /// Compressed values, and their size before.
    values: Bytes,
    values_len: usize,
    encoding: Encoding,
    stats: Option<Statistics>,
}

/// Buffers reused from chunk to chunk.
#[derive(Default)]
struct Buffers {
    /// The values of the data page being built.
    page: Vec<u8>,
    /// Its definition levels (stored uncompressed before the values in a version 2 page).
    levels: Vec<u8>,
    /// Bit-packed validity; WKB suffixes.
    packed: Vec<u8>,
    /// The valid values of an integer chunk, gathered for delta encoding (for WKB: the prefix lengths).
    ints: Vec<i64>,
    /// WKB suffix lengths.
    lens: Vec<i64>,
}

impl ChunkEncoder {
    fn encode(
        &mut self,
        descr: &ColumnDescPtr,
        pieces: &[Piece<'_>],
    ) -> PResult<(Bytes, ColumnCloseResult)> {
        encode_chunk(
            descr,
            pieces,
            self.compression,
            &mut self.zstd,
            &mut self.buffers,
            &mut self.shared,
        )
    }
}

impl<W: Write + Send> ChunkedWriter<W> {
    /// A writer of batches of `schema`; `props` must ask for zstd (its level is used here too).
    pub(crate) fn try_new(
        out: W,
        schema: SchemaRef,
        props: WriterProperties,
        row_group_rows: usize,
    ) -> PResult<Self> {
        let compression = props.compression(&parquet::schema::types::ColumnPath::from("x"));
        let Compression::ZSTD(level) = compression else {
            return Err(ParquetError::General(
                "the chunked writer compresses with zstd".into(),
            ));
        };
        let level = level.compression_level();
        // the upstream writer converts the schema and embeds it (ARROW:schema) as it would for its own files
        let coerce = props.coerce_types();
        let props = std::sync::Arc::new(props);
        let (file, _) = ArrowWriter::try_new(out, schema.clone(), Some((*props).clone()))?
            .into_serialized_writer()?;
        let leaves = file.schema_descr().columns().to_vec();
        let plans: Vec<Plan> = schema
            .fields()
            .iter()
            .map(|f| plan_of(f.data_type()))
            .collect();
        let counted: usize = plans
            .iter()
            .map(|p| match p {
                Plan::Flat(_) => 1,
                Plan::Struct(_, n) | Plan::Upstream(n) => *n,
            })
            .sum();
        if counted != leaves.len() {
            return Err(ParquetError::General(format!(
                "schema has {} Parquet leaves, {counted} planned",
                leaves.len()
            )));
        }
        let nested: Vec<_> = schema
            .fields()
            .iter()
            .zip(&plans)
            .filter(|(_, p)| matches!(p, Plan::Upstream(_)))
            .map(|(f, _)| f.clone())
            .collect();
        let upstream = if nested.is_empty() {
            None
        } else {
            // the factory takes its Parquet schema from a file writer: one over a sink, for these
            // columns alone (the chunks it encodes are spliced into the real file's row groups)
            let nested = std::sync::Arc::new(arrow_schema::Schema::new(nested));
            let descr = ArrowSchemaConverter::new()
                .with_coerce_types(coerce)
                .convert(&nested)?;
            let sink = SerializedFileWriter::new(std::io::sink(), descr.root_schema_ptr(), props)?;
            Some(ArrowRowGroupWriterFactory::new(&sink, nested))
        };
        Ok(ChunkedWriter {
            file,
            upstream,
            schema,
            plans,
            leaves,
            encoder: ChunkEncoder {
                compression,
                zstd: compressor(level).map_err(|e| ParquetError::External(e.into()))?,
                buffers: Buffers::default(),
                shared: Vec::new(),
            },
            pending: Vec::new(),
            pending_rows: 0,
            row_group_rows: row_group_rows.max(1),
        })
    }

    /// Buffers a batch; full row groups are encoded and written.
    pub(crate) fn write(&mut self, batch: &RecordBatch) -> PResult<()> {
        let mut batch = batch.clone();
        while batch.num_rows() > 0 {
            let room = self.row_group_rows - self.pending_rows;
            let take = room.min(batch.num_rows());
            self.pending.push(batch.slice(0, take));
            self.pending_rows += take;
            batch = batch.slice(take, batch.num_rows() - take);
            if self.pending_rows == self.row_group_rows {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Adds a key/value pair to the footer.
    pub(crate) fn append_key_value_metadata(&mut self, kv: KeyValue) {
        self.file.append_key_value_metadata(kv);
    }

    /// Writes what is buffered and the footer.
    pub(crate) fn finish(&mut self) -> PResult<ParquetMetaData> {
        self.flush()?;
        self.file.finish()
    }

    /// Bytes written so far.
    pub(crate) fn bytes_written(&self) -> usize {
        self.file.bytes_written()
    }

    fn flush(&mut self) -> PResult<()> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.pending);
        self.pending_rows = 0;
        self.encoder.shared.clear();
        // writers for the nested leaves alone, indexed from the first of them, created when a nested
        // column is not uniform
        let mut upstream: Vec<Option<ArrowColumnWriter>> = Vec::new();
        let mut nested_leaf = 0;
        let mut rg = self.file.next_row_group()?;
        let mut leaf = 0;
        for (i, field) in self.schema.fields().iter().enumerate() {
            let columns: Vec<&ArrayRef> = batches.iter().map(|b| b.column(i)).collect();
            match self.plans[i] {
                Plan::Flat(kind) => {
                    let pieces: Vec<Piece<'_>> = columns
                        .iter()
                        .map(|a| Piece::of(kind, a.as_ref(), a.nulls()))
                        .collect::<PResult<_>>()?;
                    let (bytes, close) = self.encoder.encode(&self.leaves[leaf], &pieces)?;
                    rg.append_column(&bytes, close)?;
                    leaf += 1;
                }
                Plan::Struct(kind, n) => {
                    let structs: Vec<&StructArray> = columns
                        .iter()
                        .map(|a| {
                            a.as_any().downcast_ref::<StructArray>().ok_or_else(|| {
                                ParquetError::General(format!(
                                    "{}: expected a struct",
                                    field.name()
                                ))
                            })
                        })
                        .collect::<PResult<_>>()?;
                    // children sharing their buffers (a point's covering: xmax is xmin) are encoded once
                    let mut done: Vec<(Vec<[usize; 4]>, Bytes, ColumnCloseResult)> = Vec::new();
                    for k in 0..n {
                        let pieces: Vec<Piece<'_>> = structs
                            .iter()
                            .map(|s| Piece::of(kind, s.column(k).as_ref(), s.nulls()))
                            .collect::<PResult<_>>()?;
                        let key: Vec<[usize; 4]> = pieces.iter().map(Piece::identity).collect();
                        let descr = &self.leaves[leaf];
                        let (bytes, close) = match done.iter().find(|(k, _, _)| *k == key) {
                            Some((_, bytes, close)) => (
                                bytes.clone(),
                                ColumnCloseResult {
                                    metadata: with_descr(&close.metadata, descr)?,
                                    ..close.clone()
                                },
                            ),
                            None => {
                                let (bytes, close) = self.encoder.encode(descr, &pieces)?;
                                done.push((key, bytes.clone(), close.clone()));
                                (bytes, close)
                            }
                        };
                        rg.append_column(&bytes, close)?;
                        leaf += 1;
                    }
                }
                Plan::Upstream(n) => {
                    if let Some(u) = uniform(field, &columns) {
                        let rows = columns.iter().map(|a| a.len()).sum();
                        for k in 0..n {
                            let (bytes, close) = encode_uniform(
                                &self.leaves[leaf + k],
                                field,
                                rows,
                                &u,
                                &mut self.encoder,
                            )?;
                            rg.append_column(&bytes, close)?;
                        }
                        leaf += n;
                        nested_leaf += n;
                        continue;
                    }
                    if upstream.is_empty() {
                        if let Some(factory) = &self.upstream {
                            upstream = factory
                                .create_column_writers(0)?
                                .into_iter()
                                .map(Some)
                                .collect();
                        }
                    }
                    for array in &columns {
                        for (k, l) in compute_leaves(field, array)?.iter().enumerate() {
                            if let Some(w) =
                                upstream.get_mut(nested_leaf + k).and_then(Option::as_mut)
                            {
                                w.write(l)?;
                            }
                        }
                    }
                    for k in 0..n {
                        let w = upstream
                            .get_mut(nested_leaf + k)
                            .and_then(Option::take)
                            .ok_or_else(|| ParquetError::General("missing column writer".into()))?;
                        w.close()?.append_to_row_group(&mut rg)?;
                    }
                    leaf += n;
                    nested_leaf += n;
                }
            }
        }
        // the shared values point into `batches`, dropped here
        self.encoder.shared.clear();
        rg.close()?;
        Ok(())
    }
}

/// A nested column chunk whose rows are all the same: written without the upstream writers.
enum Uniform {
    /// Every row an empty list or map (`tillType`, `extra` in most logs).
    Empty,
    /// Every row a list of this one string (`machinery`, a file's one implement).
    One(Vec<u8>),
}

/// Whether every row of a nested column's pieces is the same empty list or map, or the same list of
/// one string.
fn uniform(field: &arrow_schema::Field, columns: &[&ArrayRef]) -> Option<Uniform> {
    fn lengths(a: &ArrayRef) -> Option<(&[i32], Option<&ArrayRef>)> {
        if a.null_count() > 0 {
            return None;
        }
        match a.data_type() {
            DataType::List(_) => {
                let l = a.as_list_opt::<i32>()?;
                Some((l.value_offsets(), Some(l.values())))
            }
            DataType::Map(..) => Some((a.as_map_opt()?.value_offsets(), None)),
            _ => None,
        }
    }
    let item_is_utf8 =
        matches!(field.data_type(), DataType::List(f) if f.data_type() == &DataType::Utf8);
    let mut found: Option<Uniform> = None;
    for a in columns {
        let (offsets, values) = lengths(a)?;
        let width = match offsets {
            [a, b, ..] => Some(b - a),
            _ => None,
        };
        if width.is_some_and(|w| !steady_offsets(offsets, w)) {
            return None;
        }
        let this = match width {
            None => continue,
            Some(0) => Uniform::Empty,
            Some(1) if item_is_utf8 => {
                let v = values?;
                let strings = v.as_string_opt::<i32>()?;
                let (lo, hi) = (offsets[0] as usize, offsets[offsets.len() - 1] as usize);
                let used = strings.slice(lo, hi - lo);
                if used.null_count() > 0 {
                    return None;
                }
                // every string as long as the first, and its bytes the first's repeated
                let first = used.value(0).as_bytes();
                let l = first.len() as i32;
                let o = used.value_offsets();
                if !steady_offsets(o, l) {
                    return None;
                }
                let bytes = &used.value_data()[o[0] as usize..o[o.len() - 1] as usize];
                if !first.is_empty() {
                    let block = first.repeat((4096 / first.len()).max(1));
                    if !bytes.chunks(block.len()).all(|c| c == &block[..c.len()]) {
                        return None;
                    }
                }
                Uniform::One(first.to_vec())
            }
            Some(_) => return None,
        };
        match (&found, &this) {
            (None, _) => found = Some(this),
            (Some(Uniform::Empty), Uniform::Empty) => {}
            (Some(Uniform::One(a)), Uniform::One(b)) if a == b => {}
            _ => return None,
        }
    }
    found
}

/// Appends a level run of `count` values `level` (bit width that of `max`), with its 4-byte length.
fn put_level_run(page: &mut Vec<u8>, count: usize, level: i16, max: i16) {
    let start = page.len();
    page.extend_from_slice(&[0; 4]);
    put_varint(page, (count as u64) << 1);
    let width = 16 - max.leading_zeros();
    page.extend_from_slice(&level.to_le_bytes()[..width.div_ceil(8) as usize]);
    let len = (page.len() - start - 4) as u32;
    page[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// Encodes one leaf of a uniform nested column: one level a row (repetition 0: a row's first and only
/// item, or its empty list), definition levels as one run, and for a list of one string the string as
/// a one-entry dictionary.
fn encode_uniform(
    descr: &ColumnDescPtr,
    field: &arrow_schema::Field,
    rows: usize,
    u: &Uniform,
    enc: &mut ChunkEncoder,
) -> PResult<(Bytes, ColumnCloseResult)> {
    let (max_def, max_rep) = (descr.max_def_level(), descr.max_rep_level());
    let page = &mut enc.buffers.page;
    page.clear();
    if max_rep > 0 {
        put_level_run(page, rows, 0, max_rep);
    }
    let mut dict = Vec::new();
    let encoding = match u {
        Uniform::Empty => {
            // an empty list or map is defined as far as the column itself
            put_level_run(page, rows, i16::from(field.is_nullable()), max_def);
            Encoding::PLAIN
        }
        Uniform::One(s) => {
            put_level_run(page, rows, max_def, max_def);
            dict.extend_from_slice(&(s.len() as u32).to_le_bytes());
            dict.extend_from_slice(s);
            page.push(1);
            put_varint(page, (rows as u64) << 1);
            page.push(0);
            Encoding::RLE_DICTIONARY
        }
    };
    // a version 1 page: levels with length prefixes, compressed with the values
    let data = CompressedPage::new(
        Page::DataPage {
            buf: compress(&mut enc.zstd, page)?,
            num_values: rows as u32,
            encoding,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        },
        page.len(),
    );
    frame_chunk(
        descr,
        enc.compression,
        &mut enc.zstd,
        matches!(u, Uniform::One(_)).then_some(dict.as_slice()),
        data,
        rows,
        encoding,
        None,
    )
}

/// One batch's part of a column chunk: its values and which rows hold one.
struct Piece<'a> {
    values: Values<'a>,
    /// Rows (valid or not).
    len: usize,
    nulls: Option<&'a NullBuffer>,
}

enum Values<'a> {
    F64(&'a [f64]),
    I64(&'a [i64]),
    I32(&'a [i32]),
    /// Offsets (`len + 1`, absolute) into the value bytes.
    Bytes(&'a [i32], &'a [u8]),
}

fn downcast<T: 'static>(a: &dyn Array) -> PResult<&T> {
    a.as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| ParquetError::General(format!("unexpected array type {}", a.data_type())))
}

impl<'a> Piece<'a> {
    fn of(kind: Kind, a: &'a dyn Array, nulls: Option<&'a NullBuffer>) -> PResult<Self> {
        let values = match kind {
            Kind::F64 => Values::F64(downcast::<Float64Array>(a)?.values()),
            Kind::I64 => Values::I64(match a.data_type() {
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    a.as_primitive::<TimestampMillisecondType>().values()
                }
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    a.as_primitive::<TimestampMicrosecondType>().values()
                }
                DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                    a.as_primitive::<TimestampNanosecondType>().values()
                }
                _ => downcast::<Int64Array>(a)?.values(),
            }),
            Kind::I32 => Values::I32(downcast::<Int32Array>(a)?.values()),
            Kind::Utf8 => {
                let s = downcast::<StringArray>(a)?;
                Values::Bytes(s.value_offsets(), s.values().as_slice())
            }
            Kind::Binary => {
                let s = downcast::<BinaryArray>(a)?;
                Values::Bytes(s.value_offsets(), s.values().as_slice())
            }
        };
        Ok(Piece {
            values,
            len: a.len(),
            nulls: nulls.filter(|n| n.null_count() > 0),
        })
    }

    /// Where the piece's values and validity live: two pieces with the same identity hold the same data.
    fn identity(&self) -> [usize; 4] {
        let values = match self.values {
            Values::F64(v) => v.as_ptr() as usize,
            Values::I64(v) => v.as_ptr() as usize,
            Values::I32(v) => v.as_ptr() as usize,
            Values::Bytes(o, d) => o.as_ptr() as usize ^ (d.as_ptr() as usize).rotate_left(32),
        };
        let nulls = self
            .nulls
            .map_or(0, |n| n.inner().values().as_ptr() as usize);
        let offset = self.nulls.map_or(0, |n| n.offset());
        [values, self.len, nulls, offset]
    }

    /// Whether `f` holds for the index of every valid row (stopping at the first that fails); the
    /// validity is read 64 bits at a time.
    fn all_valid(&self, f: impl FnMut(usize) -> bool) -> bool {
        match self.nulls {
            None => (0..self.len).all(f),
            Some(n) => n.valid_indices().all(f),
        }
    }

    /// Calls `f` with the index of every valid row.
    fn for_valid(&self, mut f: impl FnMut(usize)) {
        self.all_valid(|i| {
            f(i);
            true
        });
    }

    /// Row `i` alone (a valid row), as a piece of its own.
    fn one(&self, i: usize) -> Piece<'a> {
        let values = match self.values {
            Values::F64(v) => Values::F64(&v[i..=i]),
            Values::I64(v) => Values::I64(&v[i..=i]),
            Values::I32(v) => Values::I32(&v[i..=i]),
            Values::Bytes(off, data) => Values::Bytes(&off[i..=i + 1], data),
        };
        Piece {
            values,
            len: 1,
            nulls: None,
        }
    }

    fn first_valid(&self) -> Option<usize> {
        match self.nulls {
            None => (self.len > 0).then_some(0),
            Some(n) => n.valid_indices().next(),
        }
    }
}

/// Bit-packs values least significant bit first (Parquet's order), 64 bits written at a time.
#[derive(Default)]
struct BitWriter {
    acc: u128,
    bits: u32,
}

impl BitWriter {
    /// Appends the low `width` bits of `value` (at most 64; the bits above must be zero).
    fn push(&mut self, out: &mut Vec<u8>, value: u64, width: u32) {
        self.acc |= u128::from(value) << self.bits;
        self.bits += width;
        if self.bits >= 64 {
            out.extend_from_slice(&(self.acc as u64).to_le_bytes());
            self.acc >>= 64;
            self.bits -= 64;
        }
    }

    /// Writes what is left, padded with zeros to a whole byte.
    fn finish(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.acc.to_le_bytes()[..self.bits.div_ceil(8) as usize]);
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Definition levels of an optional flat column (bit width 1, as a version 2 page holds them: no length
/// prefix): one RLE run when every row is valid (or none is), else the validity bits, bit-packed in
/// runs of 63 groups.
fn write_levels(
    page: &mut Vec<u8>,
    pieces: &[Piece<'_>],
    rows: usize,
    nulls: usize,
    packed: &mut Vec<u8>,
) {
    if nulls == 0 || nulls == rows {
        put_varint(page, (rows as u64) << 1);
        page.push(u8::from(nulls == 0));
    } else {
        packed.clear();
        packed.reserve(rows.div_ceil(8));
        // the validity bitmaps, 64 bits at a time, one after the other
        let mut bits = BitWriter::default();
        let mut push = |word: u64, n: u32| bits.push(packed, word, n);
        for p in pieces {
            match p.nulls {
                None => {
                    for _ in 0..p.len / 64 {
                        push(u64::MAX, 64);
                    }
                    let r = (p.len % 64) as u32;
                    if r > 0 {
                        push(u64::MAX >> (64 - r), r);
                    }
                }
                Some(n) => {
                    let chunks = n.inner().bit_chunks();
                    for w in chunks.iter() {
                        push(w, 64);
                    }
                    let r = chunks.remainder_len() as u32;
                    if r > 0 {
                        push(chunks.remainder_bits(), r);
                    }
                }
            }
        }
        bits.finish(packed);
        for run in packed.chunks(63) {
            page.push(((run.len() as u8) << 1) | 1);
            page.extend_from_slice(run);
        }
    }
}

/// Values per block and miniblocks per block of the delta encoding (the sizes other writers use).
const DELTA_BLOCK: usize = 128;
const DELTA_MINIBLOCKS: usize = 4;

fn put_zigzag(out: &mut Vec<u8>, v: i64) {
    put_varint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Appends `v` DELTA_BINARY_PACKED: a header (block size, miniblocks, count, first value), then per
/// block of 128 deltas the smallest delta and four miniblocks of 32 deltas above it, each bit-packed
/// at its own width. Deltas wrap, as the format has them; a steady clock packs to zero bits.
fn put_delta_binary_packed(page: &mut Vec<u8>, v: &[i64]) {
    const MINI: usize = DELTA_BLOCK / DELTA_MINIBLOCKS;
    put_varint(page, DELTA_BLOCK as u64);
    put_varint(page, DELTA_MINIBLOCKS as u64);
    put_varint(page, v.len() as u64);
    put_zigzag(page, v.first().copied().unwrap_or(0));
    let mut deltas = [0i64; DELTA_BLOCK];
    let mut rest = v;
    while rest.len() > 1 {
        let n = (rest.len() - 1).min(DELTA_BLOCK);
        for (d, w) in deltas.iter_mut().zip(rest.windows(2)).take(n) {
            *d = w[1].wrapping_sub(w[0]);
        }
        rest = &rest[n..];
        let min = deltas[..n].iter().copied().min().unwrap_or(0);
        put_zigzag(page, min);
        let minis = n.div_ceil(MINI);
        let widths_at = page.len();
        page.extend_from_slice(&[0; DELTA_MINIBLOCKS]);
        for (m, mini) in deltas[..n].chunks(MINI).enumerate() {
            let top = mini
                .iter()
                .fold(0u64, |acc, d| acc | d.wrapping_sub(min) as u64);
            let width = 64 - top.leading_zeros();
            page[widths_at + m] = width as u8;
            if width == 0 {
                continue;
            }
            // 32 values (the last miniblock padded with zeros), least significant bit first
            let mut bits = BitWriter::default();
            for k in 0..MINI {
                let x = mini.get(k).map_or(0, |d| d.wrapping_sub(min) as u64);
                bits.push(page, x, width);
            }
            bits.finish(page);
        }
        debug_assert!(minis <= DELTA_MINIBLOCKS);
    }
}

/// Appends PLAIN values of fixed width.
fn put_plain<T: ArrowNativeType, const N: usize>(
    page: &mut Vec<u8>,
    p: &Piece<'_>,
    v: &[T],
    le: fn(T) -> [u8; N],
) {
    match p.nulls {
        // the in-memory bytes of the buffer are its little-endian encoding on this target
        None if cfg!(target_endian = "little") => page.extend_from_slice(v.to_byte_slice()),
        _ => p.for_valid(|i| page.extend_from_slice(&le(v[i]))),
    }
}

/// Whether every valid value equals `first`, by `eq`.
fn all_equal<T: Copy, F: Copy>(
    p: &Piece<'_>,
    v: &[T],
    first: F,
    eq: impl Fn(T, F) -> bool,
) -> bool {
    match p.nulls {
        // 32 values at a time without an early exit inside, which the compiler turns into vector
        // compares: most chunks tested here are constant, so read to the end
        None => {
            let mut chunks = v.chunks_exact(32);
            chunks.all(|c| c.iter().fold(true, |all, x| all & eq(*x, first)))
                && chunks.remainder().iter().all(|x| eq(*x, first))
        }
        Some(_) => p.all_valid(|i| eq(v[i], first)),
    }
}

/// Whether each offset is `width` past the one before (every value that wide), compared 32 at a time
/// without an early exit inside, as in [`all_equal`].
fn steady_offsets(off: &[i32], width: i32) -> bool {
    let (a, b) = (
        off.get(..off.len().saturating_sub(1)).unwrap_or(&[]),
        off.get(1..).unwrap_or(&[]),
    );
    let (mut ca, mut cb) = (a.chunks_exact(32), b.chunks_exact(32));
    ca.by_ref().zip(cb.by_ref()).all(|(x, y)| {
        x.iter()
            .zip(y)
            .fold(true, |all, (p, q)| all & (q.wrapping_sub(*p) == width))
    }) && ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .all(|(p, q)| q.wrapping_sub(*p) == width)
}

fn first_valid(pieces: &[Piece<'_>]) -> Option<(usize, usize)> {
    pieces
        .iter()
        .enumerate()
        .find_map(|(k, p)| p.first_valid().map(|i| (k, i)))
}

/// Whether every valid value of a string or binary piece is `f`: without nulls, the lengths are checked
/// from the offsets and the bytes compared with `f` repeated, a few kilobytes at a time.
fn bytes_all_equal(p: &Piece<'_>, off: &[i32], data: &[u8], f: &[u8]) -> bool {
    if p.nulls.is_some() || f.is_empty() {
        return p.all_valid(|j| bytes_at(off, data, j) == f);
    }
    let l = f.len();
    let bytes = &data[off[0] as usize..off[p.len] as usize];
    // the total length, and the first values, settle most chunks that are not constant (geometries)
    // before every length is checked
    if bytes.len() != l * p.len || !bytes.starts_with(&f.repeat(p.len.min(64))) {
        return false;
    }
    if !steady_offsets(&off[..=p.len], l as i32) {
        return false;
    }
    let block = f.repeat((4096 / l).max(1));
    bytes.chunks(block.len()).all(|c| c == &block[..c.len()])
}

/// How many leading bytes `a` and `b` share, compared eight at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let x = u64::from_le_bytes(x.try_into().unwrap_or_default());
        let y = u64::from_le_bytes(y.try_into().unwrap_or_default());
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..]
        .iter()
        .zip(&b[i..])
        .take_while(|(x, y)| x == y)
        .count()
}

/// [`common_prefix`] of two values of the same length, at least 8: whole words, then the last word
/// (overlapping the one before when the length is not a multiple of 8).
#[inline]
fn fixed_common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len();
    let word =
        |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let mut i = 0;
    while i + 8 < n {
        let d = word(a, i) ^ word(b, i);
        if d != 0 {
            return i + (d.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    // the bytes before `i` (at least `n - 8`) are equal: the last word differs at `i` or after
    let d = word(a, n - 8) ^ word(b, n - 8);
    if d == 0 {
        n
    } else {
        n - 8 + (d.trailing_zeros() / 8) as usize
    }
}

fn bytes_at<'a>(off: &'a [i32], data: &'a [u8], i: usize) -> &'a [u8] {
    &data[off[i] as usize..off[i + 1] as usize]
}

/// Encodes one column chunk (see the module docs): the chunk's bytes and what the row group writer
/// needs to splice them in.
fn encode_chunk(
    descr: &ColumnDescPtr,
    pieces: &[Piece<'_>],
    compression: Compression,
    zstd: &mut zstd::bulk::Compressor<'static>,
    buffers: &mut Buffers,
    shared: &mut Vec<SharedValues>,
) -> PResult<(Bytes, ColumnCloseResult)> {
    let Buffers {
        page,
        levels,
        packed,
        ints,
        lens,
    } = buffers;
    let rows: usize = pieces.iter().map(|p| p.len).sum();
    let nulls: usize = pieces
        .iter()
        .map(|p| p.nulls.map_or(0, |n| n.null_count()))
        .sum();
    let optional = descr.max_def_level() > 0;
    if descr.max_rep_level() != 0 || descr.max_def_level() > 1 || (!optional && nulls > 0) {
        return Err(ParquetError::General(format!(
            "{}: not a flat column (or nulls in a required one)",
            descr.path()
        )));
    }
    levels.clear();
    if optional {
        write_levels(levels, pieces, rows, nulls, packed);
    }
    // doubles without nulls whose buffers an earlier chunk of the row group encoded: its values part
    let key: Option<Vec<(usize, usize)>> = (nulls == 0)
        .then(|| {
            pieces
                .iter()
                .map(|p| match p.values {
                    Values::F64(v) => Some((v.as_ptr() as usize, v.len())),
                    _ => None,
                })
                .collect()
        })
        .flatten();
    if let Some(s) = key
        .as_ref()
        .and_then(|k| shared.iter().find(|s| s.key == *k))
    {
        return write_chunk(
            descr,
            compression,
            zstd,
            &Chunk {
                dict: s.dict.as_deref(),
                levels,
                values: ChunkValues::Compressed(&s.values, s.values_len),
                rows,
                nulls,
                encoding: s.encoding,
                stats: s.stats.clone(),
            },
        )
        .map(|(bytes, close, _)| (bytes, close));
    }

    let first = first_valid(pieces);
    // constant chunk: every valid value the same as the first
    let constant = first.is_some_and(|(k, i)| match pieces[k].values {
        Values::F64(v) => {
            let f = v[i].to_bits();
            pieces.iter().all(|p| match p.values {
                Values::F64(v) => all_equal(p, v, f, |a: f64, b: u64| a.to_bits() == b),
                _ => false,
            })
        }
        Values::I64(v) => {
            let f = v[i];
            pieces.iter().all(|p| match p.values {
                Values::I64(v) => all_equal(p, v, f, |a, b| a == b),
                _ => false,
            })
        }
        Values::I32(v) => {
            let f = v[i];
            pieces.iter().all(|p| match p.values {
                Values::I32(v) => all_equal(p, v, f, |a, b| a == b),
                _ => false,
            })
        }
        Values::Bytes(off, data) => {
            let f = bytes_at(off, data, i);
            pieces.iter().all(|p| match p.values {
                Values::Bytes(o, d) => bytes_all_equal(p, o, d, f),
                _ => false,
            })
        }
    });
    // a constant chunk's one value is its minimum and maximum
    let stats = match (constant, first) {
        (true, Some((k, i))) => statistics(&[pieces[k].one(i)], nulls as u64),
        _ => statistics(pieces, nulls as u64),
    };

    page.clear();
    let mut dict: Option<Vec<u8>> = None;
    // the values as they are in memory when that is their PLAIN encoding (one piece, no nulls, a
    // little-endian target): compressed from the Arrow buffer, not copied into the page first
    let mut in_place: Option<&[u8]> = None;
    let encoding = if let (true, Some((k, i))) = (constant, first) {
        let mut d = Vec::new();
        let p = &pieces[k];
        match p.values {
            Values::F64(v) => d.extend_from_slice(&v[i].to_le_bytes()),
            Values::I64(v) => d.extend_from_slice(&v[i].to_le_bytes()),
            Values::I32(v) => d.extend_from_slice(&v[i].to_le_bytes()),
            Values::Bytes(off, data) => {
                let b = bytes_at(off, data, i);
                d.extend_from_slice(&(b.len() as u32).to_le_bytes());
                d.extend_from_slice(b);
            }
        }
        dict = Some(d);
        // indices: bit width 1, one RLE run of zeros over the valid rows
        page.push(1);
        put_varint(page, ((rows - nulls) as u64) << 1);
        page.push(0);
        Encoding::RLE_DICTIONARY
    } else if pieces.iter().all(|p| matches!(p.values, Values::I64(_))) {
        // 64-bit integers (timestamps, nearly always a steady clock): the deltas, bit-packed (from the
        // Arrow buffer when it holds them all, else gathered first)
        match pieces {
            [p] if p.nulls.is_none() => {
                if let Values::I64(v) = p.values {
                    put_delta_binary_packed(page, v);
                }
            }
            _ => {
                ints.clear();
                ints.reserve(rows - nulls);
                for p in pieces {
                    if let Values::I64(v) = p.values {
                        match p.nulls {
                            None => ints.extend_from_slice(v),
                            Some(_) => p.for_valid(|i| ints.push(v[i])),
                        }
                    }
                }
                put_delta_binary_packed(page, ints);
            }
        }
        Encoding::DELTA_BINARY_PACKED
    } else if descr.physical_type() == parquet::basic::Type::BYTE_ARRAY
        && pieces.iter().all(|p| matches!(p.values, Values::Bytes(..)))
        && descr.logical_type_ref().is_none()
        && descr.converted_type() == parquet::basic::ConvertedType::NONE
    {
        // WKB: each value as the length of the prefix it shares with the one before and the rest, so
        // the compressor sees the coordinates without the repeated headers (and, along a straight
        // pass, without the coordinate that did not change)
        packed.clear();
        ints.clear();
        lens.clear();
        let valid = rows - nulls;
        ints.reserve(valid);
        lens.reserve(valid);
        let mut prev: &[u8] = &[];
        for p in pieces {
            if let Values::Bytes(off, data) = p.values {
                let (start, end) = (off[0] as usize, off[p.len] as usize);
                packed.reserve(end - start);
                let mut put = |b: &'_ [u8], prev: &[u8]| {
                    let shared = common_prefix(prev, b);
                    ints.push(shared as i64);
                    lens.push((b.len() - shared) as i64);
                    packed.extend_from_slice(&b[shared..]);
                };
                let bytes = &data[start..end];
                let width = bytes.len().checked_div(p.len).unwrap_or(0);
                if p.nulls.is_none() && width >= 8 && steady_offsets(&off[..=p.len], width as i32) {
                    // every row as wide as the others (a point or swath column): the shared prefix
                    // compared a word at a time, no offsets read per row
                    for b in bytes.chunks_exact(width) {
                        let shared = if prev.len() == width {
                            fixed_common_prefix(prev, b)
                        } else {
                            common_prefix(prev, b)
                        };
                        ints.push(shared as i64);
                        lens.push((width - shared) as i64);
                        packed.extend_from_slice(&b[shared..]);
                        prev = b;
                    }
                } else if p.nulls.is_none() {
                    // every row: straight down the offsets, no index lookups
                    for w in off[..=p.len].windows(2) {
                        let b = &data[w[0] as usize..w[1] as usize];
                        put(b, prev);
                        prev = b;
                    }
                } else {
                    p.for_valid(|i| {
                        let b = bytes_at(off, data, i);
                        put(b, prev);
                        prev = b;
                    });
                }
            }
        }
        put_delta_binary_packed(page, ints);
        put_delta_binary_packed(page, lens);
        page.extend_from_slice(packed);
        Encoding::DELTA_BYTE_ARRAY
    } else {
        match pieces {
            [p] if p.nulls.is_none() && cfg!(target_endian = "little") => {
                in_place = match p.values {
                    Values::F64(v) => Some(v.to_byte_slice()),
                    Values::I32(v) => Some(v.to_byte_slice()),
                    _ => None,
                };
            }
            _ => {}
        }
        if in_place.is_none() {
            let size: usize = pieces
                .iter()
                .map(|p| match p.values {
                    Values::F64(v) => v.len() * 8,
                    Values::I64(v) => v.len() * 8,
                    Values::I32(v) => v.len() * 4,
                    Values::Bytes(off, _) => p.len * 4 + (off[p.len] - off[0]) as usize,
                })
                .sum();
            page.reserve(size);
            for p in pieces {
                match p.values {
                    Values::F64(v) => put_plain(page, p, v, f64::to_le_bytes),
                    Values::I64(v) => put_plain(page, p, v, i64::to_le_bytes),
                    Values::I32(v) => put_plain(page, p, v, i32::to_le_bytes),
                    Values::Bytes(off, data) => p.for_valid(|i| {
                        let b = bytes_at(off, data, i);
                        page.extend_from_slice(&(b.len() as u32).to_le_bytes());
                        page.extend_from_slice(b);
                    }),
                }
            }
        }
        Encoding::PLAIN
    };

    let values: &[u8] = in_place.unwrap_or(page);
    let (bytes, close, compressed) = write_chunk(
        descr,
        compression,
        zstd,
        &Chunk {
            dict: dict.as_deref(),
            levels,
            values: ChunkValues::Raw(values),
            rows,
            nulls,
            encoding,
            stats: stats.clone(),
        },
    )?;
    if let Some(key) = key {
        shared.push(SharedValues {
            key,
            dict,
            values: compressed,
            values_len: values.len(),
            encoding,
            stats,
        });
    }
    Ok((bytes, close))
}

/// The values part of a data page: to be compressed, or compressed already (with its size before).
enum ChunkValues<'a> {
    Raw(&'a [u8]),
    Compressed(&'a Bytes, usize),
}

/// An encoded column chunk: an optional one-value dictionary page and one version 2 data page (its
/// definition levels stored as they are, the values compressed).
struct Chunk<'a> {
    dict: Option<&'a [u8]>,
    /// Definition levels (empty for a required column).
    levels: &'a [u8],
    values: ChunkValues<'a>,
    rows: usize,
    nulls: usize,
    encoding: Encoding,
    stats: Option<Statistics>,
}

/// Compresses `src` into a buffer of its own.
fn compress(zstd: &mut zstd::bulk::Compressor<'static>, src: &[u8]) -> PResult<Bytes> {
    let mut dst = Vec::with_capacity(zstd::zstd_safe::compress_bound(src.len()));
    zstd.compress_to_buffer(src, &mut dst)
        .map_err(|e| ParquetError::External(e.into()))?;
    Ok(Bytes::from(dst))
}

/// Compresses and frames the pages of a chunk: its bytes, what the row group writer needs to splice
/// them in, and the compressed values.
fn write_chunk(
    descr: &ColumnDescPtr,
    compression: Compression,
    zstd: &mut zstd::bulk::Compressor<'static>,
    c: &Chunk<'_>,
) -> PResult<(Bytes, ColumnCloseResult, Bytes)> {
    let (values, values_len) = match c.values {
        ChunkValues::Raw(v) => {
            too_big(descr, c.levels.len() + v.len())?;
            (compress(zstd, v)?, v.len())
        }
        ChunkValues::Compressed(b, len) => (b.clone(), len),
    };
    let buf = if c.levels.is_empty() {
        values.clone()
    } else {
        let mut buf = Vec::with_capacity(c.levels.len() + values.len());
        buf.extend_from_slice(c.levels);
        buf.extend_from_slice(&values);
        Bytes::from(buf)
    };
    let page = Page::DataPageV2 {
        buf,
        num_values: c.rows as u32,
        encoding: c.encoding,
        num_nulls: c.nulls as u32,
        num_rows: c.rows as u32,
        def_levels_byte_len: c.levels.len() as u32,
        rep_levels_byte_len: 0,
        is_compressed: true,
        statistics: None,
    };
    let (bytes, close) = frame_chunk(
        descr,
        compression,
        zstd,
        c.dict,
        CompressedPage::new(page, c.levels.len() + values_len),
        c.rows,
        c.encoding,
        c.stats.as_ref(),
    )?;
    Ok((bytes, close, values))
}

/// Page sizes are i32 in the format, and one page holds a whole chunk.
fn too_big(descr: &ColumnDescPtr, len: usize) -> PResult<()> {
    if len > i32::MAX as usize {
        return Err(ParquetError::General(format!(
            "{}: a column chunk of {len} bytes is more than one Parquet page can hold; use smaller row groups",
            descr.path(),
        )));
    }
    Ok(())
}

/// Writes a chunk's dictionary page (compressed here) and its data page: the chunk's bytes and its
/// metadata.
#[allow(clippy::too_many_arguments)]
fn frame_chunk(
    descr: &ColumnDescPtr,
    compression: Compression,
    zstd: &mut zstd::bulk::Compressor<'static>,
    dict: Option<&[u8]>,
    data: CompressedPage,
    rows: usize,
    encoding: Encoding,
    stats: Option<&Statistics>,
) -> PResult<(Bytes, ColumnCloseResult)> {
    // sized for the pages and their headers, so it is not regrown (and copied) as they are written
    let size = data.compressed_size() + dict.map_or(0, |d| d.len() + 64) + 256;
    let mut out = TrackedWrite::new(Vec::with_capacity(size));
    let mut writer = SerializedPageWriter::new(&mut out);
    let (mut compressed, mut uncompressed) = (0i64, 0i64);
    let mut dictionary_offset = None;
    if let Some(d) = dict {
        let spec = writer.write_page(CompressedPage::new(
            Page::DictionaryPage {
                buf: compress(zstd, d)?,
                num_values: 1,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            },
            d.len(),
        ))?;
        dictionary_offset = Some(spec.offset as i64);
        compressed += spec.compressed_size as i64;
        uncompressed += spec.uncompressed_size as i64;
    }
    let spec = writer.write_page(data)?;
    compressed += spec.compressed_size as i64;
    uncompressed += spec.uncompressed_size as i64;
    let data_offset = spec.offset as i64;
    let buf = out.into_inner()?;
    let mut encodings = vec![match encoding {
        Encoding::DELTA_BINARY_PACKED | Encoding::DELTA_BYTE_ARRAY => encoding,
        _ => Encoding::PLAIN,
    }];
    if descr.max_def_level() > 0 || descr.max_rep_level() > 0 {
        encodings.push(Encoding::RLE);
    }
    if dict.is_some() {
        encodings.push(Encoding::RLE_DICTIONARY);
    }
    let mut meta = ColumnChunkMetaData::builder(descr.clone())
        .set_compression(compression)
        .set_encodings(encodings)
        .set_num_values(rows as i64)
        .set_total_compressed_size(compressed)
        .set_total_uncompressed_size(uncompressed)
        .set_data_page_offset(data_offset)
        .set_dictionary_page_offset(dictionary_offset);
    if let Some(s) = stats {
        meta = meta.set_statistics(s.clone());
    }
    let close = ColumnCloseResult {
        bytes_written: buf.len() as u64,
        rows_written: rows as u64,
        metadata: meta.build()?,
        bloom_filter: None,
        column_index: None,
        offset_index: None,
    };
    Ok((Bytes::from(buf), close))
}

/// The metadata of a chunk encoded for another column with the same data, for column `descr`.
fn with_descr(meta: &ColumnChunkMetaData, descr: &ColumnDescPtr) -> PResult<ColumnChunkMetaData> {
    let mut b = ColumnChunkMetaData::builder(descr.clone())
        .set_compression(meta.compression())
        .set_encodings_mask(*meta.encodings_mask())
        .set_num_values(meta.num_values())
        .set_total_compressed_size(meta.compressed_size())
        .set_total_uncompressed_size(meta.uncompressed_size())
        .set_data_page_offset(meta.data_page_offset())
        .set_dictionary_page_offset(meta.dictionary_page_offset());
    if let Some(s) = meta.statistics() {
        b = b.set_statistics(s.clone());
    }
    b.build()
}

/// Chunk statistics of numbers: min/max of the valid values (NaN skipped, zero signed as the format
/// asks) and the null count; none for strings and WKB, which prune nothing.
fn statistics(pieces: &[Piece<'_>], nulls: u64) -> Option<Statistics> {
    let kind = pieces.first()?;
    match kind.values {
        Values::F64(_) => {
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for p in pieces {
                if let Values::F64(v) = p.values {
                    match p.nulls {
                        None => min_max(v, &mut lo, &mut hi),
                        Some(_) => p.for_valid(|i| {
                            min_max(std::slice::from_ref(&v[i]), &mut lo, &mut hi);
                        }),
                    }
                }
            }
            let (lo, hi) = if lo <= hi {
                (
                    Some(if lo == 0.0 { -0.0 } else { lo }),
                    Some(if hi == 0.0 { 0.0 } else { hi }),
                )
            } else {
                (None, None)
            };
            Some(Statistics::double(lo, hi, None, Some(nulls), false))
        }
        Values::I64(_) => {
            let (lo, hi) = int_range(pieces, |v| match v {
                Values::I64(v) => Some(v),
                _ => None,
            });
            Some(Statistics::int64(lo, hi, None, Some(nulls), false))
        }
        Values::I32(_) => {
            let (lo, hi) = int_range(pieces, |v| match v {
                Values::I32(v) => Some(v),
                _ => None,
            });
            Some(Statistics::int32(lo, hi, None, Some(nulls), false))
        }
        Values::Bytes(..) => None,
    }
}

/// Min and max of the valid integers of the pieces (`values` picks a piece's slice), `None` when none is.
fn int_range<'a, T: Copy + Ord + 'a>(
    pieces: &[Piece<'a>],
    values: impl Fn(&Values<'a>) -> Option<&'a [T]>,
) -> (Option<T>, Option<T>) {
    let mut r: Option<(T, T)> = None;
    for p in pieces {
        if let Some(v) = values(&p.values) {
            p.for_valid(|i| {
                let x = v[i];
                r = Some(r.map_or((x, x), |(a, b)| (a.min(x), b.max(x))));
            });
        }
    }
    (r.map(|r| r.0), r.map(|r| r.1))
}

/// Folds `v` into the running `lo`/`hi`, skipping NaN (a comparison with NaN is false), eight lanes at
/// a time as selects, which the compiler turns into vector min/max instructions.
fn min_max(v: &[f64], lo: &mut f64, hi: &mut f64) {
    let (mut l, mut h) = ([*lo; 8], [*hi; 8]);
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            l[k] = if c[k] < l[k] { c[k] } else { l[k] };
            h[k] = if c[k] > h[k] { c[k] } else { h[k] };
        }
    }
    for x in rest.iter().chain(&l) {
        if *x < *lo {
            *lo = *x;
        }
    }
    for x in rest.iter().chain(&h) {
        if *x > *hi {
            *hi = *x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time prefix of equal-width values agrees with the byte-wise one wherever the
    /// first difference is (or with none), for widths with and without a partial last word.
    #[test]
    fn fixed_common_prefix_finds_the_first_difference() {
        for width in 8..=40 {
            let a: Vec<u8> = (0..width as u8).map(|i| i.wrapping_mul(37)).collect();
            assert_eq!(fixed_common_prefix(&a, &a), width);
            for at in 0..width {
                for later in [at, width - 1] {
                    let mut b = a.clone();
                    b[at] ^= 0x10;
                    b[later] ^= 0x01;
                    let expect = common_prefix(&a, &b);
                    assert_eq!(expect, at, "width {width}, at {at}");
                    assert_eq!(
                        fixed_common_prefix(&a, &b),
                        expect,
                        "width {width}, at {at}"
                    );
                }
            }
        }
    }

    /// Equal widths are found from the offsets whatever the count, and one value of another width
    /// anywhere (inside a block of 32, at its edges, in the remainder) is found too.
    #[test]
    fn steady_offsets_find_one_other_width_anywhere() {
        for n in [0usize, 1, 2, 31, 32, 33, 64, 65, 100] {
            let off: Vec<i32> = (0..=n as i32).map(|i| 7 + i * 21).collect();
            assert!(steady_offsets(&off, 21), "n = {n}");
            assert_eq!(steady_offsets(&off, 20), n == 0, "n = {n}");
            for at in 1..=n {
                let mut o = off.clone();
                o[at..].iter_mut().for_each(|x| *x -= 1);
                assert!(!steady_offsets(&o, 21), "n = {n}, value {at} short");
            }
        }
        assert!(steady_offsets(&[], 3));
    }

    /// The constant-chunk test: one differing value anywhere (inside a block of 32, at its edges, in
    /// the remainder) is found, for lengths around the block size.
    #[test]
    fn all_equal_finds_one_differing_value_anywhere() {
        let eq = |a: f64, b: u64| a.to_bits() == b;
        for n in [1, 31, 32, 33, 64, 95, 100] {
            let v = vec![2.5f64; n];
            let a = Float64Array::from(v.clone());
            let p = Piece::of(Kind::F64, &a, None).unwrap();
            assert!(all_equal(&p, &v, 2.5f64.to_bits(), eq), "n = {n}");
            for at in 0..n {
                let mut w = v.clone();
                w[at] = if at % 2 == 0 { f64::NAN } else { -2.5 };
                let b = Float64Array::from(w.clone());
                let p = Piece::of(Kind::F64, &b, None).unwrap();
                assert!(!all_equal(&p, &w, 2.5f64.to_bits(), eq), "n = {n}, at {at}");
            }
        }
    }
}
