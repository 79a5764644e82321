//! Starting simulators: one provider or all of them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine;
use furrow_credentials::Provider as ProviderKind;

use crate::providers::{Profile, profile, router};
use crate::seed::{Seed, SeedField, SeedFile};
use crate::state::{AppSecrets, Faults, Grants, NewGrant, SimState, lock, random_token};

/// A running simulator of one provider on a local address.
#[derive(Debug)]
pub struct Simulator {
    state: Arc<SimState>,
    profile: Profile,
    addr: SocketAddr,
    base_url: String,
    primary: BTreeMap<String, String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn app_secrets() -> AppSecrets {
    let b64 = |n: usize| {
        let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    AppSecrets {
        client_id: random_token("client"),
        client_secret: random_token("cs"),
        api_key: random_token("key"),
        shared_secret: b64(16),
        iv: b64(16),
    }
}

/// The credential (Leaf field names) an integrator would store for `grant`.
fn credential_for(kind: ProviderKind, app: &AppSecrets, g: &NewGrant) -> BTreeMap<String, String> {
    let pairs: Vec<(&str, String)> = match kind {
        ProviderKind::JohnDeere | ProviderKind::Claas => vec![
            ("clientKey", app.client_id.clone()),
            ("clientSecret", app.client_secret.clone()),
            ("refreshToken", g.refresh_token.clone()),
            ("clientEnvironment", "STAGE".into()),
        ],
        ProviderKind::ClimateFieldView => vec![
            ("clientId", app.client_id.clone()),
            ("clientSecret", app.client_secret.clone()),
            ("apiKey", app.api_key.clone()),
            ("refreshToken", g.refresh_token.clone()),
        ],
        ProviderKind::Cnhi | ProviderKind::CnhiFieldOps => vec![
            ("clientId", app.client_id.clone()),
            ("clientSecret", app.client_secret.clone()),
            ("subscriptionKey", app.api_key.clone()),
            ("refreshToken", g.refresh_token.clone()),
            ("clientEnvironment", "STAGE".into()),
        ],
        ProviderKind::Trimble | ProviderKind::Raven => vec![
            ("clientId", app.client_id.clone()),
            ("clientSecret", app.client_secret.clone()),
            ("refreshToken", g.refresh_token.clone()),
        ],
        ProviderKind::Lindsay => vec![
            ("clientId", app.client_id.clone()),
            ("clientSecret", app.client_secret.clone()),
            ("refreshToken", g.refresh_token.clone()),
            ("clientEnvironment", "STAGE".into()),
        ],
        ProviderKind::AgLeader => vec![
            ("publicKey", app.client_id.clone()),
            ("privateKey", app.client_secret.clone()),
            ("refreshToken", g.refresh_token.clone()),
        ],
        ProviderKind::RavenSlingshot => vec![
            ("apiKey", app.api_key.clone()),
            ("accessKey", g.access_key.clone()),
            ("sharedSecret", app.shared_secret.clone()),
        ],
        ProviderKind::Stara => vec![
            ("apiKey", app.api_key.clone()),
            ("accessToken", random_token("stale")),
            ("accessTokenClient", g.access_key.clone()),
            ("refreshToken", g.refresh_token.clone()),
        ],
        ProviderKind::Sentera => vec![
            ("username", g.username.clone()),
            ("password", g.password.clone()),
            ("organizationName", "Prairie Farms".into()),
        ],
        ProviderKind::AgVance => vec![
            ("apiKey", app.api_key.clone()),
            ("username", g.username.clone()),
            ("password", g.password.clone()),
            ("databaseId", "db-1".into()),
            ("clientEnvironment", "STAGE".into()),
        ],
        ProviderKind::Panorama => vec![
            ("clientId", app.client_id.clone()),
            ("username", g.username.clone()),
            ("password", g.password.clone()),
            ("organizationCode", "ORG-4201".into()),
            ("refreshToken", g.refresh_token.clone()),
            ("clientEnvironment", "STAGE".into()),
        ],
        ProviderKind::Valley => vec![
            ("apid", app.client_id.clone()),
            ("key", app.shared_secret.clone()),
            ("initializationVector", app.iv.clone()),
            ("username", g.username.clone()),
            ("password", g.password.clone()),
        ],
        _ => Vec::new(),
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

impl Simulator {
    /// Starts the simulator of `kind` on `127.0.0.1:0`.
    pub async fn start(kind: ProviderKind) -> std::io::Result<Simulator> {
        Self::start_on(kind, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts the simulator of `kind` on `addr`.
    pub async fn start_on(kind: ProviderKind, addr: SocketAddr) -> std::io::Result<Simulator> {
        let profile = profile(kind);
        let state = Arc::new(SimState {
            kind,
            seed: Seed::for_provider(kind),
            faults: Faults::new(profile.page_size, profile.token_lifetime),
            grants: Grants::new(profile.rotation),
            app: app_secrets(),
            clock_offset: AtomicI64::new(0),
            requests: AtomicU64::new(0),
            presented: Default::default(),
            presigned: Default::default(),
            default_page_size: profile.page_size,
            default_token_lifetime: profile.token_lifetime,
            introspection: Default::default(),
            more_apps: Default::default(),
            redirect_uris: Default::default(),
            primary_login: Default::default(),
        });
        state.faults.rate_limit(profile.rate_limit);
        let app = router(kind, state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(%e, "simulator stopped");
            }
        });
        let grant = state.grants.add();
        let _ = state
            .primary_login
            .set((grant.username.clone(), grant.password.clone()));
        let primary = credential_for(kind, &state.app, &grant);
        Ok(Simulator {
            base_url: format!("http://{addr}"),
            state,
            profile,
            addr,
            primary,
            task,
        })
    }

    /// An access token for the seeded grower, without a token request (simulator tests).
    #[cfg(test)]
    pub(crate) fn access_token(&self) -> String {
        let rt = &self.primary["refreshToken"];
        let lifetime = self.state.lifetime();
        match self
            .state
            .grants
            .refresh(rt, self.state.now(), lifetime, &self.state.faults)
        {
            Ok((at, _)) => at,
            Err(e) => panic!("seeded grant refused: {e:?}"),
        }
    }

    /// The provider simulated.
    pub fn kind(&self) -> ProviderKind {
        self.state.kind
    }

    /// What this simulator serves (organizations or not, fields, machine files, rotation).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// `http://127.0.0.1:PORT`: the base URL to give the adapter (token and API paths hang below it).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The seeded credential (Leaf field names, as stored by furrow) of the first grower.
    pub fn credential(&self) -> BTreeMap<String, String> {
        self.primary.clone()
    }

    /// Seeds another grower and returns its credential.
    pub fn new_credential(&self) -> BTreeMap<String, String> {
        let g = self.state.grants.add();
        credential_for(self.state.kind, &self.state.app, &g)
    }

    /// The credential of a new grower of another integrator app (its client and API key accepted from now on)
    /// whose refresh token is `refresh_token`: secrets of any shape, for tests of their encodings.
    pub fn credential_for_app(
        &self,
        app: AppSecrets,
        refresh_token: &str,
    ) -> BTreeMap<String, String> {
        let g = self.state.grants.add_with(refresh_token.to_owned());
        let credential = credential_for(self.state.kind, &app, &g);
        lock(&self.state.more_apps).push(app);
        credential
    }

    /// An authorization code for a new grower, with an optional PKCE S256 challenge; exchanging it at the
    /// token endpoint yields that grower's refresh token.
    pub fn authorization_code(&self, pkce_challenge: Option<&str>) -> String {
        let g = self.state.grants.add();
        self.state
            .grants
            .code(g.index, pkce_challenge.map(str::to_owned))
    }

    /// The integrator app's secrets (client id and secret, API key, …): what an API owner stores as its app key.
    pub fn app(&self) -> &AppSecrets {
        &self.state.app
    }

    /// Registers `uri` as a redirect URI of the integrator apps: the authorization endpoint
    /// ([`Simulator::authorize_url`]) sends codes only to registered URIs, compared byte for byte.
    pub fn register_redirect_uri(&self, uri: &str) {
        let mut uris = lock(&self.state.redirect_uris);
        if !uris.iter().any(|u| u == uri) {
            uris.push(uri.to_owned());
        }
    }

    /// The authorization endpoint (browser login and consent form), when the provider has one.
    pub fn authorize_url(&self) -> Option<String> {
        crate::providers::authorize::authorize_path(self.state.kind)
            .map(|p| format!("{}{p}", self.base_url))
    }

    /// The first grower's login at the authorization form: (username, password).
    pub fn grower_login(&self) -> (String, String) {
        self.state.primary_login.get().cloned().unwrap_or_default()
    }

    /// The fault-injection knobs.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Resets every knob to this provider's defaults.
    pub fn reset_faults(&self) {
        self.state.faults.reset(
            self.state.default_page_size,
            self.state.default_token_lifetime,
        );
        self.state.faults.rate_limit(self.profile.rate_limit);
    }

    /// The seeded data.
    pub fn seed(&self) -> &Seed {
        &self.state.seed
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Whether any request so far carried `value` in a header (an access token: has it been used?).
    pub fn was_presented(&self, value: &str) -> bool {
        lock(&self.state.presented).contains(value)
    }

    /// Every secret the simulator knows: app secrets, passwords, access keys and every token it issued.
    pub fn issued_secrets(&self) -> Vec<String> {
        let a = &self.state.app;
        let mut v = vec![
            a.client_secret.clone(),
            a.api_key.clone(),
            a.shared_secret.clone(),
            a.iv.clone(),
        ];
        v.extend(self.state.grants.issued());
        v
    }

    /// Requests waiting at the door while [`Faults::hold`] is on.
    pub fn held(&self) -> usize {
        self.state.faults.held_now()
    }

    /// Refresh tokens presented more than once so far (for a rotating grant: a client that lost track of its
    /// token, or two clients racing).
    pub fn refresh_tokens_presented_twice(&self) -> usize {
        self.state.grants.presented_twice()
    }

    /// Grants revoked so far because a rotated refresh token came back ([`Faults::reuse_revokes_grant`]).
    pub fn grants_revoked_for_reuse(&self) -> u64 {
        self.state.grants.reuse_revocations()
    }

    /// Grants revoked so far (for any reason).
    pub fn revoked_grants(&self) -> usize {
        self.state.grants.revoked()
    }

    /// Accepts, on the data routes, bearer tokens that another authorization server issued: each is checked
    /// at that server's RFC 7662 introspection endpoint (client authentication `client_secret_basic`) and
    /// served as the first grower's. For tests whose token endpoint is a real OAuth server.
    pub fn accept_tokens_from(
        &self,
        introspection_url: &str,
        client_id: &str,
        client_secret: &str,
    ) {
        *lock(&self.state.introspection) = Some((
            introspection_url.to_owned(),
            client_id.to_owned(),
            client_secret.to_owned(),
        ));
    }

    /// Successful refreshes and logins so far.
    pub fn refresh_count(&self) -> u64 {
        self.state.grants.refreshes()
    }

    /// Whether `refresh_token` would be accepted now.
    pub fn is_refresh_token_valid(&self, refresh_token: &str) -> bool {
        self.state
            .grants
            .is_refresh_valid(refresh_token, self.state.now())
    }

    /// Every access token issued so far stops working (the next call gets the provider's 401).
    pub fn expire_access_tokens(&self) {
        self.state.grants.expire_access();
    }

    /// Revokes every grant: refresh tokens, logins and access keys are refused from now on.
    pub fn revoke_grants(&self) {
        self.state.grants.revoke_all();
    }

    /// Revokes only the grant behind `credential` (its refresh token, username or access key); `false` when
    /// none matched.
    pub fn revoke(&self, credential: &BTreeMap<String, String>) -> bool {
        let values: Vec<&str> = credential.values().map(String::as_str).collect();
        self.state.grants.revoke_matching(&values)
    }

    /// A cheap handle for checks from inside callbacks (e.g. a secret sink asserting a token was not used
    /// before it was persisted).
    pub fn probe(&self) -> Probe {
        Probe {
            state: self.state.clone(),
        }
    }

    /// Moves the simulated clock forward (token expiry, rotation overlap, signature windows).
    pub fn advance_clock(&self, by: Duration) {
        self.state
            .clock_offset
            .fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }

    /// The fields an adapter should list over all the organizations it can see.
    pub fn visible_fields(&self) -> Vec<SeedField> {
        let seed = &self.state.seed;
        seed.fields
            .iter()
            .filter(|f| self.visible_org(&f.organization_id))
            .cloned()
            .collect()
    }

    /// The ids of the machine files an adapter should list over all the organizations it can see: the files,
    /// and John Deere's field operations (listed as their shapefile exports).
    pub fn listed_file_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.visible_files().into_iter().map(|f| f.id).collect();
        if self.state.kind == ProviderKind::JohnDeere {
            let (org, _) = crate::providers::john_deere::FIELD_OPERATIONS_FIELD;
            if self.visible_org(org) {
                ids.extend(
                    crate::providers::john_deere::FIELD_OPERATIONS
                        .iter()
                        .map(|(id, _)| format!("fieldOperation:{id}")),
                );
            }
        }
        ids
    }

    /// Every file of the organizations the credential sees.
    pub fn visible_files(&self) -> Vec<SeedFile> {
        self.state
            .seed
            .files()
            .into_iter()
            .filter(|f| self.visible_org(&f.organization_id))
            .collect()
    }

    fn visible_org(&self, org: &str) -> bool {
        if self.profile.organizations {
            self.state.seed.is_connected(org)
        } else {
            org == crate::providers::SINGLE_ORG
        }
    }
}

/// A clonable view of a running simulator.
#[derive(Debug, Clone)]
pub struct Probe {
    state: Arc<SimState>,
}

impl Probe {
    /// See [`Simulator::was_presented`].
    pub fn was_presented(&self, value: &str) -> bool {
        lock(&self.state.presented).contains(value)
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }
}

/// Simulators of every provider, started together.
#[derive(Debug)]
pub struct SimulatorSet {
    /// One simulator per provider, in catalogue order.
    pub simulators: Vec<Simulator>,
}

impl SimulatorSet {
    /// The simulator of `kind`.
    pub fn get(&self, kind: ProviderKind) -> Option<&Simulator> {
        self.simulators.iter().find(|s| s.kind() == kind)
    }
}

/// Starts every provider's simulator on `127.0.0.1:0`.
pub async fn start_all() -> std::io::Result<SimulatorSet> {
    serve_all(SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// Starts every provider's simulator on `addr`'s IP: on consecutive ports from `addr`'s port (catalogue
/// order), or on free ports when it is 0. The simulators run until the set is dropped; a process keeps it
/// alive (e.g. until Ctrl-C) and prints each [`Simulator::base_url`] with its [`Simulator::credential`].
pub async fn serve_all(addr: SocketAddr) -> std::io::Result<SimulatorSet> {
    let mut simulators = Vec::new();
    for (i, kind) in ProviderKind::ALL.into_iter().enumerate() {
        let mut a = addr;
        if addr.port() != 0 {
            a.set_port(addr.port() + i as u16);
        }
        simulators.push(Simulator::start_on(kind, a).await?);
    }
    Ok(SimulatorSet { simulators })
}
