//! Raven Slingshot adapter for furrow.
//!
//! Built to the documented API (providers.md 7.1): no tokens; every request carries `X-SS-APIKey`,
//! `X-SS-AccessKey`, `X-SS-TimeStamp` and an HMAC-SHA1 `X-SS-Signature` over method, host, path,
//! timestamp and both keys (valid 120 s), with the shared secret base64-decoded first (a [`SlingshotConfig`]
//! switch). At most 30 requests a minute are sent. `GET /JobData` pages with `page`/`pageSize` (JSON on
//! request). Each job is fetched as its shapefile export, `GET /JobData/{id}?format=shp`, the one form
//! furrow converts (the API also offers `bin`, the display's original zip, and `fmis`, Raven's XML + TAB:
//! [`SlingshotConfig::download_format`]); the conversion may answer `MORE_TIME_NEEDED` with a wait, which is
//! honoured, or `NO_COVERAGE` (a job with nothing to export: `NotFound`). Slingshot has machine files only:
//! one implicit organization, fields unsupported.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::client::signature;
pub use crate::config::SlingshotConfig;

use furrow_provider::{ProviderContext, Result};

/// The Raven Slingshot adapter for one credential.
#[derive(Debug, Clone)]
pub struct RavenSlingshotProvider(client::Client);

impl RavenSlingshotProvider {
    /// Builds the adapter from a stored credential (`apiKey`, `accessKey`, `sharedSecret`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = SlingshotConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit settings.
    pub fn with_config(ctx: ProviderContext, config: SlingshotConfig) -> Result<Self> {
        Ok(RavenSlingshotProvider(client::Client::new(ctx, config)?))
    }
}

furrow_provider::delegate_provider!(RavenSlingshotProvider);
