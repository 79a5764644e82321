//! Leaf's colour ramp (leaf-images.md §3.1) and the colours of classes drawn from it.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One stop of a [`Ramp`]: a position in percent of the value range and its RGB colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RampStop {
    /// 0 = the minimum, 100 = the maximum.
    pub percent: f64,
    /// The colour at that position.
    pub rgb: [u8; 3],
}

/// A colour ramp in GDAL `color-relief` style, as Leaf's `ramp` objects carry it.
///
/// Serialises to Leaf's JSON: `{"0%": [200, 0, 0], …, "100%": [0, 130, 0], "nv": [0, 0, 0, 0]}`, stops in
/// ascending order and `nv` (no value, RGBA) last.
#[derive(Debug, Clone, PartialEq)]
pub struct Ramp {
    stops: Vec<RampStop>,
    no_value: [u8; 4],
}

/// The stops of Leaf's ramp, the same for every image (leaf-images.md §3.1).
const LEAF_STOPS: [(f64, [u8; 3]); 7] = [
    (0.0, [200, 0, 0]),
    (35.0, [255, 40, 0]),
    (45.0, [255, 150, 0]),
    (55.0, [255, 240, 0]),
    (65.0, [0, 230, 0]),
    (75.0, [0, 190, 0]),
    (100.0, [0, 130, 0]),
];

impl Default for Ramp {
    fn default() -> Self {
        Self::leaf()
    }
}

impl Ramp {
    /// Leaf's ramp: dark red (low) through orange and yellow to dark green (high), transparent `nv`.
    pub fn leaf() -> Self {
        Self {
            stops: LEAF_STOPS
                .iter()
                .map(|&(percent, rgb)| RampStop { percent, rgb })
                .collect(),
            no_value: [0, 0, 0, 0],
        }
    }

    /// A ramp from its stops (sorted here by position) and no-value colour.
    ///
    /// Needs at least one stop, and every position finite in 0..=100.
    pub fn new(mut stops: Vec<RampStop>, no_value: [u8; 4]) -> Option<Self> {
        if stops.is_empty()
            || stops
                .iter()
                .any(|s| !s.percent.is_finite() || !(0.0..=100.0).contains(&s.percent))
        {
            return None;
        }
        stops.sort_by(|a, b| a.percent.total_cmp(&b.percent));
        Some(Self { stops, no_value })
    }

    /// The stops, ascending.
    pub fn stops(&self) -> &[RampStop] {
        &self.stops
    }

    /// The RGBA colour of cells without a value.
    pub fn no_value(&self) -> [u8; 4] {
        self.no_value
    }

    /// The colour at `percent` of the value range: linear per channel between the surrounding stops,
    /// clamped to the end stops, rounded to the nearest integer.
    pub fn at(&self, percent: f64) -> [u8; 3] {
        let stops = &self.stops;
        let first = stops[0];
        if percent.is_nan() || percent <= first.percent {
            return first.rgb;
        }
        let i = stops.partition_point(|s| s.percent <= percent);
        if i >= stops.len() {
            return stops[stops.len() - 1].rgb;
        }
        let (a, b) = (stops[i - 1], stops[i]);
        let t = (percent - a.percent) / (b.percent - a.percent);
        lerp(a.rgb, b.rgb, t)
    }

    /// The flat colours of `count` classes, lowest first.
    ///
    /// With as many classes as stops (Leaf's 7) they are the stop colours. Otherwise the stops are taken as
    /// evenly spaced and class `i` gets the colour at `i / (count − 1)` along them, so the first class is the
    /// first stop's colour and the last class the last stop's.
    pub fn class_colours(&self, count: usize) -> Vec<[u8; 3]> {
        let n = self.stops.len();
        if count == n {
            return self.stops.iter().map(|s| s.rgb).collect();
        }
        (0..count)
            .map(|i| {
                if count == 1 || n == 1 {
                    return self.stops[0].rgb;
                }
                let pos = i as f64 * (n - 1) as f64 / (count - 1) as f64;
                let lo = (pos.floor() as usize).min(n - 1);
                let hi = (lo + 1).min(n - 1);
                lerp(self.stops[lo].rgb, self.stops[hi].rgb, pos - lo as f64)
            })
            .collect()
    }
}

fn lerp(a: [u8; 3], b: [u8; 3], t: f64) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let mut out = [0u8; 3];
    for c in 0..3 {
        let v = f64::from(a[c]) + (f64::from(b[c]) - f64::from(a[c])) * t;
        out[c] = v.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// `#RRGGBB`, upper case as in Leaf's legends.
pub fn hex_colour(rgb: [u8; 3]) -> String {
    format!("#{:02X}{:02X}{:02X}", rgb[0], rgb[1], rgb[2])
}

/// Parses `#RRGGBB` (either case).
pub fn parse_hex_colour(s: &str) -> Option<[u8; 3]> {
    let h = s.strip_prefix('#')?;
    if h.len() != 6 || !h.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

impl Serialize for Ramp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.stops.len() + 1))?;
        for stop in &self.stops {
            map.serialize_entry(&format!("{}%", stop.percent), &stop.rgb)?;
        }
        map.serialize_entry("nv", &self.no_value)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Ramp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RampVisitor;
        impl<'de> Visitor<'de> for RampVisitor {
            type Value = Ramp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a colour ramp like {"0%": [200, 0, 0], "nv": [0, 0, 0, 0]}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ramp, A::Error> {
                use serde::de::Error as _;
                let mut stops = Vec::new();
                let mut no_value = [0, 0, 0, 0];
                while let Some(key) = map.next_key::<String>()? {
                    if key == "nv" {
                        let v: Vec<u8> = map.next_value()?;
                        no_value = match v[..] {
                            [r, g, b, a] => [r, g, b, a],
                            [r, g, b] => [r, g, b, 255],
                            _ => return Err(A::Error::custom("`nv` needs 3 or 4 channels")),
                        };
                    } else {
                        let percent = key
                            .strip_suffix('%')
                            .and_then(|p| p.parse::<f64>().ok())
                            .ok_or_else(|| A::Error::custom(format!("bad ramp stop `{key}`")))?;
                        let rgb: [u8; 3] = map.next_value()?;
                        stops.push(RampStop { percent, rgb });
                    }
                }
                Ramp::new(stops, no_value)
                    .ok_or_else(|| A::Error::custom("a ramp needs stops within 0%..100%"))
            }
        }
        deserializer.deserialize_map(RampVisitor)
    }
}

#[cfg(test)]
mod tests;
