//! The points to draw and their footprints.

/// Side of a square footprint when a point has no usable equipment width (leaf-images.md §4.1).
pub const DEFAULT_SIDE_M: f64 = 3.0;

/// Machine-data points in WGS 84 longitude/latitude, each with the footprint it paints.
///
/// A point paints either the spec's footprint, an axis-aligned square of the equipment width centred on it
/// ([`Points::push_square`]), or a swath polygon the caller built ([`Points::push_swath`]), for example the
/// one furrow-geoparquet writes. Values live outside, one slice per property ([`crate::Property`]), in the
/// order the points were pushed.
#[derive(Debug, Clone, Default)]
pub struct Points {
    pub(crate) lon: Vec<f64>,
    pub(crate) lat: Vec<f64>,
    pub(crate) shape: Vec<Shape>,
    /// End (exclusive) of each ring in `coords`; a polygon's rings are `ring_ends[start..end]`.
    pub(crate) ring_ends: Vec<usize>,
    pub(crate) coords: Vec<[f64; 2]>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// Side in metres, already defaulted.
    Square(f64),
    /// Rings `ring_ends[start..end]`.
    Polygon { start: usize, end: usize },
}

impl Points {
    /// No points.
    pub fn new() -> Self {
        Self::default()
    }

    /// No points, room for `n` (swath vertices are allocated as they come).
    pub fn with_capacity(n: usize) -> Self {
        Self {
            lon: Vec::with_capacity(n),
            lat: Vec::with_capacity(n),
            shape: Vec::with_capacity(n),
            ring_ends: Vec::new(),
            coords: Vec::new(),
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.lon.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }

    /// Adds a point drawn as Leaf's `SQUARE` footprint: an axis-aligned square of side `side_m` metres on the
    /// ground (the point's `equipmentWidth` in metres), centred on the point. `None`, zero, negative or
    /// non-finite widths give the 3 m default.
    pub fn push_square(&mut self, lon: f64, lat: f64, side_m: Option<f64>) {
        let side = match side_m {
            Some(s) if s.is_finite() && s > 0.0 => s,
            _ => DEFAULT_SIDE_M,
        };
        self.lon.push(lon);
        self.lat.push(lat);
        self.shape.push(Shape::Square(side));
    }

    /// Adds a point drawn as its swath polygon: `rings` of longitude/latitude vertices (the first the outer
    /// ring, the others holes; closing the rings is optional), filled by the even-odd rule. A swath with no
    /// vertex at all falls back to the default square.
    pub fn push_swath<R: AsRef<[[f64; 2]]>>(&mut self, lon: f64, lat: f64, rings: &[R]) {
        let start = self.ring_ends.len();
        for ring in rings {
            let ring = ring.as_ref();
            if ring.is_empty() {
                continue;
            }
            self.coords.extend_from_slice(ring);
            self.ring_ends.push(self.coords.len());
        }
        let end = self.ring_ends.len();
        if start == end {
            self.push_square(lon, lat, None);
            return;
        }
        self.lon.push(lon);
        self.lat.push(lat);
        self.shape.push(Shape::Polygon { start, end });
    }

    /// The rings of polygon `start..end`, as vertex slices.
    pub(crate) fn rings(&self, start: usize, end: usize) -> impl Iterator<Item = &[[f64; 2]]> {
        (start..end).map(move |r| {
            let from = if r == 0 { 0 } else { self.ring_ends[r - 1] };
            &self.coords[from..self.ring_ends[r]]
        })
    }
}
