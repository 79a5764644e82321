//! John Deere Operations Center adapter for furrow.
//!
//! Built to the documented API (providers.md section 1): Okta token endpoint with Basic client auth,
//! `Accept: application/vnd.deere.axiom.v3+json`, HAL lists followed through absolute `nextPage` links
//! (only on the API host, so the bearer token never leaks), organizations whose only link is
//! `connections` reported as not connected with the URI to send the grower to, boundaries with
//! `embed=multipolygons`, Accept-negotiated file downloads (`Range`-chunked from 50 MB), `x-deere-signature`
//! change tracking of file lists (kept in [`furrow_provider::FilePage::changes_cursor`]), and shapefile exports
//! of field operations ([`JohnDeereProvider::field_operation_shapefile`]).

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::JohnDeereConfig;

use furrow_provider::{ByteStream, ProviderContext, Result};

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

    /// The shapefile export of a field operation (`GET /fieldOps/{id}`), waiting while John Deere builds it
    /// (`202`, backing off from [`JohnDeereConfig::export_poll_base`]) and fetching the pre-signed result
    /// without the bearer token. A `406` (no shapefile possible, e.g. TILLAGE) is
    /// [`furrow_provider::Error::NotFound`]; still building after
    /// [`JohnDeereConfig::export_max_wait`] is [`furrow_provider::Error::Unavailable`].
    pub async fn field_operation_shapefile(&self, operation_id: &str) -> Result<ByteStream> {
        self.0.shapefile(operation_id).await
    }
}

furrow_provider::delegate_provider!(JohnDeereProvider);
