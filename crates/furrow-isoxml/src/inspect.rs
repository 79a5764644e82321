//! The summary behind `furrow inspect PATH [--json]`.

use std::fmt;
use std::path::Path;

use serde::Serialize;

use crate::ddi::ddi_name;
use crate::error::Result;
use crate::taskdata::TaskData;
use crate::time::LoggedDateTime;
use crate::timelog::{MAX_DLVS, TimeLog};

/// Summary of one data set. Serialises to the JSON shape of `furrow inspect --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `"major.minor"`.
    pub version: String,
    /// Management software manufacturer and version, e.g. `"FarmSystem 1.0"`.
    pub management_software: Option<String>,
    /// Task controller manufacturer and version, e.g. `"CCI 3.0"`.
    pub task_controller: Option<String>,
    /// Element counts.
    pub counts: Counts,
    /// One entry per time log (each log once, under the first task that references it).
    pub time_logs: Vec<TimeLogSummary>,
    /// Every warning, as text.
    pub warnings: Vec<String>,
}

/// Element counts of a data set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct Counts {
    #[serde(rename = "TSK")]
    pub tsk: usize,
    #[serde(rename = "PFD")]
    pub pfd: usize,
    /// Every `PLN`: partfield, treatment zone and guidance polygons.
    #[serde(rename = "PLN")]
    pub pln: usize,
    /// `TLG` references in tasks.
    #[serde(rename = "TLG")]
    pub tlg: usize,
    #[serde(rename = "GRD")]
    pub grd: usize,
    #[serde(rename = "DVC")]
    pub dvc: usize,
    #[serde(rename = "DET")]
    pub det: usize,
    #[serde(rename = "DPD")]
    pub dpd: usize,
    #[serde(rename = "TZN")]
    pub tzn: usize,
}

/// Whether a time log could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum TimeLogStatus {
    /// Header and binary read.
    Ok,
    /// The binary (`.BIN`) is missing: no records are known (`records` is null).
    MissingBinary,
    /// The header (`.XML`) is missing or unusable: the binary cannot be decoded.
    MissingHeader,
    /// The binary could not be opened or read from its start.
    Unreadable,
}

/// Summary of one time log.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeLogSummary {
    /// The task id.
    pub task: String,
    /// `TLG A`.
    pub name: String,
    /// Whether the log could be read.
    pub status: TimeLogStatus,
    /// Why not, when it could not ([`TimeLog::problem`] or the read error).
    pub problem: Option<String>,
    /// Records decoded; `None` when the log could not be read (a missing binary has no record count, not 0).
    pub records: Option<u64>,
    /// Local time of the first record, `YYYY-MM-DDTHH:MM:SS.mmm`.
    pub first_time: Option<String>,
    /// Local time of the last record.
    pub last_time: Option<String>,
    /// `[min lon, min lat, max lon, max lat]` of the records with a plausible position.
    pub bbox: Option<[f64; 4]>,
    /// One entry per header DLV.
    pub dlvs: Vec<DlvSummary>,
}

/// Statistics of one DLV of a time log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DlvSummary {
    /// DLV index.
    pub index: u8,
    /// DDI.
    pub ddi: u16,
    /// Device element id.
    pub device_element: Option<String>,
    /// Records carrying this DLV.
    pub count: u64,
    /// Sum of its raw values.
    pub sum: i64,
}

fn join(a: &Option<String>, b: &Option<String>) -> Option<String> {
    match (a.as_deref().map(str::trim), b.as_deref().map(str::trim)) {
        (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => Some(format!("{a} {b}")),
        (Some(a), _) if !a.is_empty() => Some(a.to_owned()),
        (_, Some(b)) if !b.is_empty() => Some(b.to_owned()),
        _ => None,
    }
}

impl Summary {
    /// Summarises a data set, decoding every time log.
    pub fn of(td: &TaskData) -> Summary {
        let mut counts = Counts {
            tsk: td.tasks.len(),
            pfd: td.partfields.len(),
            dvc: td.devices.len(),
            ..Default::default()
        };
        for p in &td.partfields {
            counts.pln += p.polygons.len();
            for g in &p.guidance_groups {
                counts.pln +=
                    g.polygons.len() + g.patterns.iter().map(|p| p.polygons.len()).sum::<usize>();
            }
        }
        for t in &td.tasks {
            counts.tlg += t.time_log_refs.len();
            counts.grd += t.grids.len();
            counts.tzn += t.treatment_zones.len();
            counts.pln += t
                .treatment_zones
                .iter()
                .map(|z| z.polygons.len())
                .sum::<usize>();
        }
        for d in &td.devices {
            counts.det += d.elements.len();
            counts.dpd += d.process_data.len();
        }
        let mut warnings: Vec<String> = td.warnings.iter().map(ToString::to_string).collect();
        let time_logs = td
            .time_logs
            .iter()
            .map(|log| summarise_log(log, &mut warnings))
            .collect();
        Summary {
            version: td.version(),
            management_software: join(
                &td.management_software_manufacturer,
                &td.management_software_version,
            ),
            task_controller: join(
                &td.task_controller_manufacturer,
                &td.task_controller_version,
            ),
            counts,
            time_logs,
            warnings,
        }
    }
}

fn summarise_log(log: &TimeLog, warnings: &mut Vec<String>) -> TimeLogSummary {
    let mut s = TimeLogSummary {
        task: log.task_id.clone(),
        name: log.name.clone(),
        status: TimeLogStatus::Ok,
        problem: None,
        records: None,
        first_time: None,
        last_time: None,
        bbox: None,
        dlvs: log
            .header
            .iter()
            .flat_map(|h| &h.dlvs)
            .map(|d| DlvSummary {
                index: d.index,
                ddi: d.ddi,
                device_element: d.device_element_id.clone(),
                count: 0,
                sum: 0,
            })
            .collect(),
    };
    let mut reader = match log.reader() {
        Ok(r) => r,
        // A missing header or binary was already reported when the data set was opened.
        Err(e) => {
            s.status = match e {
                crate::Error::TimeLogHeader { .. } => TimeLogStatus::MissingHeader,
                crate::Error::MissingFile { .. } if log.header.is_none() => {
                    TimeLogStatus::MissingHeader
                }
                crate::Error::MissingFile { .. } => TimeLogStatus::MissingBinary,
                _ => {
                    warnings.push(format!("{}: {e}", log.name));
                    TimeLogStatus::Unreadable
                }
            };
            s.problem = Some(log.problem().unwrap_or_else(|| e.to_string()));
            return s;
        }
    };
    let mut records = 0u64;
    let mut first: Option<LoggedDateTime> = None;
    let mut last: Option<LoggedDateTime> = None;
    let mut bbox: Option<[i32; 4]> = None;
    // Per DLV index (a u8, so no bounds checks); copied into `s.dlvs` at the end.
    let mut counts = [0u64; MAX_DLVS];
    // i128 cannot overflow here (2^64 values of at most 2^31); saturated into the i64 `sum` at the end.
    let mut sums = [0i128; MAX_DLVS];
    loop {
        let view = match reader.next_record() {
            Ok(Some(v)) => v,
            Ok(None) => break,
            Err(e) => {
                warnings.push(e.to_string());
                break;
            }
        };
        records += 1;
        if let Some(t) = view.time {
            first.get_or_insert(t);
            last = Some(t);
        }
        if view.has_plausible_position() {
            if let (Some(n), Some(e)) = (view.position.north, view.position.east) {
                let b = bbox.get_or_insert([e, n, e, n]);
                b[0] = b[0].min(e);
                b[1] = b[1].min(n);
                b[2] = b[2].max(e);
                b[3] = b[3].max(n);
            }
        }
        view.for_each_value(|index, value| {
            let i = usize::from(index);
            counts[i] += 1;
            sums[i] += i128::from(value);
        });
    }
    for (d, (count, sum)) in s.dlvs.iter_mut().zip(counts.iter().zip(&sums)) {
        d.count = *count;
        d.sum = i64::try_from(*sum).unwrap_or(if *sum < 0 { i64::MIN } else { i64::MAX });
    }
    warnings.extend(reader.take_warnings().iter().map(ToString::to_string));
    s.records = Some(records);
    s.first_time = first.map(|t| t.to_string());
    s.last_time = last.map(|t| t.to_string());
    s.bbox = bbox.map(|b| b.map(|v| f64::from(v) * 1e-7));
    s
}

/// Summarises every data set at `path` (folder, zip or XML).
pub fn inspect(path: impl AsRef<Path>) -> Result<Vec<Summary>> {
    Ok(TaskData::open_all(path)?.iter().map(Summary::of).collect())
}

/// The `--json` output: one object for one data set, an array for several.
pub fn inspect_json(path: impl AsRef<Path>) -> Result<serde_json::Value> {
    Ok(summaries_to_json(&inspect(path)?))
}

/// One object for one summary, an array otherwise.
pub fn summaries_to_json(summaries: &[Summary]) -> serde_json::Value {
    match summaries {
        [one] => serde_json::to_value(one).unwrap_or(serde_json::Value::Null),
        many => serde_json::to_value(many).unwrap_or(serde_json::Value::Null),
    }
}

/// Text output of several summaries, separated by a blank line.
pub fn render_text(summaries: &[Summary]) -> String {
    summaries
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "ISOXML {}",
            if self.version.is_empty() {
                "?"
            } else {
                &self.version
            }
        )?;
        writeln!(
            f,
            "  management software: {}",
            self.management_software.as_deref().unwrap_or("-")
        )?;
        writeln!(
            f,
            "  task controller:     {}",
            self.task_controller.as_deref().unwrap_or("-")
        )?;
        let c = &self.counts;
        writeln!(
            f,
            "  TSK {}  PFD {}  PLN {}  TLG {}  GRD {}  DVC {}  DET {}  DPD {}  TZN {}",
            c.tsk, c.pfd, c.pln, c.tlg, c.grd, c.dvc, c.det, c.dpd, c.tzn
        )?;
        for t in &self.time_logs {
            match t.records {
                Some(n) => writeln!(
                    f,
                    "  {} ({}): {} records, {} .. {}",
                    t.name,
                    t.task,
                    n,
                    t.first_time.as_deref().unwrap_or("-"),
                    t.last_time.as_deref().unwrap_or("-")
                )?,
                None => writeln!(
                    f,
                    "  {} ({}): not read: {}",
                    t.name,
                    t.task,
                    t.problem.as_deref().unwrap_or("unreadable")
                )?,
            }
            if let Some([a, b, c, d]) = t.bbox {
                writeln!(f, "    bbox {a:.7},{b:.7} .. {c:.7},{d:.7}")?;
            }
            for d in &t.dlvs {
                writeln!(
                    f,
                    "    [{:>3}] {:04X} {:<40} {:<14} count {:>8} sum {}",
                    d.index,
                    d.ddi,
                    ddi_name(d.ddi),
                    d.device_element.as_deref().unwrap_or("-"),
                    d.count,
                    d.sum
                )?;
            }
        }
        if !self.warnings.is_empty() {
            writeln!(f, "  {} warning(s):", self.warnings.len())?;
            for w in &self.warnings {
                writeln!(f, "    {w}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
