//! `furrow provider check` (a credential against a provider, real or simulated) and `furrow sim` (every provider
//! simulator as a process, for demos and integrators' own tests).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use furrow_credentials::Provider as Kind;
use furrow_provider::{MemorySink, ProviderContext, ProviderExt};
use serde_json::Value;

use crate::output;

/// `furrow provider …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ProviderCommand {
    /// Validate a credential against a provider and print what it can see (organizations, fields, files).
    Check {
        /// Provider slug (`claas`, `john-deere`, `climate-field-view`, …).
        slug: String,
        /// JSON file with the credential's create body (as for POST …/{slug}-credentials). Secrets the provider
        /// rotates (refresh tokens) are written back into it.
        #[arg(long)]
        credentials: PathBuf,
        /// Talk to this base URL (a simulator or proxy) instead of the provider.
        #[arg(long)]
        base_url: Option<String>,
    },
}

/// Arguments of `furrow sim`.
#[derive(Debug, clap::Args)]
pub(crate) struct SimArgs {
    /// First address; simulators take consecutive ports in catalogue order (port 0: any free ports).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

pub(crate) async fn check(command: ProviderCommand) -> anyhow::Result<()> {
    let ProviderCommand::Check {
        slug,
        credentials,
        base_url,
    } = command;
    let kind = Kind::from_slug(&slug).with_context(|| format!("unknown provider slug {slug}"))?;
    let text = std::fs::read_to_string(&credentials)
        .with_context(|| format!("reading {}", credentials.display()))?;
    let body: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", credentials.display()))?;
    let input = furrow_credentials::validate(kind, &body)
        .map_err(|e| anyhow::anyhow!("{}: {e}", credentials.display()))?;
    let mut values: BTreeMap<String, String> = input
        .public_fields()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    values.extend(
        input
            .secret_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v)),
    );
    let sink = MemorySink::new();
    let mut ctx = ProviderContext::new(values, sink.clone(), sink.clone());
    if let Some(url) = base_url {
        ctx = ctx.with_base_url(url);
    }
    let registry = furrow_registry::registry();
    let adapter = registry.build(kind, ctx)?;
    let caps = adapter.capabilities();
    let mut lines = vec![format!("{} ({})", kind.display_name(), kind.slug())];
    let auth = adapter.authenticate().await;
    // Rotated secrets first: losing a rotated refresh token would lose the grower's grant.
    let persisted = sink.persisted();
    if let (Some(obj), false) = (body.as_object(), persisted.is_empty()) {
        let mut obj = obj.clone();
        for update in &persisted {
            for (k, v) in update {
                if kind.field(k).is_some_and(|f| f.in_create) {
                    obj.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        let tmp = credentials.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&Value::Object(obj))?)?;
        std::fs::rename(&tmp, &credentials)?;
        lines.push(format!(
            "  rotated secrets written back to {}",
            credentials.display()
        ));
    }
    match auth {
        Ok(_) => lines.push("  credential: OK".into()),
        Err(e) => {
            let status = e
                .credential_status()
                .map_or("unchanged (transient)", |s| s.as_str());
            output::write(&lines.join("\n"))?;
            bail!("credential refused: {e} (status would be {status})");
        }
    }
    match adapter.organizations().await {
        Ok(orgs) => {
            lines.push(format!("  organizations: {}", orgs.len()));
            for org in orgs.iter().take(20) {
                let fields = if caps.fields {
                    match adapter.fields(&org.id).await {
                        Ok(f) => format!(
                            "{} fields ({} with boundaries)",
                            f.len(),
                            f.iter().filter(|f| f.boundary.is_some()).count()
                        ),
                        Err(e) => format!("fields: {e}"),
                    }
                } else {
                    "fields: not offered".into()
                };
                let files = if caps.machine_files {
                    match adapter.all_machine_files(&org.id, None).await {
                        Ok(f) => format!("{} machine files", f.len()),
                        Err(e) => format!("machine files: {e}"),
                    }
                } else {
                    "machine files: not offered".into()
                };
                lines.push(format!("    {} ({}): {fields}; {files}", org.name, org.id));
            }
        }
        Err(e) => lines.push(format!("  organizations: {e}")),
    }
    lines.push(format!(
        "  {} exchanges with the provider (secrets redacted)",
        sink.events().len()
    ));
    output::write(&lines.join("\n"))?;
    Ok(())
}

pub(crate) async fn sim(args: SimArgs) -> anyhow::Result<()> {
    let set = furrow_provider_sim::serve_all(args.listen)
        .await
        .context("starting the simulators")?;
    let mut lines = Vec::new();
    for s in &set.simulators {
        let kind = s.kind();
        let body: serde_json::Map<String, Value> = s
            .credential()
            .into_iter()
            .filter(|(k, _)| kind.field(k).is_some_and(|f| f.in_create))
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        lines.push(format!(
            "{:<18} {:<26} {}",
            kind.slug(),
            s.base_url(),
            Value::Object(body)
        ));
    }
    lines.push("simulators running; Ctrl-C stops them".into());
    output::write(&lines.join("\n"))?;
    let _ = tokio::signal::ctrl_c().await;
    drop(set);
    Ok(())
}
