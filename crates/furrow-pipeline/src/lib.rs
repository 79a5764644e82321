//! furrow's data work as plain functions, with no tokio, SQL or HTTP: what an original machine file holds
//! ([`detect`]), each dataset's files ([`Opened::units`]) converted once to standard GeoParquet with their
//! summary and units ([`Opened::convert`]), GeoJSON views streamed from that GeoParquet on request
//! ([`write_geojson`]), points allocated to field boundaries ([`allocate_file`]), and field operations built
//! from their files ([`build_operation`], [`write_operation`]). `furrow-sync` runs these as durable jobs; a
//! Rust program can call them directly.
//!
//! ```no_run
//! use furrow_pipeline::{Limits, Settings, detect, open};
//! let scratch = tempfile::tempdir()?;
//! let found = detect("upload.zip".as_ref(), scratch.path(), &Limits::default())?;
//! for dataset in &found.datasets {
//!     let opened = open(dataset)?;
//!     for unit in opened.units() {
//!         let out = scratch.path().join(unit.key.replace(['/', '#', '!'], "_"));
//!         std::fs::create_dir_all(&out)?;
//!         match opened.convert(&unit, &Settings::default(), &out) {
//!             Ok(c) => println!("{}: {} points", unit.name, c.counts.written),
//!             Err(e) => println!("{}: {e}", unit.name),
//!         }
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod convert;
mod detect;
mod error;
mod images;
mod operation;
mod points;
mod settings;
mod views;

pub use crate::convert::{Converted, Opened, Unit, missing_required, open};
pub use crate::detect::{Dataset, Detection, Family, Format, Limits, Problem, detect};
pub use crate::error::{Error, Result};
pub use crate::images::{
    GEOTIFF_FOLDER, ImageChoice, ImageManifest, ImageObject, ImageOwner, Images, MANIFEST_NAME,
    ManifestImage, NO_VALUE, image_content_type, operation_stamp, render_file_images,
    render_images, render_operation_images,
};
pub use crate::operation::{
    Allocated, Built, Encoding, FileDescription, FilterLimits, OperationInput, OperationView,
    allocate_file, build_operation, file_facts, write_operation,
};
pub use crate::settings::{Settings, UnitChoice};
pub use crate::views::{View, write_geojson, write_view};
