use furrow_model::ApiOwner;
use sqlx::Row;

use crate::crypto::{hash_password, verify_password};
use crate::db::new_id;
use crate::{Error, Result, Store};

impl Store {
    /// Creates an API owner with an argon2-hashed password. A taken username is [`Error::AlreadyExists`].
    pub async fn create_owner(&self, username: &str, password: &str) -> Result<ApiOwner> {
        let hash = hash_password(password)?;
        let id = new_id();
        let res = sqlx::query(
            "INSERT INTO api_owners (id, username, password_hash, show_secrets, created_at) VALUES ($1, $2, $3, 0, $4)",
        )
        .bind(&id)
        .bind(username)
        .bind(&hash)
        .bind(furrow_model::now_micros())
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(ApiOwner {
                id,
                username: username.to_owned(),
                show_secrets: false,
            }),
            Err(e) if is_unique_violation(&e) => Err(Error::AlreadyExists("API owner")),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a username and password; `None` when either is wrong (the caller must not say which).
    pub async fn verify_owner(&self, username: &str, password: &str) -> Result<Option<ApiOwner>> {
        let row = sqlx::query(
            "SELECT id, username, password_hash, show_secrets FROM api_owners WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Spend the same time as a real check so timing does not reveal which usernames exist.
            let _ = verify_password(password, DUMMY_HASH);
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        if !verify_password(password, &hash) {
            return Ok(None);
        }
        Ok(Some(owner_from_row(&row)?))
    }

    /// Looks an owner up by username (for token checks).
    pub async fn owner_by_username(&self, username: &str) -> Result<Option<ApiOwner>> {
        let row =
            sqlx::query("SELECT id, username, show_secrets FROM api_owners WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| owner_from_row(&r)).transpose()
    }

    /// Turns masking of secrets in credential responses off (`true`, Leaf's behaviour) or on.
    pub async fn set_owner_show_secrets(&self, owner_id: &str, show: bool) -> Result<()> {
        let n = sqlx::query("UPDATE api_owners SET show_secrets = $1 WHERE id = $2")
            .bind(i64::from(show))
            .bind(owner_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 {
            Err(Error::NotFound("API owner"))
        } else {
            Ok(())
        }
    }
}

fn owner_from_row(row: &sqlx::any::AnyRow) -> Result<ApiOwner> {
    Ok(ApiOwner {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        show_secrets: row.try_get::<i64, _>("show_secrets")? != 0,
    })
}

pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation()
                || db
                    .code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
                || db.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

// A valid argon2 hash of a random string, verified against when the username is unknown.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Qn5kVb0d1ydu7Nb0k5pW8ph8cG1yq0l9XcY3Eo4k2bQ";
