//! Integration tests of furrow-machine-data.

mod corpus;
mod views;
