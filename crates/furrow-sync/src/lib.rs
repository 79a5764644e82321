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

pub mod blobs;
mod error;
mod events;
mod files;
pub mod leaf_json;
mod registry;
mod sinks;
mod validate;
mod webhook;
mod worker;

pub use error::{Error, Result};
pub use events::{EVENT_KEYS, Event, confirm_registration, fire, is_event_key};
pub use files::{
    FILE_PROCESS_JOB, FILES_SYNC_JOB, ORIGINAL_BLOB, STANDARD_GEOJSON_BLOB, STANDARD_PARQUET_BLOB,
    enqueue_files_sync,
};
pub use registry::{AdapterFactory, Registry};
pub use sinks::{EventWriter, StoreEventSink, StoreSecretSink};
pub use validate::{VALIDATE_JOB, enqueue_validation};
pub use webhook::{DELIVERY_JOB, Delivery, signature, verify_signature};
pub use worker::{JOB_KINDS, JobOutcome, Worker, WorkerConfig, WorkerContext};
