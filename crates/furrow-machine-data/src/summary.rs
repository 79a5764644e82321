//! The summary of a standard file (Leaf's summary feature) and the point counts.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::coverage::Coverage;
use crate::schema::{Column, OperationType, PROPERTY_COUNT, Property, Units, columns};
use crate::units::Quantity;

/// How many points each stage kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Records decoded from the time logs.
    pub raw: u64,
    /// Records whose position is invalid (0/0 or out of range although they claim a fix); never written.
    pub invalid_position: u64,
    /// Records without a position fix (coordinates "not available", status 0, or none logged): well
    /// formed, their values, work states and counters count, but no point is written for them.
    pub no_position: u64,
    /// Points dropped as impossible jumps.
    pub jumps: u64,
    /// Points dropped because their speed is beyond what the operation's machines do
    /// ([`Plausibility`](crate::Plausibility)).
    pub implausible_speed: u64,
    /// Points dropped because their logged wet mass per area is beyond any crop's.
    pub implausible_yield: u64,
    /// Points whose per-area yield, derived from crop flow over a tiny area, was beyond any crop's: the
    /// per-area values are unknown (null); the point and its mass stay.
    pub yield_per_area_unknown: u64,
    /// Points dropped by the cleanup rules.
    pub cleaned: u64,
    /// Points in the standard (cleaned) view, i.e. written unless `raw` output was asked for.
    pub standard: u64,
    /// Points of the standard view slower than the filter's minimum speed.
    pub slow: u64,
    /// Harvest outliers (beyond the filter's σ limit) among the remaining points.
    pub outliers: u64,
    /// Points in the filtered view.
    pub filtered: u64,
    /// Points written to the file.
    pub written: u64,
}

/// A machine named in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// Designator.
    pub name: String,
    /// `machine` or `implement`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Serial number, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Brand, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct Stat {
    n: u64,
    sum: f64,
    wsum: f64,
    warea: f64,
    min: f64,
    max: f64,
}

impl Stat {
    #[inline]
    fn add(&mut self, v: f64, area: f64) {
        self.n += 1;
        self.sum += v;
        self.wsum += v * area;
        self.warea += area;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// [`Self::add`] of `v` with its `weight` unless `v` is NaN; `min`/`max` as `f64::min`/`max` would
    /// keep them, since neither is ever NaN.
    #[inline(always)]
    fn add_valid(&mut self, v: f64, weight: f64) {
        if !v.is_nan() {
            self.n += 1;
            self.sum += v;
            self.wsum += v * weight;
            self.warea += weight;
            if v < self.min {
                self.min = v;
            }
            if v > self.max {
                self.max = v;
            }
        }
    }

    /// [`Self::add_valid`] of `values` with their `weights`, in order; the running figures are a local
    /// copy, kept in registers (a point costs a few instructions instead of a round trip through memory).
    fn add_all(&mut self, values: &[f64], weights: &[f64]) {
        let mut x = *self;
        for (&v, &w) in values.iter().zip(weights) {
            x.add_valid(v, w);
        }
        *self = x;
    }

    /// [`Self::add_all`] of two columns in one pass over the rows, each with its own figures.
    fn add_pair(s: &mut Stat, t: &mut Stat, a: &[f64], b: &[f64], weights: &[f64]) {
        let (mut x, mut y) = (*s, *t);
        for ((&v, &u), &w) in a.iter().zip(b).zip(weights) {
            x.add_valid(v, w);
            y.add_valid(u, w);
        }
        (*s, *t) = (x, y);
    }

    /// [`Self::add_all`] of four columns in one pass over the rows: twelve independent running sums a
    /// row keep both of the CPU's adders busy, where two columns wait on the additions' latency.
    fn add_four(s: &mut [Stat; 4], v: [&[f64]; 4], weights: &[f64]) {
        let mut x = *s;
        let [a, b, c, d] = v;
        let rows = a.iter().zip(b).zip(c.iter().zip(d)).zip(weights);
        for (((&a, &b), (&c, &d)), &w) in rows {
            x[0].add_valid(a, w);
            x[1].add_valid(b, w);
            x[2].add_valid(c, w);
            x[3].add_valid(d, w);
        }
        *s = x;
    }
}

impl Default for Stat {
    fn default() -> Self {
        Stat {
            n: 0,
            sum: 0.0,
            wsum: 0.0,
            warea: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

/// Accumulates the summary of one file while points stream by (values in METRIC units).
#[derive(Debug, Clone)]
pub struct SummaryBuilder {
    op: OperationType,
    original: String,
    units: Units,
    stats: [Stat; PROPERTY_COUNT],
    start: Option<(i64, bool)>,
    end: Option<(i64, bool)>,
    total_area: f64,
    /// Points whose area is known (an unknown width leaves it NaN, never 0).
    area_known: u64,
    /// Points added.
    points: u64,
    total_distance: f64,
    /// Totals in [`TOTALS`] order (`None` until a value arrives); those that are a statistic's sum
    /// ([`summed_by_stat`]) stay `None` here: [`Self::totals`] reads them off the statistics.
    totals: [Option<f64>; TOTALS.len()],
    crops: Vec<String>,
    varieties: Vec<String>,
    products: Vec<String>,
    machinery: Vec<Machine>,
    coverage: Coverage,
    counts: Counts,
    /// Points dropped by each cleanup rule, for `pointCounts.cleanedBy`.
    cleaned_by: Vec<(String, u64)>,
    /// What the conversion says beyond the figures (`warnings`).
    warnings: Vec<String>,
    /// The machine's counters against the computed totals (`machineTotals`).
    machine_totals: Option<Value>,
}

/// The totals of the summary, in the order they are written (alphabetical).
const TOTALS: [&str; 7] = [
    "totalApplied",
    "totalDryMass",
    "totalDryVolume",
    "totalFuelUsed",
    "totalPlanted",
    "totalWetMass",
    "totalWetVolume",
];

/// The property behind each of [`TOTALS`], and whether it is a rate per hectare (summed × area).
const TOTAL_SOURCES: [(Property, bool); 7] = [
    (Property::AppliedRate, true),
    (Property::DryMass, false),
    (Property::DryVolume, false),
    (Property::FuelUsed, false),
    (Property::SeedRate, true),
    (Property::WetMass, false),
    (Property::WetVolume, false),
];

/// Whether the total of `p` is its statistic's sum: the same values added in the same order (a total
/// that is not a rate, of a property that is a statistic), so it is read off the statistic instead of
/// summed a second time (one running sum a column is a chain of dependent additions).
fn summed_by_stat(p: Property, per_area: bool) -> bool {
    !per_area && is_stat(p)
}

/// Properties reported as statistics (the others are reported as totals or not at all).
fn is_stat(p: Property) -> bool {
    !matches!(
        p,
        Property::Distance
            | Property::Heading
            | Property::Area
            | Property::FuelUsed
            | Property::SamplingInterval
    )
}

impl SummaryBuilder {
    /// An empty summary of a file.
    pub fn new(op: OperationType, original: &str, units: Units) -> Self {
        SummaryBuilder {
            op,
            original: original.into(),
            units,
            stats: [Stat::default(); PROPERTY_COUNT],
            start: None,
            end: None,
            total_area: 0.0,
            area_known: 0,
            points: 0,
            total_distance: 0.0,
            totals: [None; TOTALS.len()],
            crops: Vec::new(),
            varieties: Vec::new(),
            products: Vec::new(),
            machinery: Vec::new(),
            coverage: Coverage::new(),
            counts: Counts::default(),
            cleaned_by: Vec::new(),
            warnings: Vec::new(),
            machine_totals: None,
        }
    }

    /// Sets the points each cleanup rule dropped (`pointCounts.cleanedBy`).
    pub fn set_cleaned_by(&mut self, by_rule: Vec<(String, u64)>) {
        self.cleaned_by = by_rule;
    }

    /// Sets what the summary says beyond its figures (`warnings`: unreadable logs, the working width's
    /// source, why points were dropped, disagreements with the machine's counters).
    pub fn set_warnings(&mut self, warnings: Vec<String>) {
        self.warnings = warnings;
    }

    /// Sets the comparison of the computed totals with the machine's own counters (`machineTotals`).
    pub fn set_machine_totals(&mut self, totals: Value) {
        self.machine_totals = Some(totals);
    }

    /// Σ point area (m²), `None` when no point had a known area.
    pub(crate) fn total_area_m2(&self) -> Option<f64> {
        (self.area_known > 0).then_some(self.total_area)
    }

    /// Σ point distance (m).
    pub(crate) fn total_distance_m(&self) -> f64 {
        self.total_distance
    }

    /// A total (`totalWetMass`, `totalApplied`...) in METRIC units, when the file has one.
    pub(crate) fn total_metric(&self, key: &str) -> Option<f64> {
        TOTALS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| self.totals()[i])
    }

    /// Sets the crops, varieties, products and machinery of the file.
    pub fn set_context(
        &mut self,
        crops: Vec<String>,
        varieties: Vec<String>,
        products: Vec<String>,
        machinery: Vec<Machine>,
    ) {
        self.crops = crops;
        self.varieties = varieties;
        self.products = products;
        self.machinery = machinery;
    }

    /// Sets the point counts.
    pub fn set_counts(&mut self, counts: Counts) {
        self.counts = counts;
    }

    /// The point counts.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Adds one written point: its METRIC values, time (epoch ms, `true` when UTC), position and the
    /// effective width used for its area.
    pub(crate) fn add(
        &mut self,
        vals: &[Option<f64>; PROPERTY_COUNT],
        time: Option<(i64, bool)>,
        x: f64,
        y: f64,
        effective_width: f64,
    ) {
        const ALL: [usize; PROPERTY_COUNT] = {
            let mut a = [0; PROPERTY_COUNT];
            let mut i = 0;
            while i < PROPERTY_COUNT {
                a[i] = i;
                i += 1;
            }
            a
        };
        self.add_present(vals, &ALL, time, x, y, effective_width);
    }

    /// [`Self::add`] for values that are `None` outside `present` (indexes into `vals`), so a point
    /// costs only the properties its file can hold.
    pub(crate) fn add_present(
        &mut self,
        vals: &[Option<f64>; PROPERTY_COUNT],
        present: &[usize],
        time: Option<(i64, bool)>,
        x: f64,
        y: f64,
        effective_width: f64,
    ) {
        let known_area = vals[Property::Area.index()].filter(|a| !a.is_nan());
        let area = known_area.unwrap_or(0.0);
        let distance = vals[Property::Distance.index()].unwrap_or(0.0);
        let heading = vals[Property::Heading.index()].unwrap_or(f64::NAN);
        self.add_point(time, x, y, effective_width, heading, distance);
        self.total_area += area;
        self.area_known += u64::from(known_area.is_some());
        self.total_distance += distance;
        for &i in present {
            if let Some(v) = vals[i] {
                self.stats[i].add(v, area);
            }
        }
        self.add_totals(vals, area, known_area);
    }

    /// The per-point part of [`Self::add_present`]: time span and coverage. The values of the point go
    /// in later with their batch, through [`Self::add_columns`].
    #[inline]
    pub(crate) fn add_point(
        &mut self,
        time: Option<(i64, bool)>,
        x: f64,
        y: f64,
        effective_width: f64,
        heading: f64,
        distance: f64,
    ) {
        self.points += 1;
        if let Some(t) = time {
            if self.start.is_none_or(|s| t.0 < s.0) {
                self.start = Some(t);
            }
            if self.end.is_none_or(|e| t.0 > e.0) {
                self.end = Some(t);
            }
        }
        self.coverage.add(x, y, effective_width, heading, distance);
    }

    /// The values part of [`Self::add_present`] for a batch of points at once, column by column (one
    /// tight loop per property instead of a pass over every property per point): `nums` holds
    /// `(property index, values)` with values in METRIC units and NaN where a point has none, of which
    /// the `rows` are added. Sums are accumulated in row order, so the result is the same as adding the
    /// points one by one.
    pub(crate) fn add_columns(&mut self, columns: &[(usize, Vec<f64>)], rows: Range<usize>) {
        let nums: Vec<(usize, &[f64])> = columns
            .iter()
            .map(|(i, v)| (*i, v.get(rows.clone()).unwrap_or(&[])))
            .collect();
        let col = |p: Property| -> Option<&[f64]> {
            nums.iter().find(|(i, _)| *i == p.index()).map(|(_, v)| *v)
        };
        let Some(area) = col(Property::Area) else {
            return;
        };
        // each point's weight: its area (0 when unknown)
        let weights: Vec<f64> = area
            .iter()
            .map(|&a| if a.is_nan() { 0.0 } else { a })
            .collect();
        for (w, a) in weights.iter().zip(area) {
            self.total_area += w;
            self.area_known += u64::from(!a.is_nan());
        }
        if let Some(d) = col(Property::Distance) {
            for v in d {
                self.total_distance += if v.is_nan() { 0.0 } else { *v };
            }
        }
        // two columns at a time: their running figures are independent, so one row's additions for both
        // overlap instead of waiting on each other (each column's own sums stay in row order); columns
        // without a value in the batch (fuel, protein... in most logs) add nothing and are left out
        // (nor do the properties the summary does not report as statistics: distance, heading...)
        let present: Vec<&(usize, &[f64])> = nums
            .iter()
            .filter(|(i, _)| Property::ALL.get(*i).is_some_and(|p| is_stat(*p)))
            .filter(|(_, v)| !v.iter().all(|x| x.is_nan()))
            .collect();
        let mut present = present.as_slice();
        while let [a, b, c, d, rest @ ..] = present {
            let at = [a.0, b.0, c.0, d.0];
            let distinct = (1..4).all(|k| !at[..k].contains(&at[k]));
            if !distinct || at.iter().any(|&i| i >= self.stats.len()) {
                break;
            }
            let mut four = at.map(|i| self.stats[i]);
            Stat::add_four(&mut four, [a.1, b.1, c.1, d.1], &weights);
            for (i, s) in at.into_iter().zip(four) {
                self.stats[i] = s;
            }
            present = rest;
        }
        for pair in present.chunks(2) {
            match pair {
                [(i, a), (j, b)] if i != j => {
                    let (lo, hi) = ((*i).min(*j), (*i).max(*j));
                    let (head, tail) = self.stats.split_at_mut(hi);
                    let (si, sj) = (&mut head[lo], &mut tail[0]);
                    let (si, sj, a, b) = if *i < *j {
                        (si, sj, a, b)
                    } else {
                        (si, sj, b, a)
                    };
                    Stat::add_pair(si, sj, a, b, &weights);
                }
                _ => {
                    for (i, values) in pair {
                        self.stats[*i].add_all(values, &weights);
                    }
                }
            }
        }
        for (t, (p, per_area)) in self.totals.iter_mut().zip(TOTAL_SOURCES) {
            if summed_by_stat(p, per_area) {
                continue;
            }
            let Some(values) = col(p) else {
                continue;
            };
            let mut acc = t.unwrap_or(0.0);
            let mut any = false;
            for ((&v, &w), &a) in values.iter().zip(&weights).zip(area) {
                // rates are per hectare; point area is m² (a rate over an unknown area adds nothing)
                if !(v.is_nan() || per_area && a.is_nan()) {
                    acc += if per_area { v * w / 10_000.0 } else { v };
                    any = true;
                }
            }
            if any {
                *t = Some(acc);
            }
        }
    }

    /// The totals in [`TOTALS`] order.
    fn totals(&self) -> [Option<f64>; TOTALS.len()] {
        let mut out = self.totals;
        for (t, (p, per_area)) in out.iter_mut().zip(TOTAL_SOURCES) {
            if summed_by_stat(p, per_area) {
                let s = self.stats[p.index()];
                *t = (s.n > 0).then_some(s.sum);
            }
        }
        out
    }

    fn add_totals(
        &mut self,
        vals: &[Option<f64>; PROPERTY_COUNT],
        area: f64,
        known_area: Option<f64>,
    ) {
        for (t, (p, per_area)) in self.totals.iter_mut().zip(TOTAL_SOURCES) {
            if summed_by_stat(p, per_area) {
                continue;
            }
            if let Some(v) = vals[p.index()].filter(|v| !v.is_nan()) {
                // rates are per hectare; point area is m² (a rate over an unknown area adds nothing)
                if per_area && known_area.is_none() {
                    continue;
                }
                *t = Some(t.unwrap_or(0.0) + if per_area { v * area / 10_000.0 } else { v });
            }
        }
    }

    /// Adds every row of a standard record batch (as written by furrow: the columns of
    /// [`standard_schema`](crate::standard_schema) in this builder's units), so a summary can be rebuilt from
    /// stored points, e.g. for a field operation made of several files. Rows without `x`/`y` are skipped.
    pub fn add_batch(&mut self, batch: &arrow_array::RecordBatch) {
        use arrow_array::{Array, Float64Array, TimestampMillisecondArray};
        let f64_col = |name: &str| {
            batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<Float64Array>())
        };
        let (Some(xs), Some(ys)) = (f64_col("x"), f64_col("y")) else {
            return;
        };
        let props: Vec<(Property, &Float64Array, f64)> = Property::ALL
            .iter()
            .filter_map(|&p| {
                let f = self.units.factor(p);
                f64_col(p.name()).map(|c| (p, c, if f != 0.0 { f } else { 1.0 }))
            })
            .collect();
        let utc = batch
            .column_by_name("timestamp")
            .and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>());
        let local = batch
            .column_by_name("localTime")
            .and_then(|c| c.as_any().downcast_ref::<TimestampMillisecondArray>());
        let width = Property::EquipmentWidth;
        for row in 0..batch.num_rows() {
            if xs.is_null(row) || ys.is_null(row) {
                continue;
            }
            let mut vals = [None; PROPERTY_COUNT];
            for (p, col, factor) in &props {
                if col.is_valid(row) {
                    vals[p.index()] = Some(col.value(row) / factor);
                }
            }
            let time = match (utc, local) {
                (Some(t), _) if t.is_valid(row) => Some((t.value(row), true)),
                (_, Some(t)) if t.is_valid(row) => Some((t.value(row), false)),
                _ => None,
            };
            // the swath is as wide as the sections that were on: area ÷ distance (the file summary's rule)
            let w = furrow_allocate::swath_width(
                vals[width.index()].unwrap_or(f64::NAN),
                vals[Property::Distance.index()].unwrap_or(0.0),
                vals[Property::Area.index()],
            )
            .unwrap_or(0.0);
            self.add(&vals, time, xs.value(row), ys.value(row), w);
        }
    }

    /// The summary as a GeoJSON Feature (Leaf's shape), geometry = covered area as a MultiPolygon.
    pub fn finish(&self) -> Value {
        let u = &self.units;
        let mut p = Map::new();
        let time = |t: Option<(i64, bool)>| {
            t.map(|(ms, utc)| Value::String(format_time(ms, utc)))
                .unwrap_or(Value::Null)
        };
        p.insert("operationType".into(), self.op.as_str().into());
        p.insert("originalOperationType".into(), self.original.clone().into());
        p.insert("startTime".into(), time(self.start));
        p.insert("endTime".into(), time(self.end));
        if !self.crops.is_empty() {
            p.insert("crop".into(), json!(self.crops));
        }
        let area_q = Quantity::TotalArea;
        // an area no point knows (no working width) is unknown, not 0
        let unknown_area = self.area_known == 0 && self.points > 0;
        let ha = |m2: f64| {
            if unknown_area {
                Value::Null
            } else {
                json!(m2 / 10_000.0 * area_q.factor(u.system))
            }
        };
        p.insert(
            "totalArea".into(),
            json!({"value": ha(self.total_area), "unit": area_q.unit(u.system)}),
        );
        let len = Quantity::Length;
        p.insert(
            "totalDistance".into(),
            json!({"value": self.total_distance * len.factor(u.system), "unit": len.unit(u.system)}),
        );
        // the union of the swaths can never exceed the sum of their areas
        p.insert(
            "coveredArea".into(),
            json!({"value": ha(self.coverage.area_m2().min(self.total_area)), "unit": area_q.unit(u.system)}),
        );
        for c in columns(self.op) {
            let Column::Number(prop) = c else { continue };
            let s = self.stats[prop.index()];
            if s.n == 0 || !is_stat(prop) {
                continue;
            }
            let f = u.factor(prop);
            let avg = if s.warea > 0.0 {
                s.wsum / s.warea
            } else {
                s.sum / s.n as f64
            };
            p.insert(
                prop.name().into(),
                json!({"avg": avg * f, "min": s.min * f, "max": s.max * f, "unit": u.unit(prop)}),
            );
        }
        for (k, v) in TOTALS.iter().copied().zip(self.totals()) {
            let Some(v) = v else { continue };
            let (value, unit) = match k {
                "totalFuelUsed" => (
                    v * Quantity::LiquidVolume.factor(u.system),
                    Quantity::LiquidVolume.unit(u.system),
                ),
                "totalWetMass" | "totalDryMass" => (
                    v * Quantity::Mass.factor(u.system),
                    Quantity::Mass.unit(u.system),
                ),
                "totalWetVolume" | "totalDryVolume" => (
                    v * Quantity::Volume.factor(u.system),
                    Quantity::Volume.unit(u.system),
                ),
                "totalApplied" => {
                    let q = match u.applied_rate {
                        crate::schema::RateKind::Volume => Quantity::LiquidVolume,
                        crate::schema::RateKind::Mass => Quantity::AppliedMass,
                    };
                    (v * q.factor(u.system), q.unit(u.system))
                }
                "totalPlanted" => (v, Some("seeds")),
                _ => (v, None),
            };
            p.insert(k.into(), json!({"value": value, "unit": unit}));
        }
        if matches!(self.op, OperationType::Planted | OperationType::Harvested)
            && !self.varieties.is_empty()
        {
            let varieties: Vec<Value> = self.varieties.iter().map(|v| json!({"name": v})).collect();
            p.insert("varieties".into(), Value::Array(varieties));
        }
        if self.op == OperationType::Applied {
            let rate = self.stats[Property::AppliedRate.index()];
            let total = self.totals()[0];
            let n = self.products.len().max(1) as f64;
            let products: Vec<Value> = self
                .products
                .iter()
                .map(|name| {
                    let mut o = json!({"name": name, "type": if self.products.len() > 1 { "Component" } else { "Carrier" }});
                    if rate.n > 0 && self.products.len() == 1 {
                        let avg = if rate.warea > 0.0 { rate.wsum / rate.warea } else { rate.sum / rate.n as f64 };
                        o["rate"] = json!({"value": avg * u.factor(Property::AppliedRate), "unit": u.unit(Property::AppliedRate)});
                    }
                    if let (Some(t), true) = (total, self.products.len() == 1) {
                        o["totalApplied"] = json!({"value": t / n});
                    }
                    o
                })
                .collect();
            p.insert("products".into(), Value::Array(products));
            p.insert("tankMix".into(), Value::Bool(self.products.len() > 1));
        }
        p.insert(
            "machinery".into(),
            serde_json::to_value(&self.machinery).unwrap_or(Value::Null),
        );
        let mut counts = serde_json::to_value(self.counts).unwrap_or(Value::Null);
        if !self.cleaned_by.is_empty() {
            if let Some(o) = counts.as_object_mut() {
                let by: Map<String, Value> = self
                    .cleaned_by
                    .iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect();
                o.insert("cleanedBy".into(), Value::Object(by));
            }
        }
        p.insert("pointCounts".into(), counts);
        if let Some(t) = &self.machine_totals {
            p.insert("machineTotals".into(), t.clone());
        }
        if !self.warnings.is_empty() {
            p.insert("warnings".into(), json!(self.warnings));
        }
        let mp = self.coverage.to_multipolygon();
        let coords: Vec<Value> =
            mp.0.iter()
                .map(|poly| {
                    let ring = |r: &geo::LineString<f64>| -> Value {
                        Value::Array(r.0.iter().map(|c| json!([c.x, c.y])).collect())
                    };
                    let mut rings = vec![ring(poly.exterior())];
                    rings.extend(poly.interiors().iter().map(ring));
                    Value::Array(rings)
                })
                .collect();
        json!({
            "type": "Feature",
            "properties": Value::Object(p),
            "geometry": {"type": "MultiPolygon", "coordinates": coords},
        })
    }
}

/// `YYYY-MM-DDThh:mm:ss.sss` (+ `Z` when UTC) from epoch milliseconds.
pub(crate) fn format_time(ms: i64, utc: bool) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}{}",
        rem / 3_600_000,
        (rem / 60_000) % 60,
        (rem / 1000) % 60,
        rem % 1000,
        if utc { "Z" } else { "" }
    )
}

#[cfg(test)]
mod stat_tests {
    use super::Stat;

    fn bits(s: &Stat) -> [u64; 6] {
        [
            s.n,
            s.sum.to_bits(),
            s.wsum.to_bits(),
            s.warea.to_bits(),
            s.min.to_bits(),
            s.max.to_bits(),
        ]
    }

    /// The harvest totals (read off the statistics for masses and volumes, summed apart for fuel) are the
    /// row-order sums of the values, over two windows and with values missing; a column without any
    /// value has no total, and one that is not in the file neither.
    #[test]
    fn totals_are_the_sums_of_the_values() {
        use super::{OperationType, Property, SummaryBuilder, Units};
        use crate::units::Quantity;
        let rows = 300;
        let wet: Vec<f64> = (0..rows)
            .map(|i| {
                if i % 7 == 3 {
                    f64::NAN
                } else {
                    1.0 + (i as f64).sqrt() * 0.37
                }
            })
            .collect();
        let dry: Vec<f64> = wet.iter().map(|w| w * 0.85).collect();
        let fuel: Vec<f64> = (0..rows)
            .map(|i| {
                if i % 2 == 0 {
                    0.01 * i as f64
                } else {
                    f64::NAN
                }
            })
            .collect();
        let area: Vec<f64> = (0..rows).map(|i| 2.0 + (i % 5) as f64).collect();
        let columns = vec![
            (Property::WetMass.index(), wet.clone()),
            (Property::DryMass.index(), dry.clone()),
            (Property::FuelUsed.index(), fuel.clone()),
            (Property::Area.index(), area),
            (Property::WetVolume.index(), vec![f64::NAN; rows]),
        ];
        let mut b = SummaryBuilder::new(OperationType::Harvested, "harvested", Units::default());
        b.add_columns(&columns, 0..120);
        b.add_columns(&columns, 120..rows);
        let summary = b.finish();
        let total = |k: &str| summary["properties"][k]["value"].as_f64();
        let sum = |v: &[f64]| v.iter().filter(|x| !x.is_nan()).fold(0.0, |a, x| a + x);
        let mass = Quantity::Mass.factor(Units::default().system);
        let litres = Quantity::LiquidVolume.factor(Units::default().system);
        assert_eq!(total("totalWetMass"), Some(sum(&wet) * mass));
        assert_eq!(total("totalDryMass"), Some(sum(&dry) * mass));
        assert_eq!(total("totalFuelUsed"), Some(sum(&fuel) * litres));
        assert_eq!(total("totalWetVolume"), None);
        assert_eq!(total("totalDryVolume"), None);
        assert!(sum(&wet) > 100.0);
    }

    /// Column at a time (with and without missing values, alone, in pairs and fours) gives the very same
    /// figures as adding the values one by one.
    #[test]
    fn column_statistics_are_those_of_one_value_at_a_time() {
        let full: Vec<f64> = (0..1000)
            .map(|i| ((i * 37) % 101) as f64 * 0.1 - 3.3)
            .collect();
        let holes: Vec<f64> = (0..1000)
            .map(|i| {
                if i % 9 == 4 {
                    f64::NAN
                } else {
                    (i as f64).sqrt()
                }
            })
            .collect();
        let weights: Vec<f64> = (0..1000).map(|i| 0.25 + (i % 7) as f64).collect();
        let one_by_one = |values: &[f64]| {
            let mut s = Stat::default();
            for (&v, &w) in values.iter().zip(&weights) {
                if !v.is_nan() {
                    s.add(v, w);
                }
            }
            s
        };
        for values in [&full, &holes] {
            let mut s = Stat::default();
            s.add_all(values, &weights);
            assert_eq!(bits(&s), bits(&one_by_one(values)));
        }
        for (a, b) in [(&full, &holes), (&holes, &full), (&full, &full)] {
            let (mut s, mut t) = (Stat::default(), Stat::default());
            Stat::add_pair(&mut s, &mut t, a, b, &weights);
            assert_eq!(bits(&s), bits(&one_by_one(a)));
            assert_eq!(bits(&t), bits(&one_by_one(b)));
        }
        let mut four = [Stat::default(); 4];
        Stat::add_four(&mut four, [&holes, &full, &full, &holes], &weights);
        for (got, want) in four.into_iter().zip([&holes, &full, &full, &holes]) {
            assert_eq!(bits(&got), bits(&one_by_one(want)));
        }
        assert_eq!(one_by_one(&full).n, 1000);
        assert_eq!(one_by_one(&holes).n, 1000 - 111);
    }
}
