//! A minimal GeoTIFF writer for the raw-value rasters (leaf-images.md §4.5): one Float32 band, 256 × 256
//! DEFLATE tiles, EPSG:4326 GeoKeys, `GDAL_NODATA` −9999 and the band description in `GDAL_METADATA`.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;

use crate::encode::xml_escape;
use crate::error::{Error, Result};
use crate::grid::{Grid, Projection};

/// The value of cells without data in GeoTIFFs.
pub const GEOTIFF_NODATA: f32 = -9999.0;

const TILE: usize = 256;

const SHORT: u16 = 3;
const LONG: u16 = 4;
const ASCII: u16 = 2;
const DOUBLE: u16 = 12;

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    bytes: Vec<u8>,
}

fn shorts(tag: u16, v: &[u16]) -> Entry {
    Entry {
        tag,
        kind: SHORT,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn longs(tag: u16, v: &[u32]) -> Entry {
    Entry {
        tag,
        kind: LONG,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn doubles(tag: u16, v: &[f64]) -> Entry {
    Entry {
        tag,
        kind: DOUBLE,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    Entry {
        tag,
        kind: ASCII,
        count: bytes.len() as u32,
        bytes,
    }
}

fn too_big() -> Error {
    Error::Encode {
        format: "GeoTIFF",
        message: "larger than 4 GiB".into(),
    }
}

/// Encodes cell values (row-major, north row first; NaN = no data) as a little-endian GeoTIFF.
pub(crate) fn encode(grid: &Grid, means: &[f64], property: &str) -> Result<Vec<u8>> {
    let (w, h) = (grid.width as usize, grid.height as usize);
    debug_assert_eq!(means.len(), w * h);
    let (tiles_across, tiles_down) = (w.div_ceil(TILE), h.div_ceil(TILE));
    let mut out = vec![b'I', b'I', 42, 0, 0, 0, 0, 0];
    let mut offsets = Vec::with_capacity(tiles_across * tiles_down);
    let mut counts = Vec::with_capacity(tiles_across * tiles_down);
    let mut raw = Vec::with_capacity(TILE * TILE * 4);
    for ty in 0..tiles_down {
        for tx in 0..tiles_across {
            raw.clear();
            for r in ty * TILE..(ty + 1) * TILE {
                for c in tx * TILE..(tx + 1) * TILE {
                    let v = if r < h && c < w {
                        means[r * w + c]
                    } else {
                        f64::NAN
                    };
                    let v = if v.is_nan() { GEOTIFF_NODATA } else { v as f32 };
                    raw.extend_from_slice(&v.to_le_bytes());
                }
            }
            let start = out.len();
            let mut z = ZlibEncoder::new(std::mem::take(&mut out), Compression::fast());
            z.write_all(&raw).map_err(|e| Error::Encode {
                format: "GeoTIFF",
                message: e.to_string(),
            })?;
            out = z.finish().map_err(|e| Error::Encode {
                format: "GeoTIFF",
                message: e.to_string(),
            })?;
            offsets.push(u32::try_from(start).map_err(|_| too_big())?);
            counts.push(u32::try_from(out.len() - start).map_err(|_| too_big())?);
        }
    }
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let (model_type, epsg_key) = match grid.projection {
        Projection::Geographic => (2, 2048), // ModelTypeGeographic, GeographicTypeGeoKey
        Projection::WebMercator => (1, 3072), // ModelTypeProjected, ProjectedCSTypeGeoKey
    };
    let metadata = format!(
        "<GDALMetadata>\n  <Item name=\"DESCRIPTION\" sample=\"0\" role=\"description\">{}</Item>\n</GDALMetadata>",
        xml_escape(property)
    );
    let tile = TILE as u16;
    let entries = [
        longs(256, &[grid.width]),
        longs(257, &[grid.height]),
        shorts(258, &[32]),
        shorts(259, &[8]), // Adobe DEFLATE
        shorts(262, &[1]), // BlackIsZero
        shorts(277, &[1]),
        shorts(284, &[1]),
        shorts(322, &[tile]),
        shorts(323, &[tile]),
        longs(324, &offsets),
        longs(325, &counts),
        shorts(339, &[3]), // IEEE floating point
        doubles(33550, &[grid.cell, grid.cell, 0.0]),
        doubles(33922, &[0.0, 0.0, 0.0, grid.x0, grid.y0, 0.0]),
        // version 1.1.0, 3 keys: model type, raster type PixelIsArea, the EPSG code
        shorts(
            34735,
            &[
                1,
                1,
                0,
                3,
                1024,
                0,
                1,
                model_type,
                1025,
                0,
                1,
                1,
                epsg_key,
                0,
                1,
                grid.projection.epsg(),
            ],
        ),
        ascii(42112, &metadata),
        ascii(42113, "-9999"),
    ];
    let ifd_at = out.len();
    let mut extra_at = ifd_at + 2 + 12 * entries.len() + 4;
    let mut extra = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for e in &entries {
        out.extend_from_slice(&e.tag.to_le_bytes());
        out.extend_from_slice(&e.kind.to_le_bytes());
        out.extend_from_slice(&e.count.to_le_bytes());
        if e.bytes.len() <= 4 {
            let mut v = [0u8; 4];
            v[..e.bytes.len()].copy_from_slice(&e.bytes);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(
                &u32::try_from(extra_at)
                    .map_err(|_| too_big())?
                    .to_le_bytes(),
            );
            extra.extend_from_slice(&e.bytes);
            extra_at += e.bytes.len();
            if extra.len() % 2 == 1 {
                extra.push(0);
                extra_at += 1;
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&extra);
    let ifd_at = u32::try_from(ifd_at).map_err(|_| too_big())?;
    out[4..8].copy_from_slice(&ifd_at.to_le_bytes());
    Ok(out)
}
