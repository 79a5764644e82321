//! The conformance suite every adapter runs against its simulator (feature `testing`).
//!
//! ```ignore
//! #[tokio::test]
//! async fn conformance() {
//!     let sim = Simulator::start(ProviderKind::Claas).await.unwrap();
//!     let report = furrow_provider::conformance::run(&sim, |ctx| Ok(Arc::new(ClaasProvider::new(ctx)?))).await;
//!     assert!(report.passed.len() >= 10, "{report:?}");
//! }
//! ```
//!
//! Each case builds a fresh adapter for a fresh grower of the simulator, resets the fault knobs, and panics
//! with the case name on failure. Cases that do not apply to the provider (no refresh token, no machine
//! files, ...) are reported as skipped with the reason.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use furrow_model::{MachineFileDescriptor, NewCredentialEvent, ProviderOrganization};
use furrow_provider_sim::{Probe, Rotation, Simulator, hex};
use sha2::{Digest, Sha256};

use crate::ProviderKind;
use crate::error::{ErrorKind, Result};
use crate::provider::{
    BoxFuture, Capabilities, EventSink, MemorySink, Provider, ProviderContext, ProviderExt,
    SecretSink, Secrets,
};
use crate::transport::{HttpConfig, RateLimit};

/// What ran.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Cases that ran and passed.
    pub passed: Vec<&'static str>,
    /// Cases that do not apply, with the reason.
    pub skipped: Vec<(&'static str, &'static str)>,
    /// Events recorded over the whole run.
    pub events: usize,
}

/// Builds an adapter from a context.
pub type Build<'a> = dyn Fn(ProviderContext) -> Result<Arc<dyn Provider>> + Send + Sync + 'a;

/// A secret sink that checks, on every persist, that the simulator has not seen the values yet.
#[derive(Debug)]
struct CheckingSink {
    probe: Probe,
    inner: Arc<MemorySink>,
    used_before_persist: Mutex<Vec<String>>,
}

impl SecretSink for CheckingSink {
    fn persist<'a>(
        &'a self,
        provider: ProviderKind,
        updates: &'a Secrets,
    ) -> BoxFuture<'a, std::result::Result<(), String>> {
        for (k, v) in updates {
            if self.probe.was_presented(v)
                && let Ok(mut u) = self.used_before_persist.lock()
            {
                u.push(k.clone());
            }
        }
        self.inner.persist(provider, updates)
    }
}

/// Every event of every adapter built during the run.
#[derive(Debug, Default)]
struct AllEvents(Mutex<Vec<NewCredentialEvent>>);

impl EventSink for AllEvents {
    fn record(&self, event: NewCredentialEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}

struct Suite<'a> {
    sim: &'a Simulator,
    build: &'a Build<'a>,
    events: Arc<AllEvents>,
    report: Report,
}

struct Adapter {
    provider: Arc<dyn Provider>,
    sink: Arc<CheckingSink>,
    credential: BTreeMap<String, String>,
}

fn test_http() -> HttpConfig {
    HttpConfig {
        // Generous: the provider's own default limit would slow the suite to a crawl.
        rate_limit: Some(RateLimit {
            requests: 100_000,
            per: Duration::from_secs(1),
        }),
        ..HttpConfig::for_tests()
    }
}

impl<'a> Suite<'a> {
    fn reset(&self) {
        self.sim.reset_faults();
        self.sim.faults().rate_limit(None);
    }

    fn adapter_with(&self, http: HttpConfig) -> Adapter {
        let credential = self.sim.new_credential();
        let sink = Arc::new(CheckingSink {
            probe: self.sim.probe(),
            inner: MemorySink::new(),
            used_before_persist: Mutex::new(Vec::new()),
        });
        let ctx = ProviderContext::new(credential.clone(), self.events.clone(), sink.clone())
            .with_base_url(self.sim.base_url())
            .with_http(http);
        let provider =
            (self.build)(ctx).unwrap_or_else(|e| panic!("building the adapter failed: {e}"));
        Adapter {
            provider,
            sink,
            credential,
        }
    }

    fn adapter(&self) -> Adapter {
        self.adapter_with(test_http())
    }

    fn pass(&mut self, name: &'static str) {
        self.report.passed.push(name);
    }

    fn skip(&mut self, name: &'static str, why: &'static str) {
        self.report.skipped.push((name, why));
    }

    fn caps(&self) -> Capabilities {
        self.adapter().provider.capabilities()
    }

    fn has_data(&self) -> bool {
        let c = self.caps();
        c.organizations || c.fields || c.machine_files || c.irrigation
    }

    fn token_based(&self) -> bool {
        self.sim.profile().token_lifetime > 0
    }
}

/// One call that needs the network and the token: organizations, else fields, else machine files, else
/// irrigation equipment.
async fn data_call(p: &dyn Provider) -> Result<usize> {
    let caps = p.capabilities();
    if caps.organizations {
        return Ok(p.organizations().await?.len());
    }
    let org = first_org(p).await?;
    if caps.fields {
        return Ok(p.fields(&org.id).await?.len());
    }
    if !caps.machine_files && caps.irrigation {
        return Ok(p.irrigation_equipment(&org.id).await?.len());
    }
    Ok(p.machine_files(&org.id, None, None).await?.files.len())
}

async fn first_org(p: &dyn Provider) -> Result<ProviderOrganization> {
    let orgs = p.organizations().await?;
    Ok(orgs
        .into_iter()
        .find(|o| o.connected)
        .unwrap_or_else(|| panic!("{}: no connected organization", p.name())))
}

async fn connected_orgs(p: &dyn Provider) -> Vec<ProviderOrganization> {
    let orgs = p
        .organizations()
        .await
        .unwrap_or_else(|e| panic!("organizations: {e}"));
    orgs.into_iter().filter(|o| o.connected).collect()
}

async fn all_files(p: &dyn Provider) -> Vec<MachineFileDescriptor> {
    let mut out = Vec::new();
    for org in connected_orgs(p).await {
        out.extend(
            p.all_machine_files(&org.id, None)
                .await
                .unwrap_or_else(|e| panic!("machine files of {}: {e}", org.id)),
        );
    }
    out
}

fn sha(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn expect_kind<T: std::fmt::Debug>(case: &str, r: Result<T>, kind: ErrorKind) -> crate::Error {
    match r {
        Err(e) if e.kind() == kind => e,
        other => panic!("{case}: expected {kind:?}, got {other:?}"),
    }
}

/// Runs every applicable case against `sim` with adapters made by `build`; panics on the first failure.
pub async fn run<F>(sim: &Simulator, build: F) -> Report
where
    F: Fn(ProviderContext) -> Result<Arc<dyn Provider>> + Send + Sync,
{
    let mut s = Suite {
        sim,
        build: &build,
        events: Arc::new(AllEvents::default()),
        report: Report::default(),
    };
    s.reset();
    capabilities(&mut s).await;
    authenticate(&mut s).await;
    refresh_rotation(&mut s).await;
    expired_token(&mut s).await;
    missing_scope(&mut s).await;
    rate_limited(&mut s).await;
    server_errors(&mut s).await;
    slow_responses(&mut s).await;
    rate_limit_respected(&mut s).await;
    organization_connection(&mut s).await;
    fields_with_boundaries(&mut s).await;
    pagination(&mut s).await;
    since_filter(&mut s).await;
    downloads(&mut s).await;
    truncated_download(&mut s).await;
    irrigation(&mut s).await;
    imagery(&mut s).await;
    unsupported(&mut s).await;
    revoked_grant(&mut s).await;
    no_secrets(&mut s).await;
    s.reset();
    s.report
}

async fn capabilities(s: &mut Suite<'_>) {
    let a = s.adapter();
    let caps = a.provider.capabilities();
    let prof = s.sim.profile();
    assert_eq!(
        a.provider.kind(),
        s.sim.kind(),
        "capabilities: adapter for the wrong provider"
    );
    assert_eq!(
        caps.organizations, prof.organizations,
        "capabilities: organizations"
    );
    assert_eq!(caps.fields, prof.fields, "capabilities: fields");
    assert_eq!(
        caps.machine_files, prof.machine_files,
        "capabilities: machine files"
    );
    assert_eq!(caps.irrigation, prof.irrigation, "capabilities: irrigation");
    assert_eq!(caps.imagery, prof.imagery, "capabilities: imagery");
    s.pass("capabilities");
}

async fn authenticate(s: &mut Suite<'_>) {
    s.reset();
    let a = s.adapter();
    let out = a
        .provider
        .authenticate()
        .await
        .unwrap_or_else(|e| panic!("authenticate: {e}"));
    let generates_secret = s
        .sim
        .kind()
        .fields()
        .iter()
        .any(|f| !f.in_create && f.secret)
        || a.credential.contains_key("refreshToken");
    if s.token_based() && generates_secret {
        assert!(
            !out.is_empty(),
            "authenticate: nothing to persist from a token login"
        );
        let persisted = a.sink.inner.persisted();
        for (k, v) in &out {
            assert!(
                persisted.iter().any(|p| p.get(k) == Some(v)),
                "authenticate: `{k}` returned but never persisted"
            );
        }
    }
    if s.has_data() {
        data_call(a.provider.as_ref())
            .await
            .unwrap_or_else(|e| panic!("authenticate: first data call: {e}"));
    }
    let used = a
        .sink
        .used_before_persist
        .lock()
        .map(|v| v.clone())
        .unwrap_or_default();
    assert!(
        used.is_empty(),
        "authenticate: {used:?} used before it was persisted"
    );
    s.pass("authenticate");
}

async fn refresh_rotation(s: &mut Suite<'_>) {
    if !s.sim.credential().contains_key("refreshToken") {
        return s.skip("refresh_rotation", "no refresh token");
    }
    s.reset();
    let a = s.adapter();
    let original = a.credential["refreshToken"].clone();
    let mut previous = original.clone();
    for round in 0..2 {
        a.provider
            .authenticate()
            .await
            .unwrap_or_else(|e| panic!("refresh_rotation round {round}: {e}"));
        let current = a
            .sink
            .inner
            .latest("refreshToken")
            .unwrap_or_else(|| original.clone());
        assert!(
            s.sim.is_refresh_token_valid(&current),
            "refresh_rotation: the stored refresh token is not valid any more"
        );
        match s.sim.profile().rotation {
            Rotation::Never => assert_eq!(
                current, original,
                "refresh_rotation: token changed without rotation"
            ),
            Rotation::Rotate(_) | Rotation::SingleUse => {
                assert_ne!(
                    current, previous,
                    "refresh_rotation: rotated token not persisted"
                )
            }
        }
        if s.sim.profile().rotation == Rotation::SingleUse {
            assert!(
                !s.sim.is_refresh_token_valid(&previous),
                "refresh_rotation: single-use token reused"
            );
        }
        previous = current;
    }
    // The adapter keeps working with the rotated token.
    if s.has_data() {
        s.sim.expire_access_tokens();
        data_call(a.provider.as_ref())
            .await
            .unwrap_or_else(|e| panic!("refresh_rotation: call after rotation: {e}"));
    }
    s.pass("refresh_rotation");
}

async fn expired_token(s: &mut Suite<'_>) {
    if !s.token_based() || !s.has_data() {
        return s.skip("expired_token_mid_sync", "no access token or no data call");
    }
    s.reset();
    let a = s.adapter();
    data_call(a.provider.as_ref())
        .await
        .unwrap_or_else(|e| panic!("expired_token: first call: {e}"));
    let before = s.sim.refresh_count();
    s.sim.expire_access_tokens();
    data_call(a.provider.as_ref())
        .await
        .unwrap_or_else(|e| panic!("expired_token: call after expiry: {e}"));
    assert_eq!(
        s.sim.refresh_count(),
        before + 1,
        "expired_token: exactly one refresh expected"
    );
    s.pass("expired_token_mid_sync");
}

async fn missing_scope(s: &mut Suite<'_>) {
    if !s.has_data() {
        return s.skip("missing_scope", "no data call");
    }
    s.reset();
    let a = s.adapter();
    s.sim.faults().missing_scope(true);
    let e = expect_kind(
        "missing_scope",
        data_call(a.provider.as_ref()).await,
        ErrorKind::LimitedPermission,
    );
    assert_eq!(
        e.credential_status(),
        Some(furrow_credentials::CredentialStatus::LimitedPermission)
    );
    assert!(!e.is_retryable());
    s.pass("missing_scope");
}

async fn rate_limited(s: &mut Suite<'_>) {
    if !s.has_data() {
        return s.skip("rate_limited_retry_after", "no data call");
    }
    s.reset();
    let a = s.adapter();
    data_call(a.provider.as_ref())
        .await
        .expect("rate_limited: warm-up");
    s.sim.faults().throttle_next(1, 1);
    let start = Instant::now();
    data_call(a.provider.as_ref())
        .await
        .unwrap_or_else(|e| panic!("rate_limited: not retried: {e}"));
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "rate_limited: Retry-After not honoured ({:?})",
        start.elapsed()
    );
    // Past the attempts: the error carries Retry-After and is retryable.
    let a = s.adapter_with(HttpConfig {
        max_attempts: 1,
        ..test_http()
    });
    data_call(a.provider.as_ref())
        .await
        .expect("rate_limited: warm-up");
    s.sim.faults().throttle_next(5, 7);
    let e = expect_kind(
        "rate_limited",
        data_call(a.provider.as_ref()).await,
        ErrorKind::RateLimited,
    );
    assert!(e.is_retryable());
    assert!(
        matches!(e, crate::Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7))
    );
    assert_eq!(e.credential_status(), None);
    s.pass("rate_limited_retry_after");
}

async fn server_errors(s: &mut Suite<'_>) {
    if !s.has_data() {
        return s.skip("server_error_bursts", "no data call");
    }
    s.reset();
    let a = s.adapter();
    data_call(a.provider.as_ref())
        .await
        .expect("server_errors: warm-up");
    for status in [500, 502, 503, 504] {
        s.sim.faults().fail_next(2, status);
        data_call(a.provider.as_ref())
            .await
            .unwrap_or_else(|e| panic!("server_errors: burst of {status} not retried: {e}"));
    }
    s.sim.faults().fail_next(50, 503);
    let e = expect_kind(
        "server_errors",
        data_call(a.provider.as_ref()).await,
        ErrorKind::Unavailable,
    );
    assert!(e.is_retryable());
    s.sim.faults().fail_next(0, 503);
    s.pass("server_error_bursts");
}

async fn slow_responses(s: &mut Suite<'_>) {
    if !s.has_data() {
        return s.skip("slow_responses", "no data call");
    }
    s.reset();
    let a = s.adapter_with(HttpConfig {
        timeout: Duration::from_millis(400),
        ..test_http()
    });
    data_call(a.provider.as_ref())
        .await
        .expect("slow_responses: warm-up");
    s.sim.faults().latency(1, Duration::from_millis(900));
    data_call(a.provider.as_ref())
        .await
        .unwrap_or_else(|e| panic!("slow_responses: one slow answer not retried: {e}"));
    s.sim.faults().latency(u32::MAX, Duration::from_millis(900));
    let e = expect_kind(
        "slow_responses",
        data_call(a.provider.as_ref()).await,
        ErrorKind::Unavailable,
    );
    assert!(e.is_retryable());
    s.sim.faults().latency(0, Duration::ZERO);
    s.pass("slow_responses");
}

async fn rate_limit_respected(s: &mut Suite<'_>) {
    if !s.has_data() {
        return s.skip("rate_limit_respected", "no data call");
    }
    s.reset();
    let limit = RateLimit {
        requests: 3,
        per: Duration::from_millis(600),
    };
    let a = s.adapter_with(HttpConfig {
        rate_limit: Some(limit),
        max_attempts: 1,
        ..HttpConfig::for_tests()
    });
    data_call(a.provider.as_ref())
        .await
        .expect("rate_limit_respected: warm-up");
    s.sim.faults().rate_limit(Some((limit.requests, limit.per)));
    for i in 0..4 {
        data_call(a.provider.as_ref()).await.unwrap_or_else(|e| {
            panic!("rate_limit_respected: call {i} hit the provider's limit: {e}")
        });
    }
    s.sim.faults().rate_limit(None);
    s.pass("rate_limit_respected");
}

async fn organization_connection(s: &mut Suite<'_>) {
    if !s.caps().organizations {
        return s.skip("organization_connection", "no organizations");
    }
    s.reset();
    let a = s.adapter();
    let orgs = a.provider.organizations().await.expect("organizations");
    let connected: BTreeSet<_> = orgs
        .iter()
        .filter(|o| o.connected)
        .map(|o| o.id.clone())
        .collect();
    let expected: BTreeSet<_> = s
        .sim
        .seed()
        .organizations
        .iter()
        .filter(|o| o.connected)
        .map(|o| o.id.clone())
        .collect();
    assert_eq!(
        connected, expected,
        "organization_connection: connected organizations"
    );
    let unconnected: Vec<_> = orgs.iter().filter(|o| !o.connected).collect();
    for o in &unconnected {
        assert!(
            o.connection_uri.is_some(),
            "organization_connection: {} has no connection URI",
            o.id
        );
        if a.provider.capabilities().fields {
            expect_kind(
                "organization_connection",
                a.provider.fields(&o.id).await,
                ErrorKind::LimitedPermission,
            );
        }
    }
    s.pass("organization_connection");
}

async fn fields_with_boundaries(s: &mut Suite<'_>) {
    if !s.caps().fields {
        return s.skip("fields_with_boundaries", "no fields");
    }
    s.reset();
    let a = s.adapter();
    let mut got = Vec::new();
    for org in connected_orgs(a.provider.as_ref()).await {
        got.extend(
            a.provider
                .fields(&org.id)
                .await
                .unwrap_or_else(|e| panic!("fields: {e}")),
        );
    }
    let expected = s.sim.visible_fields();
    let ids: BTreeSet<_> = got.iter().map(|f| f.id.clone()).collect();
    let want: BTreeSet<_> = expected.iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids, want, "fields_with_boundaries: field ids");
    if a.provider.capabilities().boundaries {
        for f in &got {
            let seed = expected.iter().find(|e| e.id == f.id).expect("seeded");
            let b = f
                .boundary
                .as_ref()
                .unwrap_or_else(|| panic!("field {} has no boundary", f.id));
            assert!(b.is_valid(), "field {}: invalid boundary", f.id);
            assert_eq!(
                b.len(),
                seed.boundary.len(),
                "field {}: polygon count",
                f.id
            );
            for (p, q) in b
                .coordinates
                .iter()
                .flatten()
                .flatten()
                .zip(seed.boundary.coordinates.iter().flatten().flatten())
            {
                assert!(
                    (p[0] - q[0]).abs() < 1e-9 && (p[1] - q[1]).abs() < 1e-9,
                    "field {}: {p:?} != {q:?}",
                    f.id
                );
            }
            let rings_got: usize = b.coordinates.iter().map(Vec::len).sum();
            let rings_want: usize = seed.boundary.coordinates.iter().map(Vec::len).sum();
            assert_eq!(rings_got, rings_want, "field {}: ring count (holes)", f.id);
        }
    }
    s.pass("fields_with_boundaries");
}

async fn pagination(s: &mut Suite<'_>) {
    if !s.caps().machine_files {
        return s.skip("pagination_many_pages", "no machine files");
    }
    s.reset();
    let org = furrow_provider_sim::SINGLE_ORG;
    if s.sim.seed().files_of(org, None).len() < 20 {
        s.sim.seed().add_generated_files(org, 23);
    }
    s.sim.faults().page_size(3);
    let a = s.adapter();
    let got = all_files(a.provider.as_ref()).await;
    let ids: Vec<_> = got.iter().map(|f| f.id.clone()).collect();
    let unique: BTreeSet<_> = ids.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        ids.len(),
        "pagination: duplicate files across pages"
    );
    let want: BTreeSet<_> = s.sim.listed_file_ids().into_iter().collect();
    assert_eq!(unique, want, "pagination: files over all pages");
    // Resume from a stored cursor with a new adapter instance.
    let first_org = first_org(a.provider.as_ref()).await.expect("org");
    let page = a
        .provider
        .machine_files(&first_org.id, None, None)
        .await
        .expect("first page");
    let cursor = page
        .next_cursor
        .clone()
        .expect("pagination: more than one page expected");
    let b = s.adapter();
    let mut resumed: Vec<String> = page.files.iter().map(|f| f.id.clone()).collect();
    let mut c = Some(cursor);
    let mut pages = 1;
    while let Some(cur) = c {
        let p = b
            .provider
            .machine_files(&first_org.id, None, Some(&cur))
            .await
            .unwrap_or_else(|e| panic!("pagination: resumed page: {e}"));
        resumed.extend(p.files.iter().map(|f| f.id.clone()));
        c = p.next_cursor;
        pages += 1;
        assert!(pages < 1000, "pagination: no end");
    }
    assert!(pages >= 5, "pagination: only {pages} pages at page size 3");
    let whole: BTreeSet<_> = a
        .provider
        .all_machine_files(&first_org.id, None)
        .await
        .expect("all")
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(
        resumed.into_iter().collect::<BTreeSet<_>>(),
        whole,
        "pagination: resumed listing differs"
    );
    s.sim.faults().page_size(100);
    s.pass("pagination_many_pages");
}

async fn since_filter(s: &mut Suite<'_>) {
    if !s.caps().machine_files {
        return s.skip("since_filter", "no machine files");
    }
    s.reset();
    let a = s.adapter();
    let org = first_org(a.provider.as_ref()).await.expect("org");
    let all = s.sim.seed().files_of(furrow_provider_sim::SINGLE_ORG, None);
    let cut = all[all.len() / 2].created;
    let since = time::OffsetDateTime::from_unix_timestamp(cut).expect("time");
    let got: BTreeSet<_> = a
        .provider
        .all_machine_files(&org.id, Some(since))
        .await
        .unwrap_or_else(|e| panic!("since_filter: {e}"))
        .into_iter()
        .map(|f| f.id)
        .collect();
    let want: BTreeSet<_> = s
        .sim
        .seed()
        .files_of(&org.id_or_single(s.sim), Some(cut))
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(got, want, "since_filter: files since {since}");
    assert!(got.len() < all.len(), "since_filter: nothing filtered");
    s.pass("since_filter");
}

trait OrgId {
    fn id_or_single(&self, sim: &Simulator) -> String;
}

impl OrgId for ProviderOrganization {
    fn id_or_single(&self, sim: &Simulator) -> String {
        if sim.profile().organizations {
            self.id.clone()
        } else {
            furrow_provider_sim::SINGLE_ORG.to_owned()
        }
    }
}

async fn downloads(s: &mut Suite<'_>) {
    if !s.caps().machine_files {
        return s.skip("downloads_sha256", "no machine files");
    }
    s.reset();
    let a = s.adapter();
    let files = all_files(a.provider.as_ref()).await;
    let seed = s.sim.seed();
    let mut checked = 0;
    // Every sample file, and the largest one, but not all the generated ones (nor what the provider builds on
    // request, like John Deere's field-operation exports: their adapter tests check those).
    let mut pick: Vec<_> = files
        .iter()
        .filter(|f| !f.name.starts_with("generated-") && seed.file(&f.id).is_some())
        .collect();
    pick.sort_by_key(|f| std::cmp::Reverse(seed.file(&f.id).map(|x| x.bytes.len()).unwrap_or(0)));
    for f in pick {
        let want = seed.file(&f.id).expect("seeded file");
        let bytes = a
            .provider
            .download_bytes(f)
            .await
            .unwrap_or_else(|e| panic!("download {}: {e}", f.id));
        assert_eq!(bytes.len(), want.bytes.len(), "download {}: length", f.id);
        assert_eq!(sha(&bytes), want.sha256, "download {}: sha256", f.id);
        checked += 1;
    }
    assert!(checked >= 2, "downloads: only {checked} files checked");
    s.pass("downloads_sha256");
}

async fn truncated_download(s: &mut Suite<'_>) {
    if !s.caps().machine_files {
        return s.skip("truncated_download", "no machine files");
    }
    s.reset();
    let a = s.adapter();
    let files = all_files(a.provider.as_ref()).await;
    let seed = s.sim.seed();
    let f = files
        .iter()
        .max_by_key(|f| seed.file(&f.id).map(|x| x.bytes.len()).unwrap_or(0))
        .expect("a file");
    s.sim.faults().truncate_downloads(1);
    s.sim.faults().async_polls(1);
    let bytes = a
        .provider
        .download_bytes(f)
        .await
        .unwrap_or_else(|e| panic!("truncated_download: not resumed: {e}"));
    assert_eq!(
        sha(&bytes),
        seed.file(&f.id).expect("seeded").sha256,
        "truncated_download: sha256"
    );
    assert_eq!(
        s.sim.faults().truncations_pending(),
        0,
        "truncated_download: the simulator cut no body"
    );
    s.pass("truncated_download");
}

/// Irrigation equipment and as-applied irrigation equal the seed.
async fn irrigation(s: &mut Suite<'_>) {
    // Without the capability, `unsupported_without_network` checks the calls instead.
    if !s.caps().irrigation {
        return;
    }
    s.reset();
    s.sim.faults().page_size(1);
    let a = s.adapter();
    let org = first_org(a.provider.as_ref())
        .await
        .unwrap_or_else(|e| panic!("irrigation: organizations: {e}"));
    let equipment = a
        .provider
        .irrigation_equipment(&org.id)
        .await
        .unwrap_or_else(|e| panic!("irrigation: equipment: {e}"));
    let seeded = s.sim.seed().equipment_of(furrow_provider_sim::SINGLE_ORG);
    assert_eq!(
        equipment.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        seeded.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        "irrigation: equipment (paged one by one)"
    );
    for (got, want) in equipment.iter().zip(&seeded) {
        assert_eq!(got.name, want.name, "irrigation: equipment name");
        assert_eq!(got.length_m, Some(want.length_m), "irrigation: length");
        assert_eq!(got.location, Some(want.location), "irrigation: location");
        let applied = a
            .provider
            .irrigation_applications(&org.id, &got.id, None)
            .await
            .unwrap_or_else(|e| panic!("irrigation: applications of {}: {e}", got.id));
        let expected = s.sim.seed().irrigation_of(&want.id, None);
        assert_eq!(
            applied.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            expected.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            "irrigation: applications of {}",
            got.id
        );
        assert!(
            applied
                .iter()
                .zip(&expected)
                .all(|(g, w)| g.depth_mm == Some(w.depth_mm) && g.equipment_id == w.equipment_id),
            "irrigation: depths"
        );
        // `since` filters.
        if let Some(last) = expected.last() {
            let since = time::OffsetDateTime::from_unix_timestamp(last.start).ok();
            let recent = a
                .provider
                .irrigation_applications(&org.id, &got.id, since)
                .await
                .unwrap_or_else(|e| panic!("irrigation: since: {e}"));
            assert_eq!(
                recent.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
                [last.id.as_str()],
                "irrigation: since"
            );
        }
    }
    s.pass("irrigation");
}

/// Imagery layers equal the seed.
async fn imagery(s: &mut Suite<'_>) {
    if !s.caps().imagery {
        return;
    }
    s.reset();
    s.sim.faults().page_size(2);
    let a = s.adapter();
    let mut got = Vec::new();
    for org in connected_orgs(a.provider.as_ref()).await {
        got.extend(
            a.provider
                .imagery_layers(&org.id)
                .await
                .unwrap_or_else(|e| panic!("imagery: layers of {}: {e}", org.id)),
        );
    }
    let mut want: Vec<_> = s
        .sim
        .seed()
        .imagery
        .iter()
        .filter(|i| s.sim.seed().is_connected(&i.organization_id))
        .collect();
    want.sort_by(|a, b| a.id.cmp(&b.id));
    got.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got.len(), want.len(), "imagery: layer count");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(
            (g.id.as_str(), g.kind.as_str(), g.field_id.as_deref()),
            (w.id.as_str(), w.kind.as_str(), Some(w.field_id.as_str())),
            "imagery: layer"
        );
    }
    s.pass("imagery");
}

async fn unsupported(s: &mut Suite<'_>) {
    let a = s.adapter();
    let caps = a.provider.capabilities();
    if caps.fields && caps.machine_files && caps.irrigation && caps.imagery {
        return s.skip("unsupported_without_network", "every capability supported");
    }
    s.reset();
    let before = s.sim.requests();
    let org = "any";
    if !caps.fields {
        expect_kind(
            "unsupported",
            a.provider.fields(org).await,
            ErrorKind::Unsupported,
        );
    }
    if !caps.machine_files {
        expect_kind(
            "unsupported",
            a.provider.machine_files(org, None, None).await,
            ErrorKind::Unsupported,
        );
        let file = MachineFileDescriptor {
            id: "x".into(),
            name: "x.zip".into(),
            organization_id: org.into(),
            created_time: None,
            size: None,
            format: None,
            download_ref: None,
        };
        expect_kind(
            "unsupported",
            a.provider.download(&file).await.map(|_| ()),
            ErrorKind::Unsupported,
        );
    }
    if !caps.irrigation {
        expect_kind(
            "unsupported",
            a.provider.irrigation_equipment(org).await,
            ErrorKind::Unsupported,
        );
        expect_kind(
            "unsupported",
            a.provider.irrigation_applications(org, "x", None).await,
            ErrorKind::Unsupported,
        );
    }
    if !caps.imagery {
        expect_kind(
            "unsupported",
            a.provider.imagery_layers(org).await,
            ErrorKind::Unsupported,
        );
    }
    if !caps.organizations {
        let orgs = a
            .provider
            .organizations()
            .await
            .expect("implicit organization");
        assert_eq!(
            orgs.len(),
            1,
            "unsupported: one implicit organization expected"
        );
    }
    assert_eq!(s.sim.requests(), before, "unsupported: a request was made");
    s.pass("unsupported_without_network");
}

async fn revoked_grant(s: &mut Suite<'_>) {
    s.reset();
    let a = s.adapter();
    a.provider
        .authenticate()
        .await
        .expect("revoked_grant: authenticate first");
    assert!(
        s.sim.revoke(&a.credential),
        "revoked_grant: simulator found no grant to revoke"
    );
    s.sim.expire_access_tokens();
    let e = expect_kind(
        "revoked_grant",
        a.provider.authenticate().await,
        ErrorKind::Unauthenticated,
    );
    assert_eq!(
        e.credential_status(),
        Some(furrow_credentials::CredentialStatus::Invalid)
    );
    assert!(!e.is_retryable());
    if s.has_data() {
        expect_kind(
            "revoked_grant",
            data_call(a.provider.as_ref()).await,
            ErrorKind::Unauthenticated,
        );
    }
    s.pass("revoked_grant");
}

async fn no_secrets(s: &mut Suite<'_>) {
    let events = s.events.0.lock().map(|e| e.clone()).unwrap_or_default();
    assert!(
        events.len() >= 3,
        "no_secrets: only {} events recorded",
        events.len()
    );
    assert!(
        events.iter().all(|e| e.method.is_some() && e.url.is_some()),
        "events without method or url"
    );
    let secrets: Vec<String> = s
        .sim
        .issued_secrets()
        .into_iter()
        .filter(|x| x.len() >= 6)
        .collect();
    for e in &events {
        let text = format!(
            "{}\n{}\n{}",
            e.headers,
            e.body,
            e.url.as_deref().unwrap_or_default()
        );
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "no_secrets: a secret leaked into an event: {text}"
            );
        }
        for line in e.headers.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("authorization:")
                || lower.starts_with("cookie:")
                || lower.contains("key:")
            {
                assert!(
                    line.ends_with("<redacted>"),
                    "no_secrets: header not redacted: {line}"
                );
            }
        }
        assert!(
            e.body.len() <= crate::MAX_EVENT_BODY,
            "no_secrets: body not truncated"
        );
    }
    s.report.events = events.len();
    s.pass("no_secrets_in_events");
}

/// What [`run_many`] saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManyReport {
    /// Credentials that authenticated and listed.
    pub credentials: usize,
    /// Events recorded.
    pub events: usize,
    /// Token grants (refreshes and logins) the simulator answered.
    pub refreshes: u64,
}

/// Runs `n` fresh credentials of `sim` concurrently through authenticate (refresh or login) and one
/// listing, through one shared connection pool, with a burst of 503s injected; panics on any failure, on a
/// stored refresh token the simulator no longer accepts, or on a secret found in any event.
pub async fn run_many<F>(sim: &Simulator, n: usize, build: F) -> ManyReport
where
    F: Fn(ProviderContext) -> Result<Arc<dyn Provider>> + Send + Sync + 'static,
{
    sim.reset_faults();
    sim.faults().rate_limit(None);
    let build = Arc::new(build);
    let events = MemorySink::new();
    let http = HttpConfig {
        connect_timeout: Duration::from_secs(120),
        ..test_http()
    };
    let client = crate::HttpClient::build_client(&http).expect("reqwest client");
    // The crowd meets 25 transient 503s in all. However the scheduler orders the requests (a loaded machine can
    // serve one task's retries before the other tasks' first calls), no task can meet more than 25: with one
    // attempt more than that, every task gets through, and the test never depends on timing.
    const FAILURES: u32 = 25;
    // No request timeout that a loaded machine can reach: a token request answered after the client gave up
    // would have rotated a single-use refresh token that the retry then presents again (`invalid_grant`, as a
    // real server answers). Timeouts are tested on their own; this test is about many credentials at once.
    let http = HttpConfig {
        shared_client: Some(client),
        max_attempts: FAILURES + 2,
        timeout: Duration::from_secs(600),
        ..http
    };
    let before = sim.refresh_count();
    sim.faults().fail_next(FAILURES, 503);
    let mut tasks = Vec::with_capacity(n);
    for _ in 0..n {
        let credential = sim.new_credential();
        let secrets = MemorySink::new();
        let ctx = ProviderContext::new(credential.clone(), events.clone(), secrets.clone())
            .with_base_url(sim.base_url())
            .with_http(http.clone());
        let build = build.clone();
        tasks.push(tokio::spawn(async move {
            let p = build(ctx)?;
            p.authenticate().await?;
            let has_data = {
                let c = p.capabilities();
                c.organizations || c.fields || c.machine_files
            };
            if has_data {
                data_call(p.as_ref()).await?;
            }
            let rt = secrets
                .latest("refreshToken")
                .or_else(|| credential.get("refreshToken").cloned());
            Ok::<_, crate::Error>(rt)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let rt = t
            .await
            .expect("task")
            .unwrap_or_else(|e| panic!("run_many: {e}"));
        if let Some(rt) = rt {
            assert!(
                sim.is_refresh_token_valid(&rt),
                "run_many: stored refresh token refused"
            );
        }
        ok += 1;
    }
    let refreshes = sim.refresh_count() - before;
    if sim.profile().token_lifetime > 0 {
        assert!(
            refreshes >= n as u64,
            "run_many: {refreshes} grants for {n} credentials"
        );
    }
    // Every issued token has a recognisable shape: look each word of each event up in a set.
    let secrets: BTreeSet<String> = sim.issued_secrets().into_iter().collect();
    let app: Vec<String> = secrets
        .iter()
        .filter(|s| s.contains(['+', '/', '=']))
        .cloned()
        .collect();
    let events = events.events();
    for e in &events {
        let text = format!(
            "{}\n{}\n{}",
            e.headers,
            e.body,
            e.url.as_deref().unwrap_or_default()
        );
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            assert!(
                !secrets.contains(word),
                "run_many: a secret leaked into an event"
            );
        }
        for s in &app {
            assert!(
                !text.contains(s.as_str()),
                "run_many: an app secret leaked into an event"
            );
        }
    }
    sim.reset_faults();
    ManyReport {
        credentials: ok,
        events: events.len(),
        refreshes,
    }
}
