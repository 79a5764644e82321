//! ISOXML time logs → standard points, streamed as Arrow record batches.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, ListBuilder, MapBuilder, MapFieldNames, StringBuilder, StructBuilder,
};
use arrow_array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, SchemaRef};
use furrow_allocate::StepGeometry;
use furrow_isoxml::{
    DdiKind, Device, DeviceElement, RecordReader, RecordView, TaskData, TimeLog, ddi_entry,
    ddi_kind,
};

use crate::cleanup::{CleanupRules, CompiledRules, FilterOptions, Plausibility, PositionChecks};
use crate::error::{Error, Result};
use crate::mapping::{
    Target, class_name, class_operation, ddi_evidence, ddi_mapping, device_class,
};
use crate::schema::{
    Column, OperationType, PROPERTY_COUNT, Property, RateKind, Units, columns,
    product_struct_fields, standard_schema,
};
use crate::summary::{Counts, Machine, SummaryBuilder};
use crate::totals::{CounterTrack, MachineCounters, counter_ddi, topmost};
use crate::units::UnitSystem;

/// Options of the conversion.
#[derive(Debug, Clone)]
pub struct ConvertOptions {
    /// Output unit system (default METRIC).
    pub units: UnitSystem,
    /// Cleanup rules; `None` writes the raw view (every point with a position).
    pub cleanup: Option<CleanupRules>,
    /// Impossible-jump limits (applied with the cleanup rules).
    pub positions: PositionChecks,
    /// Plausibility limits (applied with the cleanup rules).
    pub plausibility: Plausibility,
    /// The filtered view's limits (counted in the summary).
    pub filter: FilterOptions,
    /// Rows per record batch (default 65,536).
    pub batch_rows: usize,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            units: UnitSystem::Metric,
            cleanup: Some(CleanupRules::default()),
            positions: PositionChecks::default(),
            plausibility: Plausibility::default(),
            filter: FilterOptions::default(),
            batch_rows: 64 * 1024,
        }
    }
}

/// One standard file to produce: the time logs of one task with one operation type.
#[derive(Debug, Clone, PartialEq)]
pub struct FilePlan {
    /// `TSK A`.
    pub task_id: String,
    /// `TSK B`.
    pub task_name: Option<String>,
    /// The operation type.
    pub operation_type: OperationType,
    /// The source's name of the operation.
    pub original_operation_type: String,
    /// Units of the file.
    pub units: Units,
    /// Indexes into [`TaskData::time_logs`].
    pub logs: Vec<usize>,
    /// Crop names (partfield crop type).
    pub crops: Vec<String>,
    /// Variety names.
    pub varieties: Vec<String>,
    /// Product names (task product allocations).
    pub products: Vec<String>,
    /// Machines and implements that logged.
    pub machinery: Vec<Machine>,
    /// Total size of the time-log binaries, bytes.
    pub bytes: u64,
}

impl FilePlan {
    /// The Arrow schema of the file.
    pub fn schema(&self) -> SchemaRef {
        standard_schema(self.operation_type, &self.units)
    }

    /// A file-name stem: `<task>-<operation type>`.
    pub fn stem(&self) -> String {
        let t: String = self
            .task_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{t}-{}", self.operation_type)
    }
}

fn element_rank(e: Option<&DeviceElement>) -> u8 {
    match e.map(|e| e.element_type) {
        Some(1) => 0,
        Some(2) => 1,
        Some(4) => 3,
        _ => 2,
    }
}

/// Decides the operation type of one time log: DDI evidence first, then device classes.
fn log_operation(td: &TaskData, log: &TimeLog) -> (OperationType, Option<u8>) {
    let Some(h) = &log.header else {
        return (OperationType::Other, None);
    };
    let mut votes: BTreeMap<OperationType, usize> = BTreeMap::new();
    let mut class = None;
    for d in &h.dlvs {
        if let Some(op) = ddi_evidence(d.ddi) {
            *votes.entry(op).or_default() += 1;
        }
        if let Some((dev, _)) = d
            .device_element_id
            .as_deref()
            .and_then(|id| td.device_element(id))
        {
            let c = device_class(&dev.client_name);
            if c.and_then(class_operation).is_some() || class.is_none() {
                class = c.or(class);
            }
        }
    }
    // harvest beats planting beats application beats tillage when several show up
    for op in [
        OperationType::Harvested,
        OperationType::Planted,
        OperationType::Applied,
        OperationType::Tillage,
    ] {
        if votes.contains_key(&op) {
            return (op, class);
        }
    }
    (
        class
            .and_then(class_operation)
            .unwrap_or(OperationType::Other),
        class,
    )
}

fn original_name(td: &TaskData, task_id: &str, op: OperationType, class: Option<u8>) -> String {
    if let Some(task) = td.task(task_id) {
        for (cpc, _) in &task.operation_technique_practices {
            if let Some(p) = td.cultural_practices.iter().find(|c| &c.id == cpc) {
                if !p.designator.trim().is_empty() {
                    return p.designator.clone();
                }
            }
        }
    }
    match (op, class) {
        (OperationType::Harvested, _) => "Harvesting".into(),
        (OperationType::Planted, _) => "SowingAndPlanting".into(),
        (OperationType::Applied, Some(6)) => "CropProtection".into(),
        (OperationType::Applied, Some(5)) => "Fertilizing".into(),
        (OperationType::Applied, _) => "Application".into(),
        (OperationType::Tillage, _) => "Tillage".into(),
        (OperationType::Other, Some(c)) => class_name(c).into(),
        (OperationType::Other, None) => "Unknown".into(),
    }
}

fn rate_kind(td: &TaskData, logs: &[usize]) -> RateKind {
    let mut kind = None;
    for &i in logs {
        if let Some(h) = &td.time_logs[i].header {
            for d in &h.dlvs {
                match ddi_mapping(d.ddi).and_then(|m| m.rate) {
                    Some(RateKind::Volume) => return RateKind::Volume,
                    Some(RateKind::Mass) => kind = Some(RateKind::Mass),
                    None => {}
                }
            }
        }
    }
    kind.unwrap_or_default()
}

/// Plans the standard files of a data set: one per task and operation type, for every task with a
/// usable time log (header and binary present).
pub fn plan(td: &TaskData, opts: &ConvertOptions) -> Vec<FilePlan> {
    let mut groups: BTreeMap<(String, OperationType), (Vec<usize>, Option<u8>)> = BTreeMap::new();
    let mut order: Vec<(String, OperationType)> = Vec::new();
    for (i, log) in td.time_logs.iter().enumerate() {
        if log.header.is_none() || log.binary_file().is_none() {
            continue;
        }
        let (op, class) = log_operation(td, log);
        let key = (log.task_id.clone(), op);
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            (Vec::new(), None)
        });
        entry.0.push(i);
        if entry.1.is_none() {
            entry.1 = class;
        }
    }
    order
        .into_iter()
        .filter_map(|key| {
            let (logs, class) = groups.remove(&key)?;
            let (task_id, op) = key;
            let task = td.task(&task_id);
            let partfield = task
                .and_then(|t| t.partfield_id.as_deref())
                .and_then(|id| td.partfield(id));
            let crop_type = partfield
                .and_then(|p| p.crop_type_id.as_deref())
                .and_then(|id| td.crop_types.iter().find(|c| c.id == id));
            let crops: Vec<String> = crop_type
                .map(|c| vec![c.designator.trim().to_lowercase()])
                .unwrap_or_default();
            let varieties: Vec<String> = partfield
                .and_then(|p| p.crop_variety_id.as_deref())
                .and_then(|id| {
                    td.crop_types
                        .iter()
                        .flat_map(|c| &c.varieties)
                        .find(|v| v.id == id)
                })
                .map(|v| vec![v.designator.clone()])
                .unwrap_or_default();
            let mut products: Vec<String> = Vec::new();
            if let Some(t) = task {
                for pan in &t.product_allocations {
                    if let Some(p) = td.products.iter().find(|p| p.id == pan.product_id) {
                        if !products.contains(&p.designator) {
                            products.push(p.designator.clone());
                        }
                    }
                }
            }
            let mut machinery: Vec<Machine> = Vec::new();
            let mut seen: Vec<String> = Vec::new();
            for &i in &logs {
                for d in td.time_logs[i].header.iter().flat_map(|h| &h.dlvs) {
                    if let Some((dev, _)) = d
                        .device_element_id
                        .as_deref()
                        .and_then(|id| td.device_element(id))
                    {
                        if seen.contains(&dev.id) {
                            continue;
                        }
                        seen.push(dev.id.clone());
                        let c = device_class(&dev.client_name);
                        let self_propelled = matches!(c, Some(1) | Some(7) | Some(9));
                        machinery.push(Machine {
                            name: dev.designator.clone().unwrap_or_else(|| dev.id.clone()),
                            kind: if self_propelled {
                                "machine"
                            } else {
                                "implement"
                            }
                            .into(),
                            serial_number: dev.serial_number.clone(),
                            brand: None,
                        });
                    }
                }
            }
            let bytes = logs
                .iter()
                .filter_map(|&i| td.time_logs[i].binary_size)
                .sum();
            Some(FilePlan {
                original_operation_type: original_name(td, &task_id, op, class),
                task_name: task.and_then(|t| t.designator.clone()),
                task_id,
                operation_type: op,
                units: Units {
                    system: opts.units,
                    applied_rate: rate_kind(td, &logs),
                },
                logs,
                crops,
                varieties,
                products,
                machinery,
                bytes,
            })
        })
        .collect()
}

/// What one DLV of a header feeds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Prop(Property, f64),
    Master,
    Section(usize),
    Condensed(usize),
    /// A logged working width of a part of the implement (see [`LogState::parts`]).
    Width,
    /// The work state of a part that logs its own width.
    PartState,
    /// A speed in a PGN field (the log has no speed DDI).
    PgnSpeed,
    SectionWidth(usize),
    TotalFuel,
    FuelRate,
    Extra(usize, Option<f64>),
    Unused,
}

/// Flags of a DLV that the record loop looks at: it moves a section state or width, or a counter.
const KIND_SECTION: u8 = 1;
const KIND_COUNTER: u8 = 2;

/// Where a log's working width comes from (docs/MACHINE-DATA.md, "Working width").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WidthSource {
    /// Logged (DDI 0x0043) by the implement or its parts.
    Logged,
    /// The sections' widths in the device description.
    SectionWidths,
    /// The sections' positions (offsets across the machine) in the device description.
    SectionGeometry,
    /// A width property (0x0043, 0x0044, 0x0046) of the device description.
    DeviceDescription,
    /// The machine's counters: total area ÷ distance over the log.
    Counters,
    /// Unknown: area and per-area values are unknown (NaN), never 0.
    Unknown,
}

impl WidthSource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WidthSource::Logged => "logged",
            WidthSource::SectionWidths => "section widths of the device description",
            WidthSource::SectionGeometry => "section offsets of the device description",
            WidthSource::DeviceDescription => "working width of the device description",
            WidthSource::Counters => "the machine's counters (total area / distance)",
            WidthSource::Unknown => "unknown",
        }
    }
}

/// How a condensed work state packs its sections: the standard's order (section 1 in the least significant
/// bits) or the reverse (section 1 in the most significant bits), as some terminals write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BitOrder {
    LsbFirst,
    MsbFirst,
}

/// A condensed work state DLV: its sections (indexes into the log's sections) and bit order.
#[derive(Debug, Clone)]
struct Condensed {
    sections: Vec<usize>,
    order: BitOrder,
    /// Why the order was chosen, once the data showed it.
    decided: Option<&'static str>,
    /// DDI and element, for messages.
    label: String,
}

impl Condensed {
    /// Section `k`'s two bits of `v` in `order`.
    #[inline]
    fn bits(v: u32, k: usize, order: BitOrder) -> u32 {
        match order {
            BitOrder::LsbFirst => (v >> (2 * k)) & 3,
            BitOrder::MsbFirst => (v >> (30 - 2 * k)) & 3,
        }
    }

    /// Whether the slots of the sections a block does not hold are uniform (all 00 or all 11) in `order`:
    /// a writer fills unused slots alike, so a value whose unused slots are mixed is read in the wrong order.
    fn unused_uniform(v: u32, n: usize, order: BitOrder) -> bool {
        if n >= 16 {
            return true;
        }
        let unused_bits = 32 - 2 * n as u32;
        let mask = if unused_bits == 32 {
            u32::MAX
        } else {
            (1u32 << unused_bits) - 1
        };
        let rest = match order {
            BitOrder::LsbFirst => v >> (2 * n),
            BitOrder::MsbFirst => v & mask,
        };
        rest == 0 || rest == mask
    }
}

/// Per-log decoding state built from the header and the device descriptions.
#[derive(Debug)]
struct LogState {
    /// `TLG A`, for messages.
    log: String,
    slots: Vec<Slot>,
    /// [`KIND_SECTION`] / [`KIND_COUNTER`] flags per DLV.
    kind: Vec<u8>,
    condensed: Vec<Condensed>,
    extra_keys: Vec<String>,
    current: Vec<Option<i32>>,
    section_width: Vec<f64>,
    /// Element numbers (`DET E`) of the sections, the `sectionId` values.
    section_number: Vec<i32>,
    /// Each section's own logged work state (0x008D) and the state its parent's condensed work state
    /// gives; the section's own state wins ([`LogState::update_sections`]).
    section_explicit: Vec<Option<bool>>,
    section_condensed: Vec<Option<bool>>,
    section_on: Vec<Option<bool>>,
    /// Records where a section's own state and the condensed state disagreed.
    state_conflicts: u64,
    /// Working width from the device description or the counters, m (NaN: unknown).
    static_width: f64,
    width_source: WidthSource,
    has_sections: bool,
    utc_offset: Option<Option<i64>>,
    prev: Option<Prev>,
    jump_run: u32,
    prev_fuel_total: Option<f64>,
    heading: Option<f64>,
    step: StepGeometry,
    /// What the sections' states add up to (recomputed when one changes).
    sections: SectionSummary,
    /// Carried-forward values each record writes to a numeric column: (DLV index, column in the batch
    /// builder, factor); bound by [`LogState::bind`].
    writes: Vec<(usize, usize, f64)>,
    /// Likewise for the `extra` map: (DLV index, builder column, factor).
    extra_writes: Vec<(usize, usize, Option<f64>)>,
    /// The DLV of the logged speed, its factor and its largest valid raw value (PGN fields reserve the top
    /// of their range for "not available").
    speed: Option<(usize, f64, i32)>,
    master: Option<usize>,
    /// The parts of the implement that log a working width (one, or siblings that add up), each with its
    /// own work state when it logs one.
    parts: Vec<(usize, Option<usize>)>,
    total_fuel: Option<usize>,
    fuel_rate: Option<usize>,
    /// Counter DLVs (index into `counters` per DLV, `u16::MAX` for none) and their tracks.
    counter_of: Vec<u16>,
    counters: Vec<CounterTrack>,
    /// Records without a position since the last point, and the area of the points whose step spans
    /// such records (estimated from the positions around them).
    after_gap: bool,
    gap_area: f64,
}

/// The sections whose state is known: how many, how many on, their width on, whether all their widths
/// are known, and the last one on.
#[derive(Debug, Clone, Copy)]
struct SectionSummary {
    known: usize,
    on_count: usize,
    on_width: f64,
    widths_known: bool,
    last_on: usize,
}

impl SectionSummary {
    fn of(on: &[Option<bool>], widths: &[f64]) -> Self {
        let mut s = SectionSummary {
            known: 0,
            on_count: 0,
            on_width: 0.0,
            widths_known: true,
            last_on: 0,
        };
        for (i, (on, w)) in on.iter().zip(widths).enumerate() {
            let Some(on) = *on else { continue };
            s.known += 1;
            s.widths_known &= *w > 0.0;
            if on {
                s.on_count += 1;
                s.on_width += *w;
                s.last_on = i;
            }
        }
        s
    }
}

#[derive(Debug, Clone, Copy)]
struct Prev {
    lon: f64,
    lat: f64,
    t: Option<i64>,
}

/// A width property of an element in the device description: actual (0x0043), else default (0x0044),
/// else maximum (0x0046) working width, m.
fn width_of(dev: &Device, e: &DeviceElement) -> Option<f64> {
    [0x0043, 0x0044, 0x0046]
        .into_iter()
        .find_map(|ddi| dev.properties_of(e).find(|p| p.ddi == ddi))
        .map(|p| p.value as f64 / 1000.0)
        .filter(|w| *w > 0.0 && *w < 200.0)
}

/// Section widths from their offsets across the machine (DPT 0x0087, mm): each section reaches halfway
/// to its neighbours. `None` unless every section has an offset and they are at least two, all distinct.
fn widths_from_offsets(dev: &Device, sections: &[&DeviceElement]) -> Option<Vec<f64>> {
    if sections.len() < 2 {
        return None;
    }
    let ys: Vec<f64> = sections
        .iter()
        .map(|e| {
            dev.properties_of(e)
                .find(|p| p.ddi == 0x0087)
                .map(|p| p.value as f64 / 1000.0)
        })
        .collect::<Option<_>>()?;
    let mut order: Vec<usize> = (0..ys.len()).collect();
    order.sort_by(|&a, &b| ys[a].total_cmp(&ys[b]));
    let mut widths = vec![0.0; ys.len()];
    for (k, &i) in order.iter().enumerate() {
        let left = k.checked_sub(1).map(|j| ys[i] - ys[order[j]]);
        let right = order.get(k + 1).map(|&j| ys[j] - ys[i]);
        let w = match (left, right) {
            (Some(l), Some(r)) => (l + r) / 2.0,
            (Some(g), None) | (None, Some(g)) => g,
            (None, None) => return None,
        };
        if !(w > 0.0 && w < 100.0) {
            return None;
        }
        widths[i] = w;
    }
    Some(widths)
}

/// Section descendants of `e` in element-number order (depth first).
fn sections_under<'a>(dev: &'a Device, e: &'a DeviceElement) -> Vec<&'a DeviceElement> {
    let mut out = Vec::new();
    let mut stack = vec![e];
    let mut guard = 0;
    while let Some(n) = stack.pop() {
        guard += 1;
        if guard > 10_000 {
            break;
        }
        let mut kids: Vec<&DeviceElement> = dev.children_of(n).collect();
        kids.sort_by_key(|k| std::cmp::Reverse(k.number));
        for k in kids {
            if k.element_type == 4 {
                out.push(k);
            }
            stack.push(k);
        }
    }
    out.sort_by_key(|k| k.number);
    out.dedup_by_key(|k| k.object_id);
    out
}

/// PGN fields that carry a speed (NMEA 2000 / J1939), with raw → m/s and their largest valid raw value:
/// ground-based speed (PGN 65097), COG & SOG rapid update (129026, SOG), wheel-based speed (65096).
const PGN_SPEEDS: [(u32, u8, u8, f64, i32); 3] = [
    (65_097, 0, 15, 1e-3, 0xFAFF),
    (129_026, 32, 47, 1e-2, 0xFAFF),
    (65_096, 0, 15, 1e-3, 0xFAFF),
];

/// A known PGN field's factor to SI for `extra` (speeds in m/s, course over ground in degrees).
fn pgn_factor(pgn: u32, start: u8, stop: u8) -> Option<f64> {
    PGN_SPEEDS
        .iter()
        .find(|s| (s.0, s.1, s.2) == (pgn, start, stop))
        .map(|s| s.3)
        .or_else(|| ((pgn, start, stop) == (129_026, 16, 31)).then_some(1e-4f64.to_degrees()))
}

impl LogState {
    fn new(td: &TaskData, log: &TimeLog, op: OperationType) -> Result<LogState> {
        let header = log.header.as_ref().ok_or_else(|| Error::TimeLog {
            task: log.task_id.clone(),
            log: log.name.clone(),
            message: "no header".into(),
        })?;
        let n = header.dlvs.len();
        let mut slots = vec![Slot::Unused; n];
        let mut extra_keys = Vec::new();
        let mut sections: Vec<(String, u16)> = Vec::new(); // (device id, object id)
        let mut section_elements: Vec<(&Device, &DeviceElement)> = Vec::new();
        let mut section_width: Vec<f64> = Vec::new();
        let mut section_number: Vec<i32> = Vec::new();
        let mut section_index =
            |dev: &'_ Device, e: &'_ DeviceElement, widths: &mut Vec<f64>| -> usize {
                let key = (dev.id.clone(), e.object_id);
                match sections.iter().position(|s| *s == key) {
                    Some(i) => i,
                    None => {
                        sections.push(key);
                        widths.push(width_of(dev, e).unwrap_or(0.0));
                        section_number.push(i32::from(e.number));
                        sections.len() - 1
                    }
                }
            };
        let found: Vec<Option<(&Device, &DeviceElement)>> = header
            .dlvs
            .iter()
            .map(|d| {
                d.device_element_id
                    .as_deref()
                    .and_then(|id| td.device_element(id))
            })
            .collect();
        let mut devices: Vec<&Device> = Vec::new();
        for (dev, _) in found.iter().flatten() {
            if !devices.iter().any(|x| x.id == dev.id) {
                devices.push(dev);
            }
        }
        let is_section = |i: usize| found[i].is_some_and(|(_, e)| e.element_type == 4);
        let plain = |i: usize, ddi: u16| header.dlvs[i].ddi == ddi && header.dlvs[i].pgn.is_none();

        // The logged working width: the non-section elements that log 0x0043, of one device. The parent's
        // value wins over its children's; siblings (two halves of a spreader) add up.
        let width_dlvs: Vec<usize> = (0..n)
            .filter(|&i| plain(i, 0x0043) && !is_section(i))
            .collect();
        let mut parts: Vec<(usize, Option<usize>)> = Vec::new();
        {
            let known: Vec<usize> = width_dlvs
                .iter()
                .copied()
                .filter(|&i| found[i].is_some())
                .collect();
            if known.is_empty() {
                // elements the device descriptions lack: the first one
                parts.extend(width_dlvs.first().map(|&i| (i, None)));
            } else {
                let elements: Vec<(&Device, &DeviceElement)> =
                    known.iter().filter_map(|&i| found[i]).collect();
                let top = topmost(&elements);
                // the device of the best-ranked topmost element (first in the header among equals)
                let best = known
                    .iter()
                    .zip(&top)
                    .filter(|(_, t)| **t)
                    .min_by_key(|(i, _)| element_rank(found[**i].map(|f| f.1)))
                    .and_then(|(i, _)| found[*i].map(|f| f.0.id.clone()));
                for (&i, &t) in known.iter().zip(&top) {
                    let same_device = found[i].is_some_and(|f| Some(&f.0.id) == best.as_ref());
                    if t && same_device {
                        parts.push((i, None));
                    }
                }
            }
        }
        for &(i, _) in &parts {
            slots[i] = Slot::Width;
        }
        // a part's own work state
        let part_of = |i: usize| -> Option<usize> {
            let det = header.dlvs[i].device_element_id.as_deref()?;
            parts
                .iter()
                .position(|&(w, _)| header.dlvs[w].device_element_id.as_deref() == Some(det))
        };
        let mut part_states: Vec<Option<usize>> = vec![None; parts.len()];
        if parts.len() > 1 {
            for (i, slot) in slots.iter_mut().enumerate() {
                if plain(i, 0x008D) && !is_section(i) {
                    if let Some(p) = part_of(i) {
                        if part_states[p].is_none() {
                            part_states[p] = Some(i);
                            *slot = Slot::PartState;
                        }
                    }
                }
            }
        }
        for (p, s) in parts.iter_mut().zip(&part_states) {
            p.1 = *s;
        }

        // best source per property: (rank, dlv index)
        let mut best: HashMap<&'static str, (u8, usize)> = HashMap::new();
        let mut condensed: Vec<Condensed> = Vec::new();
        for (i, d) in header.dlvs.iter().enumerate() {
            if slots[i] != Slot::Unused {
                continue;
            }
            let element = found[i].map(|(_, e)| e);
            let rank = element_rank(element);
            let mapping = if d.pgn.is_some() {
                None
            } else {
                ddi_mapping(d.ddi)
            };
            let slot = match mapping.map(|m| (m.target, m.factor)) {
                Some((Target::Property(p), f)) => {
                    let k = p.name();
                    match best.get(k) {
                        Some(&(r, _)) if r <= rank => Slot::Unused,
                        _ => {
                            if let Some(&(_, old)) = best.get(k) {
                                slots[old] = Slot::Unused;
                            }
                            best.insert(k, (rank, i));
                            Slot::Prop(p, f)
                        }
                    }
                }
                Some((Target::WorkState, _)) => match found[i] {
                    Some((dev, e)) if e.element_type == 4 => {
                        section_elements.push((dev, e));
                        Slot::Section(section_index(dev, e, &mut section_width))
                    }
                    _ => match best.get("@work") {
                        Some(&(r, _)) if r <= rank => Slot::Unused,
                        _ => {
                            if let Some(&(_, old)) = best.get("@work") {
                                slots[old] = Slot::Unused;
                            }
                            best.insert("@work", (rank, i));
                            Slot::Master
                        }
                    },
                },
                Some((Target::CondensedWorkState(block), _)) => match found[i] {
                    Some((dev, e)) => {
                        let mut under = sections_under(dev, e);
                        if under.is_empty() {
                            under = dev
                                .elements
                                .iter()
                                .filter(|x| x.element_type == 4)
                                .collect();
                            under.sort_by_key(|k| k.number);
                        }
                        let start = usize::from(block) * 16;
                        let chosen: Vec<&DeviceElement> =
                            under.into_iter().skip(start).take(16).collect();
                        if chosen.is_empty() {
                            Slot::Unused
                        } else {
                            let list: Vec<usize> = chosen
                                .iter()
                                .map(|s| {
                                    section_elements.push((dev, *s));
                                    section_index(dev, s, &mut section_width)
                                })
                                .collect();
                            condensed.push(Condensed {
                                sections: list,
                                order: BitOrder::LsbFirst,
                                decided: None,
                                label: format!(
                                    "{:04X} on {}",
                                    d.ddi,
                                    d.device_element_id.as_deref().unwrap_or("-")
                                ),
                            });
                            Slot::Condensed(condensed.len() - 1)
                        }
                    }
                    None => Slot::Unused,
                },
                Some((Target::Width, _)) => match found[i] {
                    Some((dev, e)) if e.element_type == 4 => {
                        section_elements.push((dev, e));
                        Slot::SectionWidth(section_index(dev, e, &mut section_width))
                    }
                    // a width below the parts (or of another device): kept in `extra`
                    _ => Slot::Unused,
                },
                Some((Target::TotalFuel, _)) if !best.contains_key("@fuel") => {
                    best.insert("@fuel", (rank, i));
                    Slot::TotalFuel
                }
                Some((Target::FuelRate, _)) if !best.contains_key("@fuelrate") => {
                    best.insert("@fuelrate", (rank, i));
                    Slot::FuelRate
                }
                _ => Slot::Unused,
            };
            slots[i] = slot;
        }
        // no logged speed DDI: a speed from a PGN field (ground-based, then SOG, then wheel-based)
        let mut pgn_speed = None;
        if !slots
            .iter()
            .any(|s| matches!(s, Slot::Prop(Property::Speed, _)))
        {
            pgn_speed = PGN_SPEEDS.iter().find_map(|&(pgn, a, b, f, max)| {
                header
                    .dlvs
                    .iter()
                    .position(|d| {
                        d.pgn == Some(pgn) && d.start_bit == Some(a) && d.stop_bit == Some(b)
                    })
                    .map(|i| (i, f, max))
            });
            if let Some((i, _, _)) = pgn_speed {
                slots[i] = Slot::PgnSpeed;
            }
        }
        // everything not consumed goes to `extra`, keyed "DDI/DET" (+ PGN field)
        for (i, d) in header.dlvs.iter().enumerate() {
            if slots[i] != Slot::Unused {
                continue;
            }
            let det = d.device_element_id.as_deref().unwrap_or("-");
            let key = match d.pgn {
                Some(p) => format!(
                    "{:04X}/{det}/pgn{p}:{}-{}",
                    d.ddi,
                    d.start_bit.unwrap_or(0),
                    d.stop_bit.unwrap_or(0)
                ),
                None => format!("{:04X}/{det}", d.ddi),
            };
            let factor = match (ddi_kind(d.ddi), d.pgn) {
                (DdiKind::Standard, None) => {
                    ddi_entry(d.ddi).map(|e| e.resolution).filter(|r| *r != 0.0)
                }
                (_, Some(p)) => pgn_factor(p, d.start_bit.unwrap_or(0), d.stop_bit.unwrap_or(0)),
                _ => None,
            };
            slots[i] = Slot::Extra(extra_keys.len(), factor);
            extra_keys.push(key);
        }
        // the machine's counters (also kept in `extra`): topmost elements per DDI
        let mut counter_of = vec![u16::MAX; n];
        let mut counters: Vec<CounterTrack> = Vec::new();
        let counter_dlvs: Vec<(usize, &'static crate::totals::CounterDdi)> = (0..n)
            .filter(|&i| header.dlvs[i].pgn.is_none())
            .filter_map(|i| counter_ddi(header.dlvs[i].ddi).map(|c| (i, c)))
            .collect();
        for &(i, def) in &counter_dlvs {
            let same: Vec<usize> = counter_dlvs
                .iter()
                .filter(|(_, c)| c.ddi == def.ddi)
                .map(|(j, _)| *j)
                .collect();
            let known: Vec<usize> = same
                .iter()
                .copied()
                .filter(|&j| found[j].is_some())
                .collect();
            let top = match found[i] {
                Some(_) => {
                    let elements: Vec<(&Device, &DeviceElement)> =
                        known.iter().filter_map(|&j| found[j]).collect();
                    let t = topmost(&elements);
                    known
                        .iter()
                        .position(|&j| j == i)
                        .and_then(|k| t.get(k).copied())
                        .unwrap_or(false)
                }
                // unknown element: only when no known element logs the DDI, and the first such
                None => known.is_empty() && same.first() == Some(&i),
            };
            counter_of[i] = counters.len() as u16;
            counters.push(CounterTrack::new(def, top));
        }
        let mut kind = vec![0u8; n];
        for i in 0..n {
            if matches!(
                slots[i],
                Slot::Section(_) | Slot::Condensed(_) | Slot::SectionWidth(_)
            ) {
                kind[i] |= KIND_SECTION;
            }
            if counter_of[i] != u16::MAX {
                kind[i] |= KIND_COUNTER;
            }
        }
        let _ = op;
        let has_sections = !section_width.is_empty();
        // section widths the device description lacks: from the sections' offsets
        if has_sections && section_width.iter().any(|w| *w <= 0.0) {
            section_elements.sort_by_key(|(d, e)| {
                sections
                    .iter()
                    .position(|s| s.0 == d.id && s.1 == e.object_id)
            });
            section_elements.dedup_by_key(|(d, e)| (d.id.clone(), e.object_id));
        }
        let mut width_source = WidthSource::Unknown;
        let mut static_width = f64::NAN;
        if has_sections && section_width.iter().all(|w| *w > 0.0) {
            static_width = section_width.iter().sum();
            width_source = WidthSource::SectionWidths;
        } else if has_sections {
            // offsets of the sections, when one device holds them all
            let same_device = section_elements
                .first()
                .is_some_and(|f| section_elements.iter().all(|(d, _)| d.id == f.0.id));
            let elems: Vec<&DeviceElement> = section_elements.iter().map(|(_, e)| *e).collect();
            if let (true, Some((dev, _))) = (same_device, section_elements.first()) {
                if let Some(w) = widths_from_offsets(dev, &elems) {
                    if w.len() == section_width.len() {
                        for (sw, w) in section_width.iter_mut().zip(w) {
                            if *sw <= 0.0 {
                                *sw = w;
                            }
                        }
                        static_width = section_width.iter().sum();
                        width_source = WidthSource::SectionGeometry;
                    }
                }
            }
        }
        if width_source == WidthSource::Unknown {
            // per device, the topmost width properties add up; the widest device counts
            let mut widest = 0.0f64;
            for dev in &devices {
                let with: Vec<(&Device, &DeviceElement)> = dev
                    .elements
                    .iter()
                    .filter(|e| e.element_type != 4 && width_of(dev, e).is_some())
                    .map(|e| (*dev, e))
                    .collect();
                let top = topmost(&with);
                let sum: f64 = with
                    .iter()
                    .zip(&top)
                    .filter(|(_, t)| **t)
                    .filter_map(|((d, e), _)| width_of(d, e))
                    .sum();
                widest = widest.max(sum);
            }
            if widest > 0.0 {
                static_width = widest;
                width_source = WidthSource::DeviceDescription;
            }
        }
        if !parts.is_empty() {
            width_source = WidthSource::Logged;
        }
        Ok(LogState {
            log: log.name.clone(),
            current: vec![None; n],
            section_on: vec![None; section_width.len()],
            section_explicit: vec![None; section_width.len()],
            section_condensed: vec![None; section_width.len()],
            state_conflicts: 0,
            slots,
            kind,
            condensed,
            extra_keys,
            section_width,
            section_number,
            static_width,
            width_source,
            has_sections,
            utc_offset: None,
            prev: None,
            jump_run: 0,
            prev_fuel_total: None,
            heading: None,
            step: StepGeometry::default(),
            sections: SectionSummary::of(&[], &[]),
            writes: Vec::new(),
            extra_writes: Vec::new(),
            speed: pgn_speed,
            master: None,
            parts,
            total_fuel: None,
            fuel_rate: None,
            counter_of,
            counters,
            after_gap: false,
            gap_area: 0.0,
        })
    }

    /// Binds the log's slots to the columns of the batch builder `b` (adding the ones it lacks).
    fn bind(&mut self, b: &mut Builder) {
        let harvest = b.harvest.is_some();
        self.writes.clear();
        self.extra_writes.clear();
        for (i, slot) in self.slots.iter().enumerate() {
            match *slot {
                Slot::Prop(Property::Speed, f) => self.speed = Some((i, f, i32::MAX)),
                Slot::Prop(p, _) if b.derived.derives(p, harvest) => {}
                Slot::Prop(p, f) => self.writes.push((i, b.column(p), f)),
                Slot::Master => self.master = Some(i),
                Slot::TotalFuel => self.total_fuel = Some(i),
                Slot::FuelRate => self.fuel_rate = Some(i),
                Slot::Extra(k, f) => {
                    let key = self.extra_keys.get(k).map_or("", String::as_str);
                    self.extra_writes.push((i, b.extra_column(key), f));
                }
                Slot::Width
                | Slot::PartState
                | Slot::PgnSpeed
                | Slot::Section(_)
                | Slot::Condensed(_)
                | Slot::SectionWidth(_)
                | Slot::Unused => {}
            }
        }
    }

    /// Section states and widths from the current values of their DLVs. A section's own work state
    /// (0x008D, 2 and 3 meaning unknown) wins over the condensed state of its parent; a disagreement is
    /// counted. A condensed state's bit order is decided by the first value that shows it: the slots of
    /// sections the block does not hold are filled alike (all 00 or all 11) in the right order only, and a
    /// section's own state agrees with the right order.
    fn update_sections(&mut self) {
        for (i, slot) in self.slots.iter().enumerate() {
            let Some(v) = self.current[i] else { continue };
            match *slot {
                Slot::Section(s) => {
                    if let Some(on) = self.section_explicit.get_mut(s) {
                        *on = match v {
                            0 => Some(false),
                            1 => Some(true),
                            _ => None,
                        };
                    }
                }
                Slot::SectionWidth(s) => {
                    if let Some(w) = self.section_width.get_mut(s) {
                        *w = f64::from(v) / 1000.0;
                    }
                }
                _ => {}
            }
        }
        for (i, slot) in self.slots.iter().enumerate() {
            let (Some(v), Slot::Condensed(c)) = (self.current[i], *slot) else {
                continue;
            };
            let Some(cs) = self.condensed.get_mut(c) else {
                continue;
            };
            let v = v as u32;
            if cs.decided.is_none() {
                let n = cs.sections.len();
                let (lsb, msb) = (
                    Condensed::unused_uniform(v, n, BitOrder::LsbFirst),
                    Condensed::unused_uniform(v, n, BitOrder::MsbFirst),
                );
                if lsb != msb {
                    cs.order = if lsb {
                        BitOrder::LsbFirst
                    } else {
                        BitOrder::MsbFirst
                    };
                    cs.decided = Some("the slots of absent sections");
                } else {
                    // the sections' own states, where logged, against either order
                    let agree = |order: BitOrder| {
                        cs.sections
                            .iter()
                            .enumerate()
                            .filter_map(|(k, &s)| {
                                let own = self.section_explicit.get(s).copied().flatten()?;
                                let bits = Condensed::bits(v, k, order);
                                (bits < 2).then_some((bits == 1) == own)
                            })
                            .fold((0, 0), |(a, t), ok| (a + usize::from(ok), t + 1))
                    };
                    let (l, m) = (agree(BitOrder::LsbFirst), agree(BitOrder::MsbFirst));
                    if l.0 != m.0 && l.1 > 0 {
                        cs.order = if m.0 > l.0 {
                            BitOrder::MsbFirst
                        } else {
                            BitOrder::LsbFirst
                        };
                        cs.decided = Some("the sections' own work states");
                    }
                }
            }
            let order = cs.order;
            for (k, &s) in cs.sections.iter().enumerate() {
                if let Some(on) = self.section_condensed.get_mut(s) {
                    *on = match Condensed::bits(v, k, order) {
                        0 => Some(false),
                        1 => Some(true),
                        _ => None,
                    };
                }
            }
        }
        let mut conflict = false;
        for ((on, own), cond) in self
            .section_on
            .iter_mut()
            .zip(&self.section_explicit)
            .zip(&self.section_condensed)
        {
            if let (Some(a), Some(b)) = (own, cond) {
                conflict |= a != b;
            }
            *on = own.or(*cond);
        }
        self.state_conflicts += u64::from(conflict);
        self.sections = SectionSummary::of(&self.section_on, &self.section_width);
    }

    /// What the log says beyond its points, for the file's warnings.
    fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.condensed {
            if let (BitOrder::MsbFirst, Some(why)) = (c.order, c.decided) {
                out.push(format!(
                    "{}: the condensed work state {} packs section 1 in the most significant bits (shown by {why}); read in that order",
                    self.log, c.label
                ));
            }
        }
        if self.state_conflicts > 0 {
            out.push(format!(
                "{}: in {} record(s) a section's own work state (008D) disagreed with the condensed work state; the section's own state was used",
                self.log, self.state_conflicts
            ));
        }
        out
    }
}

/// A log's working width from the machine's own counters, for a log that gives none otherwise: the total
/// area counted over the distance counted (the effective-distance counter, else the distance travelled
/// between the area counter's updates while it grew). One pass over the log's records, before its
/// conversion; `None` without an area counter or when the figure is not a plausible width (0.1–100 m).
fn counter_width(log: &TimeLog, st: &LogState) -> Option<f64> {
    use crate::totals::Counted;
    // the task counter when logged, else the lifetime one (topmost elements only)
    let pick = |counted: Counted| -> Vec<(usize, f64)> {
        let of = |lifetime: bool| -> Vec<(usize, f64)> {
            st.counter_of
                .iter()
                .enumerate()
                .filter_map(|(i, &c)| {
                    let t = st.counters.get(usize::from(c))?;
                    (t.topmost && t.def.counted == counted && t.def.lifetime == lifetime)
                        .then_some((i, t.def.si))
                })
                .collect()
        };
        let task = of(false);
        if task.is_empty() { of(true) } else { task }
    };
    let area = pick(Counted::Area);
    if area.is_empty() {
        return None;
    }
    let dist = pick(Counted::Distance);
    let mut reader = log.reader().ok()?;
    let mut last: Vec<Option<i32>> = vec![None; st.current.len()];
    let (mut sum_area, mut sum_dist, mut counted_dist) = (0.0, 0.0, 0.0);
    let mut travelled = 0.0;
    let mut step = StepGeometry::default();
    let mut prev: Option<(f64, f64)> = None;
    while let Ok(Some(v)) = reader.next_record() {
        let (mut da, mut dd, mut area_seen) = (0.0, 0.0, false);
        v.for_each_value(|index, value| {
            let i = usize::from(index);
            let Some(slot) = last.get_mut(i) else {
                return;
            };
            let inc = slot.map_or(0.0, |p| f64::from(value.saturating_sub(p).max(0)));
            *slot = Some(value);
            if let Some(&(_, si)) = area.iter().find(|a| a.0 == i) {
                area_seen = true;
                da += inc * si;
            }
            if let Some(&(_, si)) = dist.iter().find(|a| a.0 == i) {
                dd += inc * si;
            }
        });
        counted_dist += dd;
        if v.has_plausible_position() {
            let lat = f64::from(v.position.north.unwrap_or(0)) * 1e-7;
            let lon = f64::from(v.position.east.unwrap_or(0)) * 1e-7;
            if let Some((plon, plat)) = prev {
                let (d, _, _) = step.step(plon, plat, lon, lat);
                // a step longer than 100 m is a jump, not work
                if d < 100.0 {
                    travelled += d;
                }
            }
            prev = Some((lon, lat));
        }
        if area_seen {
            if da > 0.0 {
                sum_area += da;
                sum_dist += travelled;
            }
            travelled = 0.0;
        }
    }
    let (a, d) = if dist.is_empty() {
        (sum_area, sum_dist)
    } else {
        (sum_area, counted_dist)
    };
    let w = a / d;
    (d > 1.0 && (0.1..=100.0).contains(&w)).then_some(w)
}

/// Columns of the properties every record derives (distance, heading, speed...), as indexes into
/// [`Builder::nums`].
#[derive(Debug, Clone, Copy)]
struct DerivedColumns {
    distance: usize,
    heading: usize,
    speed: usize,
    elevation: usize,
    width: usize,
    area: usize,
    fuel: usize,
    /// `samplingInterval`, derived for harvests only (any other operation keeps a logged value).
    sampling: Option<usize>,
}

impl DerivedColumns {
    /// Whether each record sets `p` itself (a logged value of it is not carried into its column).
    fn derives(&self, p: Property, harvest: bool) -> bool {
        matches!(
            p,
            Property::Distance
                | Property::Heading
                | Property::Speed
                | Property::Elevation
                | Property::EquipmentWidth
                | Property::Area
                | Property::FuelUsed
        ) || (harvest && p == Property::SamplingInterval)
    }
}

/// Column builders of one batch (values in METRIC units until `finish`). [`push_record`] appends rows
/// one record at a time; [`StandardStream::settle`] then takes the rows appended since it last ran
/// (`settled..`) column by column: harvest values derived, cleanup and the filtered view applied as
/// masks, dropped rows removed, counts and the summary updated.
#[derive(Debug)]
struct Builder {
    cols: Vec<Column>,
    x: Vec<f64>,
    y: Vec<f64>,
    /// UTC and logged times, [`NO_TIME`] where a point has none (the validity is read off when the batch
    /// is finished, as for the numbers).
    ts: Vec<i64>,
    local: Vec<i64>,
    /// The numeric columns: property index and values, NaN where the point has none (the validity is
    /// read off the NaNs when the batch is finished). The first `schema_nums` are the schema's; after
    /// them come properties a log feeds that the schema lacks (their values still count for the
    /// cleanup rules). A column no record of the open log writes may lag behind the rows: [`Builder::pad`]
    /// fills it with NaN.
    nums: Vec<(usize, Vec<f64>)>,
    schema_nums: usize,
    /// NaNs in each column of `nums` among the settled rows (counted while settling, when the rows are
    /// in the cache, so that finishing the batch need not read every column again).
    nans: Vec<usize>,
    /// Likewise, the [`NO_TIME`]s in `ts` and in `local`.
    no_times: [usize; 2],
    /// Position in `nums` of each property's column (`usize::MAX`: none).
    num_slot: [usize; PROPERTY_COUNT],
    derived: DerivedColumns,
    harvest: Option<HarvestColumns>,
    on: Vec<bool>,
    section: Vec<i32>,
    section_valid: Vec<bool>,
    /// Each row's working width (for the coverage) and whether its position jumped.
    effective: Vec<f64>,
    jump: Vec<bool>,
    /// `extra` map keys and a column of values for each (NaN: not logged at that point).
    extra_keys: Vec<String>,
    extra: Vec<Vec<f64>>,
    /// Rows before this one are settled.
    settled: usize,
    /// Scratch: which unsettled rows stay.
    keep: Vec<bool>,
    /// Scratch: the unsettled rows' plausibility flags (1 speed, 2 logged yield).
    flags: Vec<u8>,
    cap: usize,
    /// Columns with one value a file (operation type, crop, machinery...), built once for a full batch
    /// and sliced: one slot per column of `cols`.
    constants: Vec<Option<ArrayRef>>,
}

impl Builder {
    fn new(op: OperationType, cap: usize) -> Self {
        let cols = columns(op);
        let mut nums: Vec<(usize, Vec<f64>)> = Vec::new();
        let mut num_slot = [usize::MAX; PROPERTY_COUNT];
        for c in &cols {
            if let Column::Number(p) = c {
                num_slot[p.index()] = nums.len();
                nums.push((p.index(), Vec::with_capacity(cap)));
            }
        }
        let mut b = Builder {
            constants: vec![None; cols.len()],
            cols,
            x: Vec::with_capacity(cap),
            y: Vec::with_capacity(cap),
            ts: Vec::with_capacity(cap),
            local: Vec::with_capacity(cap),
            schema_nums: nums.len(),
            nans: vec![0; nums.len()],
            no_times: [0; 2],
            nums,
            num_slot,
            derived: DerivedColumns {
                distance: 0,
                heading: 0,
                speed: 0,
                elevation: 0,
                width: 0,
                area: 0,
                fuel: 0,
                sampling: None,
            },
            harvest: None,
            cap,
            on: Vec::with_capacity(cap),
            section: Vec::with_capacity(cap),
            section_valid: Vec::with_capacity(cap),
            effective: Vec::with_capacity(cap),
            jump: Vec::with_capacity(cap),
            extra_keys: Vec::new(),
            extra: Vec::new(),
            settled: 0,
            keep: Vec::new(),
            flags: Vec::new(),
        };
        use Property as P;
        let harvest = op == OperationType::Harvested;
        b.derived = DerivedColumns {
            distance: b.column(P::Distance),
            heading: b.column(P::Heading),
            speed: b.column(P::Speed),
            elevation: b.column(P::Elevation),
            width: b.column(P::EquipmentWidth),
            area: b.column(P::Area),
            fuel: b.column(P::FuelUsed),
            sampling: harvest.then(|| b.column(P::SamplingInterval)),
        };
        if harvest {
            b.harvest = Some(HarvestColumns {
                wet_mass_per_area: b.column(P::WetMassPerArea),
                wet_mass: b.column(P::WetMass),
                wet_volume_per_area: b.column(P::WetVolumePerArea),
                wet_volume: b.column(P::WetVolume),
                dry_mass_per_area: b.column(P::DryMassPerArea),
                dry_mass: b.column(P::DryMass),
                dry_volume_per_area: b.column(P::DryVolumePerArea),
                dry_volume: b.column(P::DryVolume),
                moisture: b.column(P::HarvestMoisture),
                crop_flow: b.column(P::CropFlow),
                area: b.derived.area,
                sampling: b.column(P::SamplingInterval),
            });
        }
        b
    }

    fn len(&self) -> usize {
        self.x.len()
    }

    /// The column of `p` (added after the schema's when the schema lacks it), padded to the rows.
    fn column(&mut self, p: Property) -> usize {
        let k = match self.num_slot[p.index()] {
            usize::MAX => {
                self.num_slot[p.index()] = self.nums.len();
                self.nums.push((p.index(), Vec::with_capacity(self.cap)));
                self.nans.push(0);
                self.nums.len() - 1
            }
            k => k,
        };
        let n = self.len();
        let v = &mut self.nums[k].1;
        // NaNs padded among the settled rows count now (settling counts the rows after them)
        self.nans[k] += self.settled.saturating_sub(v.len());
        v.resize(n, f64::NAN);
        k
    }

    /// The `extra` column of `key`, padded to the rows.
    fn extra_column(&mut self, key: &str) -> usize {
        let k = match self.extra_keys.iter().position(|x| x == key) {
            Some(k) => k,
            None => {
                self.extra_keys.push(key.to_owned());
                self.extra.push(Vec::with_capacity(self.cap));
                self.extra.len() - 1
            }
        };
        let n = self.len();
        self.extra[k].resize(n, f64::NAN);
        k
    }

    /// Brings every numeric and `extra` column to the rows, NaN for the rows no log wrote.
    fn pad(&mut self) {
        let n = self.len();
        for (_, v) in &mut self.nums {
            v.resize(n, f64::NAN);
        }
        for v in &mut self.extra {
            v.resize(n, f64::NAN);
        }
    }

    /// Drops the rows `settled..` whose `keep` flag is clear.
    fn compact(&mut self) {
        if self.keep.iter().all(|k| *k) {
            return;
        }
        let from = self.settled;
        let keep = &kept_runs(&self.keep, from);
        compact(&mut self.x, from, keep);
        compact(&mut self.y, from, keep);
        compact(&mut self.ts, from, keep);
        compact(&mut self.local, from, keep);
        compact(&mut self.on, from, keep);
        compact(&mut self.section, from, keep);
        compact(&mut self.section_valid, from, keep);
        compact(&mut self.effective, from, keep);
        compact(&mut self.jump, from, keep);
        for (_, v) in &mut self.nums {
            compact(v, from, keep);
        }
        for v in &mut self.extra {
            compact(v, from, keep);
        }
    }

    fn finish(&mut self, plan: &FilePlan, schema: &SchemaRef) -> Result<RecordBatch> {
        self.pad();
        let n = self.len();
        let units = plan.units;
        let mut out: Vec<ArrayRef> = Vec::with_capacity(self.cols.len());
        let rows = n.max(self.cap);
        for (k, c) in self.cols.iter().enumerate() {
            let constant = &mut self.constants[k];
            let mut constant = |make: &dyn Fn(usize) -> ArrayRef| -> ArrayRef {
                match constant {
                    Some(a) if a.len() >= n => a.slice(0, n),
                    _ => {
                        let a = make(rows);
                        *constant = Some(a.clone());
                        a.slice(0, n)
                    }
                }
            };
            let a: ArrayRef = match c {
                Column::X => Arc::new(Float64Array::from(std::mem::take(&mut self.x))),
                Column::Y => Arc::new(Float64Array::from(std::mem::take(&mut self.y))),
                Column::Timestamp => {
                    let mut t = std::mem::take(&mut self.ts);
                    let missing = self.no_times[0] + no_time_count(t.get(self.settled..));
                    let nulls = time_nulls(&mut t, missing);
                    Arc::new(TimestampMillisecondArray::new(t.into(), nulls).with_timezone("UTC"))
                }
                Column::LocalTime => {
                    let mut t = std::mem::take(&mut self.local);
                    let missing = self.no_times[1] + no_time_count(t.get(self.settled..));
                    let nulls = time_nulls(&mut t, missing);
                    Arc::new(TimestampMillisecondArray::new(t.into(), nulls))
                }
                Column::OperationType => {
                    constant(&|n| Arc::new(repeated_str(plan.operation_type.as_str(), n)))
                }
                Column::OriginalOperationType => {
                    constant(&|n| Arc::new(repeated_str(plan.original_operation_type.as_str(), n)))
                }
                Column::Number(p) => match self.num_slot[p.index()] {
                    usize::MAX => Arc::new(Float64Array::new_null(n)),
                    k => {
                        let v =
                            std::mem::replace(&mut self.nums[k].1, Vec::with_capacity(self.cap));
                        // rows not settled (none when the batch came through `fill`) are counted here
                        let nans = self.nans[k] + nan_count(v.get(self.settled..).unwrap_or(&[]));
                        Arc::new(number_array(v, units.factor(*p), nans))
                    }
                },
                Column::RecordingStatus => Arc::new(on_off(&mut self.on)),
                Column::SectionId => {
                    let valid = std::mem::take(&mut self.section_valid);
                    Arc::new(Int32Array::new(
                        std::mem::take(&mut self.section).into(),
                        nulls_of(&valid),
                    ))
                }
                Column::Crop => constant(&|n| Arc::new(const_str(plan.crops.first(), n))),
                Column::Variety => constant(&|n| Arc::new(const_str(plan.varieties.first(), n))),
                Column::Machinery => constant(&|n| {
                    let names: Vec<&str> = plan.machinery.iter().map(|m| m.name.as_str()).collect();
                    Arc::new(const_list(&names, n))
                }),
                Column::TillType => constant(&|n| Arc::new(const_list(&[], n))),
                Column::Products => {
                    let rates = out
                        .iter()
                        .zip(&self.cols)
                        .find(|(_, c)| **c == Column::Number(Property::AppliedRate))
                        .and_then(|(a, _)| a.as_any().downcast_ref::<Float64Array>().cloned());
                    Arc::new(products_column(&plan.products, rates.as_ref(), n))
                }
                Column::Extra => Arc::new(extra_map(&self.extra_keys, &self.extra, n)),
            };
            out.push(a);
        }
        // reset the columns for the next batch
        self.nans.fill(0);
        self.no_times = [0; 2];
        for (_, v) in &mut self.nums[self.schema_nums..] {
            v.clear();
        }
        for v in &mut self.extra {
            v.clear();
        }
        self.effective.clear();
        self.jump.clear();
        self.settled = 0;
        self.x.reserve(self.cap);
        self.y.reserve(self.cap);
        self.ts.reserve(self.cap);
        self.local.reserve(self.cap);
        self.on.reserve(self.cap);
        self.section.reserve(self.cap);
        self.section_valid.reserve(self.cap);
        Ok(RecordBatch::try_new(schema.clone(), out)?)
    }
}

/// The `extra` map column of `n` rows: for each row, the keys whose column holds a value there.
fn extra_map(keys: &[String], columns: &[Vec<f64>], n: usize) -> arrow_array::MapArray {
    if columns.iter().all(|c| c.iter().take(n).all(|v| v.is_nan())) {
        // no value in the batch (most logs): n empty maps, without a builder step a row
        let field = crate::schema::extra_entries_field();
        let empty = arrow_array::new_empty_array(field.data_type());
        if let Some(entries) = empty.as_any().downcast_ref::<arrow_array::StructArray>() {
            return arrow_array::MapArray::new(
                Arc::new(field),
                arrow_buffer::OffsetBuffer::new_zeroed(n),
                entries.clone(),
                None,
                false,
            );
        }
    }
    built_extra_map(keys, columns, n)
}

/// [`extra_map`] built row by row.
fn built_extra_map(keys: &[String], columns: &[Vec<f64>], n: usize) -> arrow_array::MapArray {
    let mut b = MapBuilder::new(
        Some(MapFieldNames {
            entry: "entries".into(),
            key: "keys".into(),
            value: "values".into(),
        }),
        StringBuilder::new(),
        Float64Builder::new(),
    );
    for row in 0..n {
        for (key, col) in keys.iter().zip(columns) {
            if let Some(v) = col.get(row).copied().filter(|v| !v.is_nan()) {
                b.keys().append_value(key);
                b.values().append_value(v);
            }
        }
        let _ = b.append(true);
    }
    b.finish()
}

/// NaNs in `v` (a count the compiler vectorises).
fn nan_count(v: &[f64]) -> usize {
    v.iter().fold(0usize, |n, x| n + usize::from(x.is_nan()))
}

/// A numeric column built with NaN for "no value" (a computed NaN is no value either) as an Arrow array,
/// each value times `factor`: null where NaN, with 0.0 in the null slots as Arrow builders leave them.
/// `nans` is how many NaNs `v` holds, counted before (settling counts them while the rows are in the
/// cache): most columns are all present or all absent, which the count settles without building a
/// bitmap bit by bit, and an absent one is a fresh zeroed buffer (no pass over `v`).
fn number_array(mut v: Vec<f64>, factor: f64, nans: usize) -> Float64Array {
    debug_assert_eq!(nans, nan_count(&v), "NaNs counted while settling");
    if nans == v.len() && !v.is_empty() {
        return Float64Array::new_null(v.len());
    }
    let nulls = nan_nulls(&mut v, nans);
    if factor != 1.0 {
        v.iter_mut().for_each(|x| *x *= factor);
    }
    Float64Array::new(v.into(), nulls)
}

/// The validity of a numeric column with `nans` NaN values (see [`number_array`]): `None` when every
/// value is present. The NaNs are replaced by 0.0.
fn nan_nulls(v: &mut [f64], nans: usize) -> Option<NullBuffer> {
    if nans == 0 {
        return None;
    }
    if nans == v.len() {
        v.fill(0.0);
        return Some(NullBuffer::new_null(v.len()));
    }
    let valid = arrow_buffer::BooleanBuffer::collect_bool(v.len(), |i| !v[i].is_nan());
    for x in v.iter_mut().filter(|x| x.is_nan()) {
        *x = 0.0;
    }
    Some(NullBuffer::new(valid))
}

/// A point without a time, in the builder's time columns: no logged time is near it (ISOXML times are
/// days since 1980 and milliseconds of the day, UTC offsets at most a day).
const NO_TIME: i64 = i64::MIN;

/// Rows read and settled at a time: the ~30 columns of 2,048 rows (480 KB) stay in the CPU's own (L2)
/// cache between the record pass and settling, whatever the batch size. Measured on the 1 GiB benchmark
/// (2 MB L2): 8,192 rows (2 MB, spilling) 4.9–5.0 M records/s, 4,096 5.1, 2,048 5.3–5.4, 1,024 the same.
const SETTLE_WINDOW: usize = 2 * 1024;

/// The [`NO_TIME`]s among `v`.
fn no_time_count(v: Option<&[i64]>) -> usize {
    v.unwrap_or(&[])
        .iter()
        .fold(0usize, |n, t| n + usize::from(*t == NO_TIME))
}

/// The validity of a time column built with [`NO_TIME`] for "no time" (`missing` of them, counted
/// before), which it replaces by 0.
fn time_nulls(v: &mut [i64], missing: usize) -> Option<NullBuffer> {
    debug_assert_eq!(
        missing,
        no_time_count(Some(v)),
        "missing times counted while settling"
    );
    if missing == 0 {
        return None;
    }
    if missing == v.len() {
        v.fill(0);
        return Some(NullBuffer::new_null(v.len()));
    }
    let valid = arrow_buffer::BooleanBuffer::collect_bool(v.len(), |i| v[i] != NO_TIME);
    for t in v.iter_mut().filter(|t| **t == NO_TIME) {
        *t = 0;
    }
    Some(NullBuffer::new(valid))
}

/// The validity of a column: `None` when every value is present.
fn nulls_of(valid: &[bool]) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

/// `recordingStatus` from the points' on/off flags (which it empties), offsets and bytes written
/// directly.
fn on_off(on: &mut Vec<bool>) -> StringArray {
    let n = on.len();
    let (mut offsets, mut bytes): (Vec<i32>, Vec<u8>);
    if let Some(&first) = on.first().filter(|f| on.iter().all(|b| b == *f)) {
        // one status for the whole batch (nearly always)
        on.clear();
        return repeated_str(if first { "On" } else { "Off" }, n);
    } else {
        offsets = Vec::with_capacity(n + 1);
        bytes = Vec::with_capacity(n * 3);
        offsets.push(0);
        for b in on.drain(..) {
            if b {
                bytes.extend_from_slice(b"On");
            } else {
                bytes.extend_from_slice(b"Off");
            }
            offsets.push(bytes.len() as i32);
        }
    }
    // offsets grow monotonically and the bytes are ASCII (`StringArray::new` checks both)
    StringArray::new(
        arrow_buffer::OffsetBuffer::new(offsets.into()),
        bytes.into(),
        None,
    )
}

fn const_str(v: Option<&String>, n: usize) -> StringArray {
    match v {
        Some(s) => repeated_str(s, n),
        None => StringArray::new_null(n),
    }
}

/// `n` rows of `text`: the bytes repeated and the offsets counted, without a builder step a row.
fn repeated_str(text: &str, n: usize) -> StringArray {
    let offsets: Vec<i32> = (0..=n).map(|i| (i * text.len()) as i32).collect();
    StringArray::new(
        arrow_buffer::OffsetBuffer::new(offsets.into()),
        text.as_bytes().repeat(n).into(),
        None,
    )
}

fn const_list(values: &[&str], n: usize) -> arrow_array::ListArray {
    if !values.is_empty() {
        // the values repeated, each row's list `values.len()` of them
        let flat: Vec<&str> = values
            .iter()
            .copied()
            .cycle()
            .take(values.len() * n)
            .collect();
        let item = Arc::new(arrow_schema::Field::new(
            "item",
            arrow_schema::DataType::Utf8,
            true,
        ));
        let offsets: Vec<i32> = (0..=n).map(|i| (i * values.len()) as i32).collect();
        return arrow_array::ListArray::new(
            item,
            arrow_buffer::OffsetBuffer::new(offsets.into()),
            Arc::new(StringArray::from_iter_values(flat)),
            None,
        );
    }
    let mut b = ListBuilder::with_capacity(StringBuilder::new(), n);
    for _ in 0..n {
        if values.is_empty() {
            b.append(false);
        } else {
            for v in values {
                b.values().append_value(v);
            }
            b.append(true);
        }
    }
    b.finish()
}

fn products_column(
    names: &[String],
    rates: Option<&Float64Array>,
    n: usize,
) -> arrow_array::ListArray {
    let fields = product_struct_fields();
    let rate_fields = match fields[1].data_type() {
        DataType::Struct(f) => f.clone(),
        _ => arrow_schema::Fields::empty(),
    };
    let item = StructBuilder::new(
        fields.clone(),
        vec![
            Box::new(StringBuilder::new()),
            Box::new(StructBuilder::new(
                rate_fields,
                vec![Box::new(Float64Builder::new())],
            )),
        ],
    );
    let mut b = ListBuilder::with_capacity(item, n).with_field(Arc::new(Field::new(
        "item",
        DataType::Struct(fields),
        true,
    )));
    for i in 0..n {
        if names.is_empty() {
            b.append(false);
            continue;
        }
        // one product: the logged rate is its rate; a tank mix's split is unknown
        let rate = match (names.len(), rates) {
            (1, Some(r)) if !arrow_array::Array::is_null(r, i) => Some(r.value(i)),
            _ => None,
        };
        for name in names {
            let s = b.values();
            if let Some(nb) = s.field_builder::<StringBuilder>(0) {
                nb.append_value(name);
            }
            if let Some(rb) = s.field_builder::<StructBuilder>(1) {
                if let Some(v) = rb.field_builder::<Float64Builder>(0) {
                    v.append_option(rate);
                }
                rb.append(true);
            }
            s.append(true);
        }
        b.append(true);
    }
    b.finish()
}

/// Crop constants for dry values and volumes: (names, standard moisture %, test weight lb/bu).
const CROPS: &[(&[&str], f64, f64)] = &[
    (&["corn", "maize", "mais"], 15.5, 56.0),
    (&["soybeans", "soybean", "soy", "soja"], 13.0, 60.0),
    (
        &["wheat", "weizen", "winter wheat", "spring wheat"],
        13.5,
        60.0,
    ),
    (&["barley", "gerste"], 14.5, 48.0),
    (&["oats", "hafer"], 14.0, 32.0),
    (&["rye", "roggen"], 14.0, 56.0),
    (&["canola", "rapeseed", "raps", "winterraps"], 10.0, 50.0),
    (&["sorghum"], 14.0, 56.0),
    (&["sunflower", "sunflowers"], 10.0, 28.0),
    (&["triticale"], 14.0, 48.0),
];

/// Standard moisture (%) and density (kg/m³) of a crop, if known.
pub fn crop_constants(crop: &str) -> Option<(f64, f64)> {
    let c = crop.trim().to_lowercase();
    CROPS
        .iter()
        .find(|(n, _, _)| n.contains(&c.as_str()))
        .map(|(_, m, lb_bu)| {
            // lb/bu → kg/m³
            (*m, lb_bu * 0.453_592_37 / 0.035_239_070_166_88)
        })
}

/// A value's histogram bucket: 15 mantissa bits, relative precision 3e-5.
fn bucket(v: f64) -> u32 {
    (v as f32).to_bits() >> 8
}

/// The harvest outlier test of the filtered view: a value is an outlier when its histogram bucket's
/// centre lies beyond `limit` of the mean, so the written filtered view has exactly the counted rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilterView {
    mean: f64,
    limit: f64,
}

impl FilterView {
    fn is_outlier_bucket(&self, k: u32) -> bool {
        let v = f64::from(f32::from_bits(k << 8 | 0x80));
        (v - self.mean).abs() > self.limit
    }
    fn is_outlier(&self, v: f64) -> bool {
        self.is_outlier_bucket(bucket(v))
    }
}

/// Mean and variance plus a coarse histogram for counting outliers with bounded memory. The values are
/// taken a settling window at a time: a block's own mean and squared deviations in two passes over it
/// (no division a value), merged into the running figures with one division a block (Chan, Golub and
/// LeVeque's update, as robust as Welford's one value at a time).
#[derive(Debug, Default)]
struct OutlierStats {
    n: u64,
    mean: f64,
    m2: f64,
    /// Values added since the last [`OutlierStats::fold_block`].
    block: Vec<f64>,
    hist: HashMap<u32, u64, std::hash::BuildHasherDefault<crate::coverage::CellHasher>>,
}

impl OutlierStats {
    fn add(&mut self, v: f64) {
        self.block.push(v);
        *self.hist.entry(bucket(v)).or_default() += 1;
    }

    /// Merges the values added since the last call into the running figures.
    fn fold_block(&mut self) {
        (self.n, self.mean, self.m2) = self.merged();
        self.block.clear();
    }

    /// Count, mean and sum of squared deviations of every value added, the block's included.
    fn merged(&self) -> (u64, f64, f64) {
        let b = &self.block;
        if b.is_empty() {
            return (self.n, self.mean, self.m2);
        }
        let nb = b.len() as f64;
        let mean_b = b.iter().sum::<f64>() / nb;
        let m2_b = b.iter().map(|x| (x - mean_b) * (x - mean_b)).sum::<f64>();
        if self.n == 0 {
            return (b.len() as u64, mean_b, m2_b);
        }
        let n = self.n + b.len() as u64;
        let (na, nt) = (self.n as f64, n as f64);
        let delta = mean_b - self.mean;
        (
            n,
            self.mean + delta * nb / nt,
            self.m2 + m2_b + delta * delta * na * nb / nt,
        )
    }

    /// The filtered view's outlier test, from the values seen so far.
    fn view(&self, sigma: f64) -> FilterView {
        let (n, mean, m2) = self.merged();
        let limit = if n < 2 {
            f64::INFINITY
        } else {
            sigma * (m2 / (n - 1) as f64).sqrt()
        };
        FilterView { mean, limit }
    }
    fn count_outliers(&self, sigma: f64) -> u64 {
        if self.merged().0 < 2 {
            return 0;
        }
        let view = self.view(sigma);
        self.hist
            .iter()
            .filter(|(k, _)| view.is_outlier_bucket(**k))
            .map(|(_, c)| *c)
            .sum()
    }
}

/// Streams the standard points of one [`FilePlan`] as record batches; [`StandardStream::finish`] gives
/// the counts and the summary.
pub struct StandardStream<'a> {
    td: &'a TaskData,
    plan: &'a FilePlan,
    opts: &'a ConvertOptions,
    rules: Option<CompiledRules>,
    schema: SchemaRef,
    builder: Builder,
    summary: SummaryBuilder,
    counts: Counts,
    outliers: OutlierStats,
    /// Set for a pass that writes the filtered view.
    view: Option<FilterView>,
    /// The crop's standard moisture and density, for harvest values.
    crop_consts: Option<(f64, f64)>,
    log_pos: usize,
    reader: Option<(RecordReader<Box<dyn std::io::Read + Send>>, LogState)>,
    bytes_done: u64,
    current_offset: u64,
    warnings: Vec<String>,
    done: bool,
    /// Points dropped by each cleanup rule (the first rule a point fails).
    cleaned_by: BTreeMap<&'static str, u64>,
    harvest_notes: HarvestNotes,
    /// Area (m²) and amount (in the amount column's unit) of the points the cleanup rules and the
    /// plausibility checks dropped.
    dropped: (f64, f64),
    /// The column compared with the machine's amount counter, whether it is a rate per hectare, and its
    /// factor to SI (kg, L or seeds).
    amount: Option<(Property, bool, f64)>,
    /// The machine's counters over the logs read so far.
    counters: MachineCounters,
    /// Notes of the logs read so far (bit order, state conflicts, width source), for the summary.
    notes: Vec<String>,
    /// Working-width sources of the logs read so far.
    width_sources: Vec<(String, WidthSource, f64)>,
    /// Area of the points whose step spans records without a position (m²).
    gap_area: f64,
}

impl std::fmt::Debug for StandardStream<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandardStream")
            .field("plan", &self.plan.stem())
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

/// The result of a finished stream.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    /// The point counts.
    pub counts: Counts,
    /// The summary feature (Leaf's shape).
    pub summary: serde_json::Value,
    /// The units document.
    pub units: serde_json::Value,
    /// Warnings from the time-log readers and the conversion.
    pub warnings: Vec<String>,
}

impl<'a> StandardStream<'a> {
    /// A stream over the logs of `plan` in `td`.
    pub fn new(td: &'a TaskData, plan: &'a FilePlan, opts: &'a ConvertOptions) -> Result<Self> {
        let rules = opts
            .cleanup
            .as_ref()
            .map(|r| r.compile(&plan.units))
            .transpose()?;
        let mut summary = SummaryBuilder::new(
            plan.operation_type,
            &plan.original_operation_type,
            plan.units,
        );
        summary.set_context(
            plan.crops.clone(),
            plan.varieties.clone(),
            plan.products.clone(),
            plan.machinery.clone(),
        );
        // the task's time logs that cannot be read: their records are in no file
        let mut notes = Vec::new();
        for log in td.time_logs.iter().filter(|l| l.task_id == plan.task_id) {
            if let Some(problem) = log.problem() {
                notes.push(format!(
                    "{}: {problem}: its records are not in this file",
                    log.name
                ));
            }
        }
        let amount = match plan.operation_type {
            OperationType::Harvested => Some((Property::WetMass, false, 1000.0)),
            OperationType::Applied => Some((Property::AppliedRate, true, 1.0)),
            OperationType::Planted => Some((Property::SeedRate, true, 1.0)),
            _ => None,
        };
        Ok(StandardStream {
            td,
            plan,
            opts,
            rules,
            schema: plan.schema(),
            builder: Builder::new(plan.operation_type, opts.batch_rows.max(1)),
            summary,
            counts: Counts::default(),
            outliers: OutlierStats::default(),
            view: None,
            crop_consts: plan.crops.first().and_then(|c| crop_constants(c)),
            log_pos: 0,
            reader: None,
            bytes_done: 0,
            current_offset: 0,
            warnings: notes.clone(),
            done: false,
            cleaned_by: BTreeMap::new(),
            harvest_notes: HarvestNotes::default(),
            dropped: (0.0, 0.0),
            amount,
            counters: MachineCounters::default(),
            notes,
            width_sources: Vec::new(),
            gap_area: 0.0,
        })
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Bytes of time-log binaries consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_done + self.current_offset
    }

    /// Counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The filtered view's outlier test from this (finished) pass's values.
    pub(crate) fn filter_view(&self) -> FilterView {
        self.outliers.view(self.opts.filter.outlier_sigma)
    }

    /// Makes this stream write only the filtered view (speed at least the filter's minimum, no
    /// harvest outlier by `view`, taken from a complete first pass over the same plan).
    pub(crate) fn only_filtered(mut self, view: FilterView) -> Self {
        self.view = Some(view);
        self
    }

    /// Settles the rows appended since the last call, column by column: harvest values derived, the
    /// cleanup rules and the filtered view applied, the dropped rows removed; the counts and the summary's
    /// points (time span, coverage) follow, in row order.
    fn settle(&mut self) {
        let b = &mut self.builder;
        let (from, n) = (b.settled, b.len());
        if from == n {
            return;
        }
        b.pad();
        let rules_on = self.rules.is_some();
        // plausibility, one flag a row: 1 speed, 2 logged yield (applied with the cleanup rules only)
        b.flags.clear();
        b.flags.resize(n - from, 0);
        let limits = self.opts.plausibility;
        if let Some(h) = &b.harvest {
            let notes = derive_harvest(
                &mut b.nums,
                h,
                from,
                self.crop_consts,
                limits.max_wet_mass_per_area,
                &mut b.flags,
            );
            self.harvest_notes.per_area_unknown += notes.per_area_unknown;
            self.counts.yield_per_area_unknown += notes.per_area_unknown;
            self.harvest_notes.dry_no_moisture += notes.dry_no_moisture;
            self.harvest_notes.dry_no_crop += notes.dry_no_crop;
            self.harvest_notes.with_mass += notes.with_mass;
        }
        if rules_on {
            let max = if self.plan.operation_type == OperationType::Harvested {
                limits.max_speed_harvest
            } else {
                limits.max_speed
            };
            for (f, &v) in b.flags.iter_mut().zip(&b.nums[b.derived.speed].1[from..n]) {
                if v > max && *f == 0 {
                    *f = 1;
                }
            }
        }
        // the cleanup rules, one mask over the rows (a plausibility drop is not counted against a rule)
        b.keep.clear();
        b.keep.resize(n - from, true);
        if let Some(r) = &self.rules {
            let keep = &mut b.keep;
            for (k, &f) in keep.iter_mut().zip(&b.flags) {
                *k = f == 0;
            }
            let kept = |keep: &[bool]| keep.iter().filter(|k| **k).count();
            let mut before = kept(keep);
            let mut count = |name: &'static str, keep: &[bool]| {
                let after = kept(keep);
                if after < before {
                    *self.cleaned_by.entry(name).or_default() += (before - after) as u64;
                }
                before = after;
            };
            for (p, rule) in &r.numbers {
                if let Some((_, col)) = b.nums.get(b.num_slot[p.index()]) {
                    rule.mask(&col[from..n], keep);
                    count(p.name(), keep);
                }
            }
            let status = |text: &str| r.recording.iter().all(|rule| rule.passes_text(text));
            let (on, off) = (status("On"), status("Off"));
            if !(on && off) {
                for (k, rec) in keep.iter_mut().zip(&b.on[from..n]) {
                    *k &= if *rec { on } else { off };
                }
                count("recordingStatus", keep);
            }
            let crop = self
                .plan
                .crops
                .first()
                .is_none_or(|c| r.crop.iter().all(|rule| rule.passes_text(c)));
            if !crop {
                keep.fill(false);
                count("crop", keep);
            }
            if !self.plan.products.is_empty() {
                let rates = b.nums.get(b.num_slot[Property::AppliedRate.index()]);
                if let Some((_, col)) = rates {
                    for rule in &r.products {
                        rule.mask(&col[from..n], keep);
                    }
                    count("products", keep);
                }
            }
        }
        // counts and the filtered view, in row order
        let rules = self.rules.is_some();
        let counts = &mut self.counts;
        let speed = &b.nums[b.derived.speed].1[from..n];
        let area = &b.nums[b.derived.area].1[from..n];
        let amount = self.amount.and_then(|(col, per_area, _)| {
            b.nums
                .get(b.num_slot[col.index()])
                .map(|(_, v)| (&v[from..n], per_area))
        });
        let yields = b.harvest.map(|h| &b.nums[h.wet_mass_per_area].1[from..n]);
        // what flowed through a harvester in a point's time step (t): the machine's own mass counter
        // integrates it whatever the yield per area says
        let flow_mass = b.harvest.map(|h| {
            (
                &b.nums[h.crop_flow].1[from..n],
                &b.nums[h.sampling].1[from..n],
            )
        });
        let rows = b
            .keep
            .iter_mut()
            .zip(&b.jump[from..n])
            .zip(speed.iter().zip(&b.flags));
        for (i, ((k, &jump), (&speed, &flag))) in rows.enumerate() {
            let mut keep = !jump;
            if jump {
                counts.jumps += 1;
            }
            if keep && rules && !*k {
                match flag {
                    1 => counts.implausible_speed += 1,
                    2 => counts.implausible_yield += 1,
                    _ => counts.cleaned += 1,
                }
                // what the dropped point held, for the comparison with the machine's counters
                let a = area.get(i).copied().unwrap_or(f64::NAN);
                if !a.is_nan() {
                    self.dropped.0 += a;
                }
                if let Some((v, per_area)) = amount {
                    let x = v.get(i).copied().unwrap_or(f64::NAN);
                    let mut x = if per_area { x * a / 10_000.0 } else { x };
                    if let Some((flow, dt)) = flow_mass {
                        let f = flow.get(i).copied().unwrap_or(f64::NAN)
                            * dt.get(i).copied().unwrap_or(f64::NAN)
                            / 1000.0;
                        if !f.is_nan() && (x.is_nan() || f > x) {
                            x = f;
                        }
                    }
                    if !x.is_nan() {
                        self.dropped.1 += x;
                    }
                }
                keep = false;
            }
            let mut in_filtered = false;
            if keep {
                counts.standard += 1;
                if speed < self.opts.filter.min_speed {
                    counts.slow += 1;
                } else {
                    in_filtered = true;
                    if let Some(v) = yields.map(|y| y[i]).filter(|v| !v.is_nan()) {
                        self.outliers.add(v);
                        in_filtered = self.view.as_ref().is_none_or(|f| !f.is_outlier(v));
                    }
                }
            } else if rules {
                *k = false;
                continue;
            }
            *k = self.view.is_none() || in_filtered;
            if *k {
                counts.written += 1;
            }
        }
        self.outliers.fold_block();
        b.compact();
        let d = b.derived;
        let n = b.len();
        for ((_, v), nans) in b.nums.iter().zip(&mut b.nans) {
            *nans += nan_count(v.get(from..n).unwrap_or(&[]));
        }
        // the columns side by side (one index, no bounds check a column)
        let rows = b.ts[from..n]
            .iter()
            .zip(&b.local[from..n])
            .zip(b.x[from..n].iter().zip(&b.y[from..n]))
            .zip(&b.effective[from..n])
            .zip(
                b.nums[d.heading].1[from..n]
                    .iter()
                    .zip(&b.nums[d.distance].1[from..n]),
            );
        let mut no_times = [0; 2];
        for ((((&ts, &local), (&x, &y)), &effective), (&heading, &distance)) in rows {
            no_times[0] += usize::from(ts == NO_TIME);
            no_times[1] += usize::from(local == NO_TIME);
            let time = match (ts, local) {
                (NO_TIME, NO_TIME) => None,
                (NO_TIME, t) => Some((t, false)),
                (t, _) => Some((t, true)),
            };
            self.summary
                .add_point(time, x, y, effective, heading, distance);
        }
        // the values, column by column, while the window's rows are still in the cache
        self.summary
            .add_columns(&b.nums[..b.schema_nums], from..b.len());
        b.no_times[0] += no_times[0];
        b.no_times[1] += no_times[1];
        b.settled = b.len();
    }

    /// Counts, summary and units; call after the last batch.
    pub fn finish(mut self) -> FileOutcome {
        self.counts.outliers = self.outliers.count_outliers(self.opts.filter.outlier_sigma);
        self.counts.filtered = self
            .counts
            .standard
            .saturating_sub(self.counts.slow)
            .saturating_sub(self.counts.outliers);
        // points converted but not taken from the stream (a caller that stopped early) are in
        // `counts.written`: their values go into the summary too
        self.settle();
        self.summary.set_counts(self.counts);
        self.summary.set_cleaned_by(
            self.cleaned_by
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        );
        let notes = self.conversion_notes();
        for n in &notes {
            if !self.warnings.contains(n) {
                self.warnings.push(n.clone());
            }
        }
        self.summary.set_warnings(notes);
        FileOutcome {
            counts: self.counts,
            summary: self.summary.finish(),
            units: serde_json::Value::Object(crate::schema::units_document(
                self.plan.operation_type,
                &self.plan.units,
            )),
            warnings: self.warnings,
        }
    }

    /// What the file's summary says beyond its figures: the logs that could not be read, where the working
    /// width came from when it was not logged, how harvest values were derived, why points were dropped,
    /// and how the computed totals compare with the machine's own counters.
    fn conversion_notes(&mut self) -> Vec<String> {
        let mut notes = std::mem::take(&mut self.notes);
        for (log, source, w) in &self.width_sources {
            match source {
                WidthSource::Unknown if self.plan.operation_type != OperationType::Other => notes.push(format!(
                    "{log}: working width unknown (none logged, none in the device description, none \
                     derivable from the machine's counters): area and per-area values are unknown (null){}",
                    if self.plan.operation_type == OperationType::Harvested {
                        ", masses come from crop flow"
                    } else {
                        ""
                    }
                )),
                WidthSource::Counters | WidthSource::SectionGeometry => notes.push(format!(
                    "{log}: working width {w:.2} m from {}: none logged or given as a width in the \
                     device description",
                    source.as_str()
                )),
                _ => {}
            }
        }
        let h = self.harvest_notes;
        if h.per_area_unknown > 0 {
            notes.push(format!(
                "{} point(s): the yield per area derived from crop flow over too small an area (beyond {} t/ha) \
                 is unknown (null); their mass is kept",
                h.per_area_unknown, self.opts.plausibility.max_wet_mass_per_area
            ));
        }
        if h.dry_no_crop > 0 {
            notes.push(format!(
                "dry values equal the wet ones in {} point(s): no standard moisture is known for the crop \
                 ({}), so the shrink formula cannot be applied (Leaf's rule: dry = wet)",
                h.dry_no_crop,
                self.plan.crops.first().map_or("none given", String::as_str)
            ));
        }
        if h.dry_no_moisture > 0 {
            notes.push(format!(
                "dry values equal the wet ones in {} point(s): no moisture was logged for them (Leaf's rule: \
                 dry = wet)",
                h.dry_no_moisture
            ));
        }
        let c = self.counts;
        let with_position = c.raw - c.no_position - c.invalid_position;
        let dropped = c.cleaned + c.implausible_speed + c.implausible_yield;
        if c.raw > 0 && (c.standard == 0 || dropped * 2 > with_position) {
            let by: Vec<String> = self
                .cleaned_by
                .iter()
                .map(|(k, v)| format!("{v} by the rule on {k}"))
                .chain(
                    (c.implausible_speed > 0)
                        .then(|| format!("{} with an implausible speed", c.implausible_speed)),
                )
                .chain(
                    (c.implausible_yield > 0)
                        .then(|| format!("{} with an implausible yield", c.implausible_yield)),
                )
                .collect();
            notes.push(format!(
                "{} of {} records are standard points: {} without a position, {} with an invalid one, {} \
                 jumps, {dropped} dropped ({})",
                c.standard,
                c.raw,
                c.no_position,
                c.invalid_position,
                c.jumps,
                if by.is_empty() {
                    "-".to_owned()
                } else {
                    by.join(", ")
                }
            ));
        }
        // the machine's own counters against the computed totals
        let task = crate::totals::task_totals(self.td, &self.plan.task_id);
        let whole_task = self
            .td
            .time_logs
            .iter()
            .enumerate()
            .filter(|(_, l)| l.task_id == self.plan.task_id)
            .all(|(i, _)| self.plan.logs.contains(&i));
        let s = &self.summary;
        let amount = self.amount.and_then(|(p, _, si)| {
            let key = match p {
                Property::WetMass => "totalWetMass",
                Property::AppliedRate => "totalApplied",
                _ => "totalPlanted",
            };
            s.total_metric(key).map(|v| v * si)
        });
        let computed = crate::totals::Computed {
            area_m2: s.total_area_m2(),
            distance_m: s.total_distance_m(),
            amount,
            dropped_area_m2: self.dropped.0,
            dropped_amount: self.dropped.1 * self.amount.map_or(1.0, |a| a.2),
            no_position: c.no_position,
            gap_area_m2: self.gap_area,
            whole_task,
            width_from_counters: self
                .width_sources
                .iter()
                .any(|w| w.1 == WidthSource::Counters),
        };
        if let Some((totals, warnings)) = crate::totals::compare(
            self.plan.operation_type,
            &self.plan.units,
            &self.counters,
            &task,
            &computed,
        ) {
            self.summary.set_machine_totals(totals);
            notes.extend(warnings);
        }
        notes
    }

    fn open_next(&mut self) -> Result<bool> {
        while self.log_pos < self.plan.logs.len() {
            let log = &self.td.time_logs[self.plan.logs[self.log_pos]];
            self.log_pos += 1;
            match (
                log.reader(),
                LogState::new(self.td, log, self.plan.operation_type),
            ) {
                (Ok(r), Ok(mut s)) => {
                    if s.width_source == WidthSource::Unknown {
                        if let Some(w) = counter_width(log, &s) {
                            s.static_width = w;
                            s.width_source = WidthSource::Counters;
                        }
                    }
                    self.width_sources
                        .push((log.name.clone(), s.width_source, s.static_width));
                    s.bind(&mut self.builder);
                    self.reader = Some((r, s));
                    return Ok(true);
                }
                (Err(e), _) | (_, Err(Error::Isoxml(e))) => {
                    self.warnings.push(format!("{}: {e}", log.name));
                }
                (_, Err(e)) => self.warnings.push(format!("{}: {e}", log.name)),
            }
        }
        Ok(false)
    }

    /// Fills the batch to its target rows (or the end of the data), settled.
    fn fill(&mut self) -> Result<()> {
        let target = self.opts.batch_rows.max(1);
        // rows are read and settled a window at a time, so that settling finds them in the cache
        // whatever the batch size; settling drops rows: fill again until none is dropped or the data
        // ends
        while !self.done && self.builder.len() < target {
            self.read((self.builder.len() + SETTLE_WINDOW).min(target))?;
            self.settle();
        }
        Ok(())
    }

    /// Appends rows (unsettled) until the batch holds `target` or the data ends.
    fn read(&mut self, target: usize) -> Result<()> {
        while self.builder.len() < target {
            if self.reader.is_none() && !self.open_next()? {
                self.done = true;
                return Ok(());
            }
            let Some((reader, state)) = self.reader.as_mut() else {
                continue;
            };
            let mut finished = false;
            while self.builder.len() < target {
                match reader.next_record() {
                    Ok(Some(view)) => {
                        self.current_offset = view.offset;
                        let drop_jumps = self.rules.is_some();
                        push_record(
                            &view,
                            state,
                            self.opts,
                            &mut self.builder,
                            &mut self.counts,
                            drop_jumps,
                        );
                    }
                    Ok(None) => {
                        finished = true;
                        break;
                    }
                    Err(e) => {
                        self.warnings.push(e.to_string());
                        finished = true;
                        break;
                    }
                }
            }
            if finished {
                let (reader, state) = self.reader.take().expect("reader present");
                self.counters.add_log(&state.counters);
                self.gap_area += state.gap_area;
                self.notes.extend(state.notes());
                for w in reader.warnings() {
                    self.warnings.push(w.to_string());
                }
                let log = &self.td.time_logs[self.plan.logs[self.log_pos - 1]];
                self.bytes_done += log.binary_size.unwrap_or(self.current_offset);
                self.current_offset = 0;
            }
        }
        Ok(())
    }
}

impl Iterator for StandardStream<'_> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.builder.len() == 0 {
            return None;
        }
        if let Err(e) = self.fill() {
            self.done = true;
            return Some(Err(e));
        }
        if self.builder.len() == 0 {
            return None;
        }
        let plan = self.plan;
        let schema = self.schema.clone();
        Some(self.builder.finish(plan, &schema))
    }
}

/// The sequential part of the conversion, one record at a time: carried-forward values, sections,
/// clocks, distance, heading and jumps, and the properties each record derives from them. The row is
/// appended to the batch unsettled; [`StandardStream::settle`] does the rest column by column.
#[inline]
fn push_record(
    view: &RecordView<'_>,
    st: &mut LogState,
    opts: &ConvertOptions,
    b: &mut Builder,
    counts: &mut Counts,
    drop_jumps: bool,
) {
    counts.raw += 1;
    let (mut sections_dirty, mut counters_dirty) = (false, false);
    let (current, kind) = (&mut st.current, &st.kind);
    let (counters, counter_of) = (&mut st.counters, &st.counter_of);
    view.for_each_value(|index, value| {
        let i = usize::from(index);
        if let Some(slot) = current.get_mut(i) {
            *slot = Some(value);
            let k = kind.get(i).copied().unwrap_or(0);
            if k != 0 {
                sections_dirty |= k & KIND_SECTION != 0;
                if k & KIND_COUNTER != 0 {
                    let c = counter_of.get(i).copied().unwrap_or(u16::MAX);
                    if let Some(t) = counters.get_mut(usize::from(c)) {
                        t.value(value);
                        counters_dirty = true;
                    }
                }
            }
        }
    });
    if sections_dirty {
        st.update_sections();
    }
    // a record without a position still moves the carried values, section states and counters above;
    // no point is written for it
    let plausible = view.has_plausible_position();
    if counters_dirty {
        for t in &mut st.counters {
            t.settle(!plausible);
        }
    }
    if !plausible {
        if view.has_no_fix() {
            counts.no_position += 1;
            st.after_gap = st.prev.is_some();
        } else {
            counts.invalid_position += 1;
        }
        return;
    }
    let pos = view.position;
    let lat = f64::from(pos.north.unwrap_or(0)) * 1e-7;
    let lon = f64::from(pos.east.unwrap_or(0)) * 1e-7;
    let local = view.time.map(|t| t.epoch_millis());
    // UTC offset, decided once per log from the first record with both clocks
    if st.utc_offset.is_none() {
        if let (Some(l), Some(d), Some(ms)) = (local, pos.gps_utc_date, pos.gps_utc_time) {
            let gps = furrow_isoxml::LoggedDateTime {
                days: d,
                millis: ms,
            }
            .epoch_millis();
            let diff = l - gps;
            let q = 15 * 60 * 1000;
            let rounded = (diff as f64 / q as f64).round() as i64 * q;
            st.utc_offset = Some(
                ((diff - rounded).abs() <= 60_000 && rounded.abs() <= 14 * 3_600_000)
                    .then_some(rounded),
            );
        } else if local.is_some() {
            st.utc_offset = Some(None);
        }
    }
    let utc = match (local, st.utc_offset) {
        (Some(l), Some(Some(off))) => Some(l - off),
        _ => None,
    };
    // distance, time step, jump check
    let (mut distance, mut dt) = (0.0, None);
    let mut jump = false;
    let mut step_heading = None;
    if let Some(p) = st.prev {
        let (d, d2, h) = st.step.step(p.lon, p.lat, lon, lat);
        distance = d;
        step_heading = h;
        dt = match (p.t, local) {
            (Some(a), Some(b)) => Some((b - a) as f64 / 1000.0),
            _ => None,
        };
        // faster than the limit over the step, or (no time step) farther than the jump limit; on the
        // squares, so that the test need not wait for the square root and a division
        let limit = match dt {
            Some(s) if s > 0.0 => opts.positions.max_speed * s,
            _ => opts.positions.max_jump,
        };
        jump = d2 > limit * limit;
    }
    if jump {
        st.jump_run += 1;
        if st.jump_run >= 3 {
            // the machine really is elsewhere (or the earlier fix was the bad one): start afresh
            st.jump_run = 0;
            st.prev = None;
            jump = false;
            distance = 0.0;
            dt = None;
        }
    } else {
        st.jump_run = 0;
    }
    if !jump {
        if distance > 0.05 {
            if let Some(h) = step_heading {
                st.heading = Some(h);
            }
        }
        st.prev = Some(Prev { lon, lat, t: local });
    }
    let dt = dt.filter(|s| *s >= 0.0);

    let raw = |slot: Option<usize>| slot.and_then(|i| st.current.get(i).copied().flatten());
    // work state: 0 off, 1 on, 2 (error) and 3 (not available) unknown, as absent
    let state = |slot: Option<usize>| match raw(slot) {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    };
    let master = state(st.master);
    let fuel_total = raw(st.total_fuel).map(|r| f64::from(r) / 1000.0);
    let fuel_rate = raw(st.fuel_rate).map(|r| f64::from(r) * 1e-6);
    // the logged width: its parts add up (each on or off by its own state when it logs one); NaN when
    // nothing gives a width (a zero that means "unknown" is never a measurement)
    let (mut logged, mut parts_on, mut part_states) = (0.0, 0.0, false);
    for &(w, part_state) in &st.parts {
        if let Some(r) = raw(Some(w)).filter(|r| *r > 0) {
            let w = f64::from(r) / 1000.0;
            logged += w;
            match state(part_state) {
                Some(false) => part_states = true,
                Some(true) => {
                    part_states = true;
                    parts_on += w;
                }
                None => parts_on += w,
            }
        }
    }
    let total_width = if logged > 0.0 {
        logged
    } else {
        st.static_width
    };
    let s = st.sections;
    // sectionId: the log's only section, else the only section on (docs/MACHINE-DATA.md)
    let section_id = match st.section_number.as_slice() {
        [one] => Some(*one),
        many if s.on_count == 1 => many.get(s.last_on).copied(),
        _ => None,
    };
    let (effective, recording) = if st.has_sections && s.known > 0 {
        let any_on = s.on_count > 0;
        let eff = if s.widths_known {
            s.on_width
        } else {
            total_width * s.on_count as f64 / s.known as f64
        };
        let on = master != Some(false) && any_on;
        (if on { eff } else { 0.0 }, on)
    } else if part_states && logged > 0.0 {
        let on = master != Some(false) && parts_on > 0.0;
        (if on { parts_on } else { 0.0 }, on)
    } else {
        let on = master != Some(false);
        (if on { total_width } else { 0.0 }, on)
    };
    let speed = st
        .speed
        .and_then(|(i, f, max)| {
            raw(Some(i))
                .filter(|r| *r <= max)
                .map(|r| (f64::from(r) * f).abs())
        })
        .or_else(|| dt.filter(|s| *s > 0.0).map(|s| distance / s));
    let elevation = pos
        .up
        .map(|v| f64::from(v) / 1000.0)
        .filter(|m| (-500.0..=9000.0).contains(m));
    // fuel: difference of the cumulative total, else rate × time
    let fuel = match (fuel_total, st.prev_fuel_total) {
        (Some(t), Some(p)) if t >= p && t - p < 1000.0 => Some(t - p),
        (Some(_), None) => Some(0.0),
        _ => fuel_rate.zip(dt).map(|(r, s)| r * s),
    };
    if fuel_total.is_some() {
        st.prev_fuel_total = fuel_total;
    }
    if std::mem::take(&mut st.after_gap) && !jump {
        let a = effective * distance;
        if a.is_finite() {
            st.gap_area += a;
        }
    }
    if jump && drop_jumps {
        // cleaned views drop a jump whatever its values (`settle` counts the others)
        counts.jumps += 1;
        return;
    }

    // write: the row goes in unsettled (cleanup, counts and summary follow in `settle`)
    const NONE: f64 = f64::NAN;
    b.x.push(lon);
    b.y.push(lat);
    b.ts.push(utc.unwrap_or(NO_TIME));
    b.local.push(local.unwrap_or(NO_TIME));
    b.on.push(recording);
    b.section.push(section_id.unwrap_or(0));
    b.section_valid.push(section_id.is_some());
    b.effective.push(effective);
    b.jump.push(jump);
    let d = b.derived;
    let nums = &mut b.nums;
    nums[d.distance].1.push(distance);
    nums[d.heading].1.push(st.heading.unwrap_or(NONE));
    nums[d.speed].1.push(speed.unwrap_or(NONE));
    nums[d.elevation].1.push(elevation.unwrap_or(NONE));
    nums[d.width]
        .1
        .push(if total_width > 0.0 { total_width } else { NONE });
    nums[d.area].1.push(effective * distance);
    nums[d.fuel].1.push(fuel.unwrap_or(NONE));
    if let Some(k) = d.sampling {
        nums[k].1.push(dt.unwrap_or(NONE));
    }
    for &(i, k, f) in &st.writes {
        let v = raw(Some(i)).map_or(NONE, |r| f64::from(r) * f);
        nums[k].1.push(v);
    }
    for &(i, k, f) in &st.extra_writes {
        let v = raw(Some(i)).map_or(NONE, |r| f.map_or(f64::from(r), |f| f64::from(r) * f));
        b.extra[k].push(v);
    }
}

/// The harvest columns one derives from the others.
#[derive(Debug, Clone, Copy)]
struct HarvestColumns {
    wet_mass_per_area: usize,
    wet_mass: usize,
    wet_volume_per_area: usize,
    wet_volume: usize,
    dry_mass_per_area: usize,
    dry_mass: usize,
    dry_volume_per_area: usize,
    dry_volume: usize,
    moisture: usize,
    crop_flow: usize,
    area: usize,
    sampling: usize,
}

/// What deriving the harvest values of a window found, for the counts and the file's notes.
#[derive(Debug, Clone, Copy, Default)]
struct HarvestNotes {
    /// Per-area values left unknown: derived from crop flow over too small an area.
    per_area_unknown: u64,
    /// Rows whose dry values equal the wet ones: no moisture logged / the crop's standard moisture unknown.
    dry_no_moisture: u64,
    dry_no_crop: u64,
    /// Rows with a wet mass.
    with_mass: u64,
}

/// Fills wet/dry masses and volumes of harvest rows `from..` from what was logged (METRIC units, NaN for
/// no value): wet mass from the per-area yield × area when the area is known, else from crop flow × time
/// step (mass from crop flow when the area is unknown); per-area values from mass ÷ area where the area
/// gives a plausible one (at most `max_yield` t/ha; else unknown); volumes from the crop's density; dry
/// mass by the shrink formula with the crop's standard moisture, else equal to the wet one (Leaf's rule),
/// from whichever source the wet mass came. A logged yield beyond `max_yield` flags its row with 2 in
/// `flags` (the window's rows).
fn derive_harvest(
    nums: &mut [(usize, Vec<f64>)],
    c: &HarvestColumns,
    from: usize,
    consts: Option<(f64, f64)>,
    max_yield: f64,
    flags: &mut [u8],
) -> HarvestNotes {
    let mut take = |k: usize| std::mem::take(&mut nums[k].1);
    let (area, dt, flow, mut moisture) = (
        take(c.area),
        take(c.sampling),
        take(c.crop_flow),
        take(c.moisture),
    );
    let (mut wmpa, mut wet_mass) = (take(c.wet_mass_per_area), take(c.wet_mass));
    let (mut wvpa, mut wet_volume) = (take(c.wet_volume_per_area), take(c.wet_volume));
    let (mut dmpa, mut dry_mass) = (take(c.dry_mass_per_area), take(c.dry_mass));
    let (mut dvpa, mut dry_volume) = (take(c.dry_volume_per_area), take(c.dry_volume));
    let n = area.len();
    let (std_moisture, density) = match consts {
        Some((m, d)) => (Some(m), Some(d)),
        None => (None, None),
    };
    let mut notes = HarvestNotes::default();
    // the window's rows of each column, all `len` long, so indexing them needs no bounds check
    {
        let len = n.saturating_sub(from).min(flags.len());
        let (area, dt, flow, moisture) = (
            &area[from..][..len],
            &dt[from..][..len],
            &flow[from..][..len],
            &mut moisture[from..][..len],
        );
        let (wmpa, wet_mass) = (&mut wmpa[from..][..len], &mut wet_mass[from..][..len]);
        let (wvpa, wet_volume) = (&mut wvpa[from..][..len], &mut wet_volume[from..][..len]);
        let (dmpa, dry_mass) = (&mut dmpa[from..][..len], &mut dry_mass[from..][..len]);
        let (dvpa, dry_volume) = (&mut dvpa[from..][..len], &mut dry_volume[from..][..len]);
        let flags = &mut flags[..len];
        for i in 0..len {
            // hectares: NaN when the area is unknown (no width), 0 when nothing was covered
            let ha = area[i] / 10_000.0;
            let logged = wmpa[i];
            if logged > max_yield {
                flags[i] = 2;
            }
            let flow_mass = flow[i] * dt[i] / 1000.0;
            let wm = if !logged.is_nan() && !ha.is_nan() {
                logged * ha
            } else if !flow_mass.is_nan() {
                flow_mass
            } else {
                logged * ha
            };
            let mut y = logged;
            if y.is_nan() && ha > 0.0 && !wm.is_nan() {
                y = wm / ha;
                if y > max_yield {
                    // too little area under this mass to give a per-area figure
                    y = f64::NAN;
                    notes.per_area_unknown += 1;
                }
            }
            wmpa[i] = y;
            wet_mass[i] = wm;
            notes.with_mass += u64::from(!wm.is_nan());
            let wv_pa = wvpa[i];
            let (wv, wvpa_i) = match density {
                _ if !wv_pa.is_nan() => (wv_pa * ha, wv_pa),
                Some(density) => (wm * 1000.0 / density, y * 1000.0 / density),
                None => (f64::NAN, f64::NAN),
            };
            wvpa[i] = wvpa_i;
            wet_volume[i] = wv;
            // a crop is never at 0 % moisture: a logged 0 is a sensor without a reading (no value)
            if moisture[i] == 0.0 {
                moisture[i] = f64::NAN;
            }
            let m = moisture[i];
            let shrink = match std_moisture {
                Some(std_m) if m < 100.0 => (100.0 - m) / (100.0 - std_m),
                Some(_) => {
                    notes.dry_no_moisture += u64::from(!wm.is_nan());
                    1.0
                }
                None => {
                    notes.dry_no_crop += u64::from(!wm.is_nan());
                    1.0
                }
            };
            let logged_dry = dmpa[i];
            let (dm, d) = if !logged_dry.is_nan() && !ha.is_nan() {
                (logged_dry * ha, logged_dry)
            } else if !logged_dry.is_nan() {
                (wm * shrink, logged_dry)
            } else if !logged.is_nan() && !ha.is_nan() {
                // the wet mass is the logged yield × area: the dry one the shrunk yield × area
                let d = y * shrink;
                (d * ha, d)
            } else {
                (wm * shrink, y * shrink)
            };
            dmpa[i] = d;
            dry_mass[i] = dm;
            let (dv, dv_pa) = match density {
                Some(density) => (dm * 1000.0 / density, d * 1000.0 / density),
                None => (wv * shrink, wvpa_i * shrink),
            };
            dvpa[i] = dv_pa;
            dry_volume[i] = dv;
        }
    }
    for (k, v) in [
        (c.area, area),
        (c.sampling, dt),
        (c.crop_flow, flow),
        (c.moisture, moisture),
        (c.wet_mass_per_area, wmpa),
        (c.wet_mass, wet_mass),
        (c.wet_volume_per_area, wvpa),
        (c.wet_volume, wet_volume),
        (c.dry_mass_per_area, dmpa),
        (c.dry_mass, dry_mass),
        (c.dry_volume_per_area, dvpa),
        (c.dry_volume, dry_volume),
    ] {
        nums[k].1 = v;
    }
    notes
}

/// The runs of set flags in `keep`, as ranges offset by `from`.
fn kept_runs(keep: &[bool], from: usize) -> Vec<std::ops::Range<usize>> {
    let mut runs: Vec<std::ops::Range<usize>> = Vec::new();
    for (j, &k) in keep.iter().enumerate() {
        if k {
            match runs.last_mut() {
                Some(r) if r.end == from + j => r.end += 1,
                _ => runs.push(from + j..from + j + 1),
            }
        }
    }
    runs
}

/// Keeps the values of `runs` (ascending ranges at or after `from`), moved down to `from` in order;
/// drops the rest.
fn compact<T: Copy>(v: &mut Vec<T>, from: usize, runs: &[std::ops::Range<usize>]) {
    let mut w = from;
    for r in runs {
        if r.end > v.len() {
            break;
        }
        if r.start != w {
            v.copy_within(r.clone(), w);
        }
        w += r.len();
    }
    v.truncate(w);
}

/// A converted standard file held in memory.
#[derive(Debug, Clone)]
pub struct StandardFile {
    /// What was converted.
    pub plan: FilePlan,
    /// The points.
    pub batches: Vec<RecordBatch>,
    /// Counts, summary, units and warnings.
    pub outcome: FileOutcome,
}

impl StandardFile {
    /// Total rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Converts every planned file of a data set into memory (see [`StandardStream`] to stream).
pub fn convert_task_data(td: &TaskData, opts: &ConvertOptions) -> Result<Vec<StandardFile>> {
    plan(td, opts)
        .into_iter()
        .map(|p| {
            let mut stream = StandardStream::new(td, &p, opts)?;
            let batches = stream.by_ref().collect::<Result<Vec<_>>>()?;
            let outcome = stream.finish();
            Ok(StandardFile {
                plan: p.clone(),
                batches,
                outcome,
            })
        })
        .collect()
}

#[cfg(test)]
mod extra_map_tests {
    use arrow_array::{Array, Float64Array, StringArray};

    use super::{built_extra_map, extra_map};

    #[test]
    fn empty_maps_are_the_built_ones() {
        let keys = vec!["E001/DET1".to_string()];
        for (keys, columns) in [
            (vec![], vec![]),
            (keys.clone(), vec![vec![f64::NAN; 7]]),
            // values only past the batch's rows do not count
            (
                keys,
                vec![vec![f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN, 1.0]],
            ),
        ] {
            let fast = extra_map(&keys, &columns, 5);
            assert_eq!(fast.len(), 5);
            assert_eq!(
                fast.to_data(),
                built_extra_map(&keys, &columns, 5).to_data()
            );
        }
        // with values: the keys that have one, row by row
        let keys = vec!["a".to_string(), "b".to_string()];
        let columns = vec![vec![1.0, f64::NAN, 3.0], vec![f64::NAN, f64::NAN, 6.0]];
        let m = extra_map(&keys, &columns, 3);
        assert_eq!(m.value_offsets(), &[0, 1, 1, 3]);
        let k = m
            .keys()
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("keys");
        let v = m
            .values()
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("values");
        assert_eq!(k.iter().flatten().collect::<Vec<_>>(), ["a", "a", "b"]);
        assert_eq!(v.values().to_vec(), [1.0, 3.0, 6.0]);
    }
}

#[cfg(test)]
mod compact_tests {
    use super::{compact, kept_runs};

    #[test]
    fn compaction_keeps_the_flagged_rows_in_order() {
        // every keep pattern of 6 rows after 3 settled ones
        let mut patterns = 0;
        for bits in 0u32..64 {
            let keep: Vec<bool> = (0..6).map(|i| bits >> i & 1 == 1).collect();
            let mut v: Vec<u32> = (0..9).collect();
            compact(&mut v, 3, &kept_runs(&keep, 3));
            let expected: Vec<u32> = (0..3)
                .chain((0..6).filter(|i| keep[*i as usize]).map(|i| i + 3))
                .collect();
            assert_eq!(v, expected, "pattern {bits:06b}");
            patterns += 1;
        }
        assert_eq!(patterns, 64);
        assert_eq!(kept_runs(&[true, true, false, true], 10), [10..12, 13..14]);
    }
}

#[cfg(test)]
mod nan_null_tests {
    use super::{
        NO_TIME, OutlierStats, const_list, nan_count, nan_nulls, no_time_count, number_array,
        on_off, repeated_str, time_nulls,
    };
    use arrow_array::Array;

    /// The running mean and deviation agree with a two-pass computation, for values far from zero with
    /// a small spread (where plain sums of squares lose every digit), folded in blocks or not, and with
    /// a first value far from all the others; the outlier count and the filtered view's test agree.
    #[test]
    fn outlier_statistics_match_two_passes() {
        // the view of `values` (folded every `block` values) against a two-pass mean and 3σ limit
        let check = |values: &[f64], block: usize, mean_tolerance: f64| {
            let mut s = OutlierStats::default();
            for (i, v) in values.iter().enumerate() {
                s.add(*v);
                if i % block == block - 1 {
                    s.fold_block();
                }
            }
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
            let view = s.view(3.0);
            assert!(
                (view.mean - mean).abs() < mean_tolerance,
                "{} {mean}",
                view.mean
            );
            let limit = 3.0 * var.sqrt();
            assert!(
                (view.limit - limit).abs() < 1e-9 * limit,
                "{} {limit}",
                view.limit
            );
            // folding what is left changes nothing
            s.fold_block();
            assert_eq!(s.view(3.0).limit.to_bits(), view.limit.to_bits());
            (s, view)
        };
        let spread = |i: i32| f64::from(i % 97) * 0.25 + if i == 5_000 { 40.0 } else { 0.0 };
        for base in [1.0e3, 1.0e9] {
            let values: Vec<f64> = (0..10_000).map(|i| base + spread(i)).collect();
            let (s, view) = check(&values, usize::MAX, 1e-9 * base);
            if base == 1.0e3 {
                // the one value 40 above the base is the only one beyond three deviations (the
                // histogram's buckets are 3e-5 wide relative: finer than the spread here)
                assert_eq!(s.count_outliers(3.0), 1);
                assert!(view.is_outlier(base + 40.0) && !view.is_outlier(base + 24.0));
            }
        }
        // in blocks (as settling folds them), and with a first value far from all the others: the same
        let mut values: Vec<f64> = (0..10_000).map(|i| 1.0 + spread(i) * 1e-3).collect();
        values[0] = 2.0e3;
        let (s, _) = check(&values, 2_048, 1e-12 * 2.0e3);
        assert_eq!(s.count_outliers(3.0), 1);
        // fewer than two values: no limit
        let mut one = OutlierStats::default();
        one.add(7.0);
        assert_eq!(one.view(3.0).limit, f64::INFINITY);
        assert_eq!(one.view(3.0).mean, 7.0);
        assert_eq!(one.count_outliers(3.0), 0);
    }

    #[test]
    fn missing_times_are_null_and_zeroed() {
        let mut all = vec![0, -5, 1_700_000_000_000];
        assert!(time_nulls(&mut all, 0).is_none());
        assert_eq!(all, [0, -5, 1_700_000_000_000]);
        let mut none = vec![NO_TIME; 65];
        let n = time_nulls(&mut none, 65).expect("all null");
        assert_eq!((n.len(), n.null_count()), (65, 65));
        assert!(none.iter().all(|t| *t == 0));
        let mut mixed: Vec<i64> = (0..130)
            .map(|i| if i % 5 == 1 { NO_TIME } else { i * 100 })
            .collect();
        let missing = no_time_count(Some(&mixed));
        assert_eq!(missing, 26);
        let n = time_nulls(&mut mixed, missing).expect("some null");
        for (i, t) in mixed.iter().enumerate() {
            assert_eq!(n.is_null(i), i % 5 == 1, "row {i}");
            assert_eq!(*t, if i % 5 == 1 { 0 } else { i as i64 * 100 });
        }
    }

    #[test]
    fn nan_is_null_and_zeroed_in_all_three_shapes() {
        let numbers = |v: Vec<f64>, factor: f64| {
            let nans = nan_count(&v);
            number_array(v, factor, nans)
        };
        // every value present: no bitmap, values untouched (and scaled)
        let all = numbers(vec![1.0, -0.0, f64::INFINITY], 1.0);
        assert_eq!((all.len(), all.null_count()), (3, 0));
        assert_eq!(all.values()[..], [1.0, -0.0, f64::INFINITY]);
        assert_eq!(numbers(vec![1.5, -2.0], 2.0).values()[..], [3.0, -4.0]);
        // none present: all null, slots zeroed
        for none in [numbers(vec![f64::NAN; 70], 2.0), {
            let mut v = vec![f64::NAN; 70];
            let n = nan_nulls(&mut v, 70).expect("all null");
            arrow_array::Float64Array::new(v.into(), Some(n))
        }] {
            assert_eq!((none.len(), none.null_count()), (70, 70));
            assert!(none.values().iter().all(|v| *v == 0.0));
        }
        assert_eq!(numbers(Vec::new(), 1.0).len(), 0);
        // mixed, across a 64-value word: exactly the NaN slots are null, and zeroed
        let mixed: Vec<f64> = (0..130)
            .map(|i| if i % 7 == 3 { f64::NAN } else { i as f64 })
            .collect();
        let a = numbers(mixed, 0.5);
        assert_eq!((a.len(), a.null_count()), (130, 19));
        for (i, v) in a.values().iter().enumerate() {
            assert_eq!(a.is_null(i), i % 7 == 3, "row {i}");
            assert_eq!(*v, if i % 7 == 3 { 0.0 } else { i as f64 * 0.5 });
        }
    }

    #[test]
    fn constant_columns_equal_the_built_ones() {
        use arrow_array::StringArray;
        use arrow_array::builder::{ListBuilder, StringBuilder};
        for text in ["harvested", "", "Mähdrescher"] {
            for n in [0, 1, 5] {
                let built = StringArray::from_iter_values(std::iter::repeat_n(text, n));
                assert_eq!(repeated_str(text, n), built, "{text:?} × {n}");
            }
        }
        for values in [&["Combine"][..], &["Combine", "Header 9 m"], &[]] {
            for n in [0, 1, 4] {
                let mut b = ListBuilder::new(StringBuilder::new());
                for _ in 0..n {
                    for v in values {
                        b.values().append_value(v);
                    }
                    b.append(!values.is_empty());
                }
                assert_eq!(const_list(values, n), b.finish(), "{values:?} × {n}");
            }
        }
    }

    #[test]
    fn recording_status_texts_in_all_shapes() {
        let texts = |on: &[bool]| -> Vec<String> {
            let mut v = on.to_vec();
            let a = on_off(&mut v);
            assert!(v.is_empty());
            assert_eq!(a.null_count(), 0);
            a.iter()
                .map(|s| s.unwrap_or_default().to_string())
                .collect()
        };
        assert_eq!(texts(&[true; 3]), ["On", "On", "On"]);
        assert_eq!(texts(&[false; 2]), ["Off", "Off"]);
        assert_eq!(texts(&[true, false, true]), ["On", "Off", "On"]);
        assert_eq!(texts(&[false, true]), ["Off", "On"]);
        assert!(texts(&[]).is_empty());
    }
}
