//! The provider organizations a user's credential sees (Leaf's organization sync list), with the user's choice:
//! `SELECTED` or `PREVIEW` (read when `organizationDataSync` is `SELECTED_ONLY`), or `BLOCKED` when the grower has
//! not connected the organization to the integrator.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Error, Result, Store};

/// One organization of a user at a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderOrganizationRow {
    /// Leaf provider name (`JohnDeere`, …).
    pub provider: String,
    /// The provider's organization id.
    pub org_id: String,
    /// Its name.
    pub name: String,
    /// `SELECTED`, `PREVIEW` or `BLOCKED`.
    pub status: String,
    /// Where the grower connects it, when blocked.
    pub management_uri: Option<String>,
    /// µs since the epoch.
    pub created_at: i64,
    /// µs since the epoch.
    pub updated_at: i64,
}

const COLUMNS: &str = "provider, org_id, name, status, management_uri, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<ProviderOrganizationRow> {
    Ok(ProviderOrganizationRow {
        provider: r.try_get("provider")?,
        org_id: r.try_get("org_id")?,
        name: r.try_get("name")?,
        status: r.try_get("status")?,
        management_uri: r.try_get("management_uri")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    /// Records what a sync saw of an organization: a new one is `PREVIEW` (or `BLOCKED` when not connected);
    /// a known one keeps the user's choice, except that losing the connection blocks it and regaining it
    /// returns it to `PREVIEW`. Returns the stored row.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert_provider_organization(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        org_id: &str,
        name: &str,
        connected: bool,
        management_uri: Option<&str>,
    ) -> Result<ProviderOrganizationRow> {
        let now = furrow_model::now_micros();
        let current = self
            .get_provider_organization(owner_id, user_id, provider, org_id)
            .await;
        let status = match (&current, connected) {
            (_, false) => "BLOCKED".to_owned(),
            (Ok(c), true) if c.status != "BLOCKED" => c.status.clone(),
            _ => "PREVIEW".to_owned(),
        };
        match current {
            Ok(_) => {
                sqlx::query(
                    "UPDATE provider_organizations SET name = $1, status = $2, management_uri = $3, updated_at = $4 \
                     WHERE owner_id = $5 AND user_id = $6 AND provider = $7 AND org_id = $8",
                )
                .bind(name)
                .bind(&status)
                .bind(management_uri)
                .bind(now)
                .bind(owner_id)
                .bind(user_id)
                .bind(provider)
                .bind(org_id)
                .execute(&self.pool)
                .await?;
            }
            Err(Error::NotFound(_)) => {
                sqlx::query(
                    "INSERT INTO provider_organizations (owner_id, user_id, provider, org_id, name, status, \
                     management_uri, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                     ON CONFLICT (owner_id, user_id, provider, org_id) DO NOTHING",
                )
                .bind(owner_id)
                .bind(user_id)
                .bind(provider)
                .bind(org_id)
                .bind(name)
                .bind(&status)
                .bind(management_uri)
                .bind(now)
                .execute(&self.pool)
                .await?;
            }
            Err(e) => return Err(e),
        }
        self.get_provider_organization(owner_id, user_id, provider, org_id)
            .await
    }

    /// One organization of a user at a provider.
    pub async fn get_provider_organization(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        org_id: &str,
    ) -> Result<ProviderOrganizationRow> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM provider_organizations WHERE owner_id = $1 AND user_id = $2 AND provider = $3 \
             AND org_id = $4"
        ))
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| from_row(&r))
            .transpose()?
            .ok_or(Error::NotFound("organization"))
    }

    /// A user's organizations at a provider, by name, and the total count.
    pub async fn list_provider_organizations(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        page: furrow_model::Page,
    ) -> Result<(Vec<ProviderOrganizationRow>, i64)> {
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM provider_organizations WHERE owner_id = $1 AND user_id = $2 AND provider = $3",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM provider_organizations WHERE owner_id = $1 AND user_id = $2 AND provider = $3 \
             ORDER BY name, org_id LIMIT $4 OFFSET $5"
        ))
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        let orgs = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        Ok((orgs, total))
    }

    /// Sets the user's choice for an organization (`SELECTED` or `PREVIEW`); a `BLOCKED` one cannot change.
    pub async fn set_provider_organization_status(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        org_id: &str,
        status: &str,
    ) -> Result<ProviderOrganizationRow> {
        let current = self
            .get_provider_organization(owner_id, user_id, provider, org_id)
            .await?;
        if current.status == "BLOCKED" {
            return Err(Error::Conflict(
                "the organization is not connected to the integrator (BLOCKED); the grower connects it first",
            ));
        }
        sqlx::query(
            "UPDATE provider_organizations SET status = $1, updated_at = $2 WHERE owner_id = $3 AND user_id = $4 \
             AND provider = $5 AND org_id = $6",
        )
        .bind(status)
        .bind(furrow_model::now_micros())
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(org_id)
        .execute(&self.pool)
        .await?;
        self.get_provider_organization(owner_id, user_id, provider, org_id)
            .await
    }

    /// The machine-file change-tracking cursor kept for an organization (`None`: list everything).
    pub async fn files_cursor(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        org_id: &str,
    ) -> Result<Option<String>> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT files_cursor FROM provider_organizations WHERE owner_id = $1 AND user_id = $2 AND provider = $3 \
             AND org_id = $4",
        )
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await?
        .flatten())
    }

    /// Keeps (or clears) an organization's machine-file change-tracking cursor.
    pub async fn set_files_cursor(
        &self,
        owner_id: &str,
        user_id: &str,
        provider: &str,
        org_id: &str,
        cursor: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE provider_organizations SET files_cursor = $1 WHERE owner_id = $2 AND user_id = $3 \
             AND provider = $4 AND org_id = $5",
        )
        .bind(cursor)
        .bind(owner_id)
        .bind(user_id)
        .bind(provider)
        .bind(org_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The owner's credentials of a provider (`(user id, credential id)`), optionally only those of users who
    /// see one of `org_ids` (for a provider's event callback).
    pub async fn credentials_for_event(
        &self,
        owner_id: &str,
        provider: furrow_credentials::Provider,
        org_ids: &[String],
    ) -> Result<Vec<(String, String)>> {
        let all: Vec<(String, String)> = sqlx::query_as(
            "SELECT user_id, id FROM credentials WHERE owner_id = $1 AND provider = $2 AND status <> 'INVALID' \
             ORDER BY created_at, id",
        )
        .bind(owner_id)
        .bind(provider.slug())
        .fetch_all(&self.pool)
        .await?;
        if org_ids.is_empty() {
            return Ok(all);
        }
        let mut users = std::collections::HashSet::new();
        for org in org_ids {
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT user_id FROM provider_organizations WHERE owner_id = $1 AND provider = $2 AND org_id = $3",
            )
            .bind(owner_id)
            .bind(provider.leaf_name())
            .bind(org)
            .fetch_all(&self.pool)
            .await?;
            users.extend(rows);
        }
        Ok(all.into_iter().filter(|(u, _)| users.contains(u)).collect())
    }
}
