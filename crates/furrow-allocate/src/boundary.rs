//! Boundary validation (Leaf's `validity` values) and repair (`automaticFixBoundary`).

use std::fmt;

use geo::orient::{Direction, Orient};
use geo_types::{Coord, LineString, MultiPolygon, Polygon};
use serde::Serialize;

/// Leaf's boundary validity values (JTS validation names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum Validity {
    /// Usable as is.
    Valid,
    /// Two consecutive vertices are equal.
    RepeatedPoint,
    /// A hole is not inside its shell.
    HoleOutsideShell,
    /// A hole lies inside another hole.
    NestedHoles,
    /// Holes split the interior in pieces.
    DisconnectedInterior,
    /// Rings of one polygon, or polygons of the multipolygon, cross.
    SelfIntersection,
    /// A ring crosses itself.
    RingSelfIntersection,
    /// A polygon lies inside another polygon of the multipolygon.
    NestedShells,
    /// The same ring appears twice.
    DuplicateRings,
    /// A ring has fewer than three distinct points.
    TooFewPoints,
    /// A coordinate is not finite or not a longitude/latitude.
    InvalidCoordinate,
    /// A ring's last point is not its first.
    RingNotClosed,
    /// Not a (Multi)Polygon.
    NotAllowedGeometryType,
}

impl fmt::Display for Validity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&s)
    }
}

/// The outcome of validating a boundary: the first problem found and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationReport {
    /// Leaf's validity value.
    pub validity: Validity,
    /// Where the problem is (polygon and ring indexes, vertex), empty when valid.
    pub message: String,
}

impl ValidationReport {
    fn valid() -> Self {
        Self {
            validity: Validity::Valid,
            message: String::new(),
        }
    }
    fn bad(validity: Validity, message: String) -> Self {
        Self { validity, message }
    }
}

/// Validates a lon/lat MultiPolygon as Leaf reports it; the first problem wins, checked in the order of
/// [`Validity`]'s severity (coordinates, closure, size, repeats, then topology).
pub fn validate(mp: &MultiPolygon<f64>) -> ValidationReport {
    if mp.0.is_empty() {
        return ValidationReport::bad(Validity::TooFewPoints, "no polygon".into());
    }
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in rings(poly).enumerate() {
            let here = || format!("polygon {pi} ring {ri}");
            for (vi, c) in ring.0.iter().enumerate() {
                if !c.x.is_finite() || !c.y.is_finite() || c.x.abs() > 180.0 || c.y.abs() > 90.0 {
                    return ValidationReport::bad(
                        Validity::InvalidCoordinate,
                        format!("{} vertex {vi}", here()),
                    );
                }
            }
            if ring.0.first() != ring.0.last() || ring.0.len() < 2 {
                return ValidationReport::bad(Validity::RingNotClosed, here());
            }
            if distinct_points(ring) < 3 {
                return ValidationReport::bad(Validity::TooFewPoints, here());
            }
            if let Some(vi) = ring.0.windows(2).position(|w| w[0] == w[1]) {
                return ValidationReport::bad(
                    Validity::RepeatedPoint,
                    format!("{} vertex {vi}", here()),
                );
            }
            if let Some((a, b)) = ring_self_crossing(ring) {
                return ValidationReport::bad(
                    Validity::RingSelfIntersection,
                    format!("{} edges {a} and {b}", here()),
                );
            }
        }
        let mut seen: Vec<&LineString<f64>> = Vec::new();
        for ring in rings(poly) {
            if seen.iter().any(|s| same_ring(s, ring)) {
                return ValidationReport::bad(Validity::DuplicateRings, format!("polygon {pi}"));
            }
            seen.push(ring);
        }
        let shell = poly.exterior();
        for (hi, hole) in poly.interiors().iter().enumerate() {
            if rings_cross(shell, hole) {
                return ValidationReport::bad(
                    Validity::SelfIntersection,
                    format!("polygon {pi} shell and hole {hi}"),
                );
            }
            if !ring_inside(hole, shell) {
                return ValidationReport::bad(
                    Validity::HoleOutsideShell,
                    format!("polygon {pi} hole {hi}"),
                );
            }
        }
        for (a, ha) in poly.interiors().iter().enumerate() {
            for (b, hb) in poly.interiors().iter().enumerate().skip(a + 1) {
                if rings_cross(ha, hb) {
                    return ValidationReport::bad(
                        Validity::SelfIntersection,
                        format!("polygon {pi} holes {a} and {b}"),
                    );
                }
                if ring_inside(ha, hb) || ring_inside(hb, ha) {
                    return ValidationReport::bad(
                        Validity::NestedHoles,
                        format!("polygon {pi} holes {a} and {b}"),
                    );
                }
            }
        }
    }
    for (a, pa) in mp.0.iter().enumerate() {
        for (b, pb) in mp.0.iter().enumerate().skip(a + 1) {
            if rings_cross(pa.exterior(), pb.exterior()) {
                return ValidationReport::bad(
                    Validity::SelfIntersection,
                    format!("polygons {a} and {b} overlap"),
                );
            }
            let nested = |inner: &Polygon<f64>, outer: &Polygon<f64>| {
                ring_inside(inner.exterior(), outer.exterior())
                    && !outer
                        .interiors()
                        .iter()
                        .any(|h| ring_inside(inner.exterior(), h))
            };
            if nested(pa, pb) || nested(pb, pa) {
                return ValidationReport::bad(
                    Validity::NestedShells,
                    format!("polygons {a} and {b}"),
                );
            }
        }
    }
    ValidationReport::valid()
}

/// What [`repair`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RepairReport {
    /// Rings were closed, repeated points dropped, degenerate rings removed or rings re-oriented.
    pub fixed: bool,
}

/// Repairs what can be repaired without guessing (Leaf's `automaticFixBoundary`): closes rings, drops repeated
/// consecutive points and non-finite vertices, removes rings with fewer than three distinct points (a polygon
/// whose shell is degenerate is removed), and orients rings (shells counter-clockwise, holes clockwise).
/// Crossing rings are left as they are: [`validate`] still reports them.
pub fn repair(mp: &MultiPolygon<f64>) -> (MultiPolygon<f64>, RepairReport) {
    let mut fixed = false;
    let mut polys = Vec::with_capacity(mp.0.len());
    for poly in &mp.0 {
        let Some(shell) = clean_ring(poly.exterior(), &mut fixed) else {
            fixed = true;
            continue;
        };
        let holes: Vec<_> = poly
            .interiors()
            .iter()
            .filter_map(|h| clean_ring(h, &mut fixed))
            .collect();
        if holes.len() != poly.interiors().len() {
            fixed = true;
        }
        polys.push(Polygon::new(shell, holes));
    }
    let out = MultiPolygon(polys).orient(Direction::Default);
    if !fixed {
        fixed = out != *mp;
    }
    (out, RepairReport { fixed })
}

/// Orients rings (shells counter-clockwise, holes clockwise) without other changes.
pub fn orient(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    mp.orient(Direction::Default)
}

fn clean_ring(ring: &LineString<f64>, fixed: &mut bool) -> Option<LineString<f64>> {
    let mut pts: Vec<Coord<f64>> = Vec::with_capacity(ring.0.len() + 1);
    for c in &ring.0 {
        if !c.x.is_finite() || !c.y.is_finite() {
            *fixed = true;
            continue;
        }
        if pts.last() == Some(c) {
            *fixed = true;
            continue;
        }
        pts.push(*c);
    }
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    } else if !pts.is_empty() {
        *fixed = true; // was not closed
    }
    if pts.len() < 3 {
        return None;
    }
    pts.push(pts[0]);
    Some(LineString(pts))
}

fn rings(p: &Polygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    std::iter::once(p.exterior()).chain(p.interiors())
}

fn distinct_points(ring: &LineString<f64>) -> usize {
    let mut v: Vec<(u64, u64)> = ring
        .0
        .iter()
        .map(|c| (c.x.to_bits(), c.y.to_bits()))
        .collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn same_ring(a: &LineString<f64>, b: &LineString<f64>) -> bool {
    if a.0.len() != b.0.len() {
        return false;
    }
    let mut x: Vec<(u64, u64)> = a.0.iter().map(|c| (c.x.to_bits(), c.y.to_bits())).collect();
    let mut y: Vec<(u64, u64)> = b.0.iter().map(|c| (c.x.to_bits(), c.y.to_bits())).collect();
    x.sort_unstable();
    y.sort_unstable();
    x == y
}

fn orient2d(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>) -> f64 {
    (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
}

/// Proper crossing or collinear overlap of segments ab and cd (touching at an endpoint does not count).
fn segments_cross(a: Coord<f64>, b: Coord<f64>, c: Coord<f64>, d: Coord<f64>) -> bool {
    let d1 = orient2d(c, d, a);
    let d2 = orient2d(c, d, b);
    let d3 = orient2d(a, b, c);
    let d4 = orient2d(a, b, d);
    if ((d1 > 0.0 && d2 < 0.0) || (d1 < 0.0 && d2 > 0.0))
        && ((d3 > 0.0 && d4 < 0.0) || (d3 < 0.0 && d4 > 0.0))
    {
        return true;
    }
    // Collinear overlap (more than a shared point).
    if d1 == 0.0 && d2 == 0.0 {
        let (lo1, hi1) = span(a, b);
        let (lo2, hi2) = span(c, d);
        let lo = lo1.max(lo2);
        let hi = hi1.min(hi2);
        return hi > lo;
    }
    false
}

fn span(a: Coord<f64>, b: Coord<f64>) -> (f64, f64) {
    // Project on the dominant axis.
    if (b.x - a.x).abs() >= (b.y - a.y).abs() {
        (a.x.min(b.x), a.x.max(b.x))
    } else {
        (a.y.min(b.y), a.y.max(b.y))
    }
}

fn ring_self_crossing(ring: &LineString<f64>) -> Option<(usize, usize)> {
    let pts = &ring.0;
    let n = pts.len().saturating_sub(1);
    for i in 0..n {
        for j in i + 2..n {
            if i == 0 && j == n - 1 {
                continue; // first and last edges share the closing vertex
            }
            if segments_cross(pts[i], pts[i + 1], pts[j], pts[j + 1]) {
                return Some((i, j));
            }
        }
    }
    None
}

fn rings_cross(a: &LineString<f64>, b: &LineString<f64>) -> bool {
    for ea in a.0.windows(2) {
        for eb in b.0.windows(2) {
            if segments_cross(ea[0], ea[1], eb[0], eb[1]) {
                return true;
            }
        }
    }
    false
}

/// Whether every vertex of `inner` that is not on `outer` is inside `outer` (the rings do not cross).
fn ring_inside(inner: &LineString<f64>, outer: &LineString<f64>) -> bool {
    inner.0.iter().all(|&p| point_in_ring(p, outer))
}

fn point_in_ring(p: Coord<f64>, ring: &LineString<f64>) -> bool {
    let mut inside = false;
    for e in ring.0.windows(2) {
        let (a, b) = (e[0], e[1]);
        if orient2d(a, b, p) == 0.0
            && p.x >= a.x.min(b.x)
            && p.x <= a.x.max(b.x)
            && p.y >= a.y.min(b.y)
            && p.y <= a.y.max(b.y)
        {
            return true; // on the ring counts as inside for nesting checks
        }
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
    }
    inside
}

/// Whether the interiors of two boundaries may overlap (conservative: true when unsure). Neighbours that only
/// share edges or vertices do not overlap.
pub(crate) fn interiors_overlap(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> bool {
    use geo::InteriorPoint;
    let strictly_inside = |p: Coord<f64>, mp: &MultiPolygon<f64>| -> bool {
        let mut on_boundary = false;
        let mut inside = false;
        for poly in &mp.0 {
            for ring in rings(poly) {
                for e in ring.0.windows(2) {
                    let (s, t) = (e[0], e[1]);
                    if orient2d(s, t, p) == 0.0
                        && p.x >= s.x.min(t.x)
                        && p.x <= s.x.max(t.x)
                        && p.y >= s.y.min(t.y)
                        && p.y <= s.y.max(t.y)
                    {
                        on_boundary = true;
                    }
                    if (s.y > p.y) != (t.y > p.y)
                        && p.x < (t.x - s.x) * (p.y - s.y) / (t.y - s.y) + s.x
                    {
                        inside = !inside;
                    }
                }
            }
        }
        inside && !on_boundary
    };
    for (x, y) in [(a, b), (b, a)] {
        for poly in &x.0 {
            for ring in rings(poly) {
                if ring.0.iter().any(|&p| strictly_inside(p, y)) {
                    return true;
                }
            }
        }
        if let Some(p) = x.interior_point()
            && strictly_inside(p.0, y)
        {
            return true;
        }
    }
    for pa in &a.0 {
        for ra in rings(pa) {
            for pb in &b.0 {
                for rb in rings(pb) {
                    for ea in ra.0.windows(2) {
                        for eb in rb.0.windows(2) {
                            let d1 = orient2d(eb[0], eb[1], ea[0]);
                            let d2 = orient2d(eb[0], eb[1], ea[1]);
                            let d3 = orient2d(ea[0], ea[1], eb[0]);
                            let d4 = orient2d(ea[0], ea[1], eb[1]);
                            if d1 * d2 < 0.0 && d3 * d4 < 0.0 {
                                return true;
                            }
                        }
                    }
                }
            }
        }
    }
    false
}

/// Builds a MultiPolygon from GeoJSON-style coordinates (`[polygon][ring][vertex] = [lon, lat]`), reporting what
/// the raw coordinates show and a geometry type cannot: a ring left open is `RING_NOT_CLOSED` (the returned
/// geometry closes it), a ring with fewer than two vertices is `TOO_FEW_POINTS`. Otherwise the report is
/// [`validate`]'s.
pub fn from_coordinates(coords: &[Vec<Vec<[f64; 2]>>]) -> (MultiPolygon<f64>, ValidationReport) {
    let mut first_problem = None;
    let polys = coords
        .iter()
        .enumerate()
        .filter_map(|(pi, poly)| {
            let mut rings = poly.iter().enumerate().map(|(ri, ring)| {
                if ring.len() < 2 {
                    first_problem.get_or_insert(ValidationReport::bad(
                        Validity::TooFewPoints,
                        format!("polygon {pi} ring {ri}"),
                    ));
                } else if ring.first() != ring.last() {
                    first_problem.get_or_insert(ValidationReport::bad(
                        Validity::RingNotClosed,
                        format!("polygon {pi} ring {ri}"),
                    ));
                }
                LineString(ring.iter().map(|c| Coord { x: c[0], y: c[1] }).collect())
            });
            let shell = rings.next()?;
            Some(Polygon::new(shell, rings.collect()))
        })
        .collect();
    let mp = MultiPolygon(polys);
    let report = first_problem.unwrap_or_else(|| validate(&mp));
    (mp, report)
}
