//! The configuration keys the data work reads (Leaf's `/configs`), resolved once into typed settings.

use furrow_allocate::GroupingConfig;
use furrow_machine_data::{CleanupRules, UnitSystem};
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// What the pipeline does for one user, from their effective configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `unitMeasurement` (`DEFAULT`: the source's system; METRIC for ISOXML).
    pub unit_measurement: UnitChoice,
    /// `cleanupStandardGeojson`: apply `cleanupRules` to the standard points.
    pub cleanup: bool,
    /// `cleanupRules`, in the output units.
    pub cleanup_rules: CleanupRules,
    /// `originalOperationData`: the task, field, farm and grower names as the source named them, in the summary.
    pub original_operation_data: bool,
    /// `enableOutsideFieldGeojson`.
    pub outside_field_geojson: bool,
    /// `enableGeoparquetOutput`: the GeoParquet download routes answer.
    pub geoparquet_output: bool,
    /// `enablePolygonOutput`: files keep their swath polygons.
    pub polygon_output: bool,
    /// `cropOptional`: planted files need a crop unless this says optional.
    pub crop_required: bool,
    /// `seedRateOptional`: planted files need a seed rate unless this says optional.
    pub seed_rate_required: bool,
    /// `outOfStandardOperations`: files of type `other` also make operations.
    pub out_of_standard_operations: bool,
    /// `fieldOperationCreation`.
    pub field_operation_creation: bool,
    /// `operationsFilteredGeojson`: operations get a filtered view.
    pub filtered_output: bool,
    /// `operationsRemoveOutliers`.
    pub remove_outliers: bool,
    /// `operationsOutliersLimit` (standard deviations).
    pub outliers_limit: f64,
    /// The merge ranges, splits and attach intersection.
    pub grouping: GroupingConfig,
    /// `operationsProcessingRange`: only files whose data is this many months old or newer make operations.
    pub processing_range_months: f64,
    /// `operationsAutoSync`: background syncs list machine files.
    pub operations_auto_sync: bool,
    /// `fieldsAutoSync`.
    pub fields_auto_sync: bool,
    /// `customDataSync`: data waits in preview until the user picks it (fields of new organizations arrive in
    /// `PREVIEW`; machine files of organizations in `PREVIEW` are listed, not downloaded).
    pub custom_data_sync: bool,
    /// `organizationDataSync` is `SELECTED_ONLY`.
    pub selected_organizations_only: bool,
    /// `operationsImageCreation`: the master switch of images.
    pub images: bool,
    /// `operationsImageAttributeCreation`: operation type → the properties switched on.
    pub image_attributes: BTreeMap<String, BTreeSet<String>>,
    /// `operationsImageAsGeoTiff`: operations also get GeoTIFFs.
    pub images_geotiff: bool,
}

/// `unitMeasurement`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitChoice {
    /// The source's own system.
    Default,
    /// Always this system.
    System(UnitSystem),
}

impl UnitChoice {
    /// The system to write for a source whose own system is `source`.
    pub fn resolve(self, source: UnitSystem) -> UnitSystem {
        match self {
            UnitChoice::Default => source,
            UnitChoice::System(s) => s,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::from_config(&furrow_model::config_defaults())
    }
}

fn optional(cfg: &Map<String, Value>, key: &str, property: &str) -> bool {
    cfg.get(key)
        .and_then(|v| v.get("standardGeoJson"))
        .and_then(|v| v.get("planted"))
        .and_then(|v| v.get(property))
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("optional"))
}

/// `{"harvested": {"wetMass": true, …}, …}` → the properties set to `true`, per operation type.
fn image_attributes(v: Option<&Value>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (operation_type, properties) in v.and_then(Value::as_object).into_iter().flatten() {
        let on: BTreeSet<String> = properties
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| v.as_bool() == Some(true))
            .map(|(k, _)| k.clone())
            .collect();
        out.insert(operation_type.clone(), on);
    }
    out
}

impl Settings {
    /// Settings from an effective configuration (defaults already merged in, see
    /// `furrow_model::effective_config`); a key missing or of the wrong type takes its default.
    pub fn from_config(cfg: &Map<String, Value>) -> Settings {
        let num = |k: &str, d: f64| cfg.get(k).and_then(Value::as_f64).unwrap_or(d);
        let flag = |k: &str, d: bool| cfg.get(k).and_then(Value::as_bool).unwrap_or(d);
        let unit_measurement = match cfg.get("unitMeasurement").and_then(Value::as_str) {
            Some("METRIC") => UnitChoice::System(UnitSystem::Metric),
            Some("IMPERIAL") => UnitChoice::System(UnitSystem::Imperial),
            _ => UnitChoice::Default,
        };
        let cleanup_rules = cfg
            .get("cleanupRules")
            .and_then(|v| CleanupRules::from_json(v).ok())
            .unwrap_or_default();
        Settings {
            unit_measurement,
            cleanup: flag("cleanupStandardGeojson", true),
            cleanup_rules,
            original_operation_data: flag("originalOperationData", true),
            outside_field_geojson: flag("enableOutsideFieldGeojson", false),
            geoparquet_output: flag("enableGeoparquetOutput", false),
            polygon_output: flag("enablePolygonOutput", false),
            crop_required: !optional(cfg, "cropOptional", "crop"),
            seed_rate_required: !optional(cfg, "seedRateOptional", "seedRate"),
            out_of_standard_operations: flag("outOfStandardOperations", false),
            field_operation_creation: flag("fieldOperationCreation", true),
            filtered_output: flag("operationsFilteredGeojson", true),
            remove_outliers: flag("operationsRemoveOutliers", true),
            outliers_limit: num("operationsOutliersLimit", 3.0),
            grouping: GroupingConfig {
                operations_merge_range: num("operationsMergeRange", 5.0),
                operations_merge_range_harvested: num("operationsMergeRangeHarvested", 21.0),
                split_operations_by_field: flag("splitOperationsByField", true),
                split_operations_by_provider: flag("splitOperationsByProvider", true),
                split_operations_by_till_type: flag("splitOperationsByTillType", false),
                fields_attach_intersection: num("fieldsAttachIntersection", 0.01),
            },
            processing_range_months: num("operationsProcessingRange", 12.0),
            operations_auto_sync: flag("operationsAutoSync", true),
            fields_auto_sync: flag("fieldsAutoSync", true),
            custom_data_sync: flag("customDataSync", true),
            selected_organizations_only: cfg.get("organizationDataSync").and_then(Value::as_str)
                == Some("SELECTED_ONLY"),
            images: flag("operationsImageCreation", false),
            image_attributes: image_attributes(cfg.get("operationsImageAttributeCreation")),
            images_geotiff: flag("operationsImageAsGeoTiff", false),
        }
    }

    /// The images of data of `operation_type` (leaf-images.md §5.1): the imageable properties switched on in
    /// `operationsImageAttributeCreation`, when `operationsImageCreation` is on. The same gate serves files
    /// (V1) and operations (V2, and GeoTIFFs when `operationsImageAsGeoTiff` is on).
    pub fn images_for(&self, operation_type: &str) -> crate::ImageChoice {
        if !self.images {
            return crate::ImageChoice::default();
        }
        let on = self.image_attributes.get(operation_type);
        crate::ImageChoice {
            properties: furrow_render::imageable_properties(operation_type)
                .iter()
                .copied()
                .filter(|p| on.is_some_and(|on| on.contains(*p)))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            geotiff: self.images_geotiff,
        }
    }

    /// Whether a file whose data ended at `end_micros` is recent enough to make operations at `now_micros`
    /// (`operationsProcessingRange` months of 30.44 days).
    pub fn in_processing_range(&self, end_micros: i64, now_micros: i64) -> bool {
        let range = self.processing_range_months * 30.436_875 * 86_400e6;
        (now_micros - end_micros) as f64 <= range
    }
}
