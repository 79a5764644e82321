//! Test support: a fresh, empty store per test.
//!
//! SQLite lives in a temporary directory. PostgreSQL gets its own database, created on the server named by
//! `FURROW_TEST_DATABASE_URL` and dropped by [`TestDb::cleanup`].

use std::path::PathBuf;

use sqlx::Connection;

use crate::{Backend, Result, SecretKey, Store, StoreOptions};

/// The environment variable naming the PostgreSQL server for the PostgreSQL suite.
pub const DATABASE_URL_VAR: &str = "FURROW_TEST_DATABASE_URL";

/// The PostgreSQL admin URL for tests, when set.
pub fn postgres_url() -> Option<String> {
    std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|s| !s.is_empty())
}

/// A fresh store and its data directory.
#[derive(Debug)]
pub struct TestDb {
    /// The store.
    pub store: Store,
    /// Its data directory (blob files, key file).
    pub data_dir: PathBuf,
    /// The key the store seals secrets with.
    pub key: SecretKey,
    /// The database URL (None for embedded SQLite).
    pub database_url: Option<String>,
    tmp: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDb {
    /// A fresh store on `backend`. Panics (failing the test) when PostgreSQL is asked for but not configured.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::sqlite().await,
            Backend::Postgres => {
                let url = postgres_url().unwrap_or_else(|| panic!("{DATABASE_URL_VAR} is not set"));
                Self::postgres(&url)
                    .await
                    .expect("create the test database")
            }
        }
    }

    /// A fresh SQLite store in a temporary directory.
    pub async fn sqlite() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data_dir = tmp.path().join("data");
        let key = SecretKey::load_or_create(&data_dir).expect("key");
        let store = Store::open(StoreOptions {
            data_dir: data_dir.clone(),
            database_url: None,
            key: key.clone(),
        })
        .await
        .expect("open sqlite store");
        Self {
            store,
            data_dir,
            key,
            database_url: None,
            tmp,
            pg: None,
        }
    }

    /// A fresh PostgreSQL database on the server at `admin_url`.
    pub async fn postgres(admin_url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let name = format!("furrow_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::AnyConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = database_url_for(admin_url, &name);
        let tmp = tempfile::tempdir().expect("temp dir");
        let data_dir = tmp.path().join("data");
        let key = SecretKey::load_or_create(&data_dir)?;
        let store = Store::open(StoreOptions {
            data_dir: data_dir.clone(),
            database_url: Some(url.clone()),
            key: key.clone(),
        })
        .await?;
        Ok(Self {
            store,
            data_dir,
            key,
            database_url: Some(url),
            tmp,
            pg: Some((admin_url.to_owned(), name)),
        })
    }

    /// Another store on the same database, as a second node would open it (its own connection pool; on
    /// SQLite, the same file).
    pub async fn another_node(&self) -> Store {
        Store::open(StoreOptions {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            key: self.key.clone(),
        })
        .await
        .expect("open the store again")
    }

    /// Makes every queued job due now (a test's clock jump over retry backoffs); returns how many.
    pub async fn make_jobs_due(&self) -> u64 {
        sqlx::query("UPDATE jobs SET run_at = 0 WHERE state = 'queued'")
            .execute(&self.store.pool)
            .await
            .expect("make jobs due")
            .rows_affected()
    }

    /// Runs one statement on the test database (a test's shortcut past a wait); returns the rows affected.
    pub async fn execute(&self, sql: &str) -> u64 {
        sqlx::query(sql)
            .execute(&self.store.pool)
            .await
            .expect("test statement")
            .rows_affected()
    }

    /// Every job as `(kind, state, dedupe key, attempts)`, oldest first.
    pub async fn jobs(&self) -> Vec<(String, String, Option<String>, i64)> {
        sqlx::query_as("SELECT kind, state, dedupe_key, attempts FROM jobs ORDER BY created_at, id")
            .fetch_all(&self.store.pool)
            .await
            .expect("list jobs")
    }

    /// The temporary directory holding everything of this test.
    pub fn root(&self) -> &std::path::Path {
        self.tmp.path()
    }

    /// Closes the store and drops the PostgreSQL database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = &self.pg
            && let Ok(mut admin) = sqlx::AnyConnection::connect(admin_url).await
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        }
    }
}

/// The URL of database `name` on the server of `admin_url` (same host, user and options).
pub fn database_url_for(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}
