//! The team's whole ISOXML corpus (`../shared/isoxml-corpus`, see its MANIFEST.md), behind the `corpus`
//! feature: `cargo test -p furrow-machine-data --features corpus`. Fails, never skips, when the folder is
//! missing. The files that are also in `samples/isoxml` are tested from there, in `samples.rs`.

use std::path::{Path, PathBuf};

use crate::sweep::{
    Converted, Counters, compare_machine_counters, compare_streaming_summaries, convert_every_set,
};

/// `isoxml-corpus` in `FURROW_SHARED_DIR` when set, else in `shared/` beside the repository.
fn corpus_root() -> PathBuf {
    let dir = std::env::var_os("FURROW_SHARED_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        )
        .join("isoxml-corpus");
    assert!(
        dir.is_dir(),
        "ISOXML corpus not found at {}: clone furrow next to `shared/`, or set FURROW_SHARED_DIR",
        dir.display()
    );
    dir
}

#[test]
fn every_corpus_taskdata_with_time_logs_converts() {
    // 14 TASKDATA sets of the corpus hold usable time logs (MANIFEST.md); 60 sets in all. Every record of
    // their logs (253,601, furrow-isoxml's count) is read; the points written are what the default cleanup
    // keeps.
    assert_eq!(
        convert_every_set(&corpus_root()),
        Converted {
            sets: 60,
            converted: 14,
            files: 79,
            raw: 253_601,
            points: 148_270,
            emptied: 0,
        }
    );
}

#[test]
fn streaming_summary_equals_a_rebuild_from_the_written_points() {
    assert_eq!(compare_streaming_summaries(&corpus_root()), 79);
}

#[test]
fn computed_totals_agree_with_the_machine_counters_or_say_why() {
    // 79 files; the CCI sets (ValidTimeLogs and its variants), KRONE's totals tests and the Kverneland
    // set carry counters. Every area agrees; the CCI harvests' masses are short by the crop flow of the
    // points whose yield per area is 0, which Leaf's cleanup rule (wetMass > 0) drops and the warning names.
    assert_eq!(
        compare_machine_counters(&corpus_root()),
        Counters {
            files: 79,
            with_counters: 76,
            compared: 150,
            agree: 92,
            explained: 58,
        }
    );
}
