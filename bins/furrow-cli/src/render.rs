//! `furrow render`: images of a standard GeoParquet file (Leaf's PNGs with side files, GeoTIFFs), without a
//! server. `furrow convert --images DIR` calls the same code for what it converts.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use furrow_render::RenderOptions;

/// Flags of `furrow render`.
#[derive(Debug, clap::Args)]
pub(crate) struct RenderArgs {
    /// A standard GeoParquet file (written by `furrow convert` or downloaded from furrow).
    input: PathBuf,
    /// Folder for the images (`<name>.<property>.png`, `.png.aux.xml`, `.tif` and `<name>.images.json`).
    #[arg(short, long)]
    output: PathBuf,
    #[command(flatten)]
    images: ImageArgs,
}

/// How images are drawn (shared with `furrow convert --images`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ImageArgs {
    /// A property to draw (repeatable; default: every imageable property of the file's operation type that
    /// has a value).
    #[arg(long = "property", value_name = "PROPERTY")]
    properties: Vec<String>,
    /// `classes`: Leaf's 7 quantile classes (operation images V2); `ramp`: Leaf's continuous ramp (file
    /// images V1).
    #[arg(long, default_value = "classes", value_parser = ["classes", "ramp"])]
    style: String,
    /// Also write each property's raw values as a Float32 GeoTIFF (EPSG:4326).
    #[arg(long)]
    geotiff: bool,
    /// Longest side of an image in pixels (cells are 0.00001° until the image would be larger).
    #[arg(long, default_value_t = furrow_render::DEFAULT_MAX_SIDE)]
    max_side: u32,
}

pub(crate) fn run(args: RenderArgs) -> anyhow::Result<()> {
    if !args.input.is_file() {
        bail!("{}: no such file", args.input.display());
    }
    let stem = args
        .input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "points".into());
    let bar = spinner();
    bar.set_message(format!("drawing {}", args.input.display()));
    let written = write_images(&args.input, &args.output, &stem, &args.images);
    bar.finish_and_clear();
    written?;
    Ok(())
}

fn spinner() -> indicatif::ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    }
}

/// Draws the images of `parquet` into `dir` as `<stem>.<property>.png` (+ `.png.aux.xml`), `.tif` with
/// `--geotiff`, and `<stem>.images.json` (legends, extents, properties without an image and why). Prints one
/// line; returns the paths of the PNGs.
pub(crate) fn write_images(
    parquet: &Path,
    dir: &Path,
    stem: &str,
    args: &ImageArgs,
) -> anyhow::Result<Vec<PathBuf>> {
    let all: Vec<&str> = furrow_render::IMAGEABLE_PROPERTIES
        .iter()
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    for p in &args.properties {
        if !all.contains(&p.as_str()) {
            let mut known = all.clone();
            known.sort_unstable();
            known.dedup();
            bail!(
                "--property {p}: not a property that can be drawn; these can: {}",
                known.join(", ")
            );
        }
    }
    let options = match args.style.as_str() {
        "ramp" => RenderOptions::file_v1(),
        _ => RenderOptions::operation_v2(),
    }
    .with_max_side(args.max_side);
    let chosen: Vec<&str> = args.properties.iter().map(String::as_str).collect();
    let images = furrow_pipeline::render_images(
        parquet,
        (!chosen.is_empty()).then_some(chosen.as_slice()),
        &options,
        args.geotiff,
    )
    .with_context(|| format!("drawing {}", parquet.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: String, bytes: &[u8]| -> anyhow::Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    let mut pngs = Vec::new();
    let mut listed = Vec::new();
    for png in &images.pngs {
        let path = write(format!("{stem}.{}.png", png.property), &png.png)?;
        write(
            format!("{stem}.{}.png.aux.xml", png.property),
            png.aux_xml.as_bytes(),
        )?;
        listed.push(serde_json::json!({
            "property": png.property,
            "file": file_name(&path),
            "width": png.width,
            "height": png.height,
            "legend": png.legend,
            "extent": png.extent,
        }));
        pngs.push(path);
    }
    for tiff in &images.geotiffs {
        write(format!("{stem}.{}.tif", tiff.property), &tiff.tiff)?;
    }
    let skipped: Vec<_> = images
        .skipped
        .iter()
        .map(|(p, why)| serde_json::json!({"property": p, "reason": why}))
        .collect();
    let manifest =
        serde_json::json!({"points": images.points, "images": listed, "skipped": skipped});
    write(
        format!("{stem}.images.json"),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    let drawn: Vec<&str> = images.pngs.iter().map(|p| p.property.as_str()).collect();
    let failures: Vec<String> = images
        .failures()
        .map(|(p, why)| format!("{p} ({why})"))
        .collect();
    let mut line = format!(
        "{}: {} image(s) of {} points in {}: {}",
        parquet.display(),
        drawn.len(),
        images.points,
        dir.display(),
        if drawn.is_empty() {
            "none (no drawable property has a value)".to_owned()
        } else {
            drawn.join(", ")
        }
    );
    if !failures.is_empty() {
        line.push_str(&format!("; not drawn: {}", failures.join(", ")));
    }
    crate::output::line(&line);
    Ok(pngs)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
