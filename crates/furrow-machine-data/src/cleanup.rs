//! Cleanup rules (Leaf's `cleanupRules`) and the filtered view's options.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::Property;

/// A comparison operator of a cleanup rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Operator {
    /// greater than
    Gt,
    /// greater than or equal
    Gte,
    /// less than
    Lt,
    /// less than or equal
    Lte,
    /// equal (strings)
    Eq,
    /// not equal (strings)
    Ne,
}

/// One rule: a point passes when `value_of_point OPERATOR value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The operator.
    pub operator: Operator,
    /// A number (GT, GTE, LT, LTE) or a string (EQ, NE).
    pub value: serde_json::Value,
}

impl Rule {
    fn num(operator: Operator, v: f64) -> Rule {
        Rule {
            operator,
            value: serde_json::json!(v),
        }
    }
    fn text(operator: Operator, v: &str) -> Rule {
        Rule {
            operator,
            value: serde_json::json!(v),
        }
    }

    /// Whether a number passes (a rule whose value is not a number passes every number).
    pub fn passes_number(&self, v: f64) -> bool {
        NumberRule::of(self).passes(v)
    }

    /// Whether a string passes.
    pub fn passes_text(&self, v: &str) -> bool {
        let Some(r) = self.value.as_str() else {
            return true;
        };
        match self.operator {
            Operator::Eq => v == r,
            Operator::Ne => v != r,
            _ => true,
        }
    }
}

/// Leaf's `cleanupRules`: property → rules. A rule applies only to points that have the property;
/// setting the rules replaces the whole default set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CleanupRules {
    /// The rules by property name.
    pub rules: BTreeMap<String, Vec<Rule>>,
}

impl Default for CleanupRules {
    /// Leaf's default set.
    fn default() -> Self {
        use Operator::*;
        let mut rules = BTreeMap::new();
        rules.insert(
            "harvestMoisture".into(),
            vec![Rule::num(Gt, 0.0), Rule::num(Lt, 100.0)],
        );
        rules.insert("tillageDepthActual".into(), vec![Rule::num(Gte, 0.0)]);
        rules.insert("recordingStatus".into(), vec![Rule::text(Eq, "On")]);
        for p in [
            "appliedRate",
            "wetVolume",
            "wetVolumePerArea",
            "wetMass",
            "seedRate",
            "wetMassPerArea",
        ] {
            rules.insert(p.into(), vec![Rule::num(Gt, 0.0)]);
        }
        rules.insert("crop".into(), vec![Rule::text(Ne, "unknown")]);
        rules.insert("products".into(), vec![Rule::num(Gte, 0.0)]);
        CleanupRules { rules }
    }
}

/// Rules compiled against the property table.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledRules {
    pub(crate) numbers: Vec<(Property, NumberRule)>,
    pub(crate) recording: Vec<Rule>,
    pub(crate) crop: Vec<Rule>,
    pub(crate) products: Vec<NumberRule>,
}

/// A rule on a number with its value read once (the conversion tests every point against it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct NumberRule {
    operator: Operator,
    value: Option<f64>,
}

impl NumberRule {
    fn of(r: &Rule) -> NumberRule {
        NumberRule {
            operator: r.operator,
            value: r.value.as_f64(),
        }
    }

    /// The rule on METRIC values when its threshold is in units `factor` times the METRIC unit.
    fn scaled(self, factor: f64) -> NumberRule {
        NumberRule {
            operator: self.operator,
            value: self
                .value
                .map(|v| if factor > 0.0 { v / factor } else { v }),
        }
    }

    /// Clears `keep[i]` for each value that is present (not NaN) and fails the rule; one loop per
    /// operator, so the comparison is the loop's only work.
    pub(crate) fn mask(self, values: &[f64], keep: &mut [bool]) {
        let Some(r) = self.value else {
            return;
        };
        fn apply(values: &[f64], keep: &mut [bool], fails: impl Fn(f64) -> bool) {
            // 16 rows at a time, branch-free, which the compiler turns into vector compares
            let mut k16 = keep.chunks_exact_mut(16);
            let mut v16 = values.chunks_exact(16);
            for (k, v) in k16.by_ref().zip(v16.by_ref()) {
                for (k, v) in k.iter_mut().zip(v) {
                    *k = u8::from(*k) & u8::from(!fails(*v)) != 0;
                }
            }
            for (k, v) in k16.into_remainder().iter_mut().zip(v16.remainder()) {
                *k &= !fails(*v);
            }
        }
        // a NaN compares false with everything: `fails` is false for it in each form below
        match self.operator {
            Operator::Gt => apply(values, keep, |v| v <= r),
            Operator::Gte => apply(values, keep, |v| v < r),
            Operator::Lt => apply(values, keep, |v| v >= r),
            Operator::Lte => apply(values, keep, |v| v > r),
            Operator::Eq => apply(values, keep, |v| !v.is_nan() && v != r),
            Operator::Ne => apply(values, keep, |v| v == r),
        }
    }

    pub(crate) fn passes(self, v: f64) -> bool {
        let Some(r) = self.value else {
            return true;
        };
        match self.operator {
            Operator::Gt => v > r,
            Operator::Gte => v >= r,
            Operator::Lt => v < r,
            Operator::Lte => v <= r,
            Operator::Eq => v == r,
            Operator::Ne => v != r,
        }
    }
}

impl CleanupRules {
    /// Parses Leaf's JSON form (`{"wetMass": [{"operator": "GT", "value": 0}]}`).
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        serde_json::from_value(value.clone()).map_err(|e| Error::Rule {
            property: "cleanupRules".into(),
            message: e.to_string(),
        })
    }

    /// Replaces the rules of one property (an empty list removes them).
    pub fn set(&mut self, property: &str, rules: Vec<Rule>) -> &mut Self {
        if rules.is_empty() {
            self.rules.remove(property);
        } else {
            self.rules.insert(property.into(), rules);
        }
        self
    }

    /// The rules ready to test METRIC values: numeric thresholds are read in the file's output `units` (what
    /// a user of IMPERIAL writes in lb/ac is compared in t/ha).
    pub(crate) fn compile(&self, units: &crate::Units) -> Result<CompiledRules> {
        let mut c = CompiledRules::default();
        for (name, rules) in &self.rules {
            for r in rules {
                let numeric = matches!(
                    r.operator,
                    Operator::Gt | Operator::Gte | Operator::Lt | Operator::Lte
                );
                let bad = |message: &str| Error::Rule {
                    property: name.clone(),
                    message: message.into(),
                };
                if numeric && !r.value.is_number() {
                    return Err(bad("numeric operators need a number"));
                }
                match name.as_str() {
                    "recordingStatus" => c.recording.push(r.clone()),
                    "crop" => c.crop.push(r.clone()),
                    "products" => c
                        .products
                        .push(NumberRule::of(r).scaled(units.factor(Property::AppliedRate))),
                    other => match Property::from_name(other) {
                        Some(p) => c
                            .numbers
                            .push((p, NumberRule::of(r).scaled(units.factor(p)))),
                        None => return Err(bad("not a numeric standard property")),
                    },
                }
            }
        }
        Ok(c)
    }
}

/// Options of the filtered view (Leaf's filteredGeojson).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterOptions {
    /// Points slower than this (m/s) are left out (default 0.5).
    pub min_speed: f64,
    /// Harvest points whose wet mass per area lies more than this many standard deviations from the
    /// mean are left out (default 3, Leaf's `operationsOutliersLimit`).
    pub outlier_sigma: f64,
}

impl Default for FilterOptions {
    fn default() -> Self {
        FilterOptions {
            min_speed: 0.5,
            outlier_sigma: 3.0,
        }
    }
}

/// Position checks applied with the cleanup rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PositionChecks {
    /// Drop points whose implied speed from the previous point exceeds this (m/s; default 40 m/s =
    /// 144 km/h, beyond any field machine).
    pub max_speed: f64,
    /// Drop points further than this (m) from the previous one when no time difference is known
    /// (default 200 m).
    pub max_jump: f64,
}

impl Default for PositionChecks {
    fn default() -> Self {
        PositionChecks {
            max_speed: 40.0,
            max_jump: 200.0,
        }
    }
}

/// furrow's plausibility checks, applied with the cleanup rules beside Leaf's `cleanupRules` (which they
/// leave as Leaf defines them): values no machine of the operation produces. Dropped points are counted
/// under their own names in `pointCounts` (docs/MACHINE-DATA.md, "Plausibility").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plausibility {
    /// Fastest plausible speed of a harvest, m/s (default 15 m/s = 54 km/h: combines and forage
    /// harvesters travel at most 40 km/h on the road). A faster point is dropped (`implausibleSpeed`).
    pub max_speed_harvest: f64,
    /// Fastest plausible speed of any other operation, m/s (default 20 m/s = 72 km/h).
    pub max_speed: f64,
    /// Largest plausible wet mass per area, t/ha (default 250: beyond sugar beet, potatoes and sugar
    /// cane). A point that logs more is dropped (`implausibleYield`); where the value is derived from crop
    /// flow over a point's area, that area was too small to give one: the per-area values are null and the
    /// mass stays (`yieldPerAreaUnknown`).
    pub max_wet_mass_per_area: f64,
}

impl Default for Plausibility {
    fn default() -> Self {
        Plausibility {
            max_speed_harvest: 15.0,
            max_speed: 20.0,
            max_wet_mass_per_area: 250.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NumberRule, Operator, Rule};

    #[test]
    fn masks_agree_with_the_rule_one_value_at_a_time() {
        // each value in every lane of a 16-row block and in the remainder: 9 values cycled over 41 rows
        let values: Vec<f64> = [
            -1.0,
            0.0,
            -0.0,
            0.5,
            1.0,
            2.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]
        .into_iter()
        .cycle()
        .take(41)
        .collect();
        let mut checked = 0;
        for op in [
            Operator::Gt,
            Operator::Gte,
            Operator::Lt,
            Operator::Lte,
            Operator::Eq,
            Operator::Ne,
        ] {
            for limit in [
                serde_json::json!(1.0),
                serde_json::json!(0),
                serde_json::json!("x"),
            ] {
                let rule = NumberRule::of(&Rule {
                    operator: op,
                    value: limit,
                });
                // rows already dropped stay dropped; a missing value (NaN) passes every rule
                for pattern in [0, 1, 2] {
                    let start = |i: usize| match pattern {
                        0 => true,
                        1 => false,
                        _ => i % 3 != 1,
                    };
                    let mut keep: Vec<bool> = (0..values.len()).map(start).collect();
                    rule.mask(&values, &mut keep);
                    for (i, (v, k)) in values.iter().zip(&keep).enumerate() {
                        let start = start(i);
                        let expected = start && (v.is_nan() || rule.passes(*v));
                        assert_eq!(*k, expected, "{op:?} {:?} {v} from {start}", rule.value);
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 6 * 3 * 3 * 41);
    }
}
