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
mod fields;
mod files;
pub mod leaf_json;
mod operations;
mod registry;
mod sinks;
mod sync;
mod validate;
mod webhook;
mod worker;

pub use error::{Error, Result};
pub use events::{EVENT_KEYS, Event, confirm_registration, fire, is_event_key};
pub use fields::{FIELDS_SYNC_JOB, enqueue_fields_sync, request_fields_sync};
pub use files::{
    FILE_PROCESS_JOB, FILES_SYNC_JOB, ORIGINAL_BLOB, STANDARD_GEOJSON_BLOB, STANDARD_PARQUET_BLOB,
    Upload, enqueue_files_sync, register_upload, request_files_sync,
};
pub use operations::{
    BUILD_JOB, GROUP_JOB, OP_FILTERED_GEOJSON, OP_FILTERED_PARQUET, OP_POLYGON_PARQUET,
    OP_STANDARD_GEOJSON, OP_STANDARD_PARQUET, OUTSIDE_GEOJSON_BLOB, POLYGON_GEOJSON,
    REALLOCATE_JOB, enqueue_reallocation,
};
pub use registry::{AdapterFactory, Registry};
pub use sinks::{EventWriter, StoreEventSink, StoreSecretSink};
pub use sync::enqueue_sync;
pub use validate::{VALIDATE_JOB, enqueue_validation};
pub use webhook::{DELIVERY_JOB, Delivery, signature, verify_signature};
pub use worker::{JOB_KINDS, JobOutcome, Worker, WorkerConfig, WorkerContext};
