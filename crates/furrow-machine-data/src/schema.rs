//! The standard point schema: Leaf's standardGeojson properties per operation type, as Arrow.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::units::{Quantity, UnitSystem};

/// Leaf's operation types (plus `other` for logs that show none of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationType {
    /// Seeding and planting.
    Planted,
    /// Application of products (spraying, fertilising).
    Applied,
    /// Harvest.
    Harvested,
    /// Tillage.
    Tillage,
    /// None of the four (guidance, transport, data collection).
    Other,
}

impl OperationType {
    /// Leaf's name: `planted`, `applied`, `harvested`, `tillage` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationType::Planted => "planted",
            OperationType::Applied => "applied",
            OperationType::Harvested => "harvested",
            OperationType::Tillage => "tillage",
            OperationType::Other => "other",
        }
    }
}

impl std::str::FromStr for OperationType {
    type Err = String;

    /// Parses Leaf's name (`planted`, `applied`, `harvested`, `tillage`, `other`).
    fn from_str(s: &str) -> Result<Self, String> {
        [
            OperationType::Planted,
            OperationType::Applied,
            OperationType::Harvested,
            OperationType::Tillage,
            OperationType::Other,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .ok_or_else(|| format!("unknown operation type {s:?}"))
    }
}

impl std::fmt::Display for OperationType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an applied rate measures (decides `appliedRate`'s unit for a file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RateKind {
    /// Volume per area (L/ha, gal/ac).
    #[default]
    Volume,
    /// Mass per area (kg/ha, lb/ac).
    Mass,
}

/// The numeric (Float64) standard properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Property {
    /// Distance from the previous point.
    Distance,
    /// Direction of travel, degrees clockwise from north.
    Heading,
    /// Speed.
    Speed,
    /// Elevation above the ellipsoid.
    Elevation,
    /// Working width of the implement.
    EquipmentWidth,
    /// Area the point represents (effective width × distance).
    Area,
    /// Fuel used since the previous point.
    FuelUsed,
    /// Seeds per area.
    SeedRate,
    /// Target seeds per area.
    SeedRateTarget,
    /// Seeding depth.
    SeedDepth,
    /// Down force.
    DownForce,
    /// Singulation.
    Singulation,
    /// Skips.
    Skips,
    /// Doubles.
    Doubles,
    /// Applied rate.
    AppliedRate,
    /// Target applied rate.
    AppliedRateTarget,
    /// Harvest moisture.
    HarvestMoisture,
    /// Wet mass of the point.
    WetMass,
    /// Wet volume of the point.
    WetVolume,
    /// Wet mass per area.
    WetMassPerArea,
    /// Wet volume per area.
    WetVolumePerArea,
    /// Dry mass of the point.
    DryMass,
    /// Dry volume of the point.
    DryVolume,
    /// Dry mass per area.
    DryMassPerArea,
    /// Dry volume per area.
    DryVolumePerArea,
    /// Mass flow.
    CropFlow,
    /// Protein.
    ProteinPercentage,
    /// Seconds since the previous point.
    SamplingInterval,
    /// Target tillage depth.
    TillageDepthTarget,
    /// Actual tillage depth.
    TillageDepthActual,
}

/// Number of [`Property`] variants.
pub const PROPERTY_COUNT: usize = 30;

impl Property {
    /// Every property, in column order within its group.
    pub const ALL: [Property; PROPERTY_COUNT] = [
        Property::Distance,
        Property::Heading,
        Property::Speed,
        Property::Elevation,
        Property::EquipmentWidth,
        Property::Area,
        Property::FuelUsed,
        Property::SeedRate,
        Property::SeedRateTarget,
        Property::SeedDepth,
        Property::DownForce,
        Property::Singulation,
        Property::Skips,
        Property::Doubles,
        Property::AppliedRate,
        Property::AppliedRateTarget,
        Property::HarvestMoisture,
        Property::WetMass,
        Property::WetVolume,
        Property::WetMassPerArea,
        Property::WetVolumePerArea,
        Property::DryMass,
        Property::DryVolume,
        Property::DryMassPerArea,
        Property::DryVolumePerArea,
        Property::CropFlow,
        Property::ProteinPercentage,
        Property::SamplingInterval,
        Property::TillageDepthTarget,
        Property::TillageDepthActual,
    ];

    /// Index into [`Property::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The Leaf property name (camelCase).
    pub fn name(self) -> &'static str {
        match self {
            Property::Distance => "distance",
            Property::Heading => "heading",
            Property::Speed => "speed",
            Property::Elevation => "elevation",
            Property::EquipmentWidth => "equipmentWidth",
            Property::Area => "area",
            Property::FuelUsed => "fuelUsed",
            Property::SeedRate => "seedRate",
            Property::SeedRateTarget => "seedRateTarget",
            Property::SeedDepth => "seedDepth",
            Property::DownForce => "downForce",
            Property::Singulation => "singulation",
            Property::Skips => "skips",
            Property::Doubles => "doubles",
            Property::AppliedRate => "appliedRate",
            Property::AppliedRateTarget => "appliedRateTarget",
            Property::HarvestMoisture => "harvestMoisture",
            Property::WetMass => "wetMass",
            Property::WetVolume => "wetVolume",
            Property::WetMassPerArea => "wetMassPerArea",
            Property::WetVolumePerArea => "wetVolumePerArea",
            Property::DryMass => "dryMass",
            Property::DryVolume => "dryVolume",
            Property::DryMassPerArea => "dryMassPerArea",
            Property::DryVolumePerArea => "dryVolumePerArea",
            Property::CropFlow => "cropFlow",
            Property::ProteinPercentage => "proteinPercentage",
            Property::SamplingInterval => "samplingInterval",
            Property::TillageDepthTarget => "tillageDepthTarget",
            Property::TillageDepthActual => "tillageDepthActual",
        }
    }

    /// The property with this Leaf name.
    pub fn from_name(name: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What it measures (`rate` decides applied rates).
    pub fn quantity(self, rate: RateKind) -> Quantity {
        match self {
            Property::Distance | Property::Elevation | Property::EquipmentWidth => Quantity::Length,
            Property::Heading => Quantity::Heading,
            Property::Speed => Quantity::Speed,
            Property::Area => Quantity::PointArea,
            Property::FuelUsed => Quantity::LiquidVolume,
            Property::SeedRate | Property::SeedRateTarget => Quantity::SeedRate,
            Property::SeedDepth | Property::TillageDepthTarget | Property::TillageDepthActual => {
                Quantity::Depth
            }
            Property::DownForce => Quantity::Force,
            Property::Singulation | Property::Skips | Property::Doubles => Quantity::Percentage,
            Property::AppliedRate | Property::AppliedRateTarget => match rate {
                RateKind::Volume => Quantity::VolumeRate,
                RateKind::Mass => Quantity::MassRate,
            },
            Property::HarvestMoisture | Property::ProteinPercentage => Quantity::Percent,
            Property::WetMass | Property::DryMass => Quantity::Mass,
            Property::WetVolume | Property::DryVolume => Quantity::Volume,
            Property::WetMassPerArea | Property::DryMassPerArea => Quantity::MassPerArea,
            Property::WetVolumePerArea | Property::DryVolumePerArea => Quantity::VolumePerArea,
            Property::CropFlow => Quantity::MassFlow,
            Property::SamplingInterval => Quantity::Seconds,
        }
    }
}

/// One column of the standard schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Column {
    /// `x`: longitude, Float64.
    X,
    /// `y`: latitude, Float64.
    Y,
    /// `timestamp`: UTC, when the log allows deriving it.
    Timestamp,
    /// `localTime`: the terminal's time as logged (no zone).
    LocalTime,
    /// `operationType`.
    OperationType,
    /// `originalOperationType`.
    OriginalOperationType,
    /// A numeric property.
    Number(Property),
    /// `recordingStatus`: `"On"` / `"Off"`.
    RecordingStatus,
    /// `sectionId`.
    SectionId,
    /// `crop`.
    Crop,
    /// `machinery`: list of names.
    Machinery,
    /// `variety`.
    Variety,
    /// `products`: `[{name, rate: {value}}]`.
    Products,
    /// `tillType`: list of names.
    TillType,
    /// `extra`: map of unmapped DDIs (`"DDI/DET"` → value).
    Extra,
}

impl Column {
    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            Column::X => "x",
            Column::Y => "y",
            Column::Timestamp => "timestamp",
            Column::LocalTime => "localTime",
            Column::OperationType => "operationType",
            Column::OriginalOperationType => "originalOperationType",
            Column::Number(p) => p.name(),
            Column::RecordingStatus => "recordingStatus",
            Column::SectionId => "sectionId",
            Column::Crop => "crop",
            Column::Machinery => "machinery",
            Column::Variety => "variety",
            Column::Products => "products",
            Column::TillType => "tillType",
            Column::Extra => "extra",
        }
    }
}

/// The columns of the standard schema of an operation type, in order.
pub fn columns(op: OperationType) -> Vec<Column> {
    use Property as P;
    let mut c = vec![
        Column::X,
        Column::Y,
        Column::Timestamp,
        Column::LocalTime,
        Column::OperationType,
        Column::OriginalOperationType,
        Column::Number(P::Distance),
        Column::Number(P::Heading),
        Column::Number(P::Speed),
        Column::Number(P::Elevation),
        Column::Number(P::EquipmentWidth),
        Column::RecordingStatus,
        Column::SectionId,
        Column::Number(P::Area),
        Column::Number(P::FuelUsed),
        Column::Crop,
        Column::Machinery,
    ];
    let n = Column::Number;
    match op {
        OperationType::Planted => c.extend([
            Column::Variety,
            n(P::SeedRate),
            n(P::SeedRateTarget),
            n(P::SeedDepth),
            n(P::DownForce),
            n(P::Singulation),
            n(P::Skips),
            n(P::Doubles),
        ]),
        OperationType::Applied => {
            c.extend([n(P::AppliedRate), n(P::AppliedRateTarget), Column::Products])
        }
        OperationType::Harvested => c.extend([
            Column::Variety,
            n(P::HarvestMoisture),
            n(P::WetMass),
            n(P::WetVolume),
            n(P::WetMassPerArea),
            n(P::WetVolumePerArea),
            n(P::DryMass),
            n(P::DryVolume),
            n(P::DryMassPerArea),
            n(P::DryVolumePerArea),
            n(P::CropFlow),
            n(P::ProteinPercentage),
            n(P::SamplingInterval),
        ]),
        OperationType::Tillage => c.extend([
            n(P::TillageDepthTarget),
            n(P::TillageDepthActual),
            Column::TillType,
        ]),
        OperationType::Other => {}
    }
    c.push(Column::Extra);
    c
}

/// The units of a file: the system and the applied-rate kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Units {
    /// METRIC or IMPERIAL.
    pub system: UnitSystem,
    /// Whether applied rates are volumes or masses.
    pub applied_rate: RateKind,
}

impl Units {
    /// The unit of a property in these units.
    pub fn unit(&self, p: Property) -> Option<&'static str> {
        p.quantity(self.applied_rate).unit(self.system)
    }
    /// The factor from the METRIC value to these units.
    pub fn factor(&self, p: Property) -> f64 {
        p.quantity(self.applied_rate).factor(self.system)
    }

    /// The units a standard schema was written in (its `unitSystem` metadata and the unit of `appliedRate`);
    /// METRIC volume rates when the schema does not say.
    pub fn from_schema(schema: &arrow_schema::Schema) -> Units {
        // The schema's metadata says; failing that (a writer that dropped it), the unit of `distance`.
        let system = schema
            .metadata()
            .get("unitSystem")
            .and_then(|s| s.parse().ok())
            .or_else(|| {
                let f = schema.field_with_name(Property::Distance.name()).ok()?;
                let unit = f.metadata().get("unit")?;
                [UnitSystem::Metric, UnitSystem::Imperial]
                    .into_iter()
                    .find(|&system| {
                        Units {
                            system,
                            applied_rate: RateKind::Volume,
                        }
                        .unit(Property::Distance)
                            == Some(unit.as_str())
                    })
            })
            .unwrap_or_default();
        let rate_unit = schema
            .field_with_name(Property::AppliedRate.name())
            .ok()
            .and_then(|f| f.metadata().get("unit").cloned());
        let applied_rate = [RateKind::Volume, RateKind::Mass]
            .into_iter()
            .find(|&k| {
                let u = Units {
                    system,
                    applied_rate: k,
                };
                rate_unit
                    .as_deref()
                    .is_some_and(|r| u.unit(Property::AppliedRate) == Some(r))
            })
            .unwrap_or_default();
        Units {
            system,
            applied_rate,
        }
    }
}

/// `products` element type: `{name: Utf8, rate: {value: Float64}}`.
pub(crate) fn product_struct_fields() -> Fields {
    Fields::from(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new(
            "rate",
            DataType::Struct(Fields::from(vec![Field::new(
                "value",
                DataType::Float64,
                true,
            )])),
            true,
        ),
    ])
}

/// The `extra` map's entries struct.
pub(crate) fn extra_entries_field() -> Field {
    Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Float64, true),
        ])),
        false,
    )
}

/// The Arrow field of a column.
pub fn field(column: Column, units: &Units) -> Field {
    let utf8_list = || DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)));
    let (dt, nullable) = match column {
        Column::X | Column::Y => (DataType::Float64, false),
        Column::Timestamp => (
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ),
        Column::LocalTime => (DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Column::OperationType | Column::OriginalOperationType => (DataType::Utf8, false),
        Column::Number(_) => (DataType::Float64, true),
        Column::RecordingStatus | Column::Crop | Column::Variety => (DataType::Utf8, true),
        Column::SectionId => (DataType::Int32, true),
        Column::Machinery | Column::TillType => (utf8_list(), true),
        Column::Products => (
            DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(product_struct_fields()),
                true,
            ))),
            true,
        ),
        Column::Extra => (DataType::Map(Arc::new(extra_entries_field()), false), true),
    };
    let f = Field::new(column.name(), dt, nullable);
    let unit = match column {
        Column::Number(p) => units.unit(p),
        Column::X | Column::Y => Some("arcdeg"),
        _ => None,
    };
    match unit {
        Some(u) => f.with_metadata(HashMap::from([("unit".to_string(), u.to_string())])),
        None => f,
    }
}

/// The standard point schema of an operation type in `units`.
///
/// Columns: `x`, `y` (longitude/latitude, Float64), `timestamp` (UTC when known), `localTime` (as logged),
/// `operationType`, `originalOperationType`, the common properties, the operation type's own properties
/// and `extra`. Numeric fields carry their unit in the field metadata key `unit`; the schema metadata
/// holds `operationType` and `unitSystem`.
pub fn standard_schema(op: OperationType, units: &Units) -> SchemaRef {
    let fields: Vec<Field> = columns(op).into_iter().map(|c| field(c, units)).collect();
    let meta = HashMap::from([
        ("operationType".to_string(), op.as_str().to_string()),
        ("unitSystem".to_string(), units.system.as_str().to_string()),
    ]);
    Arc::new(Schema::new_with_metadata(fields, meta))
}

/// Leaf's units document for a file: a flat property → unit map.
pub fn units_document(
    op: OperationType,
    units: &Units,
) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for c in columns(op) {
        if let Column::Number(p) = c {
            if let Some(u) = units.unit(p) {
                m.insert(p.name().to_string(), u.into());
            }
        }
    }
    m
}
