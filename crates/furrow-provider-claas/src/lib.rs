//! CLAAS connect adapter for furrow.
//!
//! Everything about CLAAS's API beyond "OAuth 2.0 with grower consent" and "ISOXML outbox files" is assumed
//! (providers.md section 2): token endpoint, paths and paging are the [A] defaults, kept in [`ClaasConfig`]
//! and `convert.rs` so they change in one place.
//!
//! ```no_run
//! # async fn demo(ctx: furrow_provider::ProviderContext) -> furrow_provider::Result<()> {
//! use furrow_provider::{Provider, ProviderExt};
//! let claas = furrow_provider_claas::ClaasProvider::new(ctx)?;
//! for org in claas.organizations().await? {
//!     for file in claas.all_machine_files(&org.id, None).await? {
//!         let _zip = claas.download_bytes(&file).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::ClaasConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The CLAAS adapter for one credential.
#[derive(Debug, Clone)]
pub struct ClaasProvider(RestProvider);

impl ClaasProvider {
    /// Builds the adapter from a stored credential (`clientKey`, `clientSecret`, `refreshToken`,
    /// `clientEnvironment`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = ClaasConfig::from_context(&ctx);
        Ok(ClaasProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(ClaasProvider);
