//! Wire types (never leave this crate) and their conversion to furrow's model.

use furrow_model::{MachineFileDescriptor, MultiPolygon, ProviderField, ProviderOrganization};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct Link {
    pub(crate) rel: String,
    pub(crate) uri: String,
}

/// A HAL list page.
#[derive(Debug, Deserialize)]
pub(crate) struct Page<T> {
    #[serde(default)]
    pub(crate) links: Vec<Link>,
    #[serde(default = "Vec::new")]
    pub(crate) values: Vec<T>,
}

impl<T> Page<T> {
    pub(crate) fn next(&self) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.rel == "nextPage")
            .map(|l| l.uri.as_str())
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) links: Vec<Link>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Field {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Point {
    pub(crate) lat: f64,
    pub(crate) lon: f64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Ring {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) points: Vec<Point>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Polygon {
    pub(crate) rings: Vec<Ring>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Boundary {
    #[serde(default)]
    pub(crate) active: bool,
    #[serde(default)]
    pub(crate) multipolygons: Vec<Polygon>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct File {
    pub(crate) id: String,
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) created_time: Option<String>,
    #[serde(default)]
    pub(crate) native_size: Option<u64>,
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
}

/// A field operation (`/fields/{id}/fieldOperations`): what John Deere made of a display's data, exported as
/// a shapefile (`/fieldOps/{id}`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FieldOperation {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) field_operation_type: Option<String>,
    #[serde(default)]
    pub(crate) modified_time: Option<String>,
    #[serde(default)]
    pub(crate) start_date: Option<String>,
}

/// The `download_ref` of a field operation's shapefile export.
pub(crate) const FIELD_OPERATION_REF: &str = "fieldOps/";

/// A field operation as a machine file: downloaded as its shapefile export.
pub(crate) fn field_operation(op: FieldOperation, org: &str) -> MachineFileDescriptor {
    let kind = op
        .field_operation_type
        .unwrap_or_else(|| "FIELD_OPERATION".into());
    MachineFileDescriptor {
        name: format!("{kind} field operation {}.zip", op.id),
        download_ref: Some(format!("{FIELD_OPERATION_REF}{}", op.id)),
        id: format!("fieldOperation:{}", op.id),
        organization_id: org.to_owned(),
        created_time: op.modified_time.or(op.start_date),
        size: None,
        format: Some("SHAPEFILE".into()),
    }
}

/// An organization whose only link is `connections` is not connected yet.
pub(crate) fn organization(o: Organization) -> ProviderOrganization {
    let connections = o
        .links
        .iter()
        .find(|l| l.rel == "connections")
        .map(|l| l.uri.clone());
    let managed = o.links.iter().any(|l| l.rel == "manage_connections");
    ProviderOrganization {
        id: o.id,
        name: o.name,
        connected: connections.is_none() || managed,
        connection_uri: if managed { None } else { connections },
    }
}

/// Exterior ring first in each polygon, `[lon, lat]`.
pub(crate) fn boundary(b: &Boundary) -> Option<MultiPolygon> {
    let polys: Vec<_> = b
        .multipolygons
        .iter()
        .map(|p| {
            let mut rings: Vec<&Ring> = p.rings.iter().collect();
            rings.sort_by_key(|r| r.kind != "exterior");
            rings
                .iter()
                .map(|r| r.points.iter().map(|pt| [pt.lon, pt.lat]).collect())
                .collect()
        })
        .collect();
    (!polys.is_empty()).then(|| MultiPolygon::new(polys))
}

pub(crate) fn field(f: Field, org: &str, boundary: Option<MultiPolygon>) -> ProviderField {
    ProviderField {
        id: f.id,
        name: f.name,
        organization_id: org.to_owned(),
        farm_id: None,
        grower_id: None,
        boundary,
    }
}

pub(crate) fn file(f: File, org: &str) -> MachineFileDescriptor {
    MachineFileDescriptor {
        id: f.id,
        name: f.name,
        organization_id: org.to_owned(),
        created_time: f.created_time,
        size: f.native_size,
        format: f.kind,
        download_ref: None,
    }
}
