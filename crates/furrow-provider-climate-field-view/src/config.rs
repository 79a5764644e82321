//! Hosts and limits [C] (providers.md 3.1–3.5).

use furrow_provider::ProviderContext;

/// Where the Climate API is, and how much to ask for at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClimateConfig {
    /// API base (`https://platform.climate.com`).
    pub api_base: String,
    /// Token endpoint.
    pub token_url: String,
    /// Browser login page.
    pub auth_url: String,
    /// `X-Limit`, 1–100.
    pub page_limit: u32,
    /// Download chunk, 1–5 MiB on the real API.
    pub chunk_size: u64,
    /// Scopes Leaf's tutorial requires.
    pub scopes: Vec<String>,
}

impl ClimateConfig {
    /// The production hosts (Climate has no sandbox), or everything under the context's base URL.
    pub fn from_context(ctx: &ProviderContext) -> Self {
        let (api, token_host) = match &ctx.base_url {
            Some(b) => (b.clone(), b.clone()),
            None => (
                "https://platform.climate.com".to_owned(),
                "https://api.climate.com".to_owned(),
            ),
        };
        ClimateConfig {
            api_base: api,
            token_url: ctx.token_url_or(format!("{token_host}/api/oauth/token")),
            auth_url: "https://climate.com/static/app-login/".to_owned(),
            page_limit: 100,
            chunk_size: 1024 * 1024,
            scopes: [
                "asHarvested:read",
                "asPlanted:read",
                "asApplied:read",
                "fields:read",
                "resourceOwners:read",
                "farmOrganizations:read",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}
