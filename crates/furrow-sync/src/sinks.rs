//! Store-backed sinks for provider adapters: every exchange becomes a credential event; rotated secrets are
//! sealed into the credential row before the adapter uses them.

use std::sync::Arc;

use furrow_model::NewCredentialEvent;
use furrow_provider::{BoxFuture, EventSink, ProviderKind, SecretSink, Secrets};
use tokio::sync::mpsc;

/// Records a credential's provider exchanges as credential events, in order, without blocking the adapter.
#[derive(Debug)]
pub struct StoreEventSink {
    tx: mpsc::UnboundedSender<NewCredentialEvent>,
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
        (Arc::new(Self { tx }), EventWriter(handle))
    }
}

impl EventSink for StoreEventSink {
    fn record(&self, event: NewCredentialEvent) {
        let _ = self.tx.send(event);
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

impl SecretSink for StoreSecretSink {
    fn persist<'a>(
        &'a self,
        _provider: ProviderKind,
        updates: &'a Secrets,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let current = self
                .store
                .get_credential_by_id(&self.owner_id, &self.credential_id)
                .await
                .map_err(|e| e.to_string())?;
            let mut secrets = current.secrets.clone();
            for (k, v) in updates {
                secrets.insert(k.clone(), v.clone());
            }
            self.store
                .update_credential_secrets(
                    &self.owner_id,
                    &self.credential_id,
                    &secrets,
                    &current.scopes,
                )
                .await
                .map_err(|e| e.to_string())
        })
    }
}
