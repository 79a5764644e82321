//! Wire types and their conversion to furrow's model.

use furrow_model::{MachineFileDescriptor, MultiPolygon, ProviderField};
use serde::Deserialize;
use serde_json::Value;

/// The three activity layers listed as machine files, in cursor order.
pub(crate) const KINDS: [&str; 3] = ["asPlanted", "asHarvested", "asApplied"];

#[derive(Debug, Deserialize)]
pub(crate) struct Results<T> {
    #[serde(default = "Vec::new")]
    pub(crate) results: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Parent {
    pub(crate) id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Field {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) boundary_id: Option<String>,
    pub(crate) parent: Option<Parent>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Feature {
    pub(crate) id: String,
    #[serde(flatten)]
    pub(crate) rest: Value,
}

#[derive(Debug, Deserialize)]
pub(crate) struct FeatureCollection {
    pub(crate) features: Vec<Feature>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Activity {
    pub(crate) id: String,
    pub(crate) start_time: Option<String>,
    pub(crate) length: Option<u64>,
}

pub(crate) fn field(f: Field, org: &str, boundary: Option<MultiPolygon>) -> ProviderField {
    ProviderField {
        id: f.id,
        name: f.name,
        organization_id: org.to_owned(),
        farm_id: f.parent.map(|p| p.id),
        grower_id: None,
        boundary,
    }
}

pub(crate) fn boundary(feature: &Feature) -> Option<MultiPolygon> {
    furrow_provider::geojson_multipolygon(&feature.rest)
}

/// Activities from 1970 or the far future are noise (providers.md 3.7).
pub(crate) fn plausible(a: &Activity) -> bool {
    a.start_time
        .as_deref()
        .is_none_or(|t| !t.starts_with("1970") && !t.starts_with("5514"))
}

pub(crate) fn file(a: Activity, kind: &str, org: &str) -> MachineFileDescriptor {
    MachineFileDescriptor {
        name: format!("{kind}-{}.zip", a.id),
        id: a.id,
        organization_id: org.to_owned(),
        created_time: a.start_time,
        size: a.length,
        format: Some(kind.to_owned()),
        download_ref: Some(kind.to_owned()),
    }
}
