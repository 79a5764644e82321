//! Vendor column profiles: the reviewed table that maps vendor columns to furrow's standard
//! properties, the unit table, and how a set's columns are resolved against them.

use std::collections::HashMap;

use crate::dbf::DbfField;
use crate::error::{Warning, WarningKind};

/// Who wrote an export, as recognised from its columns and sidecars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Vendor {
    /// John Deere Operations Center and Gen4 display exports.
    JohnDeere,
    /// Ag Leader SMS exports.
    AgLeaderSms,
    /// Anything else: only columns whose names state their unit are mapped.
    Generic,
}

/// The operation a data set records (Leaf's `operationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperationType {
    /// Harvest (yield) data.
    Harvested,
    /// Planting / seeding data.
    Planted,
    /// Application (spraying, spreading) data.
    Applied,
    /// Tillage data.
    Tillage,
    /// Nothing says which.
    Other,
}

impl OperationType {
    /// Leaf's name: `harvested`, `planted`, `applied`, `tillage` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationType::Harvested => "harvested",
            OperationType::Planted => "planted",
            OperationType::Applied => "applied",
            OperationType::Tillage => "tillage",
            OperationType::Other => "other",
        }
    }
}

/// What a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Quantity {
    /// Base: metre.
    Length,
    /// Base: metre per second.
    Speed,
    /// Base: degree.
    Angle,
    /// Base: percent.
    Percent,
    /// Base: kilogram per hectare.
    MassPerArea,
    /// Base: litre per hectare.
    VolumePerArea,
    /// Base: seeds per hectare.
    CountPerArea,
    /// Base: kilogram.
    Mass,
    /// Base: litre.
    Volume,
    /// Base: kilogram per second.
    MassFlow,
    /// Base: second.
    Duration,
}

/// One source unit: its canonical code, the spellings vendors use, and its factor to the base unit
/// of its quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct UnitDef {
    /// Canonical code, e.g. `bu/ac`.
    pub code: &'static str,
    /// Other spellings (case-insensitive), e.g. John Deere's `bu1ac-1`.
    pub aliases: &'static [&'static str],
    /// What it measures.
    pub quantity: Quantity,
    /// Multiply a value in this unit by this to get the quantity's base unit.
    pub to_base: f64,
}

const ACRE_HA: f64 = 0.404_685_642_24;
const LB_KG: f64 = 0.453_592_37;
const US_GAL_L: f64 = 3.785_411_784;
const US_BUSHEL_L: f64 = 35.239_070_166_88;
const US_FLOZ_L: f64 = 0.029_573_529_562_5;
const OZ_KG: f64 = 0.028_349_523_125;

/// The source units this crate converts (exact definitions: international foot and pound, US gallon
/// and bushel, acre = 4046.8564224 m²).
pub const UNITS: &[UnitDef] = &[
    UnitDef {
        code: "m",
        aliases: &["meter", "metre", "meters", "metres"],
        quantity: Quantity::Length,
        to_base: 1.0,
    },
    UnitDef {
        code: "ft",
        aliases: &["foot", "feet"],
        quantity: Quantity::Length,
        to_base: 0.3048,
    },
    UnitDef {
        code: "in",
        aliases: &["inch", "inches"],
        quantity: Quantity::Length,
        to_base: 0.0254,
    },
    UnitDef {
        code: "cm",
        aliases: &[],
        quantity: Quantity::Length,
        to_base: 0.01,
    },
    UnitDef {
        code: "m/s",
        aliases: &["m1s-1", "mps"],
        quantity: Quantity::Speed,
        to_base: 1.0,
    },
    UnitDef {
        code: "mph",
        aliases: &["mi1hr-1", "mi/h", "mi1h-1"],
        quantity: Quantity::Speed,
        to_base: 0.447_04,
    },
    UnitDef {
        code: "km/h",
        aliases: &["km1hr-1", "km1h-1", "kph", "kmh"],
        quantity: Quantity::Speed,
        to_base: 1.0 / 3.6,
    },
    UnitDef {
        code: "ft/s",
        aliases: &["ft1s-1"],
        quantity: Quantity::Speed,
        to_base: 0.3048,
    },
    UnitDef {
        code: "deg",
        aliases: &["arcdeg", "degree", "degrees", "°"],
        quantity: Quantity::Angle,
        to_base: 1.0,
    },
    UnitDef {
        code: "%",
        aliases: &["prcnt", "percent", "pct"],
        quantity: Quantity::Percent,
        to_base: 1.0,
    },
    UnitDef {
        code: "bu/ac",
        aliases: &["bu1ac-1"],
        quantity: Quantity::VolumePerArea,
        to_base: US_BUSHEL_L / ACRE_HA,
    },
    UnitDef {
        code: "m3/ha",
        aliases: &["m31ha-1", "m3ha-1"],
        quantity: Quantity::VolumePerArea,
        to_base: 1000.0,
    },
    UnitDef {
        code: "L/ha",
        aliases: &["l1ha-1"],
        quantity: Quantity::VolumePerArea,
        to_base: 1.0,
    },
    UnitDef {
        code: "gal/ac",
        aliases: &["gal1ac-1"],
        quantity: Quantity::VolumePerArea,
        to_base: US_GAL_L / ACRE_HA,
    },
    UnitDef {
        code: "floz/ac",
        aliases: &["floz1ac-1"],
        quantity: Quantity::VolumePerArea,
        to_base: US_FLOZ_L / ACRE_HA,
    },
    UnitDef {
        code: "pt/ac",
        aliases: &["pt1ac-1"],
        quantity: Quantity::VolumePerArea,
        to_base: US_GAL_L / 8.0 / ACRE_HA,
    },
    UnitDef {
        code: "qt/ac",
        aliases: &["qt1ac-1"],
        quantity: Quantity::VolumePerArea,
        to_base: US_GAL_L / 4.0 / ACRE_HA,
    },
    UnitDef {
        code: "lb/ac",
        aliases: &["lb1ac-1"],
        quantity: Quantity::MassPerArea,
        to_base: LB_KG / ACRE_HA,
    },
    UnitDef {
        code: "oz/ac",
        aliases: &["ozm1ac-1"],
        quantity: Quantity::MassPerArea,
        to_base: OZ_KG / ACRE_HA,
    },
    UnitDef {
        code: "t/ha",
        aliases: &["mg1ha-1", "t1ha-1"],
        quantity: Quantity::MassPerArea,
        to_base: 1000.0,
    },
    UnitDef {
        code: "kg/ha",
        aliases: &["kg1ha-1"],
        quantity: Quantity::MassPerArea,
        to_base: 1.0,
    },
    UnitDef {
        code: "seeds/ac",
        aliases: &["seeds1ac-1", "sds/ac"],
        quantity: Quantity::CountPerArea,
        to_base: 1.0 / ACRE_HA,
    },
    UnitDef {
        code: "seeds/ha",
        aliases: &["seeds1ha-1", "sds/ha"],
        quantity: Quantity::CountPerArea,
        to_base: 1.0,
    },
    UnitDef {
        code: "lb",
        aliases: &["pound", "pounds"],
        quantity: Quantity::Mass,
        to_base: LB_KG,
    },
    UnitDef {
        code: "kg",
        aliases: &[],
        quantity: Quantity::Mass,
        to_base: 1.0,
    },
    UnitDef {
        code: "t",
        aliases: &["tonne"],
        quantity: Quantity::Mass,
        to_base: 1000.0,
    },
    UnitDef {
        code: "bu",
        aliases: &["bushel"],
        quantity: Quantity::Volume,
        to_base: US_BUSHEL_L,
    },
    UnitDef {
        code: "L",
        aliases: &["l", "litre", "liter"],
        quantity: Quantity::Volume,
        to_base: 1.0,
    },
    UnitDef {
        code: "gal",
        aliases: &[],
        quantity: Quantity::Volume,
        to_base: US_GAL_L,
    },
    UnitDef {
        code: "m3",
        aliases: &[],
        quantity: Quantity::Volume,
        to_base: 1000.0,
    },
    UnitDef {
        code: "lb/s",
        aliases: &["lb1s-1"],
        quantity: Quantity::MassFlow,
        to_base: LB_KG,
    },
    UnitDef {
        code: "kg/s",
        aliases: &["kg1s-1"],
        quantity: Quantity::MassFlow,
        to_base: 1.0,
    },
    UnitDef {
        code: "s",
        aliases: &["sec", "second", "seconds"],
        quantity: Quantity::Duration,
        to_base: 1.0,
    },
];

/// Finds a unit by code or alias (case-insensitive).
pub fn unit(code: &str) -> Option<&'static UnitDef> {
    let c = code.trim();
    UNITS.iter().find(|u| {
        u.code.eq_ignore_ascii_case(c) || u.aliases.iter().any(|a| a.eq_ignore_ascii_case(c))
    })
}

/// A standard property: its METRIC unit (docs/MACHINE-DATA.md) per quantity, with the factor from
/// the quantity's base unit.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PropertyDef {
    /// Leaf's camelCase name.
    pub name: &'static str,
    /// Accepted quantities with the METRIC unit and the factor base → METRIC.
    pub units: &'static [(Quantity, &'static str, f64)],
}

/// The numeric standard properties this crate maps to, with their METRIC units.
pub const PROPERTIES: &[PropertyDef] = &[
    PropertyDef {
        name: "distance",
        units: &[(Quantity::Length, "m", 1.0)],
    },
    PropertyDef {
        name: "elevation",
        units: &[(Quantity::Length, "m", 1.0)],
    },
    PropertyDef {
        name: "equipmentWidth",
        units: &[(Quantity::Length, "m", 1.0)],
    },
    PropertyDef {
        name: "speed",
        units: &[(Quantity::Speed, "m/s", 1.0)],
    },
    PropertyDef {
        name: "heading",
        units: &[(Quantity::Angle, "arcdeg", 1.0)],
    },
    PropertyDef {
        name: "harvestMoisture",
        units: &[(Quantity::Percent, "%", 1.0)],
    },
    PropertyDef {
        name: "wetMassPerArea",
        units: &[(Quantity::MassPerArea, "t/ha", 0.001)],
    },
    PropertyDef {
        name: "dryMassPerArea",
        units: &[(Quantity::MassPerArea, "t/ha", 0.001)],
    },
    PropertyDef {
        name: "wetVolumePerArea",
        units: &[(Quantity::VolumePerArea, "m3/ha", 0.001)],
    },
    PropertyDef {
        name: "dryVolumePerArea",
        units: &[(Quantity::VolumePerArea, "m3/ha", 0.001)],
    },
    PropertyDef {
        name: "wetMass",
        units: &[(Quantity::Mass, "t", 0.001)],
    },
    PropertyDef {
        name: "dryMass",
        units: &[(Quantity::Mass, "t", 0.001)],
    },
    PropertyDef {
        name: "wetVolume",
        units: &[(Quantity::Volume, "m3", 0.001)],
    },
    PropertyDef {
        name: "dryVolume",
        units: &[(Quantity::Volume, "m3", 0.001)],
    },
    PropertyDef {
        name: "cropFlow",
        units: &[(Quantity::MassFlow, "kg/s", 1.0)],
    },
    PropertyDef {
        name: "seedRate",
        units: &[(Quantity::CountPerArea, "seeds/ha", 1.0)],
    },
    PropertyDef {
        name: "seedRateTarget",
        units: &[(Quantity::CountPerArea, "seeds/ha", 1.0)],
    },
    PropertyDef {
        name: "appliedRate",
        units: &[
            (Quantity::VolumePerArea, "L/ha", 1.0),
            (Quantity::MassPerArea, "kg/ha", 1.0),
        ],
    },
    PropertyDef {
        name: "appliedRateTarget",
        units: &[
            (Quantity::VolumePerArea, "L/ha", 1.0),
            (Quantity::MassPerArea, "kg/ha", 1.0),
        ],
    },
    PropertyDef {
        name: "samplingInterval",
        units: &[(Quantity::Duration, "s", 1.0)],
    },
];

/// What a profile row maps a column to.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Target {
    /// A numeric standard property; with several candidates, the first whose quantity matches the
    /// source unit's (e.g. `AppliedRate` in seeds/ac → `seedRate`, in gal/ac → `appliedRate`).
    Number(&'static [&'static str]),
    /// A unitless numeric property (`sectionId`).
    Id(&'static str),
    /// A text property (`variety`, `product`).
    Text(&'static str),
    /// Ag Leader's `Product`: the crop in a harvest, the product otherwise.
    CropOrProduct,
    /// John Deere's numeric crop id, decoded to `crop` ([`JD_CROP_CODES`]).
    CropCode,
    /// John Deere's `Machine`: an index into the sidecar's `MachineUsage`, decoded to `machinery`
    /// (the serial number, else the machine id).
    Machine,
    /// A time column; lower rank wins when several are present.
    Time {
        /// Preference among the time columns of a set (0 first).
        rank: u8,
    },
    /// A known column with no standard property: kept as an extra with its name.
    Extra,
}

/// Where a row's source unit comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SourceUnit {
    /// No unit (ids, text, times).
    None,
    /// Stated by the column name or by convention for this quantity (a sidecar unit, if any, wins).
    Fixed(&'static str),
    /// Only from the `*-Deere-Metadata.json` sidecar: without it the column is not mapped.
    Sidecar,
    /// Ag Leader SMS names cut the unit off (`Elevation(ft)` → `Elevation_`): the unit holds only
    /// when the same export's uncut names (`Distance_f`, `Speed_mph_`) show imperial units.
    ImperialExport(&'static str),
    /// Never stated (e.g. Ag Leader `Rt_Apd_Liq`: gal/ac, fl oz/ac or pt/ac): never mapped.
    Unstated,
}

/// One reviewed row: a vendor's column and what it becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ProfileRow {
    /// The profile the row belongs to.
    pub vendor: Vendor,
    /// The column name as the vendor writes it. Matched ignoring case and any character that is
    /// not a letter or digit; a DBF name of 10 or 11 characters also matches a longer row name it
    /// is the start of (DBF cuts names).
    pub column: &'static str,
    /// What it becomes.
    pub target: Target,
    /// Its unit.
    pub unit: SourceUnit,
    /// The operation type the column is evidence of, if any.
    pub evidence: Option<OperationType>,
}

const fn row(
    vendor: Vendor,
    column: &'static str,
    target: Target,
    unit: SourceUnit,
    evidence: Option<OperationType>,
) -> ProfileRow {
    ProfileRow {
        vendor,
        column,
        target,
        unit,
        evidence,
    }
}

use OperationType::{Applied, Harvested, Planted};
use SourceUnit::{Fixed, ImperialExport, Sidecar, Unstated};
use Vendor::{AgLeaderSms, Generic, JohnDeere};

const NONE: SourceUnit = SourceUnit::None;
const RATE: &[&str] = &["seedRate", "appliedRate"];
const RATE_TARGET: &[&str] = &["seedRateTarget", "appliedRateTarget"];

/// The reviewed vendor profile table (documented in `docs/SHAPEFILE.md`).
pub const PROFILE_TABLE: &[ProfileRow] = &[
    // John Deere Operations Center / Gen4 exports: units from `*-Deere-Metadata.json`.
    row(
        JohnDeere,
        "VRYIELDVOL",
        Target::Number(&["dryVolumePerArea", "dryMassPerArea"]),
        Sidecar,
        Some(Harvested),
    ),
    row(
        JohnDeere,
        "WetMass",
        Target::Number(&["wetMassPerArea", "wetMass"]),
        Sidecar,
        Some(Harvested),
    ),
    row(
        JohnDeere,
        "Moisture",
        Target::Number(&["harvestMoisture"]),
        Fixed("%"),
        Some(Harvested),
    ),
    row(
        JohnDeere,
        "SWATHWIDTH",
        Target::Number(&["equipmentWidth"]),
        Sidecar,
        None,
    ),
    row(
        JohnDeere,
        "DISTANCE",
        Target::Number(&["distance"]),
        Sidecar,
        None,
    ),
    row(
        JohnDeere,
        "Heading",
        Target::Number(&["heading"]),
        Fixed("deg"),
        None,
    ),
    row(
        JohnDeere,
        "Elevation",
        Target::Number(&["elevation"]),
        Sidecar,
        None,
    ),
    row(
        JohnDeere,
        "Speed",
        Target::Number(&["speed"]),
        Sidecar,
        None,
    ),
    row(
        JohnDeere,
        "AppliedRate",
        Target::Number(RATE),
        Sidecar,
        None,
    ),
    row(
        JohnDeere,
        "TargetRate",
        Target::Number(RATE_TARGET),
        Sidecar,
        None,
    ),
    row(JohnDeere, "ControlRate", Target::Extra, NONE, None),
    row(JohnDeere, "SECTIONID", Target::Id("sectionId"), NONE, None),
    row(JohnDeere, "Crop", Target::CropCode, NONE, None),
    row(JohnDeere, "VARIETY", Target::Text("variety"), NONE, None),
    row(JohnDeere, "Product", Target::Text("product"), NONE, None),
    row(JohnDeere, "Machine", Target::Machine, NONE, None),
    row(JohnDeere, "IsoTime", Target::Time { rank: 0 }, NONE, None),
    row(JohnDeere, "Time", Target::Time { rank: 1 }, NONE, None),
    // Ag Leader SMS: units in the names, cut to 10 characters.
    row(
        AgLeaderSms,
        "Yld_Vol_Dr",
        Target::Number(&["dryVolumePerArea"]),
        ImperialExport("bu/ac"),
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Yld_Vol_We",
        Target::Number(&["wetVolumePerArea"]),
        ImperialExport("bu/ac"),
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Yld_Mass_D",
        Target::Number(&["dryMassPerArea"]),
        ImperialExport("lb/ac"),
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Yld_Mass_W",
        Target::Number(&["wetMassPerArea"]),
        ImperialExport("lb/ac"),
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Crop_Flw_M",
        Target::Number(&["cropFlow"]),
        ImperialExport("lb/s"),
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Crop_Flw_V",
        Target::Extra,
        NONE,
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Moisture__",
        Target::Number(&["harvestMoisture"]),
        Fixed("%"),
        Some(Harvested),
    ),
    row(
        AgLeaderSms,
        "Swth_Wdth_",
        Target::Number(&["equipmentWidth"]),
        ImperialExport("ft"),
        None,
    ),
    row(
        AgLeaderSms,
        "Elevation_",
        Target::Number(&["elevation"]),
        ImperialExport("ft"),
        None,
    ),
    row(
        AgLeaderSms,
        "Distance_f",
        Target::Number(&["distance"]),
        Fixed("ft"),
        None,
    ),
    row(
        AgLeaderSms,
        "Distance_m",
        Target::Number(&["distance"]),
        Fixed("m"),
        None,
    ),
    row(
        AgLeaderSms,
        "Speed_mph_",
        Target::Number(&["speed"]),
        Fixed("mph"),
        None,
    ),
    row(
        AgLeaderSms,
        "Speed_km_h",
        Target::Number(&["speed"]),
        Fixed("km/h"),
        None,
    ),
    row(
        AgLeaderSms,
        "Track_deg_",
        Target::Number(&["heading"]),
        Fixed("deg"),
        None,
    ),
    row(
        AgLeaderSms,
        "Duration_s",
        Target::Number(&["samplingInterval"]),
        Fixed("s"),
        None,
    ),
    row(
        AgLeaderSms,
        "Rt_Apd_Ct_",
        Target::Number(&["seedRate"]),
        Unstated,
        Some(Planted),
    ),
    row(
        AgLeaderSms,
        "Rt_Tgt_Ct_",
        Target::Number(&["seedRateTarget"]),
        Unstated,
        Some(Planted),
    ),
    row(
        AgLeaderSms,
        "Rt_Apd_Liq",
        Target::Number(&["appliedRate"]),
        Unstated,
        Some(Applied),
    ),
    row(
        AgLeaderSms,
        "Rt_Tgt_Liq",
        Target::Number(&["appliedRateTarget"]),
        Unstated,
        Some(Applied),
    ),
    row(
        AgLeaderSms,
        "Rt_Apd_Ms_",
        Target::Number(&["appliedRate"]),
        Unstated,
        Some(Applied),
    ),
    row(
        AgLeaderSms,
        "Rt_Tgt_Ms_",
        Target::Number(&["appliedRateTarget"]),
        Unstated,
        Some(Applied),
    ),
    row(AgLeaderSms, "Product", Target::CropOrProduct, NONE, None),
    row(AgLeaderSms, "Variety", Target::Text("variety"), NONE, None),
    row(AgLeaderSms, "Time", Target::Time { rank: 1 }, NONE, None),
    row(AgLeaderSms, "Date", Target::Time { rank: 2 }, NONE, None),
    // Generic: names that state their unit.
    row(
        Generic,
        "Speed_mph",
        Target::Number(&["speed"]),
        Fixed("mph"),
        None,
    ),
    row(
        Generic,
        "Speed_kmh",
        Target::Number(&["speed"]),
        Fixed("km/h"),
        None,
    ),
    row(
        Generic,
        "Speed_kph",
        Target::Number(&["speed"]),
        Fixed("km/h"),
        None,
    ),
    row(
        Generic,
        "Speed_m_s",
        Target::Number(&["speed"]),
        Fixed("m/s"),
        None,
    ),
    row(
        Generic,
        "Dist_ft",
        Target::Number(&["distance"]),
        Fixed("ft"),
        None,
    ),
    row(
        Generic,
        "Distance_ft",
        Target::Number(&["distance"]),
        Fixed("ft"),
        None,
    ),
    row(
        Generic,
        "Dist_m",
        Target::Number(&["distance"]),
        Fixed("m"),
        None,
    ),
    row(
        Generic,
        "Distance_m",
        Target::Number(&["distance"]),
        Fixed("m"),
        None,
    ),
    row(
        Generic,
        "Elev_ft",
        Target::Number(&["elevation"]),
        Fixed("ft"),
        None,
    ),
    row(
        Generic,
        "Elevation_ft",
        Target::Number(&["elevation"]),
        Fixed("ft"),
        None,
    ),
    row(
        Generic,
        "Elev_m",
        Target::Number(&["elevation"]),
        Fixed("m"),
        None,
    ),
    row(
        Generic,
        "Elevation_m",
        Target::Number(&["elevation"]),
        Fixed("m"),
        None,
    ),
    row(
        Generic,
        "Width_ft",
        Target::Number(&["equipmentWidth"]),
        Fixed("ft"),
        None,
    ),
    row(
        Generic,
        "Swath_ft",
        Target::Number(&["equipmentWidth"]),
        Fixed("ft"),
        None,
    ),
    row(
        Generic,
        "Width_m",
        Target::Number(&["equipmentWidth"]),
        Fixed("m"),
        None,
    ),
    row(
        Generic,
        "Swath_m",
        Target::Number(&["equipmentWidth"]),
        Fixed("m"),
        None,
    ),
    row(
        Generic,
        "Heading_deg",
        Target::Number(&["heading"]),
        Fixed("deg"),
        None,
    ),
    row(
        Generic,
        "Track_deg",
        Target::Number(&["heading"]),
        Fixed("deg"),
        None,
    ),
    row(
        Generic,
        "Moisture",
        Target::Number(&["harvestMoisture"]),
        Fixed("%"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Moist_pct",
        Target::Number(&["harvestMoisture"]),
        Fixed("%"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Moisture_pct",
        Target::Number(&["harvestMoisture"]),
        Fixed("%"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Dry_bu_ac",
        Target::Number(&["dryVolumePerArea"]),
        Fixed("bu/ac"),
        Some(Harvested),
    ),
    row(
        Generic,
        "DryYld_bu_ac",
        Target::Number(&["dryVolumePerArea"]),
        Fixed("bu/ac"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Wet_bu_ac",
        Target::Number(&["wetVolumePerArea"]),
        Fixed("bu/ac"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Dry_t_ha",
        Target::Number(&["dryMassPerArea"]),
        Fixed("t/ha"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Wet_t_ha",
        Target::Number(&["wetMassPerArea"]),
        Fixed("t/ha"),
        Some(Harvested),
    ),
    row(
        Generic,
        "Seeds_ac",
        Target::Number(&["seedRate"]),
        Fixed("seeds/ac"),
        Some(Planted),
    ),
    row(
        Generic,
        "Seeds_ha",
        Target::Number(&["seedRate"]),
        Fixed("seeds/ha"),
        Some(Planted),
    ),
    row(
        Generic,
        "Applied_gal_ac",
        Target::Number(&["appliedRate"]),
        Fixed("gal/ac"),
        Some(Applied),
    ),
    row(
        Generic,
        "Applied_L_ha",
        Target::Number(&["appliedRate"]),
        Fixed("L/ha"),
        Some(Applied),
    ),
    row(
        Generic,
        "Applied_lb_ac",
        Target::Number(&["appliedRate"]),
        Fixed("lb/ac"),
        Some(Applied),
    ),
    row(
        Generic,
        "Applied_kg_ha",
        Target::Number(&["appliedRate"]),
        Fixed("kg/ha"),
        Some(Applied),
    ),
    row(Generic, "Variety", Target::Text("variety"), NONE, None),
    row(Generic, "Hybrid", Target::Text("variety"), NONE, None),
    row(Generic, "Timestamp", Target::Time { rank: 0 }, NONE, None),
    row(Generic, "DateTime", Target::Time { rank: 0 }, NONE, None),
    row(Generic, "IsoTime", Target::Time { rank: 0 }, NONE, None),
    row(Generic, "Time", Target::Time { rank: 1 }, NONE, None),
    row(Generic, "Date", Target::Time { rank: 2 }, NONE, None),
];

/// John Deere's numeric crop ids known to this crate (anything else is left null, with a warning).
pub const JD_CROP_CODES: &[(u32, &str)] = &[(173, "corn"), (174, "soybeans")];

/// How the time column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeKind {
    /// Milliseconds since the Unix epoch, UTC (the values carried `Z` or an offset).
    Utc,
    /// Milliseconds since the Unix epoch of the logged wall-clock time, zone unknown.
    Local,
    /// Dates without time of day: milliseconds at midnight of the date, zone unknown. Write them
    /// as dates, never as instants.
    Date,
}

/// What one DBF column becomes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Role {
    /// A numeric standard property: `value × factor` is in the METRIC unit.
    Property(Mapping),
    /// A text standard property (`variety`, `product`, `crop` from codes, `machinery` from ids).
    Text {
        /// The property name.
        property: &'static str,
    },
    /// Read into the batch's time column.
    Time,
    /// Kept as an extra column with its original name: numeric as f64, text as text.
    Extra,
    /// Not read, with the reason.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// A numeric column mapped to a standard property.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Mapping {
    /// The standard property (Leaf camelCase).
    pub property: &'static str,
    /// The source unit's code (empty for unitless properties).
    pub source_unit: &'static str,
    /// furrow's METRIC unit for the property (empty for unitless properties).
    pub unit: &'static str,
    /// Multiply the source value by this to get the METRIC value.
    pub factor: f64,
    /// Where the unit came from: `sidecar`, `name` (the column name or the vendor's convention) or `none`.
    pub unit_from: &'static str,
}

/// A DBF column and what it becomes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ColumnPlan {
    /// The column as the DBF header describes it.
    pub field: DbfField,
    /// The name the output column carries: the property, or the original name for extras.
    pub output: String,
    /// What happens to it.
    pub role: Role,
    /// The profile row that matched, if any.
    pub row: Option<&'static ProfileRow>,
}

/// How a set's columns were resolved: vendor, operation type, the plan of every column, and why.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Profile {
    /// The vendor profile used.
    pub vendor: Vendor,
    /// The operation type.
    pub operation_type: OperationType,
    /// What decided the operation type (e.g. `Deere metadata Operation "Harvest"`, `column Yld_Vol_Dr`).
    pub operation_source: String,
    /// The crop named by the sidecar (`CropToken`, lower case, first word: `CORN_WET` → `corn`).
    pub crop: Option<String>,
    /// The product named by the sidecar (`Product.ProductName`).
    pub product: Option<String>,
    /// One plan per DBF column, in DBF order.
    pub columns: Vec<ColumnPlan>,
    /// How the time column is read, when there is one.
    pub time: Option<TimeKind>,
    /// Decisions worth telling (unmapped columns and why, operation type fallbacks).
    pub warnings: Vec<Warning>,
}

impl Profile {
    /// The mapping of a standard property, if a column maps to it.
    pub fn mapping(&self, property: &str) -> Option<&Mapping> {
        self.columns.iter().find_map(|c| match &c.role {
            Role::Property(m) if m.property == property => Some(m),
            _ => None,
        })
    }

    /// The main rate of the operation: `dryVolumePerArea` (else another yield) for a harvest,
    /// `seedRate` for planting, `appliedRate` for an application.
    pub fn main_rate(&self) -> Option<&'static str> {
        let candidates: &[&'static str] = match self.operation_type {
            OperationType::Harvested => &[
                "dryVolumePerArea",
                "wetVolumePerArea",
                "dryMassPerArea",
                "wetMassPerArea",
            ],
            OperationType::Planted => &["seedRate"],
            OperationType::Applied => &["appliedRate"],
            _ => &[],
        };
        candidates
            .iter()
            .copied()
            .find(|p| self.mapping(p).is_some())
    }
}

/// The parts of a `*-Deere-Metadata.json` sidecar this crate reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeereMetadata {
    pub(crate) operation: Option<String>,
    pub(crate) crop_token: Option<String>,
    pub(crate) product: Option<String>,
    /// Attribute name → unit.
    pub(crate) units: Vec<(String, String)>,
    /// `MachineUsage` index → serial number (or machine id).
    pub(crate) machines: HashMap<u32, String>,
}

impl DeereMetadata {
    pub(crate) fn parse(text: &str) -> Result<DeereMetadata, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let s = |x: Option<&serde_json::Value>| x.and_then(|v| v.as_str()).map(str::to_string);
        let mut m = DeereMetadata {
            operation: s(v.get("Operation")),
            crop_token: s(v.get("CropToken")),
            product: s(v.get("Product").and_then(|p| p.get("ProductName"))),
            ..DeereMetadata::default()
        };
        if let Some(attrs) = v.get("DataAttributes").and_then(|a| a.as_array()) {
            for a in attrs {
                if let (Some(name), Some(unit)) = (s(a.get("Name")), s(a.get("Unit"))) {
                    m.units.push((name, unit));
                }
            }
        }
        if let Some(usage) = v.get("MachineUsage").and_then(|u| u.as_object()) {
            for (k, mv) in usage {
                let Ok(index) = k.trim().parse::<u32>() else {
                    continue;
                };
                let serial = s(mv.get("MachineSerial")).filter(|x| !x.trim().is_empty());
                let id = s(mv.get("MachineId")).filter(|x| !x.trim().is_empty());
                if let Some(name) = serial.or(id) {
                    m.machines.insert(index, name);
                }
            }
        }
        Ok(m)
    }

    fn unit_of(&self, column: &str) -> Option<&str> {
        self.units
            .iter()
            .find(|(name, _)| names_match(column, name))
            .map(|(_, u)| u.as_str())
    }
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Does a DBF column name match a (possibly longer) vendor name?
pub(crate) fn names_match(dbf: &str, name: &str) -> bool {
    if dbf.eq_ignore_ascii_case(name) {
        return true;
    }
    let (d, n) = (norm(dbf), norm(name));
    if d.is_empty() {
        return false;
    }
    if d == n {
        return true;
    }
    // DBF cuts names to 10 (sometimes 11) bytes.
    let len = dbf.chars().count();
    (len == 10 || len == 11)
        && name.len() > len
        && name.get(..len).is_some_and(|p| p.eq_ignore_ascii_case(dbf))
}

/// Is a DBF column name a vendor's signature column exactly: the same name in any case, or the name cut to the
/// DBF's 10 or 11 bytes? Unlike [`names_match`], spaces, underscores and punctuation count.
pub(crate) fn signature_match(dbf: &str, name: &str) -> bool {
    let len = dbf.chars().count();
    dbf.eq_ignore_ascii_case(name)
        || ((len == 10 || len == 11)
            && name.len() > len
            && name.get(..len).is_some_and(|p| p.eq_ignore_ascii_case(dbf)))
}

fn find_row(vendor: Vendor, name: &str) -> Option<&'static ProfileRow> {
    PROFILE_TABLE
        .iter()
        .filter(|r| r.vendor == vendor)
        .find(|r| names_match(name, r.column))
}

/// Evidence order, as for ISOXML: harvested before planted before applied before tillage.
fn evidence_rank(op: OperationType) -> u8 {
    match op {
        OperationType::Harvested => 0,
        OperationType::Planted => 1,
        OperationType::Applied => 2,
        OperationType::Tillage => 3,
        OperationType::Other => 4,
    }
}

/// Resolves a set's columns against the table.
pub(crate) fn resolve(
    fields: &[DbfField],
    deere: Option<&DeereMetadata>,
    set_name: &str,
) -> Profile {
    let mut warnings = Vec::new();
    // A vendor is recognised by its own spelling of a signature column (as written, or cut to the DBF's 10 or
    // 11 bytes), never by a look-alike: a generic export's `Track_deg` or `Distance` is not Ag Leader's
    // `Track_deg_` or `Distance_f`.
    let has = |vendor: Vendor, names: &[&str]| {
        fields.iter().any(|f| {
            names
                .iter()
                .any(|n| signature_match(&f.name, n) && find_row(vendor, &f.name).is_some())
        })
    };
    let vendor = if deere.is_some()
        || has(
            JohnDeere,
            &["VRYIELDVOL", "SWATHWIDTH", "IsoTime", "SECTIONID"],
        ) {
        JohnDeere
    } else if has(
        AgLeaderSms,
        &[
            "Yld_Vol_Dr",
            "Yld_Mass_D",
            "Swth_Wdth_",
            "Distance_f",
            "Track_deg_",
            "Rt_Apd_Ct_",
            "Rt_Apd_Liq",
        ],
    ) {
        AgLeaderSms
    } else {
        Generic
    };
    // Ag Leader: an export is in one unit system; uncut names show which.
    let imperial = vendor == AgLeaderSms
        && fields.iter().any(|f| {
            ["Distance_f", "Speed_mph_", "Y_Offset_f"]
                .iter()
                .any(|n| names_match(&f.name, n))
        });
    if vendor == JohnDeere && deere.is_none() {
        warnings.push(Warning::new(
            WarningKind::UnitUnknown,
            format!(
                "{set_name}: John Deere columns without a -Deere-Metadata.json sidecar: columns whose unit only the sidecar states are kept as extras"
            ),
        ));
    }

    // Operation type: the sidecar first, then column evidence.
    let mut operation: Option<(OperationType, String)> = deere.and_then(|d| {
        let op = d.operation.as_deref()?;
        let t = match op.trim().to_ascii_lowercase().as_str() {
            "harvest" | "harvesting" => OperationType::Harvested,
            "seeding" | "planting" => OperationType::Planted,
            "application" | "spraying" | "fertilizing" => OperationType::Applied,
            "tillage" => OperationType::Tillage,
            _ => return None,
        };
        Some((t, format!("Deere metadata Operation \"{op}\"")))
    });

    let mut columns: Vec<ColumnPlan> = Vec::with_capacity(fields.len());
    let mut evidence: Option<(OperationType, String)> = None;
    let note_evidence =
        |op: OperationType, column: &str, evidence: &mut Option<(OperationType, String)>| {
            if evidence
                .as_ref()
                .is_none_or(|(e, _)| evidence_rank(op) < evidence_rank(*e))
            {
                *evidence = Some((op, format!("column {column}")));
            }
        };
    let mut seen: HashMap<String, String> = HashMap::new();
    for field in fields {
        let row = find_row(vendor, &field.name).or_else(|| {
            (vendor != Generic)
                .then(|| find_row(Generic, &field.name))
                .flatten()
        });
        let extra = |reason: Option<String>| (Role::Extra, field.name.clone(), reason);
        let (role, output, reason): (Role, String, Option<String>) = match row {
            None => extra(None),
            Some(r) => {
                if let Some(op) = r.evidence {
                    note_evidence(op, &field.name, &mut evidence);
                }
                match r.target {
                    Target::Extra => extra(None),
                    Target::Id(p) => (
                        Role::Property(Mapping {
                            property: p,
                            source_unit: "",
                            unit: "",
                            factor: 1.0,
                            unit_from: "none",
                        }),
                        p.to_string(),
                        None,
                    ),
                    Target::Text(p) => (Role::Text { property: p }, p.to_string(), None),
                    Target::CropOrProduct => (
                        Role::Text {
                            property: "product",
                        },
                        "product".into(),
                        None,
                    ),
                    Target::CropCode => (Role::Text { property: "crop" }, "crop".into(), None),
                    Target::Machine => {
                        if deere.is_some_and(|d| !d.machines.is_empty()) {
                            (
                                Role::Text {
                                    property: "machinery",
                                },
                                "machinery".into(),
                                None,
                            )
                        } else {
                            extra(None)
                        }
                    }
                    Target::Time { .. } => (Role::Time, field.name.clone(), None),
                    Target::Number(candidates) => {
                        let sidecar_unit = deere.and_then(|d| d.unit_of(&field.name));
                        let (unit_code, unit_from): (Option<&str>, &str) =
                            match (r.unit, sidecar_unit) {
                                (SourceUnit::Unstated, _) => (None, ""),
                                (_, Some(u)) => (Some(u), "sidecar"),
                                (SourceUnit::Fixed(u), None) => (Some(u), "name"),
                                (SourceUnit::ImperialExport(u), None) if imperial => {
                                    (Some(u), "name")
                                }
                                _ => (None, ""),
                            };
                        match unit_code {
                            None => {
                                let why = match r.unit {
                                    SourceUnit::Sidecar => "its unit is stated only by a -Deere-Metadata.json sidecar, and there is none".to_string(),
                                    SourceUnit::ImperialExport(_) => "its name is cut before the unit and no other column shows the export's unit system".to_string(),
                                    _ => "its unit is not stated".to_string(),
                                };
                                extra(Some(format!(
                                    "{set_name}: column `{}` is not mapped to {}: {why}; kept as an extra column",
                                    field.name,
                                    candidates.join("/")
                                )))
                            }
                            Some(code) => match unit(code) {
                                None => extra(Some(format!(
                                    "{set_name}: column `{}` is not mapped to {}: unit `{code}` is not known to this crate; kept as an extra column",
                                    field.name,
                                    candidates.join("/")
                                ))),
                                Some(u) => {
                                    let hit = candidates.iter().find_map(|p| {
                                        let def = PROPERTIES.iter().find(|d| d.name == *p)?;
                                        def.units
                                            .iter()
                                            .find(|(q, _, _)| *q == u.quantity)
                                            .map(|(_, metric, f)| (def.name, *metric, *f))
                                    });
                                    match hit {
                                        None => extra(Some(format!(
                                            "{set_name}: column `{}` is in {} ({:?}), which is not a unit of {}; kept as an extra column",
                                            field.name,
                                            u.code,
                                            u.quantity,
                                            candidates.join("/")
                                        ))),
                                        Some((property, metric, f)) => {
                                            let op = match property {
                                                "seedRate" | "seedRateTarget" => Some(Planted),
                                                "appliedRate" | "appliedRateTarget" => {
                                                    Some(Applied)
                                                }
                                                _ => None,
                                            };
                                            if let Some(op) = op {
                                                note_evidence(op, &field.name, &mut evidence);
                                            }
                                            (
                                                Role::Property(Mapping {
                                                    property,
                                                    source_unit: u.code,
                                                    unit: metric,
                                                    factor: u.to_base * f,
                                                    unit_from,
                                                }),
                                                property.to_string(),
                                                None,
                                            )
                                        }
                                    }
                                }
                            },
                        }
                    }
                }
            }
        };
        if let Some(reason) = reason {
            warnings.push(Warning::new(WarningKind::UnitUnknown, reason));
        }
        // Two columns for one property (or an extra named like a property): the first wins.
        let (role, output) = match seen.get(&output.to_ascii_lowercase()) {
            Some(first) if !matches!(role, Role::Time) => {
                let reason = format!("`{first}` already gives `{output}`");
                warnings.push(Warning::new(
                    WarningKind::Column,
                    format!("{set_name}: column `{}` is skipped: {reason}", field.name),
                ));
                (Role::Skipped { reason }, output)
            }
            _ => (role, output),
        };
        if !matches!(role, Role::Skipped { .. } | Role::Time) {
            seen.insert(output.to_ascii_lowercase(), field.name.clone());
        }
        columns.push(ColumnPlan {
            field: field.clone(),
            output,
            role,
            row,
        });
    }

    // Weak evidence when nothing else speaks: a product is applied, a variety without yield is planted.
    if operation.is_none() && evidence.is_none() {
        let text = |p: &str| {
            columns
                .iter()
                .any(|c| matches!(&c.role, Role::Text { property } if *property == p))
        };
        if vendor == JohnDeere && text("product") {
            evidence = Some((Applied, "a Product column".into()));
        }
    }
    let resolved_crop_mode = operation.as_ref().or(evidence.as_ref()).map(|(op, _)| *op);
    // Ag Leader's Product is the crop in a harvest.
    if resolved_crop_mode == Some(Harvested) {
        for c in &mut columns {
            if c.row.is_some_and(|r| r.target == Target::CropOrProduct) {
                c.role = Role::Text { property: "crop" };
                c.output = "crop".into();
            }
        }
    }
    if let (Some((op, _)), Some((ev, col))) = (&operation, &evidence) {
        if op != ev {
            warnings.push(Warning::new(
                WarningKind::OperationType,
                format!(
                    "{set_name}: the sidecar says {} but {col} is evidence of {}; the sidecar is followed",
                    op.as_str(),
                    ev.as_str()
                ),
            ));
        }
    }
    let (operation_type, operation_source) = match operation.take().or(evidence) {
        Some(x) => x,
        None => {
            warnings.push(Warning::new(
                WarningKind::OperationType,
                format!("{set_name}: no column or sidecar says which operation this is: `other`"),
            ));
            (OperationType::Other, "no evidence".into())
        }
    };
    let crop = deere
        .and_then(|d| d.crop_token.as_deref())
        .and_then(|t| t.split('_').next())
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase);
    Profile {
        vendor,
        operation_type,
        operation_source,
        crop,
        product: deere.and_then(|d| d.product.clone()),
        columns,
        time: None,
        warnings,
    }
}
