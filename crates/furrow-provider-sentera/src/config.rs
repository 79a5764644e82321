//! Host [C] (providers.md 9).

use furrow_provider::ProviderContext;

/// Where Sentera is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenteraConfig {
    /// API base.
    pub api_base: String,
    /// Items per GraphQL page (≤ 100).
    pub page_size: u32,
}

impl SenteraConfig {
    /// The production host, or the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        SenteraConfig {
            api_base: ctx
                .base_url
                .clone()
                .unwrap_or_else(|| "https://api.sentera.com".to_owned()),
            page_size: 100,
        }
    }
}
