use furrow_model::{LeafUser, Page, UserFilter, UserInput};
use sqlx::Row;

use crate::db::new_id;
use crate::{Error, Result, Store};

const COLUMNS: &str = "id, name, email, phone, address, external_id";

impl Store {
    /// Creates a Leaf user for `owner_id`.
    pub async fn create_user(&self, owner_id: &str, input: &UserInput) -> Result<LeafUser> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO leaf_users (id, owner_id, name, email, phone, address, external_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(owner_id)
        .bind(input.name.as_deref())
        .bind(input.email.as_deref())
        .bind(input.phone.as_deref())
        .bind(input.address.as_deref())
        .bind(input.external_id.as_deref())
        .bind(furrow_model::now_micros())
        .execute(&self.pool)
        .await?;
        Ok(user_from(id, input.clone()))
    }

    /// One of the owner's users; [`Error::NotFound`] for unknown ids and other owners' users alike.
    pub async fn get_user(&self, owner_id: &str, user_id: &str) -> Result<LeafUser> {
        let sql = format!("SELECT {COLUMNS} FROM leaf_users WHERE id = $1 AND owner_id = $2");
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user_from_row(&r))
            .transpose()?
            .ok_or(Error::NotFound("user"))
    }

    /// A page of the owner's users matching `filter`, oldest first, and the total count.
    pub async fn list_users(
        &self,
        owner_id: &str,
        filter: &UserFilter,
        page: Page,
    ) -> Result<(Vec<LeafUser>, i64)> {
        let mut conds = String::from("owner_id = $1");
        let mut binds: Vec<&str> = vec![owner_id];
        for (col, value) in [
            ("email", &filter.email),
            ("name", &filter.name),
            ("external_id", &filter.external_id),
        ] {
            if let Some(v) = value {
                binds.push(v);
                conds.push_str(&format!(" AND {col} = ${}", binds.len()));
            }
        }
        let count_sql = format!("SELECT COUNT(*) FROM leaf_users WHERE {conds}");
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for b in &binds {
            count = count.bind(*b);
        }
        let total = count.fetch_one(&self.pool).await?;
        let n = binds.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM leaf_users WHERE {conds} ORDER BY created_at, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(*b);
        }
        let rows = q
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(&self.pool)
            .await?;
        let users = rows.iter().map(user_from_row).collect::<Result<Vec<_>>>()?;
        Ok((users, total))
    }

    /// Replaces every writable field of a user (PUT): fields absent from `input` become empty.
    pub async fn replace_user(
        &self,
        owner_id: &str,
        user_id: &str,
        input: &UserInput,
    ) -> Result<LeafUser> {
        let n = sqlx::query(
            "UPDATE leaf_users SET name = $1, email = $2, phone = $3, address = $4, external_id = $5 \
             WHERE id = $6 AND owner_id = $7",
        )
        .bind(input.name.as_deref())
        .bind(input.email.as_deref())
        .bind(input.phone.as_deref())
        .bind(input.address.as_deref())
        .bind(input.external_id.as_deref())
        .bind(user_id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("user"));
        }
        Ok(user_from(user_id.to_owned(), input.clone()))
    }

    /// Changes the fields present in `patch` (PATCH).
    pub async fn patch_user(
        &self,
        owner_id: &str,
        user_id: &str,
        patch: UserInput,
    ) -> Result<LeafUser> {
        let current = self.get_user(owner_id, user_id).await?;
        let merged = UserInput::from(current).merged(patch);
        self.replace_user(owner_id, user_id, &merged).await
    }

    /// Deletes a user with its credentials and their events, and its fields, boundaries, farms and growers.
    /// The credentials' queued jobs are cancelled; provider calls in flight with their secrets finish first and
    /// none starts once this returned ([`Store::credential_call`]).
    pub async fn delete_user(&self, owner_id: &str, user_id: &str) -> Result<()> {
        let credential_ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM credentials WHERE owner_id = $1 AND user_id = $2")
                .bind(owner_id)
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        let _held = self.hold_credential_calls(&credential_ids).await;
        let mut tx = self.begin_write().await?;
        crate::credentials::cancel_credential_jobs(&mut tx, owner_id, &credential_ids).await?;
        // The user's blobs go through a durable job queued in the same transaction: a crash cannot leave
        // blobs whose rows are gone. Everything new lives under the user's prefix; keys written before (or
        // uploads stored before their user was known) are listed one by one.
        let prefix = crate::blobs::user_prefix(owner_id, user_id);
        let mut keys: Vec<String> = Vec::new();
        for sql in [
            "SELECT blob_key FROM originals WHERE owner_id = $1 AND user_id = $2 AND blob_key IS NOT NULL",
            "SELECT original_key FROM files WHERE owner_id = $1 AND user_id = $2 AND original_key IS NOT NULL",
            "SELECT standard_key FROM files WHERE owner_id = $1 AND user_id = $2 AND standard_key IS NOT NULL",
        ] {
            let found: Vec<String> = sqlx::query_scalar(sql)
                .bind(owner_id)
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?;
            keys.extend(found.into_iter().filter(|k| !k.starts_with(&prefix)));
        }
        keys.sort();
        keys.dedup();
        // Explicit deletes (not only ON DELETE CASCADE) so the outcome never depends on engine settings.
        sqlx::query(
            "DELETE FROM credential_events WHERE owner_id = $1 AND credential_id IN \
             (SELECT id FROM credentials WHERE user_id = $2 AND owner_id = $1)",
        )
        .bind(owner_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM credentials WHERE user_id = $1 AND owner_id = $2")
            .bind(user_id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
        for sql in [
            "DELETE FROM boundaries WHERE owner_id = $1 AND field_id IN \
             (SELECT id FROM fields WHERE owner_id = $1 AND user_id = $2)",
            "DELETE FROM fields WHERE owner_id = $1 AND user_id = $2",
            "DELETE FROM farms WHERE owner_id = $1 AND user_id = $2",
            "DELETE FROM growers WHERE owner_id = $1 AND user_id = $2",
            "DELETE FROM files WHERE owner_id = $1 AND user_id = $2",
            "DELETE FROM originals WHERE owner_id = $1 AND user_id = $2",
            "DELETE FROM operations WHERE owner_id = $1 AND user_id = $2",
            "DELETE FROM batches WHERE owner_id = $1 AND user_id = $2",
        ] {
            sqlx::query(sql)
                .bind(owner_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        let n = sqlx::query("DELETE FROM leaf_users WHERE id = $1 AND owner_id = $2")
            .bind(user_id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("user"));
        }
        let payload = serde_json::to_string(&crate::queue::BlobsDeletePayload {
            prefixes: vec![prefix],
            keys,
        })
        .unwrap_or_default();
        let now = furrow_model::now_micros();
        sqlx::query(
            "INSERT INTO jobs (id, owner_id, kind, payload, dedupe_key, state, attempts, max_attempts, run_at, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, NULL, 'queued', 0, 20, $5, $5, $5)",
        )
        .bind(crate::db::new_id())
        .bind(owner_id)
        .bind(crate::queue::BLOBS_DELETE_JOB)
        .bind(payload)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn user_from(id: String, input: UserInput) -> LeafUser {
    LeafUser {
        id,
        name: input.name,
        email: input.email,
        phone: input.phone,
        address: input.address,
        external_id: input.external_id,
    }
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<LeafUser> {
    Ok(LeafUser {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        address: row.try_get("address")?,
        external_id: row.try_get("external_id")?,
    })
}
