//! `furrow-server`: wires configuration, the store and the API router, then serves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use furrow_store::{SecretKey, Store, StoreOptions};

mod demo;
mod serve;

/// What this process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Role {
    /// Serve the API only.
    Api,
    /// Run background jobs only.
    Worker,
    /// Both (the default).
    All,
}

/// furrow's Leaf-compatible farm-data API server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Data directory: SQLite database, secret key and files.
    #[arg(long, env = "FURROW_DATA_DIR", default_value = "./furrow-data")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "FURROW_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// PostgreSQL URL (postgres://…); the embedded SQLite file is used when absent.
    #[arg(long, env = "FURROW_DATABASE_URL")]
    database_url: Option<String>,
    /// Base64 of the 32-byte key sealing secrets; by default generated into DATA_DIR/secret.key (mode 0600).
    /// Every node of a cluster needs the same key.
    #[arg(long, env = "FURROW_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// During a key rotation (docs/OPERATIONS.md): the key being replaced, which still opens old secrets.
    #[arg(long, env = "FURROW_PREVIOUS_SECRET_KEY", hide_env_values = true)]
    previous_secret_key: Option<String>,
    /// Create this API owner on start if it does not exist (with --owner-password).
    #[arg(long, env = "FURROW_OWNER_USERNAME")]
    owner_username: Option<String>,
    /// Password of --owner-username.
    #[arg(long, env = "FURROW_OWNER_PASSWORD", hide_env_values = true)]
    owner_password: Option<String>,
    /// Largest accepted JSON body in bytes.
    #[arg(long, env = "FURROW_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    max_body_bytes: usize,
    /// What this process runs: the API, the background worker, or both.
    #[arg(long, env = "FURROW_ROLE", value_enum, default_value = "all")]
    role: Role,
    /// Serve a provider from another base URL (a simulator or proxy), as SLUG=URL; repeatable.
    #[arg(
        long = "provider-url",
        env = "FURROW_PROVIDER_URLS",
        value_delimiter = ','
    )]
    provider_urls: Vec<String>,
    /// Where machine files and their conversions are kept: a folder (default DATA_DIR/blobs) or an object
    /// store URL (`s3://bucket/prefix`, `gs://…`, `az://…`) that every node of a cluster shares. Cloud
    /// settings come from the usual variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`, …).
    #[arg(long = "blobs", alias = "blob-dir", env = "FURROW_BLOBS")]
    blobs: Option<String>,
    /// Local folder for work in progress (unpacked zips, conversions before upload); default DATA_DIR/scratch.
    #[arg(long, env = "FURROW_SCRATCH_DIR")]
    scratch_dir: Option<PathBuf>,
    /// Largest accepted upload (`POST /batch`), bytes.
    #[arg(long, env = "FURROW_MAX_UPLOAD_BYTES", default_value_t = 3 * 1024 * 1024 * 1024)]
    max_upload_bytes: u64,
    /// Seconds a client has to send a request's headers (slow-header clients are cut off).
    #[arg(long, env = "FURROW_HEADER_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_secs: u64,
    /// Longest pause, in seconds, between two pieces of a request body (a stalled upload is refused).
    #[arg(long, env = "FURROW_BODY_IDLE_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    body_idle_timeout_secs: u64,
    /// Longest time, in seconds, from a request's arrival to its response (uploads included): 408 after.
    #[arg(long, env = "FURROW_REQUEST_TIMEOUT_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    request_timeout_secs: u64,
    /// Connections the API serves at once; more wait in the listen backlog.
    #[arg(long, env = "FURROW_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: u64,
    /// Connections the API serves at once from one client address (trusted proxies excepted); more are closed.
    #[arg(long, env = "FURROW_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections_per_client: u64,
    /// The origin growers' browsers and the providers reach this server at (`https://furrow.example.org`, no
    /// path): Magic Links are `PUBLIC_URL/magic-link/{id}` and the redirect URI to register at every provider
    /// is `PUBLIC_URL/widget`. Default: `http://` and the address listened on (right on one machine only).
    #[arg(long, env = "FURROW_PUBLIC_URL", value_parser = public_url)]
    public_url: Option<String>,
    /// Seconds a grower has, on a Magic Link, between starting a provider connection and the provider sending
    /// them back.
    #[arg(long, env = "FURROW_OAUTH_SESSION_TTL_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(60..=3600))]
    oauth_session_ttl_secs: u64,
    /// Memory, in MiB, that this process's workers may take together to read ISOXML data sets (XML parsed
    /// whole): a file whose estimate is over it fails with the figure; others wait their turn.
    #[arg(long, env = "FURROW_READ_MEMORY_MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    read_memory_mib: u64,
    /// Hours between background syncs of each valid credential (Leaf: 24); 0 turns them off.
    #[arg(long, env = "FURROW_SYNC_INTERVAL_HOURS", default_value_t = 24.0)]
    sync_interval_hours: f64,
    /// Seconds a worker holds a claimed job before another worker may take it over.
    #[arg(long, env = "FURROW_JOB_LEASE_SECS", default_value_t = 120)]
    job_lease_secs: u64,
    /// Jobs this process runs at once (worker and all roles): a provider that is slow to answer holds one,
    /// not the uploads and syncs queued behind it.
    #[arg(long, env = "FURROW_WORKERS", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    workers: u16,
    /// Demo mode: start every provider simulator in-process, create a demo owner and a grower with CLAAS,
    /// John Deere and Climate FieldView credentials, and print a token, curl commands and Magic Links that
    /// connect a second grower's accounts (at the simulators) or take an upload in a browser.
    #[arg(long)]
    demo: bool,
    /// Reverse proxies (load balancers) in front of the API whose `X-Forwarded-For` names the client: login
    /// throttling then counts failures per client rather than per proxy.
    #[arg(
        long = "trusted-proxy",
        env = "FURROW_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Serve Prometheus metrics (`GET /metrics`) on this address, apart from the API (the numbers span every
    /// API owner). Not served when unset.
    #[arg(long, env = "FURROW_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "FURROW_LOG_JSON")]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(args.log_json);
    furrow_isoxml::set_memory_budget(args.read_memory_mib.saturating_mul(1 << 20));

    let mut key = match &args.secret_key {
        Some(k) => SecretKey::from_base64(k).context("FURROW_SECRET_KEY")?,
        None => SecretKey::load_or_create(&args.data_dir)
            .with_context(|| format!("secret key in {}", args.data_dir.display()))?,
    };
    if let Some(previous) = &args.previous_secret_key {
        key = key.with_previous(
            &SecretKey::from_base64(previous).context("FURROW_PREVIOUS_SECRET_KEY")?,
        );
    }
    let store = Store::open(StoreOptions {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        key: key.clone(),
    })
    .await
    .context("opening the database")?;
    // Held until the process ends: a second server on the same SQLite file is refused (see `claim_serving`).
    let _serving = store.claim_serving()?;
    tracing::info!(backend = ?store.backend(), data_dir = %args.data_dir.display(), "store ready");

    if let (Some(user), Some(pass)) = (&args.owner_username, &args.owner_password) {
        match store.create_owner(user, pass).await {
            Ok(_) => tracing::info!(username = %user, "API owner created from configuration"),
            Err(furrow_store::Error::AlreadyExists(_)) => {}
            Err(e) => return Err(e).context("creating the configured API owner"),
        }
    }

    tokio::spawn(retention_sweep(store.clone()));

    let mut registry = furrow_registry::registry();
    // The same origins serve the onboarding pages' authorize and token endpoints.
    let mut onboarding_urls = std::collections::BTreeMap::new();
    for entry in &args.provider_urls {
        let (slug, url) = entry
            .split_once('=')
            .with_context(|| format!("--provider-url {entry}: expected SLUG=URL"))?;
        let kind = furrow_credentials::Provider::from_slug(slug)
            .with_context(|| format!("--provider-url {entry}: unknown provider slug {slug}"))?;
        registry = registry.with_base_url(kind, url);
        onboarding_urls.insert(kind, url.trim_end_matches('/').to_owned());
    }
    let demo = if args.demo {
        let (sims, reg) = demo::start_simulators(registry).await?;
        registry = reg;
        for sim in &sims.simulators {
            onboarding_urls.insert(sim.kind(), sim.base_url().to_owned());
        }
        Some(sims)
    } else {
        None
    };

    let blob_url = args
        .blobs
        .clone()
        .unwrap_or_else(|| args.data_dir.join("blobs").display().to_string());
    let scratch = args
        .scratch_dir
        .clone()
        .unwrap_or_else(|| args.data_dir.join("scratch"));
    // Object-store settings from the environment (only the binary reads it).
    let cloud_options = std::env::vars().filter_map(|(k, v)| {
        let lower = k.to_ascii_lowercase();
        (lower.starts_with("aws_") || lower.starts_with("google_") || lower.starts_with("azure_"))
            .then_some((lower, v))
    });
    let blobs = furrow_store::Blobs::open(&blob_url, cloud_options, &scratch)
        .with_context(|| format!("opening the blob store {blob_url}"))?;
    tracing::info!(blobs = blobs.label(), "blob store");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    if args.role != Role::Api {
        let config = furrow_sync::WorkerConfig {
            lease: std::time::Duration::from_secs(args.job_lease_secs.max(1)),
            blobs: Some(blobs.clone()),
            sync_interval: (args.sync_interval_hours > 0.0)
                .then(|| std::time::Duration::from_secs_f64(args.sync_interval_hours * 3600.0)),
            ..furrow_sync::WorkerConfig::default()
        };
        // each loop claims its own jobs under its own name, as separate worker processes would
        for i in 0..args.workers {
            let config = furrow_sync::WorkerConfig {
                id: format!("{}-{i}", config.id),
                // one loop per process lists the blob store for orphans, daily
                orphan_sweep: (i == 0).then_some(std::time::Duration::from_secs(24 * 3600)),
                ..config.clone()
            };
            let worker = furrow_sync::Worker::new(store.clone(), registry.clone(), config);
            workers.push(tokio::spawn(worker.run(stop_rx.clone())));
        }
    }

    if args.role == Role::Worker {
        tracing::info!("furrow worker running (no API); Ctrl-C stops it");
        shutdown().await;
    } else {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("binding {}", args.listen))?;
        let addr = listener.local_addr()?;
        let public_url = args.public_url.clone().unwrap_or_else(|| {
            if addr.ip().is_unspecified() {
                tracing::warn!("--public-url is not set: Magic Links will name http://{addr}, which browsers cannot reach");
            }
            format!("http://{addr}")
        });
        tracing::info!(%public_url, "grower onboarding pages");
        let state = furrow_api::AppState::new(
            store.clone(),
            &key,
            furrow_api::ApiConfig {
                max_body_bytes: args.max_body_bytes,
                blobs: Some(blobs.clone()),
                max_upload_bytes: args.max_upload_bytes,
            },
        )
        .with_trusted_proxies(args.trusted_proxies.iter().copied())
        .with_onboarding(furrow_api::OnboardingConfig {
            public_url,
            provider_urls: onboarding_urls,
            session_ttl: Duration::from_secs(args.oauth_session_ttl_secs),
            ..furrow_api::OnboardingConfig::default()
        });
        if let Some(addr) = args.metrics_listen {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding the metrics address {addr}"))?;
            tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
            let metrics = furrow_api::metrics_router(state.clone());
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, metrics).await {
                    tracing::error!(error = %e, "metrics listener stopped");
                }
            });
        }
        let app = furrow_api::router(state.clone());
        tracing::info!("furrow listening on http://{addr}");
        if let Some(sims) = &demo {
            demo::seed(&store, &state, sims, addr).await?;
        }
        // Connect info (login throttling counts failures per client address), timeouts and connection limits.
        let limits = serve::Limits {
            header_timeout: Duration::from_secs(args.header_timeout_secs),
            body_idle_timeout: Duration::from_secs(args.body_idle_timeout_secs),
            request_timeout: Duration::from_secs(args.request_timeout_secs),
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            max_connections_per_client: usize::try_from(args.max_connections_per_client)
                .unwrap_or(usize::MAX),
            unlimited_clients: args.trusted_proxies.clone(),
        };
        let app = serve::with_request_limits(app, &limits);
        serve::serve(listener, app, limits, shutdown()).await?;
    }
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    tracing::info!("furrow stopped");
    Ok(())
}

/// `--public-url`: an http(s) origin, without path, query or fragment (a trailing slash is dropped).
fn public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let uri: axum::http::Uri = s.parse().map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("must start with https:// (or http://)".into());
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err("names no host".into());
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() || s.contains('#') {
        return Err("must be an origin only, without a path or query".into());
    }
    Ok(s.to_owned())
}

/// Deletes credential events older than 30 days, hourly.
async fn retention_sweep(store: Store) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match store
            .sweep_credential_events(furrow_model::now_micros())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "credential events past retention removed"),
            Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
        }
    }
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
