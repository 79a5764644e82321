//! Integration tests of furrow-machine-data.

mod cases;
mod corpus;
mod synth;
mod views;
