//! `kulanz keys add`: create an API key; only its hash is stored, the secret printed once.

use crate::store::keys::{hash_secret, new_secret, ApiKeyRecord, Scope};
use crate::store::{Command, Store};
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Create a key; the secret is the last line of the output.
    Add {
        /// A name saying who uses the key (recorded as the author of policies it uploads and outcomes it records).
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: decide, ingest, admin.
        #[arg(long)]
        scopes: String,
        #[command(flatten)]
        data: super::DataDir,
    },
    /// List keys: name, scopes, creation time (secrets are never stored).
    List {
        #[command(flatten)]
        data: super::DataDir,
    },
    /// Revoke every key with this name.
    Revoke {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        data: super::DataDir,
    },
}

/// Create a key in an open store and return its secret.
pub fn create(store: &Store, name: &str, scopes: Vec<Scope>) -> anyhow::Result<String> {
    crate::domain::check_id("name", name)?;
    let secret = new_secret();
    let key = ApiKeyRecord {
        name: name.to_string(),
        scopes,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    store.apply(&Command::PutKey {
        hash: hash_secret(&secret),
        key,
    })?;
    store.flush_blocking()?;
    Ok(secret)
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::List { data } => {
            let store = Store::open(&data.data_dir)?;
            for k in store.list_keys()? {
                let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                println!("{}\t{}\t{}", k.name, scopes.join(","), k.created_at);
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke { name, data } => {
            let store = Store::open(&data.data_dir)?;
            let applied = store.apply(&Command::RevokeKeys { name: name.clone() })?;
            store.flush_blocking()?;
            if applied == crate::store::command::Applied::Unchanged {
                anyhow::bail!("no key named `{name}`");
            }
            eprintln!("revoked every key named `{name}`");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Add { name, scopes, data } => {
            let scopes =
                Scope::parse_list(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let store = Store::open(&data.data_dir)?;
            let list: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
            let secret = create(&store, &name, scopes.clone())?;
            eprintln!(
                "created key `{name}` with scopes {}; store the secret now, it is not shown again:",
                list.join(",")
            );
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
