//! `furrow convert`: ISOXML TASKDATA (here) and shapefile sets (`convert_sets.rs`) → standard GeoParquet or
//! GeoJSON files, summary and units beside.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use furrow_machine_data::{
    ConvertOptions, FilePlan, OutputFormat, UnitSystem, WriteOptions, plan, write_plans,
};

/// Flags of `furrow convert`.
#[derive(Debug, clap::Args)]
pub(crate) struct ConvertArgs {
    /// A TASKDATA folder, a TASKDATA.XML file, a shapefile (`.shp` with its sidecars), a folder or a zip of
    /// either.
    pub(crate) input: PathBuf,
    /// A folder (one file per task and operation type, or per shapefile set) or a .parquet / .geojson file.
    #[arg(short, long)]
    pub(crate) output: PathBuf,
    /// Output format (default: from the output's extension, else geoparquet).
    #[arg(long, value_parser = ["geoparquet", "geojson"])]
    format: Option<String>,
    /// Also write each point's swath polygon (`<name>.polygons.parquet` or `.polygons.geojson`).
    #[arg(long)]
    pub(crate) polygons: bool,
    /// Also write the filtered view (no point under 0.5 m/s, no harvest outlier beyond 3 sigma) to
    /// `<name>.filtered.parquet` or `.filtered.geojson`.
    #[arg(long)]
    pub(crate) filtered: bool,
    /// Unit system of the values.
    #[arg(long, default_value = "metric", value_parser = ["metric", "imperial"])]
    pub(crate) units: String,
    /// Write every point with a position (no cleanup rules).
    #[arg(long)]
    pub(crate) raw: bool,
    /// Convert and encode on one thread (by default the Parquet or GeoJSON encoding runs on a second
    /// thread while the next points are converted).
    #[arg(long)]
    single_thread: bool,
    /// Also draw each converted file's images into this folder (see `furrow render`).
    #[arg(long, value_name = "DIR")]
    pub(crate) images: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) image_args: crate::render::ImageArgs,
}

impl ConvertArgs {
    fn output_ext(&self) -> Option<String> {
        self.output
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
    }

    /// Whether the output is one file rather than a folder.
    pub(crate) fn single_output(&self) -> bool {
        matches!(
            self.output_ext().as_deref(),
            Some("parquet" | "geojson" | "json")
        )
    }
}

pub(crate) fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let ext = args.output_ext();
    let single = args.single_output();
    let format = match (args.format.as_deref(), ext.as_deref()) {
        (Some("geojson"), _) | (None, Some("geojson" | "json")) => OutputFormat::GeoJson,
        _ => OutputFormat::GeoParquet,
    };
    // Shapefile sets go through the pipeline, as on the server; display data is named and refused.
    let found = crate::convert_sets::find(&args.input)?;
    if !found.shapefiles.is_empty() {
        crate::convert_sets::convert(&args, &found.shapefiles, format == OutputFormat::GeoJson)?;
        if !found.isoxml {
            return Ok(());
        }
    } else if !found.isoxml && !found.unsupported.is_empty() {
        bail!(
            "{}: nothing furrow can convert: {}",
            args.input.display(),
            found.unsupported.join("; ")
        );
    }
    let opts = ConvertOptions {
        units: args
            .units
            .parse::<UnitSystem>()
            .map_err(anyhow::Error::msg)?,
        cleanup: (!args.raw).then(Default::default),
        ..ConvertOptions::default()
    };
    let wopts = WriteOptions {
        format,
        polygons: args.polygons,
        filtered: args.filtered,
        single_thread: args.single_thread,
        ..WriteOptions::default()
    };
    let sets = furrow_isoxml::TaskData::open_all(&args.input)
        .with_context(|| format!("reading {}", args.input.display()))?;
    let plans: Vec<(usize, FilePlan)> = sets
        .iter()
        .enumerate()
        .flat_map(|(i, td)| plan(td, &opts).into_iter().map(move |p| (i, p)))
        .collect();
    if plans.is_empty() {
        bail!(
            "{}: no time logs to convert ({} TASKDATA set(s) found)",
            args.input.display(),
            sets.len()
        );
    }
    let total: u64 = plans.iter().map(|(_, p)| p.bytes).sum();
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(total).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        )
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut jobs: Vec<(usize, Vec<&FilePlan>, PathBuf)> = Vec::new();
    if single {
        if sets.len() > 1 && plans.iter().any(|(i, _)| *i != plans[0].0) {
            bail!("the input holds several TASKDATA sets: write to a folder instead");
        }
        if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        jobs.push((
            plans[0].0,
            plans.iter().map(|(_, p)| p).collect(),
            args.output.clone(),
        ));
    } else {
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?;
        for (i, p) in &plans {
            let set = if sets.len() > 1 {
                format!("set{i}-")
            } else {
                String::new()
            };
            let name = format!("{set}{}.{}", p.stem(), format.extension());
            jobs.push((*i, vec![p], args.output.join(name)));
        }
    }
    let mut done = 0u64;
    for (set, job_plans, path) in jobs {
        bar.set_message(file_name(&path));
        let job_bytes: u64 = job_plans.iter().map(|p| p.bytes).sum();
        let written = write_plans(&sets[set], &job_plans, &opts, &path, &wopts, &mut |b| {
            bar.set_position(done + b)
        })
        .with_context(|| {
            format!(
                "converting {} into {}",
                args.input.display(),
                path.display()
            )
        })?;
        done += job_bytes;
        bar.set_position(done);
        if let Some(dir) = &args.images {
            bar.set_message(format!("drawing {}", file_name(&path)));
            // Images are drawn from GeoParquet: a GeoJSON output gets a GeoParquet twin in a scratch folder.
            let scratch;
            let parquet = if format == OutputFormat::GeoParquet {
                written.points.clone()
            } else {
                scratch = tempfile::tempdir().context("creating a scratch folder")?;
                let twin = scratch.path().join("points.parquet");
                let gp = WriteOptions {
                    format: OutputFormat::GeoParquet,
                    ..WriteOptions::default()
                };
                write_plans(&sets[set], &job_plans, &opts, &twin, &gp, &mut |_| {})
                    .with_context(|| format!("converting {} for its images", path.display()))?;
                twin
            };
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            bar.suspend(|| crate::render::write_images(&parquet, dir, &stem, &args.image_args))?;
        }
        for (p, o) in job_plans.iter().zip(&written.outcomes) {
            let c = o.counts;
            bar.suspend(|| {
                crate::output::line(&format!(
                    "{}: task {} {} — {} points written (raw {}, standard {}, filtered {})",
                    written.points.display(),
                    p.task_id,
                    p.operation_type,
                    c.written,
                    c.raw,
                    c.standard,
                    c.filtered
                ))
            });
        }
    }
    bar.finish_and_clear();
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
