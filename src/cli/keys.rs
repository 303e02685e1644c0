//! `kulanz keys add`: create an API key; only its hash is stored, the secret printed once.

use crate::service::keys::{self, Scope};
use crate::store::Store;
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
        /// The highest agent role a request with this key may claim (e.g. `agent`); a
        /// higher claim is refused with 403 `role_not_allowed`. Without it the key trusts
        /// whatever role its caller sends.
        #[arg(long)]
        max_role: Option<String>,
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
    create_bound(store, name, scopes, None)
}

/// Create a key whose requests may claim at most `max_role`, and return its secret.
pub fn create_bound(
    store: &Store,
    name: &str,
    scopes: Vec<Scope>,
    max_role: Option<String>,
) -> anyhow::Result<String> {
    Ok(keys::add(store, name, scopes, max_role, chrono::Utc::now())?.secret)
}

pub fn run(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::List { data } => {
            let store = Store::open(&data.data_dir)?;
            for k in keys::list(&store)? {
                let scopes: Vec<&str> = k.scopes.iter().map(|s| s.as_str()).collect();
                let role = k.max_role.as_deref().unwrap_or("any role");
                println!("{}\t{}\t{}\t{role}", k.name, scopes.join(","), k.created_at);
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Revoke { name, data } => {
            let store = super::open_for_writes(&data.data_dir)?;
            if !keys::revoke_local(&store, &name)? {
                anyhow::bail!("no key named `{name}`");
            }
            eprintln!("revoked every key named `{name}`");
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Add {
            name,
            scopes,
            max_role,
            data,
        } => {
            let scopes =
                Scope::parse_list(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let store = super::open_for_writes(&data.data_dir)?;
            let list: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
            let secret = create_bound(&store, &name, scopes.clone(), max_role.clone())?;
            let bound = match &max_role {
                Some(r) => format!(", roles up to `{r}`"),
                None => ", any role its caller claims".to_string(),
            };
            eprintln!(
                "created key `{name}` with scopes {}{bound}; store the secret now, it is not shown again:",
                list.join(",")
            );
            println!("{secret}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
