//! The provider registry of this binary: every adapter it links, listed explicitly.

use std::sync::Arc;

use furrow_credentials::Provider as Kind;
use furrow_provider::Provider;
use furrow_sync::Registry;

fn arc<P: Provider + 'static>(
    p: furrow_provider::Result<P>,
) -> furrow_provider::Result<Arc<dyn Provider>> {
    p.map(|p| Arc::new(p) as Arc<dyn Provider>)
}

/// Every provider adapter.
pub(crate) fn registry() -> Registry {
    Registry::new()
        .with(Kind::JohnDeere, |c| {
            arc(furrow_provider_john_deere::JohnDeereProvider::new(c))
        })
        .with(Kind::Claas, |c| {
            arc(furrow_provider_claas::ClaasProvider::new(c))
        })
        .with(Kind::ClimateFieldView, |c| {
            arc(furrow_provider_climate_field_view::ClimateFieldViewProvider::new(c))
        })
        .with(Kind::Cnhi, |c| {
            arc(furrow_provider_cnhi::CnhiProvider::new(c))
        })
        .with(Kind::CnhiFieldOps, |c| {
            arc(furrow_provider_cnhi::CnhiProvider::field_ops(c))
        })
        .with(Kind::Trimble, |c| {
            arc(furrow_provider_trimble::TrimbleProvider::new(c))
        })
        .with(Kind::AgLeader, |c| {
            arc(furrow_provider_ag_leader::AgLeaderProvider::new(c))
        })
        .with(Kind::Raven, |c| {
            arc(furrow_provider_raven::RavenProvider::new(c))
        })
        .with(Kind::RavenSlingshot, |c| {
            arc(furrow_provider_raven_slingshot::RavenSlingshotProvider::new(c))
        })
        .with(Kind::Stara, |c| {
            arc(furrow_provider_stara::StaraProvider::new(c))
        })
        .with(Kind::Sentera, |c| {
            arc(furrow_provider_sentera::SenteraProvider::new(c))
        })
        .with(Kind::AgVance, |c| {
            arc(furrow_provider_agvance::AgVanceProvider::new(c))
        })
        .with(Kind::Panorama, |c| {
            arc(furrow_provider_panorama::PanoramaProvider::new(c))
        })
        .with(Kind::Lindsay, |c| {
            arc(furrow_provider_lindsay::LindsayProvider::new(c))
        })
        .with(Kind::Valley, |c| {
            arc(furrow_provider_valley::ValleyProvider::new(c))
        })
}
