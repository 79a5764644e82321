//! A whole data set: opening folders, zips and bytes, merging external files, resolving time logs and
//! grids.

use std::collections::HashSet;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::ddi::ValuePresentation;
use crate::error::{Error, Result, Warning, WarningKind, Warnings};
use crate::grid::{self, MAX_GRID_BYTES};
use crate::model::*;
use crate::parse::{self, Ctx};
use crate::source::{self, DataSetFiles, ZipSource};
use crate::timelog::{self, LEGACY_PROBE_LEN, TimeLog, TimeLogHeader};
use crate::xml::{self, XmlElement};

/// Largest XML file read (bytes).
const MAX_XML_BYTES: u64 = 512 << 20;

/// Top-level element codes, accepted as a root in place of `ISO11783_TaskData`.
const TOP_LEVEL: &[&str] = &[
    "AFE", "BSN", "CCG", "CCT", "CLD", "CPC", "CTP", "CTR", "DVC", "FRM", "OTQ", "PDT", "PFD",
    "PGP", "TSK", "TCC", "VPN", "WKR",
];

/// One ISOXML data set: the model of `TASKDATA.XML` with its external files merged, the time logs
/// (streamed on demand) and the grids, plus every warning met on the way.
///
/// Reading holds part of the process's memory budget ([`set_memory_budget`](crate::set_memory_budget))
/// until the data sets read together are dropped.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskData {
    /// The memory reserved for reading this set and the sets read with it.
    #[serde(skip)]
    memory: Option<Arc<crate::budget::Reservation>>,
    /// Where the data set was found (`folder`, `archive.zip!sub/folder/`).
    pub source: String,
    /// `VersionMajor`.
    pub version_major: Option<u8>,
    /// `VersionMinor`.
    pub version_minor: Option<u8>,
    /// `ManagementSoftwareManufacturer`.
    pub management_software_manufacturer: Option<String>,
    /// `ManagementSoftwareVersion`.
    pub management_software_version: Option<String>,
    /// `TaskControllerManufacturer`.
    pub task_controller_manufacturer: Option<String>,
    /// `TaskControllerVersion`.
    pub task_controller_version: Option<String>,
    /// `DataTransferOrigin`: 1 FMIS, 2 terminal.
    pub data_transfer_origin: Option<u8>,
    /// `lang`.
    pub lang: Option<String>,
    /// `CTR`
    pub customers: Vec<Customer>,
    /// `FRM`
    pub farms: Vec<Farm>,
    /// `PFD`
    pub partfields: Vec<Partfield>,
    /// `WKR`
    pub workers: Vec<Worker>,
    /// `PDT`
    pub products: Vec<Product>,
    /// `PGP`
    pub product_groups: Vec<ProductGroup>,
    /// `CTP`
    pub crop_types: Vec<CropType>,
    /// `VPN`
    pub value_presentations: Vec<ValuePresentationElement>,
    /// `CCT`
    pub coded_comments: Vec<CodedComment>,
    /// `CCG`
    pub coded_comment_groups: Vec<Named>,
    /// `CLD`
    pub colour_legends: Vec<ColourLegend>,
    /// `CPC`
    pub cultural_practices: Vec<CulturalPractice>,
    /// `OTQ`
    pub operation_techniques: Vec<Named>,
    /// `BSN`
    pub base_stations: Vec<BaseStation>,
    /// `AFE`
    pub attached_files: Vec<AttachedFile>,
    /// `TCC`
    pub task_controller_capabilities: Option<TaskControllerCapabilities>,
    /// `DVC`
    pub devices: Vec<Device>,
    /// `TSK`
    pub tasks: Vec<Task>,
    /// `XFR` of the root, with whether each was merged.
    pub external_files: Vec<ExternalFileReference>,
    /// `LINKLIST.XML` groups.
    pub link_groups: Vec<LinkGroup>,
    /// Every referenced time log once, in order of first reference.
    pub time_logs: Vec<TimeLog>,
    /// Root attributes not modelled (e.g. `P231_cur_task`).
    pub extra: ExtraAttributes,
    /// Root children not modelled.
    pub other_elements: Vec<XmlElement>,
    /// Everything that was wrong but did not stop parsing.
    pub warnings: Vec<Warning>,
    /// Grids whose binary is missing or has the wrong size (each also a warning).
    #[serde(skip)]
    pub grid_errors: Vec<Error>,
}

impl TaskData {
    /// Opens a folder, a zip file or an XML file and returns its first data set (a warning says when
    /// there are more; see [`TaskData::open_all`]).
    pub fn open(path: impl AsRef<Path>) -> Result<TaskData> {
        first(Self::open_all(path.as_ref())?, path.as_ref())
    }

    /// Opens a folder, a zip file or an XML file and returns every data set in it.
    pub fn open_all(path: impl AsRef<Path>) -> Result<Vec<TaskData>> {
        let path = path.as_ref();
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let sets = if meta.is_dir() {
            source::discover_dir(path)?
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
        {
            source::single_xml(path)?
        } else {
            source::discover_zip(
                ZipSource::Path(path.to_path_buf()),
                &path.display().to_string(),
            )?
        };
        load_all(sets, path)
    }

    /// Reads a zip archive from a reader (read into memory; use [`TaskData::open`] to stream a zip file).
    pub fn from_zip<R: Read + Seek>(reader: R) -> Result<TaskData> {
        first(Self::from_zip_all(reader)?, Path::new("<zip>"))
    }

    /// Reads every data set of a zip archive from a reader.
    pub fn from_zip_all<R: Read + Seek>(mut reader: R) -> Result<Vec<TaskData>> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).map_err(|source| Error::Io {
            path: PathBuf::from("<zip>"),
            source,
        })?;
        let sets = source::discover_zip(ZipSource::Bytes(Arc::from(bytes)), "<zip>")?;
        load_all(sets, Path::new("<zip>"))
    }

    /// Reads a zip archive or a bare `TASKDATA.XML` from bytes.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<TaskData> {
        first(Self::from_bytes_all(bytes)?, Path::new("<bytes>"))
    }

    /// Reads every data set of a zip archive, or a bare `TASKDATA.XML`, from bytes.
    pub fn from_bytes_all(bytes: impl Into<Vec<u8>>) -> Result<Vec<TaskData>> {
        let bytes: Arc<[u8]> = Arc::from(bytes.into());
        let sets = if source::looks_like_zip(&bytes) {
            source::discover_zip(ZipSource::Bytes(bytes), "<bytes>")?
        } else {
            vec![source::xml_bytes(bytes)]
        };
        load_all(sets, Path::new("<bytes>"))
    }

    /// Warnings met while parsing.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// `"major.minor"`, e.g. `"4.2"`.
    pub fn version(&self) -> String {
        match (self.version_major, self.version_minor) {
            (Some(a), Some(b)) => format!("{a}.{b}"),
            (Some(a), None) => format!("{a}"),
            _ => String::new(),
        }
    }

    /// The task with this id.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// The partfield with this id.
    pub fn partfield(&self, id: &str) -> Option<&Partfield> {
        self.partfields.iter().find(|p| p.id == id)
    }

    /// The device with this id.
    pub fn device(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|d| d.id == id)
    }

    /// The device element with this `DET` id, with its device.
    pub fn device_element(&self, id: &str) -> Option<(&Device, &DeviceElement)> {
        self.devices
            .iter()
            .find_map(|d| d.element(id).map(|e| (d, e)))
    }

    /// The time logs of one task.
    pub fn time_logs_of<'a>(&'a self, task_id: &'a str) -> impl Iterator<Item = &'a TimeLog> {
        self.time_logs.iter().filter(move |t| t.task_id == task_id)
    }

    /// How a device element presents a DDI: the `DVP` of the element's `DPD` (or `DPT`) with that DDI.
    pub fn presentation(&self, ddi: u16, device_element_id: &str) -> Option<ValuePresentation> {
        let (device, element) = self.device_element(device_element_id)?;
        let dvp_id = device
            .process_data_of(element)
            .find(|p| p.ddi == ddi)
            .and_then(|p| p.presentation_object_id)
            .or_else(|| {
                device
                    .properties_of(element)
                    .find(|p| p.ddi == ddi)
                    .and_then(|p| p.presentation_object_id)
            })?;
        let dvp = device.value_presentation(dvp_id)?;
        Some(ValuePresentation {
            offset: dvp.offset,
            scale: dvp.scale,
            decimals: dvp.decimals,
            unit: dvp.unit.clone(),
        })
    }
}

fn first(mut sets: Vec<TaskData>, path: &Path) -> Result<TaskData> {
    let n = sets.len();
    if sets.is_empty() {
        return Err(Error::NoTaskData {
            path: path.to_path_buf(),
        });
    }
    let mut td = sets.swap_remove(0);
    if n > 1 {
        td.warnings.push(Warning::new(
            WarningKind::Ambiguous,
            format!("{n} data sets in the input; returned the first (use open_all for every one)"),
        ));
    }
    Ok(td)
}

fn load_all(sets: Vec<DataSetFiles>, path: &Path) -> Result<Vec<TaskData>> {
    if sets.is_empty() {
        return Err(Error::NoTaskData {
            path: path.to_path_buf(),
        });
    }
    // One reservation for every set of the call, taken before any is read (a caller holding half of its
    // sets while waiting for the rest could wait for ever), released when the last set is dropped.
    let budget = crate::budget::memory_budget();
    let mut needed = 0u64;
    for set in &sets {
        needed = needed.saturating_add(crate::budget::estimate_files(
            set.all_files(),
            MAX_XML_BYTES,
            budget.saturating_sub(needed),
        )?);
        if needed > budget {
            break;
        }
    }
    let what = match sets.as_slice() {
        [one] => one.label.clone(),
        many => format!("{} ({} data sets)", path.display(), many.len()),
    };
    let reservation = Arc::new(crate::budget::reserve(needed, &what)?);
    sets.iter()
        .map(|set| {
            let mut td = load(set)?;
            td.memory = Some(reservation.clone());
            Ok(td)
        })
        .collect()
}

/// Parses one data set.
pub(crate) fn load(files: &DataSetFiles) -> Result<TaskData> {
    let mut cx = Ctx::default();
    let mut td = TaskData {
        source: files.label.clone(),
        ..Default::default()
    };
    let main_name = files.taskdata.name().to_owned();
    cx.file = main_name.clone();
    let bytes = files.taskdata.read_all(MAX_XML_BYTES)?;
    let text = xml::text(&bytes);
    let root = xml::parse(&text, &main_name, &mut cx.warnings).ok_or_else(|| Error::Xml {
        file: main_name.clone(),
        message: "no XML element found".into(),
    })?;
    match root.name() {
        "ISO11783_TaskData" => {
            parse::root_attributes(&mut cx, &root, &mut td);
            for child in &root.children {
                parse::top_level(&mut cx, child, &mut td);
            }
        }
        "XFC" => {
            cx.warn(
                WarningKind::UnknownElement,
                "XFC",
                "root is XFC, not ISO11783_TaskData",
            );
            for child in &root.children {
                parse::top_level(&mut cx, child, &mut td);
            }
        }
        name if TOP_LEVEL.contains(&name) => {
            cx.warn(
                WarningKind::UnknownElement,
                name,
                format!("root is {name}, not ISO11783_TaskData; read as its only element"),
            );
            parse::top_level(&mut cx, &root, &mut td);
        }
        other => {
            return Err(Error::Xml {
                file: main_name,
                message: format!("root element `{other}` is not ISO11783_TaskData"),
            });
        }
    }
    drop(root);
    drop(text);
    drop(bytes);
    merge_external_files(files, &mut cx, &mut td);
    if let Some(f) = files.find("LINKLIST.XML") {
        cx.file = f.name().to_owned();
        match f.read_all(MAX_XML_BYTES) {
            Ok(bytes) => {
                if let Some(root) = xml::parse(&xml::text(&bytes), f.name(), &mut cx.warnings) {
                    td.link_groups = parse::link_list(&mut cx, &root);
                }
            }
            Err(e) => cx.warn(WarningKind::MissingFile, "LINKLIST", e.to_string()),
        }
    }
    cx.file = main_name.clone();
    for afe in &mut td.attached_files {
        afe.present = files.find(&afe.file_name).is_some();
        if !afe.present {
            let msg = format!("attached file `{}` is missing", afe.file_name);
            cx.warn(WarningKind::MissingFile, "AFE", msg);
        }
    }
    cx.check_references();
    resolve_time_logs(files, &mut cx, &mut td);
    load_grids(files, &mut cx, &mut td);
    load_point_files(files, &mut cx, &mut td);
    let mut warnings = Warnings::default();
    warnings.extend(files.warnings.iter().cloned());
    warnings.extend(cx.warnings.into_vec());
    td.warnings = warnings.into_vec();
    Ok(td)
}

fn merge_external_files(files: &DataSetFiles, cx: &mut Ctx, td: &mut TaskData) {
    let mut done: HashSet<String> = HashSet::new();
    let mut i = 0;
    // Index loop: an external file may itself add XFRs.
    while let Some(xfr) = td.external_files.get(i) {
        let name = xfr.file_name.clone();
        i += 1;
        if !done.insert(name.to_ascii_uppercase()) {
            cx.file = files.taskdata.name().to_owned();
            cx.warn(
                WarningKind::DuplicateReference,
                "XFR",
                format!("`{name}` referenced twice; merged once"),
            );
            continue;
        }
        let Some(f) = files.find_numbered(&name, "XML") else {
            cx.file = files.taskdata.name().to_owned();
            cx.warn(
                WarningKind::MissingFile,
                &format!("XFR {name}"),
                format!("external file `{name}.XML` is missing"),
            );
            continue;
        };
        cx.file = f.name().to_owned();
        let bytes = match f.read_all(MAX_XML_BYTES) {
            Ok(b) => b,
            Err(e) => {
                cx.warn(
                    WarningKind::MissingFile,
                    &format!("XFR {name}"),
                    e.to_string(),
                );
                continue;
            }
        };
        let text = xml::text(&bytes);
        let Some(root) = xml::parse(&text, f.name(), &mut cx.warnings) else {
            cx.warn(
                WarningKind::MalformedXml,
                &format!("XFR {name}"),
                "external file has no XML element",
            );
            continue;
        };
        match root.name() {
            "XFC" | "ISO11783_TaskData" => {
                if root.name() != "XFC" {
                    cx.warn(
                        WarningKind::UnknownElement,
                        &root.name,
                        "external file root is not XFC; merged anyway",
                    );
                }
                for child in &root.children {
                    parse::top_level(cx, child, td);
                }
            }
            other => {
                cx.warn(
                    WarningKind::UnknownElement,
                    other,
                    format!("external file root `{other}` is not XFC; read as one element"),
                );
                parse::top_level(cx, &root, td);
            }
        }
        if let Some(x) = td.external_files.get_mut(i - 1) {
            x.merged = true;
        }
    }
}

fn resolve_time_logs(files: &DataSetFiles, cx: &mut Ctx, td: &mut TaskData) {
    let mut seen: HashSet<String> = HashSet::new();
    let mut logs = Vec::new();
    for task in &td.tasks {
        for r in &task.time_log_refs {
            let label = format!("TSK {} > TLG {}", task.id, r.name);
            cx.file = files.taskdata.name().to_owned();
            if !seen.insert(r.name.to_ascii_uppercase()) {
                cx.warn(
                    WarningKind::DuplicateReference,
                    &label,
                    format!("time log `{}` referenced more than once; read once", r.name),
                );
                continue;
            }
            if r.log_type.is_some_and(|t| t != 1) {
                cx.warn(
                    WarningKind::InvalidValue,
                    &label,
                    "time log type is not 1 (binary); read as binary anyway",
                );
            }
            let mut log = TimeLog {
                name: r.name.clone(),
                task_id: task.id.clone(),
                file_length: r.file_length,
                log_type: r.log_type,
                header: None,
                binary_size: None,
                legacy_full_position: false,
                bin: files.find_numbered(&r.name, "BIN").cloned(),
                header_error: None,
            };
            match &log.bin {
                Some(bin) => {
                    log.binary_size = Some(bin.size);
                    if bin.size == 0 {
                        cx.warn(
                            WarningKind::TimeLog,
                            &label,
                            format!("binary `{}` is empty", bin.name()),
                        );
                    }
                }
                None => cx.warn(
                    WarningKind::MissingFile,
                    &label,
                    format!("binary `{}.BIN` is missing", r.name),
                ),
            }
            match files.find_numbered(&r.name, "XML") {
                None => {
                    log.header_error = Some("header file missing".into());
                    cx.warn(
                        WarningKind::MissingFile,
                        &label,
                        format!("header `{}.XML` is missing", r.name),
                    );
                }
                Some(f) => {
                    cx.file = f.name().to_owned();
                    let parsed = f.read_all(MAX_XML_BYTES).and_then(|bytes| {
                        let text = xml::text(&bytes);
                        let root =
                            xml::parse(&text, f.name(), &mut cx.warnings).ok_or_else(|| {
                                Error::TimeLogHeader {
                                    file: f.name().to_owned(),
                                    message: "no XML element".into(),
                                }
                            })?;
                        TimeLogHeader::from_element(&root, f.name(), &mut cx.warnings)
                    });
                    match parsed {
                        Ok(h) => {
                            for d in &h.dlvs {
                                if let Some(det) = &d.device_element_id {
                                    if !cx.has_id(det) {
                                        cx.warn(
                                            WarningKind::DanglingReference,
                                            &format!("DLV {}", d.index),
                                            format!("device element `{det}` does not exist; raw reference kept"),
                                        );
                                    }
                                }
                            }
                            log.header = Some(h);
                        }
                        Err(e) => {
                            log.header_error = Some(e.to_string());
                            cx.warn(WarningKind::TimeLog, &label, e.to_string());
                        }
                    }
                }
            }
            if td.version_major.is_some_and(|v| v < 3) {
                detect_legacy_layout(&mut log, cx, &label);
            }
            logs.push(log);
        }
    }
    td.time_logs = logs;
}

/// Largest binary point file read (bytes).
const MAX_POINT_FILE_BYTES: u64 = 256 << 20;

/// Every `PNT` of the model: partfield points, line strings, polygons, guidance, treatment-zone polygons.
fn for_each_point(td: &mut TaskData, f: &mut dyn FnMut(&mut Point)) {
    fn line(l: &mut LineString, f: &mut dyn FnMut(&mut Point)) {
        for p in &mut l.points {
            f(p);
        }
    }
    fn polygon(p: &mut Polygon, f: &mut dyn FnMut(&mut Point)) {
        p.line_strings.iter_mut().for_each(|l| line(l, f));
    }
    for pfd in &mut td.partfields {
        for p in &mut pfd.points {
            f(p);
        }
        pfd.line_strings.iter_mut().for_each(|l| line(l, f));
        pfd.polygons.iter_mut().for_each(|p| polygon(p, f));
        for g in &mut pfd.guidance_groups {
            g.polygons.iter_mut().for_each(|p| polygon(p, f));
            for gpn in &mut g.patterns {
                gpn.line_strings.iter_mut().for_each(|l| line(l, f));
                gpn.polygons.iter_mut().for_each(|p| polygon(p, f));
            }
        }
    }
    for task in &mut td.tasks {
        for z in &mut task.treatment_zones {
            z.polygons.iter_mut().for_each(|p| polygon(p, f));
        }
    }
}

/// Reads the binary point files (`PNT J`) into [`Point::binary_points`].
fn load_point_files(files: &DataSetFiles, cx: &mut Ctx, td: &mut TaskData) {
    cx.file = files.taskdata.name().to_owned();
    for_each_point(td, &mut |p| {
        let (Some(name), Some(layout)) = (p.file_name.clone(), p.binary_layout) else {
            return;
        };
        let label = format!("PNT {name}");
        let Some(f) = files.find_numbered(&name, "BIN") else {
            let msg = format!("binary point file `{name}.BIN` is missing");
            cx.warn(WarningKind::MissingFile, &label, msg);
            return;
        };
        let bytes = match f.read_all(MAX_POINT_FILE_BYTES) {
            Ok(b) => b,
            Err(e) => return cx.warn(WarningKind::MissingFile, &label, e.to_string()),
        };
        let len = layout.record_len();
        if len == 0 {
            let msg = "every point attribute has a value, so the binary point file holds nothing";
            return cx.warn(WarningKind::InvalidValue, &label, msg);
        }
        if bytes.len() % len != 0 {
            let msg = format!(
                "`{}` has {} bytes, not a multiple of its {len}-byte records; the last {} bytes ignored",
                f.name(),
                bytes.len(),
                bytes.len() % len
            );
            cx.warn(WarningKind::TruncatedRecord, &label, msg);
        }
        if p.file_length
            .is_some_and(|k| u64::from(k) != bytes.len() as u64)
        {
            let msg = format!(
                "PNT K says {} bytes, the binary has {}; K ignored",
                p.file_length.unwrap_or_default(),
                bytes.len()
            );
            cx.warn(WarningKind::InvalidValue, &label, msg);
        }
        p.binary_points = layout.decode(p, &bytes);
    });
}

/// Pre-v3 writers stored every position field whatever the header said (isoxml-format.md quirk 16).
fn detect_legacy_layout(log: &mut TimeLog, cx: &mut Ctx, label: &str) {
    let (Some(header), Some(bin)) = (&log.header, &log.bin) else {
        return;
    };
    let mut prefix = Vec::with_capacity(LEGACY_PROBE_LEN);
    let read = bin.open().and_then(|r| {
        r.take(LEGACY_PROBE_LEN as u64)
            .read_to_end(&mut prefix)
            .map_err(|source| Error::Read {
                file: bin.name().to_owned(),
                offset: 0,
                source,
            })
    });
    if read.is_ok() && timelog::legacy_full_position(&header.layout(), &prefix) {
        log.legacy_full_position = true;
        cx.warn(
            WarningKind::TimeLog,
            label,
            "pre-v3 data set: records hold time and all nine position fields whatever the header says; decoded that way",
        );
    }
}

fn load_grids(files: &DataSetFiles, cx: &mut Ctx, td: &mut TaskData) {
    cx.file = files.taskdata.name().to_owned();
    for task in &mut td.tasks {
        let zones = &task.treatment_zones;
        for g in &mut task.grids {
            let label = format!("TSK {} > GRD {}", task.id, g.file_name);
            let Some(f) = files.find_numbered(&g.file_name, "BIN") else {
                let msg = format!("grid binary `{}.BIN` is missing", g.file_name);
                cx.warn(WarningKind::MissingFile, &label, msg);
                td.grid_errors.push(Error::MissingFile {
                    file: format!("{}.BIN", g.file_name),
                    element: label,
                });
                continue;
            };
            let layers = g
                .treatment_zone_code
                .and_then(|code| zones.iter().find(|z| z.code == code))
                .map(|z| z.process_data_variables.len());
            let result = f
                .read_all(MAX_GRID_BYTES)
                .map_err(|e| e.to_string())
                .and_then(|bytes| grid::decode_cells(g, &bytes, layers));
            match result {
                Ok(cells) => {
                    if let (Some(h), Some(expected)) =
                        (g.file_length, g.expected_size(layers.unwrap_or(1)))
                    {
                        if h != expected {
                            cx.warn(
                                WarningKind::InvalidValue,
                                &label,
                                format!(
                                    "GRD H says {h} bytes, the binary has {expected}; H ignored"
                                ),
                            );
                        }
                    }
                    g.cells = Some(cells);
                }
                Err(message) => {
                    cx.warn(WarningKind::Grid, &label, message.clone());
                    td.grid_errors.push(Error::Grid {
                        file: f.name().to_owned(),
                        element: label,
                        message,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
