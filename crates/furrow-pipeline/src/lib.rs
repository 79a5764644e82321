//! furrow's data work as plain functions, with no tokio, SQL or HTTP: what an original machine file holds
//! ([`detect`]), each dataset converted once to standard GeoParquet with its summary and units, GeoJSON views
//! streamed from that GeoParquet on request, points allocated to field boundaries, and field operations built
//! from their files. `furrow-sync` runs these as durable jobs; a Rust program can call them directly.
#![warn(missing_docs)]

mod detect;
mod error;

pub use crate::detect::{Dataset, Detection, Family, Format, Limits, Problem, detect};
pub use crate::error::{Error, Result};
