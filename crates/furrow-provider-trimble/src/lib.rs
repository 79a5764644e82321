//! Trimble Agriculture adapter for furrow.
//!
//! Built to the Ag Data API v3 (providers.md section 5): Trimble Identity at `id.trimble.com` with Basic
//! client auth and **single-use** refresh tokens (each refresh returns a new one, persisted before use),
//! organizations, fields and boundaries in `{result, bookmark: {token, moreResults}}` envelopes [C]; the
//! bookmark goes back as `?bookmark=` [A]. Raw machine files are not served by the API [A], so machine
//! files are unsupported.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::TrimbleConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Trimble Agriculture adapter for one credential.
#[derive(Debug, Clone)]
pub struct TrimbleProvider(RestProvider);

impl TrimbleProvider {
    /// Builds the adapter from a stored credential (`clientId`, `clientSecret`, `refreshToken`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = TrimbleConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: TrimbleConfig) -> Result<Self> {
        Ok(TrimbleProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(TrimbleProvider);
