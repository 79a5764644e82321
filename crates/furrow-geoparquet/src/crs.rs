//! The coordinate reference system furrow writes: OGC:CRS84 as PROJJSON.

/// OGC:CRS84 (WGS 84 longitude/latitude) as PROJJSON, verbatim from the GeoParquet 1.1 specification.
///
/// Written as the `crs` of every geometry column. geoparquet 0.9 silently drops a CRS given as an
/// authority code (`EPSG:4326`) or WKT, so furrow always passes this object.
pub const CRS84_PROJJSON: &str = r#"{
    "$schema": "https://proj.org/schemas/v0.5/projjson.schema.json",
    "type": "GeographicCRS",
    "name": "WGS 84 longitude-latitude",
    "datum": {
        "type": "GeodeticReferenceFrame",
        "name": "World Geodetic System 1984",
        "ellipsoid": {
            "name": "WGS 84",
            "semi_major_axis": 6378137,
            "inverse_flattening": 298.257223563
        }
    },
    "coordinate_system": {
        "subtype": "ellipsoidal",
        "axis": [
        {
            "name": "Geodetic longitude",
            "abbreviation": "Lon",
            "direction": "east",
            "unit": "degree"
        },
        {
            "name": "Geodetic latitude",
            "abbreviation": "Lat",
            "direction": "north",
            "unit": "degree"
        }
        ]
    },
    "id": {
        "authority": "OGC",
        "code": "CRS84"
    }
}"#;

/// [`CRS84_PROJJSON`] parsed.
pub fn crs84() -> serde_json::Value {
    serde_json::from_str(CRS84_PROJJSON).unwrap_or(serde_json::Value::Null)
}
