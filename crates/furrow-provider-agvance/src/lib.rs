//! AgVance (SSI) adapter for furrow.
//!
//! AgVance syncs growers, farms and fields only (no machine files) [R]. Hosts are documented
//! (`api.agvance.net`, `apidev.agvance.net` for STAGE) [C]; the login route and header names are assumed
//! [A]: `POST /api/Session` with header `ApiKey` → `{sessionId}`, then headers `ApiKey` and `SessionID` on
//! every call, and `GET /api/Fields` → `{items, next}` with GeoJSON boundaries (AgVance stores them as
//! `PolygonWktList`; the simulator serves GeoJSON) [A].

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::AgVanceConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The AgVance (SSI) adapter for one credential.
#[derive(Debug, Clone)]
pub struct AgVanceProvider(RestProvider);

impl AgVanceProvider {
    /// Builds the adapter from a stored credential (`apiKey`, `username`, `password`, `databaseId`, `clientEnvironment`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = AgVanceConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: AgVanceConfig) -> Result<Self> {
        Ok(AgVanceProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(AgVanceProvider);
