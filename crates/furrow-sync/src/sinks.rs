//! Store-backed sinks for provider adapters: every exchange becomes a credential event, and no request leaves
//! once the credential is deleted; access tokens are shared by every worker and node through the credential
//! row, refreshed one at a time under the store's per-credential lock, and rotated secrets are sealed into the
//! row before the adapter uses them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use furrow_model::NewCredentialEvent;
use furrow_provider::{
    AccessToken, AdmitError, BoxFuture, CallPermit, Error, EventSink, ProviderKind, SecretSink,
    Secrets, TokenRequest, renew_at,
};
use tokio::sync::mpsc;

/// Records a credential's provider exchanges as credential events, in order, without blocking the adapter.
#[derive(Debug)]
pub struct StoreEventSink {
    tx: mpsc::UnboundedSender<NewCredentialEvent>,
    store: furrow_store::Store,
    owner_id: String,
    credential_id: String,
}

/// Waits for a [`StoreEventSink`]'s events to be written.
#[derive(Debug)]
pub struct EventWriter(tokio::task::JoinHandle<u64>);

impl EventWriter {
    /// Waits until every event recorded so far is stored (call after dropping the adapter); returns how many.
    pub async fn finish(self) -> u64 {
        self.0.await.unwrap_or(0)
    }
}

impl StoreEventSink {
    /// A sink for one credential, and the writer task draining it.
    pub fn new(
        store: furrow_store::Store,
        owner_id: String,
        credential_id: String,
    ) -> (Arc<Self>, EventWriter) {
        let (tx, mut rx) = mpsc::unbounded_channel::<NewCredentialEvent>();
        let sink = Arc::new(Self {
            tx,
            store: store.clone(),
            owner_id: owner_id.clone(),
            credential_id: credential_id.clone(),
        });
        let handle = tokio::spawn(async move {
            let mut n = 0;
            while let Some(ev) = rx.recv().await {
                match store
                    .add_credential_event(&owner_id, &credential_id, &ev)
                    .await
                {
                    Ok(_) => n += 1,
                    Err(e) => {
                        tracing::warn!(credential = %credential_id, error = %e, "credential event not stored")
                    }
                }
            }
            n
        });
        (sink, EventWriter(handle))
    }
}

impl EventSink for StoreEventSink {
    fn record(&self, event: NewCredentialEvent) {
        let _ = self.tx.send(event);
    }

    /// A request may leave while the credential exists; a deletion waits for it (and for every other
    /// request in flight, on every node) before it answers.
    fn admit(&self) -> BoxFuture<'_, Result<CallPermit, AdmitError>> {
        Box::pin(async move {
            match self
                .store
                .credential_call(&self.owner_id, &self.credential_id)
                .await
            {
                Ok(call) => Ok(CallPermit::new(call)),
                Err(furrow_store::Error::NotFound(_)) => {
                    Err(AdmitError::Stopped("the credential was deleted".into()))
                }
                Err(e) => Err(AdmitError::Unavailable(format!(
                    "cannot check the credential: {e}"
                ))),
            }
        })
    }
}

/// Seals rotated secrets (refresh and access tokens, session ids) into the credential row.
#[derive(Debug)]
pub struct StoreSecretSink {
    store: furrow_store::Store,
    owner_id: String,
    credential_id: String,
}

impl StoreSecretSink {
    /// A sink for one credential.
    pub fn new(store: furrow_store::Store, owner_id: String, credential_id: String) -> Arc<Self> {
        Arc::new(Self {
            store,
            owner_id,
            credential_id,
        })
    }
}

fn micros(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn from_micros(us: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// When a stored token stops being handed out (see [`renew_at`]).
fn stored_renew_at(c: &furrow_store::StoredCredential) -> Option<SystemTime> {
    let issued = from_micros(c.access_issued_at?);
    let expires = c.access_expires_at.map(from_micros)?;
    renew_at(
        issued,
        Some(expires.duration_since(issued).unwrap_or_default()),
    )
}

impl SecretSink for StoreSecretSink {
    fn persist<'a>(
        &'a self,
        _provider: ProviderKind,
        updates: &'a Secrets,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            self.store
                .merge_credential_secrets(&self.owner_id, &self.credential_id, updates)
                .await
                .map_err(|e| e.to_string())
        })
    }

    /// The stored access token while it is good; otherwise a new one, obtained under the credential's lock
    /// from the values stored now and written (rotated refresh token included) before it is returned.
    fn access_token<'a>(
        &'a self,
        provider: ProviderKind,
        request: TokenRequest<'a>,
    ) -> BoxFuture<'a, furrow_provider::Result<AccessToken>> {
        Box::pin(async move {
            let slug = provider.slug();
            let obtained: Mutex<Option<Secrets>> = Mutex::new(None);
            let outcome = self
                .store
                .with_credential_lock(&self.owner_id, &self.credential_id, |stored| {
                    let (request, obtained) = (&request, &obtained);
                    async move {
                        let usable = stored.access_token.as_deref().filter(|token| {
                            !request.force
                                && stored.access_issued_at.is_some()
                                && Some(*token) != request.rejected
                                && stored_renew_at(&stored).is_none_or(|r| SystemTime::now() < r)
                        });
                        if usable.is_some() {
                            return Ok(None);
                        }
                        let mut values = stored.public.clone();
                        values.extend(stored.secrets.clone());
                        let issued_at = SystemTime::now();
                        let issued = (request.issue)(values).await?;
                        if let Ok(mut o) = obtained.lock() {
                            *o = Some(issued.updates.clone());
                        }
                        Ok::<_, Error>(Some(furrow_store::TokenUpdate {
                            secrets: issued.updates,
                            access_token: issued.access_token,
                            issued_at: micros(issued_at),
                            expires_at: issued.expires_in.map(|life| micros(issued_at + life)),
                        }))
                    }
                })
                .await;
            let cred = match outcome {
                Ok(Ok(cred)) => cred,
                Ok(Err(e)) => return Err(e),
                Err(furrow_store::Error::NotFound(_)) => {
                    return Err(Error::stopped(slug, "the credential was deleted"));
                }
                Err(e) => {
                    return Err(Error::unavailable(
                        slug,
                        format!("cannot read or store the credential's tokens: {e}"),
                    ));
                }
            };
            let token = cred
                .access_token
                .clone()
                .ok_or_else(|| Error::unavailable(slug, "the stored access token is missing"))?;
            let mut secrets = cred.public.clone();
            secrets.extend(cred.secrets.clone());
            Ok(AccessToken {
                token,
                renew_at: stored_renew_at(&cred),
                secrets,
                updates: obtained.into_inner().ok().flatten().unwrap_or_default(),
            })
        })
    }
}
