//! PNG encoding and the GDAL side file.

use crate::error::{Error, Result};
use crate::grid::Grid;

/// Encodes an RGBA buffer (row-major, north row first) as an 8-bit RGBA PNG.
pub(crate) fn png_rgba(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| Error::Encode {
        format: "PNG",
        message: e.to_string(),
    };
    let mut out = Vec::with_capacity(rgba.len() / 16 + 1024);
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    // Flat colour runs over a transparent background: fdeflate's fast mode compresses them well at a
    // fraction of the time of the default level.
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().map_err(err)?;
    writer.write_image_data(rgba).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}

/// OGC WKT1 of EPSG:3857 as GDAL writes it.
pub(crate) const WKT_3857: &str = concat!(
    r#"PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],"#,
    r#"PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],"#,
    r#"PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],PARAMETER["false_northing",0],"#,
    r#"UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],"#,
    r#"EXTENSION["PROJ4","+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"],"#,
    r#"AUTHORITY["EPSG","3857"]]"#
);

/// OGC WKT1 of EPSG:4326 as GDAL writes it.
pub(crate) const WKT_4326: &str = concat!(
    r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],"#,
    r#"PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],"#,
    r#"AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#
);

/// The GDAL PAM side file (`<png>.aux.xml`, leaf-images.md §4.4): SRS, geotransform, band 1 description.
pub(crate) fn aux_xml(grid: &Grid, property: &str) -> String {
    let wkt = match grid.projection {
        crate::Projection::WebMercator => WKT_3857,
        crate::Projection::Geographic => WKT_4326,
    };
    let gt: Vec<String> = grid
        .geo_transform()
        .iter()
        .map(|&v| gdal_float(v))
        .collect();
    format!(
        "<PAMDataset>\n  <SRS>{}</SRS>\n  <GeoTransform>{}</GeoTransform>\n  <PAMRasterBand band=\"1\">\n    <Description>{}</Description>\n  </PAMRasterBand>\n</PAMDataset>\n",
        xml_escape(wkt),
        gt.join(", "),
        xml_escape(property)
    )
}

/// C's `%.16e`, as GDAL writes geotransforms (`-1.0407493000000000e+07`): exact to the last bit.
pub(crate) fn gdal_float(v: f64) -> String {
    let s = format!("{v:.16e}");
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
