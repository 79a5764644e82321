//! Climate FieldView (Climate Platform API v4) adapter for furrow.
//!
//! Built to the documented API (providers.md section 3): every refresh rotates the refresh token (the old
//! one lives one more hour), so the new one is persisted before use; every data call sends `X-Api-Key`;
//! lists page with `X-Limit` / `X-Next-Token` (206 while more, 200 last, 304 empty); boundaries come by id
//! in batches of 10; activity contents are fetched in mandatory `Range` chunks (1 MiB, at most 5 MiB).
//! Climate has no organizations: the adapter answers one implicit organization. Activity contents are
//! Precision Planting 20|20 files (`.dat`, `.2020`) in zips [R], which furrow keeps as unsupported: the API
//! offers no open format (`docs/PROVIDERS.md`, "Machine-data formats").

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::ClimateConfig;

use furrow_provider::{ProviderContext, Result};

/// The Climate FieldView adapter for one credential.
#[derive(Debug, Clone)]
pub struct ClimateFieldViewProvider(client::Client);

impl ClimateFieldViewProvider {
    /// Builds the adapter from a stored credential (`clientId`, `clientSecret`, `apiKey`, `refreshToken`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = ClimateConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints and chunk size.
    pub fn with_config(ctx: ProviderContext, config: ClimateConfig) -> Result<Self> {
        Ok(ClimateFieldViewProvider(client::Client::new(ctx, config)?))
    }
}

furrow_provider::delegate_provider!(ClimateFieldViewProvider);
