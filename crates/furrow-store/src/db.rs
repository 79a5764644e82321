use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::{Error, Result, SecretKey};

/// Where the store keeps its rows and how it seals secrets.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The data directory; the SQLite file `furrow.db` lives here when no URL is given.
    pub data_dir: PathBuf,
    /// `postgres://…` (or `sqlite://…`) to use instead of the embedded file.
    pub database_url: Option<String>,
    /// The key that seals provider secrets.
    pub key: SecretKey,
}

/// Which database engine is behind a [`Store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The handle to furrow's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) key: SecretKey,
    backend: Backend,
    /// This process's per-credential locks (refresh, calls in flight): shared by every `Store` on one SQLite
    /// file, which one process serves; on PostgreSQL the database's row locks do the cross-node work.
    pub(crate) locks: std::sync::Arc<crate::credentials::CredentialLocks>,
    /// The SQLite database file (`None` on PostgreSQL or an in-memory database).
    sqlite_file: Option<PathBuf>,
}

/// The claim of one process to serve an SQLite database ([`Store::claim_serving`]): an exclusive lock on
/// `<database file>.serve.lock`, released when this value is dropped or the process ends, however it ends.
#[derive(Debug)]
pub struct ServeLock {
    _file: Option<std::fs::File>,
    path: Option<PathBuf>,
}

impl ServeLock {
    /// The lock file (`None` on PostgreSQL, where any number of processes serve one database).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// The file an SQLite URL names (`sqlite://path?…`, `sqlite:path`); `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return None;
    }
    Some(PathBuf::from(path))
}

/// Migrations, in order: (version, description, SQLite script, PostgreSQL script).
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "users, credentials and credential events",
        include_str!("../migrations/0001_init.sqlite.sql"),
        include_str!("../migrations/0001_init.postgres.sql"),
    ),
    (
        2,
        "jobs, webhooks and configurations",
        include_str!("../migrations/0002_jobs_webhooks_configs.sqlite.sql"),
        include_str!("../migrations/0002_jobs_webhooks_configs.postgres.sql"),
    ),
    (
        3,
        "growers, farms, fields and boundaries",
        include_str!("../migrations/0003_fields.sqlite.sql"),
        include_str!("../migrations/0003_fields.postgres.sql"),
    ),
    (
        4,
        "machine files",
        include_str!("../migrations/0004_files.sqlite.sql"),
        include_str!("../migrations/0004_files.postgres.sql"),
    ),
    (
        5,
        "operations, batches, file allocation and sync schedule",
        include_str!("../migrations/0005_operations.sqlite.sql"),
        include_str!("../migrations/0005_operations.postgres.sql"),
    ),
    (
        6,
        "originals, files per dataset, blob keys, operations without stored points",
        include_str!("../migrations/0006_originals_blob_keys.sqlite.sql"),
        include_str!("../migrations/0006_originals_blob_keys.postgres.sql"),
    ),
    (
        7,
        "credential access tokens with expiry, owner token generations, logouts, login throttling",
        include_str!("../migrations/0007_credential_tokens_owner_sessions.sqlite.sql"),
        include_str!("../migrations/0007_credential_tokens_owner_sessions.postgres.sql"),
    ),
    (
        8,
        "onboarding: app keys, API keys, Magic Links, OAuth sessions",
        include_str!("../migrations/0008_onboarding.sqlite.sql"),
        include_str!("../migrations/0008_onboarding.postgres.sql"),
    ),
    (
        9,
        "widget sessions: OAuth sessions started with an API key, one-time start links",
        include_str!("../migrations/0009_widget_sessions.sqlite.sql"),
        include_str!("../migrations/0009_widget_sessions.postgres.sql"),
    ),
];

impl Store {
    /// Connects (creating the SQLite file and data directory if needed) and applies pending migrations.
    pub async fn open(opts: StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let url = match &opts.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&opts.data_dir).map_err(|source| Error::Io {
                    path: opts.data_dir.clone(),
                    source,
                })?;
                let file = opts.data_dir.join("furrow.db");
                format!("sqlite://{}?mode=rwc", file.display())
            }
        };
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(Error::Database(sqlx::Error::Configuration(
                "database URL must start with postgres:// or sqlite://".into(),
            )));
        };
        let connect = AnyConnectOptions::from_str(&url)?;
        let mut pool = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        if backend == Backend::Sqlite {
            pool = pool.max_connections(8).after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;")
                        .await?;
                    Ok(())
                })
            });
        } else {
            pool = pool.max_connections(16);
        }
        let pool = pool.connect_with(connect).await?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let locks = match backend {
            Backend::Sqlite => crate::credentials::CredentialLocks::for_database(&url),
            Backend::Postgres => std::sync::Arc::default(),
        };
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_file(&url),
            Backend::Postgres => None,
        };
        let store = Self {
            pool,
            key: opts.key,
            backend,
            locks,
            sqlite_file,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Claims this database for this process's workers and API. On SQLite one process serves a database file:
    /// its credential locks (one token refresh at a time per credential) live in that process, so a second
    /// server on the same file could present a refresh token the first one is presenting, and a provider that
    /// detects reuse would revoke the grower's grant. A second claim fails with [`Error::AlreadyServed`] while
    /// the first holder runs; the lock is the operating system's (`flock`), so it ends with the process even
    /// after `kill -9`. Short-lived commands that do not call providers (`furrow owner password`, `furrow key
    /// rotate`) open the store without claiming it and keep working beside a running server. On PostgreSQL
    /// the claim always succeeds: the locks are the database's.
    pub fn claim_serving(&self) -> Result<ServeLock> {
        let Some(db) = &self.sqlite_file else {
            return Ok(ServeLock {
                _file: None,
                path: None,
            });
        };
        let mut name = db.as_os_str().to_owned();
        name.push(".serve.lock");
        let path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        // `File::try_lock` is Rust 1.89; the workspace's declared rust-version (1.85) predates it, but the let
        // chains the workspace uses already need 1.88, so no older toolchain builds furrow anyway.
        #[allow(clippy::incompatible_msrv)]
        let claimed = file.try_lock();
        match claimed {
            Ok(()) => Ok(ServeLock {
                _file: Some(file),
                path: Some(path),
            }),
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(Error::AlreadyServed { path: db.clone() })
            }
            Err(std::fs::TryLockError::Error(source)) => Err(Error::Io { path, source }),
        }
    }

    /// A transaction that writes. On SQLite it takes the write lock when it begins (`BEGIN IMMEDIATE`): a
    /// transaction that reads before it writes then waits for another writer (up to the busy timeout) instead
    /// of failing with "database is locked" (SQLITE_BUSY / BUSY_SNAPSHOT) when that writer got there first,
    /// which concurrent workers in one process otherwise hit at once.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Closes every connection (waits for those in use).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        if self.backend == Backend::Postgres {
            // Several nodes may start at once: one migrates, the others wait.
            sqlx::query("SELECT pg_advisory_lock(7262011)")
                .execute(&mut *conn)
                .await?;
        }
        let result = async {
            conn.execute(
                "CREATE TABLE IF NOT EXISTS furrow_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .await?;
            for (version, description, sqlite, postgres) in MIGRATIONS {
                let done: Option<i64> = sqlx::query_scalar("SELECT version FROM furrow_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *conn)
                    .await?;
                if done.is_some() {
                    continue;
                }
                let script = if self.backend == Backend::Postgres { postgres } else { sqlite };
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::raw_sql(script).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO furrow_migrations (version, description, applied_at) VALUES ($1, $2, $3)")
                    .bind(*version)
                    .bind(*description)
                    .bind(furrow_model::now_micros())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::info!(version, description, "applied migration");
            }
            Ok::<_, Error>(())
        }
        .await;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_unlock(7262011)")
                .execute(&mut *conn)
                .await?;
        }
        result
    }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
