//! Binary time logs (`TLGnnnnn.XML` header + `TLGnnnnn.BIN` records).
//!
//! The header says which fields every record holds (the tri-state rule: attribute present and empty →
//! in every record; present with a value → constant; absent → none). [`RecordReader`] streams records
//! through a fixed-size buffer, validates each one and resynchronises after corrupt bytes;
//! [`Records`] yields owned [`Record`]s and [`FilledRecords`] carries the last value forward per
//! (DDI, device element).

use std::io::{ErrorKind, Read};

use serde::Serialize;

use crate::error::{Error, Result, Warning, WarningKind, Warnings};
use crate::source::FileRef;
use crate::time::{DAYS_1970_TO_1980, LoggedDateTime, MILLIS_PER_DAY, days_from_civil};
use crate::xml::{self, Node};

/// Most DLVs a header can address (the DLV index is a u8).
pub const MAX_DLVS: usize = 256;
/// Largest possible record: 30 fixed bytes, the count, 255 × (index + i32).
pub const MAX_RECORD_LEN: usize = 30 + 1 + 255 * 5;
const BUF_LEN: usize = 256 * 1024;
const LOOKAHEAD: usize = 2 * MAX_RECORD_LEN + 8;
/// Skipped byte ranges kept per log; more are counted.
const MAX_RANGES: usize = 1000;
/// The raw coordinate a record holds when its position is not available (no fix): both `PositionNorth`
/// and `PositionEast` are `0x7FFFFFFF` (isoxml-format.md, "Real-world quirks"). Such a record is well formed.
pub const POSITION_NOT_AVAILABLE: i32 = 0x7FFF_FFFF;

/// The state of a header attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "value")]
pub enum HeaderValue {
    /// Not in the header: not in the records, no value.
    #[default]
    Absent,
    /// Present and empty: stored in every record.
    Empty,
    /// Present with a value: constant for every record, not stored.
    Value(String),
}

impl HeaderValue {
    fn from_attr(el: &Node<'_>, key: &str) -> Self {
        match el.attribute(key) {
            None => HeaderValue::Absent,
            Some(v) if v.trim().is_empty() => HeaderValue::Empty,
            Some(v) => HeaderValue::Value(v.trim().to_owned()),
        }
    }

    /// Whether records store this field.
    pub fn in_record(&self) -> bool {
        matches!(self, HeaderValue::Empty)
    }

    /// The constant value, if any.
    pub fn constant(&self) -> Option<&str> {
        match self {
            HeaderValue::Value(v) => Some(v),
            _ => None,
        }
    }
}

/// The `PTN` of a time log header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct PositionHeader {
    pub north: HeaderValue,
    pub east: HeaderValue,
    pub up: HeaderValue,
    pub status: HeaderValue,
    pub pdop: HeaderValue,
    pub hdop: HeaderValue,
    pub satellites: HeaderValue,
    pub gps_utc_time: HeaderValue,
    pub gps_utc_date: HeaderValue,
}

/// One `DLV` of a time log header; its position is the DLV index used in records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DlvHeader {
    /// 0-based index (position in the header).
    pub index: u8,
    /// `A` DDI (`FFFF` when unreadable, with a warning).
    pub ddi: u16,
    /// `B`: empty = in the records; a value overrides every record.
    pub value: HeaderValue,
    /// `C` device element id.
    pub device_element_id: Option<String>,
    /// `D` PGN (DDI `DFFE`).
    pub pgn: Option<u32>,
    /// `E` start bit.
    pub start_bit: Option<u8>,
    /// `F` stop bit.
    pub stop_bit: Option<u8>,
}

/// A time log header (`TLGnnnnn.XML`, root `TIM`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLogHeader {
    /// `TIM A`: empty = every record starts with time and date.
    pub start: HeaderValue,
    /// `TIM B` as written (not in the schema; some terminals add it).
    pub stop: Option<String>,
    /// `TIM D`.
    pub time_type: Option<u8>,
    /// The first `PTN`, if any.
    pub position: Option<PositionHeader>,
    /// The `DLV`s in index order.
    pub dlvs: Vec<DlvHeader>,
}

impl TimeLogHeader {
    /// Parses a header from XML bytes, returning it with the warnings found.
    pub fn parse(bytes: &[u8], file: &str) -> Result<(TimeLogHeader, Vec<Warning>)> {
        let mut warnings = Warnings::default();
        let text = xml::text(bytes);
        let root = xml::parse(&text, file, &mut warnings).ok_or_else(|| Error::TimeLogHeader {
            file: file.to_owned(),
            message: "no XML element".into(),
        })?;
        let header = Self::from_element(&root, file, &mut warnings)?;
        Ok((header, warnings.into_vec()))
    }

    pub(crate) fn from_element(
        root: &Node<'_>,
        file: &str,
        warnings: &mut Warnings,
    ) -> Result<Self> {
        if root.name() != "TIM" {
            return Err(Error::TimeLogHeader {
                file: file.to_owned(),
                message: format!("root element is `{}`, expected `TIM`", root.name),
            });
        }
        let warn = |kind, msg: String| Warning::new(kind, msg).file(file);
        let mut header = TimeLogHeader {
            start: HeaderValue::from_attr(root, "A"),
            stop: root
                .attribute("B")
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            time_type: root.attribute("D").and_then(|d| d.trim().parse().ok()),
            position: None,
            dlvs: Vec::new(),
        };
        for child in &root.children {
            match child.name() {
                "PTN" => {
                    if header.position.is_some() {
                        warnings.push(warn(
                            WarningKind::UnknownElement,
                            "second PTN in a time log header ignored".into(),
                        ));
                        continue;
                    }
                    header.position = Some(PositionHeader {
                        north: HeaderValue::from_attr(child, "A"),
                        east: HeaderValue::from_attr(child, "B"),
                        up: HeaderValue::from_attr(child, "C"),
                        status: HeaderValue::from_attr(child, "D"),
                        pdop: HeaderValue::from_attr(child, "E"),
                        hdop: HeaderValue::from_attr(child, "F"),
                        satellites: HeaderValue::from_attr(child, "G"),
                        gps_utc_time: HeaderValue::from_attr(child, "H"),
                        gps_utc_date: HeaderValue::from_attr(child, "I"),
                    });
                }
                "DLV" => {
                    if header.dlvs.len() >= MAX_DLVS {
                        warnings.push(warn(
                            WarningKind::InvalidValue,
                            format!("more than {MAX_DLVS} DLVs; the rest cannot be indexed and are ignored"),
                        ));
                        break;
                    }
                    // Checked above: fewer than 256 entries so far.
                    let index = header.dlvs.len() as u8;
                    let ddi = match child.attribute("A").and_then(parse_hex_u16) {
                        Some(d) => d,
                        None => {
                            warnings.push(
                                warn(
                                    WarningKind::InvalidValue,
                                    format!(
                                        "DLV {index}: DDI `{}` unreadable",
                                        child.attribute("A").unwrap_or("")
                                    ),
                                )
                                .element("DLV")
                                .attribute("A"),
                            );
                            0xFFFF
                        }
                    };
                    let device_element_id = child
                        .attribute("C")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned);
                    if device_element_id.is_none() {
                        warnings.push(
                            warn(
                                WarningKind::MissingAttribute,
                                format!("DLV {index} has no device element; kept so later indices stay right"),
                            )
                            .element("DLV")
                            .attribute("C"),
                        );
                    }
                    let num = |k: &str| {
                        child
                            .attribute(k)
                            .and_then(|v| v.trim().parse::<u32>().ok())
                    };
                    let bit =
                        |k: &str| child.attribute(k).and_then(|v| v.trim().parse::<u8>().ok());
                    let dlv = DlvHeader {
                        index,
                        ddi,
                        value: HeaderValue::from_attr(child, "B"),
                        device_element_id,
                        pgn: num("D"),
                        start_bit: bit("E"),
                        stop_bit: bit("F"),
                    };
                    if let Some(v) = dlv.value.constant() {
                        if v.parse::<i32>().is_err() {
                            warnings.push(
                                warn(
                                    WarningKind::InvalidValue,
                                    format!(
                                        "DLV {index}: constant value `{v}` is not an int32; ignored"
                                    ),
                                )
                                .element("DLV")
                                .attribute("B"),
                            );
                        }
                    }
                    header.dlvs.push(dlv);
                }
                other => warnings.push(warn(
                    WarningKind::UnknownElement,
                    format!("unknown element `{other}` in time log header ignored"),
                )),
            }
        }
        if !matches!(header.start, HeaderValue::Empty) {
            warnings.push(warn(
                WarningKind::InvalidValue,
                "TIM A is not empty: records carry no time".into(),
            ));
        }
        Ok(header)
    }

    /// The byte layout of a record under this header.
    pub fn layout(&self) -> RecordLayout {
        RecordLayout::new(self)
    }
}

pub(crate) fn parse_hex_u16(s: &str) -> Option<u16> {
    let s = s.trim();
    if s.is_empty() || s.len() > 4 {
        return None;
    }
    u16::from_str_radix(s, 16).ok()
}

/// Which fields a record holds and where, plus the header's constants.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordLayout {
    time: bool,
    north: Option<usize>,
    east: Option<usize>,
    up: Option<usize>,
    status: Option<usize>,
    pdop: Option<usize>,
    hdop: Option<usize>,
    satellites: Option<usize>,
    gps_time: Option<usize>,
    gps_date: Option<usize>,
    /// Length of the fixed part before the DLV count.
    fixed_len: usize,
    dlv_count: usize,
    constants: RecordPosition,
    overrides: Vec<Option<i32>>,
    has_overrides: bool,
}

impl RecordLayout {
    fn new(h: &TimeLogHeader) -> Self {
        let mut off = 0usize;
        let mut take = |present: bool, len: usize| {
            present.then(|| {
                let at = off;
                off += len;
                at
            })
        };
        let time = take(h.start.in_record(), 6).is_some();
        let p = h.position.clone().unwrap_or_default();
        let north = take(p.north.in_record(), 4);
        let east = take(p.east.in_record(), 4);
        let up = take(p.up.in_record(), 4);
        let status = take(p.status.in_record(), 1);
        let pdop = take(p.pdop.in_record(), 2);
        let hdop = take(p.hdop.in_record(), 2);
        let satellites = take(p.satellites.in_record(), 1);
        let gps_time = take(p.gps_utc_time.in_record(), 4);
        let gps_date = take(p.gps_utc_date.in_record(), 2);
        let deg = |v: &HeaderValue| {
            v.constant()
                .and_then(|s| s.parse::<f64>().ok())
                .map(|d| (d * 1e7).round())
                .filter(|r| r.abs() <= 1.8e9)
                .map(|r| r as i32)
        };
        let tenth = |v: &HeaderValue| {
            v.constant()
                .and_then(|s| s.parse::<f64>().ok())
                .map(|d| (d * 10.0).round())
                .filter(|r| (0.0..=65535.0).contains(r))
                .map(|r| r as u16)
        };
        let int = |v: &HeaderValue| v.constant().and_then(|s| s.parse::<i64>().ok());
        let constants = RecordPosition {
            north: deg(&p.north),
            east: deg(&p.east),
            up: int(&p.up).and_then(|v| i32::try_from(v).ok()),
            status: int(&p.status).and_then(|v| u8::try_from(v).ok()),
            pdop: tenth(&p.pdop),
            hdop: tenth(&p.hdop),
            satellites: int(&p.satellites).and_then(|v| u8::try_from(v).ok()),
            gps_utc_time: int(&p.gps_utc_time).and_then(|v| u32::try_from(v).ok()),
            gps_utc_date: int(&p.gps_utc_date).and_then(|v| u16::try_from(v).ok()),
        };
        let overrides: Vec<Option<i32>> = h
            .dlvs
            .iter()
            .map(|d| d.value.constant().and_then(|v| v.parse().ok()))
            .collect();
        RecordLayout {
            time,
            north,
            east,
            up,
            status,
            pdop,
            hdop,
            satellites,
            gps_time,
            gps_date,
            fixed_len: off,
            dlv_count: h.dlvs.len().min(MAX_DLVS),
            constants,
            has_overrides: overrides.iter().any(Option::is_some),
            overrides,
        }
    }

    /// The layout pre-v3 writers used whatever the header says: time, date and all nine position fields in
    /// every record (30 bytes before the DLV count), the header's DLVs (constants included).
    pub fn full_position(h: &TimeLogHeader) -> Self {
        let full = TimeLogHeader {
            start: HeaderValue::Empty,
            position: Some(PositionHeader {
                north: HeaderValue::Empty,
                east: HeaderValue::Empty,
                up: HeaderValue::Empty,
                status: HeaderValue::Empty,
                pdop: HeaderValue::Empty,
                hdop: HeaderValue::Empty,
                satellites: HeaderValue::Empty,
                gps_utc_time: HeaderValue::Empty,
                gps_utc_date: HeaderValue::Empty,
            }),
            ..h.clone()
        };
        RecordLayout::new(&full)
    }

    /// Bytes before the DLV count.
    pub fn fixed_len(&self) -> usize {
        self.fixed_len
    }

    /// Number of DLVs in the header.
    pub fn dlv_count(&self) -> usize {
        self.dlv_count
    }

    /// Whether records start with a time stamp.
    pub fn has_time(&self) -> bool {
        self.time
    }

    /// Encodes one record in this layout (for tests, benchmarks and synthetic logs). Fields the layout does
    /// not store are ignored; missing stored fields are written as 0.
    pub fn encode(&self, record: &Record, out: &mut Vec<u8>) {
        if self.time {
            let t = record.time.unwrap_or(LoggedDateTime { days: 0, millis: 0 });
            out.extend_from_slice(&t.millis.to_le_bytes());
            out.extend_from_slice(&t.days.to_le_bytes());
        }
        let p = &record.position;
        if self.north.is_some() {
            out.extend_from_slice(&p.north.unwrap_or(0).to_le_bytes());
        }
        if self.east.is_some() {
            out.extend_from_slice(&p.east.unwrap_or(0).to_le_bytes());
        }
        if self.up.is_some() {
            out.extend_from_slice(&p.up.unwrap_or(0).to_le_bytes());
        }
        if self.status.is_some() {
            out.push(p.status.unwrap_or(0));
        }
        if self.pdop.is_some() {
            out.extend_from_slice(&p.pdop.unwrap_or(0).to_le_bytes());
        }
        if self.hdop.is_some() {
            out.extend_from_slice(&p.hdop.unwrap_or(0).to_le_bytes());
        }
        if self.satellites.is_some() {
            out.push(p.satellites.unwrap_or(0));
        }
        if self.gps_time.is_some() {
            out.extend_from_slice(&p.gps_utc_time.unwrap_or(0).to_le_bytes());
        }
        if self.gps_date.is_some() {
            out.extend_from_slice(&p.gps_utc_date.unwrap_or(0).to_le_bytes());
        }
        let n = record.values.len().min(255);
        out.push(n as u8);
        for v in record.values.iter().take(n) {
            out.push(v.index);
            out.extend_from_slice(&v.value.to_le_bytes());
        }
    }
}

/// Bytes of a binary's start that [`legacy_full_position`] looks at (two records of the longest kind).
pub(crate) const LEGACY_PROBE_LEN: usize = 2 * MAX_RECORD_LEN;

/// isoxml-format.md quirk 16 (ADAPT ISOv4Plugin `DetermineTimelogAttributeValidity`): writers before
/// version 3 stored time and every position field in each record whatever the header said. For a pre-v3
/// data set, `prefix` (the binary's first bytes) is taken to be in that layout when the second record, placed
/// by the DLV count at byte 30, has the first record's date. Unlike ADAPT, the declared layout wins when it
/// passes the same test, so a header that is right is never overridden by a coincidence.
pub(crate) fn legacy_full_position(declared: &RecordLayout, prefix: &[u8]) -> bool {
    const FULL: usize = 30;
    if declared.time && declared.fixed_len == FULL {
        return false;
    }
    let same_date_twice = |fixed: usize| -> bool {
        let (Some(first), Some(&n)) = (prefix.get(4..6), prefix.get(fixed)) else {
            return false;
        };
        let second = fixed + 1 + 5 * usize::from(n);
        prefix.get(second + 4..second + 6) == Some(first)
    };
    same_date_twice(FULL) && !(declared.time && same_date_twice(declared.fixed_len))
}

/// Position fields of a record, raw as stored (or the header constant).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordPosition {
    /// Latitude × 1e-7 degrees.
    pub north: Option<i32>,
    /// Longitude × 1e-7 degrees.
    pub east: Option<i32>,
    /// Altitude, mm (vendors differ; see [`Record::altitude_m`]).
    pub up: Option<i32>,
    /// 0 no fix, 1 GNSS, 2 DGNSS, 3 precise, 4 RTK fixed, 5 RTK float, 6 dead reckoning, 7 manual,
    /// 8 simulation, 14 error, 15 not available. Information, not validity.
    pub status: Option<u8>,
    /// PDOP × 0.1.
    pub pdop: Option<u16>,
    /// HDOP × 0.1.
    pub hdop: Option<u16>,
    /// Satellites in use.
    pub satellites: Option<u8>,
    /// GPS UTC time, ms since midnight.
    pub gps_utc_time: Option<u32>,
    /// GPS UTC date, days since 1980-01-01.
    pub gps_utc_date: Option<u16>,
}

impl RecordPosition {
    /// Whether the record says it has no position: both coordinates hold the "not available" value
    /// ([`POSITION_NOT_AVAILABLE`]), the position status is 0 (no fix), or the log holds no coordinates.
    /// Such a record is well formed; its values still count. (A record with a fix but coordinates that
    /// are 0/0 or out of range is not a no-fix record: its position is invalid.)
    #[inline]
    pub fn is_no_fix(&self) -> bool {
        match (self.north, self.east) {
            (Some(POSITION_NOT_AVAILABLE), Some(POSITION_NOT_AVAILABLE))
            | (None, _)
            | (_, None) => true,
            _ => self.status == Some(0),
        }
    }
}

/// One DLV entry of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DlvValue {
    /// Index into the header's DLV list.
    pub index: u8,
    /// Raw value.
    pub value: i32,
}

/// One decoded record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// Byte offset of the record in the binary.
    pub offset: u64,
    /// Local time of the terminal, as logged (no zone).
    pub time: Option<LoggedDateTime>,
    /// Position fields.
    pub position: RecordPosition,
    /// The DLVs logged in this record (only those that triggered).
    pub values: Vec<DlvValue>,
}

impl Record {
    /// Latitude in degrees.
    pub fn latitude(&self) -> Option<f64> {
        self.position.north.map(|v| f64::from(v) * 1e-7)
    }
    /// Longitude in degrees.
    pub fn longitude(&self) -> Option<f64> {
        self.position.east.map(|v| f64::from(v) * 1e-7)
    }
    /// Whether the position is usable: both coordinates present, in range and not 0/0.
    pub fn has_plausible_position(&self) -> bool {
        plausible(self.position.north, self.position.east)
    }
    /// Whether the record says it has no position (see [`RecordPosition::is_no_fix`]).
    pub fn has_no_fix(&self) -> bool {
        self.position.is_no_fix()
    }
    /// Altitude in metres when `PositionUp` read as mm lies within −500…9000 m (vendors differ).
    pub fn altitude_m(&self) -> Option<f64> {
        self.position
            .up
            .map(|v| f64::from(v) / 1000.0)
            .filter(|m| (-500.0..=9000.0).contains(m))
    }
    /// PDOP.
    pub fn pdop(&self) -> Option<f64> {
        self.position.pdop.map(|v| f64::from(v) / 10.0)
    }
    /// HDOP.
    pub fn hdop(&self) -> Option<f64> {
        self.position.hdop.map(|v| f64::from(v) / 10.0)
    }
    /// GPS UTC date and time when both GPS fields exist.
    pub fn gps_utc(&self) -> Option<LoggedDateTime> {
        match (self.position.gps_utc_date, self.position.gps_utc_time) {
            (Some(days), Some(millis)) => Some(LoggedDateTime { days, millis }),
            _ => None,
        }
    }
    /// The raw value of a DLV index in this record.
    pub fn value(&self, index: u8) -> Option<i32> {
        self.values
            .iter()
            .find(|v| v.index == index)
            .map(|v| v.value)
    }
}

#[inline]
pub(crate) fn plausible(north: Option<i32>, east: Option<i32>) -> bool {
    match (north, east) {
        (Some(n), Some(e)) => {
            (n != 0 || e != 0)
                && (-900_000_000..=900_000_000).contains(&n)
                && (-1_800_000_000..=1_800_000_000).contains(&e)
        }
        _ => false,
    }
}

/// A record borrowed from the reader's buffer (no allocation).
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    /// Byte offset of the record in the binary.
    pub offset: u64,
    /// Local time as logged.
    pub time: Option<LoggedDateTime>,
    /// Position fields.
    pub position: RecordPosition,
    entries: &'a [u8],
    overrides: &'a [Option<i32>],
}

impl<'a> RecordView<'a> {
    /// Number of DLV entries.
    pub fn value_count(&self) -> usize {
        self.entries.len() / 5
    }

    /// The DLV entries (header constants applied).
    #[inline]
    pub fn values(&self) -> impl Iterator<Item = DlvValue> + 'a {
        let overrides = self.overrides;
        self.entries.chunks_exact(5).map(move |c| {
            let index = c.first().copied().unwrap_or(0);
            let raw = c
                .get(1..5)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, i32::from_le_bytes);
            let value = overrides
                .get(usize::from(index))
                .copied()
                .flatten()
                .unwrap_or(raw);
            DlvValue { index, value }
        })
    }

    /// Whether the position is usable (see [`Record::has_plausible_position`]).
    #[inline]
    pub fn has_plausible_position(&self) -> bool {
        plausible(self.position.north, self.position.east)
    }

    /// Whether the record says it has no position (see [`RecordPosition::is_no_fix`]).
    #[inline]
    pub fn has_no_fix(&self) -> bool {
        self.position.is_no_fix()
    }

    /// Calls `f(index, value)` for every DLV entry, as [`RecordView::values`] yields them; a tighter
    /// loop for hot paths (no per-entry override lookup when the header has no constants).
    #[inline]
    pub fn for_each_value(&self, mut f: impl FnMut(u8, i32)) {
        let entries = self
            .entries
            .chunks_exact(5)
            .filter_map(|c| <&[u8; 5]>::try_from(c).ok());
        if self.overrides.is_empty() {
            for &[index, a, b, c, d] in entries {
                f(index, i32::from_le_bytes([a, b, c, d]));
            }
        } else {
            for &[index, a, b, c, d] in entries {
                let raw = i32::from_le_bytes([a, b, c, d]);
                let value = self.overrides.get(usize::from(index)).copied().flatten();
                f(index, value.unwrap_or(raw));
            }
        }
    }

    /// An owned copy.
    pub fn to_record(&self) -> Record {
        Record {
            offset: self.offset,
            time: self.time,
            position: self.position,
            values: self.values().collect(),
        }
    }
}

/// Limits used to tell a real record from misaligned bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Earliest plausible record date, days since 1980-01-01 (default 1995-01-01).
    pub min_date: u16,
    /// Latest plausible record date (default: today + 1 day, from the system clock).
    pub max_date: u16,
    /// Largest date change between consecutive records, days (default 1).
    pub max_day_step: u16,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        let today = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() / 86_400)
            .unwrap_or(0);
        let today_1980 = i64::try_from(today).unwrap_or(0) - DAYS_1970_TO_1980;
        DecodeOptions {
            min_date: u16::try_from(days_from_civil(1995, 1, 1) - DAYS_1970_TO_1980).unwrap_or(0),
            max_date: u16::try_from(today_1980.saturating_add(1).clamp(0, i64::from(u16::MAX)))
                .unwrap_or(u16::MAX),
            max_day_step: 1,
        }
    }
}

/// A byte range of a binary that was skipped while resynchronising.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SkippedRange {
    /// First skipped byte.
    pub start: u64,
    /// One past the last skipped byte.
    pub end: u64,
}

enum Step {
    Record {
        len: usize,
        time: Option<LoggedDateTime>,
        position: RecordPosition,
        /// The time of day was at or past 24 h and was rolled into the date.
        rolled: bool,
    },
    NeedMore,
    Invalid(&'static str),
}

#[inline]
fn u8_at(b: &[u8], o: usize) -> u8 {
    b.get(o).copied().unwrap_or(0)
}
#[inline]
fn u16_at(b: &[u8], o: usize) -> u16 {
    b.get(o..o + 2)
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map_or(0, u16::from_le_bytes)
}
#[inline]
fn u32_at(b: &[u8], o: usize) -> u32 {
    b.get(o..o + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, u32::from_le_bytes)
}
#[inline]
fn i32_at(b: &[u8], o: usize) -> i32 {
    b.get(o..o + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map_or(0, i32::from_le_bytes)
}

impl RecordLayout {
    /// Decodes and validates the record at the start of `b`.
    // Inlined into `next_record` so the decoded fields are not copied through a `Step` in memory.
    #[inline(always)]
    fn step(&self, b: &[u8], prev_date: Option<u16>, opts: &DecodeOptions) -> Step {
        let fixed = self.fixed_len;
        if b.len() <= fixed {
            return Step::NeedMore;
        }
        let mut time = None;
        let mut rolled = false;
        if self.time {
            let mut millis = u32_at(b, 0);
            let mut days = u16_at(b, 4);
            if millis >= MILLIS_PER_DAY {
                // A time of day at or past 24 h is a later day's (docs/ISOXML.md, "Time"): the date rolls
                // forward and the checks below apply to the rolled date.
                let Ok(d) = u16::try_from(u32::from(days) + millis / MILLIS_PER_DAY) else {
                    return Step::Invalid("time of day past the last date");
                };
                days = d;
                millis %= MILLIS_PER_DAY;
                rolled = true;
            }
            if days < opts.min_date || days > opts.max_date {
                return Step::Invalid("date outside the plausible window");
            }
            if let Some(prev) = prev_date {
                if days.abs_diff(prev) > opts.max_day_step {
                    return Step::Invalid("date jumps from the previous record");
                }
            }
            time = Some(LoggedDateTime { days, millis });
        }
        let c = &self.constants;
        let position = RecordPosition {
            north: self.north.map(|o| i32_at(b, o)).or(c.north),
            east: self.east.map(|o| i32_at(b, o)).or(c.east),
            up: self.up.map(|o| i32_at(b, o)).or(c.up),
            status: self.status.map(|o| u8_at(b, o)).or(c.status),
            pdop: self.pdop.map(|o| u16_at(b, o)).or(c.pdop),
            hdop: self.hdop.map(|o| u16_at(b, o)).or(c.hdop),
            satellites: self.satellites.map(|o| u8_at(b, o)).or(c.satellites),
            gps_utc_time: self.gps_time.map(|o| u32_at(b, o)).or(c.gps_utc_time),
            gps_utc_date: self.gps_date.map(|o| u16_at(b, o)).or(c.gps_utc_date),
        };
        // both coordinates "not available" is a record without a fix, not corruption
        let not_available = position.north == Some(POSITION_NOT_AVAILABLE)
            && position.east == Some(POSITION_NOT_AVAILABLE);
        if self.north.is_some()
            && !not_available
            && !(-900_000_000..=900_000_000).contains(&position.north.unwrap_or(0))
        {
            return Step::Invalid("latitude out of range");
        }
        if self.east.is_some()
            && !not_available
            && !(-1_800_000_000..=1_800_000_000).contains(&position.east.unwrap_or(0))
        {
            return Step::Invalid("longitude out of range");
        }
        if self.status.is_some() && position.status.unwrap_or(0) > 15 {
            return Step::Invalid("position status above 15");
        }
        let n = usize::from(u8_at(b, fixed));
        let len = fixed + 1 + n * 5;
        let Some(entries) = b.get(fixed + 1..len) else {
            return Step::NeedMore;
        };
        let count = self.dlv_count;
        // A header with 256 DLVs makes every u8 index valid.
        if count < MAX_DLVS
            && entries
                .chunks_exact(5)
                .any(|e| e.first().is_some_and(|&i| usize::from(i) >= count))
        {
            return Step::Invalid("DLV index beyond the header's DLV list");
        }
        Step::Record {
            len,
            time,
            position,
            rolled,
        }
    }
}

/// Streams records out of a binary with bounded memory (a 256 KiB buffer).
///
/// Corrupt stretches are skipped: the reader steps forward byte by byte to the next plausible record
/// (confirmed by the record after it) and reports the skipped range. A record cut off by the end of the
/// file is dropped with a warning.
#[derive(Debug)]
pub struct RecordReader<R> {
    src: R,
    file: String,
    layout: RecordLayout,
    opts: DecodeOptions,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    base: u64,
    eof: bool,
    prev_date: Option<u16>,
    warnings: Warnings,
    skipped: Vec<SkippedRange>,
    skipped_bytes: u64,
    records: u64,
    /// Records whose time of day was rolled into the date (warned once, at the first).
    rolled: u64,
}

impl<R: Read> RecordReader<R> {
    /// A reader over `src` decoding records laid out by `header`; `file` names the binary in messages.
    pub fn new(header: &TimeLogHeader, src: R, file: impl Into<String>) -> Self {
        Self::with_options(header, src, file, DecodeOptions::default())
    }

    /// Like [`RecordReader::new`] with explicit plausibility limits.
    pub fn with_options(
        header: &TimeLogHeader,
        src: R,
        file: impl Into<String>,
        opts: DecodeOptions,
    ) -> Self {
        Self::with_layout(header.layout(), src, file, opts)
    }

    /// A reader decoding records in an explicit layout (e.g. [`RecordLayout::full_position`]).
    pub fn with_layout(
        layout: RecordLayout,
        src: R,
        file: impl Into<String>,
        opts: DecodeOptions,
    ) -> Self {
        Self::with_buffer(layout, src, file.into(), opts, BUF_LEN)
    }

    /// `buf_len` is clamped to `2 × LOOKAHEAD..=BUF_LEN`; a small log needs no 256 KiB buffer.
    fn with_buffer(
        layout: RecordLayout,
        src: R,
        file: String,
        opts: DecodeOptions,
        buf_len: usize,
    ) -> Self {
        RecordReader {
            src,
            file,
            layout,
            opts,
            buf: take_buffer(buf_len.clamp(2 * LOOKAHEAD, BUF_LEN)),
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            prev_date: None,
            warnings: Warnings::default(),
            skipped: Vec::new(),
            skipped_bytes: 0,
            records: 0,
            rolled: 0,
        }
    }

    /// Warnings so far (truncation, resynchronisation); at most 1000 are kept.
    pub fn warnings(&self) -> &[Warning] {
        self.warnings.as_slice()
    }

    /// Takes the warnings collected so far.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings).into_vec()
    }

    /// Byte ranges skipped so far (at most 1000 kept; see [`RecordReader::skipped_bytes`]).
    pub fn skipped_ranges(&self) -> &[SkippedRange] {
        &self.skipped
    }

    /// Total bytes skipped so far.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped_bytes
    }

    /// Records decoded so far.
    pub fn record_count(&self) -> u64 {
        self.records
    }

    /// Records so far whose time of day was at or past 24 h and was rolled into the date.
    pub fn rolled_count(&self) -> u64 {
        self.rolled
    }

    /// The record layout in use.
    pub fn layout(&self) -> &RecordLayout {
        &self.layout
    }

    /// Tops the buffer up to a full lookahead; a no-op for all but one record in thousands.
    #[inline]
    fn fill(&mut self) -> Result<()> {
        if self.eof || self.end - self.start >= LOOKAHEAD {
            return Ok(());
        }
        self.refill()
    }

    #[cold]
    fn refill(&mut self) -> Result<()> {
        while !self.eof && self.end - self.start < LOOKAHEAD {
            if self.buf.len() - self.end < LOOKAHEAD {
                self.buf.copy_within(self.start..self.end, 0);
                self.base += self.start as u64;
                self.end -= self.start;
                self.start = 0;
            }
            let Some(target) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.src.read(target) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n.min(target.len()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Read {
                        file: self.file.clone(),
                        offset: self.base + self.end as u64,
                        source,
                    });
                }
            }
        }
        Ok(())
    }

    /// The next record, `None` at the end.
    #[inline(always)]
    pub fn next_record(&mut self) -> Result<Option<RecordView<'_>>> {
        loop {
            self.fill()?;
            if self.start >= self.end {
                return Ok(None);
            }
            let avail = self.buf.get(self.start..self.end).unwrap_or(&[]);
            match self.layout.step(avail, self.prev_date, &self.opts) {
                Step::Record {
                    len,
                    time,
                    position,
                    rolled,
                } => {
                    let at = self.start;
                    self.start += len;
                    if let Some(t) = time {
                        self.prev_date = Some(t.days);
                    }
                    self.records += 1;
                    if rolled {
                        self.note_rollover(at);
                    }
                    let fixed = self.layout.fixed_len;
                    let overrides: &[Option<i32>] = if self.layout.has_overrides {
                        &self.layout.overrides
                    } else {
                        &[]
                    };
                    return Ok(Some(RecordView {
                        offset: self.base + at as u64,
                        time,
                        position,
                        entries: self.buf.get(at + fixed + 1..at + len).unwrap_or(&[]),
                        overrides,
                    }));
                }
                Step::NeedMore => {
                    // `fill` guarantees a full record of lookahead unless the file ended.
                    let left = (self.end - self.start) as u64;
                    self.warnings.push(
                        Warning::new(
                            WarningKind::TruncatedRecord,
                            format!("last record cut off: {left} byte(s) at the end dropped"),
                        )
                        .file(self.file.clone())
                        .offset(self.base + self.start as u64),
                    );
                    self.start = self.end;
                    return Ok(None);
                }
                Step::Invalid(reason) => self.resync(reason)?,
            }
        }
    }

    /// Counts a record whose time of day was rolled into the date; the first one is warned about.
    #[cold]
    fn note_rollover(&mut self, at: usize) {
        self.rolled += 1;
        if self.rolled == 1 {
            self.warnings.push(
                Warning::new(
                    WarningKind::TimeRollover,
                    "time of day at or past 24 h (86,400,000 ms or more): the date is rolled forward \
                     (this record and any later ones alike)",
                )
                .file(self.file.clone())
                .offset(self.base + at as u64),
            );
        }
    }

    /// Skips forward from the current (bad) position to the next plausible record.
    fn resync(&mut self, reason: &'static str) -> Result<()> {
        let bad_at = self.base + self.start as u64;
        let mut first = true;
        loop {
            self.fill()?;
            if self.start >= self.end {
                break;
            }
            let avail = self.buf.get(self.start..self.end).unwrap_or(&[]);
            // A date jump alone is accepted at the same position when the records after it agree.
            let prev = if first { None } else { self.prev_date };
            match self.layout.step(avail, prev, &self.opts) {
                Step::Record { len, time, .. } => {
                    let next = avail.get(len..).unwrap_or(&[]);
                    let confirmed = match self.layout.step(next, time.map(|t| t.days), &self.opts) {
                        Step::Record { .. } => true,
                        Step::NeedMore => self.eof,
                        Step::Invalid(_) => false,
                    };
                    if confirmed {
                        break;
                    }
                }
                // at the end of the file a record cannot fit from here (the count may be junk): try the
                // next position; with none left, the tail belongs to the skipped range (it is not a
                // record cut off by the end of the file)
                Step::NeedMore | Step::Invalid(_) => {}
            }
            first = false;
            self.start += 1;
        }
        let here = self.base + self.start as u64;
        if here == bad_at {
            self.prev_date = None;
            self.warnings.push(
                Warning::new(
                    WarningKind::Resync,
                    format!("{reason}; continuing with the new date"),
                )
                .file(self.file.clone())
                .offset(bad_at),
            );
            return Ok(());
        }
        let range = SkippedRange {
            start: bad_at,
            end: here,
        };
        self.skipped_bytes += range.end - range.start;
        if self.skipped.len() < MAX_RANGES {
            self.skipped.push(range);
        }
        self.prev_date = None;
        let tail = if self.start >= self.end {
            "; no plausible record after it"
        } else {
            ""
        };
        self.warnings.push(
            Warning::new(
                WarningKind::Resync,
                format!(
                    "{reason}; skipped bytes {}..{} ({} bytes) to resynchronise{tail}",
                    range.start,
                    range.end,
                    range.end - range.start
                ),
            )
            .file(self.file.clone())
            .offset(bad_at),
        );
        Ok(())
    }
}

/// Owned records of a time log (see [`RecordReader`] for the rules).
#[derive(Debug)]
pub struct Records<R = Box<dyn Read + Send>> {
    reader: RecordReader<R>,
    failed: bool,
}

impl<R: Read> Records<R> {
    /// Wraps a reader.
    pub fn new(reader: RecordReader<R>) -> Self {
        Records {
            reader,
            failed: false,
        }
    }
    /// The underlying reader (warnings, skipped ranges).
    pub fn reader(&self) -> &RecordReader<R> {
        &self.reader
    }
    /// Warnings so far.
    pub fn warnings(&self) -> &[Warning] {
        self.reader.warnings()
    }
    /// Skipped byte ranges so far.
    pub fn skipped_ranges(&self) -> &[SkippedRange] {
        self.reader.skipped_ranges()
    }
}

impl<R: Read> Iterator for Records<R> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.reader.next_record() {
            Ok(Some(view)) => Some(Ok(view.to_record())),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// A value column of the forward-filled view: one per distinct (DDI, device element, PGN field).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ValueColumn {
    /// DDI.
    pub ddi: u16,
    /// Device element id.
    pub device_element_id: Option<String>,
    /// `(pgn, start bit, stop bit)` for PGN-based DLVs.
    pub pgn: Option<(u32, u8, u8)>,
}

/// A record with every column's last known value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilledRecord {
    /// The record as logged.
    pub record: Record,
    /// Last value per column, in [`FilledRecords::columns`] order; `None` until first logged.
    pub values: Vec<Option<i32>>,
}

/// Records with the last value carried forward per (DDI, device element), since terminals log values
/// only when they change.
#[derive(Debug)]
pub struct FilledRecords<R = Box<dyn Read + Send>> {
    records: Records<R>,
    columns: Vec<ValueColumn>,
    column_of: Vec<usize>,
    current: Vec<Option<i32>>,
}

impl<R: Read> FilledRecords<R> {
    /// Builds the view over `records` of a log with `header`.
    pub fn new(header: &TimeLogHeader, records: Records<R>) -> Self {
        let mut columns: Vec<ValueColumn> = Vec::new();
        let mut column_of = Vec::with_capacity(header.dlvs.len());
        for d in &header.dlvs {
            let col = ValueColumn {
                ddi: d.ddi,
                device_element_id: d.device_element_id.clone(),
                pgn: d
                    .pgn
                    .map(|p| (p, d.start_bit.unwrap_or(0), d.stop_bit.unwrap_or(0))),
            };
            let i = match columns.iter().position(|c| c == &col) {
                Some(i) => i,
                None => {
                    columns.push(col);
                    columns.len() - 1
                }
            };
            column_of.push(i);
        }
        let mut current = vec![None; columns.len()];
        for d in &header.dlvs {
            if let (Some(v), Some(&c)) = (
                d.value.constant().and_then(|v| v.parse().ok()),
                column_of.get(usize::from(d.index)),
            ) {
                if let Some(slot) = current.get_mut(c) {
                    *slot = Some(v);
                }
            }
        }
        FilledRecords {
            records,
            columns,
            column_of,
            current,
        }
    }

    /// The value columns.
    pub fn columns(&self) -> &[ValueColumn] {
        &self.columns
    }

    /// The underlying records (warnings, skipped ranges).
    pub fn records(&self) -> &Records<R> {
        &self.records
    }
}

impl<R: Read> Iterator for FilledRecords<R> {
    type Item = Result<FilledRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        let record = match self.records.next()? {
            Ok(r) => r,
            Err(e) => return Some(Err(e)),
        };
        for v in &record.values {
            if let Some(slot) = self
                .column_of
                .get(usize::from(v.index))
                .and_then(|&c| self.current.get_mut(c))
            {
                *slot = Some(v.value);
            }
        }
        Some(Ok(FilledRecord {
            record,
            values: self.current.clone(),
        }))
    }
}

thread_local! {
    /// The buffer of the last reader dropped on this thread, reused by the next one: reading many logs
    /// then costs no fresh zeroed 256 KiB (and its page faults) per log.
    static SPARE_BUFFER: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

fn take_buffer(len: usize) -> Vec<u8> {
    let spare = SPARE_BUFFER.with(std::cell::Cell::take);
    if spare.len() >= len {
        spare
    } else {
        vec![0; len]
    }
}

impl<R> Drop for RecordReader<R> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        // Keep the larger of the two, so one spare of at most `BUF_LEN` bytes per thread.
        let _ = SPARE_BUFFER.try_with(|spare| {
            let old = spare.take();
            spare.set(if old.len() > buf.len() { old } else { buf });
        });
    }
}

/// A time log of a task: its header and where its binary is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLog {
    /// `TLG A`, e.g. `TLG00001`.
    pub name: String,
    /// The task that references it (first reference).
    pub task_id: String,
    /// `TLG B` as written.
    pub file_length: Option<u64>,
    /// `TLG C` (1 = binary time log).
    pub log_type: Option<u8>,
    /// The parsed header; `None` when the header file is missing or unusable.
    pub header: Option<TimeLogHeader>,
    /// Size of the binary, when present.
    pub binary_size: Option<u64>,
    /// A pre-v3 data set whose records hold time and all nine position fields whatever the header says
    /// (isoxml-format.md quirk 16); records are then decoded in [`RecordLayout::full_position`].
    pub legacy_full_position: bool,
    #[serde(skip)]
    pub(crate) bin: Option<FileRef>,
    #[serde(skip)]
    pub(crate) header_error: Option<String>,
}

impl TimeLog {
    /// The binary's file name as found in the data set.
    pub fn binary_file(&self) -> Option<&str> {
        self.bin.as_ref().map(|f| f.name())
    }

    /// Why the log cannot be read, when it cannot: its header is missing or unusable, or its binary is
    /// missing.
    pub fn problem(&self) -> Option<String> {
        if self.header.is_none() {
            return Some(format!(
                "{}.XML: {}",
                self.name,
                self.header_error
                    .as_deref()
                    .unwrap_or("the header is missing")
            ));
        }
        if self.bin.is_none() {
            return Some(format!("{}.BIN is missing", self.name));
        }
        None
    }

    fn parts(&self) -> Result<(&TimeLogHeader, &FileRef)> {
        let header = self.header.as_ref().ok_or_else(|| Error::TimeLogHeader {
            file: format!("{}.XML", self.name),
            message: self
                .header_error
                .clone()
                .unwrap_or_else(|| "missing".into()),
        })?;
        let bin = self.bin.as_ref().ok_or_else(|| Error::MissingFile {
            file: format!("{}.BIN", self.name),
            element: format!("TLG {}", self.name),
        })?;
        Ok((header, bin))
    }

    /// A streaming reader over the binary (no allocation per record).
    pub fn reader(&self) -> Result<RecordReader<Box<dyn Read + Send>>> {
        self.reader_with(DecodeOptions::default())
    }

    /// Like [`TimeLog::reader`] with explicit plausibility limits.
    pub fn reader_with(&self, opts: DecodeOptions) -> Result<RecordReader<Box<dyn Read + Send>>> {
        let (_, bin) = self.parts()?;
        // The listed size only sizes the buffer; a wrong one costs speed, never correctness.
        let buf_len = usize::try_from(bin.size.saturating_add(1)).unwrap_or(BUF_LEN);
        Ok(RecordReader::with_buffer(
            self.layout()?,
            bin.open()?,
            bin.name().to_owned(),
            opts,
            buf_len,
        ))
    }

    /// The layout records are decoded in: the header's, or the full pre-v3 one
    /// ([`TimeLog::legacy_full_position`]).
    pub fn layout(&self) -> Result<RecordLayout> {
        let (header, _) = self.parts()?;
        Ok(if self.legacy_full_position {
            RecordLayout::full_position(header)
        } else {
            header.layout()
        })
    }

    /// The records, streamed.
    pub fn records(&self) -> Result<Records> {
        Ok(Records::new(self.reader()?))
    }

    /// The records with the last value carried forward per (DDI, device element).
    pub fn filled_records(&self) -> Result<FilledRecords> {
        let records = self.records()?;
        let (header, _) = self.parts()?;
        Ok(FilledRecords::new(header, records))
    }
}

#[cfg(test)]
mod tests;
