//! Sync a CLAAS grower with the adapter alone: start the CLAAS simulator, refresh the token (the rotated
//! refresh token is "persisted" before use), list the organizations and the outbox, download every file and
//! check it is an ISOXML zip.
//!
//! ```sh
//! cargo run -p furrow-examples --example claas_sync
//! ```
//!
//! Against the real CLAAS API, build the same `ProviderContext` from a stored credential and leave out
//! `with_base_url`.

use std::sync::Arc;

use anyhow::Context;
use furrow_credentials::Provider as ProviderKind;
use furrow_provider::{MemorySink, Provider, ProviderContext, ProviderExt};
use furrow_provider_claas::ClaasProvider;
use furrow_provider_sim::Simulator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sim = Simulator::start(ProviderKind::Claas)
        .await
        .context("starting the CLAAS simulator")?;
    // A real integration stores events in the credential log and secrets in the encrypted store.
    let sink = MemorySink::new();
    let ctx = ProviderContext::new(sim.credential(), sink.clone(), sink.clone())
        .with_base_url(sim.base_url());
    let claas: Arc<dyn Provider> = Arc::new(ClaasProvider::new(ctx)?);

    let persisted = claas.authenticate().await.context("refreshing the token")?;
    let fields: Vec<_> = persisted.keys().collect();
    eprintln!("token refreshed; persisted {fields:?}");

    let mut downloaded = 0usize;
    for org in claas.organizations().await? {
        let files = claas.all_machine_files(&org.id, None).await?;
        eprintln!("{} ({}): {} outbox files", org.name, org.id, files.len());
        for file in files {
            let bytes = claas.download_bytes(&file).await?;
            anyhow::ensure!(bytes.starts_with(b"PK"), "{} is not a zip", file.name);
            eprintln!("  {} {} bytes", file.name, bytes.len());
            downloaded += bytes.len();
        }
    }
    eprintln!(
        "{downloaded} bytes downloaded; {} exchanges recorded (secrets redacted)",
        sink.events().len()
    );
    Ok(())
}
