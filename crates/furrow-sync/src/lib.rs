//! furrow's background work: a durable job runner over the store, credential validation against the
//! providers, and signed webhook delivery with Leaf's retry schedule.
//!
//! ```no_run
//! # async fn demo(store: furrow_store::Store) {
//! use furrow_sync::{Registry, Worker, WorkerConfig};
//! let registry = Registry::new(); // binaries register their adapters here
//! let (_stop, stopped) = tokio::sync::watch::channel(false);
//! Worker::new(store, registry, WorkerConfig::default()).run(stopped).await;
//! # }
//! ```
#![warn(missing_docs)]

mod error;
mod fields;
mod files;
mod images;
mod operations;
mod registry;
mod sinks;
mod validate;
mod webhook;
mod worker;

pub use error::{Error, Result};
pub use files::STANDARD_PARQUET_BLOB;
pub use registry::{AdapterFactory, Registry};
pub use sinks::{EventWriter, StoreEventSink, StoreSecretSink};
pub use webhook::{signature, verify_signature};
pub use worker::{JobOutcome, Worker, WorkerConfig, WorkerContext};
