//! John Deere Operations Center adapter for furrow.
//!
//! Built to the documented API (providers.md section 1): Okta token endpoint with Basic client auth,
//! `Accept: application/vnd.deere.axiom.v3+json`, HAL lists followed through absolute `nextPage` links
//! (only on the API host, so the bearer token never leaks), organizations whose only link is
//! `connections` reported as not connected with the URI to send the grower to, boundaries with
//! `embed=multipolygons`, and Accept-negotiated file downloads (`Range`-chunked from 50 MB).

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::JohnDeereConfig;

use furrow_provider::{ProviderContext, Result};

/// The John Deere adapter for one credential.
#[derive(Debug, Clone)]
pub struct JohnDeereProvider(client::Client);

impl JohnDeereProvider {
    /// Builds the adapter from a stored credential (`clientKey`, `clientSecret`, `refreshToken`,
    /// `clientEnvironment`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = JohnDeereConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: JohnDeereConfig) -> Result<Self> {
        Ok(JohnDeereProvider(client::Client::new(ctx, config)?))
    }
}

furrow_provider::delegate_provider!(JohnDeereProvider);
