//! `.prj` (WKT 1, OGC and ESRI flavours) → a proj4rs definition, and reprojection to WGS 84 lon/lat.

use std::path::Path;

use proj4rs::proj::Proj;

use crate::error::{Error, Result, Warning, WarningKind};

/// The coordinate reference system of a shapefile set, as parsed from its `.prj`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Crs {
    /// The CRS name from the WKT (`PROJCS`/`GEOGCS` name), or `WGS 84 (assumed)`.
    pub name: String,
    /// The `.prj` text, when there is one.
    pub wkt: Option<String>,
    /// The PROJ string this crate derived and reprojects with.
    pub proj: String,
    /// True when no `.prj` exists and WGS 84 lon/lat was assumed from the coordinates.
    pub assumed: bool,
    /// Source coordinates are already WGS 84 lon/lat (no reprojection needed).
    pub is_wgs84: bool,
}

/// A WKT node: `KEYWORD[arg, ...]`.
#[derive(Debug, Clone)]
enum Value {
    Str(String),
    Num(f64),
    Node(Node),
    Word,
}

#[derive(Debug, Clone)]
struct Node {
    keyword: String,
    args: Vec<Value>,
}

impl Node {
    fn child(&self, keyword: &str) -> Option<&Node> {
        self.args.iter().find_map(|a| match a {
            Value::Node(n) if n.keyword.eq_ignore_ascii_case(keyword) => Some(n),
            _ => None,
        })
    }
    fn children<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.args.iter().filter_map(move |a| match a {
            Value::Node(n) if n.keyword.eq_ignore_ascii_case(keyword) => Some(n),
            _ => None,
        })
    }
    fn name(&self) -> &str {
        match self.args.first() {
            Some(Value::Str(s)) => s,
            _ => "",
        }
    }
    fn num(&self, i: usize) -> Option<f64> {
        match self.args.get(i) {
            Some(Value::Num(v)) => Some(*v),
            Some(Value::Str(s)) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn node(&mut self) -> Option<Node> {
        self.depth += 1;
        if self.depth > 64 {
            return None;
        }
        self.ws();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        let keyword = String::from_utf8_lossy(&self.s[start..self.i]).to_string();
        if keyword.is_empty() {
            return None;
        }
        self.ws();
        let close = match self.s.get(self.i) {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => {
                self.depth -= 1;
                return Some(Node {
                    keyword,
                    args: Vec::new(),
                });
            }
        };
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.ws();
            match self.s.get(self.i)? {
                &c if c == close => {
                    self.i += 1;
                    break;
                }
                b',' => self.i += 1,
                b'"' => {
                    self.i += 1;
                    let mut out = Vec::new();
                    loop {
                        match self.s.get(self.i)? {
                            b'"' if self.s.get(self.i + 1) == Some(&b'"') => {
                                out.push(b'"');
                                self.i += 2;
                            }
                            b'"' => {
                                self.i += 1;
                                break;
                            }
                            &c => {
                                out.push(c);
                                self.i += 1;
                            }
                        }
                    }
                    args.push(Value::Str(String::from_utf8_lossy(&out).to_string()));
                }
                c if c.is_ascii_digit() || *c == b'-' || *c == b'+' || *c == b'.' => {
                    let start = self.i;
                    while self.i < self.s.len()
                        && matches!(
                            self.s[self.i],
                            b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                        )
                    {
                        self.i += 1;
                    }
                    let t = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                    args.push(Value::Num(t.parse().ok()?));
                }
                _ => {
                    let n = self.node()?;
                    if n.args.is_empty()
                        && !matches!(self.s.get(self.i.wrapping_sub(1)), Some(b']' | b')'))
                    {
                        args.push(Value::Word);
                    } else {
                        args.push(Value::Node(n));
                    }
                }
            }
        }
        self.depth -= 1;
        Some(Node { keyword, args })
    }
}

fn parse_wkt(text: &str) -> Option<Node> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    p.node()
}

/// Lower-case ASCII letters and digits only: `D_North_American_1983` → `dnorthamerican1983`.
fn norm(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

const WGS84_A: f64 = 6_378_137.0;
const WGS84_RF: f64 = 298.257_223_563;

/// How a datum reaches WGS 84.
enum Shift {
    /// WGS 84 itself, or a datum PROJ treats as equal to it for this purpose (NAD83, ETRS89, ...).
    None,
    /// A 3- or 7-parameter Helmert shift (`+towgs84`).
    Helmert(Vec<f64>),
    /// Unknown: no shift, the coordinates are kept as they are on the datum's ellipsoid (PROJ's
    /// "ballpark" transformation).
    Unknown,
}

fn datum_shift(datum: &Node) -> (Shift, String) {
    let name = datum.name().to_string();
    if let Some(t) = datum.child("TOWGS84") {
        let v: Vec<f64> = (0..t.args.len()).filter_map(|i| t.num(i)).collect();
        if v.len() == 3 || v.len() == 7 {
            if v.iter().all(|&x| x == 0.0) {
                return (Shift::None, name);
            }
            return (Shift::Helmert(v), name);
        }
    }
    let n = norm(&name);
    let n = n
        .strip_prefix('d')
        .filter(|_| name.starts_with("D_"))
        .unwrap_or(&n);
    let zero = [
        "wgs1984",
        "wgs84",
        "worldgeodeticsystem1984",
        "northamerican1983",
        "northamericandatum1983",
        "nad83",
        "nad1983",
        "europeanterrestrialreferencesystem1989",
        "etrs1989",
        "etrs89",
        "geocentricdatumofaustralia1994",
        "geocentricdatumofaustralia2020",
        "gda1994",
        "gda2020",
        "gda94",
        "sirgas2000",
        "sistemadereferenciageocentricoparalasamericas2000",
        "newzealandgeodeticdatum2000",
        "nzgd2000",
        "itrf",
        "internationalterrestrialreferenceframe",
    ];
    if zero.iter().any(|z| n.starts_with(z)) {
        return (Shift::None, name);
    }
    if [
        "northamerican1927",
        "northamericandatum1927",
        "nad27",
        "nad1927",
    ]
    .iter()
    .any(|z| n.starts_with(z))
    {
        // EPSG:1173, NAD27 to WGS 84 (4), conterminous United States: about 10 m accuracy.
        return (Shift::Helmert(vec![-8.0, 160.0, 176.0]), name);
    }
    if ["osgb1936", "osgb36"].iter().any(|z| n.starts_with(z)) {
        // EPSG:1314, OSGB36 to WGS 84 (6), Great Britain: about 2 m.
        return (
            Shift::Helmert(vec![446.448, -125.157, 542.06, 0.15, 0.247, 0.842, -20.489]),
            name,
        );
    }
    if ["european1950", "europeandatum1950", "ed50", "ed1950"]
        .iter()
        .any(|z| n.starts_with(z))
    {
        // EPSG:1133, ED50 to WGS 84 (1), western Europe: about 5 m.
        return (Shift::Helmert(vec![-87.0, -98.0, -121.0]), name);
    }
    (Shift::Unknown, name)
}

/// Reads the ellipsoid: `SPHEROID[name, a, rf]` (rf 0 = sphere).
fn ellipsoid(geog: &Node) -> Option<(f64, f64)> {
    let sph = geog
        .child("DATUM")?
        .child("SPHEROID")
        .or_else(|| geog.child("DATUM")?.child("ELLIPSOID"))?;
    let a = sph.num(1)?;
    let rf = sph.num(2)?;
    (a > 1.0e6 && a < 1.0e7 && (rf == 0.0 || (rf > 1.0 && rf < 1.0e4))).then_some((a, rf))
}

fn fmt(v: f64) -> String {
    // Shortest round-trip text, as PROJ parses it back exactly.
    format!("{v}")
}

impl Crs {
    /// WGS 84 lon/lat.
    pub(crate) fn wgs84(assumed: bool) -> Crs {
        Crs {
            name: if assumed {
                "WGS 84 (assumed)".into()
            } else {
                "WGS 84".into()
            },
            wkt: None,
            proj: "+proj=longlat +datum=WGS84 +no_defs".into(),
            assumed,
            is_wgs84: true,
        }
    }

    /// Parses a `.prj`'s WKT.
    pub(crate) fn from_wkt(path: &Path, text: &str, warnings: &mut Vec<Warning>) -> Result<Crs> {
        let unsupported = |message: String| Error::UnsupportedCrs {
            path: path.to_path_buf(),
            message,
        };
        let text = text.trim().trim_start_matches('\u{feff}');
        let root =
            parse_wkt(text).ok_or_else(|| unsupported("the .prj is not well-formed WKT".into()))?;
        let root = match root.keyword.to_ascii_uppercase().as_str() {
            "COMPD_CS" | "COMPOUNDCRS" => root
                .args
                .iter()
                .find_map(|a| match a {
                    Value::Node(n)
                        if matches!(
                            n.keyword.to_ascii_uppercase().as_str(),
                            "PROJCS" | "GEOGCS"
                        ) =>
                    {
                        Some(n.clone())
                    }
                    _ => None,
                })
                .ok_or_else(|| unsupported("compound CRS without a horizontal part".into()))?,
            _ => root,
        };
        let kw = root.keyword.to_ascii_uppercase();
        let (geog, projcs) = match kw.as_str() {
            "GEOGCS" => (&root, None),
            "PROJCS" => (
                root.child("GEOGCS")
                    .ok_or_else(|| unsupported("PROJCS without GEOGCS".into()))?,
                Some(&root),
            ),
            other => {
                return Err(unsupported(format!(
                    "`{other}` (only WKT 1 GEOGCS and PROJCS are read)"
                )));
            }
        };
        let (a, rf) = ellipsoid(geog).ok_or_else(|| unsupported("no usable SPHEROID".into()))?;
        let datum = geog
            .child("DATUM")
            .ok_or_else(|| unsupported("no DATUM".into()))?;
        let (shift, datum_name) = datum_shift(datum);
        let mut ellps = if rf == 0.0 {
            format!("+a={} +b={}", fmt(a), fmt(a))
        } else {
            format!("+a={} +rf={}", fmt(a), fmt(rf))
        };
        match &shift {
            Shift::None => ellps.push_str(" +towgs84=0,0,0"),
            Shift::Helmert(v) => {
                let v: Vec<String> = v.iter().map(|x| fmt(*x)).collect();
                ellps.push_str(&format!(" +towgs84={}", v.join(",")));
                warnings.push(Warning::new(
                    WarningKind::DatumShift,
                    format!(
                        "{}: datum `{datum_name}` is shifted to WGS 84 with a Helmert transformation ({}): expect metres of difference from a grid-based transformation",
                        path.display(),
                        v.join(",")
                    ),
                ));
            }
            Shift::Unknown => warnings.push(Warning::new(
                WarningKind::DatumShift,
                format!(
                    "{}: datum `{datum_name}` is not known: its ellipsoid is used and no datum shift is applied",
                    path.display()
                ),
            )),
        }
        let pm = geog.child("PRIMEM").and_then(|p| p.num(1)).unwrap_or(0.0);
        let geog_unit = geog
            .child("UNIT")
            .and_then(|u| u.num(1))
            .unwrap_or(std::f64::consts::PI / 180.0);
        if (geog_unit - std::f64::consts::PI / 180.0).abs() > 1e-12 && projcs.is_none() {
            return Err(unsupported(format!(
                "angular unit {geog_unit} rad (only degrees are read)"
            )));
        }
        let pm_text = if pm == 0.0 {
            String::new()
        } else {
            format!(" +pm={}", fmt(pm))
        };
        let Some(projcs) = projcs else {
            let is_wgs84 = pm == 0.0
                && matches!(shift, Shift::None | Shift::Unknown)
                && (a - WGS84_A).abs() < 1e-3
                && (rf - WGS84_RF).abs() < 1e-6;
            // A geographic CRS whose datum needs no shift: lon/lat pass through unchanged.
            let passthrough = pm == 0.0 && matches!(shift, Shift::None | Shift::Unknown);
            return Ok(Crs {
                name: root.name().to_string(),
                wkt: Some(text.to_string()),
                proj: format!("+proj=longlat {ellps}{pm_text} +no_defs"),
                assumed: false,
                is_wgs84: is_wgs84 || passthrough,
            });
        };
        let unit = projcs.child("UNIT").and_then(|u| u.num(1)).unwrap_or(1.0);
        if !(unit > 0.0 && unit.is_finite()) {
            return Err(unsupported(format!("linear unit {unit}")));
        }
        let method = projcs
            .child("PROJECTION")
            .map(|p| norm(p.name()))
            .ok_or_else(|| unsupported("PROJCS without PROJECTION".into()))?;
        let param = |names: &[&str]| -> Option<f64> {
            projcs.children("PARAMETER").find_map(|p| {
                let n = norm(p.name());
                names.iter().any(|x| n == *x).then(|| p.num(1)).flatten()
            })
        };
        let lon_0 = param(&[
            "centralmeridian",
            "longitudeofcenter",
            "longitudeoforigin",
            "longitudeofnaturalorigin",
        ])
        .unwrap_or(0.0);
        let lat_0 = param(&[
            "latitudeoforigin",
            "latitudeofcenter",
            "latitudeofnaturalorigin",
        ])
        .unwrap_or(0.0);
        let k = param(&["scalefactor", "scalefactoratnaturalorigin"]).unwrap_or(1.0);
        // False easting and northing are in the CRS's linear unit; PROJ wants metres.
        let x_0 = param(&["falseeasting", "eastingatfalseorigin"]).unwrap_or(0.0) * unit;
        let y_0 = param(&["falsenorthing", "northingatfalseorigin"]).unwrap_or(0.0) * unit;
        let sp1 = param(&["standardparallel1", "latitudeof1ststandardparallel"]);
        let sp2 = param(&["standardparallel2", "latitudeof2ndstandardparallel"]);
        let common = format!(
            "+lon_0={} +x_0={} +y_0={} {ellps}{pm_text} +to_meter={} +no_defs",
            fmt(lon_0),
            fmt(x_0),
            fmt(y_0),
            fmt(unit)
        );
        let proj = match method.as_str() {
            "transversemercator"
            | "gaussKruger"
            | "gausskruger"
            | "transversemercatorsouthorientated" => {
                if method == "transversemercatorsouthorientated" {
                    return Err(unsupported("south-oriented transverse Mercator".into()));
                }
                format!("+proj=tmerc +lat_0={} +k={} {common}", fmt(lat_0), fmt(k))
            }
            "lambertconformalconic" | "lambertconformalconic2sp" | "lambertconformalconic1sp" => {
                match (sp1, sp2) {
                    (Some(s1), Some(s2)) if method != "lambertconformalconic1sp" => format!(
                        "+proj=lcc +lat_1={} +lat_2={} +lat_0={} +k_0={} {common}",
                        fmt(s1),
                        fmt(s2),
                        fmt(lat_0),
                        fmt(k)
                    ),
                    _ => {
                        let lat = sp1.unwrap_or(lat_0);
                        format!(
                            "+proj=lcc +lat_1={} +lat_0={} +k_0={} {common}",
                            fmt(lat),
                            fmt(lat),
                            fmt(k)
                        )
                    }
                }
            }
            "albers" | "albersconicequalarea" => format!(
                "+proj=aea +lat_1={} +lat_2={} +lat_0={} {common}",
                fmt(sp1.unwrap_or(0.0)),
                fmt(sp2.unwrap_or(0.0)),
                fmt(lat_0)
            ),
            // Web Mercator: spherical formulas on the WGS 84 semi-major axis, and the latitudes
            // they give are WGS 84 ones (no datum shift), as PROJ reads EPSG:3857.
            "mercatorauxiliarysphere" | "popularvisualisationpseudomercator" => format!(
                "+proj=merc +a={a} +b={a} +lat_ts={} +lon_0={} +x_0={} +y_0={} +to_meter={} +no_defs",
                fmt(sp1.unwrap_or(0.0)),
                fmt(lon_0),
                fmt(x_0),
                fmt(y_0),
                fmt(unit),
                a = fmt(a)
            ),
            "mercator" | "mercator1sp" | "mercator2sp" => match sp1 {
                Some(ts) => format!("+proj=merc +lat_ts={} {common}", fmt(ts)),
                None => format!("+proj=merc +k_0={} {common}", fmt(k)),
            },
            other => {
                return Err(unsupported(format!(
                    "projection `{}` is not one this crate reprojects (transverse Mercator/UTM, Lambert conformal conic, Albers, Mercator, Web Mercator)",
                    projcs.child("PROJECTION").map_or(other, |p| p.name())
                )));
            }
        };
        // Check that proj4rs accepts it now, not at the first record.
        Proj::from_proj_string(&proj).map_err(|e| unsupported(format!("{proj}: {e}")))?;
        Ok(Crs {
            name: root.name().to_string(),
            wkt: Some(text.to_string()),
            proj,
            assumed: false,
            is_wgs84: false,
        })
    }
}

/// Reprojects coordinates in place from a [`Crs`] to WGS 84 lon/lat degrees.
#[derive(Debug)]
pub(crate) struct Reprojector {
    src: Option<Proj>,
    dst: Proj,
    src_latlong: bool,
}

/// A slice of x/y coordinates for proj4rs.
struct Xy<'a> {
    x: &'a mut [f64],
    y: &'a mut [f64],
}

impl proj4rs::transform::Transform for Xy<'_> {
    fn transform_coordinates<F: proj4rs::transform::TransformClosure>(
        &mut self,
        f: &mut F,
    ) -> proj4rs::errors::Result<()> {
        for (x, y) in self.x.iter_mut().zip(self.y.iter_mut()) {
            if !(x.is_finite() && y.is_finite()) {
                continue;
            }
            match f(*x, *y, 0.0) {
                Ok((nx, ny, _)) => {
                    *x = nx;
                    *y = ny;
                }
                // One bad coordinate must not stop the batch: it becomes a null position.
                Err(_) => {
                    *x = f64::NAN;
                    *y = f64::NAN;
                }
            }
        }
        Ok(())
    }
}

impl Reprojector {
    pub(crate) fn new(path: &Path, crs: &Crs) -> Result<Reprojector> {
        let unsupported = |message: String| Error::UnsupportedCrs {
            path: path.to_path_buf(),
            message,
        };
        let dst = Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
            .map_err(|e| unsupported(e.to_string()))?;
        if crs.is_wgs84 {
            return Ok(Reprojector {
                src: None,
                dst,
                src_latlong: true,
            });
        }
        let src = Proj::from_proj_string(&crs.proj)
            .map_err(|e| unsupported(format!("{}: {e}", crs.proj)))?;
        let src_latlong = src.is_latlong();
        Ok(Reprojector {
            src: Some(src),
            dst,
            src_latlong,
        })
    }

    /// Reprojects in place; coordinates that fail become NaN.
    pub(crate) fn apply(&self, x: &mut [f64], y: &mut [f64]) -> Result<()> {
        let Some(src) = &self.src else {
            return Ok(());
        };
        if self.src_latlong {
            for v in x.iter_mut().chain(y.iter_mut()) {
                *v = v.to_radians();
            }
        }
        let mut xy = Xy { x, y };
        // transform only errs through the closure, which this Transform never propagates.
        let _ = proj4rs::transform::transform(src, &self.dst, &mut xy);
        for v in xy.x.iter_mut().chain(xy.y.iter_mut()) {
            *v = v.to_degrees();
        }
        Ok(())
    }
}
