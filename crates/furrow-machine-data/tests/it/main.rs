//! Integration tests of furrow-machine-data.

mod areas;
mod cases;
mod corpus;
mod synth;
mod views;
