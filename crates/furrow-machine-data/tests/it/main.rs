//! Integration tests of furrow-machine-data: the repository's samples (`samples/isoxml`) by default; the
//! team's larger corpus with the `corpus` feature, which fails, never skips, when the corpus is missing.

mod areas;
mod cases;
#[cfg(feature = "corpus")]
mod corpus;
mod samples;
mod sweep;
mod synth;
mod views;
