//! Valley (Valmont) adapter for furrow.
//!
//! Valley 365 / BaseStation is irrigation data without field boundaries [R]: the capabilities say so, and
//! fields and machine files answer `Unsupported` without a request. Everything about the login is
//! assumed [A] (providers.md section 13): `POST /api/login` with `{apid, username, password}` where the
//! password is `base64(AES-128-CBC-PKCS7(key, iv, password))` (key and IV are the credential's base64
//! `key` and `initializationVector`) → `{token, expiresIn}`.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::ValleyConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The Valley (Valmont) adapter for one credential.
#[derive(Debug, Clone)]
pub struct ValleyProvider(RestProvider);

impl ValleyProvider {
    /// Builds the adapter from a stored credential (`apid`, `key`, `initializationVector`, `username`, `password`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = ValleyConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: ValleyConfig) -> Result<Self> {
        Ok(ValleyProvider(client::build(ctx, &config)?))
    }
}

furrow_provider::delegate_provider!(ValleyProvider);
