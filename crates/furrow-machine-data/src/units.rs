//! Unit systems (Leaf's `unitMeasurement`) and the unit of every standard property.

use serde::{Deserialize, Serialize};

/// The unit system of an output file (Leaf's `unitMeasurement`; `DEFAULT` is METRIC for ISOXML, whose
/// source units are SI).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum UnitSystem {
    /// SI-based units as in Leaf's METRIC column.
    #[default]
    Metric,
    /// US customary units as in Leaf's IMPERIAL column.
    Imperial,
}

impl UnitSystem {
    /// `"METRIC"` or `"IMPERIAL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitSystem::Metric => "METRIC",
            UnitSystem::Imperial => "IMPERIAL",
        }
    }
}

impl std::str::FromStr for UnitSystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().as_str() {
            "METRIC" | "DEFAULT" => Ok(UnitSystem::Metric),
            "IMPERIAL" => Ok(UnitSystem::Imperial),
            _ => Err(format!("unknown unit system {s:?} (metric or imperial)")),
        }
    }
}

/// What a property measures; decides its unit in each system. Values are computed in the METRIC unit
/// and multiplied by [`Quantity::imperial_factor`] for IMPERIAL output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Quantity {
    /// No unit (strings, identifiers).
    None,
    /// m | ft
    Length,
    /// m/s | ft/s
    Speed,
    /// arcdeg
    Heading,
    /// m2 in both systems (a point's area; Leaf reports it in m2 even for imperial files)
    PointArea,
    /// ha | ac (totals)
    TotalArea,
    /// cm | in
    Depth,
    /// seeds/ha | seeds/ac
    SeedRate,
    /// kgf | lbf
    Force,
    /// percentage
    Percentage,
    /// % (moisture, protein)
    Percent,
    /// L/ha | gal/ac
    VolumeRate,
    /// kg/ha | lb/ac
    MassRate,
    /// L | gal
    LiquidVolume,
    /// kg | lb (applied totals by mass)
    AppliedMass,
    /// t | lb
    Mass,
    /// t/ha | lb/ac
    MassPerArea,
    /// m3 | bu
    Volume,
    /// m3/ha | bu/ac
    VolumePerArea,
    /// kg/s | lb/s
    MassFlow,
    /// s
    Seconds,
    /// seeds
    Seeds,
}

impl Quantity {
    /// The unit string in `system` (Leaf's spelling).
    pub fn unit(self, system: UnitSystem) -> Option<&'static str> {
        let (m, i) = match self {
            Quantity::None => return None,
            Quantity::Length => ("m", "ft"),
            Quantity::Speed => ("m/s", "ft/s"),
            Quantity::Heading => ("arcdeg", "arcdeg"),
            Quantity::PointArea => ("m2", "m2"),
            Quantity::TotalArea => ("ha", "ac"),
            Quantity::Depth => ("cm", "in"),
            Quantity::SeedRate => ("seeds/ha", "seeds/ac"),
            Quantity::Force => ("kgf", "lbf"),
            Quantity::Percentage => ("percentage", "percentage"),
            Quantity::Percent => ("%", "%"),
            Quantity::VolumeRate => ("L/ha", "gal/ac"),
            Quantity::MassRate => ("kg/ha", "lb/ac"),
            Quantity::LiquidVolume => ("L", "gal"),
            Quantity::AppliedMass => ("kg", "lb"),
            Quantity::Mass => ("t", "lb"),
            Quantity::MassPerArea => ("t/ha", "lb/ac"),
            Quantity::Volume => ("m3", "bu"),
            Quantity::VolumePerArea => ("m3/ha", "bu/ac"),
            Quantity::MassFlow => ("kg/s", "lb/s"),
            Quantity::Seconds => ("s", "s"),
            Quantity::Seeds => ("seeds", "seeds"),
        };
        Some(match system {
            UnitSystem::Metric => m,
            UnitSystem::Imperial => i,
        })
    }

    /// Multiply a METRIC value by this to get the IMPERIAL value.
    pub fn imperial_factor(self) -> f64 {
        const FT: f64 = 0.3048;
        const AC_M2: f64 = 4_046.856_422_4;
        const LB_KG: f64 = 0.453_592_37;
        const GAL_L: f64 = 3.785_411_784;
        const BU_M3: f64 = 0.035_239_070_166_88;
        match self {
            Quantity::Length | Quantity::Speed => 1.0 / FT,
            Quantity::TotalArea => 10_000.0 / AC_M2,
            Quantity::Depth => 1.0 / 2.54,
            Quantity::SeedRate => AC_M2 / 10_000.0,
            // kgf → lbf: same ratio as kg → lb
            Quantity::Force | Quantity::AppliedMass => 1.0 / LB_KG,
            Quantity::VolumeRate => AC_M2 / 10_000.0 / GAL_L,
            Quantity::MassRate => AC_M2 / 10_000.0 / LB_KG,
            Quantity::LiquidVolume => 1.0 / GAL_L,
            Quantity::Mass => 1000.0 / LB_KG,
            Quantity::MassPerArea => 1000.0 / LB_KG * AC_M2 / 10_000.0,
            Quantity::Volume => 1.0 / BU_M3,
            Quantity::VolumePerArea => AC_M2 / 10_000.0 / BU_M3,
            Quantity::MassFlow => 1.0 / LB_KG,
            Quantity::None
            | Quantity::Heading
            | Quantity::PointArea
            | Quantity::Percentage
            | Quantity::Percent
            | Quantity::Seconds
            | Quantity::Seeds => 1.0,
        }
    }

    /// The factor from METRIC to `system`.
    pub fn factor(self, system: UnitSystem) -> f64 {
        match system {
            UnitSystem::Metric => 1.0,
            UnitSystem::Imperial => self.imperial_factor(),
        }
    }
}
