//! Classes and legends (leaf-images.md §3.2).

use serde::{Deserialize, Serialize};

use crate::ramp::{Ramp, hex_colour};

/// How values are split into classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ClassMethod {
    /// Leaf's V2 rule: nearest-rank quantiles, break `k` = `v[floor(k·n/count)]` of the sorted values.
    Quantile,
    /// Equal-width classes between the minimum and the maximum (furrow's alternative; Leaf documents none).
    EqualInterval,
}

/// One class of a [`ClassLegend`]: `{"colorCode": "#C80000", "min": 4.1, "max": 7.9}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegendRange {
    /// The class colour, `#RRGGBB`.
    pub color_code: String,
    /// Lower bound (the previous class's `max`; the data minimum for the first class).
    pub min: f64,
    /// Upper bound, inclusive (the data maximum for the last class).
    pub max: f64,
}

/// The legend of a classified image: Leaf's `legend` object plus the unit of its bounds.
///
/// `{"ranges": [{"colorCode", "min", "max"}, …], "unit": "t/ha"}`, lowest class first. `unit` is furrow's
/// addition (Leaf puts units in `/operations/{id}/units`); clients that do not know it ignore it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassLegend {
    /// The classes, ascending; `ranges[i].max == ranges[i + 1].min`.
    pub ranges: Vec<LegendRange>,
    /// Unit of the bounds, as the caller passed it.
    pub unit: String,
}

/// The legend of a continuous (V1) image: the ramp and the values its 0 % and 100 % stand for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RampLegend {
    /// The ramp, in Leaf's `ramp` JSON shape.
    pub ramp: Ramp,
    /// The value at `0%`: the lowest cell value of the image.
    pub min: f64,
    /// The value at `100%`: the highest cell value of the image.
    pub max: f64,
    /// Unit of `min` and `max`.
    pub unit: String,
}

/// What the colours of an image mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Legend {
    /// Flat colours per class (operation images V2).
    Classes(ClassLegend),
    /// A continuous ramp over the cell values (file images V1).
    Ramp(RampLegend),
}

impl ClassLegend {
    /// Index of the class of `x`: the first whose `max ≥ x` (values above the last `max` go to the last
    /// class). `None` for NaN or an empty legend.
    pub fn class_of(&self, x: f64) -> Option<usize> {
        if x.is_nan() || self.ranges.is_empty() {
            return None;
        }
        let i = self.ranges.partition_point(|r| r.max < x);
        Some(i.min(self.ranges.len() - 1))
    }
}

/// Class bounds of `values` (finite only, at least one; reordered in place): `count + 1` boundaries from
/// the minimum to the maximum with equal consecutive boundaries merged, so fewer classes may come out.
pub(crate) fn breaks(values: &mut [f64], method: ClassMethod, count: usize) -> Vec<f64> {
    debug_assert!(!values.is_empty() && count >= 1);
    let n = values.len();
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let mut bounds = Vec::with_capacity(count + 1);
    bounds.push(min);
    match method {
        ClassMethod::Quantile => {
            // Selecting each rank in the part above the previous one is O(n) per break, cheaper than a sort.
            let mut lo = 0;
            for k in 1..count {
                let rank = k * n / count; // never below `lo`: ranks grow with k
                let (_, v, _) = values[lo..].select_nth_unstable_by(rank - lo, f64::total_cmp);
                bounds.push(*v);
                lo = rank;
            }
        }
        ClassMethod::EqualInterval => {
            for k in 1..count {
                bounds.push(min + (max - min) * k as f64 / count as f64);
            }
        }
    }
    bounds.push(max);
    bounds.dedup();
    bounds
}

/// The legend for boundaries from [`breaks`]: one range per pair, or one `min = max` range for a single
/// boundary; colours by position from the lowest class.
pub(crate) fn class_legend(bounds: &[f64], ramp: &Ramp, count: usize, unit: &str) -> ClassLegend {
    let colours = ramp.class_colours(count);
    let ranges = if bounds.len() == 1 {
        vec![LegendRange {
            color_code: hex_colour(colours[0]),
            min: bounds[0],
            max: bounds[0],
        }]
    } else {
        bounds
            .windows(2)
            .zip(&colours)
            .map(|(w, &c)| LegendRange {
                color_code: hex_colour(c),
                min: w[0],
                max: w[1],
            })
            .collect()
    };
    ClassLegend {
        ranges,
        unit: unit.to_owned(),
    }
}

#[cfg(test)]
mod tests;
