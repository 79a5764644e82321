//! The providers that can be onboarded by link, as data (leaf-onboarding.md §1.2, §1.3, §3.8 and §6): app-key
//! fields, whether the environment is in the path, the OAuth endpoints and client authentication, and how a
//! credential is built from an app key and the tokens.

use std::collections::BTreeMap;

use furrow_credentials::Provider;
use furrow_provider::ClientAuth;
use furrow_store::AppKey;

/// One app-key field: (name, secret).
pub(crate) type Field = (&'static str, bool);

/// How a provider is onboarded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    pub(crate) kind: Provider,
    /// `clientEnvironment` is a path segment of the item routes.
    pub(crate) env_in_path: bool,
    /// Required app-key fields.
    pub(crate) required: &'static [Field],
    /// Optional app-key fields.
    pub(crate) optional: &'static [Field],
    /// Connects through a browser consent flow (the hosted page offers it).
    pub(crate) oauth: bool,
}

impl Spec {
    /// The route segment (`JohnDeere`).
    pub(crate) fn segment(&self) -> &'static str {
        self.kind.leaf_name()
    }
}

const SPECS: &[Spec] = &[
    Spec {
        kind: Provider::AgLeader,
        env_in_path: false,
        required: &[("publicKey", false), ("privateKey", true)],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::ClimateFieldView,
        env_in_path: false,
        required: &[
            ("clientId", false),
            ("clientSecret", true),
            ("apiKey", true),
        ],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::Cnhi,
        env_in_path: true,
        required: &[
            ("clientId", false),
            ("clientSecret", true),
            ("subscriptionKey", true),
        ],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::JohnDeere,
        env_in_path: true,
        required: &[("clientKey", false), ("clientSecret", true)],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::Trimble,
        env_in_path: false,
        required: &[
            ("applicationName", false),
            ("clientId", false),
            ("clientSecret", true),
        ],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::RavenSlingshot,
        env_in_path: false,
        required: &[("apiKey", true), ("sharedSecret", true)],
        optional: &[],
        oauth: false,
    },
    Spec {
        kind: Provider::Stara,
        env_in_path: false,
        required: &[("user", false), ("pwd", true)],
        optional: &[("accessTokenClient", true)],
        oauth: false,
    },
    Spec {
        kind: Provider::CnhiFieldOps,
        env_in_path: true,
        required: &[
            ("clientId", false),
            ("clientSecret", true),
            ("subscriptionKey", true),
        ],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::Lindsay,
        env_in_path: true,
        required: &[("clientId", false), ("clientSecret", true)],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::Claas,
        env_in_path: true,
        required: &[("clientKey", false), ("clientSecret", true)],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::Raven,
        env_in_path: false,
        required: &[("clientId", false), ("clientSecret", true)],
        optional: &[],
        oauth: true,
    },
    Spec {
        kind: Provider::Panorama,
        env_in_path: true,
        required: &[("clientId", false), ("username", false), ("password", true)],
        optional: &[],
        oauth: false,
    },
];

/// The spec of a route segment (exact, case-sensitive).
pub(crate) fn by_segment(segment: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.segment() == segment)
}

/// Every provider with app-key routes, in the reference's order.
pub(crate) fn all() -> &'static [Spec] {
    SPECS
}

/// Where a provider's browser consent and token endpoints are, and how to talk to them.
#[derive(Debug, Clone)]
pub(crate) struct OAuthEndpoints {
    pub(crate) authorize_url: String,
    pub(crate) token_url: String,
    pub(crate) client_auth: ClientAuth,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) pkce: bool,
    /// Extra authorize parameters (`connection`, `audience`, `page`).
    pub(crate) authorize_extra: Vec<(&'static str, String)>,
    /// Extra token parameters.
    pub(crate) token_extra: Vec<(String, String)>,
}

/// The endpoints of `kind` for an app key; `base` serves every URL from another origin (a simulator).
pub(crate) fn endpoints(
    kind: Provider,
    key: &AppKey,
    base: Option<&str>,
) -> Option<OAuthEndpoints> {
    let prod = key.environment == "PRODUCTION";
    let pick = |real: &str| base.map(str::to_owned).unwrap_or_else(|| real.to_owned());
    let public = |k: &str| key.public.get(k).cloned().unwrap_or_default();
    let secret = |k: &str| key.secrets.get(k).cloned().unwrap_or_default();
    let scopes = |default: &[&str]| -> Vec<String> {
        if key.scopes.is_empty() {
            default.iter().map(|s| (*s).to_owned()).collect()
        } else {
            key.scopes.clone()
        }
    };
    let basic =
        |host: String, auth: &str, token: &str, id: String, secret: String, sc: Vec<String>| {
            OAuthEndpoints {
                authorize_url: format!("{host}{auth}"),
                token_url: format!("{host}{token}"),
                client_auth: ClientAuth::Basic,
                client_id: id,
                client_secret: secret,
                scopes: sc,
                pkce: false,
                authorize_extra: Vec::new(),
                token_extra: Vec::new(),
            }
        };
    Some(match kind {
        Provider::JohnDeere => basic(
            pick("https://signin.johndeere.com"),
            "/oauth2/aus78tnlaysMraFhC1t7/v1/authorize",
            "/oauth2/aus78tnlaysMraFhC1t7/v1/token",
            public("clientKey"),
            secret("clientSecret"),
            scopes(&[
                "openid",
                "profile",
                "offline_access",
                "ag1",
                "ag2",
                "ag3",
                "org1",
                "files",
            ]),
        ),
        Provider::Claas => basic(
            pick(if prod {
                "https://api.claas.com"
            } else {
                "https://api-stage.claas.com"
            }),
            "/oauth/authorize",
            "/oauth/token",
            public("clientKey"),
            secret("clientSecret"),
            scopes(&["openid", "offline_access"]),
        ),
        Provider::ClimateFieldView => {
            let mut e = basic(
                String::new(),
                "",
                "",
                public("clientId"),
                secret("clientSecret"),
                scopes(&[
                    "asHarvested:read",
                    "asPlanted:read",
                    "asApplied:read",
                    "fields:read",
                    "resourceOwners:read",
                    "farmOrganizations:read",
                ]),
            );
            e.authorize_url = format!(
                "{}/static/app-login/index.html",
                pick("https://climate.com")
            );
            e.token_url = format!("{}/api/oauth/token", pick("https://api.climate.com"));
            e.authorize_extra = vec![("page", "oidcauthn".to_owned())];
            e
        }
        Provider::Cnhi | Provider::CnhiFieldOps => {
            let host = pick(if prod {
                "https://identity.cnhind.com"
            } else {
                "https://stg.identity.cnhind.com"
            });
            let audience = if kind == Provider::CnhiFieldOps {
                "https://api-data.cnh.com/"
            } else {
                "https://ag.api.cnhind.com"
            };
            let mut e = basic(
                host,
                "/authorize",
                "/oauth/token",
                public("clientId"),
                secret("clientSecret"),
                vec!["offline_access".to_owned()],
            );
            e.client_auth = ClientAuth::RequestBody;
            e.authorize_extra = vec![
                (
                    "connection",
                    if prod {
                        "PROD-ADFS-CONN"
                    } else {
                        "STG-ADFS-CONN"
                    }
                    .to_owned(),
                ),
                ("audience", audience.to_owned()),
            ];
            e
        }
        Provider::Trimble => {
            let app = public("applicationName");
            basic(
                pick("https://id.trimble.com"),
                "/oauth/authorize",
                "/oauth/token",
                public("clientId"),
                secret("clientSecret"),
                vec!["openid".to_owned(), app],
            )
        }
        Provider::AgLeader => basic(
            pick("https://www.agfiniti.com"),
            "/Account/Authorize",
            "/api/token",
            public("publicKey"),
            secret("privateKey"),
            vec!["read".to_owned(), "readwrite".to_owned()],
        ),
        Provider::Raven => basic(
            pick("https://identity.agsync.com"),
            "/connect/authorize",
            "/connect/token",
            public("clientId"),
            secret("clientSecret"),
            vec!["openid".to_owned(), "offline_access".to_owned()],
        ),
        Provider::Lindsay => {
            let mut e = basic(
                pick(if prod {
                    "https://api.myfieldnet.com"
                } else {
                    "https://api-stage.myfieldnet.com"
                }),
                "/oauth/authorize",
                "/oauth/token",
                public("clientId"),
                secret("clientSecret"),
                Vec::new(),
            );
            e.pkce = true;
            e
        }
        _ => return None,
    })
}

/// The credential body (leaf-api.md §4.3 field names) for the grower's refresh token and this app key.
pub(crate) fn credential_body(
    kind: Provider,
    key: &AppKey,
    refresh_token: &str,
) -> serde_json::Value {
    let mut body: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in key.public.iter().chain(key.secrets.iter()) {
        if k != "applicationName" {
            body.insert(k.clone(), v.clone());
        }
    }
    body.insert("refreshToken".into(), refresh_token.to_owned());
    if kind.fields().iter().any(|f| f.name == "clientEnvironment") {
        body.insert("clientEnvironment".into(), key.environment.clone());
    }
    serde_json::json!(body)
}
