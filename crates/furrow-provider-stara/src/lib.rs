//! Stara Telemetria adapter for furrow.
//!
//! Stara's token form [R] (`POST /token`, odd casing `X_access_token` / `refresh_Token`) refreshes the
//! grower's tokens with `refresh_Token` + `apiKey` [A]. Data is assumed [A] (providers.md section 8):
//! `GET /talhoes` (fields with a GeoJSON `geometria`), `GET /operacoes?desde=` and
//! `GET /operacoes/{id}/arquivo`, paged `{items, next}` (providers.md 14.2). Stara has fields only (no growers or farms)
//! and no organizations.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::StaraConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Stara Telemetria adapter for one credential.
#[derive(Debug, Clone)]
pub struct StaraProvider(RestProvider);

impl StaraProvider {
    /// Builds the adapter from a stored credential (`apiKey`, `accessToken`, `accessTokenClient`, `refreshToken`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = StaraConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: StaraConfig) -> Result<Self> {
        Ok(StaraProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(StaraProvider);
