//! Data furrow reads from providers: organizations, fields with boundaries and machine-file descriptors.
//!
//! Adapters convert each provider's wire format into these types; nothing provider-specific crosses a crate
//! boundary.

use serde::{Deserialize, Serialize};

/// A position `[longitude, latitude]` in WGS 84 degrees (GeoJSON order).
pub type Position = [f64; 2];
/// A linear ring: closed (first position equals the last), at least four positions.
pub type Ring = Vec<Position>;
/// A polygon: the exterior ring first, then holes.
pub type Polygon = Vec<Ring>;

/// A field boundary, serialised as a GeoJSON `MultiPolygon` geometry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename = "MultiPolygon")]
pub struct MultiPolygon {
    /// Polygons, each exterior ring first.
    pub coordinates: Vec<Polygon>,
}

impl MultiPolygon {
    /// A multipolygon of these polygons; open rings are closed.
    pub fn new(polygons: Vec<Polygon>) -> Self {
        let mut mp = MultiPolygon {
            coordinates: polygons,
        };
        for ring in mp.coordinates.iter_mut().flatten() {
            if let (Some(first), Some(last)) = (ring.first().copied(), ring.last().copied())
                && first != last
            {
                ring.push(first);
            }
        }
        mp
    }

    /// Number of polygons.
    pub fn len(&self) -> usize {
        self.coordinates.len()
    }

    /// Whether there is no polygon.
    pub fn is_empty(&self) -> bool {
        self.coordinates.is_empty()
    }

    /// Whether every ring is closed, has at least four positions and finite lon/lat in range.
    pub fn is_valid(&self) -> bool {
        !self.is_empty()
            && self.coordinates.iter().all(|poly| {
                !poly.is_empty()
                    && poly.iter().all(|ring| {
                        ring.len() >= 4
                            && ring.first() == ring.last()
                            && ring.iter().all(|[lon, lat]| {
                                lon.is_finite()
                                    && lat.is_finite()
                                    && (-180.0..=180.0).contains(lon)
                                    && (-90.0..=90.0).contains(lat)
                            })
                    })
            })
    }
}

/// An organization (or the provider's equivalent: company, account, operation) the credential can see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderOrganization {
    /// The provider's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Whether the integrator's app may read this organization's data (John Deere: no `connections` link).
    pub connected: bool,
    /// Where to send the grower to connect the organization, when it is not connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_uri: Option<String>,
}

/// A field with its boundary, as a provider lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderField {
    /// The provider's id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The organization the field belongs to.
    pub organization_id: String,
    /// The provider's farm id, where it has farms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub farm_id: Option<String>,
    /// The provider's grower (client) id, where it has growers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grower_id: Option<String>,
    /// The active boundary, in WGS 84.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<MultiPolygon>,
}

/// A machine file a provider offers for download (not its bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineFileDescriptor {
    /// The provider's id.
    pub id: String,
    /// File name (e.g. `back40.zip`).
    pub name: String,
    /// The organization the file belongs to.
    pub organization_id: String,
    /// When the provider received it, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    /// Size in bytes, when the provider says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The provider's format or type label (`ISOXML`, `asApplied`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Where the bytes are, when the provider gives a link (opaque to everyone but the adapter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_ref: Option<String>,
}
