//! `kulanz keys add`: create an API key; only its hash is stored, the secret printed once.

use crate::service::keys::{self, Scope};
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
        /// The highest agent role a request with this key may claim (e.g. `agent`); a
        /// higher claim is refused with 403 `role_not_allowed`. Without it the key trusts
        /// whatever role its caller sends.
        #[arg(long)]
        max_role: Option<String>,
        #[command(flatten)]
        data: super::DataDir,
        #[command(flatten)]
        cluster: ClusterTarget,
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
        #[command(flatten)]
        cluster: ClusterTarget,
    },
}

/// Write to a cluster's log instead of a data directory (docs/cluster.md): how a new
/// cluster gets its first admin key.
#[derive(Debug, clap::Args)]
pub struct ClusterTarget {
    /// The cluster's NATS servers, comma-separated; the key is valid on every replica
    /// once applied (milliseconds). `--data-dir` is then not used.
    #[arg(long = "cluster", env = "KULANZ_CLUSTER")]
    urls: Option<String>,
    /// The cluster's name (`serve --cluster-name`).
    #[arg(long, env = "KULANZ_CLUSTER_NAME", default_value = "kulanz")]
    cluster_name: String,
}

impl ClusterTarget {
    /// Append `cmd` to the cluster's log if `--cluster` was given; its position.
    fn append(&self, cmd: &Command) -> anyhow::Result<Option<u64>> {
        let Some(urls) = &self.urls else {
            return Ok(None);
        };
        let cfg = crate::cluster::ClusterConfig::new(urls, &self.cluster_name, "cli")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime
            .block_on(crate::cluster::append(&cfg, cmd))
            .map(Some)
    }
}

/// Create a key in an open store and return its secret.
pub fn create(store: &Store, name: &str, scopes: Vec<Scope>) -> anyhow::Result<String> {
    Ok(keys::add(store, name, scopes, None, chrono::Utc::now())?.secret)
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
        KeysCommand::Revoke {
            name,
            data,
            cluster,
        } => {
            let cmd = Command::RevokeKeys { name: name.clone() };
            if let Some(position) = cluster.append(&cmd)? {
                eprintln!(
                    "revoking every key named `{name}` on every replica (log position {position})"
                );
                return Ok(ExitCode::SUCCESS);
            }
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
            cluster,
        } => {
            let scopes =
                Scope::parse_list(&scopes).map_err(|e| anyhow::anyhow!("--scopes: {e}"))?;
            let list: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
            let now = chrono::Utc::now();
            let secret = if cluster.urls.is_some() {
                let key = keys::new_key(&name, scopes.clone(), max_role.clone(), now)?;
                if let Some(position) = cluster.append(&key.command())? {
                    eprintln!("in the cluster's log at position {position}");
                }
                key.secret
            } else {
                let store = super::open_for_writes(&data.data_dir)?;
                keys::add(&store, &name, scopes.clone(), max_role.clone(), now)?.secret
            };
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
