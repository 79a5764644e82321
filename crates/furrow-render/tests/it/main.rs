//! Integration tests: images are decoded and checked pixel by pixel.

mod degenerate;
mod field;
mod geotiff;
mod legend;
mod util;
