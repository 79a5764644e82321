//! Opens an ISOXML zip (or folder), walks its tasks and time logs, and prints records with DDI names and
//! units.
//!
//! ```sh
//! cargo run -p furrow-examples --example parse_taskdata -- samples/isoxml/isoxml-js/2021-04-09T15_33_26_taskdata.zip 5
//! ```
#![allow(clippy::print_stdout)]

use anyhow::Context;
use furrow_isoxml::{TaskData, ddi_name, present};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .context("usage: parse_taskdata PATH [RECORDS_PER_LOG]")?;
    let limit: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(10);

    for td in TaskData::open_all(&path).with_context(|| format!("opening {path}"))? {
        println!("data set {} (ISOXML {})", td.source, td.version());
        for w in td.warnings() {
            println!("  warning: {w}");
        }
        for task in &td.tasks {
            let field = task
                .partfield_id
                .as_deref()
                .and_then(|id| td.partfield(id))
                .map_or("-", |p| p.designator.as_str());
            println!(
                "task {} {:?} (field {field})",
                task.id,
                task.designator.as_deref().unwrap_or("")
            );
            for log in td.time_logs_of(&task.id) {
                let Some(header) = &log.header else {
                    println!("  {}: no header", log.name);
                    continue;
                };
                println!("  time log {} ({} DLVs)", log.name, header.dlvs.len());
                let records = match log.records() {
                    Ok(r) => r,
                    Err(e) => {
                        println!("    cannot read: {e}");
                        continue;
                    }
                };
                for record in records.take(limit) {
                    let record = record?;
                    let time = record.time.map_or("-".to_owned(), |t| t.to_string());
                    let pos = match (record.latitude(), record.longitude()) {
                        (Some(lat), Some(lon)) if record.has_plausible_position() => {
                            format!("{lat:.7},{lon:.7}")
                        }
                        _ => "no position".to_owned(),
                    };
                    println!("    {time}  {pos}");
                    for v in &record.values {
                        let Some(dlv) = header.dlvs.get(usize::from(v.index)) else {
                            continue;
                        };
                        let presentation = dlv
                            .device_element_id
                            .as_deref()
                            .and_then(|det| td.presentation(dlv.ddi, det));
                        let shown = present(dlv.ddi, i64::from(v.value), presentation.as_ref());
                        println!(
                            "      {:04X} {:<45} {:>12} raw  = {shown}",
                            dlv.ddi,
                            ddi_name(dlv.ddi),
                            v.value
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
