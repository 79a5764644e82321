//! Sentera FieldAgent adapter for furrow.
//!
//! Built to the documented API (providers.md section 9): the legacy session login Leaf uses
//! (`POST /v1/sessions` → `auth_token`, valid three months, no refresh: log in again) [C], then GraphQL at
//! `POST /graphql` with `Authorization: Bearer`, paged with `pagination: {page, page_size}` (1-based,
//! `total_count`) [C]; GraphQL errors come as HTTP 200 with `errors[]` [R]. Sentera offers organizations,
//! fields with boundaries and imagery and analytics layers ([`furrow_provider::Provider::imagery_layers`],
//! through an assumed `imagery` query [A]); machine files are unsupported.

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::SenteraConfig;

use furrow_provider::{ProviderContext, Result};

/// The Sentera adapter for one credential.
#[derive(Debug, Clone)]
pub struct SenteraProvider(client::Client);

impl SenteraProvider {
    /// Builds the adapter from a stored credential (`username`, `password`, `organizationName`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = SenteraConfig::from_context(&ctx);
        Ok(SenteraProvider(client::Client::new(ctx, config)?))
    }
}

furrow_provider::delegate_provider!(SenteraProvider);
