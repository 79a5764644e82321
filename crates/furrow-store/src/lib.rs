//! furrow's persistence layer.
//!
//! One [`Store`] over SQLite (a file in the data directory, the zero-setup default) or PostgreSQL (by URL).
//! Every query takes the API owner's id and is scoped by it: one owner can never read another's rows.
//! Provider secrets are sealed with AES-256-GCM ([`SecretKey`]) before they reach the database.
//!
//! ```no_run
//! # async fn demo() -> furrow_store::Result<()> {
//! use furrow_store::{SecretKey, Store, StoreOptions};
//! let dir = std::path::PathBuf::from("./furrow-data");
//! let key = SecretKey::load_or_create(&dir)?;
//! let store = Store::open(StoreOptions { data_dir: dir, database_url: None, key }).await?;
//! let owner = store.create_owner("me@example.com", "s3cret-password").await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod blobs;
mod configs;
mod credentials;
mod crypto;
mod db;
mod error;
mod events;
mod fields;
mod files;
mod jobs;
mod metrics;
mod onboarding;
mod operations;
mod organizations;
mod originals;
mod owners;
pub mod queue;
#[cfg(feature = "testing")]
pub mod testing;
mod users;
mod webhooks;

pub use blobs::{BlobError, Blobs, LocalCopy, OrphanSweep, Scratch, Sweep};
pub use credentials::{CredentialCall, StoredCredential, TokenUpdate};
pub use crypto::SecretKey;
pub use db::{Backend, ServeLock, Store, StoreOptions};
pub use error::{Error, Result};
pub use events::EVENT_RETENTION_DAYS;
pub use fields::{
    Boundary, BoundaryGeometry, BoundaryStatus, Change, Farm, FarmFilter, Field, FieldFilter,
    FieldPatch, Grower, NewField, ProviderFieldInput, ProviderFieldUpsert, ProviderGroupInput,
    multipolygon_geojson,
};
pub use files::{FILE_SORT_COLUMNS, FileFilter, FileStatus, FileUpdate, NewFile, StoredFile};
pub use jobs::{ABANDONED, Job, JobCounts, NewJob};
pub use metrics::MetricsSnapshot;
pub use onboarding::{
    ApiKey, AppKey, MagicLink, NewAppKey, NewMagicLink, OAuthSession, random_token, token_hash,
};
pub use operations::{
    Batch, FileAllocation, OPERATION_SORT_COLUMNS, OperationField, OperationFilter,
    OperationMembership, OperationOutputs, StoredOperation,
};
pub use organizations::ProviderOrganizationRow;
pub use originals::{NewOriginal, OriginalStatus, RegisteredUpload, StoredOriginal};
pub use owners::LoginThrottle;
pub use webhooks::{FailedCall, Webhook};
