use std::collections::BTreeMap;

use furrow_credentials::{CredentialInput, CredentialStatus, Provider};
use sqlx::Row;

use crate::db::new_id;
use crate::owners::is_unique_violation;
use crate::{Error, Result, Store};

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
}

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

const COLUMNS: &str =
    "id, owner_id, user_id, provider, status, public_fields, secrets, scopes, created_at";

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
            }),
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists("credentials")),
            Err(e) => Err(e.into()),
        }
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

    /// Deletes the user's credential for a provider and its events.
    pub async fn delete_credential(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: Provider,
    ) -> Result<()> {
        let cred = self.get_credential(owner_id, user_id, provider).await?;
        let mut tx = self.begin_write().await?;
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

    /// Re-seals every credential and webhook secret still sealed with the previous key (a key rotation);
    /// returns how many rows were re-sealed. Safe to run again: rows already under the current key are left.
    pub async fn reseal_secrets(&self) -> Result<usize> {
        let mut n = 0;
        for (table, column, prefix) in [
            ("credentials", "secrets", "credential"),
            ("webhooks", "secret", "webhook"),
        ] {
            let rows = sqlx::query(&format!("SELECT id, {column} FROM {table}"))
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
                    "UPDATE {table} SET {column} = $1 WHERE id = $2 AND {column} = $3"
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
        })
    }
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}
