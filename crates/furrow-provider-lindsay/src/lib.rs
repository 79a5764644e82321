//! Lindsay FieldNET adapter for furrow.
//!
//! Lindsay FieldNET is irrigation data (pivots, as-applied irrigation) [R]: the capabilities say so, and
//! fields and machine files answer `Unsupported` without a request. Authorization uses OAuth 2.0 with PKCE
//! [R] (see [`furrow_provider::authorization_url`] with `pkce = true`); hosts and paths are assumed [A]
//! (`https://api.myfieldnet.com/v2`, `/oauth/authorize`, `/oauth/token`).

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::LindsayConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Lindsay FieldNET adapter for one credential.
#[derive(Debug, Clone)]
pub struct LindsayProvider(RestProvider);

impl LindsayProvider {
    /// Builds the adapter from a stored credential (`clientId`, `clientSecret`, `refreshToken`, `clientEnvironment`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = LindsayConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: LindsayConfig) -> Result<Self> {
        Ok(LindsayProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(LindsayProvider);
