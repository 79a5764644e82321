//! The machine's own counters (task totals and lifetime counters, logged in the time logs or written in the
//! task's `TIM` elements) and how the computed totals of a file compare with them (docs/MACHINE-DATA.md,
//! "Machine counters").

use std::collections::BTreeMap;

use furrow_isoxml::{Device, DeviceElement, TaskData};
use serde_json::{Map, Value, json};

use crate::schema::{OperationType, RateKind, Units};
use crate::units::Quantity;

/// What a counter counts (SI: m², m, kg, L, seeds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Counted {
    Area,
    Distance,
    YieldMass,
    YieldVolume,
    AppliedMass,
    AppliedVolume,
    AppliedCount,
}

/// A counter DDI: what it counts, whether it is a lifetime counter, and raw → SI.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CounterDdi {
    pub(crate) ddi: u16,
    pub(crate) counted: Counted,
    pub(crate) lifetime: bool,
    pub(crate) si: f64,
}

const fn c(ddi: u16, counted: Counted, lifetime: bool, si: f64) -> CounterDdi {
    CounterDdi {
        ddi,
        counted,
        lifetime,
        si,
    }
}

/// The counters furrow compares with (ISO 11783-11 units: m², mm or m, kg, L, count).
pub(crate) const COUNTER_DDIS: &[CounterDdi] = &[
    c(0x0074, Counted::Area, false, 1.0),
    c(0x010F, Counted::Area, true, 1.0),
    c(0x0075, Counted::Distance, false, 1e-3),
    c(0x0110, Counted::Distance, true, 1.0),
    c(0x005A, Counted::YieldMass, false, 1.0),
    c(0x010D, Counted::YieldMass, true, 1.0),
    c(0x0059, Counted::YieldVolume, false, 1.0),
    c(0x010C, Counted::YieldVolume, true, 1.0),
    c(0x0051, Counted::AppliedMass, false, 1.0),
    c(0x010A, Counted::AppliedMass, true, 1.0),
    c(0x0050, Counted::AppliedVolume, false, 1.0),
    c(0x0052, Counted::AppliedCount, false, 1.0),
    c(0x010B, Counted::AppliedCount, true, 1.0),
];

/// The counter definition of a DDI, if it is one furrow compares with.
pub(crate) fn counter_ddi(ddi: u16) -> Option<&'static CounterDdi> {
    COUNTER_DDIS.iter().find(|c| c.ddi == ddi)
}

/// One counter DLV of a time log while its records stream by: the sum of its increases (a decrease is a
/// reset: the next value counts from there), and how much of it arrived in records without a position.
#[derive(Debug, Clone)]
pub(crate) struct CounterTrack {
    pub(crate) def: &'static CounterDdi,
    /// Whether no ancestor of its element logs the same DDI (the parent's value wins; siblings add up).
    pub(crate) topmost: bool,
    last: Option<i32>,
    pending: f64,
    /// Increases, SI.
    pub(crate) increments: f64,
    /// Increases that arrived in records without a position, SI.
    pub(crate) no_position: f64,
    pub(crate) resets: u32,
}

impl CounterTrack {
    pub(crate) fn new(def: &'static CounterDdi, topmost: bool) -> Self {
        CounterTrack {
            def,
            topmost,
            last: None,
            pending: 0.0,
            increments: 0.0,
            no_position: 0.0,
            resets: 0,
        }
    }

    /// A logged value.
    #[inline]
    pub(crate) fn value(&mut self, v: i32) {
        if let Some(p) = self.last {
            if v > p {
                self.pending += f64::from(v) - f64::from(p);
            } else if v < p {
                self.resets += 1;
            }
        }
        self.last = Some(v);
    }

    /// Books the increase of the current record, which has a position or not.
    #[inline]
    pub(crate) fn settle(&mut self, no_position: bool) {
        if self.pending != 0.0 {
            let inc = self.pending * self.def.si;
            self.increments += inc;
            if no_position {
                self.no_position += inc;
            }
            self.pending = 0.0;
        }
    }
}

/// Whether each of `elements` (device, element) has no ancestor among the others in its device tree.
pub(crate) fn topmost(elements: &[(&Device, &DeviceElement)]) -> Vec<bool> {
    elements
        .iter()
        .map(|(dev, e)| {
            !ancestors(dev, e).any(|a| {
                elements
                    .iter()
                    .any(|(d2, e2)| d2.id == dev.id && e2.object_id == a.object_id)
            })
        })
        .collect()
}

/// The ancestors of `e` in its device's element tree, nearest first.
pub(crate) fn ancestors<'a>(
    dev: &'a Device,
    e: &'a DeviceElement,
) -> impl Iterator<Item = &'a DeviceElement> {
    let mut at = e;
    let mut guard = 0;
    std::iter::from_fn(move || {
        guard += 1;
        if guard > 64 || at.parent_object_id == 0 || at.parent_object_id == at.object_id {
            return None;
        }
        let p = dev.element_by_object_id(at.parent_object_id)?;
        at = p;
        Some(p)
    })
}

/// A file's machine counters: per DDI, the increases of its logs' topmost counters.
#[derive(Debug, Clone, Default)]
pub(crate) struct MachineCounters {
    by_ddi: BTreeMap<u16, CounterSum>,
}

#[derive(Debug, Clone, Copy, Default)]
struct CounterSum {
    increments: f64,
    no_position: f64,
    resets: u32,
}

impl MachineCounters {
    /// Adds the counters of one finished log.
    pub(crate) fn add_log(&mut self, tracks: &[CounterTrack]) {
        for t in tracks.iter().filter(|t| t.topmost) {
            let s = self.by_ddi.entry(t.def.ddi).or_default();
            s.increments += t.increments;
            s.no_position += t.no_position;
            s.resets += t.resets;
        }
    }

    /// The time logs' figure for `counted`: the task counter when logged, else the lifetime counter.
    fn of(&self, counted: Counted) -> Option<(&'static CounterDdi, CounterSum)> {
        let mut best: Option<(&'static CounterDdi, CounterSum)> = None;
        for (ddi, s) in &self.by_ddi {
            let Some(def) = counter_ddi(*ddi) else {
                continue;
            };
            if def.counted == counted && best.is_none_or(|(b, _)| b.lifetime && !def.lifetime) {
                best = Some((def, *s));
            }
        }
        best
    }
}

/// The task totals written in the task's `TIM` elements (task counters only, SI): per DDI, each element's
/// largest value (totals grow), summed over the topmost elements.
pub(crate) fn task_totals(td: &TaskData, task_id: &str) -> BTreeMap<Counted, (u16, f64)> {
    let Some(task) = td.task(task_id) else {
        return BTreeMap::new();
    };
    // (ddi, element id) → largest value
    let mut values: BTreeMap<(u16, String), i64> = BTreeMap::new();
    for dlv in task.times.iter().flat_map(|t| &t.data_log_values) {
        let (Some(v), Some(det)) = (dlv.value, dlv.device_element_id.as_ref()) else {
            continue;
        };
        if dlv.pgn.is_some() || counter_ddi(dlv.ddi).is_none_or(|c| c.lifetime) {
            continue;
        }
        let e = values.entry((dlv.ddi, det.clone())).or_insert(v);
        *e = (*e).max(v);
    }
    let mut out = BTreeMap::new();
    let ddis: Vec<u16> = values.keys().map(|(d, _)| *d).collect();
    for ddi in ddis {
        let Some(def) = counter_ddi(ddi) else {
            continue;
        };
        if out.contains_key(&def.counted) {
            continue;
        }
        let of_ddi: Vec<(&String, i64)> = values
            .iter()
            .filter(|((d, _), _)| *d == ddi)
            .map(|((_, e), v)| (e, *v))
            .collect();
        let found: Vec<(&Device, &DeviceElement)> = of_ddi
            .iter()
            .filter_map(|(e, _)| td.device_element(e))
            .collect();
        let top = topmost(&found);
        let mut sum = 0.0;
        let mut k = 0;
        for (e, v) in &of_ddi {
            match td.device_element(e) {
                Some(_) => {
                    if top.get(k).copied().unwrap_or(true) {
                        sum += *v as f64 * def.si;
                    }
                    k += 1;
                }
                // an element the device descriptions lack: counted on its own
                None => sum += *v as f64 * def.si,
            }
        }
        out.insert(def.counted, (ddi, sum));
    }
    out
}

/// What the conversion computed, METRIC/SI, with what it knows of the points it did not keep.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Computed {
    /// Σ point area of the standard view, m²; `None` when no point had a known area.
    pub(crate) area_m2: Option<f64>,
    /// Σ distance of the standard view, m.
    pub(crate) distance_m: f64,
    /// The amount compared with the machine's (kg, L or seeds, by the operation), when computed.
    pub(crate) amount: Option<f64>,
    /// Area and amount of points dropped by the cleanup rules and the plausibility checks.
    pub(crate) dropped_area_m2: f64,
    pub(crate) dropped_amount: f64,
    /// Records without a position (no point written for them).
    pub(crate) no_position: u64,
    /// Area of the points whose step spans records without a position, m² (their swath is estimated
    /// from the positions around the gap).
    pub(crate) gap_area_m2: f64,
    /// Whether the task's time logs are all in this file (task totals then cover the file).
    pub(crate) whole_task: bool,
    /// The working width came from the machine's counters (so area agrees with them by construction).
    pub(crate) width_from_counters: bool,
}

/// The counter compared with a file's amount, and the summary total it is compared with.
fn amount_counted(op: OperationType, units: &Units) -> Option<(Counted, &'static str)> {
    match op {
        OperationType::Harvested => Some((Counted::YieldMass, "totalWetMass")),
        OperationType::Applied => Some(match units.applied_rate {
            RateKind::Mass => (Counted::AppliedMass, "totalApplied"),
            RateKind::Volume => (Counted::AppliedVolume, "totalApplied"),
        }),
        OperationType::Planted => Some((Counted::AppliedCount, "totalPlanted")),
        _ => None,
    }
}

/// SI → the file's unit of a summary total.
fn out_factor(counted: Counted, units: &Units) -> (f64, Option<&'static str>) {
    let s = units.system;
    let q = |q: Quantity, si: f64| (si * q.factor(s), q.unit(s));
    match counted {
        Counted::Area => q(Quantity::TotalArea, 1e-4),
        Counted::Distance => q(Quantity::Length, 1.0),
        Counted::YieldMass => q(Quantity::Mass, 1e-3),
        Counted::YieldVolume => q(Quantity::Volume, 1e-3),
        Counted::AppliedMass => q(Quantity::AppliedMass, 1.0),
        Counted::AppliedVolume => q(Quantity::LiquidVolume, 1.0),
        Counted::AppliedCount => (1.0, Some("seeds")),
    }
}

/// How far computed and machine may differ before a reason is needed.
pub(crate) const AGREEMENT: f64 = 0.10;

/// The `machineTotals` object of a summary and the warnings that explain a disagreement; `None` when the
/// logs and the task carry no counter of the file's area or amount.
pub(crate) fn compare(
    op: OperationType,
    units: &Units,
    counters: &MachineCounters,
    task: &BTreeMap<Counted, (u16, f64)>,
    computed: &Computed,
) -> Option<(Value, Vec<String>)> {
    let mut obj = Map::new();
    let mut warnings = Vec::new();
    let amount = amount_counted(op, units);
    let mut rows: Vec<(Counted, &'static str, Option<f64>, f64)> = vec![
        (
            Counted::Area,
            "totalArea",
            computed.area_m2,
            computed.dropped_area_m2,
        ),
        (
            Counted::Distance,
            "totalDistance",
            Some(computed.distance_m),
            0.0,
        ),
    ];
    if let Some((counted, key)) = amount {
        rows.push((counted, key, computed.amount, computed.dropped_amount));
    }
    let mut any = false;
    for (counted, key, value, dropped) in rows {
        // the time logs' counters cover the same records; the task totals cover the whole task
        let (source, ddi, machine, no_position, resets) = match counters.of(counted) {
            Some((def, s)) => (
                if def.lifetime {
                    "timeLogLifetimeCounter"
                } else {
                    "timeLogCounter"
                },
                def.ddi,
                s.increments,
                s.no_position,
                s.resets,
            ),
            None => match task.get(&counted) {
                Some(&(ddi, v)) => ("taskTotals", ddi, v, 0.0, 0),
                None => continue,
            },
        };
        any |= counted != Counted::Distance;
        let (f, unit) = out_factor(counted, units);
        let ratio = match value {
            Some(v) if machine > 0.0 => Some(v / machine),
            _ => None,
        };
        obj.insert(
            key.into(),
            json!({
                "machine": machine * f,
                "computed": value.map(|v| v * f),
                "ratio": ratio,
                "unit": unit,
                "ddi": format!("{ddi:04X}"),
                "source": source,
            }),
        );
        if counted == Counted::Distance {
            continue;
        }
        // nothing counted and nothing computed agree too
        let both_nothing = machine <= 0.0 && value.is_none_or(|v| v <= 0.0);
        let agrees = ratio.is_some_and(|r| (r - 1.0).abs() <= AGREEMENT) || both_nothing;
        if agrees {
            continue;
        }
        let computed_v = value.unwrap_or(0.0);
        // the reasons the data show, each with the part of the gap it accounts for
        let mut reasons: Vec<(String, f64)> = Vec::new();
        if dropped > 0.0 {
            reasons.push((
                format!(
                    "the cleanup rules and plausibility checks dropped points holding {} {}{}",
                    fmt_num(dropped * f),
                    unit.unwrap_or(""),
                    if counted == Counted::YieldMass {
                        " (by crop flow × time step, which the machine's mass counter adds up \
                         whatever the yield per area says)"
                    } else {
                        ""
                    }
                ),
                dropped,
            ));
        }
        // records without a position: what the machine counted in them is not in any point, but the
        // point after them spans the gap with its own state
        let gap = match (counted, computed.area_m2) {
            (Counted::Area, _) => computed.gap_area_m2,
            (_, Some(a)) if a > 0.0 => computed_v * computed.gap_area_m2 / a,
            _ => 0.0,
        };
        if no_position > 0.0 || gap > 0.0 {
            reasons.push((
                format!(
                    "the machine counted {} {u} in {} records without a position (no point for them); \
                     the steps across them hold {} {u} computed{}",
                    fmt_num(no_position * f),
                    computed.no_position,
                    fmt_num(gap * f),
                    if counted == Counted::Area {
                        ""
                    } else {
                        " (estimated by their share of the area)"
                    },
                    u = unit.unwrap_or(""),
                ),
                no_position - gap,
            ));
        }
        if source == "taskTotals" && !computed.whole_task {
            reasons.push((
                "the task totals cover time logs that are not in this file".into(),
                machine - computed_v,
            ));
        }
        if resets > 0 {
            reasons.push((
                format!("the counter went back {resets} time(s) (reset during the log)"),
                0.0,
            ));
        }
        if value.is_none() {
            reasons.push((
                format!("{key} could not be computed (no point has a known value)"),
                machine,
            ));
        }
        if machine <= 0.0 {
            reasons.push((
                format!("the machine's counter did not advance ({key} computed anyway)"),
                -computed_v,
            ));
        }
        let explained: f64 = reasons.iter().map(|r| r.1).sum();
        let closes =
            (computed_v + explained - machine).abs() <= AGREEMENT * machine.abs().max(1e-9);
        let ratio_text = ratio.map_or("-".to_owned(), |r| format!("{r:.3}"));
        warnings.push(format!(
            "machine counters: {key} {} {u} by the machine ({ddi:04X}, {source}), {} {u} computed (ratio {ratio_text}): {}",
            fmt_num(machine * f),
            fmt_num(computed_v * f),
            if reasons.is_empty() {
                "no reason found in the data (unexplained)".to_owned()
            } else if closes {
                reasons
                    .iter()
                    .map(|r| r.0.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            } else {
                format!(
                    "{} (which does not account for the whole difference: unexplained)",
                    reasons
                        .iter()
                        .map(|r| r.0.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            },
            u = unit.unwrap_or(""),
        ));
    }
    if !any {
        return None;
    }
    if computed.width_from_counters {
        obj.insert("widthFromCounters".into(), Value::Bool(true));
    }
    Some((Value::Object(obj), warnings))
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_add_increases_and_book_resets_and_gaps() {
        let def = counter_ddi(0x0074).unwrap();
        let mut t = CounterTrack::new(def, true);
        for (v, no_pos) in [
            (100, false),
            (150, false),
            (180, true),
            (20, false),
            (50, false),
        ] {
            t.value(v);
            t.settle(no_pos);
        }
        assert_eq!(t.increments, 50.0 + 30.0 + 30.0);
        assert_eq!(t.no_position, 30.0);
        assert_eq!(t.resets, 1);
        let mut m = MachineCounters::default();
        m.add_log(&[t.clone(), CounterTrack::new(def, false)]);
        assert_eq!(m.of(Counted::Area).unwrap().1.increments, 110.0);
        // distance in mm
        let mut d = CounterTrack::new(counter_ddi(0x0075).unwrap(), true);
        d.value(1_000);
        d.value(3_500);
        d.settle(false);
        assert_eq!(d.increments, 2.5);
    }

    #[test]
    fn agreement_and_named_reasons() {
        let mut m = MachineCounters::default();
        let mut t = CounterTrack::new(counter_ddi(0x0074).unwrap(), true);
        t.value(0);
        t.value(100_000);
        t.settle(false);
        m.add_log(&[t]);
        let units = Units::default();
        let none = BTreeMap::new();
        let mut computed = Computed {
            area_m2: Some(96_000.0),
            ..Computed::default()
        };
        let (v, w) = compare(OperationType::Applied, &units, &m, &none, &computed).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(v["totalArea"]["machine"], 10.0);
        assert!((v["totalArea"]["ratio"].as_f64().unwrap() - 0.96).abs() < 1e-12);
        computed.area_m2 = Some(50_000.0);
        computed.dropped_area_m2 = 48_000.0;
        let (_, w) = compare(OperationType::Applied, &units, &m, &none, &computed).unwrap();
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("cleanup") && !w[0].contains("unexplained"),
            "{w:?}"
        );
        computed.dropped_area_m2 = 0.0;
        let (_, w) = compare(OperationType::Applied, &units, &m, &none, &computed).unwrap();
        assert!(w[0].contains("unexplained"), "{w:?}");
        // no counters at all: nothing to compare
        assert!(
            compare(
                OperationType::Applied,
                &units,
                &MachineCounters::default(),
                &none,
                &computed
            )
            .is_none()
        );
    }
}
