//! Grower onboarding rows (leaf-onboarding.md §7): provider app keys (secrets sealed), Leaf-user API keys and
//! Magic Link tokens (stored as SHA-256, compared by hash), and the OAuth sessions a hosted page opens before
//! it sends the grower to a provider (single use, found by the hash of their `state`).

use std::collections::BTreeMap;

use base64::Engine;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::new_id;
use crate::owners::is_unique_violation;
use crate::{Error, Result, Store};

/// SHA-256 of a token, lowercase hex: how API keys, Magic Link tokens and OAuth states are looked up.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes, base64url without padding.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A provider application of an API owner, secrets opened (never log this value).
#[derive(Clone, PartialEq, Eq)]
pub struct AppKey {
    /// Row id (UUID).
    pub id: String,
    /// The provider segment of the routes (`JohnDeere`, `CLAAS`, …).
    pub provider: String,
    /// The integrator's name for the application.
    pub app_name: String,
    /// `STAGE` or `PRODUCTION`.
    pub environment: String,
    /// Non-secret fields (`clientId`, `clientKey`, `publicKey`, `applicationName`, …).
    pub public: BTreeMap<String, String>,
    /// Secret fields (`clientSecret`, `privateKey`, `apiKey`, …), opened.
    pub secrets: BTreeMap<String, String>,
    /// Scopes asked for, when set.
    pub scopes: Vec<String>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("app_name", &self.app_name)
            .field("environment", &self.environment)
            .field("public", &self.public)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What `POST`/`PUT /app-keys/…` stores.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAppKey {
    /// Provider segment.
    pub provider: String,
    /// Application name.
    pub app_name: String,
    /// `STAGE` or `PRODUCTION`.
    pub environment: String,
    /// Non-secret fields.
    pub public: BTreeMap<String, String>,
    /// Secret fields, sealed before they are written.
    pub secrets: BTreeMap<String, String>,
    /// Scopes.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for NewAppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAppKey")
            .field("provider", &self.provider)
            .field("app_name", &self.app_name)
            .field("environment", &self.environment)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A Leaf-user API key as stored: its hash never leaves the store, the key itself is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// UUID.
    pub id: String,
    /// The Leaf user it acts for.
    pub user_id: String,
    /// The key's last four characters.
    pub last4: String,
    /// The integrator's note.
    pub description: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub expires_at: i64,
    /// µs since the epoch, once revoked.
    pub revoked_at: Option<i64>,
}

impl ApiKey {
    /// Not revoked and not expired at `now` (µs).
    pub fn is_valid(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A Magic Link, its token opened (the token is the capability: never log it).
#[derive(Clone, PartialEq, Eq)]
pub struct MagicLink {
    /// The link token (the `id` of the API and the last path segment of the link).
    pub token: String,
    /// SHA-256 of the token, hex: the row key.
    pub hash: String,
    /// The API owner.
    pub owner_id: String,
    /// The Leaf user the link acts for.
    pub user_id: String,
    /// `PROVIDER`, `AUTHENTICATION` or `FILEUPLOAD`.
    pub widget: String,
    /// `allowedProviders` (PROVIDER) or the one `provider` (AUTHENTICATION); empty for file uploads.
    pub providers: Vec<String>,
    /// Branding settings, defaults filled in.
    pub settings: serde_json::Value,
    /// The app key name to use, when pinned.
    pub app_name: Option<String>,
    /// Uses allowed.
    pub max_usage: i64,
    /// Uses so far (credentials created, zips accepted).
    pub usage_count: i64,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub expires_at: i64,
    /// Last time the hosted page loaded the valid link, µs.
    pub last_accessed_at: Option<i64>,
    /// Set once deleted: the page stops at once.
    pub deleted_at: Option<i64>,
}

impl std::fmt::Debug for MagicLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MagicLink")
            .field("owner_id", &self.owner_id)
            .field("user_id", &self.user_id)
            .field("widget", &self.widget)
            .field("usage_count", &self.usage_count)
            .field("max_usage", &self.max_usage)
            .finish_non_exhaustive()
    }
}

/// What a Magic Link is created with.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMagicLink {
    /// The Leaf user (must be the owner's).
    pub user_id: String,
    /// `PROVIDER`, `AUTHENTICATION` or `FILEUPLOAD`.
    pub widget: String,
    /// Providers offered.
    pub providers: Vec<String>,
    /// Branding settings.
    pub settings: serde_json::Value,
    /// Pinned app key name.
    pub app_name: Option<String>,
    /// Uses allowed.
    pub max_usage: i64,
    /// µs since the epoch.
    pub expires_at: i64,
}

/// An OAuth session: from the hosted page's start to the provider's redirect back.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthSession {
    /// SHA-256 of the `state`, hex.
    pub state_hash: String,
    /// The API owner of the link.
    pub owner_id: String,
    /// The Leaf user the credential goes to.
    pub user_id: String,
    /// The provider segment.
    pub provider: String,
    /// The app key used.
    pub app_key_id: String,
    /// `STAGE` or `PRODUCTION` (the app key's).
    pub environment: String,
    /// The link it started from.
    pub magic_link_hash: Option<String>,
    /// The API key it started with (the widget session API).
    pub api_key_id: Option<String>,
    /// The PKCE verifier, opened.
    pub code_verifier: Option<String>,
    /// The redirect URI sent to the provider (sent again with the code).
    pub redirect_uri: String,
    /// µs since the epoch.
    pub expires_at: i64,
    /// µs since the epoch, once the callback used it.
    pub consumed_at: Option<i64>,
}

impl std::fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthSession")
            .field("owner_id", &self.owner_id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("environment", &self.environment)
            .field("expires_at", &self.expires_at)
            .field("consumed_at", &self.consumed_at)
            .finish_non_exhaustive()
    }
}

const APP_KEY_COLUMNS: &str =
    "id, provider, app_name, environment, public_fields, secrets, scopes, created_at, updated_at";
const API_KEY_COLUMNS: &str = "id, user_id, last4, description, created_at, expires_at, revoked_at";
const LINK_COLUMNS: &str = "token_hash, token_sealed, owner_id, user_id, widget, providers, settings, app_name, \
     max_usage, usage_count, created_at, expires_at, last_accessed_at, deleted_at";
const SESSION_COLUMNS: &str = "state_hash, owner_id, user_id, provider, app_key_id, environment, magic_link_hash, \
     code_verifier, redirect_uri, expires_at, consumed_at, api_key_id";

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn corrupt(table: &'static str, message: impl Into<String>) -> Error {
    Error::Corrupt {
        table,
        message: message.into(),
    }
}

impl Store {
    fn app_key_from_row(&self, row: &sqlx::any::AnyRow) -> Result<AppKey> {
        let id: String = row.try_get("id")?;
        let sealed: Vec<u8> = row.try_get("secrets")?;
        let plain = self
            .key
            .open(&sealed, &format!("app-key:{id}"))
            .ok_or_else(|| Error::Decrypt {
                credential_id: format!("app key {id}"),
            })?;
        let secrets =
            serde_json::from_slice(&plain).map_err(|e| corrupt("app_keys", e.to_string()))?;
        let public: String = row.try_get("public_fields")?;
        let scopes: String = row.try_get("scopes")?;
        Ok(AppKey {
            provider: row.try_get("provider")?,
            app_name: row.try_get("app_name")?,
            environment: row.try_get("environment")?,
            public: serde_json::from_str(&public)
                .map_err(|e| corrupt("app_keys", e.to_string()))?,
            secrets,
            scopes: serde_json::from_str(&scopes)
                .map_err(|e| corrupt("app_keys", e.to_string()))?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            id,
        })
    }

    /// Stores a new app key. [`Error::AlreadyExists`] when (provider, name, environment) exists.
    pub async fn create_app_key(&self, owner_id: &str, key: &NewAppKey) -> Result<AppKey> {
        let id = new_id();
        let now = furrow_model::now_micros();
        let sealed = self
            .key
            .seal(to_json(&key.secrets).as_bytes(), &format!("app-key:{id}"));
        let res = sqlx::query(
            "INSERT INTO app_keys (id, owner_id, provider, app_name, environment, public_fields, secrets, scopes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(&key.provider)
        .bind(&key.app_name)
        .bind(&key.environment)
        .bind(to_json(&key.public))
        .bind(sealed)
        .bind(to_json(&key.scopes))
        .bind(now)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(AppKey {
                id,
                provider: key.provider.clone(),
                app_name: key.app_name.clone(),
                environment: key.environment.clone(),
                public: key.public.clone(),
                secrets: key.secrets.clone(),
                scopes: key.scopes.clone(),
                created_at: now,
                updated_at: now,
            }),
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists("app key")),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces an app key's fields and secrets (keeps its id and creation time).
    pub async fn replace_app_key(&self, owner_id: &str, key: &NewAppKey) -> Result<AppKey> {
        let old = self
            .get_app_key(owner_id, &key.provider, &key.app_name, &key.environment)
            .await?;
        let now = furrow_model::now_micros();
        let sealed = self.key.seal(
            to_json(&key.secrets).as_bytes(),
            &format!("app-key:{}", old.id),
        );
        sqlx::query(
            "UPDATE app_keys SET public_fields = $1, secrets = $2, scopes = $3, updated_at = $4 WHERE owner_id = $5 AND id = $6",
        )
        .bind(to_json(&key.public))
        .bind(sealed)
        .bind(to_json(&key.scopes))
        .bind(now)
        .bind(owner_id)
        .bind(&old.id)
        .execute(&self.pool)
        .await?;
        Ok(AppKey {
            public: key.public.clone(),
            secrets: key.secrets.clone(),
            scopes: key.scopes.clone(),
            updated_at: now,
            ..old
        })
    }

    /// One app key. [`Error::NotFound`] when the owner has none by that provider, name and environment.
    pub async fn get_app_key(
        &self,
        owner_id: &str,
        provider: &str,
        app_name: &str,
        environment: &str,
    ) -> Result<AppKey> {
        let row = sqlx::query(&format!(
            "SELECT {APP_KEY_COLUMNS} FROM app_keys WHERE owner_id = $1 AND provider = $2 AND app_name = $3 AND environment = $4"
        ))
        .bind(owner_id)
        .bind(provider)
        .bind(app_name)
        .bind(environment)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound("app key"))?;
        self.app_key_from_row(&row)
    }

    /// An app key by its id.
    pub async fn get_app_key_by_id(&self, owner_id: &str, id: &str) -> Result<AppKey> {
        let row = sqlx::query(&format!(
            "SELECT {APP_KEY_COLUMNS} FROM app_keys WHERE owner_id = $1 AND id = $2"
        ))
        .bind(owner_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound("app key"))?;
        self.app_key_from_row(&row)
    }

    /// The owner's app keys of one provider, oldest first.
    pub async fn list_app_keys(&self, owner_id: &str, provider: &str) -> Result<Vec<AppKey>> {
        let rows = sqlx::query(&format!(
            "SELECT {APP_KEY_COLUMNS} FROM app_keys WHERE owner_id = $1 AND provider = $2 ORDER BY created_at, id"
        ))
        .bind(owner_id)
        .bind(provider)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.app_key_from_row(r)).collect()
    }

    /// Deletes an app key (credentials made with it stay).
    pub async fn delete_app_key(
        &self,
        owner_id: &str,
        provider: &str,
        app_name: &str,
        environment: &str,
    ) -> Result<()> {
        let n = sqlx::query(
            "DELETE FROM app_keys WHERE owner_id = $1 AND provider = $2 AND app_name = $3 AND environment = $4",
        )
        .bind(owner_id)
        .bind(provider)
        .bind(app_name)
        .bind(environment)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("app key"));
        }
        Ok(())
    }

    /// Creates an API key for one of the owner's users; returns the row and the key (shown once: only its
    /// hash is kept).
    pub async fn create_api_key(
        &self,
        owner_id: &str,
        user_id: &str,
        description: Option<&str>,
        expires_at: i64,
    ) -> Result<(ApiKey, String)> {
        self.get_user(owner_id, user_id).await?;
        let key = format!("lk_{}", random_token());
        let last4 = key[key.len() - 4..].to_owned();
        let id = new_id();
        let now = furrow_model::now_micros();
        sqlx::query(
            "INSERT INTO api_keys (id, owner_id, user_id, key_hash, last4, description, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(user_id)
        .bind(token_hash(&key))
        .bind(&last4)
        .bind(description)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok((
            ApiKey {
                id,
                user_id: user_id.to_owned(),
                last4,
                description: description.map(str::to_owned),
                created_at: now,
                expires_at,
                revoked_at: None,
            },
            key,
        ))
    }

    fn api_key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey> {
        Ok(ApiKey {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            last4: row.try_get("last4")?,
            description: row.try_get("description")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
        })
    }

    /// A user's API keys, newest first.
    pub async fn list_api_keys(&self, owner_id: &str, user_id: &str) -> Result<Vec<ApiKey>> {
        self.get_user(owner_id, user_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE owner_id = $1 AND user_id = $2 ORDER BY created_at DESC, id"
        ))
        .bind(owner_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(Self::api_key_from_row).collect()
    }

    /// Revokes an API key (the row stays, `revoked_at` set once; revoking again changes nothing).
    pub async fn revoke_api_key(&self, owner_id: &str, id: &str) -> Result<()> {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM api_keys WHERE owner_id = $1 AND id = $2")
                .bind(owner_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        if exists.is_none() {
            return Err(Error::NotFound("API key"));
        }
        sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE owner_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The owner and key behind an API key, when it is valid at `now`: the only way a key is recognised.
    pub async fn api_key_for(&self, key: &str, now: i64) -> Result<Option<(String, ApiKey)>> {
        let row = sqlx::query(&format!(
            "SELECT owner_id, {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1"
        ))
        .bind(token_hash(key))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let k = Self::api_key_from_row(&row)?;
        Ok(k.is_valid(now)
            .then(|| row.try_get("owner_id").map(|o| (o, k)))
            .transpose()?)
    }

    fn link_from_row(&self, row: &sqlx::any::AnyRow) -> Result<MagicLink> {
        let hash: String = row.try_get("token_hash")?;
        let sealed: Vec<u8> = row.try_get("token_sealed")?;
        let token = self
            .key
            .open(&sealed, &format!("magic-link:{hash}"))
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::Decrypt {
                credential_id: "magic link".into(),
            })?;
        let providers: String = row.try_get("providers")?;
        let settings: String = row.try_get("settings")?;
        Ok(MagicLink {
            token,
            hash,
            owner_id: row.try_get("owner_id")?,
            user_id: row.try_get("user_id")?,
            widget: row.try_get("widget")?,
            providers: serde_json::from_str(&providers)
                .map_err(|e| corrupt("magic_links", e.to_string()))?,
            settings: serde_json::from_str(&settings)
                .map_err(|e| corrupt("magic_links", e.to_string()))?,
            app_name: row.try_get("app_name")?,
            max_usage: row.try_get("max_usage")?,
            usage_count: row.try_get("usage_count")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            last_accessed_at: row.try_get("last_accessed_at")?,
            deleted_at: row.try_get("deleted_at")?,
        })
    }

    /// Creates a Magic Link for one of the owner's users, with a fresh random token.
    pub async fn create_magic_link(
        &self,
        owner_id: &str,
        link: &NewMagicLink,
    ) -> Result<MagicLink> {
        self.get_user(owner_id, &link.user_id).await?;
        let token = random_token();
        let hash = token_hash(&token);
        let now = furrow_model::now_micros();
        sqlx::query(&format!(
            "INSERT INTO magic_links ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, NULL, NULL)"
        ))
        .bind(&hash)
        .bind(self.key.seal(token.as_bytes(), &format!("magic-link:{hash}")))
        .bind(owner_id)
        .bind(&link.user_id)
        .bind(&link.widget)
        .bind(to_json(&link.providers))
        .bind(to_json(&link.settings))
        .bind(link.app_name.as_deref())
        .bind(link.max_usage)
        .bind(now)
        .bind(link.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(MagicLink {
            token,
            hash,
            owner_id: owner_id.to_owned(),
            user_id: link.user_id.clone(),
            widget: link.widget.clone(),
            providers: link.providers.clone(),
            settings: link.settings.clone(),
            app_name: link.app_name.clone(),
            max_usage: link.max_usage,
            usage_count: 0,
            created_at: now,
            expires_at: link.expires_at,
            last_accessed_at: None,
            deleted_at: None,
        })
    }

    /// The owner's links of one widget type (not deleted), newest first, optionally for one user.
    pub async fn list_magic_links(
        &self,
        owner_id: &str,
        widget: &str,
        user_id: Option<&str>,
        page: furrow_model::Page,
    ) -> Result<(Vec<MagicLink>, i64)> {
        let mut conds = String::from("owner_id = $1 AND widget = $2 AND deleted_at IS NULL");
        if user_id.is_some() {
            conds.push_str(" AND user_id = $3");
        }
        let count_sql = format!("SELECT COUNT(*) FROM magic_links WHERE {conds}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql)
            .bind(owner_id)
            .bind(widget);
        if let Some(u) = user_id {
            count = count.bind(u);
        }
        let total = count.fetch_one(&self.pool).await?;
        let n = if user_id.is_some() { 3 } else { 2 };
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM magic_links WHERE {conds} ORDER BY created_at DESC, token_hash LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query(&sql).bind(owner_id).bind(widget);
        if let Some(u) = user_id {
            q = q.bind(u);
        }
        let rows = q
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let links = rows
            .iter()
            .map(|r| self.link_from_row(r))
            .collect::<Result<Vec<_>>>()?;
        Ok((links, total))
    }

    /// One of the owner's links of this widget type, by its token (not deleted).
    pub async fn get_magic_link(
        &self,
        owner_id: &str,
        widget: &str,
        token: &str,
    ) -> Result<MagicLink> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM magic_links WHERE owner_id = $1 AND widget = $2 AND token_hash = $3 AND deleted_at IS NULL"
        ))
        .bind(owner_id)
        .bind(widget)
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound("magic link"))?;
        self.link_from_row(&row)
    }

    /// Deletes one of the owner's links (kept as deleted, so the page can say so; gone with its user).
    pub async fn delete_magic_link(&self, owner_id: &str, widget: &str, token: &str) -> Result<()> {
        let n = sqlx::query(
            "UPDATE magic_links SET deleted_at = $1 WHERE owner_id = $2 AND widget = $3 AND token_hash = $4 AND deleted_at IS NULL",
        )
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(widget)
        .bind(token_hash(token))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("magic link"));
        }
        Ok(())
    }

    /// The link behind a token from a grower's browser (the token is the capability), deleted ones included so
    /// the page can say what happened. `None` for unknown tokens.
    pub async fn magic_link_by_token(&self, token: &str) -> Result<Option<MagicLink>> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM magic_links WHERE token_hash = $1"
        ))
        .bind(token_hash(token))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| self.link_from_row(&r)).transpose()
    }

    /// The link by its hash (an OAuth session's link).
    pub async fn magic_link_by_hash(&self, owner_id: &str, hash: &str) -> Result<MagicLink> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM magic_links WHERE owner_id = $1 AND token_hash = $2"
        ))
        .bind(owner_id)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound("magic link"))?;
        self.link_from_row(&row)
    }

    /// Records that the hosted page loaded the link.
    pub async fn touch_magic_link(&self, hash: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE magic_links SET last_accessed_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Takes one use of a link, atomically: `false` when its uses are exhausted or it was deleted.
    pub async fn use_magic_link(&self, owner_id: &str, hash: &str) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE magic_links SET usage_count = usage_count + 1 \
             WHERE owner_id = $1 AND token_hash = $2 AND usage_count < max_usage AND deleted_at IS NULL",
        )
        .bind(owner_id)
        .bind(hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Gives a use back (the work it was taken for failed).
    pub async fn unuse_magic_link(&self, owner_id: &str, hash: &str) -> Result<()> {
        sqlx::query(
            "UPDATE magic_links SET usage_count = usage_count - 1 WHERE owner_id = $1 AND token_hash = $2 AND usage_count > 0",
        )
        .bind(owner_id)
        .bind(hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Opens an OAuth session for `state` (only its hash is kept).
    pub async fn create_oauth_session(&self, state: &str, s: &OAuthSession) -> Result<()> {
        let hash = token_hash(state);
        let verifier = s.code_verifier.as_ref().map(|v| {
            self.key
                .seal(v.as_bytes(), &format!("oauth-session:{hash}"))
        });
        let now = furrow_model::now_micros();
        // Sessions a day past their expiry are of no use to anyone.
        sqlx::query("DELETE FROM oauth_sessions WHERE expires_at < $1")
            .bind(now - 86_400_000_000)
            .execute(&self.pool)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO oauth_sessions ({SESSION_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12)"
        ))
        .bind(&hash)
        .bind(&s.owner_id)
        .bind(&s.user_id)
        .bind(&s.provider)
        .bind(&s.app_key_id)
        .bind(&s.environment)
        .bind(s.magic_link_hash.as_deref())
        .bind(verifier)
        .bind(&s.redirect_uri)
        .bind(s.expires_at)
        .bind(s.api_key_id.as_deref())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives the session of `state` a one-time start link: `start_token` (kept as its hash) leads to
    /// `authorize_url` (sealed: it carries the state) until `expires_at` (µs).
    pub async fn set_oauth_start(
        &self,
        state: &str,
        start_token: &str,
        authorize_url: &str,
        expires_at: i64,
    ) -> Result<()> {
        let hash = token_hash(state);
        let sealed = self
            .key
            .seal(authorize_url.as_bytes(), &format!("oauth-start:{hash}"));
        let n = sqlx::query(
            "UPDATE oauth_sessions SET start_hash = $1, start_url = $2, start_expires_at = $3 WHERE state_hash = $4",
        )
        .bind(token_hash(start_token))
        .bind(sealed)
        .bind(expires_at)
        .bind(&hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("OAuth session"));
        }
        Ok(())
    }

    /// Takes a start link, once: the authorize URL, when the token is known, unused and not expired at `now`.
    pub async fn take_oauth_start(&self, start_token: &str, now: i64) -> Result<Option<String>> {
        let start_hash = token_hash(start_token);
        let row = sqlx::query(
            "SELECT state_hash, start_url, start_expires_at FROM oauth_sessions WHERE start_hash = $1",
        )
        .bind(&start_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state_hash: String = row.try_get("state_hash")?;
        let sealed: Option<Vec<u8>> = row.try_get("start_url")?;
        let expires_at: Option<i64> = row.try_get("start_expires_at")?;
        // Single use: whoever clears it first has it.
        let n = sqlx::query(
            "UPDATE oauth_sessions SET start_hash = NULL, start_url = NULL WHERE state_hash = $1 AND start_hash = $2",
        )
        .bind(&state_hash)
        .bind(&start_hash)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n != 1 || expires_at.is_none_or(|e| now >= e) {
            return Ok(None);
        }
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        self.key
            .open(&sealed, &format!("oauth-start:{state_hash}"))
            .and_then(|b| String::from_utf8(b).ok())
            .map(Some)
            .ok_or_else(|| Error::Decrypt {
                credential_id: "oauth start link".into(),
            })
    }

    /// One of the owner's API keys by id.
    pub async fn get_api_key(&self, owner_id: &str, id: &str) -> Result<ApiKey> {
        let row = sqlx::query(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE owner_id = $1 AND id = $2"
        ))
        .bind(owner_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound("API key"))?;
        Self::api_key_from_row(&row)
    }

    /// The session of a `state`, consumed or not; `None` when unknown.
    pub async fn oauth_session(&self, state: &str) -> Result<Option<OAuthSession>> {
        let hash = token_hash(state);
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLUMNS} FROM oauth_sessions WHERE state_hash = $1"
        ))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let sealed: Option<Vec<u8>> = row.try_get("code_verifier")?;
        let code_verifier = match sealed {
            Some(b) => Some(
                self.key
                    .open(&b, &format!("oauth-session:{hash}"))
                    .and_then(|v| String::from_utf8(v).ok())
                    .ok_or_else(|| Error::Decrypt {
                        credential_id: "oauth session".into(),
                    })?,
            ),
            None => None,
        };
        Ok(Some(OAuthSession {
            state_hash: hash,
            owner_id: row.try_get("owner_id")?,
            user_id: row.try_get("user_id")?,
            provider: row.try_get("provider")?,
            app_key_id: row.try_get("app_key_id")?,
            environment: row.try_get("environment")?,
            magic_link_hash: row.try_get("magic_link_hash")?,
            api_key_id: row.try_get("api_key_id")?,
            code_verifier,
            redirect_uri: row.try_get("redirect_uri")?,
            expires_at: row.try_get("expires_at")?,
            consumed_at: row.try_get("consumed_at")?,
        }))
    }

    /// Marks a session used, atomically: `false` when it was already used or has expired (a replayed
    /// callback).
    pub async fn consume_oauth_session(&self, state: &str, now: i64) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE oauth_sessions SET consumed_at = $1 WHERE state_hash = $2 AND consumed_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash(state))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }
}
