//! Wire → model: the login is all of the base spec; irrigation equipment and as-applied irrigation are read
//! from `/pivots`. Lindsay pivots carry `pivotLength` [R]; the path, the other keys and `{items, next}` paging are assumed [A].

use furrow_provider::{
    DownloadMode, IrrigationApplication, IrrigationEquipment, RestBoundaries, RestKeys, RestPaging,
    RestSpec,
};
use serde_json::Value;

/// The API as furrow reads it.
pub(crate) fn spec() -> RestSpec {
    RestSpec {
        organizations: None,
        fields: None,
        boundaries: RestBoundaries::None,
        files: None,
        file: None,
        paging: RestPaging::ItemsNext,
        keys: RestKeys::default(),
        since_param: "since",
        download: DownloadMode::Whole,
        page_size: 100,
    }
}

/// Irrigation equipment list, below the API base.
pub(crate) const EQUIPMENT_PATH: &str = "/pivots";
/// As-applied irrigation of one piece of equipment (`{id}`), `?since=` RFC 3339 [A].
pub(crate) const APPLICATIONS_PATH: &str = "/pivots/{id}/applications";

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `{id, name, type, pivotLength (m) [R], longitude, latitude}`.
pub(crate) fn equipment(v: &Value, org: &str) -> Option<IrrigationEquipment> {
    let location = match (
        v.get("longitude").and_then(Value::as_f64),
        v.get("latitude").and_then(Value::as_f64),
    ) {
        (Some(lon), Some(lat)) => Some([lon, lat]),
        _ => None,
    };
    Some(IrrigationEquipment {
        id: text(v, "id")?,
        name: text(v, "name").unwrap_or_default(),
        organization_id: org.to_owned(),
        kind: text(v, "type"),
        length_m: v.get("pivotLength").and_then(Value::as_f64),
        location,
    })
}

/// `{id, startTime, endTime, depthMm}` [A].
pub(crate) fn application(v: &Value, equipment_id: &str) -> Option<IrrigationApplication> {
    Some(IrrigationApplication {
        id: text(v, "id")?,
        equipment_id: text(v, "pivotId").unwrap_or_else(|| equipment_id.to_owned()),
        start_time: text(v, "startTime"),
        end_time: text(v, "endTime"),
        depth_mm: v.get("depthMm").and_then(Value::as_f64),
    })
}
