use sqlx::Row;

use crate::db::new_id;
use crate::owners::is_unique_violation;
use crate::{Error, Result, Store};

/// A webhook subscription (secret decrypted; never log it).
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    /// UUID.
    pub id: String,
    /// The API owner.
    pub owner_id: String,
    /// Display name.
    pub name: String,
    /// Where deliveries go.
    pub url: String,
    /// The signing secret.
    pub secret: String,
    /// Subscribed event keys.
    pub events: Vec<String>,
    /// Creation instant (µs).
    pub created_at: i64,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// One failed delivery attempt, as `GET /webhooks/failed-calls` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedCall {
    /// UUID.
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// When (µs).
    pub created_at: i64,
    /// Target URL.
    pub url: String,
    /// HTTP status, when an answer came.
    pub status: Option<i64>,
    /// Response body (truncated).
    pub response: String,
    /// The body sent.
    pub request_body: String,
    /// Why no answer came.
    pub connection_error: Option<String>,
    /// Attempt number (1-based).
    pub attempt: i64,
}

const COLUMNS: &str = "id, owner_id, name, url, secret, events, created_at";

impl Store {
    /// Creates a webhook. An event already subscribed by another of the owner's webhooks is
    /// [`Error::AlreadyExists`]`("webhook event")` and nothing is stored.
    pub async fn create_webhook(
        &self,
        owner_id: &str,
        name: &str,
        url: &str,
        secret: &str,
        events: &[String],
    ) -> Result<Webhook> {
        let id = new_id();
        let now = furrow_model::now_micros();
        let mut tx = self.begin_write().await?;
        sqlx::query(&format!(
            "INSERT INTO webhooks ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&id)
        .bind(owner_id)
        .bind(name)
        .bind(url)
        .bind(self.key.seal(secret.as_bytes(), &format!("webhook:{id}")))
        .bind(serde_json::to_string(events).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for event in events {
            let res = sqlx::query(
                "INSERT INTO webhook_events (owner_id, event, webhook_id) VALUES ($1, $2, $3)",
            )
            .bind(owner_id)
            .bind(event)
            .bind(&id)
            .execute(&mut *tx)
            .await;
            match res {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::AlreadyExists("webhook event"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        Ok(Webhook {
            id,
            owner_id: owner_id.to_owned(),
            name: name.to_owned(),
            url: url.to_owned(),
            secret: secret.to_owned(),
            events: events.to_vec(),
            created_at: now,
        })
    }

    /// The owner's webhooks, oldest first.
    pub async fn list_webhooks(&self, owner_id: &str) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE owner_id = $1 ORDER BY created_at, id"
        ))
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.webhook_from_row(r)).collect()
    }

    /// One webhook.
    pub async fn get_webhook(&self, owner_id: &str, id: &str) -> Result<Webhook> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM webhooks WHERE owner_id = $1 AND id = $2"
        ))
        .bind(owner_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(Error::NotFound("webhook"))?;
        self.webhook_from_row(&row)
    }

    /// The webhook subscribed to `event`, if any.
    pub async fn webhook_for_event(&self, owner_id: &str, event: &str) -> Result<Option<Webhook>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT webhook_id FROM webhook_events WHERE owner_id = $1 AND event = $2",
        )
        .bind(owner_id)
        .bind(event)
        .fetch_optional(&self.pool)
        .await?;
        match id {
            Some(id) => self.get_webhook(owner_id, &id).await.map(Some),
            None => Ok(None),
        }
    }

    /// Deletes a webhook and its event subscriptions.
    pub async fn delete_webhook(&self, owner_id: &str, id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM webhook_events WHERE owner_id = $1 AND webhook_id = $2")
            .bind(owner_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let n = sqlx::query("DELETE FROM webhooks WHERE owner_id = $1 AND id = $2")
            .bind(owner_id)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("webhook"));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed delivery attempt.
    pub async fn add_failed_call(&self, owner_id: &str, call: &FailedCall) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_failed_calls (id, owner_id, webhook_id, created_at, url, status, response, request_body, connection_error, attempt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(new_id())
        .bind(owner_id)
        .bind(&call.webhook_id)
        .bind(call.created_at)
        .bind(&call.url)
        .bind(call.status)
        .bind(&call.response)
        .bind(&call.request_body)
        .bind(call.connection_error.as_deref())
        .bind(call.attempt)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The owner's failed delivery attempts, newest first (at most `limit`).
    pub async fn list_failed_calls(&self, owner_id: &str, limit: i64) -> Result<Vec<FailedCall>> {
        let rows = sqlx::query(
            "SELECT id, webhook_id, created_at, url, status, response, request_body, connection_error, attempt \
             FROM webhook_failed_calls WHERE owner_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(owner_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FailedCall {
                    id: r.try_get("id")?,
                    webhook_id: r.try_get("webhook_id")?,
                    created_at: r.try_get("created_at")?,
                    url: r.try_get("url")?,
                    status: r.try_get("status")?,
                    response: r.try_get("response")?,
                    request_body: r.try_get("request_body")?,
                    connection_error: r.try_get("connection_error")?,
                    attempt: r.try_get("attempt")?,
                })
            })
            .collect()
    }

    fn webhook_from_row(&self, row: &sqlx::any::AnyRow) -> Result<Webhook> {
        let id: String = row.try_get("id")?;
        let sealed: Vec<u8> = row.try_get("secret")?;
        let secret = self
            .key
            .open(&sealed, &format!("webhook:{id}"))
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::Decrypt {
                credential_id: id.clone(),
            })?;
        let events: String = row.try_get("events")?;
        Ok(Webhook {
            owner_id: row.try_get("owner_id")?,
            name: row.try_get("name")?,
            url: row.try_get("url")?,
            secret,
            events: serde_json::from_str(&events).map_err(|e| Error::Corrupt {
                table: "webhooks",
                message: e.to_string(),
            })?,
            created_at: row.try_get("created_at")?,
            id,
        })
    }
}
