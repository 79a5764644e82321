//! The provider registry: how to build an adapter for a stored credential. Binaries build it explicitly (no
//! global registration), listing the adapters they link.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use furrow_provider::{HttpConfig, Provider, ProviderContext, ProviderKind};

/// Builds an adapter from a context.
pub type AdapterFactory =
    Arc<dyn Fn(ProviderContext) -> furrow_provider::Result<Arc<dyn Provider>> + Send + Sync>;

/// Adapters by provider, with optional base URLs (simulators, proxies) and HTTP settings.
#[derive(Clone, Default)]
pub struct Registry {
    factories: HashMap<ProviderKind, AdapterFactory>,
    base_urls: HashMap<ProviderKind, String>,
    token_urls: HashMap<ProviderKind, String>,
    http: Option<HttpConfig>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<_> = self.factories.keys().map(|k| k.leaf_name()).collect();
        kinds.sort_unstable();
        f.debug_struct("Registry")
            .field("providers", &kinds)
            .field("base_urls", &self.base_urls)
            .field("token_urls", &self.token_urls)
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the adapter of `kind`.
    pub fn with(
        mut self,
        kind: ProviderKind,
        factory: impl Fn(ProviderContext) -> furrow_provider::Result<Arc<dyn Provider>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.factories.insert(kind, Arc::new(factory));
        self
    }

    /// Serves `kind` from `base_url` (a simulator) instead of the provider's hosts.
    pub fn with_base_url(mut self, kind: ProviderKind, base_url: impl Into<String>) -> Self {
        self.base_urls.insert(kind, base_url.into());
        self
    }

    /// Sends `kind`'s OAuth token requests to `token_url` (a separate authorization server), whatever its base
    /// URL.
    pub fn with_token_url(mut self, kind: ProviderKind, token_url: impl Into<String>) -> Self {
        self.token_urls.insert(kind, token_url.into());
        self
    }

    /// Timeouts, retries and rate limits for every adapter.
    pub fn with_http(mut self, http: HttpConfig) -> Self {
        self.http = Some(http);
        self
    }

    /// Whether `kind` has an adapter.
    pub fn supports(&self, kind: ProviderKind) -> bool {
        self.factories.contains_key(&kind)
    }

    /// Builds `kind`'s adapter over `ctx` (applying the registry's base URL and HTTP settings).
    pub fn build(
        &self,
        kind: ProviderKind,
        mut ctx: ProviderContext,
    ) -> crate::Result<Arc<dyn Provider>> {
        let factory = self
            .factories
            .get(&kind)
            .ok_or_else(|| crate::Error::NoAdapter(kind.leaf_name().into()))?;
        if let Some(url) = self.base_urls.get(&kind) {
            ctx = ctx.with_base_url(url.clone());
        }
        if let Some(url) = self.token_urls.get(&kind) {
            ctx = ctx.with_token_url(url.clone());
        }
        if let Some(http) = &self.http {
            ctx = ctx.with_http(http.clone());
        }
        factory(ctx).map_err(|e| crate::Error::Adapter(e.to_string()))
    }
}
