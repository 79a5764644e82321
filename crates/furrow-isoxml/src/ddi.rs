//! The DDI dictionary (ISO 11783-11) and value presentation.

use std::fmt;

use serde::Serialize;

#[rustfmt::skip]
mod table;

/// First DDI of the proprietary range.
pub const PROPRIETARY_DDI_START: u16 = 0xE000;
/// Last DDI of the proprietary range.
pub const PROPRIETARY_DDI_END: u16 = 0xFFFE;
/// DDI of PGN-based data (`DFFE`): the value is a bit field of an NMEA 2000 / J1939 message.
pub const PGN_BASED_DDI: u16 = 0xDFFE;
/// DDI "Request Default Process Data" (`DFFF`).
pub const REQUEST_DEFAULT_DDI: u16 = 0xDFFF;

/// One entry of the DDI dictionary.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DdiEntry {
    /// The DDI number.
    pub ddi: u16,
    /// Its name.
    pub name: &'static str,
    /// Unit of `raw × resolution` (`n.a.` for states and enums, `#` for counts).
    pub unit: &'static str,
    /// Bit resolution: physical value = raw × resolution; `0` means no scaling known.
    pub resolution: f64,
}

/// What a DDI number stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DdiKind {
    /// A DDI of the dictionary.
    Standard,
    /// `DFFE`, PGN-based data.
    PgnBased,
    /// `DFFF`, request default process data.
    RequestDefault,
    /// `E000`–`FFFE`: manufacturer-specific, no public meaning.
    Proprietary,
    /// `FFFF`, reserved.
    Reserved,
    /// Not in this dictionary (newer than it, or invalid).
    Unknown,
}

/// The whole dictionary, sorted by DDI.
pub fn ddi_table() -> &'static [DdiEntry] {
    table::DDI_TABLE
}

/// The dictionary entry of a DDI; `None` for proprietary, reserved and unknown DDIs.
pub fn ddi_entry(ddi: u16) -> Option<&'static DdiEntry> {
    if is_proprietary_ddi(ddi) || ddi == 0xFFFF {
        return None;
    }
    let table = table::DDI_TABLE;
    table
        .binary_search_by_key(&ddi, |e| e.ddi)
        .ok()
        .and_then(|i| table.get(i))
}

/// Whether a DDI lies in the proprietary range `E000`–`FFFE`.
pub fn is_proprietary_ddi(ddi: u16) -> bool {
    (PROPRIETARY_DDI_START..=PROPRIETARY_DDI_END).contains(&ddi)
}

/// Classifies a DDI number.
pub fn ddi_kind(ddi: u16) -> DdiKind {
    match ddi {
        PGN_BASED_DDI => DdiKind::PgnBased,
        REQUEST_DEFAULT_DDI => DdiKind::RequestDefault,
        0xFFFF => DdiKind::Reserved,
        d if is_proprietary_ddi(d) => DdiKind::Proprietary,
        d if ddi_entry(d).is_some() => DdiKind::Standard,
        _ => DdiKind::Unknown,
    }
}

/// The physical value `raw × resolution` in the dictionary unit; `None` when no scaling is known
/// (proprietary, unknown, or resolution 0).
pub fn scale_raw(ddi: u16, raw: i64) -> Option<f64> {
    let entry = ddi_entry(ddi)?;
    if entry.resolution == 0.0 {
        return None;
    }
    Some(raw as f64 * entry.resolution)
}

/// How a terminal displays a raw value: `(raw + offset) × scale`, with `decimals` and `unit`
/// (from a `DVP` in a device or a root `VPN`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValuePresentation {
    /// Offset added to the raw value.
    pub offset: i64,
    /// Scale applied to `raw + offset`.
    pub scale: f64,
    /// Decimals to show.
    pub decimals: u8,
    /// Unit designator, free text.
    pub unit: Option<String>,
}

impl ValuePresentation {
    /// Applies the presentation to a raw value.
    pub fn apply(&self, raw: i64) -> f64 {
        (raw.saturating_add(self.offset)) as f64 * self.scale
    }
}

/// Where a [`DisplayValue`]'s scaling came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ValueSource {
    /// A value presentation (`DVP`/`VPN`).
    Presentation,
    /// The DDI dictionary resolution.
    Dictionary,
    /// No scaling known: the raw value.
    Raw,
}

/// A raw value turned into something to show a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisplayValue {
    /// The scaled value.
    pub value: f64,
    /// Unit, when known.
    pub unit: Option<String>,
    /// Decimals to show, when the presentation says so.
    pub decimals: Option<u8>,
    /// Where the scaling came from.
    pub source: ValueSource,
}

impl fmt::Display for DisplayValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.decimals {
            Some(d) => write!(f, "{:.*}", usize::from(d.min(9)), self.value)?,
            None => write!(f, "{}", self.value)?,
        }
        match self.unit.as_deref() {
            Some(unit) if !unit.trim().is_empty() && unit != "n.a." => write!(f, " {unit}"),
            _ => Ok(()),
        }
    }
}

/// Presents a raw value: through `presentation` when given, else through the DDI resolution, else raw.
pub fn present(ddi: u16, raw: i64, presentation: Option<&ValuePresentation>) -> DisplayValue {
    if let Some(p) = presentation {
        return DisplayValue {
            value: p.apply(raw),
            unit: p.unit.clone(),
            decimals: Some(p.decimals),
            source: ValueSource::Presentation,
        };
    }
    match (scale_raw(ddi, raw), ddi_entry(ddi)) {
        (Some(value), Some(entry)) => DisplayValue {
            value,
            unit: Some(entry.unit.to_owned()),
            decimals: None,
            source: ValueSource::Dictionary,
        },
        _ => DisplayValue {
            value: raw as f64,
            unit: None,
            decimals: None,
            source: ValueSource::Raw,
        },
    }
}

/// Short name of a DDI for people: the dictionary name, or a description of its range.
pub fn ddi_name(ddi: u16) -> String {
    match ddi_kind(ddi) {
        DdiKind::Standard => ddi_entry(ddi)
            .map(|e| e.name.to_owned())
            .unwrap_or_default(),
        DdiKind::PgnBased => "PGN Based Data".to_owned(),
        DdiKind::RequestDefault => "Request Default Process Data".to_owned(),
        DdiKind::Proprietary => format!("Proprietary DDI {ddi:04X}"),
        DdiKind::Reserved => "Reserved".to_owned(),
        DdiKind::Unknown => format!("Unknown DDI {ddi:04X}"),
    }
}

#[cfg(test)]
mod tests;
