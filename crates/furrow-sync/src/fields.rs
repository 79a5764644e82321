//! `fields_sync`: a credential's organizations, growers, farms and fields with their boundaries, stored through
//! the store's provider upserts (a changed boundary becomes the new active one; the previous one turns
//! `INACTIVE`), with `fieldCreated` / `fieldUpdated` / `fieldBoundaryCreated` events (source `SYNC`).
//!
//! Configuration: `fieldsAutoSync=false` skips background syncs (an on-demand sync still runs);
//! `customDataSync=true` (Leaf's default) makes new fields arrive in `PREVIEW`, without boundaries, until the user
//! enables them (`WAITING`; the next sync stores the boundary). Every
//! organization seen is recorded (`PREVIEW` when new, `BLOCKED` when not connected to the integrator); with
//! `organizationDataSync=SELECTED_ONLY` only the ones the user `SELECTED` are read.

use std::collections::HashMap;
use std::time::Duration;

use furrow_credentials::CredentialStatus;
use furrow_provider::{Capability, ProviderContext};
use furrow_store::{BoundaryGeometry, Change, ProviderFieldInput, ProviderGroupInput};

use serde_json::Value;

use crate::sinks::{StoreEventSink, StoreSecretSink};
use crate::worker::{JobOutcome, WorkerContext};
use crate::{Error, Result};
use furrow_model::Event;
use furrow_store::queue::SyncPayload;

fn backoff(attempts: i64) -> Duration {
    Duration::from_secs(5u64.saturating_mul(1 << attempts.clamp(0, 10)))
        .min(Duration::from_secs(3600))
}

/// The configuration keys the fields sync reads.
struct SyncConfig {
    /// `fieldsAutoSync`.
    auto: bool,
    /// `organizationDataSync` is `SELECTED_ONLY`.
    selected_only: bool,
    /// `customDataSync`: new fields arrive in `PREVIEW`.
    preview: bool,
}

fn sync_config(
    owner: &serde_json::Map<String, Value>,
    user: &serde_json::Map<String, Value>,
) -> SyncConfig {
    let cfg = furrow_model::effective_config(owner, Some(user));
    let flag = |k: &str, d: bool| cfg.get(k).and_then(Value::as_bool).unwrap_or(d);
    SyncConfig {
        auto: flag("fieldsAutoSync", true),
        selected_only: cfg.get("organizationDataSync").and_then(Value::as_str)
            == Some("SELECTED_ONLY"),
        preview: flag("customDataSync", true),
    }
}

pub(crate) async fn run_sync(ctx: &WorkerContext, job: &furrow_store::Job) -> Result<JobOutcome> {
    let payload: SyncPayload = serde_json::from_str(&job.payload).map_err(|e| Error::Payload {
        job: job.id.clone(),
        message: e.to_string(),
    })?;
    let store = &ctx.store;
    let owner = job.owner_id.as_str();
    let cred = match store
        .get_credential_by_id(owner, &payload.credential_id)
        .await
    {
        Ok(c) => c,
        Err(furrow_store::Error::NotFound(_)) => return Ok(JobOutcome::Done),
        Err(e) => return Err(e.into()),
    };
    if cred.status == CredentialStatus::Invalid {
        return Ok(JobOutcome::Done);
    }
    let config = sync_config(
        &store.get_config(owner, None).await?,
        &store.get_config(owner, Some(&cred.user_id)).await?,
    );
    if !config.auto && !payload.manual {
        return Ok(JobOutcome::Done);
    }
    let mut values = cred.public.clone();
    values.extend(cred.secrets.clone());
    let (events, writer) = StoreEventSink::new(store.clone(), owner.to_owned(), cred.id.clone());
    let secrets = StoreSecretSink::new(store.clone(), owner.to_owned(), cred.id.clone());
    let provider = match ctx
        .registry
        .build(cred.provider, ProviderContext::new(values, events, secrets))
    {
        Ok(a) => a,
        Err(e) => {
            drop(writer);
            return Ok(JobOutcome::Fail(e.to_string()));
        }
    };
    if !provider.capabilities().has(Capability::Fields) {
        drop(provider);
        writer.finish().await;
        return Ok(JobOutcome::Done);
    }
    let provider_name = cred.provider.leaf_name().to_owned();
    let orgs = provider.organizations().await;
    let listed = match orgs {
        Ok(orgs) => {
            let mut readable = Vec::new();
            for org in orgs {
                // The organization sync list: every organization seen, with the user's choice kept.
                let row = store
                    .upsert_provider_organization(
                        owner,
                        &cred.user_id,
                        &provider_name,
                        &org.id,
                        &org.name,
                        org.connected,
                        org.connection_uri.as_deref(),
                    )
                    .await?;
                // Only organizations connected to the integrator can be read; with SELECTED_ONLY, only those
                // the user selected.
                if row.status != "BLOCKED" && (!config.selected_only || row.status == "SELECTED") {
                    readable.push(org.id);
                }
            }
            async {
                let mut all = Vec::new();
                for org in &readable {
                    all.extend(provider.fields(org).await?);
                }
                Ok::<_, furrow_provider::Error>((all, readable))
            }
            .await
        }
        Err(e) => Err(e),
    };
    drop(provider);
    writer.finish().await;
    let (fields, listed_orgs) = match listed {
        Ok(f) => f,
        Err(e) => {
            if crate::validate::credential_refused(store, owner, &cred, &e).await? {
                return Ok(JobOutcome::Done);
            }
            return Ok(if e.is_retryable() {
                JobOutcome::Retry {
                    after: backoff(job.attempts),
                    error: e.to_string(),
                }
            } else {
                JobOutcome::Fail(e.to_string())
            });
        }
    };
    let user = cred.user_id.clone();
    let mut growers: HashMap<String, i64> = HashMap::new();
    let mut farms: HashMap<String, i64> = HashMap::new();
    let (mut created, mut boundaries) = (0usize, 0usize);
    let fields_seen: Vec<(String, String)> = fields
        .iter()
        .map(|f| (f.organization_id.clone(), f.id.clone()))
        .collect();
    for f in fields {
        let grower_id = match &f.grower_id {
            Some(g) => match growers.get(g) {
                Some(id) => Some(*id),
                None => {
                    let grower = store
                        .upsert_provider_grower(
                            owner,
                            &user,
                            &ProviderGroupInput {
                                provider_name: provider_name.clone(),
                                provider_id: None,
                                provider_ref: g.clone(),
                                name: None,
                                grower_id: None,
                            },
                        )
                        .await?;
                    growers.insert(g.clone(), grower.0.id);
                    Some(grower.0.id)
                }
            },
            None => None,
        };
        let farm_id = match &f.farm_id {
            Some(fm) => match farms.get(fm) {
                Some(id) => Some(*id),
                None => {
                    let farm = store
                        .upsert_provider_farm(
                            owner,
                            &user,
                            &ProviderGroupInput {
                                provider_name: provider_name.clone(),
                                provider_id: None,
                                provider_ref: fm.clone(),
                                name: None,
                                grower_id,
                            },
                        )
                        .await?;
                    farms.insert(fm.clone(), farm.0.id);
                    Some(farm.0.id)
                }
            },
            None => None,
        };
        let boundary = f
            .boundary
            .as_ref()
            .map(|b| BoundaryGeometry::from_coordinates(&b.coordinates));
        let up = store
            .upsert_provider_field(
                owner,
                &user,
                &ProviderFieldInput {
                    provider_name: provider_name.clone(),
                    provider_id: None,
                    provider_field_id: f.id.clone(),
                    provider_field_name: Some(f.name.clone()),
                    provider_boundary_id: None,
                    organization_id: Some(f.organization_id.clone()),
                    farm_id,
                    boundary,
                    preview: config.preview,
                },
            )
            .await?;
        let field_event = match up.field {
            Change::Created => Some("fieldCreated"),
            Change::Updated => Some("fieldUpdated"),
            Change::Unchanged => None,
        };
        if let Some(event) = field_event {
            created += usize::from(up.field == Change::Created);
            store
                .fire(
                    owner,
                    &Event::Field {
                        event,
                        source: "SYNC",
                        leaf_user_id: user.clone(),
                        field_id: up.field_id.clone(),
                    },
                )
                .await?;
        }
        if let (Change::Created, Some(boundary_id)) = (up.boundary, &up.boundary_id) {
            boundaries += 1;
            let event = if up.field == Change::Created {
                "fieldBoundaryCreated"
            } else {
                "fieldBoundaryUpdated"
            };
            store
                .fire(
                    owner,
                    &Event::Boundary {
                        event,
                        boundary_id: boundary_id.clone(),
                        leaf_user_id: user.clone(),
                        field_id: up.field_id.clone(),
                    },
                )
                .await?;
        }
    }
    // Fields a completely listed organization no longer has: their boundary is DELETED_ON_PROVIDER.
    for org in &listed_orgs {
        let ids: Vec<String> = fields_seen
            .iter()
            .filter(|(o, _)| o == org)
            .map(|(_, id)| id.clone())
            .collect();
        let gone = store
            .mark_missing_provider_fields(owner, &user, &provider_name, org, &ids)
            .await?;
        boundaries += gone.len();
    }
    if boundaries > 0 {
        // New boundaries change where points fall: re-allocate this user's processed files.
        store.enqueue_reallocation(owner, &user).await?;
    }
    tracing::info!(credential = %cred.id, created, boundaries, "fields synced");
    Ok(JobOutcome::Done)
}
