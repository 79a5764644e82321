//! Raven AgSync adapter for furrow.
//!
//! Raven's AgSync / Dispatch Pro API (providers.md 7.2): OpenID Connect with refresh tokens on a 15-day
//! sliding and 1-year absolute expiry [C]. The token path (`/connect/token`), the API host and the field
//! list `GET /api/v1/fields` → `{items, next}` with GeoJSON boundaries are assumed [A]. Machine files come
//! through Raven Slingshot (a separate credential), so they are unsupported here.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::RavenConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Raven AgSync adapter for one credential.
#[derive(Debug, Clone)]
pub struct RavenProvider(RestProvider);

impl RavenProvider {
    /// Builds the adapter from a stored credential (`clientId`, `clientSecret`, `refreshToken`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = RavenConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: RavenConfig) -> Result<Self> {
        Ok(RavenProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(RavenProvider);
