//! CNH Industrial adapter for furrow.
//!
//! One crate for both CNH generations (providers.md section 4): [`CnhiProvider::new`] for the legacy AFS
//! Connect credential (`cnhi`) and [`CnhiProvider::field_ops`] for FieldOps (`cnhi-field-ops`). Both use
//! Auth0 at `identity.cnhind.com` (client credentials in the form body, an API-specific `audience`) [C] and
//! send `Ocp-Apim-Subscription-Key` on every data call [C/R]. FieldOps lists companies, fields and
//! per-field boundaries [R]; file paths and page parameters (`?page=&pageSize=` → `{items, totalCount}`)
//! are assumed [A]; the legacy API pages JSON:API style (`links.next`) [A].

#![warn(missing_docs)]

mod client;
mod config;
mod convert;
mod error;

#[cfg(test)]
mod tests;

pub use crate::config::CnhiConfig;

use furrow_provider::{ProviderContext, RestProvider, Result};

/// The CNH Industrial adapter for one credential.
#[derive(Debug, Clone)]
pub struct CnhiProvider(RestProvider);

impl CnhiProvider {
    /// Builds the adapter from a stored credential (`clientId`, `clientSecret`, `subscriptionKey`, `refreshToken`, `clientEnvironment`).
    pub fn new(ctx: ProviderContext) -> Result<Self> {
        let config = CnhiConfig::from_context(&ctx);
        Self::with_config(ctx, config)
    }

    /// Builds the adapter with explicit endpoints.
    pub fn with_config(ctx: ProviderContext, config: CnhiConfig) -> Result<Self> {
        Ok(CnhiProvider(client::build(ctx, &config)?))
    }

    /// Builds the FieldOps adapter from a `cnhi-field-ops` credential.
    pub fn field_ops(ctx: ProviderContext) -> Result<Self> {
        let config = CnhiConfig::for_kind(furrow_credentials::Provider::CnhiFieldOps, &ctx);
        Self::with_config(ctx, config)
    }
}

furrow_provider::delegate_provider!(CnhiProvider);
