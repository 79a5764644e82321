//! Converts a TASKDATA zip (or folder) into standard GeoParquet files with the library API alone.
//!
//! `cargo run -p furrow-examples --example isoxml_to_geoparquet -- TASKDATA.zip out/`

use std::path::PathBuf;

use furrow_isoxml::TaskData;
use furrow_machine_data::{ConvertOptions, WriteOptions, plan, write_plans};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let input = args.next().unwrap_or_else(|| "TASKDATA.zip".into());
    let out = PathBuf::from(args.next().unwrap_or_else(|| "out".into()));
    std::fs::create_dir_all(&out)?;
    let opts = ConvertOptions::default();
    for td in TaskData::open_all(&input)? {
        for p in plan(&td, &opts) {
            let path = out.join(format!("{}.parquet", p.stem()));
            let written = write_plans(
                &td,
                &[&p],
                &opts,
                &path,
                &WriteOptions::default(),
                &mut |_| {},
            )?;
            let c = written.outcomes[0].counts;
            eprintln!("{}: {} of {} points", path.display(), c.written, c.raw);
        }
    }
    Ok(())
}
