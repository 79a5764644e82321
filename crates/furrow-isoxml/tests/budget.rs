//! The memory budget of reading data sets: the estimate made before reading covers what reading really
//! allocates, on the shapes XML takes (dense boundaries, attribute-heavy elements, unknown elements kept
//! whole, a real terminal export), without being many times too large; a set over the budget is refused
//! before anything is read; a reader of the same thread never waits for itself; another thread waits its turn.
//!
//! One test in its own binary: it counts allocations with a global allocator and sets the process's budget.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use furrow_isoxml::{Error, TaskData, memory_reserved, set_memory_budget};
use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc, PeakMemAllocTrait};

#[global_allocator]
static GLOBAL: &PeakMemAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ISO11783_TaskData VersionMajor="4" VersionMinor="3" DataTransferOrigin="1" ManagementSoftwareManufacturer="furrow">
"#;

fn write_set(dir: &Path, name: &str, body: &str) -> PathBuf {
    let set = dir.join(name);
    std::fs::create_dir_all(&set).unwrap();
    std::fs::write(
        set.join("TASKDATA.XML"),
        format!("{HEAD}{body}</ISO11783_TaskData>\n"),
    )
    .unwrap();
    set
}

/// A partfield with one boundary of `n` points.
fn boundary(n: usize) -> String {
    let mut s = String::from(r#"<PFD A="PFD1" C="Field" D="100000"><PLN A="1"><LSG A="1">"#);
    for i in 0..n {
        let (lat, lon) = (52.0 + i as f64 * 1e-7, 7.0 + i as f64 * 1e-7);
        writeln!(s, r#"<PNT A="2" C="{lat:.9}" D="{lon:.9}"/>"#).unwrap();
    }
    s.push_str("</LSG></PLN></PFD>\n");
    s
}

/// `n` customers with five attributes each.
fn customers(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        writeln!(
            s,
            r#"<CTR A="CTR{i}" B="Customer {i}" C="Main Street {i}" D="12345" E="Springfield"/>"#
        )
        .unwrap();
    }
    s
}

/// `n` proprietary elements this crate keeps whole (owned copies).
fn unknown(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        writeln!(s, r#"<P94_Extra a="{i}"/>"#).unwrap();
    }
    s
}

/// Opens `path`; returns what reading allocated at its peak and the estimate reserved for it.
fn measure(path: &Path) -> (usize, u64) {
    assert_eq!(memory_reserved(), 0);
    GLOBAL.reset_peak_memory();
    let sets = TaskData::open_all(path).unwrap();
    let peak = GLOBAL.get_peak_memory();
    let reserved = memory_reserved();
    assert!(!sets.is_empty());
    drop(sets);
    assert_eq!(
        memory_reserved(),
        0,
        "dropping the sets gives the budget back"
    );
    (peak, reserved)
}

#[test]
fn the_estimate_covers_reading_and_the_budget_admits_readers() {
    let dir = tempfile::tempdir().unwrap();
    set_memory_budget(2 << 30);

    // Shapes of about 4-8 MB of XML each, and one real terminal export.
    let shapes = [
        (
            "boundary",
            write_set(dir.path(), "boundary", &boundary(100_000)),
        ),
        (
            "customers",
            write_set(dir.path(), "customers", &customers(60_000)),
        ),
        (
            "unknown",
            write_set(dir.path(), "unknown", &unknown(200_000)),
        ),
    ];
    let real = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples/isoxml/isoxml-dotnet/ValidTimeLogs.zip");
    for (name, path) in &shapes {
        let (peak, estimate) = measure(path);
        eprintln!("{name}: peak {peak} B, estimate {estimate} B");
        assert!(
            peak as u64 <= estimate,
            "{name}: reading allocated {peak} B at its peak, over the estimate of {estimate} B"
        );
        assert!(
            estimate <= 4 * peak as u64,
            "{name}: estimate {estimate} B is more than four times the peak of {peak} B"
        );
    }
    let (peak, estimate) = measure(&real);
    eprintln!("ValidTimeLogs.zip: peak {peak} B, estimate {estimate} B");
    assert!(
        peak as u64 <= estimate,
        "real export: {peak} B over {estimate} B"
    );

    // Over the whole budget: refused before reading, saying what it needs.
    let (_, boundary_estimate) = measure(&shapes[0].1);
    set_memory_budget(boundary_estimate - 1);
    GLOBAL.reset_peak_memory();
    match TaskData::open_all(&shapes[0].1) {
        Err(Error::MemoryBudget { needed, budget, .. }) => {
            assert!(needed > budget, "{needed} {budget}");
            assert_eq!(budget, boundary_estimate - 1);
        }
        other => panic!("expected MemoryBudget, got {other:?}"),
    }
    assert!(
        (GLOBAL.get_peak_memory() as u64) < boundary_estimate / 8,
        "refusing read {} B, most of the set",
        GLOBAL.get_peak_memory()
    );
    assert_eq!(memory_reserved(), 0);

    // Room for one boundary set: a second one on the same thread is busy at once (no waiting for itself);
    // on another thread it waits until the first is dropped, then reads.
    set_memory_budget(boundary_estimate + boundary_estimate / 2);
    let held = TaskData::open_all(&shapes[0].1).unwrap();
    assert_eq!(memory_reserved(), boundary_estimate);
    assert!(matches!(
        TaskData::open_all(&shapes[0].1),
        Err(Error::MemoryBusy { .. })
    ));
    let (started_tx, started_rx) = mpsc::channel();
    let path = shapes[0].1.clone();
    let other = std::thread::spawn(move || {
        started_tx.send(()).unwrap();
        TaskData::open_all(&path).map(|sets| sets.len())
    });
    started_rx.recv().unwrap();
    drop(held);
    assert_eq!(other.join().unwrap().unwrap(), 1);
    assert_eq!(memory_reserved(), 0);
}
