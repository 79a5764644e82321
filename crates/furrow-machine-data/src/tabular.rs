//! Shapefile machine data → standard points. `furrow-shapefile` reads the columns and maps the vendor's names
//! and units to standard properties (METRIC); here the rows become the standard schema of their operation
//! type, with the same derived values, cleanup rules, counts, summary and units as ISOXML files get.
//!
//! Derived here when the export does not carry them: `distance` and `heading` from consecutive positions
//! (measured as ISOXML's are, in the swaths' WGS 84 frame: `furrow_allocate::StepGeometry`),
//! `speed` from distance ÷ time step, `area` = width × distance (the polygon's own area for swath polygons),
//! and the harvest masses and volumes (docs/MACHINE-DATA.md, "Shapefile exports").

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, ListBuilder, MapBuilder, StringBuilder, StructBuilder};
use arrow_array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, SchemaRef};
use furrow_allocate::{StepGeometry, ring_area_m2};
use furrow_geoparquet::{GeoParquetOptions, GeoParquetWriter};
use furrow_shapefile::{ColumnData, Profile, Reader, Role, TimeKind};

use crate::cleanup::CleanupRules;
use crate::convert::{ConvertOptions, FileOutcome, crop_constants};
use crate::error::{Error, Result};
use crate::schema::{
    Column, OperationType, Property, RateKind, Units, columns, product_struct_fields,
    standard_schema, units_document,
};
use crate::summary::{Counts, SummaryBuilder};
use crate::units::UnitSystem;

/// What a shapefile set will be converted as.
#[derive(Debug, Clone, PartialEq)]
pub struct TabularPlan {
    /// Operation type (from the sidecar or the columns).
    pub operation_type: OperationType,
    /// The source's name of the operation (e.g. `Harvest`, or the evidence).
    pub original_operation_type: String,
    /// The unit system the export is written in (DEFAULT output keeps it).
    pub source_system: UnitSystem,
    /// Applied rates by volume or by mass.
    pub applied_rate: RateKind,
}

fn imperial_unit(u: &str) -> bool {
    let u = u.to_ascii_lowercase();
    [
        "ft", "mi", "mph", "bu", "lb", "gal", "ac", "in", "floz", "oz",
    ]
    .iter()
    .any(|k| u == *k || u.starts_with(&format!("{k}/")) || u.ends_with(&format!("/{k}")))
}

impl TabularPlan {
    /// The plan of a profile.
    pub fn of(profile: &Profile) -> TabularPlan {
        let operation_type = profile
            .operation_type
            .as_str()
            .parse()
            .unwrap_or(OperationType::Other);
        let mut imperial = 0;
        let mut metric = 0;
        let mut applied_rate = RateKind::Volume;
        for c in &profile.columns {
            if let Role::Property(m) = &c.role {
                if m.source_unit.is_empty() || m.property == "heading" {
                    continue;
                }
                if imperial_unit(m.source_unit) {
                    imperial += 1;
                } else {
                    metric += 1;
                }
                if m.property == "appliedRate" && m.unit.starts_with("kg") {
                    applied_rate = RateKind::Mass;
                }
            }
        }
        TabularPlan {
            operation_type,
            original_operation_type: if profile.operation_source.is_empty() {
                operation_type.as_str().to_owned()
            } else {
                profile.operation_source.clone()
            },
            source_system: if imperial > metric {
                UnitSystem::Imperial
            } else {
                UnitSystem::Metric
            },
            applied_rate,
        }
    }
}

/// The swath polygon area of each row (exterior rings minus holes), NaN for rows without one.
fn polygon_areas(p: &furrow_shapefile::Polygons, rows: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; rows];
    for (row, area) in out.iter_mut().enumerate() {
        let (Some(&g0), Some(&g1)) = (p.geom_offsets.get(row), p.geom_offsets.get(row + 1)) else {
            continue;
        };
        let mut total = 0.0;
        for poly in g0 as usize..g1 as usize {
            let (r0, r1) = (
                p.polygon_offsets[poly] as usize,
                p.polygon_offsets[poly + 1] as usize,
            );
            for (k, ring) in (r0..r1).enumerate() {
                let (c0, c1) = (
                    p.ring_offsets[ring] as usize,
                    p.ring_offsets[ring + 1] as usize,
                );
                let a = ring_area_m2(&p.lon[c0..c1], &p.lat[c0..c1]);
                total += if k == 0 { a } else { -a };
            }
        }
        if g1 > g0 {
            *area = total.max(0.0);
        }
    }
    out
}

/// The rows of one batch, in METRIC, before they are written.
struct Rows {
    n: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    utc: Vec<Option<i64>>,
    local: Vec<Option<i64>>,
    numbers: BTreeMap<Property, Vec<f64>>,
    section: Option<Vec<f64>>,
    crop: Vec<Option<String>>,
    variety: Vec<Option<String>>,
    product: Vec<Option<String>>,
    machine: Vec<Option<String>>,
    extras: Vec<(Arc<str>, Vec<f64>)>,
}

impl Rows {
    fn get(&self, p: Property) -> Option<&Vec<f64>> {
        self.numbers.get(&p)
    }

    /// Keeps the rows where `keep` is true, in order.
    fn retain(&mut self, keep: &[bool]) {
        fn filter<T: Clone>(v: &mut Vec<T>, keep: &[bool]) {
            let mut k = keep.iter();
            v.retain(|_| *k.next().unwrap_or(&false));
        }
        filter(&mut self.x, keep);
        filter(&mut self.y, keep);
        filter(&mut self.utc, keep);
        filter(&mut self.local, keep);
        for v in self.numbers.values_mut() {
            filter(v, keep);
        }
        if let Some(s) = self.section.as_mut() {
            filter(s, keep);
        }
        filter(&mut self.crop, keep);
        filter(&mut self.variety, keep);
        filter(&mut self.product, keep);
        filter(&mut self.machine, keep);
        for (_, v) in &mut self.extras {
            filter(v, keep);
        }
        self.n = self.x.len();
    }
}

/// State carried from one batch to the next: the previous point, for distances, headings and time steps.
#[derive(Debug, Default)]
struct Carry {
    prev: Option<(f64, f64, Option<i64>, f64)>,
    /// Steps measured in the swaths' frame, as ISOXML conversion measures them.
    step: StepGeometry,
}

/// Streams a shapefile set's rows as standard record batches.
#[derive(Debug)]
pub struct TabularStream<'a> {
    reader: &'a mut Reader,
    plan: TabularPlan,
    units: Units,
    schema: SchemaRef,
    opts: &'a ConvertOptions,
    rules: Option<crate::cleanup::CompiledRules>,
    counts: Counts,
    summary: SummaryBuilder,
    carry: Carry,
    crop_consts: Option<(f64, f64)>,
    /// Sums for the filtered view's harvest outlier count (n, Σv, Σv²).
    outlier_sums: (f64, f64, f64),
    harvest_values: Vec<f32>,
    warnings: Vec<String>,
    text_extras: Vec<String>,
    /// The distinct crops, varieties and products named by the rows' own columns (an Ag Leader harvest's
    /// `Product`, a `Crop` column), in order of first appearance, at most [`MAX_NAMED`] each.
    named: [Vec<String>; 3],
}

/// How many distinct crops, varieties or products a file's summary lists at most.
const MAX_NAMED: usize = 32;

/// Adds the values of one text column to `seen` (distinct, first seen first, at most [`MAX_NAMED`]).
fn note_named(seen: &mut Vec<String>, values: &[Option<String>]) {
    for v in values.iter().flatten() {
        if seen.len() >= MAX_NAMED {
            return;
        }
        if !seen.iter().any(|s| s == v) {
            seen.push(v.clone());
        }
    }
}

impl<'a> TabularStream<'a> {
    /// A stream over `reader`'s rows, written in `opts.units`.
    pub fn new(reader: &'a mut Reader, opts: &'a ConvertOptions) -> Result<Self> {
        let plan = TabularPlan::of(reader.profile());
        let units = Units {
            system: opts.units,
            applied_rate: plan.applied_rate,
        };
        let rules = opts
            .cleanup
            .as_ref()
            .map(|r: &CleanupRules| r.compile(&units))
            .transpose()?;
        let profile = reader.profile().clone();
        let mut summary =
            SummaryBuilder::new(plan.operation_type, &plan.original_operation_type, units);
        summary.set_context(
            profile.crop.clone().into_iter().collect(),
            Vec::new(),
            profile.product.clone().into_iter().collect(),
            Vec::new(),
        );
        let warnings = profile.warnings.iter().map(|w| w.to_string()).collect();
        Ok(TabularStream {
            schema: standard_schema(plan.operation_type, &units),
            crop_consts: profile.crop.as_deref().and_then(crop_constants),
            reader,
            plan,
            units,
            opts,
            rules,
            counts: Counts::default(),
            summary,
            carry: Carry::default(),
            outlier_sums: (0.0, 0.0, 0.0),
            harvest_values: Vec::new(),
            warnings,
            text_extras: Vec::new(),
            named: Default::default(),
        })
    }

    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The plan.
    pub fn plan(&self) -> &TabularPlan {
        &self.plan
    }

    fn rows(&mut self, b: furrow_shapefile::Batch) -> Rows {
        let n = b.len();
        let kind = self.reader.profile().time;
        let (mut utc, mut local) = (vec![None; n], vec![None; n]);
        if let Some(t) = &b.time {
            match kind {
                Some(TimeKind::Utc) => utc.clone_from(t),
                _ => local.clone_from(t),
            }
        }
        let mut rows = Rows {
            n,
            x: b.lon.clone(),
            y: b.lat.clone(),
            utc,
            local,
            numbers: BTreeMap::new(),
            section: None,
            crop: vec![None; n],
            variety: vec![None; n],
            product: vec![None; n],
            machine: vec![None; n],
            extras: Vec::new(),
        };
        for c in b.columns {
            match (c.standard, c.data) {
                (true, ColumnData::Number(v)) => {
                    if &*c.name == "sectionId" {
                        rows.section = Some(v);
                    } else if let Some(p) = Property::from_name(&c.name) {
                        rows.numbers.insert(p, v);
                    }
                }
                (true, ColumnData::Text(t)) => {
                    let target = match &*c.name {
                        "crop" => &mut rows.crop,
                        "variety" => &mut rows.variety,
                        "product" => &mut rows.product,
                        "machinery" => &mut rows.machine,
                        _ => continue,
                    };
                    for (slot, v) in target.iter_mut().zip(t.iter()) {
                        *slot = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
                    }
                }
                (false, ColumnData::Number(v)) => rows.extras.push((c.name.clone(), v)),
                (false, ColumnData::Text(_))
                    if !self.text_extras.iter().any(|n| **n == *c.name) =>
                {
                    self.text_extras.push(c.name.to_string());
                }
                _ => {}
            }
        }
        let [crops, varieties, products] = &mut self.named;
        note_named(crops, &rows.crop);
        note_named(varieties, &rows.variety);
        note_named(products, &rows.product);
        if let Some(p) = &b.polygons {
            let areas = polygon_areas(p, n);
            rows.numbers.insert(Property::Area, areas);
        }
        rows
    }

    /// Distances, headings, speeds, areas and time steps where the export does not carry them.
    fn derive_motion(&mut self, rows: &mut Rows) {
        let n = rows.n;
        let has = |rows: &Rows, p: Property| rows.get(p).is_some();
        let (need_d, need_h, need_s) = (
            !has(rows, Property::Distance),
            !has(rows, Property::Heading),
            !has(rows, Property::Speed),
        );
        let harvest = self.plan.operation_type == OperationType::Harvested;
        let mut dist = vec![f64::NAN; n];
        let mut head = vec![f64::NAN; n];
        let mut step = vec![f64::NAN; n];
        let mut prev = self.carry.prev;
        for i in 0..n {
            let (x, y) = (rows.x[i], rows.y[i]);
            let t = rows.utc[i].or(rows.local[i]);
            if let Some((px, py, pt, ph)) = prev {
                let (d, _, bearing) = self.carry.step.step(px, py, x, y);
                dist[i] = d;
                head[i] = match bearing {
                    Some(b) if d > 0.05 => b,
                    _ => ph,
                };
                if let (Some(a), Some(b)) = (pt, t) {
                    step[i] = (b - a) as f64 / 1000.0;
                }
            }
            prev = Some((x, y, t, head[i]));
        }
        self.carry.prev = prev;
        if need_d {
            rows.numbers.insert(Property::Distance, dist.clone());
        }
        if need_h {
            rows.numbers.insert(Property::Heading, head);
        }
        if need_s {
            let d = rows.get(Property::Distance).cloned().unwrap_or(dist);
            let speed: Vec<f64> = d
                .iter()
                .zip(&step)
                .map(|(d, s)| if *s > 0.0 { d / s } else { f64::NAN })
                .collect();
            rows.numbers.insert(Property::Speed, speed);
        }
        if harvest {
            rows.numbers.insert(Property::SamplingInterval, step);
        }
        if !has(rows, Property::Area) {
            let (w, d) = (
                rows.get(Property::EquipmentWidth).cloned(),
                rows.get(Property::Distance).cloned(),
            );
            if let (Some(w), Some(d)) = (w, d) {
                let area: Vec<f64> = w.iter().zip(&d).map(|(w, d)| w * d).collect();
                rows.numbers.insert(Property::Area, area);
            }
        }
    }

    /// Harvest masses and volumes from what the export carries (docs/MACHINE-DATA.md, shapefile exports).
    fn derive_harvest(&self, rows: &mut Rows) {
        if self.plan.operation_type != OperationType::Harvested {
            return;
        }
        use Property as P;
        let n = rows.n;
        let area: Vec<f64> = rows
            .get(P::Area)
            .cloned()
            .unwrap_or_else(|| vec![f64::NAN; n]);
        let moisture = rows.get(P::HarvestMoisture).cloned();
        let per_row_crop = |i: usize| rows.crop[i].as_deref().and_then(crop_constants);
        let consts: Vec<Option<(f64, f64)>> = (0..n)
            .map(|i| per_row_crop(i).or(self.crop_consts))
            .collect();
        // t/m³ from kg/m³.
        let density = |i: usize| consts[i].map(|(_, d)| d / 1000.0);
        let shrink = |i: usize| -> Option<f64> {
            let (std, _) = consts[i]?;
            let m = moisture
                .as_ref()?
                .get(i)
                .copied()
                .filter(|m| m.is_finite())?;
            Some((100.0 - m) / (100.0 - std))
        };
        let per_ha = |a: f64| a / 10_000.0;
        let fill = |rows: &mut Rows, p: P, f: &dyn Fn(&Rows, usize) -> f64| {
            let have = rows.get(p).cloned();
            let mut out = have.unwrap_or_else(|| vec![f64::NAN; n]);
            for (i, v) in out.iter_mut().enumerate() {
                if v.is_nan() {
                    *v = f(rows, i);
                }
            }
            if out.iter().any(|v| !v.is_nan()) {
                rows.numbers.insert(p, out);
            }
        };
        let g = |rows: &Rows, p: P, i: usize| rows.get(p).map_or(f64::NAN, |v| v[i]);
        // Per-area yields from totals and back, then the other kind (mass ↔ volume by density), then dry
        // from wet by the shrink formula (or wet from dry), else dry = wet (Leaf's rule).
        for _ in 0..2 {
            fill(rows, P::WetMassPerArea, &|r, i| {
                g(r, P::WetMass, i) / per_ha(area[i])
            });
            fill(rows, P::DryMassPerArea, &|r, i| {
                g(r, P::DryMass, i) / per_ha(area[i])
            });
            fill(rows, P::WetVolumePerArea, &|r, i| {
                g(r, P::WetVolume, i) / per_ha(area[i])
            });
            fill(rows, P::DryVolumePerArea, &|r, i| {
                g(r, P::DryVolume, i) / per_ha(area[i])
            });
            fill(rows, P::WetMassPerArea, &|r, i| {
                density(i).map_or(f64::NAN, |d| g(r, P::WetVolumePerArea, i) * d)
            });
            fill(rows, P::DryMassPerArea, &|r, i| {
                density(i).map_or(f64::NAN, |d| g(r, P::DryVolumePerArea, i) * d)
            });
            fill(rows, P::DryMassPerArea, &|r, i| {
                shrink(i).map_or(f64::NAN, |s| g(r, P::WetMassPerArea, i) * s)
            });
            fill(rows, P::WetMassPerArea, &|r, i| {
                shrink(i).map_or(f64::NAN, |s| g(r, P::DryMassPerArea, i) / s)
            });
            fill(rows, P::WetVolumePerArea, &|r, i| {
                density(i).map_or(f64::NAN, |d| g(r, P::WetMassPerArea, i) / d)
            });
            fill(rows, P::DryVolumePerArea, &|r, i| {
                density(i).map_or(f64::NAN, |d| g(r, P::DryMassPerArea, i) / d)
            });
        }
        // Without crop constants, dry equals wet (Leaf).
        fill(rows, P::DryMassPerArea, &|r, i| {
            if consts[i].is_none() {
                g(r, P::WetMassPerArea, i)
            } else {
                f64::NAN
            }
        });
        fill(rows, P::DryVolumePerArea, &|r, i| {
            if consts[i].is_none() {
                g(r, P::WetVolumePerArea, i)
            } else {
                f64::NAN
            }
        });
        fill(rows, P::WetMass, &|r, i| {
            g(r, P::WetMassPerArea, i) * per_ha(area[i])
        });
        fill(rows, P::DryMass, &|r, i| {
            g(r, P::DryMassPerArea, i) * per_ha(area[i])
        });
        fill(rows, P::WetVolume, &|r, i| {
            g(r, P::WetVolumePerArea, i) * per_ha(area[i])
        });
        fill(rows, P::DryVolume, &|r, i| {
            g(r, P::DryVolumePerArea, i) * per_ha(area[i])
        });
    }

    /// Invalid positions out, cleanup rules applied; counts kept.
    fn clean(&mut self, rows: &mut Rows) {
        let n = rows.n;
        self.counts.raw += n as u64;
        let mut keep: Vec<bool> = (0..n)
            .map(|i| {
                let (x, y) = (rows.x[i], rows.y[i]);
                x.is_finite()
                    && y.is_finite()
                    && (-180.0..=180.0).contains(&x)
                    && (-90.0..=90.0).contains(&y)
                    && !(x == 0.0 && y == 0.0)
            })
            .collect();
        let valid = keep.iter().filter(|k| **k).count();
        self.counts.invalid_position += (n - valid) as u64;
        if let Some(rules) = &self.rules {
            for (p, rule) in &rules.numbers {
                if let Some(v) = rows.get(*p) {
                    rule.mask(v, &mut keep);
                }
            }
            if let Some(rates) = rows.get(Property::AppliedRate) {
                for rule in &rules.products {
                    rule.mask(rates, &mut keep);
                }
            }
            for (i, k) in keep.iter_mut().enumerate() {
                if !*k {
                    continue;
                }
                let crop = rows.crop[i].as_deref().unwrap_or("unknown");
                if !rules.crop.iter().all(|r| r.passes_text(crop)) && rows.crop[i].is_some() {
                    *k = false;
                }
                if !rules.recording.iter().all(|r| r.passes_text("On")) {
                    *k = false;
                }
            }
            let kept = keep.iter().filter(|k| **k).count();
            self.counts.cleaned += (valid - kept) as u64;
        }
        rows.retain(&keep);
    }

    fn record_batch(&self, rows: &Rows) -> Result<RecordBatch> {
        let n = rows.n;
        let units = &self.units;
        let mut arrays: Vec<ArrayRef> = Vec::new();
        let profile = self.reader.profile();
        for c in columns(self.plan.operation_type) {
            let a: ArrayRef = match c {
                Column::X => Arc::new(Float64Array::from(rows.x.clone())),
                Column::Y => Arc::new(Float64Array::from(rows.y.clone())),
                Column::Timestamp => {
                    Arc::new(TimestampMillisecondArray::from(rows.utc.clone()).with_timezone("UTC"))
                }
                Column::LocalTime => Arc::new(TimestampMillisecondArray::from(rows.local.clone())),
                Column::OperationType => {
                    Arc::new(StringArray::from(vec![
                        self.plan.operation_type.as_str();
                        n
                    ]))
                }
                Column::OriginalOperationType => Arc::new(StringArray::from(vec![
                    self.plan
                        .original_operation_type
                        .as_str();
                    n
                ])),
                Column::Number(p) => {
                    let f = units.factor(p);
                    let values: Vec<Option<f64>> = match rows.get(p) {
                        Some(v) => v.iter().map(|v| (v.is_finite()).then_some(v * f)).collect(),
                        None => vec![None; n],
                    };
                    Arc::new(Float64Array::from(values))
                }
                Column::RecordingStatus => Arc::new(StringArray::from(vec!["On"; n])),
                Column::SectionId => Arc::new(Int32Array::from(match &rows.section {
                    Some(s) => s
                        .iter()
                        .map(|v| v.is_finite().then_some(*v as i32))
                        .collect::<Vec<_>>(),
                    None => vec![None; n],
                })),
                Column::Crop => Arc::new(StringArray::from(
                    rows.crop
                        .iter()
                        .map(|c| {
                            c.clone()
                                .or_else(|| profile.crop.clone())
                                .map(|s| s.to_lowercase())
                        })
                        .collect::<Vec<_>>(),
                )),
                Column::Variety => Arc::new(StringArray::from(rows.variety.clone())),
                Column::Machinery => {
                    let mut b = ListBuilder::new(StringBuilder::new());
                    for m in &rows.machine {
                        if let Some(m) = m {
                            b.values().append_value(m);
                            b.append(true);
                        } else {
                            b.append_null();
                        }
                    }
                    Arc::new(b.finish())
                }
                Column::TillType => {
                    let mut b = ListBuilder::new(StringBuilder::new());
                    for _ in 0..n {
                        b.append_null();
                    }
                    Arc::new(b.finish())
                }
                Column::Products => {
                    let fields = product_struct_fields();
                    let rate_fields = match fields[1].data_type() {
                        DataType::Struct(f) => f.clone(),
                        _ => arrow_schema::Fields::empty(),
                    };
                    let mut b = ListBuilder::new(StructBuilder::new(
                        fields.clone(),
                        vec![
                            Box::new(StringBuilder::new()),
                            Box::new(StructBuilder::new(
                                rate_fields,
                                vec![Box::new(Float64Builder::new())],
                            )),
                        ],
                    ))
                    .with_field(Arc::new(Field::new(
                        "item",
                        DataType::Struct(fields),
                        true,
                    )));
                    let rates = rows.get(Property::AppliedRate);
                    let factor = units.factor(Property::AppliedRate);
                    for i in 0..n {
                        let name = rows.product[i].clone().or_else(|| profile.product.clone());
                        match name {
                            Some(name) => {
                                let s = b.values();
                                if let Some(f) = s.field_builder::<StringBuilder>(0) {
                                    f.append_value(&name);
                                }
                                if let Some(r) = s.field_builder::<StructBuilder>(1) {
                                    let v = rates.map_or(f64::NAN, |r| r[i]);
                                    if let Some(f) = r.field_builder::<Float64Builder>(0) {
                                        if v.is_finite() {
                                            f.append_value(v * factor);
                                        } else {
                                            f.append_null();
                                        }
                                    }
                                    r.append(true);
                                }
                                s.append(true);
                                b.append(true);
                            }
                            None => b.append_null(),
                        }
                    }
                    Arc::new(b.finish())
                }
                Column::Extra => {
                    let mut b = MapBuilder::new(None, StringBuilder::new(), Float64Builder::new());
                    for i in 0..n {
                        for (name, v) in &rows.extras {
                            if v[i].is_finite() {
                                b.keys().append_value(name);
                                b.values().append_value(v[i]);
                            }
                        }
                        b.append(true).map_err(|e| Error::Output {
                            path: Default::default(),
                            message: e.to_string(),
                        })?;
                    }
                    Arc::new(b.finish())
                }
            };
            arrays.push(a);
        }
        // The builders name their inner fields their own way: cast to the schema's exact types.
        let arrays = arrays
            .into_iter()
            .zip(self.schema.fields())
            .map(|(a, f)| {
                if a.data_type() == f.data_type() {
                    Ok(a)
                } else {
                    arrow_cast_like(&a, f.data_type())
                }
            })
            .collect::<Result<Vec<_>>>()?;
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| Error::Output {
            path: Default::default(),
            message: e.to_string(),
        })
    }

    /// The next standard batch, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            let Some(b) = self.reader.next_batch().map_err(|e| Error::Output {
                path: Default::default(),
                message: e.to_string(),
            })?
            else {
                return Ok(None);
            };
            let mut rows = self.rows(b);
            self.derive_motion(&mut rows);
            self.derive_harvest(&mut rows);
            self.clean(&mut rows);
            if rows.n == 0 {
                continue;
            }
            self.count_filtered(&rows);
            let batch = self.record_batch(&rows)?;
            self.summary.add_batch(&batch);
            self.counts.standard += batch.num_rows() as u64;
            self.counts.written += batch.num_rows() as u64;
            return Ok(Some(batch));
        }
    }

    fn count_filtered(&mut self, rows: &Rows) {
        let speed = rows.get(Property::Speed);
        let min = self.opts.filter.min_speed;
        let wet = rows.get(Property::WetMassPerArea);
        for i in 0..rows.n {
            let slow = speed.is_some_and(|s| s[i].is_finite() && s[i] < min);
            if slow {
                self.counts.slow += 1;
                continue;
            }
            if let Some(w) = wet {
                if w[i].is_finite() {
                    let (n, s, q) = &mut self.outlier_sums;
                    *n += 1.0;
                    *s += w[i];
                    *q += w[i] * w[i];
                    self.harvest_values.push(w[i] as f32);
                }
            }
        }
    }

    /// The outcome once every batch was read.
    pub fn finish(mut self) -> FileOutcome {
        let (n, s, q) = self.outlier_sums;
        if n >= 2.0 {
            let mean = s / n;
            let sd = (q / n - mean * mean).max(0.0).sqrt();
            let limit = self.opts.filter.outlier_sigma * sd;
            self.counts.outliers = self
                .harvest_values
                .iter()
                .filter(|v| (f64::from(**v) - mean).abs() > limit)
                .count() as u64;
        }
        self.counts.filtered = self.counts.standard - self.counts.slow - self.counts.outliers;
        let stats = self.reader.stats();
        let mut warnings = self.warnings;
        warnings.extend(self.reader.warnings().iter().map(|w| w.to_string()));
        if stats.deleted > 0 {
            warnings.push(format!("{} deleted DBF records skipped", stats.deleted));
        }
        if !self.text_extras.is_empty() {
            warnings.push(format!(
                "text columns not kept (extra holds numbers only): {}",
                self.text_extras.join(", ")
            ));
        }
        // The summary names what the file's metadata named (a Deere sidecar) and what its rows named.
        let profile = self.reader.profile();
        let [crops, varieties, products] = std::mem::take(&mut self.named);
        let merge = |first: Option<&String>, rest: Vec<String>| {
            let mut all: Vec<String> = first.cloned().into_iter().collect();
            for v in rest {
                if !all.iter().any(|a| a.eq_ignore_ascii_case(&v)) {
                    all.push(v);
                }
            }
            all
        };
        let crops = merge(profile.crop.as_ref(), crops);
        let products = merge(profile.product.as_ref(), products);
        let varieties = merge(None, varieties);
        self.summary
            .set_context(crops, varieties, products, Vec::new());
        self.summary.set_counts(self.counts);
        FileOutcome {
            counts: self.counts,
            summary: self.summary.finish(),
            units: serde_json::Value::Object(units_document(self.plan.operation_type, &self.units)),
            warnings,
        }
    }
}

/// Arrays whose nested field names differ from the schema's (list item names, map entries) rebuilt with the
/// schema's type: same buffers, the schema's field names.
fn arrow_cast_like(a: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    let data = a
        .to_data()
        .into_builder()
        .data_type(to.clone())
        .build()
        .map_err(|e| Error::Output {
            path: Default::default(),
            message: format!("{e} ({} as {to})", a.data_type()),
        })?;
    Ok(arrow_array::make_array(data))
}

/// Converts a shapefile set to standard points in one GeoParquet file; returns the outcome and the plan.
pub fn write_shapefile(
    reader: &mut Reader,
    opts: &ConvertOptions,
    points: &Path,
    geoparquet: &GeoParquetOptions,
) -> Result<(FileOutcome, TabularPlan)> {
    let out_err = |e: &dyn std::fmt::Display| Error::Output {
        path: points.to_path_buf(),
        message: e.to_string(),
    };
    let mut stream = TabularStream::new(reader, opts)?;
    let file = std::fs::File::create(points).map_err(|e| out_err(&e))?;
    let mut w =
        GeoParquetWriter::try_new(std::io::BufWriter::new(file), stream.schema(), geoparquet)
            .map_err(|e| out_err(&e))?;
    while let Some(batch) = stream.next_batch()? {
        w.write(&batch).map_err(|e| out_err(&e))?;
    }
    w.finish().map_err(|e| out_err(&e))?;
    let plan = stream.plan().clone();
    Ok((stream.finish(), plan))
}
