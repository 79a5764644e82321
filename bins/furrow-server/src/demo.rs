//! `--demo`: every provider simulator in-process, a demo API owner, a grower with CLAAS, John Deere and Climate
//! FieldView credentials, another grower with Magic Links to connect providers or upload files, and the
//! commands to look at them.
#![allow(clippy::print_stdout)] // the demo's instructions are its output

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Context;
use furrow_credentials::Provider;
use furrow_model::{Page, UserFilter, UserInput};
use furrow_provider_sim::SimulatorSet;
use furrow_store::{NewAppKey, NewMagicLink, Store};
use furrow_sync::Registry;
use serde_json::Value;

const OWNER: &str = "demo@furrow.local";
const PASSWORD: &str = "demo-password";
const DEMO_USER: &str = "furrow-demo";
/// The grower the demo's Magic Links are for (no credentials until they connect one).
const LINK_USER: &str = "furrow-demo-link";

/// Starts every simulator on 127.0.0.1 and points the registry at them.
pub(crate) async fn start_simulators(
    mut registry: Registry,
) -> anyhow::Result<(SimulatorSet, Registry)> {
    let sims = furrow_provider_sim::start_all()
        .await
        .context("starting the provider simulators")?;
    for sim in &sims.simulators {
        registry = registry.with_base_url(sim.kind(), sim.base_url());
    }
    tracing::info!(count = sims.simulators.len(), "provider simulators started");
    Ok((sims, registry))
}

/// Creates (once) the demo owner, grower and credentials, queues their validation, and prints how to look.
pub(crate) async fn seed(
    store: &Store,
    state: &furrow_api::AppState,
    sims: &SimulatorSet,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    let owner = match store.owner_by_username(OWNER).await? {
        Some(o) => o,
        None => store.create_owner(OWNER, PASSWORD).await?,
    };
    // The demo grower's fields and files come at once (customDataSync would hold them in PREVIEW until the
    // grower picks them), so its machine files end in field operations within a minute. The simulators serve
    // real exports from 2020 and 2021 (older than the 12 months operations are made from by default), and a
    // planting log that names no crop (which Leaf requires by default). Its operations and files get images of
    // their main properties.
    let demo_config = serde_json::json!({
        "customDataSync": false,
        "operationsProcessingRange": 600,
        "cropOptional": {"standardGeoJson": {"planted": {"crop": "optional"}}},
        "operationsImageCreation": true,
        "operationsImageAttributeCreation": {
            "harvested": {"wetMassPerArea": true, "dryMassPerArea": true, "harvestMoisture": true, "speed": true, "elevation": true},
            "planted": {"seedRate": true, "speed": true, "elevation": true},
            "applied": {"appliedRate": true, "speed": true, "elevation": true},
            "tillage": {"tillageDepthActual": true, "speed": true, "elevation": true}
        },
    });
    if let Some(map) = demo_config.as_object() {
        store.merge_config(&owner.id, None, map).await?;
    }
    let filter = UserFilter {
        external_id: Some(DEMO_USER.into()),
        ..Default::default()
    };
    let (existing, _) = store
        .list_users(&owner.id, &filter, Page::default())
        .await?;
    let user = match existing.into_iter().next() {
        Some(u) => u,
        None => {
            let input = UserInput {
                name: Some("Demo Grower".into()),
                email: Some("grower@furrow.local".into()),
                external_id: Some(DEMO_USER.into()),
                ..Default::default()
            };
            store.create_user(&owner.id, &input).await?
        }
    };
    for kind in [
        Provider::Claas,
        Provider::JohnDeere,
        Provider::ClimateFieldView,
    ] {
        let sim = sims.get(kind).context("simulator")?;
        let body: serde_json::Map<String, Value> = sim
            .credential()
            .into_iter()
            .filter(|(k, _)| kind.field(k).is_some_and(|f| f.in_create))
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let input = furrow_credentials::validate(kind, &Value::Object(body))
            .map_err(|e| anyhow::anyhow!("demo credential for {}: {e}", kind.display_name()))?;
        match store.create_credential(&owner.id, &user.id, &input).await {
            Ok(c) => {
                store.enqueue_validation(&owner.id, &c.id).await?;
            }
            Err(furrow_store::Error::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let links = onboarding(store, state, sims, &owner.id).await?;
    let token = state.tokens.issue(OWNER, true);
    let base = format!("http://{addr}");
    let um = "services/usermanagement/api";
    println!();
    println!("furrow demo is running on {base}");
    println!(
        "  API owner: {OWNER} / {PASSWORD}; grower {} (Demo Grower)",
        user.id
    );
    println!("  provider simulators:");
    for sim in &sims.simulators {
        println!("    {:<18} {}", sim.kind().display_name(), sim.base_url());
    }
    println!();
    println!(
        "  grower onboarding (open in a browser; sign in at the simulator with the login its page shows):"
    );
    println!("    provider Magic Link:    {}", links.0);
    println!("    file-upload Magic Link: {}", links.1);
    println!();
    println!("  export TOKEN={token}");
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/{um}/users/{}",
        user.id
    );
    for slug in ["claas", "john-deere", "climate-field-view"] {
        println!(
            "  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/{um}/users/{}/{slug}-credentials",
            user.id
        );
        println!(
            "  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/{um}/users/{}/{slug}-credentials/events",
            user.id
        );
    }
    let ops = "services/operations/api";
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" \"{base}/services/fields/api/fields?leafUserId={}\"",
        user.id
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" \"{base}/{ops}/files?leafUserId={}\"",
        user.id
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" \"{base}/{ops}/operations?leafUserId={}\"",
        user.id
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/{ops}/operations/OPERATION_ID/summary"
    );
    println!(
        "  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/{ops}/operations/OPERATION_ID/imagesV2"
    );
    println!("  curl -s -H \"Authorization: Bearer $TOKEN\" {base}/services/config/api/configs");
    println!();
    Ok(())
}

/// The simulators' integrator apps as the demo owner's app keys (John Deere's as STAGE), furrow's callback
/// registered at each simulator, and a grower without credentials with a provider Magic Link and a
/// file-upload Magic Link: (provider link, file-upload link).
async fn onboarding(
    store: &Store,
    state: &furrow_api::AppState,
    sims: &SimulatorSet,
    owner_id: &str,
) -> anyhow::Result<(String, String)> {
    let config = state.onboarding.config();
    for (kind, environment) in [
        (Provider::Claas, "PRODUCTION"),
        (Provider::JohnDeere, "STAGE"),
        (Provider::ClimateFieldView, "PRODUCTION"),
    ] {
        let sim = sims.get(kind).context("simulator")?;
        sim.register_redirect_uri(&config.redirect_uri());
        let app = sim.app();
        let (public, mut secrets) = match kind {
            Provider::ClimateFieldView => (
                [("clientId".to_owned(), app.client_id.clone())],
                BTreeMap::from([("apiKey".to_owned(), app.api_key.clone())]),
            ),
            _ => (
                [("clientKey".to_owned(), app.client_id.clone())],
                BTreeMap::new(),
            ),
        };
        secrets.insert("clientSecret".to_owned(), app.client_secret.clone());
        let key = NewAppKey {
            provider: kind.leaf_name().to_owned(),
            app_name: "demo".to_owned(),
            environment: environment.to_owned(),
            public: public.into_iter().collect(),
            secrets,
            scopes: Vec::new(),
        };
        // The simulators' apps are new at every start: the stored keys follow them.
        match store.create_app_key(owner_id, &key).await {
            Ok(_) => {}
            Err(furrow_store::Error::AlreadyExists(_)) => {
                store.replace_app_key(owner_id, &key).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let filter = UserFilter {
        external_id: Some(LINK_USER.into()),
        ..Default::default()
    };
    let (existing, _) = store.list_users(owner_id, &filter, Page::default()).await?;
    let user = match existing.into_iter().next() {
        Some(u) => u,
        None => {
            let input = UserInput {
                name: Some("Link Grower".into()),
                email: Some("link-grower@furrow.local".into()),
                external_id: Some(LINK_USER.into()),
                ..Default::default()
            };
            store.create_user(owner_id, &input).await?
        }
    };
    let week = furrow_model::now_micros() + 7 * 86_400 * 1_000_000;
    let settings = serde_json::json!({
        "companyName": "furrow demo",
        "backgroundColor": "#E8F0E8",
        "showLeafUserName": true,
        "disconnectEnabled": true,
    });
    let mut urls = Vec::new();
    for (widget, providers) in [
        ("PROVIDER", vec!["Other".to_owned()]),
        ("FILEUPLOAD", vec![]),
    ] {
        let link = store
            .create_magic_link(
                owner_id,
                &NewMagicLink {
                    user_id: user.id.clone(),
                    widget: widget.to_owned(),
                    providers,
                    settings: settings.clone(),
                    app_name: None,
                    max_usage: 10,
                    expires_at: week,
                },
            )
            .await?;
        urls.push(config.link_url(&link.token));
    }
    Ok((urls[0].clone(), urls[1].clone()))
}
