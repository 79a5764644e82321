use furrow_model::{CredentialEvent, NewCredentialEvent, Page, SortOrder};
use sqlx::Row;

use crate::db::new_id;
use crate::{Result, Store};

/// How long credential events are kept (Leaf's documented retention).
pub const EVENT_RETENTION_DAYS: i64 = 30;

impl Store {
    /// Records one exchange with a provider for a credential (the caller has redacted it already).
    pub async fn add_credential_event(
        &self,
        owner_id: &str,
        credential_id: &str,
        event: &NewCredentialEvent,
    ) -> Result<String> {
        self.add_credential_event_at(owner_id, credential_id, event, furrow_model::now_micros())
            .await
    }

    /// As [`add_credential_event`](Self::add_credential_event), at a given instant (imports and tests).
    pub async fn add_credential_event_at(
        &self,
        owner_id: &str,
        credential_id: &str,
        event: &NewCredentialEvent,
        at_micros: i64,
    ) -> Result<String> {
        // Scoped: the credential must be the owner's.
        self.get_credential_by_id(owner_id, credential_id).await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO credential_events (id, owner_id, credential_id, created_at, status_code, method, url, headers, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(credential_id)
        .bind(at_micros)
        .bind(event.status_code)
        .bind(event.method.as_deref())
        .bind(event.url.as_deref())
        .bind(&event.headers)
        .bind(&event.body)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// A page of a credential's events sorted by `createdDate`, and the total count.
    pub async fn list_credential_events(
        &self,
        owner_id: &str,
        credential_id: &str,
        page: Page,
        order: SortOrder,
    ) -> Result<(Vec<CredentialEvent>, i64)> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM credential_events WHERE owner_id = $1 AND credential_id = $2",
        )
        .bind(owner_id)
        .bind(credential_id)
        .fetch_one(&self.pool)
        .await?;
        let dir = match order {
            SortOrder::Asc => "ASC",
            SortOrder::Desc => "DESC",
        };
        let sql = format!(
            "SELECT id, created_at, status_code, method, url, headers, body FROM credential_events \
             WHERE owner_id = $1 AND credential_id = $2 ORDER BY created_at {dir}, id {dir} LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(&sql)
            .bind(owner_id)
            .bind(credential_id)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let events = rows
            .iter()
            .map(|r| {
                Ok(CredentialEvent {
                    id: r.try_get("id")?,
                    created_date: furrow_model::format_timestamp(
                        furrow_model::timestamp_from_micros(r.try_get("created_at")?),
                    ),
                    status_code: r.try_get("status_code")?,
                    headers: r.try_get("headers")?,
                    body: r.try_get("body")?,
                    method: r.try_get("method")?,
                    url: r.try_get("url")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((events, total))
    }

    /// Retention sweep: deletes every owner's credential events older than `now - 30 days`.
    /// Returns how many were deleted.
    pub async fn sweep_credential_events(&self, now_micros: i64) -> Result<u64> {
        let cutoff = now_micros - EVENT_RETENTION_DAYS * 24 * 3600 * 1_000_000;
        let n = sqlx::query("DELETE FROM credential_events WHERE created_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n)
    }
}
