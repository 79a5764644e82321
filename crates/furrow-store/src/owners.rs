use std::sync::OnceLock;

use furrow_model::ApiOwner;
use sqlx::Row;

use crate::crypto::{hash_password, verify_password};
use crate::db::new_id;
use crate::{Backend, Error, Result, Store};

/// Runs password hashing (argon2: deliberately slow) on the blocking pool, at most one per core at a time, so
/// a flood of logins never holds the async runtime's threads and cannot queue unbounded CPU work.
async fn on_blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    static LIMIT: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    let limit = LIMIT.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let _permit = limit
        .acquire()
        .await
        .map_err(|e| Error::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Hash(e.to_string()))
}

async fn hash_blocking(password: &str) -> Result<String> {
    let password = password.to_owned();
    on_blocking(move || hash_password(&password)).await?
}

async fn verify_blocking(password: &str, hash: String) -> Result<bool> {
    let password = password.to_owned();
    on_blocking(move || verify_password(&password, &hash)).await
}

/// Login failures of one throttle key (`user:<name>` or `addr:<ip>`) and how long it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures counted in the current window.
    pub failures: i64,
    /// Refused until this instant (µs since the epoch); 0 when not refused.
    pub blocked_until: i64,
}

impl Store {
    /// Creates an API owner with an argon2-hashed password. A taken username is [`Error::AlreadyExists`].
    pub async fn create_owner(&self, username: &str, password: &str) -> Result<ApiOwner> {
        let hash = hash_blocking(password).await?;
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

    /// Checks a username and password; `None` when either is wrong (the caller must not say which). The
    /// argon2 check runs on the blocking pool.
    pub async fn verify_owner(&self, username: &str, password: &str) -> Result<Option<ApiOwner>> {
        let row = sqlx::query(
            "SELECT id, username, password_hash, show_secrets FROM api_owners WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Spend the same time as a real check so timing does not reveal which usernames exist.
            let _ = verify_blocking(password, DUMMY_HASH.to_owned()).await?;
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        if !verify_blocking(password, hash).await? {
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

    /// The owner a token names, when the token is still good: issued in the owner's current token
    /// `generation` (a password change moves it on) and not logged out (`jti`).
    pub async fn owner_for_token(
        &self,
        username: &str,
        generation: i64,
        jti: Option<&str>,
    ) -> Result<Option<ApiOwner>> {
        let row = sqlx::query(
            "SELECT id, username, show_secrets, token_generation FROM api_owners WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("token_generation")? != generation {
            return Ok(None);
        }
        if let Some(jti) = jti {
            let revoked: Option<String> =
                sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE jti = $1")
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await?;
            if revoked.is_some() {
                return Ok(None);
            }
        }
        Ok(Some(owner_from_row(&row)?))
    }

    /// The generation new tokens of this owner are issued in.
    pub async fn owner_token_generation(&self, owner_id: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT token_generation FROM api_owners WHERE id = $1")
            .bind(owner_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(Error::NotFound("API owner"))
    }

    /// Sets an owner's password (argon2id) and moves its token generation on, which ends every token issued
    /// before. [`Error::NotFound`] when there is no such owner.
    pub async fn set_owner_password(&self, username: &str, password: &str) -> Result<()> {
        let hash = hash_blocking(password).await?;
        let n = sqlx::query(
            "UPDATE api_owners SET password_hash = $1, token_generation = token_generation + 1 WHERE username = $2",
        )
        .bind(&hash)
        .bind(username)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            Err(Error::NotFound("API owner"))
        } else {
            Ok(())
        }
    }

    /// Ends every token of an owner issued so far (moves its token generation on).
    pub async fn end_owner_tokens(&self, owner_id: &str) -> Result<()> {
        let n = sqlx::query(
            "UPDATE api_owners SET token_generation = token_generation + 1 WHERE id = $1",
        )
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

    /// Ends one token (a logout) until it would have expired (`expires_at`, µs); forgets tokens ended before
    /// that have expired since.
    pub async fn revoke_owner_token(
        &self,
        owner_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < $1")
            .bind(furrow_model::now_micros())
            .execute(&mut *tx)
            .await?;
        let res = sqlx::query(
            "INSERT INTO revoked_tokens (jti, owner_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(jti)
        .bind(owner_id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        Ok(())
    }

    /// The throttle state of each key, in order (keys never seen: no failures).
    pub async fn login_throttles(&self, keys: &[&str]) -> Result<Vec<LoginThrottle>> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let row = sqlx::query(
                "SELECT failures, blocked_until FROM login_throttle WHERE throttle_key = $1",
            )
            .bind(*key)
            .fetch_optional(&self.pool)
            .await?;
            out.push(match row {
                Some(r) => LoginThrottle {
                    failures: r.try_get("failures")?,
                    blocked_until: r.try_get("blocked_until")?,
                },
                None => LoginThrottle {
                    failures: 0,
                    blocked_until: 0,
                },
            });
        }
        Ok(out)
    }

    /// Counts a failed login for `key` at `now` (µs); failures older than `window` (µs) are forgotten first.
    /// `block` says, from the failure count, how long (µs) the key is then refused. Returns the new state.
    pub async fn record_login_failure(
        &self,
        key: &str,
        now: i64,
        window: i64,
        block: impl Fn(i64) -> i64,
    ) -> Result<LoginThrottle> {
        let mut tx = self.begin_write().await?;
        let lock = if self.backend() == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT failures, last_failure, blocked_until FROM login_throttle WHERE throttle_key = $1{lock}"
        ))
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        let (failures, blocked_until) = match &row {
            Some(r) => {
                let last: i64 = r.try_get("last_failure")?;
                let failures: i64 = r.try_get("failures")?;
                let blocked: i64 = r.try_get("blocked_until")?;
                if last < now - window {
                    (1, 0)
                } else {
                    (failures + 1, blocked)
                }
            }
            None => (1, 0),
        };
        let wait = block(failures);
        let blocked_until = if wait > 0 {
            blocked_until.max(now + wait)
        } else {
            blocked_until
        };
        let sql = if row.is_some() {
            "UPDATE login_throttle SET failures = $2, last_failure = $3, blocked_until = $4 WHERE throttle_key = $1"
        } else {
            "INSERT INTO login_throttle (throttle_key, failures, last_failure, blocked_until) VALUES ($1, $2, $3, $4)"
        };
        let res = sqlx::query(sql)
            .bind(key)
            .bind(failures)
            .bind(now)
            .bind(blocked_until)
            .execute(&mut *tx)
            .await;
        match res {
            Ok(_) => tx.commit().await?,
            // Another failure inserted the row first (SQLite cannot lock a missing row): count this one again.
            Err(e) if is_unique_violation(&e) => {
                drop(tx);
                return Box::pin(self.record_login_failure(key, now, window, block)).await;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(LoginThrottle {
            failures,
            blocked_until,
        })
    }

    /// Forgets the failures of `key` (a successful login).
    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
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
