//! Precision Planting Panorama adapter for furrow.
//!
//! Panorama authenticates through AWS Cognito `InitiateAuth` [R]: `REFRESH_TOKEN_AUTH` with the stored
//! refresh token, falling back to `USER_PASSWORD_AUTH` with the partner login when Cognito refuses it
//! (a new refresh token from that login is persisted). Cognito refresh tokens do not rotate. The API host,
//! Cognito region and data paths are assumed [A] (providers.md section 11): `GET /v1/fields` and
//! `GET /v1/files` → `{items, next}`, `GET /v1/files/{id}/download`. The files are Precision Planting 20|20
//! zips (`.dat`, `.2020`) [R], which furrow keeps as unsupported (`docs/PROVIDERS.md`, "Machine-data
//! formats").

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::PanoramaConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Precision Planting Panorama adapter for one credential.
#[derive(Debug, Clone)]
pub struct PanoramaProvider(RestProvider);

impl PanoramaProvider {
    /// Builds the adapter from a stored credential (`clientId`, `username`, `password`, `organizationCode`, `refreshToken`, `clientEnvironment`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = PanoramaConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: PanoramaConfig) -> Result<Self> {
        Ok(PanoramaProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(PanoramaProvider);
