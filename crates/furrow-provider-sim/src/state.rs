//! Simulator state: seeded data, grants and tokens, fault-injection knobs and the simulated clock.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use furrow_credentials::Provider as ProviderKind;
use rand::Rng;

use crate::seed::Seed;

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A random URL-safe token with a recognisable prefix.
pub(crate) fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::thread_rng().r#gen();
    format!(
        "{prefix}-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Fault-injection knobs (providers.md 14.7). Every knob can be changed while the simulator runs.
#[derive(Debug)]
pub struct Faults {
    fail_next: Mutex<(u32, u16)>,
    throttle_next: Mutex<(u32, u64)>,
    latency: Mutex<(u32, Duration)>,
    truncate_downloads: AtomicU32,
    missing_scope: AtomicBool,
    page_size: AtomicUsize,
    async_polls: AtomicU32,
    rate_limit: Mutex<Option<(u32, Duration, VecDeque<Instant>)>>,
    token_lifetime: AtomicU64,
    forbidden_orgs: Mutex<HashSet<String>>,
    no_shared_orgs: AtomicBool,
    expire_page_tokens: AtomicU32,
    reuse_revokes: AtomicBool,
    rotation: Mutex<Option<Rotation>>,
    token_rate_limit: Mutex<Option<(u32, Duration, VecDeque<Instant>)>>,
    token_errors: Mutex<(u32, u16, String)>,
    echo: AtomicU32,
    echo_data: AtomicU32,
    hold: tokio::sync::watch::Sender<bool>,
    held: AtomicUsize,
}

impl Faults {
    pub(crate) fn new(page_size: usize, token_lifetime: u64) -> Self {
        Faults {
            fail_next: Mutex::new((0, 503)),
            throttle_next: Mutex::new((0, 1)),
            latency: Mutex::new((0, Duration::ZERO)),
            truncate_downloads: AtomicU32::new(0),
            missing_scope: AtomicBool::new(false),
            page_size: AtomicUsize::new(page_size),
            async_polls: AtomicU32::new(0),
            rate_limit: Mutex::new(None),
            token_lifetime: AtomicU64::new(token_lifetime),
            forbidden_orgs: Mutex::new(HashSet::new()),
            no_shared_orgs: AtomicBool::new(false),
            expire_page_tokens: AtomicU32::new(0),
            reuse_revokes: AtomicBool::new(true),
            rotation: Mutex::new(None),
            token_rate_limit: Mutex::new(None),
            token_errors: Mutex::new((0, 400, String::new())),
            echo: AtomicU32::new(0),
            echo_data: AtomicU32::new(0),
            hold: tokio::sync::watch::channel(false).0,
            held: AtomicUsize::new(0),
        }
    }

    /// The next `n` requests answer `status` (500, 502, 503, 504).
    pub fn fail_next(&self, n: u32, status: u16) {
        *lock(&self.fail_next) = (n, status);
    }

    /// The next `n` requests answer `429` with `Retry-After: retry_after_secs`.
    pub fn throttle_next(&self, n: u32, retry_after_secs: u64) {
        *lock(&self.throttle_next) = (n, retry_after_secs);
    }

    /// The next `n` requests wait `delay` before being answered (`u32::MAX`: all of them).
    pub fn latency(&self, n: u32, delay: Duration) {
        *lock(&self.latency) = (n, delay);
    }

    /// The next `n` downloads close the connection half-way through the body.
    pub fn truncate_downloads(&self, n: u32) {
        self.truncate_downloads.store(n, Ordering::SeqCst);
    }

    /// Truncations not yet applied.
    pub fn truncations_pending(&self) -> u32 {
        self.truncate_downloads.load(Ordering::SeqCst)
    }

    /// Data calls answer the provider's "missing scope" 403.
    pub fn missing_scope(&self, on: bool) {
        self.missing_scope.store(on, Ordering::SeqCst);
    }

    /// Items per page of every list (the provider's maximum still applies to what clients ask).
    pub fn page_size(&self, n: usize) {
        self.page_size.store(n.max(1), Ordering::SeqCst);
    }

    /// The next `n` conversions answer "not ready" (Raven Slingshot `MORE_TIME_NEEDED`).
    pub fn async_polls(&self, n: u32) {
        self.async_polls.store(n, Ordering::SeqCst);
    }

    /// At most `requests` per `per`; more answer 429 (`None`: no limit).
    pub fn rate_limit(&self, limit: Option<(u32, Duration)>) {
        *lock(&self.rate_limit) = limit.map(|(n, per)| (n, per, VecDeque::new()));
    }

    /// Lifetime of access tokens issued from now on, in seconds.
    pub fn token_lifetime(&self, secs: u64) {
        self.token_lifetime.store(secs, Ordering::SeqCst);
    }

    /// Data calls for this organization answer 403 (missing connection).
    pub fn forbid_org(&self, org_id: &str) {
        lock(&self.forbidden_orgs).insert(org_id.to_owned());
    }

    /// The grower shared no organization with the app (Trimble's organization authorization step not done):
    /// organization lists are empty.
    pub fn share_no_organizations(&self, on: bool) {
        self.no_shared_orgs.store(on, Ordering::SeqCst);
    }

    /// The next `n` requests carrying a page token treat it as expired (Climate: `409`).
    pub fn expire_page_tokens(&self, n: u32) {
        self.expire_page_tokens.store(n, Ordering::SeqCst);
    }

    /// Presenting a refresh token that was already exchanged (rotated out, past any overlap the profile
    /// allows) revokes the whole grant: every later request with any token of it is refused (RFC 9700
    /// section 4.14, as oidc-provider, Auth0 and Okta do). On by default; off, such a token is only refused.
    pub fn reuse_revokes_grant(&self, on: bool) {
        self.reuse_revokes.store(on, Ordering::SeqCst);
    }

    /// What refresh tokens issued from now on become when used, instead of the profile's ([`Rotation`]);
    /// `None` restores the profile's. `Some(Rotation::SingleUse)` is what oidc-provider, Auth0 and Okta do with
    /// rotation on.
    pub fn rotation(&self, rotation: Option<Rotation>) {
        *lock(&self.rotation) = rotation;
    }

    /// At most `requests` token requests per `per`; more answer `429` with `Retry-After` (`None`: no limit).
    pub fn token_rate_limit(&self, limit: Option<(u32, Duration)>) {
        *lock(&self.token_rate_limit) = limit.map(|(n, per)| (n, per, VecDeque::new()));
    }

    /// The next `n` token requests answer `status` with the OAuth error `error` (e.g. `400
    /// invalid_request`, `503 temporarily_unavailable`).
    pub fn token_errors(&self, n: u32, status: u16, error: &str) {
        *lock(&self.token_errors) = (n, status, error.to_owned());
    }

    /// The next `n` requests are answered `400 invalid_request` with the whole request echoed back (headers,
    /// body, URL) in the error description, in JSON, base64 and response headers: a provider that quotes what
    /// it was sent.
    pub fn echo(&self, n: u32) {
        self.echo.store(n, Ordering::SeqCst);
    }

    /// As [`echo`](Self::echo), for the next `n` data calls only (requests with a bearer token): token
    /// requests are answered as usual.
    pub fn echo_data_calls(&self, n: u32) {
        self.echo_data.store(n, Ordering::SeqCst);
    }

    /// While on, every request waits at the door (counted in [`requests`](crate::Simulator::requests) and
    /// [`held`](crate::Simulator::held)) until it is turned off.
    pub fn hold(&self, on: bool) {
        self.hold.send_replace(on);
    }

    /// Resets every knob to its default.
    pub fn reset(&self, page_size: usize, token_lifetime: u64) {
        self.fail_next(0, 503);
        self.throttle_next(0, 1);
        self.latency(0, Duration::ZERO);
        self.truncate_downloads(0);
        self.missing_scope(false);
        self.page_size(page_size);
        self.async_polls(0);
        self.rate_limit(None);
        self.token_lifetime(token_lifetime);
        lock(&self.forbidden_orgs).clear();
        self.share_no_organizations(false);
        self.expire_page_tokens(0);
        self.reuse_revokes_grant(true);
        self.rotation(None);
        self.token_rate_limit(None);
        self.token_errors(0, 400, "");
        self.echo(0);
        self.echo_data_calls(0);
        self.hold(false);
    }

    pub(crate) fn reuse_revokes(&self) -> bool {
        self.reuse_revokes.load(Ordering::SeqCst)
    }

    pub(crate) fn rotation_override(&self) -> Option<Rotation> {
        *lock(&self.rotation)
    }

    /// `Some(retry_after_secs)` when the token endpoint's window is full.
    pub(crate) fn over_token_rate_limit(&self) -> Option<u64> {
        over_window(&mut lock(&self.token_rate_limit))
    }

    pub(crate) fn take_token_error(&self) -> Option<(u16, String)> {
        let mut f = lock(&self.token_errors);
        (f.0 > 0).then(|| {
            f.0 -= 1;
            (f.1, f.2.clone())
        })
    }

    pub(crate) fn take_echo(&self, data_call: bool) -> bool {
        let take = |a: &AtomicU32| {
            a.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        };
        take(&self.echo) || (data_call && take(&self.echo_data))
    }

    /// Waits while requests are held.
    pub(crate) async fn wait_at_door(&self) {
        let mut rx = self.hold.subscribe();
        if !*rx.borrow_and_update() {
            return;
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        let _ = rx.wait_for(|on| !*on).await;
        self.held.fetch_sub(1, Ordering::SeqCst);
    }

    pub(crate) fn held_now(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    pub(crate) fn take_fail(&self) -> Option<u16> {
        let mut f = lock(&self.fail_next);
        (f.0 > 0).then(|| {
            f.0 -= 1;
            f.1
        })
    }

    pub(crate) fn take_throttle(&self) -> Option<u64> {
        let mut f = lock(&self.throttle_next);
        (f.0 > 0).then(|| {
            f.0 -= 1;
            f.1
        })
    }

    pub(crate) fn take_latency(&self) -> Option<Duration> {
        let mut f = lock(&self.latency);
        (f.0 > 0).then(|| {
            if f.0 != u32::MAX {
                f.0 -= 1;
            }
            f.1
        })
    }

    /// `Some(retry_after_secs)` when the window is full.
    pub(crate) fn over_rate_limit(&self) -> Option<u64> {
        over_window(&mut lock(&self.rate_limit))
    }

    pub(crate) fn take_truncate(&self) -> bool {
        self.truncate_downloads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(crate) fn take_async_poll(&self) -> bool {
        self.async_polls
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(crate) fn is_missing_scope(&self) -> bool {
        self.missing_scope.load(Ordering::SeqCst)
    }

    pub(crate) fn current_page_size(&self) -> usize {
        self.page_size.load(Ordering::SeqCst)
    }

    pub(crate) fn current_token_lifetime(&self) -> u64 {
        self.token_lifetime.load(Ordering::SeqCst)
    }

    pub(crate) fn take_page_token_expiry(&self) -> bool {
        self.expire_page_tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(crate) fn no_shared_organizations(&self) -> bool {
        self.no_shared_orgs.load(Ordering::SeqCst)
    }

    pub(crate) fn is_forbidden(&self, org: &str) -> bool {
        lock(&self.forbidden_orgs).contains(org)
    }
}

/// `Some(retry_after_secs)` when a sliding window of `n` requests per `per` is full; counts the request
/// otherwise.
fn over_window(rl: &mut Option<(u32, Duration, VecDeque<Instant>)>) -> Option<u64> {
    let (n, per, starts) = rl.as_mut()?;
    let now = Instant::now();
    while starts
        .front()
        .is_some_and(|t| now.duration_since(*t) >= *per)
    {
        starts.pop_front();
    }
    if starts.len() >= *n as usize {
        let wait = starts
            .front()
            .map(|t| per.saturating_sub(now.duration_since(*t)));
        return Some(wait.unwrap_or_default().as_secs().max(1));
    }
    starts.push_back(now);
    None
}

/// What happens to a refresh token when it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The same refresh token stays valid and is not returned again.
    Never,
    /// A new refresh token each time; the old one stays valid this many seconds (`None`: forever).
    Rotate(Option<i64>),
    /// A new refresh token each time; the old one is invalid at once (Trimble).
    SingleUse,
}

/// Why the simulator refused a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Unknown, expired or revoked.
    Invalid,
    /// The access token expired.
    Expired,
}

/// One grower's grant: what the simulator accepts for it.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) revoked: bool,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) access_key: String,
}

#[derive(Debug, Default)]
struct GrantsInner {
    grants: Vec<Grant>,
    refresh: HashMap<String, (usize, Option<i64>)>,
    access: HashMap<String, (usize, i64)>,
    issued: Vec<String>,
    refreshes: u64,
    codes: HashMap<String, (usize, Option<String>, Option<CodeBinding>)>,
    /// Refresh tokens exchanged for a newer one.
    rotated: HashSet<String>,
    /// How often each refresh token was presented.
    presented: HashMap<String, u32>,
    /// Grants revoked because a rotated refresh token came back.
    reuse_revocations: u64,
}

/// What a code from the authorization form is bound to (RFC 6749 4.1.3): the client it was issued to, the
/// redirect URI it was sent to, and its expiry (seconds, simulated clock).
#[derive(Debug, Clone)]
pub(crate) struct CodeBinding {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) expires_at: i64,
}

/// Grants, refresh tokens and access tokens.
#[derive(Debug)]
pub(crate) struct Grants {
    rotation: Rotation,
    inner: Mutex<GrantsInner>,
}

/// A newly seeded grant's secrets.
#[derive(Debug, Clone)]
pub(crate) struct NewGrant {
    pub(crate) index: usize,
    pub(crate) refresh_token: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) access_key: String,
}

impl Grants {
    pub(crate) fn new(rotation: Rotation) -> Self {
        Grants {
            rotation,
            inner: Mutex::new(GrantsInner::default()),
        }
    }

    pub(crate) fn add(&self) -> NewGrant {
        self.add_with(random_token("rt"))
    }

    /// A grant whose refresh token is `refresh_token`.
    pub(crate) fn add_with(&self, refresh_token: String) -> NewGrant {
        let mut g = lock(&self.inner);
        let index = g.grants.len();
        let grant = Grant {
            revoked: false,
            username: format!("grower{index}@example.com"),
            password: random_token("pw"),
            access_key: random_token("ak"),
        };
        g.refresh.insert(refresh_token.clone(), (index, None));
        g.issued.extend([
            refresh_token.clone(),
            grant.password.clone(),
            grant.access_key.clone(),
        ]);
        g.grants.push(grant.clone());
        NewGrant {
            index,
            refresh_token,
            username: grant.username,
            password: grant.password,
            access_key: grant.access_key,
        }
    }

    fn issue_access(g: &mut GrantsInner, index: usize, now: i64, lifetime: u64) -> String {
        let token = random_token("at");
        g.access
            .insert(token.clone(), (index, now + lifetime as i64));
        g.issued.push(token.clone());
        token
    }

    /// Refresh grant: (access token, new refresh token if rotated).
    pub(crate) fn refresh(
        &self,
        rt: &str,
        now: i64,
        lifetime: u64,
        faults: &Faults,
    ) -> Result<(String, Option<String>), Rejection> {
        let reuse_revokes = faults.reuse_revokes();
        let rotation = faults.rotation_override().unwrap_or(self.rotation);
        let mut g = lock(&self.inner);
        *g.presented.entry(rt.to_owned()).or_default() += 1;
        let Some(&(index, valid_until)) = g.refresh.get(rt) else {
            return Err(Rejection::Invalid);
        };
        if g.grants[index].revoked {
            return Err(Rejection::Invalid);
        }
        if valid_until.is_some_and(|v| now >= v) {
            if reuse_revokes && g.rotated.contains(rt) {
                // RFC 9700 4.14: a refresh token used again after rotation means it leaked (or a client lost
                // track of it); the whole grant goes.
                g.grants[index].revoked = true;
                g.reuse_revocations += 1;
                tracing::warn!(grant = index, "rotated refresh token reused: grant revoked");
            }
            return Err(Rejection::Invalid);
        }
        g.refreshes += 1;
        let access = Self::issue_access(&mut g, index, now, lifetime);
        let new = match rotation {
            Rotation::Never => None,
            Rotation::Rotate(keep) => {
                let new = random_token("rt");
                // The old token keeps the earlier of its own expiry and the overlap window.
                let until = keep.map(|k| now + k);
                if let Some(e) = g.refresh.get_mut(rt) {
                    e.1 = match (e.1, until) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Some(new)
            }
            Rotation::SingleUse => {
                // Kept (expired) so the grant can still be found by its first token.
                if let Some(e) = g.refresh.get_mut(rt) {
                    e.1 = Some(i64::MIN);
                }
                Some(random_token("rt"))
            }
        };
        if let Some(new) = &new {
            g.refresh.insert(new.clone(), (index, None));
            g.issued.push(new.clone());
            g.rotated.insert(rt.to_owned());
        }
        Ok((access, new))
    }

    /// Password (or API user) login: an access/session token.
    pub(crate) fn login(
        &self,
        username: &str,
        password: &str,
        now: i64,
        lifetime: u64,
    ) -> Result<String, Rejection> {
        let mut g = lock(&self.inner);
        let index = g
            .grants
            .iter()
            .position(|gr| gr.username == username && gr.password == password && !gr.revoked)
            .ok_or(Rejection::Invalid)?;
        g.refreshes += 1;
        Ok(Self::issue_access(&mut g, index, now, lifetime))
    }

    /// A grant by its (Slingshot) access key.
    pub(crate) fn by_access_key(&self, key: &str) -> Result<usize, Rejection> {
        let g = lock(&self.inner);
        g.grants
            .iter()
            .position(|gr| gr.access_key == key && !gr.revoked)
            .ok_or(Rejection::Invalid)
    }

    /// Checks an access token.
    pub(crate) fn check(&self, token: &str, now: i64) -> Result<usize, Rejection> {
        let g = lock(&self.inner);
        let &(index, exp) = g.access.get(token).ok_or(Rejection::Invalid)?;
        if g.grants[index].revoked {
            return Err(Rejection::Invalid);
        }
        if now >= exp {
            return Err(Rejection::Expired);
        }
        Ok(index)
    }

    /// An authorization code for grant `index`, with an optional S256 PKCE challenge.
    pub(crate) fn code(&self, index: usize, challenge: Option<String>) -> String {
        let code = random_token("code");
        lock(&self.inner)
            .codes
            .insert(code.clone(), (index, challenge, None));
        code
    }

    /// A code from the authorization form, bound to its client, redirect URI and expiry.
    pub(crate) fn code_bound(
        &self,
        index: usize,
        challenge: Option<String>,
        binding: CodeBinding,
    ) -> String {
        let code = random_token("code");
        let mut g = lock(&self.inner);
        g.codes
            .insert(code.clone(), (index, challenge, Some(binding)));
        g.issued.push(code.clone());
        code
    }

    /// Whether `code` came from the authorization form (its exchange follows the provider's rules).
    pub(crate) fn is_bound(&self, code: &str) -> bool {
        lock(&self.inner)
            .codes
            .get(code)
            .is_some_and(|c| c.2.is_some())
    }

    /// The grant whose login this is.
    pub(crate) fn index_of_login(&self, username: &str, password: &str) -> Option<usize> {
        lock(&self.inner)
            .grants
            .iter()
            .position(|gr| gr.username == username && gr.password == password && !gr.revoked)
    }

    /// Exchanges a code presented by `client_id` with `redirect_uri`: a bound code must name the client and
    /// redirect URI it was issued for, before its expiry. Single use either way: a failed attempt burns it.
    pub(crate) fn exchange_bound(
        &self,
        code: &str,
        verifier: Option<&str>,
        client_id: &str,
        redirect_uri: &str,
        now: i64,
        lifetime: u64,
    ) -> Result<(String, String), Rejection> {
        use sha2::Digest;
        let mut g = lock(&self.inner);
        let (index, challenge, binding) = g.codes.remove(code).ok_or(Rejection::Invalid)?;
        if let Some(b) = binding
            && (b.client_id != client_id || b.redirect_uri != redirect_uri || now >= b.expires_at)
        {
            return Err(Rejection::Invalid);
        }
        if g.grants[index].revoked {
            return Err(Rejection::Invalid);
        }
        if let Some(ch) = challenge {
            let v = verifier.ok_or(Rejection::Invalid)?;
            let digest = sha2::Sha256::digest(v.as_bytes());
            if base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest) != ch {
                return Err(Rejection::Invalid);
            }
        }
        let access = Self::issue_access(&mut g, index, now, lifetime);
        let rt = random_token("rt");
        g.refresh.insert(rt.clone(), (index, None));
        g.issued.push(rt.clone());
        Ok((access, rt))
    }

    pub(crate) fn revoke_all(&self) {
        let mut g = lock(&self.inner);
        for gr in &mut g.grants {
            gr.revoked = true;
        }
    }

    /// Revokes the grant holding this refresh token, username or access key.
    pub(crate) fn revoke_matching(&self, values: &[&str]) -> bool {
        let mut g = lock(&self.inner);
        let by_refresh: Vec<usize> = values
            .iter()
            .filter_map(|v| g.refresh.get(*v).map(|e| e.0))
            .collect();
        let mut hit = false;
        for (i, gr) in g.grants.iter_mut().enumerate() {
            if by_refresh.contains(&i)
                || values
                    .iter()
                    .any(|v| *v == gr.username || *v == gr.access_key)
            {
                gr.revoked = true;
                hit = true;
            }
        }
        hit
    }

    pub(crate) fn expire_access(&self) {
        lock(&self.inner).access.clear();
    }

    pub(crate) fn issued(&self) -> Vec<String> {
        lock(&self.inner).issued.clone()
    }

    pub(crate) fn refreshes(&self) -> u64 {
        lock(&self.inner).refreshes
    }

    /// Refresh tokens presented more than once (a rotating grant's token should be presented once).
    pub(crate) fn presented_twice(&self) -> usize {
        lock(&self.inner)
            .presented
            .values()
            .filter(|n| **n > 1)
            .count()
    }

    pub(crate) fn reuse_revocations(&self) -> u64 {
        lock(&self.inner).reuse_revocations
    }

    pub(crate) fn revoked(&self) -> usize {
        lock(&self.inner)
            .grants
            .iter()
            .filter(|g| g.revoked)
            .count()
    }

    /// Accepts `token` as an access token of grant `index` until `exp` (tokens another server issued).
    pub(crate) fn accept_access(&self, token: &str, index: usize, exp: i64) {
        lock(&self.inner)
            .access
            .insert(token.to_owned(), (index, exp));
    }

    pub(crate) fn is_refresh_valid(&self, token: &str, now: i64) -> bool {
        let g = lock(&self.inner);
        g.refresh
            .get(token)
            .is_some_and(|(i, until)| !g.grants[*i].revoked && until.is_none_or(|u| now < u))
    }
}

/// Everything a simulator serves from.
#[derive(Debug)]
pub(crate) struct SimState {
    pub(crate) kind: ProviderKind,
    pub(crate) seed: Seed,
    pub(crate) faults: Faults,
    pub(crate) grants: Grants,
    pub(crate) app: AppSecrets,
    pub(crate) clock_offset: AtomicI64,
    pub(crate) requests: AtomicU64,
    pub(crate) presented: Mutex<HashSet<String>>,
    /// Pre-signed download tokens (John Deere shapefile exports): token → (operation id, valid until).
    pub(crate) presigned: Mutex<HashMap<String, (String, i64)>>,
    pub(crate) default_page_size: usize,
    pub(crate) default_token_lifetime: u64,
    /// Bearer tokens another authorization server issued are checked at its introspection endpoint (RFC
    /// 7662): (URL, client id, client secret).
    pub(crate) introspection: Mutex<Option<(String, String, String)>>,
    /// More integrator apps accepted besides `app` ([`crate::Simulator::credential_for_app`]).
    pub(crate) more_apps: Mutex<Vec<AppSecrets>>,
    /// Redirect URIs registered for the integrator apps; the authorization endpoint sends codes only there.
    pub(crate) redirect_uris: Mutex<Vec<String>>,
    /// The first grower's login, shown as a hint on the sign-in form.
    pub(crate) primary_login: std::sync::OnceLock<(String, String)>,
}

/// The integrator app's secrets the simulator accepts.
#[derive(Debug, Clone)]
pub struct AppSecrets {
    /// OAuth client id / key, AgLeader public key, Valley `apid`, Panorama Cognito client id.
    pub client_id: String,
    /// OAuth client secret / AgLeader private key.
    pub client_secret: String,
    /// Climate `X-Api-Key`, CNH subscription key, Slingshot API key, Stara and AgVance API keys.
    pub api_key: String,
    /// Slingshot shared secret (base64), Valley AES key (16 bytes, base64).
    pub shared_secret: String,
    /// Valley AES IV (16 bytes, base64).
    pub iv: String,
}

impl SimState {
    /// Whether `(id, secret)` is the client of one of the apps.
    pub(crate) fn is_app_client(&self, id: &str, secret: &str) -> bool {
        (id == self.app.client_id && secret == self.app.client_secret)
            || lock(&self.more_apps)
                .iter()
                .any(|a| a.client_id == id && a.client_secret == secret)
    }

    /// Whether `id` is the client id of one of the apps.
    pub(crate) fn is_app_client_id(&self, id: &str) -> bool {
        id == self.app.client_id || lock(&self.more_apps).iter().any(|a| a.client_id == id)
    }

    /// Whether `key` is the API key of one of the apps.
    pub(crate) fn is_app_key(&self, key: &str) -> bool {
        key == self.app.api_key || lock(&self.more_apps).iter().any(|a| a.api_key == key)
    }

    pub(crate) fn now(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + self.clock_offset.load(Ordering::SeqCst)
    }

    pub(crate) fn lifetime(&self) -> u64 {
        self.faults.current_token_lifetime()
    }

    pub(crate) fn page_size(&self) -> usize {
        self.faults.current_page_size()
    }
}
