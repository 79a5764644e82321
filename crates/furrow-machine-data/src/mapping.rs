//! The reviewed DDI → standard property table (documented in `docs/MACHINE-DATA.md`).
//!
//! Every mapped DDI is listed here once, with the factor that turns the raw logged integer into the
//! METRIC unit of its property. The factor already contains the DDI's resolution from ISO 11783-11
//! (a unit test checks each against the dictionary). DDIs not listed go to the `extra` column.

use crate::schema::{OperationType, Property, RateKind};

/// What a logged DDI becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Target {
    /// A numeric property: `raw × factor` in the property's METRIC unit.
    Property(Property),
    /// Actual Work State (0x008D): 1 = on, anything else off.
    WorkState,
    /// Actual Condensed Work State: 2 bits per section for 16 sections; the number is the block
    /// (0 for sections 1-16 … 15 for 241-256).
    CondensedWorkState(u8),
    /// Actual Working Width (mm): `equipmentWidth`, and the width of a section when logged by one.
    Width,
    /// Total Fuel Consumption (ml, cumulative): `fuelUsed` is the difference between points.
    TotalFuel,
    /// Instantaneous Fuel Consumption per Time (mm³/s): `fuelUsed` = rate × time when no total exists.
    FuelRate,
}

/// One row of the mapping table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DdiMapping {
    /// The DDI.
    pub ddi: u16,
    /// What it becomes.
    pub target: Target,
    /// Raw → METRIC unit of the target (raw × resolution × unit conversion).
    pub factor: f64,
    /// The METRIC unit of the result.
    pub unit: &'static str,
    /// The operation type the DDI is evidence of, if any.
    pub evidence: Option<OperationType>,
    /// For applied rates: volume or mass.
    pub rate: Option<RateKind>,
}

const fn m(
    ddi: u16,
    target: Target,
    factor: f64,
    unit: &'static str,
    evidence: Option<OperationType>,
    rate: Option<RateKind>,
) -> DdiMapping {
    DdiMapping {
        ddi,
        target,
        factor,
        unit,
        evidence,
        rate,
    }
}

use OperationType::{Applied, Harvested, Planted, Tillage};
use Property as P;
use Target::Property as Prop;

/// The table. Units of the raw values: see `furrow_isoxml::ddi_entry`.
pub const DDI_MAPPINGS: &[DdiMapping] = &[
    // mm³/m² × 0.01 → L/ha: × 1e-4
    m(
        0x0001,
        Prop(P::AppliedRateTarget),
        1e-4,
        "L/ha",
        Some(Applied),
        Some(RateKind::Volume),
    ),
    m(
        0x0002,
        Prop(P::AppliedRate),
        1e-4,
        "L/ha",
        Some(Applied),
        Some(RateKind::Volume),
    ),
    // mg/m² → kg/ha: × 0.01
    m(
        0x0006,
        Prop(P::AppliedRateTarget),
        0.01,
        "kg/ha",
        Some(Applied),
        Some(RateKind::Mass),
    ),
    m(
        0x0007,
        Prop(P::AppliedRate),
        0.01,
        "kg/ha",
        Some(Applied),
        Some(RateKind::Mass),
    ),
    // /m² × 0.001 → seeds/ha: × 10
    m(
        0x000B,
        Prop(P::SeedRateTarget),
        10.0,
        "seeds/ha",
        Some(Planted),
        None,
    ),
    m(
        0x000C,
        Prop(P::SeedRate),
        10.0,
        "seeds/ha",
        Some(Planted),
        None,
    ),
    // mm → cm
    m(
        0x0033,
        Prop(P::TillageDepthTarget),
        0.1,
        "cm",
        Some(Tillage),
        None,
    ),
    m(
        0x0034,
        Prop(P::TillageDepthActual),
        0.1,
        "cm",
        Some(Tillage),
        None,
    ),
    m(0x0039, Prop(P::SeedDepth), 0.1, "cm", Some(Planted), None),
    // mm → m
    m(0x0043, Target::Width, 0.001, "m", None, None),
    // ml/m² → m³/ha: × 0.01
    m(
        0x0053,
        Prop(P::WetVolumePerArea),
        0.01,
        "m3/ha",
        Some(Harvested),
        None,
    ),
    // mg/m² → t/ha: × 1e-5
    m(
        0x0054,
        Prop(P::WetMassPerArea),
        1e-5,
        "t/ha",
        Some(Harvested),
        None,
    ),
    // mg/s → kg/s
    m(
        0x0057,
        Prop(P::CropFlow),
        1e-6,
        "kg/s",
        Some(Harvested),
        None,
    ),
    // ppm → %
    m(
        0x0063,
        Prop(P::HarvestMoisture),
        1e-4,
        "%",
        Some(Harvested),
        None,
    ),
    m(0x008D, Target::WorkState, 1.0, "", None, None),
    m(0x0094, Target::TotalFuel, 1e-3, "L", None, None),
    m(0x0095, Target::FuelRate, 1e-6, "L/s", None, None),
    m(0x00A1, Target::CondensedWorkState(0), 1.0, "", None, None),
    m(0x00A2, Target::CondensedWorkState(1), 1.0, "", None, None),
    m(0x00A3, Target::CondensedWorkState(2), 1.0, "", None, None),
    m(0x00A4, Target::CondensedWorkState(3), 1.0, "", None, None),
    m(0x00A5, Target::CondensedWorkState(4), 1.0, "", None, None),
    m(0x00A6, Target::CondensedWorkState(5), 1.0, "", None, None),
    m(0x00A7, Target::CondensedWorkState(6), 1.0, "", None, None),
    m(0x00A8, Target::CondensedWorkState(7), 1.0, "", None, None),
    m(0x00A9, Target::CondensedWorkState(8), 1.0, "", None, None),
    m(0x00AA, Target::CondensedWorkState(9), 1.0, "", None, None),
    m(0x00AB, Target::CondensedWorkState(10), 1.0, "", None, None),
    m(0x00AC, Target::CondensedWorkState(11), 1.0, "", None, None),
    m(0x00AD, Target::CondensedWorkState(12), 1.0, "", None, None),
    m(0x00AE, Target::CondensedWorkState(13), 1.0, "", None, None),
    m(0x00AF, Target::CondensedWorkState(14), 1.0, "", None, None),
    m(0x00B0, Target::CondensedWorkState(15), 1.0, "", None, None),
    m(
        0x00B5,
        Prop(P::DryMassPerArea),
        1e-5,
        "t/ha",
        Some(Harvested),
        None,
    ),
    // mm/s → m/s
    m(0x018D, Prop(P::Speed), 1e-3, "m/s", None, None),
    m(
        0x0196,
        Prop(P::ProteinPercentage),
        1e-4,
        "%",
        Some(Harvested),
        None,
    ),
    // ppm → percentage
    m(
        0x019F,
        Prop(P::Singulation),
        1e-4,
        "percentage",
        Some(Planted),
        None,
    ),
    m(
        0x01A1,
        Prop(P::Skips),
        1e-4,
        "percentage",
        Some(Planted),
        None,
    ),
    m(
        0x01A3,
        Prop(P::Doubles),
        1e-4,
        "percentage",
        Some(Planted),
        None,
    ),
    // N → kgf
    m(
        0x01AB,
        Prop(P::DownForce),
        1.0 / 9.806_65,
        "kgf",
        Some(Planted),
        None,
    ),
];

/// DDIs that show an operation type without being mapped to a point property (cumulative totals).
pub(crate) const EVIDENCE_ONLY: &[(u16, OperationType)] = &[
    (0x0059, Harvested), // Yield Total Volume
    (0x005A, Harvested), // Yield Total Mass
    (0x0050, Applied),   // Application Total Volume
    (0x0051, Applied),   // Application Total Mass
    (0x0052, Planted),   // Application Total Count (seeds)
];

/// The mapping of a DDI, if it has one.
pub fn ddi_mapping(ddi: u16) -> Option<&'static DdiMapping> {
    DDI_MAPPINGS.iter().find(|m| m.ddi == ddi)
}

/// The operation type a DDI is evidence of, if any.
pub fn ddi_evidence(ddi: u16) -> Option<OperationType> {
    ddi_mapping(ddi).and_then(|m| m.evidence).or_else(|| {
        EVIDENCE_ONLY
            .iter()
            .find(|(d, _)| *d == ddi)
            .map(|(_, o)| *o)
    })
}

/// The ISO 11783-5 device class of a client NAME (hex, most significant byte first), e.g.
/// `A00E84000DF0E439` → 7 (harvesters).
pub fn device_class(client_name: &str) -> Option<u8> {
    let s = client_name.trim();
    if s.len() != 16 {
        return None;
    }
    let v = u64::from_str_radix(s, 16).ok()?;
    Some(((v >> 49) & 0x7F) as u8)
}

/// The operation type of a device class of industry group 2 (agriculture), if it implies one.
pub fn class_operation(class: u8) -> Option<OperationType> {
    match class {
        2 | 3 => Some(Tillage),
        4 => Some(Planted),
        5 | 6 => Some(Applied),
        7..=9 => Some(Harvested),
        _ => None,
    }
}

/// The name of a device class (ISO 11783-1 Annex, industry group 2), for machinery and
/// `originalOperationType`.
pub fn class_name(class: u8) -> &'static str {
    match class {
        0 => "Non-specific",
        1 => "Tractor",
        2 => "PrimarySoilTillage",
        3 => "SecondarySoilTillage",
        4 => "PlantersSeeders",
        5 => "Fertilizers",
        6 => "Sprayers",
        7 => "Harvesters",
        8 => "RootHarvesters",
        9 => "Forage",
        10 => "Irrigation",
        11 => "TransportTrailers",
        12 => "FarmYardOperations",
        13 => "PoweredAuxiliaryDevices",
        14 => "SpecialCrops",
        15 => "Earthwork",
        16 => "Skidder",
        17 => "SensorSystems",
        _ => "Other",
    }
}
