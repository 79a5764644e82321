//! The provider registry furrow's binaries use: every adapter crate of the workspace, listed explicitly (no
//! global registration), so the server and the `furrow` command build the same adapters.
//!
//! ```
//! let registry = furrow_registry::registry();
//! assert!(registry.supports(furrow_provider::ProviderKind::Claas));
//! ```

#![warn(missing_docs)]

use std::sync::Arc;

use furrow_provider::{Provider, ProviderKind};
use furrow_sync::Registry;

fn arc<P: Provider + 'static>(
    p: furrow_provider::Result<P>,
) -> furrow_provider::Result<Arc<dyn Provider>> {
    p.map(|p| Arc::new(p) as Arc<dyn Provider>)
}

/// Every provider adapter, one a catalogue entry, at the providers' own hosts (the binaries point them elsewhere
/// with [`Registry::with_base_url`]).
pub fn registry() -> Registry {
    Registry::new()
        .with(ProviderKind::JohnDeere, |c| {
            arc(furrow_provider_john_deere::JohnDeereProvider::new(c))
        })
        .with(ProviderKind::Claas, |c| {
            arc(furrow_provider_claas::ClaasProvider::new(c))
        })
        .with(ProviderKind::ClimateFieldView, |c| {
            arc(furrow_provider_climate_field_view::ClimateFieldViewProvider::new(c))
        })
        .with(ProviderKind::Cnhi, |c| {
            arc(furrow_provider_cnhi::CnhiProvider::new(c))
        })
        .with(ProviderKind::CnhiFieldOps, |c| {
            arc(furrow_provider_cnhi::CnhiProvider::field_ops(c))
        })
        .with(ProviderKind::Trimble, |c| {
            arc(furrow_provider_trimble::TrimbleProvider::new(c))
        })
        .with(ProviderKind::AgLeader, |c| {
            arc(furrow_provider_ag_leader::AgLeaderProvider::new(c))
        })
        .with(ProviderKind::Raven, |c| {
            arc(furrow_provider_raven::RavenProvider::new(c))
        })
        .with(ProviderKind::RavenSlingshot, |c| {
            arc(furrow_provider_raven_slingshot::RavenSlingshotProvider::new(c))
        })
        .with(ProviderKind::Stara, |c| {
            arc(furrow_provider_stara::StaraProvider::new(c))
        })
        .with(ProviderKind::Sentera, |c| {
            arc(furrow_provider_sentera::SenteraProvider::new(c))
        })
        .with(ProviderKind::AgVance, |c| {
            arc(furrow_provider_agvance::AgVanceProvider::new(c))
        })
        .with(ProviderKind::Panorama, |c| {
            arc(furrow_provider_panorama::PanoramaProvider::new(c))
        })
        .with(ProviderKind::Lindsay, |c| {
            arc(furrow_provider_lindsay::LindsayProvider::new(c))
        })
        .with(ProviderKind::Valley, |c| {
            arc(furrow_provider_valley::ValleyProvider::new(c))
        })
}

#[cfg(test)]
mod tests;
