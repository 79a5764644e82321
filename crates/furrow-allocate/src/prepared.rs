//! A polygon prepared for fast point-in-polygon tests: its edges bucketed in horizontal stripes.

use geo_types::MultiPolygon;

/// One non-horizontal edge, stored for the crossing test: the point (x, y) crosses it when
/// `ylo <= y < yhi` and `x < x0 + (y - y0) * dxdy`.
#[derive(Debug, Clone, Copy)]
struct Edge {
    ylo: f64,
    yhi: f64,
    x0: f64,
    y0: f64,
    dxdy: f64,
}

/// A (multi)polygon with a y-stripe edge index (tg's design): each horizontal stripe lists the edges that cross
/// it, so a test touches a handful of edges instead of all of them.
///
/// Containment uses the crossing-number (even-odd) rule over every ring with half-open edges. That is
/// independent of ring orientation, and a point on an edge shared by two adjacent fields falls in exactly one of
/// them: points on a left or bottom edge of an area are inside it, on a right or top edge outside.
#[derive(Debug, Clone)]
pub(crate) struct PreparedPolygon {
    pub(crate) bbox: [f64; 4],
    ymin: f64,
    inv_height: f64,
    last_stripe: usize,
    stripe_start: Vec<u32>,
    edges: Vec<Edge>,
}

impl PreparedPolygon {
    pub(crate) fn new(mp: &MultiPolygon<f64>) -> Self {
        let mut raw: Vec<Edge> = Vec::new();
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for poly in &mp.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                let pts = &ring.0;
                for c in pts {
                    bbox[0] = bbox[0].min(c.x);
                    bbox[1] = bbox[1].min(c.y);
                    bbox[2] = bbox[2].max(c.x);
                    bbox[3] = bbox[3].max(c.y);
                }
                let n = pts.len();
                for i in 0..n {
                    let a = pts[i];
                    // Close the ring even when the last point is not the first.
                    let b = pts[(i + 1) % n];
                    if a.y == b.y {
                        continue; // horizontal edges never change the crossing count
                    }
                    let (ylo, yhi) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
                    raw.push(Edge {
                        ylo,
                        yhi,
                        x0: a.x,
                        y0: a.y,
                        dxdy: (b.x - a.x) / (b.y - a.y),
                    });
                }
            }
        }
        if raw.is_empty() || !bbox.iter().all(|v| v.is_finite()) {
            return Self {
                bbox: [
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ],
                ymin: 0.0,
                inv_height: 0.0,
                last_stripe: 0,
                stripe_start: vec![0, 0],
                edges: Vec::new(),
            };
        }
        let stripes = raw.len().clamp(8, 1 << 16);
        let height = (bbox[3] - bbox[1]) / stripes as f64;
        let inv_height = if height > 0.0 { 1.0 / height } else { 0.0 };
        let stripe_of = |y: f64| (((y - bbox[1]) * inv_height) as usize).min(stripes - 1);
        // Counting sort of edges into every stripe they span.
        let mut counts = vec![0u32; stripes + 1];
        for e in &raw {
            for s in stripe_of(e.ylo)..=stripe_of(e.yhi) {
                counts[s + 1] += 1;
            }
        }
        for s in 0..stripes {
            counts[s + 1] += counts[s];
        }
        let mut fill = counts.clone();
        let mut edges = vec![raw[0]; counts[stripes] as usize];
        for e in &raw {
            for s in stripe_of(e.ylo)..=stripe_of(e.yhi) {
                edges[fill[s] as usize] = *e;
                fill[s] += 1;
            }
        }
        Self {
            bbox,
            ymin: bbox[1],
            inv_height,
            last_stripe: stripes - 1,
            stripe_start: counts,
            edges,
        }
    }

    #[inline(always)]
    pub(crate) fn bbox_contains(&self, x: f64, y: f64) -> bool {
        (x >= self.bbox[0]) & (x <= self.bbox[2]) & (y >= self.bbox[1]) & (y <= self.bbox[3])
    }

    /// Crossing-number test; call only for points inside the bbox.
    #[inline(always)]
    pub(crate) fn contains_in_bbox(&self, x: f64, y: f64) -> bool {
        let s = (((y - self.ymin) * self.inv_height) as usize).min(self.last_stripe);
        // In-bounds by construction: stripe_start has last_stripe + 2 entries.
        let lo = self.stripe_start[s] as usize;
        let hi = self.stripe_start[s + 1] as usize;
        let mut inside = false;
        for e in &self.edges[lo..hi] {
            // Branch-free: the crossing parity flips when all three conditions hold.
            let crosses = (y >= e.ylo) & (y < e.yhi) & (x < e.x0 + (y - e.y0) * e.dxdy);
            inside ^= crosses;
        }
        inside
    }

    #[inline]
    pub(crate) fn contains(&self, x: f64, y: f64) -> bool {
        self.bbox_contains(x, y) && self.contains_in_bbox(x, y)
    }
}
