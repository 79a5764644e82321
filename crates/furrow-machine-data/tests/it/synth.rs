//! Small TASKDATA sets written with furrow-isoxml's own encoder (`RecordLayout::encode`), shaped like the
//! vendor logs of issue 24: a device description, a task with its `TIM` totals, and time logs whose
//! records say where the machine was and what it logged.

use std::path::Path;

use arrow_array::{Array, Float64Array, RecordBatch, StringArray};
use furrow_isoxml::{DlvValue, LoggedDateTime, Record, RecordPosition, TaskData, TimeLogHeader};
use furrow_machine_data::{ConvertOptions, StandardFile, convert_task_data};

/// Client NAMEs with the device class in bits 49–55: a combine (7), a fertiliser spreader (5), a
/// sprayer (6), a planter (4).
pub(crate) const COMBINE: &str = "A00E84000DF0E439";
pub(crate) const SPREADER: &str = "A00A84000DF0E439";
pub(crate) const SPRAYER: &str = "A00C840018800000";

/// Metres per degree of latitude at 52°N (the WGS 84 series, as furrow measures).
pub(crate) fn m_per_deg_lat() -> f64 {
    furrow_allocate::metres_per_degree(52.0).0
}

/// One record: milliseconds after the start, metres north of the start (None: no fix), DLV values, and
/// the time as logged when it is not the start's day and time plus `ms` (days, ms of the day).
#[derive(Debug, Clone)]
pub(crate) struct Rec {
    pub(crate) ms: u64,
    pub(crate) north_m: Option<f64>,
    /// Metres east of the start.
    pub(crate) east_m: f64,
    pub(crate) values: Vec<(u8, i32)>,
    pub(crate) raw_time: Option<(u16, u32)>,
}

/// `n` records one every `step_ms`, moving north `speed` m/s, with `values(i)`.
pub(crate) fn drive(
    n: usize,
    step_ms: u64,
    speed: f64,
    mut values: impl FnMut(usize) -> Vec<(u8, i32)>,
) -> Vec<Rec> {
    (0..n)
        .map(|i| Rec {
            ms: i as u64 * step_ms,
            north_m: Some(i as f64 * step_ms as f64 / 1000.0 * speed),
            east_m: 0.0,
            values: values(i),
            raw_time: None,
        })
        .collect()
}

/// Like [`drive`], along `heading_deg` (clockwise from north).
pub(crate) fn drive_along(
    n: usize,
    step_ms: u64,
    speed: f64,
    heading_deg: f64,
    values: impl FnMut(usize) -> Vec<(u8, i32)>,
) -> Vec<Rec> {
    let (sin, cos) = heading_deg.to_radians().sin_cos();
    let mut out = drive(n, step_ms, speed, values);
    for r in &mut out {
        let along = r.north_m.unwrap_or(0.0);
        r.north_m = Some(along * cos);
        r.east_m = along * sin;
    }
    out
}

/// The position of a record: longitude, latitude.
pub(crate) fn lon_lat(north_m: f64, east_m: f64) -> (f64, f64) {
    let (m_lat, m_lon) = furrow_allocate::metres_per_degree(52.0);
    (10.0 + east_m / m_lon, 52.0 + north_m / m_lat)
}

/// A data set in `dir`: one device (`class_name` client NAME, `elements` its DET/DPT XML), a partfield
/// with `crop`, one task with `totals` (XML inside a `TIM`, may be empty) and one time log per entry of
/// `logs` (header DLV XML and records), days counted from `day`, starting at 10:00 local time.
pub(crate) fn write_task(
    dir: &Path,
    class_name: &str,
    elements: &str,
    crop: &str,
    totals: &str,
    logs: &[(&str, &[Rec])],
) -> TaskData {
    std::fs::create_dir_all(dir).unwrap();
    let tlgs: String = (1..=logs.len())
        .map(|k| format!(r#"<TLG A="TLG{k:05}" C="1"/>"#))
        .collect();
    let tim = if totals.is_empty() {
        String::new()
    } else {
        format!(r#"<TIM A="2023-08-01T10:00:00" B="2023-08-01T12:00:00" D="4">{totals}</TIM>"#)
    };
    let taskdata = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ISO11783_TaskData VersionMajor="4" VersionMinor="2" ManagementSoftwareManufacturer="furrow" ManagementSoftwareVersion="1" DataTransferOrigin="2">
<CTP A="CTP1" B="{crop}"/>
<PFD A="PFD1" C="Field" D="100000" G="CTP1"/>
<DVC A="DVC1" B="Machine" D="{class_name}" E="SN1">
{elements}
</DVC>
<TSK A="TSK1" B="Task" E="PFD1" G="4">{tim}{tlgs}</TSK>
</ISO11783_TaskData>
"#
    );
    std::fs::write(dir.join("TASKDATA.XML"), taskdata).unwrap();
    for (k, (dlvs, records)) in logs.iter().enumerate() {
        let name = format!("TLG{:05}", k + 1);
        let header = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<TIM A="" D="4"><PTN A="" B="" D=""/>
{dlvs}
</TIM>
"#
        );
        std::fs::write(dir.join(format!("{name}.XML")), &header).unwrap();
        let (parsed, _) = TimeLogHeader::parse(header.as_bytes(), &format!("{name}.XML")).unwrap();
        let layout = parsed.layout();
        let mut bin = Vec::new();
        for r in records.iter() {
            let ms = 36_000_000 + r.ms;
            let (north, east, status) = match r.north_m {
                Some(m) => {
                    let (lon, lat) = lon_lat(m, r.east_m);
                    ((lat * 1e7).round() as i32, (lon * 1e7).round() as i32, 4)
                }
                None => (
                    furrow_isoxml::POSITION_NOT_AVAILABLE,
                    furrow_isoxml::POSITION_NOT_AVAILABLE,
                    0,
                ),
            };
            let (days, millis) = r
                .raw_time
                .unwrap_or((15_918 + (ms / 86_400_000) as u16, (ms % 86_400_000) as u32));
            let rec = Record {
                time: Some(LoggedDateTime { days, millis }),
                position: RecordPosition {
                    north: Some(north),
                    east: Some(east),
                    status: Some(status),
                    ..RecordPosition::default()
                },
                values: r
                    .values
                    .iter()
                    .map(|&(index, value)| DlvValue { index, value })
                    .collect(),
                ..Record::default()
            };
            layout.encode(&rec, &mut bin);
        }
        std::fs::write(dir.join(format!("{name}.BIN")), bin).unwrap();
    }
    TaskData::open(dir).unwrap()
}

/// Converts with the default options; the only file of the set.
pub(crate) fn convert_one(td: &TaskData) -> StandardFile {
    let mut files = convert_task_data(td, &ConvertOptions::default()).unwrap();
    assert_eq!(files.len(), 1, "{:?}", files.iter().map(|f| f.plan.stem()));
    files.remove(0)
}

/// A numeric column of every batch, `None` where null.
pub(crate) fn column(f: &StandardFile, name: &str) -> Vec<Option<f64>> {
    f.batches
        .iter()
        .flat_map(|b: &RecordBatch| {
            let c = b
                .column_by_name(name)
                .unwrap_or_else(|| panic!("{name}"))
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .clone();
            (0..c.len())
                .map(move |i| c.is_valid(i).then(|| c.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `recordingStatus` of every point.
pub(crate) fn status(f: &StandardFile) -> Vec<String> {
    f.batches
        .iter()
        .flat_map(|b| {
            let c = b
                .column_by_name("recordingStatus")
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            (0..c.len())
                .map(move |i| c.value(i).to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A summary property's value.
pub(crate) fn prop(f: &StandardFile, path: &[&str]) -> serde_json::Value {
    let mut v = &f.outcome.summary["properties"];
    for p in path {
        v = &v[*p];
    }
    v.clone()
}

/// The summary's warnings.
pub(crate) fn warnings(f: &StandardFile) -> Vec<String> {
    prop(f, &["warnings"])
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
