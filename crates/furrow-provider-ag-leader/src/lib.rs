//! Ag Leader AgFiniti adapter for furrow.
//!
//! AgFiniti's public and private keys are the OAuth client id and secret; the token endpoint is
//! `https://www.agfiniti.com/api/token` with Basic client auth [R]. Data endpoints are not public: the file
//! list `GET /api/v1/files?modifiedSince=&page=&pageSize=` → `{items, totalCount}` and
//! `GET /api/v1/files/{id}/download` are assumed [A] (providers.md section 6). No organizations and no
//! field API: one implicit organization, fields unsupported. Files are fetched as stored: SMS shapefile exports
//! convert (furrow-shapefile's Ag Leader SMS profile); display data (`.agdata` + `.agsetup`, `.ilf`, `.yld`)
//! is kept as unsupported (`docs/PROVIDERS.md`, "Machine-data formats").

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::AgLeaderConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Ag Leader AgFiniti adapter for one credential.
#[derive(Debug, Clone)]
pub struct AgLeaderProvider(RestProvider);

impl AgLeaderProvider {
    /// Builds the adapter from a stored credential (`publicKey`, `privateKey`, `refreshToken`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = AgLeaderConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: AgLeaderConfig) -> Result<Self> {
        Ok(AgLeaderProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(AgLeaderProvider);
