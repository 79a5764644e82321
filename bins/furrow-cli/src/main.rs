//! `furrow`: the command-line tool. Thin: parses flags, calls library crates, maps errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use furrow_store::{SecretKey, Store, StoreOptions};

mod allocate;
mod convert;
mod convert_sets;
mod output;
mod provider;
mod render;

#[derive(Debug, Parser)]
#[command(name = "furrow", version, about = "furrow farm-data tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Memory, in MiB, that reading ISOXML data sets may take (their XML is parsed whole; a data set whose
    /// estimate is over it is refused with a message saying how much it needs).
    #[arg(long, global = true, env = "FURROW_READ_MEMORY_MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    read_memory_mib: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarise an ISOXML TASKDATA folder or zip: versions, element counts, time logs, warnings.
    Inspect {
        /// A TASKDATA folder, a TASKDATA.XML file or a zip.
        path: PathBuf,
        /// Print JSON (an array when the zip holds several TASKDATA sets).
        #[arg(long)]
        json: bool,
    },
    /// Allocate points to field boundaries: per-field table, coverage, aggregates, throughput.
    Allocate(allocate::AllocateArgs),
    /// Convert ISOXML time logs or shapefile exports into standard GeoParquet or GeoJSON points (summary and
    /// units beside).
    Convert(convert::ConvertArgs),
    /// Draw images of a standard GeoParquet file: one PNG per property with Leaf's colours, legend and
    /// georeferencing side file, and GeoTIFFs with --geotiff.
    Render(render::RenderArgs),
    /// Talk to providers: `check` validates a credential and shows what it can see.
    Provider {
        #[command(subcommand)]
        command: provider::ProviderCommand,
    },
    /// Run every provider simulator (for demos and your own tests); prints base URLs and credentials.
    Sim(provider::SimArgs),
    /// Manage API owners (the integrators' accounts).
    Owner {
        #[command(subcommand)]
        command: OwnerCommand,
    },
    /// Rotate the secret key that seals provider secrets and signs API tokens.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Rotate DATA_DIR/secret.key: keep the old key as secret.key.previous, write a new one, re-seal every
    /// stored secret with it, then forget the old key. Safe to run again after an interruption. Stop the
    /// servers first (or restart them after: API tokens signed with the old key stop working).
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// For keys given in the environment: re-seal every stored secret with FURROW_SECRET_KEY while
    /// FURROW_PREVIOUS_SECRET_KEY still opens the old ones.
    Reseal {
        #[command(flatten)]
        store: StoreArgs,
        /// Base64 of the key being replaced.
        #[arg(long, env = "FURROW_PREVIOUS_SECRET_KEY", hide_env_values = true)]
        previous_secret_key: String,
    },
}

#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// Data directory of the server (SQLite database and secret key).
    #[arg(long, env = "FURROW_DATA_DIR", default_value = "./furrow-data")]
    data_dir: PathBuf,
    /// PostgreSQL URL, instead of the data directory's SQLite file.
    #[arg(long, env = "FURROW_DATABASE_URL")]
    database_url: Option<String>,
    /// Base64 secret key (else DATA_DIR/secret.key).
    #[arg(long, env = "FURROW_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
}

#[derive(Debug, Subcommand)]
enum OwnerCommand {
    /// Create an API owner that can call POST /api/authenticate.
    Create {
        /// Login name (an e-mail by Leaf's convention).
        #[arg(long)]
        username: String,
        /// Password (hashed with argon2 before it is stored).
        #[arg(long, env = "FURROW_OWNER_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set an API owner's password; every token issued before stops working.
    Password {
        /// The owner's username.
        #[arg(long)]
        username: String,
        /// The new password (hashed with argon2 before it is stored).
        #[arg(long, env = "FURROW_OWNER_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Return secrets in credential responses in full (Leaf's behaviour) or masked (default).
    ShowSecrets {
        /// The owner's username.
        #[arg(long)]
        username: String,
        /// `true` to return secrets in full, `false` to mask them.
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

async fn open_store(args: &StoreArgs) -> anyhow::Result<Store> {
    let key = match &args.secret_key {
        Some(k) => SecretKey::from_base64(k).context("FURROW_SECRET_KEY")?,
        None => SecretKey::load_or_create(&args.data_dir)?,
    };
    Store::open(StoreOptions {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        key,
    })
    .await
    .context("opening the database")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Inspect { path, json } => {
            let summaries = furrow_isoxml::inspect(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            if json {
                let value = furrow_isoxml::summaries_to_json(&summaries);
                output::write(&serde_json::to_string_pretty(&value)?)?;
            } else {
                output::write(&furrow_isoxml::render_text(&summaries))?;
            }
        }
        Command::Convert(args) => convert::run(args)?,
        Command::Render(args) => render::run(args)?,
        Command::Allocate(args) => allocate::run(args)?,
        Command::Provider { command } => provider::check(command).await?,
        Command::Sim(args) => provider::sim(args).await?,
        Command::Owner {
            command:
                OwnerCommand::Create {
                    username,
                    password,
                    store,
                },
        } => {
            if password.len() < 8 {
                anyhow::bail!("the password must have at least 8 characters");
            }
            let store = open_store(&store).await?;
            match store.create_owner(&username, &password).await {
                Ok(owner) => output::line(&format!(
                    "created API owner {} ({})",
                    owner.username, owner.id
                )),
                Err(furrow_store::Error::AlreadyExists(_)) => {
                    anyhow::bail!("API owner {username} already exists")
                }
                Err(e) => return Err(e).context("creating the API owner"),
            }
        }
        Command::Owner {
            command:
                OwnerCommand::Password {
                    username,
                    password,
                    store,
                },
        } => {
            if password.len() < 8 {
                anyhow::bail!("the password must have at least 8 characters");
            }
            let store = open_store(&store).await?;
            match store.set_owner_password(&username, &password).await {
                Ok(()) => output::line(&format!(
                    "password of {username} changed; every older token is ended"
                )),
                Err(furrow_store::Error::NotFound(_)) => anyhow::bail!("no API owner {username}"),
                Err(e) => return Err(e).context("changing the password"),
            }
        }
        Command::Owner {
            command:
                OwnerCommand::ShowSecrets {
                    username,
                    enabled,
                    store,
                },
        } => {
            let store = open_store(&store).await?;
            let owner = store
                .owner_by_username(&username)
                .await?
                .with_context(|| format!("no API owner {username}"))?;
            store.set_owner_show_secrets(&owner.id, enabled).await?;
            output::line(&format!(
                "{username}: secrets {}",
                if enabled { "shown in full" } else { "masked" }
            ));
        }
        Command::Key { command } => key_command(command).await?,
    }
    Ok(())
}

async fn open_with_key(args: &StoreArgs, key: SecretKey) -> anyhow::Result<Store> {
    Store::open(StoreOptions {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        key,
    })
    .await
    .context("opening the database")
}

async fn key_command(command: KeyCommand) -> anyhow::Result<()> {
    match command {
        KeyCommand::Rotate { store } => {
            if store.secret_key.is_some() {
                anyhow::bail!(
                    "the key comes from FURROW_SECRET_KEY: set the new key there, the old one in \
                     FURROW_PREVIOUS_SECRET_KEY, and run `furrow key reseal`"
                );
            }
            let key = SecretKey::rotate_in(&store.data_dir).context("rotating the key file")?;
            let db = open_with_key(&store, key).await?;
            let n = db.reseal_secrets().await.context("re-sealing secrets")?;
            SecretKey::finish_rotation(&store.data_dir).context("forgetting the old key")?;
            output::line(&format!(
                "new key in {}; {n} secrets re-sealed; restart the servers (API tokens must be renewed)",
                store.data_dir.join("secret.key").display()
            ));
        }
        KeyCommand::Reseal {
            store,
            previous_secret_key,
        } => {
            let current = match &store.secret_key {
                Some(k) => SecretKey::from_base64(k).context("FURROW_SECRET_KEY")?,
                None => SecretKey::load_or_create(&store.data_dir)?,
            };
            let previous = SecretKey::from_base64(&previous_secret_key)
                .context("FURROW_PREVIOUS_SECRET_KEY")?;
            let db = open_with_key(&store, current.with_previous(&previous)).await?;
            let n = db.reseal_secrets().await.context("re-sealing secrets")?;
            output::line(&format!(
                "{n} secrets re-sealed with the current key; FURROW_PREVIOUS_SECRET_KEY can be removed"
            ));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    furrow_isoxml::set_memory_budget(cli.read_memory_mib.saturating_mul(1 << 20));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
