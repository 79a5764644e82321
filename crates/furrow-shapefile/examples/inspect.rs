//! Prints what furrow-shapefile makes of every shapefile set under a folder:
//! `cargo run -p furrow-shapefile --example inspect -- <folder>`.

#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use furrow_shapefile::{Role, ShapefileSet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    for set in ShapefileSet::discover(&dir)? {
        println!("== {}", set.shp.display());
        let mut reader = match set.open() {
            Ok(r) => r,
            Err(e) => {
                println!("   error: {e}");
                continue;
            }
        };
        let p = reader.profile().clone();
        println!(
            "   {:?}, {} records, crs {} ({}), code page {}, vendor {:?}, operation {} ({}), time {:?}",
            reader.geometry(),
            reader.record_count(),
            reader.crs().name,
            reader.crs().proj,
            reader.code_page(),
            p.vendor,
            p.operation_type.as_str(),
            p.operation_source,
            p.time
        );
        for c in &p.columns {
            match &c.role {
                Role::Property(m) => println!(
                    "   {:<12} -> {} [{} -> {} x {} from {}]",
                    c.field.name, m.property, m.source_unit, m.unit, m.factor, m.unit_from
                ),
                other => println!("   {:<12} -> {:?}", c.field.name, other),
            }
        }
        let main = p.main_rate();
        let (mut rows, mut with_rate) = (0usize, 0usize);
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        while let Some(b) = reader.next_batch()? {
            rows += b.len();
            if let Some(rate) = main.and_then(|m| b.numbers(m)) {
                with_rate += rate.iter().filter(|v| v.is_finite()).count();
            }
            for (x, y) in b.lon.iter().zip(&b.lat) {
                if x.is_finite() && y.is_finite() {
                    bbox = [
                        bbox[0].min(*x),
                        bbox[1].min(*y),
                        bbox[2].max(*x),
                        bbox[3].max(*y),
                    ];
                }
            }
        }
        println!("   rows {rows}, main rate {main:?} on {with_rate}, bbox {bbox:?}");
        println!("   stats {:?}", reader.stats());
        for w in reader.warnings() {
            println!("   warning: {w}");
        }
    }
    Ok(())
}
