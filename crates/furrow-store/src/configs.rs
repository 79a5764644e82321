use serde_json::{Map, Value};
use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// The stored (explicitly set) configuration keys of the owner (`user_id` None) or of one user.
    pub async fn get_config(
        &self,
        owner_id: &str,
        user_id: Option<&str>,
    ) -> Result<Map<String, Value>> {
        let row =
            sqlx::query("SELECT config_values FROM configs WHERE owner_id = $1 AND user_id = $2")
                .bind(owner_id)
                .bind(user_id.unwrap_or(""))
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some(r) => {
                let text: String = r.try_get("config_values")?;
                serde_json::from_str(&text).unwrap_or_default()
            }
            None => Map::new(),
        })
    }

    /// Merges `values` into the stored keys (owner or user level) and returns the stored keys.
    pub async fn merge_config(
        &self,
        owner_id: &str,
        user_id: Option<&str>,
        values: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query("SELECT config_values FROM configs WHERE owner_id = $1 AND user_id = $2")
                .bind(owner_id)
                .bind(user_id.unwrap_or(""))
                .fetch_optional(&mut *tx)
                .await?;
        let mut current: Map<String, Value> = match &row {
            Some(r) => {
                serde_json::from_str(&r.try_get::<String, _>("config_values")?).unwrap_or_default()
            }
            None => Map::new(),
        };
        for (k, v) in values {
            current.insert(k.clone(), v.clone());
        }
        let text = serde_json::to_string(&current).unwrap_or_else(|_| "{}".into());
        let now = furrow_model::now_micros();
        if row.is_some() {
            sqlx::query("UPDATE configs SET config_values = $1, updated_at = $2 WHERE owner_id = $3 AND user_id = $4")
                .bind(&text)
                .bind(now)
                .bind(owner_id)
                .bind(user_id.unwrap_or(""))
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("INSERT INTO configs (owner_id, user_id, config_values, updated_at) VALUES ($1, $2, $3, $4)")
                .bind(owner_id)
                .bind(user_id.unwrap_or(""))
                .bind(&text)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(current)
    }

    /// Removes a user's own keys (the user inherits everything again).
    pub async fn delete_user_config(&self, owner_id: &str, user_id: &str) -> Result<()> {
        sqlx::query("DELETE FROM configs WHERE owner_id = $1 AND user_id = $2")
            .bind(owner_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    /// A user's effective configuration: defaults, then the owner's keys, then the user's.
    pub async fn effective_config(
        &self,
        owner_id: &str,
        user_id: &str,
    ) -> Result<Map<String, Value>> {
        let owner = self.get_config(owner_id, None).await?;
        let user = self.get_config(owner_id, Some(user_id)).await?;
        Ok(furrow_model::effective_config(&owner, Some(&user)))
    }
}
