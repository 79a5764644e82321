//! Integration tests of furrow-isoxml.

mod corpus;
mod oracle;
mod props;
