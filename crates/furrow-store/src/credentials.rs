use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use furrow_credentials::{CredentialInput, CredentialStatus, Provider};
use sqlx::Row;

use crate::db::new_id;
use crate::owners::is_unique_violation;
use crate::{Backend, Error, Result, Store};

/// A provider credential as stored, with its secrets decrypted (never log this value).
#[derive(Clone, PartialEq, Eq)]
pub struct StoredCredential {
    /// UUID.
    pub id: String,
    /// The API owner it belongs to.
    pub owner_id: String,
    /// The Leaf user it belongs to.
    pub user_id: String,
    /// The provider.
    pub provider: Provider,
    /// Where validation and refresh left it.
    pub status: CredentialStatus,
    /// Creation instant, microseconds since the Unix epoch.
    pub created_at: i64,
    /// Non-secret fields (`clientKey`, `clientEnvironment`, …).
    pub public: BTreeMap<String, String>,
    /// Secret fields, decrypted (`clientSecret`, `refreshToken`, `accessToken`, …).
    pub secrets: BTreeMap<String, String>,
    /// OAuth scopes granted, when known.
    pub scopes: Vec<String>,
    /// The access token (or session) furrow last obtained for this credential, sealed at rest; `None` until
    /// one was obtained (a token given at creation is never trusted: its expiry is unknown).
    pub access_token: Option<String>,
    /// When `access_token` was obtained, µs since the epoch.
    pub access_issued_at: Option<i64>,
    /// When `access_token` expires, µs since the epoch, when the provider said.
    pub access_expires_at: Option<i64>,
}

/// What a refresh under [`Store::with_credential_lock`] obtained: written, sealed, before the lock is released.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenUpdate {
    /// Credential values to merge into the sealed secrets (a rotated `refreshToken`, `accessToken`, a session).
    pub secrets: BTreeMap<String, String>,
    /// The token data calls send.
    pub access_token: String,
    /// When it was obtained, µs since the epoch.
    pub issued_at: i64,
    /// When it expires, µs since the epoch, when the provider said.
    pub expires_at: Option<i64>,
}

impl std::fmt::Debug for TokenUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenUpdate")
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// One credential's locks in this process.
#[derive(Debug, Default)]
struct Slot {
    /// One refresh at a time (then the database lock, across processes).
    refresh: tokio::sync::Mutex<()>,
    /// Provider calls in flight hold it shared; a deletion holds it exclusively (SQLite).
    calls: Arc<tokio::sync::RwLock<()>>,
}

/// The per-credential locks of one database in this process.
#[derive(Debug, Default)]
pub(crate) struct CredentialLocks {
    slots: Mutex<HashMap<String, Weak<Slot>>>,
}

impl CredentialLocks {
    /// The locks of the database at `url`, shared by every store of this process opened on it.
    pub(crate) fn for_database(url: &str) -> Arc<Self> {
        static ALL: OnceLock<Mutex<HashMap<String, Weak<CredentialLocks>>>> = OnceLock::new();
        let mut all = ALL
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(l) = all.get(url).and_then(Weak::upgrade) {
            return l;
        }
        all.retain(|_, w| w.strong_count() > 0);
        let l = Arc::new(Self::default());
        all.insert(url.to_owned(), Arc::downgrade(&l));
        l
    }

    fn slot(&self, credential_id: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = slots.get(credential_id).and_then(Weak::upgrade) {
            return s;
        }
        if slots.len() >= 1024 {
            slots.retain(|_, w| w.strong_count() > 0);
        }
        let s = Arc::new(Slot::default());
        slots.insert(credential_id.to_owned(), Arc::downgrade(&s));
        s
    }
}

/// Permission to send one request to a provider with a credential's secrets, held while the request is in
/// flight ([`Store::credential_call`]). A deletion of the credential or its user waits until every permit is
/// dropped.
#[must_use]
pub struct CredentialCall {
    _held: CallHeld,
}

enum CallHeld {
    /// SQLite: this process's gate.
    Local(
        #[allow(dead_code)] Arc<Slot>,
        #[allow(dead_code)] tokio::sync::OwnedRwLockReadGuard<()>,
    ),
    /// PostgreSQL: a `FOR KEY SHARE` lock on the credential row, which `DELETE` waits for on every node.
    Row(#[allow(dead_code)] sqlx::Transaction<'static, sqlx::Any>),
}

impl std::fmt::Debug for CredentialCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self._held {
            CallHeld::Local(..) => "CredentialCall(local)",
            CallHeld::Row(_) => "CredentialCall(row lock)",
        })
    }
}

/// Exclusive holds on credentials' call gates while they are deleted (SQLite; empty on PostgreSQL).
pub(crate) struct HeldCalls(
    #[allow(dead_code)] Vec<(Arc<Slot>, tokio::sync::OwnedRwLockWriteGuard<()>)>,
);

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("status", &self.status)
            .field("public", &self.public)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, owner_id, user_id, provider, status, public_fields, secrets, scopes, created_at, \
     access_token, access_issued_at, access_expires_at";

/// Deletes the queued jobs of credentials about to be deleted: validations, syncs (dedupe keys of
/// `crate::queue`) and the processing of their originals. Running ones stop at their next provider call
/// ([`Store::credential_call`]).
pub(crate) async fn cancel_credential_jobs(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    owner_id: &str,
    ids: &[String],
) -> Result<u64> {
    let mut n = 0;
    for id in ids {
        n += sqlx::query(
            "DELETE FROM jobs WHERE owner_id = $1 AND state = 'queued' AND dedupe_key IN ($2, $3, $4)",
        )
        .bind(owner_id)
        .bind(format!("validate:{id}"))
        .bind(format!("fields_sync:{id}"))
        .bind(format!("files_sync:{id}"))
        .execute(&mut **tx)
        .await?
        .rows_affected();
        n += sqlx::query(
            "DELETE FROM jobs WHERE owner_id = $1 AND state = 'queued' AND dedupe_key IN \
             (SELECT 'process:' || id FROM originals WHERE owner_id = $1 AND credential_id = $2)",
        )
        .bind(owner_id)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(n)
}

impl Store {
    /// Stores a validated credential for a user, status `PROCESSING`, secrets sealed.
    ///
    /// [`Error::NotFound`] when the user is not the owner's; [`Error::AlreadyExists`] when the user already
    /// has a credential for this provider.
    pub async fn create_credential(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &CredentialInput,
    ) -> Result<StoredCredential> {
        self.get_user(owner_id, user_id).await?;
        let id = new_id();
        let public: BTreeMap<String, String> = input
            .public_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let secrets: BTreeMap<String, String> = input
            .secret_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let now = furrow_model::now_micros();
        let provider = input.provider();
        let status = CredentialStatus::Processing;
        let res = sqlx::query(
            "INSERT INTO credentials (id, owner_id, user_id, provider, status, public_fields, secrets, scopes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(user_id)
        .bind(provider.slug())
        .bind(status.as_str())
        .bind(json(&public))
        .bind(self.seal_secrets(&id, &secrets))
        .bind("[]")
        .bind(now)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(StoredCredential {
                id,
                owner_id: owner_id.to_owned(),
                user_id: user_id.to_owned(),
                provider,
                status,
                created_at: now,
                public,
                secrets,
                scopes: Vec::new(),
                access_token: None,
                access_issued_at: None,
                access_expires_at: None,
            }),
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists("credentials")),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a credential for a user in place of the one it has for that provider, if any, in one
    /// transaction: the old credential, its events and its queued jobs go, the new one is `PROCESSING` with its
    /// secrets sealed and, when given, the access token issued with them. Provider calls in flight with the old
    /// secrets finish first (as [`Store::delete_credential`]). A grower reconnecting through a Magic Link.
    pub async fn replace_credential(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &CredentialInput,
        tokens: Option<TokenUpdate>,
    ) -> Result<StoredCredential> {
        self.get_user(owner_id, user_id).await?;
        let provider = input.provider();
        let old = match self.get_credential(owner_id, user_id, provider).await {
            Ok(c) => Some(c.id),
            Err(Error::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let held: Vec<String> = old.iter().cloned().collect();
        let _held = self.hold_credential_calls(&held).await;
        let id = new_id();
        let public: BTreeMap<String, String> = input
            .public_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let mut secrets: BTreeMap<String, String> = input
            .secret_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let now = furrow_model::now_micros();
        let status = CredentialStatus::Processing;
        let mut tx = self.begin_write().await?;
        if let Some(old) = &old {
            cancel_credential_jobs(&mut tx, owner_id, std::slice::from_ref(old)).await?;
            sqlx::query("DELETE FROM credential_events WHERE owner_id = $1 AND credential_id = $2")
                .bind(owner_id)
                .bind(old)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM credentials WHERE owner_id = $1 AND id = $2")
                .bind(owner_id)
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        let (access_token, issued_at, expires_at) = match tokens {
            Some(t) => {
                secrets.extend(t.secrets);
                (Some(t.access_token), Some(t.issued_at), t.expires_at)
            }
            None => (None, None, None),
        };
        let res = sqlx::query(
            "INSERT INTO credentials (id, owner_id, user_id, provider, status, public_fields, secrets, scopes, \
             access_token, access_issued_at, access_expires_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(user_id)
        .bind(provider.slug())
        .bind(status.as_str())
        .bind(json(&public))
        .bind(self.seal_secrets(&id, &secrets))
        .bind("[]")
        .bind(
            access_token
                .as_ref()
                .map(|t| self.seal_access_token(&id, t)),
        )
        .bind(issued_at)
        .bind(expires_at)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            // Another connection of the same provider landed in between.
            Err(e) if is_unique_violation(&e) => return Err(Error::AlreadyExists("credentials")),
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(StoredCredential {
            id,
            owner_id: owner_id.to_owned(),
            user_id: user_id.to_owned(),
            provider,
            status,
            created_at: now,
            public,
            secrets,
            scopes: Vec::new(),
            access_token,
            access_issued_at: issued_at,
            access_expires_at: expires_at,
        })
    }

    /// The user's credential for a provider.
    pub async fn get_credential(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: Provider,
    ) -> Result<StoredCredential> {
        let sql = format!(
            "SELECT {COLUMNS} FROM credentials WHERE owner_id = $1 AND user_id = $2 AND provider = $3"
        );
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .bind(provider.slug())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => self.credential_from_row(&r),
            None => Err(Error::NotFound("credentials")),
        }
    }

    /// A credential by id.
    pub async fn get_credential_by_id(&self, owner_id: &str, id: &str) -> Result<StoredCredential> {
        let sql = format!("SELECT {COLUMNS} FROM credentials WHERE owner_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(owner_id)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => self.credential_from_row(&r),
            None => Err(Error::NotFound("credentials")),
        }
    }

    /// Every credential of a user, in provider order.
    pub async fn list_user_credentials(
        &self,
        owner_id: &str,
        user_id: &str,
    ) -> Result<Vec<StoredCredential>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM credentials WHERE owner_id = $1 AND user_id = $2 ORDER BY provider"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| self.credential_from_row(r)).collect()
    }

    /// Deletes the user's credential for a provider and its events, and cancels its queued jobs. Provider calls
    /// in flight with its secrets finish first; none starts once this returned ([`Store::credential_call`]).
    pub async fn delete_credential(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: Provider,
    ) -> Result<()> {
        let cred = self.get_credential(owner_id, user_id, provider).await?;
        let ids = [cred.id.clone()];
        let _held = self.hold_credential_calls(&ids).await;
        let mut tx = self.begin_write().await?;
        cancel_credential_jobs(&mut tx, owner_id, &ids).await?;
        sqlx::query("DELETE FROM credential_events WHERE owner_id = $1 AND credential_id = $2")
            .bind(owner_id)
            .bind(&cred.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM credentials WHERE owner_id = $1 AND id = $2")
            .bind(owner_id)
            .bind(&cred.id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Before credentials are deleted: waits for this process's provider calls in flight with their secrets,
    /// and holds new ones (which then find the credential gone) until the returned value is dropped. SQLite
    /// only: on PostgreSQL the `DELETE` itself waits for the `FOR KEY SHARE` locks of every node's calls.
    pub(crate) async fn hold_credential_calls(&self, ids: &[String]) -> HeldCalls {
        if self.backend() != Backend::Sqlite {
            return HeldCalls(Vec::new());
        }
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let mut held = Vec::with_capacity(ids.len());
        for id in ids {
            let slot = self.locks.slot(&id);
            let guard = slot.calls.clone().write_owned().await;
            held.push((slot, guard));
        }
        HeldCalls(held)
    }

    /// Permission to send one request to the provider with credential `id`'s secrets; hold it until the
    /// answer arrived. [`Error::NotFound`] once the credential is deleted: a deletion waits for every permit
    /// given before it, and no permit is given after it.
    pub async fn credential_call(&self, owner_id: &str, id: &str) -> Result<CredentialCall> {
        match self.backend() {
            Backend::Postgres => {
                let mut tx = self.pool.begin().await?;
                let found: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM credentials WHERE owner_id = $1 AND id = $2 FOR KEY SHARE",
                )
                .bind(owner_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                if found.is_none() {
                    return Err(Error::NotFound("credentials"));
                }
                Ok(CredentialCall {
                    _held: CallHeld::Row(tx),
                })
            }
            Backend::Sqlite => {
                let slot = self.locks.slot(id);
                let guard = slot.calls.clone().read_owned().await;
                let found: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM credentials WHERE owner_id = $1 AND id = $2",
                )
                .bind(owner_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                if found.is_none() {
                    return Err(Error::NotFound("credentials"));
                }
                Ok(CredentialCall {
                    _held: CallHeld::Local(slot, guard),
                })
            }
        }
    }

    /// Runs `refresh` under credential `id`'s lock, with the credential as stored now (re-read after the lock
    /// was taken: another worker may have refreshed meanwhile); an update it returns is sealed and written
    /// before the lock is released, and the credential as written is returned. One holder at a time per
    /// credential across every process sharing the database: a `FOR NO KEY UPDATE` row lock on PostgreSQL
    /// (held during `refresh`), this process's lock on SQLite (one process serves an SQLite file), with the
    /// write in an immediate transaction. An error of `refresh` releases the lock and writes nothing.
    pub async fn with_credential_lock<E, F, Fut>(
        &self,
        owner_id: &str,
        id: &str,
        refresh: F,
    ) -> Result<std::result::Result<StoredCredential, E>>
    where
        F: FnOnce(StoredCredential) -> Fut,
        Fut: Future<Output = std::result::Result<Option<TokenUpdate>, E>>,
    {
        let slot = self.locks.slot(id);
        let _one = slot.refresh.lock().await;
        let sql = format!("SELECT {COLUMNS} FROM credentials WHERE owner_id = $1 AND id = $2");
        if self.backend() == Backend::Postgres {
            let mut tx = self.pool.begin().await?;
            let row = sqlx::query(&format!("{sql} FOR NO KEY UPDATE"))
                .bind(owner_id)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(Error::NotFound("credentials"))?;
            let cred = self.credential_from_row(&row)?;
            return match refresh(cred.clone()).await {
                Err(e) => {
                    tx.rollback().await?;
                    Ok(Err(e))
                }
                Ok(None) => {
                    tx.commit().await?;
                    Ok(Ok(cred))
                }
                Ok(Some(update)) => {
                    let written = self.write_tokens(&mut tx, cred, update).await?;
                    tx.commit().await?;
                    Ok(Ok(written))
                }
            };
        }
        let cred = self.get_credential_by_id(owner_id, id).await?;
        match refresh(cred).await {
            Err(e) => Ok(Err(e)),
            Ok(None) => Ok(Ok(self.get_credential_by_id(owner_id, id).await?)),
            Ok(Some(update)) => {
                let mut tx = self.begin_write().await?;
                // Re-read in the write transaction: a status or scope change may have landed meanwhile.
                let row = sqlx::query(&sql)
                    .bind(owner_id)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(Error::NotFound("credentials"))?;
                let current = self.credential_from_row(&row)?;
                let written = self.write_tokens(&mut tx, current, update).await?;
                tx.commit().await?;
                Ok(Ok(written))
            }
        }
    }

    async fn write_tokens(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        mut cred: StoredCredential,
        update: TokenUpdate,
    ) -> Result<StoredCredential> {
        cred.secrets.extend(update.secrets);
        sqlx::query(
            "UPDATE credentials SET secrets = $1, access_token = $2, access_issued_at = $3, \
             access_expires_at = $4, updated_at = $5 WHERE owner_id = $6 AND id = $7",
        )
        .bind(self.seal_secrets(&cred.id, &cred.secrets))
        .bind(self.seal_access_token(&cred.id, &update.access_token))
        .bind(update.issued_at)
        .bind(update.expires_at)
        .bind(furrow_model::now_micros())
        .bind(&cred.owner_id)
        .bind(&cred.id)
        .execute(&mut **tx)
        .await?;
        cred.access_token = Some(update.access_token);
        cred.access_issued_at = Some(update.issued_at);
        cred.access_expires_at = update.expires_at;
        Ok(cred)
    }

    /// Merges `updates` into a credential's sealed secrets in one write transaction (read, merge and write
    /// cannot interleave with another writer's).
    pub async fn merge_credential_secrets(
        &self,
        owner_id: &str,
        id: &str,
        updates: &BTreeMap<String, String>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let lock = if self.backend() == Backend::Postgres {
            " FOR NO KEY UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM credentials WHERE owner_id = $1 AND id = $2{lock}"
        ))
        .bind(owner_id)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound("credentials"))?;
        let mut cred = self.credential_from_row(&row)?;
        cred.secrets
            .extend(updates.iter().map(|(k, v)| (k.clone(), v.clone())));
        sqlx::query(
            "UPDATE credentials SET secrets = $1, updated_at = $2 WHERE owner_id = $3 AND id = $4",
        )
        .bind(self.seal_secrets(id, &cred.secrets))
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-seals every secret still sealed with the previous key (a key rotation): credentials, webhooks, app
    /// keys, Magic Link tokens, PKCE verifiers and start links; returns how many rows were re-sealed. Safe to run again:
    /// rows already under the current key are left.
    pub async fn reseal_secrets(&self) -> Result<usize> {
        let mut n = 0;
        // (table, key column, sealed column, context prefix): each sealed value is bound to `prefix:key`.
        for (table, key, column, prefix) in [
            ("credentials", "id", "secrets", "credential"),
            ("credentials", "id", "access_token", "credential-token"),
            ("webhooks", "id", "secret", "webhook"),
            ("app_keys", "id", "secrets", "app-key"),
            ("magic_links", "token_hash", "token_sealed", "magic-link"),
            (
                "oauth_sessions",
                "state_hash",
                "code_verifier",
                "oauth-session",
            ),
            ("oauth_sessions", "state_hash", "start_url", "oauth-start"),
        ] {
            let rows = sqlx::query(&format!(
                "SELECT {key} AS id, {column} FROM {table} WHERE {column} IS NOT NULL"
            ))
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                let id: String = row.try_get("id")?;
                let sealed: Vec<u8> = row.try_get(column)?;
                let context = format!("{prefix}:{id}");
                if self.key.opens_with_current(&sealed, &context) {
                    continue;
                }
                let plain = self
                    .key
                    .open(&sealed, &context)
                    .ok_or_else(|| Error::Decrypt {
                        credential_id: id.clone(),
                    })?;
                sqlx::query(&format!(
                    "UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} = $3"
                ))
                .bind(self.key.seal(&plain, &context))
                .bind(&id)
                .bind(&sealed)
                .execute(&self.pool)
                .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Takes up to `limit` credentials due for a background sync (status OK or LIMITED_PERMISSION and
    /// `next_sync_at` passed or unset) and moves their next sync to `next`; returns `(owner_id, credential_id)`.
    /// Concurrent schedulers never take the same credential twice: the update re-checks the due time.
    pub async fn take_due_credentials(
        &self,
        now: i64,
        next: i64,
        limit: i64,
    ) -> Result<Vec<(String, String)>> {
        let due: Vec<(String, String)> = sqlx::query_as(
            "SELECT owner_id, id FROM credentials WHERE status IN ('OK', 'LIMITED_PERMISSION') \
             AND (next_sync_at IS NULL OR next_sync_at <= $1) ORDER BY next_sync_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut taken = Vec::with_capacity(due.len());
        for (owner, id) in due {
            let n = sqlx::query(
                "UPDATE credentials SET next_sync_at = $1 WHERE id = $2 AND (next_sync_at IS NULL OR next_sync_at <= $3)",
            )
            .bind(next)
            .bind(&id)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if n == 1 {
                taken.push((owner, id));
            }
        }
        Ok(taken)
    }

    /// Records that a credential's sync finished now.
    pub async fn mark_credential_synced(&self, owner_id: &str, id: &str) -> Result<()> {
        sqlx::query("UPDATE credentials SET last_sync_at = $1 WHERE owner_id = $2 AND id = $3")
            .bind(furrow_model::now_micros())
            .bind(owner_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves a credential's next background sync to `at` (an on-demand sync asks for now).
    pub async fn schedule_credential_sync(&self, owner_id: &str, id: &str, at: i64) -> Result<()> {
        sqlx::query("UPDATE credentials SET next_sync_at = $1 WHERE owner_id = $2 AND id = $3")
            .bind(at)
            .bind(owner_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the outcome of a validation or refresh.
    pub async fn set_credential_status(
        &self,
        owner_id: &str,
        id: &str,
        status: CredentialStatus,
    ) -> Result<()> {
        let n = sqlx::query(
            "UPDATE credentials SET status = $1, updated_at = $2 WHERE owner_id = $3 AND id = $4",
        )
        .bind(status.as_str())
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            Err(Error::NotFound("credentials"))
        } else {
            Ok(())
        }
    }

    /// Replaces the sealed secrets (e.g. a rotated refresh token) and the granted scopes in one write.
    pub async fn update_credential_secrets(
        &self,
        owner_id: &str,
        id: &str,
        secrets: &BTreeMap<String, String>,
        scopes: &[String],
    ) -> Result<()> {
        let n = sqlx::query("UPDATE credentials SET secrets = $1, scopes = $2, updated_at = $3 WHERE owner_id = $4 AND id = $5")
            .bind(self.seal_secrets(id, secrets))
            .bind(serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into()))
            .bind(furrow_model::now_micros())
            .bind(owner_id)
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 {
            Err(Error::NotFound("credentials"))
        } else {
            Ok(())
        }
    }

    fn seal_access_token(&self, id: &str, token: &str) -> Vec<u8> {
        self.key
            .seal(token.as_bytes(), &format!("credential-token:{id}"))
    }

    fn seal_secrets(&self, id: &str, secrets: &BTreeMap<String, String>) -> Vec<u8> {
        self.key
            .seal(json(secrets).as_bytes(), &format!("credential:{id}"))
    }

    fn credential_from_row(&self, row: &sqlx::any::AnyRow) -> Result<StoredCredential> {
        let id: String = row.try_get("id")?;
        let corrupt = |message: String| Error::Corrupt {
            table: "credentials",
            message,
        };
        let provider_slug: String = row.try_get("provider")?;
        let provider = Provider::from_slug(&provider_slug)
            .ok_or_else(|| corrupt(format!("unknown provider {provider_slug}")))?;
        let status_text: String = row.try_get("status")?;
        let status: CredentialStatus = status_text
            .parse()
            .map_err(|_| corrupt(format!("unknown status {status_text}")))?;
        let public_text: String = row.try_get("public_fields")?;
        let public = serde_json::from_str(&public_text).map_err(|e| corrupt(e.to_string()))?;
        let sealed: Vec<u8> = row.try_get("secrets")?;
        let plain = self
            .key
            .open(&sealed, &format!("credential:{id}"))
            .ok_or_else(|| Error::Decrypt {
                credential_id: id.clone(),
            })?;
        let secrets = serde_json::from_slice(&plain).map_err(|e| corrupt(e.to_string()))?;
        let scopes_text: String = row.try_get("scopes")?;
        let scopes = serde_json::from_str(&scopes_text).map_err(|e| corrupt(e.to_string()))?;
        let access_token = match row.try_get::<Option<Vec<u8>>, _>("access_token")? {
            Some(sealed) => {
                let plain = self
                    .key
                    .open(&sealed, &format!("credential-token:{id}"))
                    .ok_or_else(|| Error::Decrypt {
                        credential_id: id.clone(),
                    })?;
                Some(String::from_utf8(plain).map_err(|e| corrupt(e.to_string()))?)
            }
            None => None,
        };
        Ok(StoredCredential {
            id,
            owner_id: row.try_get("owner_id")?,
            user_id: row.try_get("user_id")?,
            provider,
            status,
            created_at: row.try_get("created_at")?,
            public,
            secrets,
            scopes,
            access_token,
            access_issued_at: row.try_get("access_issued_at")?,
            access_expires_at: row.try_get("access_expires_at")?,
        })
    }
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}
