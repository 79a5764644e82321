//! Images of standard points (`leaf-images.md`): a file's V1 PNGs from its standard points, an operation's V2
//! PNGs and GeoTIFFs from its filtered points (its standard points when filtering is off or keeps nothing).
//!
//! The points are read once, each drawn as its swath rectangle where it has a width, a distance and a heading
//! (the square of its width otherwise, 3 m without one), and every selected property is rendered from them by
//! `furrow-render`. Values and legends are in the units the GeoParquet holds (the user's `unitMeasurement`).

use std::path::Path;

use arrow_array::{Array, RecordBatch};
use furrow_machine_data::{Property as MachineProperty, Units};
use furrow_render::{GeoTiffImage, PngImage, Points, Property, RenderOptions};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::operation::{FilterLimits, OperationInput, OperationPoints, filter_mask};
use crate::points::{f64_col, read_points};

/// Which images a file or an operation gets (leaf-images.md §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageChoice {
    /// The properties to image, in ascending order.
    pub properties: Vec<&'static str>,
    /// Operations also get GeoTIFFs (`operationsImageAsGeoTiff`).
    pub geotiff: bool,
}

impl ImageChoice {
    /// Nothing is imaged.
    pub fn is_empty(&self) -> bool {
        self.properties.is_empty()
    }
}

/// Images rendered for one file or operation.
#[derive(Debug, Default)]
pub struct Images {
    /// One PNG per property with at least one value, by property.
    pub pngs: Vec<PngImage>,
    /// One GeoTIFF per property, when asked for.
    pub geotiffs: Vec<GeoTiffImage>,
    /// Selected properties that got no image: the property and why (`no value` when no point has one, which
    /// Leaf does not count as a failure).
    pub skipped: Vec<(String, String)>,
    /// The points drawn.
    pub points: u64,
}

impl Images {
    /// Properties that could not be drawn for another reason than having no value.
    pub fn failures(&self) -> impl Iterator<Item = &(String, String)> {
        self.skipped.iter().filter(|(_, why)| why != NO_VALUE)
    }
}

/// The reason given for a selected property no point has a value of.
pub const NO_VALUE: &str = "no value";

/// Points and the values of the selected properties, read from standard batches.
struct Collected {
    points: Points,
    values: Vec<Vec<f64>>,
    units: Vec<String>,
    /// Properties that are not numeric columns.
    not_numeric: Vec<String>,
}

impl Collected {
    fn new(properties: &[&str]) -> Self {
        Collected {
            points: Points::new(),
            values: vec![Vec::new(); properties.len()],
            units: vec![String::new(); properties.len()],
            not_numeric: Vec::new(),
        }
    }

    fn add(&mut self, batch: &RecordBatch, properties: &[&str], keep: Option<&[bool]>) {
        let (Some(xs), Some(ys)) = (f64_col(batch, "x"), f64_col(batch, "y")) else {
            return;
        };
        let schema = batch.schema();
        let units = Units::from_schema(&schema);
        let metres = |p: MachineProperty, name: &str, row: usize| {
            f64_col(batch, name)
                .filter(|c| c.is_valid(row))
                .map(|c| c.value(row) / units.factor(p).max(f64::MIN_POSITIVE))
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        let heading = f64_col(batch, "heading");
        let columns: Vec<_> = properties
            .iter()
            .enumerate()
            .map(|(i, name)| {
                if let Ok(field) = schema.field_with_name(name) {
                    if self.units[i].is_empty() {
                        self.units[i] = field.metadata().get("unit").cloned().unwrap_or_default();
                    }
                    if f64_col(batch, name).is_none() && !self.not_numeric.iter().any(|n| n == name)
                    {
                        self.not_numeric.push((*name).to_owned());
                    }
                }
                f64_col(batch, name)
            })
            .collect();
        for row in 0..batch.num_rows() {
            if keep.is_some_and(|k| !k[row]) || !xs.is_valid(row) || !ys.is_valid(row) {
                continue;
            }
            let (x, y) = (xs.value(row), ys.value(row));
            let width = metres(MachineProperty::EquipmentWidth, "equipmentWidth", row);
            let distance = metres(MachineProperty::Distance, "distance", row);
            let h = heading
                .filter(|c| c.is_valid(row))
                .map(|c| c.value(row))
                .filter(|h| h.is_finite());
            match (width, distance, h) {
                (Some(w), Some(d), Some(h)) => {
                    let rect = furrow_geoparquet::swath_rectangle(x, y, w, d, h);
                    let ring: Vec<[f64; 2]> =
                        rect.exterior().coords().map(|c| [c.x, c.y]).collect();
                    self.points.push_swath(x, y, &[ring]);
                }
                (w, _, _) => self.points.push_square(x, y, w),
            }
            for (values, column) in self.values.iter_mut().zip(&columns) {
                values.push(
                    column
                        .filter(|c| c.is_valid(row))
                        .map_or(f64::NAN, |c| c.value(row)),
                );
            }
        }
    }
}

fn render(
    collected: &Collected,
    properties: &[&str],
    options: &RenderOptions,
    geotiff: bool,
) -> Images {
    let mut images = Images {
        points: collected.points.len() as u64,
        ..Images::default()
    };
    for (i, name) in properties.iter().enumerate() {
        if collected.not_numeric.iter().any(|n| n == name) {
            images
                .skipped
                .push(((*name).to_owned(), "not a numeric column".into()));
            continue;
        }
        let property = Property {
            name,
            unit: &collected.units[i],
            values: &collected.values[i],
        };
        match furrow_render::render_png(&collected.points, &property, options) {
            Ok(png) => images.pngs.push(png),
            Err(furrow_render::Error::NoValues { .. }) => {
                images.skipped.push(((*name).to_owned(), NO_VALUE.into()));
                continue;
            }
            Err(e) => {
                images.skipped.push(((*name).to_owned(), e.to_string()));
                continue;
            }
        }
        if geotiff {
            match furrow_render::render_geotiff(&collected.points, &property, options) {
                Ok(t) => images.geotiffs.push(t),
                Err(e) => images
                    .skipped
                    .push(((*name).to_owned(), format!("GeoTIFF: {e}"))),
            }
        }
    }
    images
}

fn sorted(properties: &[&str]) -> Vec<String> {
    let mut p: Vec<String> = properties.iter().map(|s| (*s).to_owned()).collect();
    p.sort();
    p.dedup();
    p
}

/// Renders a file's V1 images (Leaf's continuous ramp) of `properties` from its standard GeoParquet.
pub fn render_file_images(parquet: &Path, properties: &[&str]) -> Result<Images> {
    render_images(parquet, Some(properties), &RenderOptions::file_v1(), false)
}

/// The operation type of standard points: the schema's `operationType` metadata, else the first row's
/// `operationType` column.
fn operation_type_of(batch: &RecordBatch) -> Option<String> {
    if let Some(t) = batch.schema().metadata().get("operationType") {
        return Some(t.clone());
    }
    let column = batch.column_by_name("operationType")?;
    let strings = arrow_array::cast::AsArray::as_string_opt::<i32>(column.as_ref())?;
    (!strings.is_empty() && strings.is_valid(0)).then(|| strings.value(0).to_owned())
}

/// Renders images of the points of a standard GeoParquet file with `options` (PNGs, and GeoTIFFs when
/// `geotiff`): of `properties`, or of every imageable property of the file's operation type (its schema's
/// `operationType`; every imageable property of any type when it has none).
pub fn render_images(
    parquet: &Path,
    properties: Option<&[&str]>,
    options: &RenderOptions,
    geotiff: bool,
) -> Result<Images> {
    let mut batches = read_points(parquet)?.peekable();
    let properties: Vec<String> = match properties {
        Some(p) => sorted(p),
        None => {
            let operation_type = match batches.peek() {
                Some(Ok(b)) => operation_type_of(b),
                _ => None,
            };
            let all: Vec<&str> = match operation_type {
                Some(t) => furrow_render::imageable_properties(&t).to_vec(),
                None => furrow_render::IMAGEABLE_PROPERTIES
                    .iter()
                    .flat_map(|(_, p)| p.iter().copied())
                    .collect(),
            };
            sorted(&all)
        }
    };
    let properties: Vec<&str> = properties.iter().map(String::as_str).collect();
    let mut collected = Collected::new(&properties);
    for batch in batches {
        collected.add(&batch?, &properties, None);
    }
    Ok(render(&collected, &properties, options, geotiff))
}

/// Renders an operation's V2 images (7 quantile classes) of `properties`, and GeoTIFFs when `geotiff`, from
/// its filtered points when `limits` is given (the filtered view is on), from its standard points otherwise or
/// when the filter keeps no point.
pub fn render_operation_images(
    input: &OperationInput,
    limits: Option<&FilterLimits>,
    properties: &[&str],
    geotiff: bool,
) -> Result<Images> {
    let properties = sorted(properties);
    let properties: Vec<&str> = properties.iter().map(String::as_str).collect();
    let collect = |limits: Option<&FilterLimits>| -> Result<Collected> {
        let mut collected = Collected::new(&properties);
        OperationPoints::new(input)?.for_each(|batch| {
            let mask = limits.map(|l| filter_mask(batch, l));
            collected.add(batch, &properties, mask.as_deref());
            Ok(())
        })?;
        Ok(collected)
    };
    let mut collected = collect(limits)?;
    if collected.points.is_empty() && limits.is_some() {
        collected = collect(None)?;
    }
    if collected.points.is_empty() {
        return Err(Error::Data(
            "no points of the operation's files are inside its field".into(),
        ));
    }
    Ok(render(
        &collected,
        &properties,
        &RenderOptions::operation_v2(),
        geotiff,
    ))
}

/// Whose images: a file's (V1, under `images/`) or an operation's (V2 under `imagesV2/`, GeoTIFFs under
/// `geotiff/`). The names are the tails of the download URLs (leaf-images.md §2.6) and of the blob keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImageOwner {
    /// A file.
    File,
    /// A field operation.
    Operation,
}

impl ImageOwner {
    /// The folder of the PNGs.
    pub fn png_folder(self) -> &'static str {
        match self {
            ImageOwner::File => "images",
            ImageOwner::Operation => "imagesV2",
        }
    }

    /// Every folder images of this owner are stored in.
    pub fn folders(self) -> &'static [&'static str] {
        match self {
            ImageOwner::File => &["images"],
            ImageOwner::Operation => &["imagesV2", GEOTIFF_FOLDER],
        }
    }
}

/// The stamp of an operation's images: its built version (see [`ImageManifest::stamp`]).
pub fn operation_stamp(version: i64) -> String {
    format!("v{version}")
}

/// The folder of the GeoTIFFs.
pub const GEOTIFF_FOLDER: &str = "geotiff";
/// The name of the manifest object beside the images.
pub const MANIFEST_NAME: &str = "images.json";

/// One image as listed by the routes: its property, legend and extent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestImage {
    /// The property.
    pub property: String,
    /// The legend (`{ramp, min, max, unit}` for V1, `{ranges, unit}` for V2).
    pub legend: furrow_render::Legend,
    /// The WGS 84 outer edges.
    pub extent: furrow_render::Extent,
}

/// What was rendered for a file or an operation, stored beside the images as [`MANIFEST_NAME`]: the routes
/// list from it, and it says whether the images are current.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Whose images.
    pub owner: ImageOwner,
    /// What the images were drawn from (the standard blob of a file, the built version of an operation): a
    /// manifest whose stamp differs is stale.
    pub stamp: String,
    /// The selection they were drawn for.
    pub properties: Vec<String>,
    /// Whether GeoTIFFs were asked for.
    pub geotiff: bool,
    /// The PNGs, by property.
    pub images: Vec<ManifestImage>,
    /// The properties with a GeoTIFF.
    pub geotiffs: Vec<String>,
    /// Selected properties without an image, and why.
    pub skipped: Vec<(String, String)>,
}

impl ImageManifest {
    /// Whether this manifest answers for `stamp` and `choice`.
    pub fn is_current(&self, stamp: &str, choice: &ImageChoice) -> bool {
        self.stamp == stamp
            && self.geotiff == (choice.geotiff && self.owner == ImageOwner::Operation)
            && self.properties.len() == choice.properties.len()
            && self
                .properties
                .iter()
                .zip(&choice.properties)
                .all(|(a, b)| a == b)
    }
}

/// One object to store: its name under the file's or operation's folder, its bytes and content type.
#[derive(Debug)]
pub struct ImageObject {
    /// `images/wetMass.png`, `imagesV2/wetMass.png.aux.xml`, `geotiff/elevation.tif`, `images.json`.
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// `image/png`, `application/xml`, `image/tiff` or `application/json`.
    pub content_type: &'static str,
}

/// The content type of an image object by its name.
pub fn image_content_type(name: &str) -> &'static str {
    if name.ends_with(".png") {
        "image/png"
    } else if name.ends_with(".aux.xml") {
        "application/xml"
    } else if name.ends_with(".tif") {
        "image/tiff"
    } else {
        "application/json"
    }
}

impl Images {
    /// The objects to store for these images, the manifest last (a reader that finds it finds the images),
    /// and the manifest.
    pub fn into_objects(
        self,
        owner: ImageOwner,
        stamp: &str,
        choice: &ImageChoice,
    ) -> (Vec<ImageObject>, ImageManifest) {
        let folder = owner.png_folder();
        let mut objects = Vec::new();
        let mut listed = Vec::new();
        for png in self.pngs {
            let name = format!("{folder}/{}.png", png.property);
            objects.push(ImageObject {
                name: format!("{name}.aux.xml"),
                bytes: png.aux_xml.into_bytes(),
                content_type: "application/xml",
            });
            objects.push(ImageObject {
                name,
                bytes: png.png,
                content_type: "image/png",
            });
            listed.push(ManifestImage {
                property: png.property,
                legend: png.legend,
                extent: png.extent,
            });
        }
        let mut geotiffs = Vec::new();
        for tiff in self.geotiffs {
            objects.push(ImageObject {
                name: format!("{GEOTIFF_FOLDER}/{}.tif", tiff.property),
                bytes: tiff.tiff,
                content_type: "image/tiff",
            });
            geotiffs.push(tiff.property);
        }
        let manifest = ImageManifest {
            owner,
            stamp: stamp.to_owned(),
            properties: choice.properties.iter().map(|p| (*p).to_owned()).collect(),
            geotiff: choice.geotiff && owner == ImageOwner::Operation,
            images: listed,
            geotiffs,
            skipped: self.skipped,
        };
        objects.push(ImageObject {
            name: MANIFEST_NAME.to_owned(),
            bytes: serde_json::to_vec(&manifest).unwrap_or_default(),
            content_type: "application/json",
        });
        (objects, manifest)
    }
}
