//! `furrow convert` for what is not ISOXML: shapefile sets (a `.shp`, a folder or a zip of sets) converted
//! through furrow-pipeline, as the server converts them; proprietary display data named and refused.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use furrow_pipeline::{
    Dataset, Encoding, Format, Limits, OperationInput, OperationView, Settings, UnitChoice, View,
};

use super::convert::ConvertArgs;

/// What the input holds besides ISOXML, found once.
pub(crate) struct Found {
    /// Shapefile sets.
    pub(crate) shapefiles: Vec<Dataset>,
    /// Whether there is ISOXML (converted by the ISOXML path).
    pub(crate) isoxml: bool,
    /// Proprietary datasets: their names and why they cannot be converted.
    pub(crate) unsupported: Vec<String>,
    _scratch: tempfile::TempDir,
}

/// Looks at the input: a `.shp` file (its set alone), a folder, a zip or an ISOXML file.
pub(crate) fn find(input: &Path) -> anyhow::Result<Found> {
    let scratch = tempfile::tempdir().context("creating a scratch folder")?;
    let is_shp = input
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
    let (root, only) = if is_shp {
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = input
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (parent.to_path_buf(), Some(stem))
    } else {
        (input.to_path_buf(), None)
    };
    if !root.exists() {
        bail!("reading {}: no such file or folder", input.display());
    }
    let found = furrow_pipeline::detect(&root, scratch.path(), &Limits::default())
        .with_context(|| format!("reading {}", input.display()))?;
    let mut out = Found {
        shapefiles: Vec::new(),
        isoxml: false,
        unsupported: Vec::new(),
        _scratch: scratch,
    };
    for d in found.datasets {
        match d.format {
            Format::Shapefile if only.as_ref().is_none_or(|s| d.name.eq_ignore_ascii_case(s)) => {
                out.shapefiles.push(d);
            }
            Format::IsoXml => out.isoxml |= only.is_none(),
            Format::Unsupported(f) => out.unsupported.push(format!(
                "{} ({}): {} cannot be converted (no public specification)",
                d.key,
                f.file_format(),
                f.name()
            )),
            _ => {}
        }
    }
    Ok(out)
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Converts the shapefile sets; returns how many files were written.
pub(crate) fn convert(
    args: &ConvertArgs,
    sets: &[Dataset],
    geojson: bool,
) -> anyhow::Result<usize> {
    // A command-line user converting their own export wants every point, crop or not.
    let settings = Settings {
        unit_measurement: UnitChoice::System(args.units.parse().map_err(anyhow::Error::msg)?),
        cleanup: !args.raw,
        crop_required: false,
        seed_rate_required: false,
        ..Settings::default()
    };
    let ext = if geojson { "geojson" } else { "parquet" };
    let single = args.single_output();
    let work = tempfile::tempdir().context("creating a scratch folder")?;
    let mut units = Vec::new();
    for d in sets {
        let opened = furrow_pipeline::open(d).with_context(|| format!("reading {}", d.name))?;
        for unit in opened.units() {
            units.push((d, unit));
        }
    }
    if single && units.len() > 1 {
        bail!(
            "the input holds {} shapefile sets: write to a folder instead",
            units.len()
        );
    }
    if !single {
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?;
    }
    let mut written = 0;
    let mut failed = Vec::new();
    for (i, (d, unit)) in units.iter().enumerate() {
        if let Some(why) = unit.refusal() {
            failed.push(format!("{}: {why}", unit.name));
            continue;
        }
        let opened = furrow_pipeline::open(d).with_context(|| format!("reading {}", d.name))?;
        let out_dir = work.path().join(format!("u{i}"));
        std::fs::create_dir_all(&out_dir)?;
        let c = match opened.convert(unit, &settings, &out_dir) {
            Ok(c) => c,
            Err(e) => {
                failed.push(format!("{}: {e}", unit.name));
                continue;
            }
        };
        let path = if single {
            args.output.clone()
        } else {
            args.output
                .join(format!("{}-{}.{ext}", safe(&unit.name), c.operation_type))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let encoding = if geojson {
            Encoding::GeoJson
        } else {
            Encoding::GeoParquet
        };
        let create = |p: &Path| -> anyhow::Result<std::io::BufWriter<std::fs::File>> {
            Ok(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("writing {}", p.display()))?,
            ))
        };
        if geojson {
            furrow_pipeline::write_view(&c.parquet, View::Points, encoding, create(&path)?)?;
        } else {
            std::fs::copy(&c.parquet, &path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        let beside = |suffix: &str| -> PathBuf {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            path.with_file_name(format!("{stem}.{suffix}"))
        };
        std::fs::write(
            beside("summary.json"),
            serde_json::to_vec_pretty(&c.summary)?,
        )?;
        std::fs::write(beside("units.json"), serde_json::to_vec_pretty(&c.units)?)?;
        if args.polygons {
            furrow_pipeline::write_view(
                &c.parquet,
                View::Polygons,
                encoding,
                create(&beside(&format!("polygons.{ext}")))?,
            )?;
        }
        let mut filtered = None;
        if args.filtered {
            let input = OperationInput::new(
                c.operation_type.as_str(),
                vec![(c.parquet.clone(), Some(c.summary.clone()))],
                None,
                &settings,
            );
            let built = furrow_pipeline::build_operation(&input)?;
            filtered = Some(furrow_pipeline::write_operation(
                &input,
                &built.filter,
                OperationView::Filtered,
                encoding,
                create(&beside(&format!("filtered.{ext}")))?,
            )?);
        }
        if let Some(dir) = &args.images {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            crate::render::write_images(&c.parquet, dir, &stem, &args.image_args)?;
        }
        let n = c.counts;
        crate::output::line(&format!(
            "{}: set {} {} — {} points written (raw {}, standard {}{})",
            path.display(),
            unit.name,
            c.operation_type,
            n.written,
            n.raw,
            n.standard,
            filtered
                .map(|f| format!(", filtered {f}"))
                .unwrap_or_default()
        ));
        written += 1;
    }
    for f in &failed {
        crate::output::line(&format!("not converted: {f}"));
    }
    if written == 0 && !failed.is_empty() {
        bail!("no shapefile set could be converted: {}", failed.join("; "));
    }
    Ok(written)
}
