//! Growers, farms, fields and boundary history (Leaf's fields service).
//!
//! Growers and farms have integer ids handed out by a counter row per table (`UPDATE … RETURNING`), the same
//! sequence on both engines. Fields have a UUID or a client-chosen id, unique per API owner. A field has exactly
//! one `ACTIVE` boundary (a partial unique index enforces it); replacing it marks the old one `INACTIVE`, so the
//! history is never rewritten.

use std::fmt::Write as _;

use furrow_allocate::{ValidationReport, Validity};
use geo::{Area, BoundingRect, GeodesicArea};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::new_id;
use crate::owners::is_unique_violation;
use crate::{Error, Result, Store};

/// A boundary geometry checked the way Leaf checks it (validity values, `automaticFixBoundary`), ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundaryGeometry {
    /// The geometry to store: repaired when [`fixed`](Self::fixed), shells counter-clockwise.
    pub geometry: MultiPolygon<f64>,
    /// Validity of [`geometry`](Self::geometry), with the place of the problem.
    pub report: ValidationReport,
    /// Whether a repair (closing rings, dropping repeated points, orienting rings) was needed.
    pub fixed: bool,
    /// The problem the repair removed (`RING_NOT_CLOSED`, `REPEATED_POINT`); `None` when the input was valid
    /// (at most re-oriented) or could not be repaired.
    pub repaired: Option<ValidationReport>,
    /// Geodesic area on the WGS 84 ellipsoid, hectares.
    pub area_ha: f64,
}

impl BoundaryGeometry {
    /// Checks a GeoJSON geometry: anything but a `MultiPolygon` is `NOT_ALLOWED_GEOMETRY_TYPE`, a position that
    /// is not `[lon, lat(, alt)]` numbers is `INVALID_COORDINATE`; the rest is [`from_coordinates`](Self::from_coordinates).
    pub fn from_geojson(value: &Value) -> Self {
        match parse_multipolygon(value) {
            Ok(coords) => Self::from_coordinates(&coords),
            Err(report) => Self {
                geometry: MultiPolygon(Vec::new()),
                report,
                fixed: false,
                repaired: None,
                area_ha: 0.0,
            },
        }
    }

    /// Checks raw `[polygon][ring][vertex] = [lon, lat]` coordinates (what provider adapters deliver).
    ///
    /// Repairable problems (a ring left open, repeated consecutive points, ring orientation) are repaired and
    /// [`fixed`](Self::fixed) is set; anything else is reported in [`report`](Self::report) and left as is.
    pub fn from_coordinates(coords: &[Vec<Vec<[f64; 2]>>]) -> Self {
        let (mp, report) = furrow_allocate::from_coordinates(coords);
        let rings = ring_count(&mp);
        let (geometry, report, mut fixed, repaired) = match report.validity {
            Validity::Valid => {
                let (oriented, r) = furrow_allocate::repair(&mp);
                (oriented, report, r.fixed, None)
            }
            Validity::RingNotClosed | Validity::RepeatedPoint => {
                let (repaired, _) = furrow_allocate::repair(&mp);
                if ring_count(&repaired) != rings {
                    // Repair would have to drop a ring: that is guessing, not fixing.
                    let bad = ValidationReport {
                        validity: Validity::TooFewPoints,
                        message: report.message,
                    };
                    (mp, bad, false, None)
                } else {
                    let again = furrow_allocate::validate(&repaired);
                    if again.validity == Validity::Valid {
                        (repaired, again, true, Some(report))
                    } else {
                        (mp, again, false, None)
                    }
                }
            }
            _ => (mp, report, false, None),
        };
        let flat = geometry
            .0
            .iter()
            .position(|p| Polygon::new(p.exterior().clone(), Vec::new()).unsigned_area() == 0.0);
        let report = match flat {
            // JTS reports a shell that folds back on itself as a self-intersection.
            Some(pi) if report.validity == Validity::Valid => {
                fixed = false;
                ValidationReport {
                    validity: Validity::SelfIntersection,
                    message: format!("polygon {pi} shell encloses no area"),
                }
            }
            _ => report,
        };
        let area_ha = geometry.geodesic_area_unsigned() / 10_000.0;
        Self {
            geometry,
            report,
            fixed,
            repaired: if fixed { repaired } else { None },
            area_ha,
        }
    }

    /// Whether the geometry can be stored as a manual boundary.
    pub fn is_valid(&self) -> bool {
        self.report.validity == Validity::Valid
    }
}

fn ring_count(mp: &MultiPolygon<f64>) -> usize {
    mp.0.iter().map(|p| 1 + p.interiors().len()).sum()
}

fn parse_multipolygon(value: &Value) -> Result<Vec<Vec<Vec<[f64; 2]>>>, ValidationReport> {
    let bad = |validity, message: String| ValidationReport { validity, message };
    let Some(obj) = value.as_object() else {
        return Err(bad(
            Validity::NotAllowedGeometryType,
            "geometry must be a GeoJSON MultiPolygon object".into(),
        ));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some("MultiPolygon") => {}
        Some(other) => {
            return Err(bad(
                Validity::NotAllowedGeometryType,
                format!("geometry type {other} is not allowed; use MultiPolygon"),
            ));
        }
        None => {
            return Err(bad(
                Validity::NotAllowedGeometryType,
                "geometry has no type; use MultiPolygon".into(),
            ));
        }
    }
    let array =
        |v: Option<&Value>, place: &dyn Fn() -> String| -> Result<Vec<Value>, ValidationReport> {
            match v {
                Some(Value::Array(a)) => Ok(a.clone()),
                _ => Err(bad(
                    Validity::InvalidCoordinate,
                    format!("{} must be an array", place()),
                )),
            }
        };
    let polys = array(obj.get("coordinates"), &|| "coordinates".into())?;
    let mut out = Vec::with_capacity(polys.len());
    for (pi, poly) in polys.iter().enumerate() {
        let rings = array(Some(poly), &|| format!("polygon {pi}"))?;
        let mut rs = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.iter().enumerate() {
            let verts = array(Some(ring), &|| format!("polygon {pi} ring {ri}"))?;
            let mut vs = Vec::with_capacity(verts.len());
            for (vi, v) in verts.iter().enumerate() {
                let pos = v.as_array().filter(|a| (2..=3).contains(&a.len()));
                let xy = pos.and_then(|a| Some([a[0].as_f64()?, a[1].as_f64()?]));
                match xy {
                    Some(xy) if pos.is_some_and(|a| a.iter().all(Value::is_number)) => vs.push(xy),
                    _ => {
                        return Err(bad(
                            Validity::InvalidCoordinate,
                            format!(
                                "polygon {pi} ring {ri} vertex {vi} is not [longitude, latitude]"
                            ),
                        ));
                    }
                }
            }
            rs.push(vs);
        }
        out.push(rs);
    }
    Ok(out)
}

/// A GeoJSON `MultiPolygon` geometry object of `mp`.
pub fn multipolygon_geojson(mp: &MultiPolygon<f64>) -> Value {
    let ring = |r: &LineString<f64>| -> Value {
        Value::Array(r.0.iter().map(|c| serde_json::json!([c.x, c.y])).collect())
    };
    let coords: Vec<Value> =
        mp.0.iter()
            .map(|p| {
                Value::Array(
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .map(ring)
                        .collect(),
                )
            })
            .collect();
    serde_json::json!({"type": "MultiPolygon", "coordinates": coords})
}

fn multipolygon_from_text(text: &str) -> Result<MultiPolygon<f64>> {
    let corrupt = |message: String| Error::Corrupt {
        table: "boundaries",
        message,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let coords = parse_multipolygon(&value).map_err(|r| corrupt(r.message))?;
    Ok(MultiPolygon(
        coords
            .into_iter()
            .filter_map(|poly| {
                let mut rings = poly
                    .into_iter()
                    .map(|r| LineString(r.into_iter().map(|[x, y]| Coord { x, y }).collect()));
                let shell = rings.next()?;
                Some(Polygon::new(shell, rings.collect()))
            })
            .collect(),
    ))
}

/// Where a boundary stands in its field's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoundaryStatus {
    /// The field's current boundary (exactly one per field).
    Active,
    /// Replaced by a newer boundary.
    Inactive,
    /// The provider has a newer boundary than this one.
    OutdatedOnProvider,
    /// The provider deleted it.
    DeletedOnProvider,
}

impl BoundaryStatus {
    /// Leaf's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::OutdatedOnProvider => "OUTDATED_ON_PROVIDER",
            Self::DeletedOnProvider => "DELETED_ON_PROVIDER",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "ACTIVE" => Self::Active,
            "INACTIVE" => Self::Inactive,
            "OUTDATED_ON_PROVIDER" => Self::OutdatedOnProvider,
            "DELETED_ON_PROVIDER" => Self::DeletedOnProvider,
            other => {
                return Err(Error::Corrupt {
                    table: "boundaries",
                    message: format!("unknown status {other}"),
                });
            }
        })
    }
}

/// One boundary of a field (immutable apart from its status).
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// UUID.
    pub id: String,
    /// The field it belongs to.
    pub field_id: String,
    /// Where it stands in the history.
    pub status: BoundaryStatus,
    /// `ACTIVE`/`INACTIVE` on the provider, for provider boundaries.
    pub provider_status: Option<String>,
    /// The provider's boundary id.
    pub provider_boundary_id: Option<String>,
    /// The geometry (lon/lat).
    pub geometry: MultiPolygon<f64>,
    /// Geodesic area, hectares.
    pub area_ha: f64,
    /// Leaf's validity value (`VALID`, `SELF_INTERSECTION`, …).
    pub validity: String,
    /// `FIXED` when the geometry was repaired.
    pub fix_status: Option<String>,
    /// Creation instant, µs since the epoch.
    pub created_at: i64,
    /// Last status change, µs since the epoch.
    pub updated_at: i64,
}

/// A field with its boundary history ids and active boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// UUID or the id the client chose.
    pub id: String,
    /// The Leaf user it belongs to.
    pub user_id: String,
    /// Display name.
    pub name: Option<String>,
    /// `ORIGINAL` or `MERGED`.
    pub field_type: String,
    /// `PROCESSED`, `PREVIEW` or `WAITING`.
    pub status: String,
    /// The farm, if any.
    pub farm_id: Option<i64>,
    /// Provider name (`JohnDeere`, …); `None` for manual fields.
    pub provider_name: Option<String>,
    /// Leaf's numeric provider id.
    pub provider_id: Option<i64>,
    /// The provider's field id.
    pub provider_field_id: Option<String>,
    /// The provider's field name.
    pub provider_field_name: Option<String>,
    /// The provider's id of the active boundary.
    pub provider_boundary_id: Option<String>,
    /// The provider organization.
    pub organization_id: Option<String>,
    /// Creation instant, µs since the epoch.
    pub created_at: i64,
    /// Last change, µs since the epoch.
    pub updated_at: i64,
    /// Every boundary id, oldest first.
    pub boundary_ids: Vec<String>,
    /// The active boundary.
    pub active_boundary: Option<Boundary>,
}

/// A manual field to create.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewField {
    /// The client's id; a UUID when `None`.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// The farm (must be the same user's).
    pub farm_id: Option<i64>,
}

/// Changes to a field (PATCH): `None` leaves a value, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPatch {
    /// New name.
    pub name: Option<Option<String>>,
    /// New farm.
    pub farm_id: Option<Option<i64>>,
}

/// Filters of `GET /fields`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldFilter {
    /// Only this user's fields.
    pub user_id: Option<String>,
    /// Only fields of this farm.
    pub farm_id: Option<i64>,
    /// Only this provider's fields; `Leaf` selects manual fields.
    pub provider: Option<String>,
    /// `ORIGINAL` or `MERGED`.
    pub field_type: Option<String>,
}

/// Filters of `GET /farms` and `GET /growers`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FarmFilter {
    /// Only this user's.
    pub user_id: Option<String>,
    /// Only this provider's; `Leaf` selects manual ones.
    pub provider: Option<String>,
    /// Only farms of this grower (ignored for growers).
    pub grower_id: Option<i64>,
}

/// A grower (John Deere's "client").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grower {
    /// Integer id.
    pub id: i64,
    /// The Leaf user it belongs to.
    pub user_id: String,
    /// Display name.
    pub name: Option<String>,
    /// Provider name, `None` for manual growers.
    pub provider_name: Option<String>,
    /// Leaf's numeric provider id.
    pub provider_id: Option<i64>,
    /// The provider's grower id.
    pub provider_grower_id: Option<String>,
    /// The grower's farms.
    pub farm_ids: Vec<i64>,
    /// Creation instant, µs since the epoch.
    pub created_at: i64,
    /// Last change, µs since the epoch.
    pub updated_at: i64,
}

/// A farm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Farm {
    /// Integer id.
    pub id: i64,
    /// The Leaf user it belongs to.
    pub user_id: String,
    /// Display name.
    pub name: Option<String>,
    /// The grower, if any.
    pub grower_id: Option<i64>,
    /// Provider name, `None` for manual farms.
    pub provider_name: Option<String>,
    /// Leaf's numeric provider id.
    pub provider_id: Option<i64>,
    /// The provider's farm id.
    pub provider_farm_id: Option<String>,
    /// The provider's farm name.
    pub provider_farm_name: Option<String>,
    /// The farm's fields.
    pub field_ids: Vec<String>,
    /// Creation instant, µs since the epoch.
    pub created_at: i64,
    /// Last change, µs since the epoch.
    pub updated_at: i64,
}

/// A field as a provider reports it, for [`Store::upsert_provider_field`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderFieldInput {
    /// Provider name (`JohnDeere`, …).
    pub provider_name: String,
    /// Leaf's numeric provider id.
    pub provider_id: Option<i64>,
    /// The provider's field id (the upsert key, with the provider and the user).
    pub provider_field_id: String,
    /// The provider's field name (also the field's name).
    pub provider_field_name: Option<String>,
    /// The provider's boundary id.
    pub provider_boundary_id: Option<String>,
    /// The provider organization.
    pub organization_id: Option<String>,
    /// The furrow farm (from [`Store::upsert_provider_farm`]).
    pub farm_id: Option<i64>,
    /// The boundary, if the provider has one; stored even when invalid (its validity says so).
    pub boundary: Option<BoundaryGeometry>,
    /// `customDataSync`: a new field arrives in `PREVIEW`, without its boundary, until the user enables its
    /// sync (`WAITING`); the next sync then stores the boundary and the field becomes `PROCESSED`.
    pub preview: bool,
}

/// What an upsert did to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The row was new.
    Created,
    /// The row existed and changed.
    Updated,
    /// The row existed as is.
    Unchanged,
}

/// The outcome of [`Store::upsert_provider_field`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderFieldUpsert {
    /// furrow's field id.
    pub field_id: String,
    /// What happened to the field row.
    pub field: Change,
    /// The active boundary after the upsert.
    pub boundary_id: Option<String>,
    /// `Created` when a new active boundary was stored (the previous one became `INACTIVE`).
    pub boundary: Change,
}

/// A grower or farm as a provider reports it, for the provider upserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderGroupInput {
    /// Provider name.
    pub provider_name: String,
    /// Leaf's numeric provider id.
    pub provider_id: Option<i64>,
    /// The provider's id (the upsert key, with the provider and the user).
    pub provider_ref: String,
    /// Name.
    pub name: Option<String>,
    /// For farms: the furrow grower.
    pub grower_id: Option<i64>,
}

const FIELD_COLUMNS: &str = "id, user_id, name, field_type, status, farm_id, provider_name, provider_id, \
    provider_field_id, provider_field_name, provider_boundary_id, organization_id, created_at, updated_at";
const BOUNDARY_COLUMNS: &str = "id, field_id, status, provider_status, provider_boundary_id, geometry, area_ha, \
    validity, fix_status, created_at, updated_at";
const GROWER_COLUMNS: &str =
    "id, user_id, name, provider_name, provider_id, provider_grower_id, created_at, updated_at";
const FARM_COLUMNS: &str = "id, user_id, name, grower_id, provider_name, provider_id, provider_farm_id, \
    provider_farm_name, created_at, updated_at";

/// A query's bind values (all text or integers), so dynamic filters are written once.
enum Bind {
    Text(String),
    Int(i64),
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: &'q [Bind],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Int(i) => q.bind(*i),
        };
    }
    q
}

fn placeholders(from: usize, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "${}", from + i);
    }
    s
}

/// Appends `AND provider_name = $n` (or `IS NULL` for `Leaf`, the provider name of manual rows).
fn provider_cond(conds: &mut String, binds: &mut Vec<Bind>, provider: &Option<String>) {
    match provider.as_deref() {
        None => {}
        Some("Leaf") => conds.push_str(" AND provider_name IS NULL"),
        Some(p) => {
            binds.push(Bind::Text(p.to_owned()));
            let _ = write!(conds, " AND provider_name = ${}", binds.len());
        }
    }
}

impl Store {
    async fn next_int_id(&self, table: &str) -> Result<i64> {
        Ok(sqlx::query_scalar::<_, i64>(
            "UPDATE id_counters SET last_id = last_id + 1 WHERE name = $1 RETURNING last_id",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await?)
    }

    // ---- growers ----

    /// Creates a manual grower for a user.
    pub async fn create_grower(
        &self,
        owner_id: &str,
        user_id: &str,
        name: Option<&str>,
    ) -> Result<Grower> {
        self.get_user(owner_id, user_id).await?;
        let id = self.next_int_id("growers").await?;
        let now = furrow_model::now_micros();
        sqlx::query(
            "INSERT INTO growers (id, owner_id, user_id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(owner_id)
        .bind(user_id)
        .bind(name)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.get_grower(owner_id, user_id, id).await
    }

    /// One of a user's growers.
    pub async fn get_grower(&self, owner_id: &str, user_id: &str, id: i64) -> Result<Grower> {
        let sql = format!(
            "SELECT {GROWER_COLUMNS} FROM growers WHERE owner_id = $1 AND user_id = $2 AND id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("grower"))?;
        let mut g = grower_from_row(&row)?;
        g.farm_ids = self
            .farm_ids_of_growers(owner_id, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(g)
    }

    /// A page of the owner's growers, oldest first, and the total.
    pub async fn list_growers(
        &self,
        owner_id: &str,
        filter: &FarmFilter,
        page: furrow_model::Page,
    ) -> Result<(Vec<Grower>, i64)> {
        let mut conds = String::from("owner_id = $1");
        let mut binds = vec![Bind::Text(owner_id.to_owned())];
        if let Some(u) = &filter.user_id {
            binds.push(Bind::Text(u.clone()));
            let _ = write!(conds, " AND user_id = ${}", binds.len());
        }
        provider_cond(&mut conds, &mut binds, &filter.provider);
        let total = self.count("growers", &conds, &binds).await?;
        let sql = format!(
            "SELECT {GROWER_COLUMNS} FROM growers WHERE {conds} ORDER BY id LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let mut growers = rows
            .iter()
            .map(grower_from_row)
            .collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = growers.iter().map(|g| g.id).collect();
        let mut farms = self.farm_ids_of_growers(owner_id, &ids).await?;
        for g in &mut growers {
            g.farm_ids = farms.remove(&g.id).unwrap_or_default();
        }
        Ok((growers, total))
    }

    /// Renames a manual or provider grower (PUT).
    pub async fn update_grower(
        &self,
        owner_id: &str,
        user_id: &str,
        id: i64,
        name: Option<&str>,
    ) -> Result<Grower> {
        let n = sqlx::query(
            "UPDATE growers SET name = $1, updated_at = $2 WHERE owner_id = $3 AND user_id = $4 AND id = $5",
        )
        .bind(name)
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(user_id)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("grower"));
        }
        self.get_grower(owner_id, user_id, id).await
    }

    /// Creates or updates a grower a provider reports (keyed by provider and provider grower id per user).
    pub async fn upsert_provider_grower(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &ProviderGroupInput,
    ) -> Result<(Grower, Change)> {
        self.get_user(owner_id, user_id).await?;
        for _ in 0..2 {
            let existing: Option<(i64, Option<String>, Option<i64>)> = sqlx::query(
                "SELECT id, name, provider_id FROM growers WHERE owner_id = $1 AND user_id = $2 \
                 AND provider_name = $3 AND provider_grower_id = $4",
            )
            .bind(owner_id)
            .bind(user_id)
            .bind(&input.provider_name)
            .bind(&input.provider_ref)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .transpose()?;
            let now = furrow_model::now_micros();
            if let Some((id, name, provider_id)) = existing {
                let change = if name == input.name && provider_id == input.provider_id {
                    Change::Unchanged
                } else {
                    sqlx::query(
                        "UPDATE growers SET name = $1, provider_id = $2, updated_at = $3 WHERE owner_id = $4 AND id = $5",
                    )
                    .bind(input.name.as_deref())
                    .bind(input.provider_id)
                    .bind(now)
                    .bind(owner_id)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                    Change::Updated
                };
                return Ok((self.get_grower(owner_id, user_id, id).await?, change));
            }
            let id = self.next_int_id("growers").await?;
            let res = sqlx::query(
                "INSERT INTO growers (id, owner_id, user_id, name, provider_name, provider_id, provider_grower_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(id)
            .bind(owner_id)
            .bind(user_id)
            .bind(input.name.as_deref())
            .bind(&input.provider_name)
            .bind(input.provider_id)
            .bind(&input.provider_ref)
            .bind(now)
            .execute(&self.pool)
            .await;
            match res {
                Ok(_) => {
                    return Ok((
                        self.get_grower(owner_id, user_id, id).await?,
                        Change::Created,
                    ));
                }
                // A concurrent upsert created it: read it again.
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::AlreadyExists("grower"))
    }

    async fn farm_ids_of_growers(
        &self,
        owner_id: &str,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<i64>>> {
        let mut out = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT grower_id, id FROM farms WHERE owner_id = $1 AND grower_id IN ({}) ORDER BY id",
            placeholders(2, ids.len())
        );
        let mut q = sqlx::query(&sql).bind(owner_id);
        for id in ids {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&self.pool).await? {
            let g: i64 = row.try_get(0)?;
            out.entry(g).or_insert_with(Vec::new).push(row.try_get(1)?);
        }
        Ok(out)
    }

    async fn count(&self, table: &str, conds: &str, binds: &[Bind]) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {conds}");
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s.as_str()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        Ok(q.fetch_one(&self.pool).await?)
    }

    // ---- farms ----

    /// Creates a manual farm for a user; the grower, when given, must be the same user's.
    pub async fn create_farm(
        &self,
        owner_id: &str,
        user_id: &str,
        name: Option<&str>,
        grower_id: Option<i64>,
    ) -> Result<Farm> {
        self.get_user(owner_id, user_id).await?;
        if let Some(g) = grower_id {
            self.get_grower(owner_id, user_id, g).await?;
        }
        let id = self.next_int_id("farms").await?;
        sqlx::query(
            "INSERT INTO farms (id, owner_id, user_id, name, grower_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(id)
        .bind(owner_id)
        .bind(user_id)
        .bind(name)
        .bind(grower_id)
        .bind(furrow_model::now_micros())
        .execute(&self.pool)
        .await?;
        self.get_farm(owner_id, user_id, id).await
    }

    /// One of a user's farms.
    pub async fn get_farm(&self, owner_id: &str, user_id: &str, id: i64) -> Result<Farm> {
        let sql = format!(
            "SELECT {FARM_COLUMNS} FROM farms WHERE owner_id = $1 AND user_id = $2 AND id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("farm"))?;
        let mut f = farm_from_row(&row)?;
        f.field_ids = self
            .field_ids_of_farms(owner_id, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(f)
    }

    /// A page of the owner's farms, oldest first, and the total.
    pub async fn list_farms(
        &self,
        owner_id: &str,
        filter: &FarmFilter,
        page: furrow_model::Page,
    ) -> Result<(Vec<Farm>, i64)> {
        let mut conds = String::from("owner_id = $1");
        let mut binds = vec![Bind::Text(owner_id.to_owned())];
        if let Some(u) = &filter.user_id {
            binds.push(Bind::Text(u.clone()));
            let _ = write!(conds, " AND user_id = ${}", binds.len());
        }
        if let Some(g) = filter.grower_id {
            binds.push(Bind::Int(g));
            let _ = write!(conds, " AND grower_id = ${}", binds.len());
        }
        provider_cond(&mut conds, &mut binds, &filter.provider);
        let total = self.count("farms", &conds, &binds).await?;
        let sql = format!(
            "SELECT {FARM_COLUMNS} FROM farms WHERE {conds} ORDER BY id LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let mut farms = rows.iter().map(farm_from_row).collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = farms.iter().map(|f| f.id).collect();
        let mut fields = self.field_ids_of_farms(owner_id, &ids).await?;
        for f in &mut farms {
            f.field_ids = fields.remove(&f.id).unwrap_or_default();
        }
        Ok((farms, total))
    }

    /// Replaces a farm's name and grower (PUT); the grower, when given, must be the same user's.
    pub async fn update_farm(
        &self,
        owner_id: &str,
        user_id: &str,
        id: i64,
        name: Option<&str>,
        grower_id: Option<i64>,
    ) -> Result<Farm> {
        self.get_farm(owner_id, user_id, id).await?;
        if let Some(g) = grower_id {
            self.get_grower(owner_id, user_id, g).await?;
        }
        let n = sqlx::query(
            "UPDATE farms SET name = $1, grower_id = $2, updated_at = $3 WHERE owner_id = $4 AND user_id = $5 AND id = $6",
        )
        .bind(name)
        .bind(grower_id)
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(user_id)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("farm"));
        }
        self.get_farm(owner_id, user_id, id).await
    }

    /// Creates or updates a farm a provider reports (keyed by provider and provider farm id per user).
    pub async fn upsert_provider_farm(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &ProviderGroupInput,
    ) -> Result<(Farm, Change)> {
        self.get_user(owner_id, user_id).await?;
        if let Some(g) = input.grower_id {
            self.get_grower(owner_id, user_id, g).await?;
        }
        for _ in 0..2 {
            let sql = format!(
                "SELECT {FARM_COLUMNS} FROM farms WHERE owner_id = $1 AND user_id = $2 AND provider_name = $3 AND provider_farm_id = $4"
            );
            let existing = sqlx::query(&sql)
                .bind(owner_id)
                .bind(user_id)
                .bind(&input.provider_name)
                .bind(&input.provider_ref)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| farm_from_row(&r))
                .transpose()?;
            let now = furrow_model::now_micros();
            if let Some(f) = existing {
                let change = if f.name == input.name
                    && f.provider_farm_name == input.name
                    && f.grower_id == input.grower_id
                    && f.provider_id == input.provider_id
                {
                    Change::Unchanged
                } else {
                    sqlx::query(
                        "UPDATE farms SET name = $1, provider_farm_name = $1, grower_id = $2, provider_id = $3, updated_at = $4 \
                         WHERE owner_id = $5 AND id = $6",
                    )
                    .bind(input.name.as_deref())
                    .bind(input.grower_id)
                    .bind(input.provider_id)
                    .bind(now)
                    .bind(owner_id)
                    .bind(f.id)
                    .execute(&self.pool)
                    .await?;
                    Change::Updated
                };
                return Ok((self.get_farm(owner_id, user_id, f.id).await?, change));
            }
            let id = self.next_int_id("farms").await?;
            let res = sqlx::query(
                "INSERT INTO farms (id, owner_id, user_id, name, grower_id, provider_name, provider_id, provider_farm_id, provider_farm_name, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $4, $9, $9)",
            )
            .bind(id)
            .bind(owner_id)
            .bind(user_id)
            .bind(input.name.as_deref())
            .bind(input.grower_id)
            .bind(&input.provider_name)
            .bind(input.provider_id)
            .bind(&input.provider_ref)
            .bind(now)
            .execute(&self.pool)
            .await;
            match res {
                Ok(_) => return Ok((self.get_farm(owner_id, user_id, id).await?, Change::Created)),
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::AlreadyExists("farm"))
    }

    async fn field_ids_of_farms(
        &self,
        owner_id: &str,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, Vec<String>>> {
        let mut out = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT farm_id, id FROM fields WHERE owner_id = $1 AND farm_id IN ({}) ORDER BY created_at, id",
            placeholders(2, ids.len())
        );
        let mut q = sqlx::query(&sql).bind(owner_id);
        for id in ids {
            q = q.bind(*id);
        }
        for row in q.fetch_all(&self.pool).await? {
            let f: i64 = row.try_get(0)?;
            out.entry(f).or_insert_with(Vec::new).push(row.try_get(1)?);
        }
        Ok(out)
    }

    // ---- fields ----

    /// Creates a manual field (type `ORIGINAL`, status `PROCESSED`) with its first, active boundary.
    ///
    /// The caller checks the geometry ([`BoundaryGeometry::is_valid`]). [`Error::NotFound`] for an unknown user
    /// or farm, [`Error::AlreadyExists`] when the owner already has a field with the chosen id.
    pub async fn create_field(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &NewField,
        boundary: &BoundaryGeometry,
    ) -> Result<Field> {
        self.get_user(owner_id, user_id).await?;
        if let Some(f) = input.farm_id {
            self.get_farm(owner_id, user_id, f).await?;
        }
        let id = input.id.clone().unwrap_or_else(new_id);
        let now = furrow_model::now_micros();
        let mut tx = self.begin_write().await?;
        let res = sqlx::query(
            "INSERT INTO fields (owner_id, id, user_id, name, field_type, status, farm_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'ORIGINAL', 'PROCESSED', $5, $6, $6)",
        )
        .bind(owner_id)
        .bind(&id)
        .bind(user_id)
        .bind(input.name.as_deref())
        .bind(input.farm_id)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Error::AlreadyExists("field")),
            Err(e) => return Err(e.into()),
        }
        insert_boundary(&mut tx, owner_id, &id, boundary, None, now).await?;
        tx.commit().await?;
        self.get_field(owner_id, user_id, &id).await
    }

    /// One of a user's fields, with its boundary ids and active boundary.
    pub async fn get_field(&self, owner_id: &str, user_id: &str, id: &str) -> Result<Field> {
        let sql = format!(
            "SELECT {FIELD_COLUMNS} FROM fields WHERE owner_id = $1 AND user_id = $2 AND id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("field"))?;
        let mut fields = vec![field_from_row(&row)?];
        self.attach_boundaries(owner_id, &mut fields).await?;
        Ok(fields.remove(0))
    }

    /// A page of the owner's fields matching `filter`, oldest first, and the total.
    pub async fn list_fields(
        &self,
        owner_id: &str,
        filter: &FieldFilter,
        page: furrow_model::Page,
    ) -> Result<(Vec<Field>, i64)> {
        let mut conds = String::from("owner_id = $1");
        let mut binds = vec![Bind::Text(owner_id.to_owned())];
        if let Some(u) = &filter.user_id {
            binds.push(Bind::Text(u.clone()));
            let _ = write!(conds, " AND user_id = ${}", binds.len());
        }
        if let Some(f) = filter.farm_id {
            binds.push(Bind::Int(f));
            let _ = write!(conds, " AND farm_id = ${}", binds.len());
        }
        if let Some(t) = &filter.field_type {
            binds.push(Bind::Text(t.clone()));
            let _ = write!(conds, " AND field_type = ${}", binds.len());
        }
        provider_cond(&mut conds, &mut binds, &filter.provider);
        let total = self.count("fields", &conds, &binds).await?;
        let sql = format!(
            "SELECT {FIELD_COLUMNS} FROM fields WHERE {conds} ORDER BY created_at, id LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let rows = bind_all(sqlx::query(&sql), &binds)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let mut fields = rows
            .iter()
            .map(field_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.attach_boundaries(owner_id, &mut fields).await?;
        Ok((fields, total))
    }

    async fn attach_boundaries(&self, owner_id: &str, fields: &mut [Field]) -> Result<()> {
        if fields.is_empty() {
            return Ok(());
        }
        let ph = placeholders(2, fields.len());
        let ids_sql = format!(
            "SELECT field_id, id FROM boundaries WHERE owner_id = $1 AND field_id IN ({ph}) ORDER BY created_at, id"
        );
        let active_sql = format!(
            "SELECT {BOUNDARY_COLUMNS} FROM boundaries WHERE owner_id = $1 AND status = 'ACTIVE' AND field_id IN ({ph})"
        );
        let mut q = sqlx::query(&ids_sql).bind(owner_id);
        for f in fields.iter() {
            q = q.bind(f.id.as_str());
        }
        let mut ids: std::collections::HashMap<String, Vec<String>> = Default::default();
        for row in q.fetch_all(&self.pool).await? {
            let field: String = row.try_get(0)?;
            ids.entry(field).or_default().push(row.try_get(1)?);
        }
        let mut q = sqlx::query(&active_sql).bind(owner_id);
        for f in fields.iter() {
            q = q.bind(f.id.as_str());
        }
        let mut active: std::collections::HashMap<String, Boundary> = Default::default();
        for row in q.fetch_all(&self.pool).await? {
            let b = boundary_from_row(&row)?;
            active.insert(b.field_id.clone(), b);
        }
        for f in fields {
            f.boundary_ids = ids.remove(&f.id).unwrap_or_default();
            f.active_boundary = active.remove(&f.id);
        }
        Ok(())
    }

    /// Changes a field's name and farm (PATCH) and, with `boundary`, replaces its active boundary.
    pub async fn update_field(
        &self,
        owner_id: &str,
        user_id: &str,
        id: &str,
        patch: &FieldPatch,
        boundary: Option<&BoundaryGeometry>,
    ) -> Result<Field> {
        let current = self.get_field(owner_id, user_id, id).await?;
        let name = patch.name.clone().unwrap_or(current.name);
        let farm_id = patch.farm_id.unwrap_or(current.farm_id);
        if let Some(f) = farm_id {
            self.get_farm(owner_id, user_id, f).await?;
        }
        let now = furrow_model::now_micros();
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE fields SET name = $1, farm_id = $2, updated_at = $3 WHERE owner_id = $4 AND user_id = $5 AND id = $6",
        )
        .bind(name.as_deref())
        .bind(farm_id)
        .bind(now)
        .bind(owner_id)
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("field"));
        }
        if let Some(b) = boundary {
            deactivate_boundary(&mut tx, owner_id, id, now).await?;
            insert_boundary(&mut tx, owner_id, id, b, None, now).await?;
        }
        tx.commit().await?;
        self.get_field(owner_id, user_id, id).await
    }

    /// Deletes a field with its boundary history.
    pub async fn delete_field(&self, owner_id: &str, user_id: &str, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM boundaries WHERE owner_id = $1 AND field_id IN \
             (SELECT id FROM fields WHERE owner_id = $1 AND user_id = $2 AND id = $3)",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query("DELETE FROM fields WHERE owner_id = $1 AND user_id = $2 AND id = $3")
            .bind(owner_id)
            .bind(user_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("field"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a field's active boundary: the current one becomes `INACTIVE`, `boundary` becomes `ACTIVE`.
    pub async fn replace_boundary(
        &self,
        owner_id: &str,
        user_id: &str,
        field_id: &str,
        boundary: &BoundaryGeometry,
    ) -> Result<Boundary> {
        let now = furrow_model::now_micros();
        let mut tx = self.begin_write().await?;
        // A write first, so SQLite takes the write lock before any read in this transaction.
        let n = sqlx::query(
            "UPDATE fields SET updated_at = $1 WHERE owner_id = $2 AND user_id = $3 AND id = $4",
        )
        .bind(now)
        .bind(owner_id)
        .bind(user_id)
        .bind(field_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("field"));
        }
        deactivate_boundary(&mut tx, owner_id, field_id, now).await?;
        let id = insert_boundary(&mut tx, owner_id, field_id, boundary, None, now).await?;
        tx.commit().await?;
        self.get_boundary(owner_id, user_id, field_id, &id).await
    }

    /// Every boundary of a field, oldest first.
    pub async fn list_boundaries(
        &self,
        owner_id: &str,
        user_id: &str,
        field_id: &str,
    ) -> Result<Vec<Boundary>> {
        self.field_exists(owner_id, user_id, field_id).await?;
        let sql = format!(
            "SELECT {BOUNDARY_COLUMNS} FROM boundaries WHERE owner_id = $1 AND field_id = $2 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(field_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(boundary_from_row).collect()
    }

    /// One boundary of a field.
    pub async fn get_boundary(
        &self,
        owner_id: &str,
        user_id: &str,
        field_id: &str,
        boundary_id: &str,
    ) -> Result<Boundary> {
        self.field_exists(owner_id, user_id, field_id).await?;
        let sql = format!(
            "SELECT {BOUNDARY_COLUMNS} FROM boundaries WHERE owner_id = $1 AND field_id = $2 AND id = $3"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(field_id)
            .bind(boundary_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("boundary"))?;
        boundary_from_row(&row)
    }

    /// The field's active boundary.
    pub async fn active_boundary(
        &self,
        owner_id: &str,
        user_id: &str,
        field_id: &str,
    ) -> Result<Boundary> {
        self.field_exists(owner_id, user_id, field_id).await?;
        let sql = format!(
            "SELECT {BOUNDARY_COLUMNS} FROM boundaries WHERE owner_id = $1 AND field_id = $2 AND status = 'ACTIVE'"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(field_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("boundary"))?;
        boundary_from_row(&row)
    }

    /// The active boundaries of a user's fields whose bounding box meets `[min_lon, min_lat, max_lon, max_lat]`.
    pub async fn active_boundaries_in_bbox(
        &self,
        owner_id: &str,
        user_id: &str,
        bbox: [f64; 4],
    ) -> Result<Vec<Boundary>> {
        let cols = BOUNDARY_COLUMNS
            .split(", ")
            .map(|c| format!("b.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM boundaries b JOIN fields f ON f.owner_id = b.owner_id AND f.id = b.field_id \
             WHERE b.owner_id = $1 AND f.user_id = $2 AND b.status = 'ACTIVE' \
             AND b.max_lon >= $3 AND b.min_lon <= $4 AND b.max_lat >= $5 AND b.min_lat <= $6 \
             ORDER BY f.created_at, f.id"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(bbox[0])
            .bind(bbox[2])
            .bind(bbox[1])
            .bind(bbox[3])
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(boundary_from_row).collect()
    }

    async fn field_exists(&self, owner_id: &str, user_id: &str, field_id: &str) -> Result<()> {
        sqlx::query_scalar::<_, String>(
            "SELECT id FROM fields WHERE owner_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(field_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|_| ())
        .ok_or(Error::NotFound("field"))
    }

    /// After a complete listing of a provider organization: the active boundary of every field of that
    /// organization the provider no longer lists becomes `DELETED_ON_PROVIDER` (the field and its history stay);
    /// returns those field ids.
    pub async fn mark_missing_provider_fields(
        &self,
        owner_id: &str,
        user_id: &str,
        provider_name: &str,
        organization_id: &str,
        listed: &[String],
    ) -> Result<Vec<String>> {
        let known: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, provider_field_id FROM fields WHERE owner_id = $1 AND user_id = $2 AND provider_name = $3 \
             AND organization_id = $4",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(provider_name)
        .bind(organization_id)
        .fetch_all(&self.pool)
        .await?;
        let now = furrow_model::now_micros();
        let mut gone = Vec::new();
        for (id, provider_field_id) in known {
            if listed.contains(&provider_field_id) {
                continue;
            }
            let mut tx = self.begin_write().await?;
            retire_boundary(
                &mut tx,
                owner_id,
                &id,
                now,
                BoundaryStatus::DeletedOnProvider,
            )
            .await?;
            tx.commit().await?;
            gone.push(id);
        }
        Ok(gone)
    }

    /// Enables the sync of a field in `PREVIEW` (`customDataSync`): it becomes `WAITING`, and the next fields
    /// sync stores its boundary. Fields in any other state are returned as they are.
    pub async fn enable_field_sync(
        &self,
        owner_id: &str,
        user_id: &str,
        field_id: &str,
    ) -> Result<Field> {
        self.field_exists(owner_id, user_id, field_id).await?;
        sqlx::query(
            "UPDATE fields SET status = 'WAITING', updated_at = $1 WHERE owner_id = $2 AND user_id = $3 AND id = $4 \
             AND status = 'PREVIEW'",
        )
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(user_id)
        .bind(field_id)
        .execute(&self.pool)
        .await?;
        self.get_field(owner_id, user_id, field_id).await
    }

    /// Enables the sync of every `PREVIEW` field on the farms of these growers; returns `(user id, field id)` of
    /// each field enabled.
    pub async fn enable_growers_sync(
        &self,
        owner_id: &str,
        grower_ids: &[i64],
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for g in grower_ids {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT f.user_id, f.id FROM fields f JOIN farms fm ON fm.owner_id = f.owner_id AND fm.id = f.farm_id \
                 WHERE f.owner_id = $1 AND fm.grower_id = $2 AND f.status = 'PREVIEW'",
            )
            .bind(owner_id)
            .bind(*g)
            .fetch_all(&self.pool)
            .await?;
            for (user, field) in rows {
                self.enable_field_sync(owner_id, &user, &field).await?;
                out.push((user, field));
            }
        }
        Ok(out)
    }

    /// The sync engine's hook: creates or updates the field a provider reports (keyed by provider, provider
    /// field id and user) and, when its boundary differs from the active one, stores it as the new active
    /// boundary (provider status `ACTIVE`, `fixStatus: FIXED` when repaired); the previous one becomes `INACTIVE`.
    pub async fn upsert_provider_field(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &ProviderFieldInput,
    ) -> Result<ProviderFieldUpsert> {
        self.get_user(owner_id, user_id).await?;
        if let Some(f) = input.farm_id {
            self.get_farm(owner_id, user_id, f).await?;
        }
        for _ in 0..2 {
            let sql = format!(
                "SELECT {FIELD_COLUMNS} FROM fields WHERE owner_id = $1 AND user_id = $2 AND provider_name = $3 AND provider_field_id = $4"
            );
            let existing = sqlx::query(&sql)
                .bind(owner_id)
                .bind(user_id)
                .bind(&input.provider_name)
                .bind(&input.provider_field_id)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| field_from_row(&r))
                .transpose()?;
            let now = furrow_model::now_micros();
            let Some(current) = existing else {
                let id = new_id();
                let mut tx = self.begin_write().await?;
                let res = sqlx::query(
                    "INSERT INTO fields (owner_id, id, user_id, name, field_type, status, farm_id, provider_name, provider_id, \
                     provider_field_id, provider_field_name, provider_boundary_id, organization_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, 'ORIGINAL', $12, $5, $6, $7, $8, $4, $9, $10, $11, $11)",
                )
                .bind(owner_id)
                .bind(&id)
                .bind(user_id)
                .bind(input.provider_field_name.as_deref())
                .bind(input.farm_id)
                .bind(&input.provider_name)
                .bind(input.provider_id)
                .bind(&input.provider_field_id)
                .bind(input.provider_boundary_id.as_deref())
                .bind(input.organization_id.as_deref())
                .bind(now)
                .bind(if input.preview { "PREVIEW" } else { "PROCESSED" })
                .execute(&mut *tx)
                .await;
                match res {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => continue,
                    Err(e) => return Err(e.into()),
                }
                let boundary = input.boundary.as_ref().filter(|_| !input.preview);
                let boundary_id = match boundary {
                    Some(b) => Some(
                        insert_boundary(
                            &mut tx,
                            owner_id,
                            &id,
                            b,
                            input.provider_boundary_id.as_deref(),
                            now,
                        )
                        .await?,
                    ),
                    None => None,
                };
                tx.commit().await?;
                return Ok(ProviderFieldUpsert {
                    field_id: id,
                    field: Change::Created,
                    boundary: if boundary_id.is_some() {
                        Change::Created
                    } else {
                        Change::Unchanged
                    },
                    boundary_id,
                });
            };
            let mut current = vec![current];
            self.attach_boundaries(owner_id, &mut current).await?;
            let current = current.remove(0);
            // A PREVIEW field keeps waiting for the user while customDataSync is on; once enabled (WAITING) or
            // once customDataSync is off, this sync stores its boundary and it becomes PROCESSED.
            let hold = current.status == "PREVIEW" && input.preview;
            let promote = current.status != "PROCESSED" && !hold;
            let field_changed = promote
                || current.provider_field_name != input.provider_field_name
                || current.name != input.provider_field_name
                || current.farm_id != input.farm_id
                || current.provider_id != input.provider_id
                || current.provider_boundary_id != input.provider_boundary_id
                || current.organization_id != input.organization_id;
            let active = current.active_boundary.as_ref();
            // Compared as stored text: parsing floats back may differ in the last bit.
            let active_text: Option<(String, String)> = sqlx::query(
                "SELECT geometry, validity FROM boundaries WHERE owner_id = $1 AND field_id = $2 AND status = 'ACTIVE'",
            )
            .bind(owner_id)
            .bind(&current.id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
            .transpose()?;
            let new_boundary = input.boundary.as_ref().filter(|_| !hold).filter(|b| {
                let (text, validity) = (
                    multipolygon_geojson(&b.geometry).to_string(),
                    b.report.validity.to_string(),
                );
                active_text
                    .as_ref()
                    .is_none_or(|active| *active != (text, validity))
            });
            let mut tx = self.begin_write().await?;
            if field_changed || new_boundary.is_some() {
                sqlx::query(
                    "UPDATE fields SET name = $1, provider_field_name = $1, farm_id = $2, provider_id = $3, \
                     provider_boundary_id = $4, organization_id = $5, updated_at = $6, status = $9 \
                     WHERE owner_id = $7 AND id = $8",
                )
                .bind(input.provider_field_name.as_deref())
                .bind(input.farm_id)
                .bind(input.provider_id)
                .bind(input.provider_boundary_id.as_deref())
                .bind(input.organization_id.as_deref())
                .bind(now)
                .bind(owner_id)
                .bind(&current.id)
                .bind(if promote { "PROCESSED" } else { current.status.as_str() })
                .execute(&mut *tx)
                .await?;
            }
            let (boundary_id, boundary) = match new_boundary {
                Some(b) => {
                    retire_boundary(
                        &mut tx,
                        owner_id,
                        &current.id,
                        now,
                        BoundaryStatus::OutdatedOnProvider,
                    )
                    .await?;
                    let id = insert_boundary(
                        &mut tx,
                        owner_id,
                        &current.id,
                        b,
                        input.provider_boundary_id.as_deref(),
                        now,
                    )
                    .await?;
                    (Some(id), Change::Created)
                }
                None => (active.map(|a| a.id.clone()), Change::Unchanged),
            };
            tx.commit().await?;
            return Ok(ProviderFieldUpsert {
                field_id: current.id,
                field: if field_changed {
                    Change::Updated
                } else {
                    Change::Unchanged
                },
                boundary_id,
                boundary,
            });
        }
        Err(Error::AlreadyExists("field"))
    }
}

async fn deactivate_boundary(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner_id: &str,
    field_id: &str,
    now: i64,
) -> Result<()> {
    retire_boundary(tx, owner_id, field_id, now, BoundaryStatus::Inactive).await
}

/// Moves a field's active boundary to `status` (`INACTIVE` when replaced here, `OUTDATED_ON_PROVIDER` when the
/// provider sent a newer one, `DELETED_ON_PROVIDER` when the provider no longer lists the field).
async fn retire_boundary(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner_id: &str,
    field_id: &str,
    now: i64,
    status: BoundaryStatus,
) -> Result<()> {
    sqlx::query(
        "UPDATE boundaries SET status = $4, updated_at = $1 WHERE owner_id = $2 AND field_id = $3 AND status = 'ACTIVE'",
    )
    .bind(now)
    .bind(owner_id)
    .bind(field_id)
    .bind(status.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_boundary(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    owner_id: &str,
    field_id: &str,
    b: &BoundaryGeometry,
    provider_boundary_id: Option<&str>,
    now: i64,
) -> Result<String> {
    let id = new_id();
    let bbox = b.geometry.bounding_rect();
    let provider_status = provider_boundary_id.map(|_| "ACTIVE");
    sqlx::query(
        "INSERT INTO boundaries (id, owner_id, field_id, status, provider_status, provider_boundary_id, geometry, area_ha, \
         min_lon, min_lat, max_lon, max_lat, validity, fix_status, created_at, updated_at) \
         VALUES ($1, $2, $3, 'ACTIVE', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
    )
    .bind(&id)
    .bind(owner_id)
    .bind(field_id)
    .bind(provider_status)
    .bind(provider_boundary_id)
    .bind(multipolygon_geojson(&b.geometry).to_string())
    .bind(b.area_ha)
    .bind(bbox.map(|r| r.min().x))
    .bind(bbox.map(|r| r.min().y))
    .bind(bbox.map(|r| r.max().x))
    .bind(bbox.map(|r| r.max().y))
    .bind(b.report.validity.to_string())
    .bind(b.fixed.then_some("FIXED"))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

fn field_from_row(row: &AnyRow) -> Result<Field> {
    Ok(Field {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        field_type: row.try_get("field_type")?,
        status: row.try_get("status")?,
        farm_id: row.try_get("farm_id")?,
        provider_name: row.try_get("provider_name")?,
        provider_id: row.try_get("provider_id")?,
        provider_field_id: row.try_get("provider_field_id")?,
        provider_field_name: row.try_get("provider_field_name")?,
        provider_boundary_id: row.try_get("provider_boundary_id")?,
        organization_id: row.try_get("organization_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        boundary_ids: Vec::new(),
        active_boundary: None,
    })
}

fn boundary_from_row(row: &AnyRow) -> Result<Boundary> {
    let status: String = row.try_get("status")?;
    let geometry: String = row.try_get("geometry")?;
    Ok(Boundary {
        id: row.try_get("id")?,
        field_id: row.try_get("field_id")?,
        status: BoundaryStatus::parse(&status)?,
        provider_status: row.try_get("provider_status")?,
        provider_boundary_id: row.try_get("provider_boundary_id")?,
        geometry: multipolygon_from_text(&geometry)?,
        area_ha: row.try_get("area_ha")?,
        validity: row.try_get("validity")?,
        fix_status: row.try_get("fix_status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn grower_from_row(row: &AnyRow) -> Result<Grower> {
    Ok(Grower {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        provider_name: row.try_get("provider_name")?,
        provider_id: row.try_get("provider_id")?,
        provider_grower_id: row.try_get("provider_grower_id")?,
        farm_ids: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn farm_from_row(row: &AnyRow) -> Result<Farm> {
    Ok(Farm {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        grower_id: row.try_get("grower_id")?,
        provider_name: row.try_get("provider_name")?,
        provider_id: row.try_get("provider_id")?,
        provider_farm_id: row.try_get("provider_farm_id")?,
        provider_farm_name: row.try_get("provider_farm_name")?,
        field_ids: Vec::new(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
