//! One module or spec per provider, and the profile of each simulator.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use furrow_credentials::Provider as ProviderKind;

use crate::common;
use crate::state::{Rotation, SimState};

pub(crate) mod authorize;
pub(crate) mod climate;
pub(crate) mod generic;
pub(crate) mod john_deere;
pub(crate) mod logins;
pub(crate) mod slingshot;

use generic::{Auth, Boundaries, KEYS, Keys, Paging, Spec};

/// The organization whose data providers without organizations serve.
pub const SINGLE_ORG: &str = "4201";

/// What a simulator serves and how its tokens behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// What a used refresh token becomes.
    pub rotation: Rotation,
    /// Default access-token (or session) lifetime, seconds.
    pub token_lifetime: u64,
    /// Default page size.
    pub page_size: usize,
    /// Lists organizations (otherwise serves [`SINGLE_ORG`]'s data).
    pub organizations: bool,
    /// Serves fields with boundaries.
    pub fields: bool,
    /// Serves machine files.
    pub machine_files: bool,
    /// Serves irrigation equipment and as-applied irrigation.
    pub irrigation: bool,
    /// Serves imagery layers.
    pub imagery: bool,
    /// The provider's own request limit.
    pub rate_limit: Option<(u32, Duration)>,
}

/// The profile of `kind`'s simulator.
pub fn profile(kind: ProviderKind) -> Profile {
    let p = |rotation, token_lifetime, organizations, fields, machine_files| Profile {
        rotation,
        token_lifetime,
        page_size: 100,
        organizations,
        fields,
        machine_files,
        irrigation: false,
        imagery: false,
        rate_limit: None,
    };
    match kind {
        ProviderKind::JohnDeere => p(Rotation::Rotate(None), 43_200, true, true, true),
        ProviderKind::Claas => p(Rotation::Rotate(None), 3600, true, false, true),
        ProviderKind::ClimateFieldView => {
            p(Rotation::Rotate(Some(3600)), 14_400, false, true, true)
        }
        ProviderKind::Cnhi => p(Rotation::Never, 21_600, true, true, true),
        // Auth0 with rotation on: single-use refresh tokens, reuse revokes the family.
        ProviderKind::CnhiFieldOps => p(Rotation::SingleUse, 21_600, true, true, true),
        ProviderKind::Trimble => p(Rotation::SingleUse, 3600, true, true, false),
        ProviderKind::AgLeader => p(Rotation::Never, 3600, false, false, true),
        ProviderKind::Raven => p(Rotation::Never, 3600, false, true, false),
        ProviderKind::RavenSlingshot => Profile {
            rate_limit: Some((30, Duration::from_secs(60))),
            ..p(Rotation::Never, 0, false, false, true)
        },
        ProviderKind::Stara => p(Rotation::Rotate(None), 3600, false, true, true),
        ProviderKind::Sentera => Profile {
            imagery: true,
            ..p(Rotation::Never, 7_776_000, true, true, false)
        },
        ProviderKind::AgVance => p(Rotation::Never, 3600, false, true, false),
        ProviderKind::Panorama => p(Rotation::Never, 3600, false, true, true),
        ProviderKind::Lindsay => Profile {
            irrigation: true,
            ..p(Rotation::Never, 3600, false, false, false)
        },
        ProviderKind::Valley => Profile {
            irrigation: true,
            ..p(Rotation::Never, 86_400, false, false, false)
        },
        _ => p(Rotation::Never, 86_400, false, false, false),
    }
}

const CNH_FIELDOPS: Spec = Spec {
    auth: Auth::BearerAndKey("ocp-apim-subscription-key"),
    orgs: Some("/v1/companies"),
    fields: Some("/v1/companies/{org}/fields"),
    boundaries: Boundaries::PerField("/v1/companies/{org}/fields/{field}/boundaries"),
    files: Some("/v1/companies/{org}/files"),
    file: Some("/v1/companies/{org}/files/{id}/content"),
    paging: Paging::PageNumber,
    keys: KEYS,
    since_param: "modifiedSince",
};

fn spec(kind: ProviderKind) -> Option<Spec> {
    let none = Spec {
        auth: Auth::Bearer,
        orgs: None,
        fields: None,
        boundaries: Boundaries::Inline("boundary"),
        files: None,
        file: None,
        paging: Paging::ItemsNext,
        keys: KEYS,
        since_param: "since",
    };
    Some(match kind {
        ProviderKind::Claas => Spec {
            orgs: Some("/organizations"),
            files: Some("/organizations/{org}/outbox"),
            file: Some("/organizations/{org}/outbox/{id}"),
            ..none
        },
        ProviderKind::CnhiFieldOps => CNH_FIELDOPS,
        ProviderKind::Cnhi => Spec {
            paging: Paging::JsonApi,
            ..CNH_FIELDOPS
        },
        ProviderKind::Trimble => Spec {
            orgs: Some("/config/organizations"),
            fields: Some("/resources/{org}/fields/"),
            boundaries: Boundaries::List("/resources/{org}/boundaries"),
            paging: Paging::Bookmark,
            ..none
        },
        ProviderKind::AgLeader => Spec {
            files: Some("/api/v1/files"),
            file: Some("/api/v1/files/{id}/download"),
            paging: Paging::PageNumber,
            keys: Keys {
                file_name: "name",
                created: "createdDate",
                ..KEYS
            },
            since_param: "modifiedSince",
            ..none
        },
        ProviderKind::Raven => Spec {
            fields: Some("/api/v1/fields"),
            ..none
        },
        ProviderKind::Stara => Spec {
            fields: Some("/talhoes"),
            boundaries: Boundaries::Inline("geometria"),
            files: Some("/operacoes"),
            file: Some("/operacoes/{id}/arquivo"),
            // 14.2: Stara paging is unknown; [A] `{items, next}` like the other unknowns.
            paging: Paging::ItemsNext,
            keys: Keys {
                id: "id",
                name: "nome",
                file_name: "arquivo",
                created: "inicio",
                size: "tamanho",
            },
            since_param: "desde",
            ..none
        },
        ProviderKind::AgVance => Spec {
            auth: Auth::Session("sessionid", Some("apikey")),
            fields: Some("/api/Fields"),
            ..none
        },
        ProviderKind::Panorama => Spec {
            fields: Some("/v1/fields"),
            files: Some("/v1/files"),
            file: Some("/v1/files/{id}/download"),
            ..none
        },
        _ => return None,
    })
}

/// The complete router of `kind`'s simulator, with the fault middleware.
pub(crate) fn router(kind: ProviderKind, state: Arc<SimState>) -> Router {
    let mut r: Router<Arc<SimState>> = match kind {
        ProviderKind::JohnDeere => john_deere::router(),
        ProviderKind::ClimateFieldView => climate::router(),
        ProviderKind::RavenSlingshot => slingshot::router(),
        ProviderKind::Sentera => logins::sentera_router(),
        ProviderKind::Valley => logins::valley_router(),
        ProviderKind::Lindsay => Router::new()
            .route("/oauth/token", post(common::oauth_token))
            .merge(logins::irrigation_router("/v2/pivots")),
        _ => Router::new(),
    };
    match kind {
        ProviderKind::Claas | ProviderKind::Trimble => {
            r = r.route("/oauth/token", post(common::oauth_token))
        }
        ProviderKind::Cnhi | ProviderKind::CnhiFieldOps => {
            r = r.route("/oauth/token", post(common::oauth_token))
        }
        ProviderKind::AgLeader => r = r.route("/api/token", post(common::oauth_token)),
        ProviderKind::Raven => r = r.route("/connect/token", post(common::oauth_token)),
        ProviderKind::Stara => r = r.merge(logins::stara_router()),
        ProviderKind::AgVance => r = r.merge(logins::agvance_router()),
        ProviderKind::Panorama => r = r.merge(logins::cognito_router()),
        _ => {}
    }
    if let Some(spec) = spec(kind) {
        r = r.merge(generic::routes(spec));
    }
    r = r.merge(authorize::routes(kind));
    r.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        common::faults,
    ))
    .with_state(state)
}
