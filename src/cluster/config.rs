//! Cluster mode's settings: where NATS is, the stream's name, this replica's id.

use std::time::Duration;

/// `serve --cluster ...` (docs/cluster.md).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// NATS servers, e.g. `nats://h1:4222`; the client learns the rest of the cluster.
    pub urls: Vec<String>,
    /// The stream's name and its subjects' prefix; one cluster of replicas per name.
    pub name: String,
    /// This replica, in logs and in each entry it writes.
    pub replica_id: String,
    /// How many NATS nodes keep each entry (3; 1 only on a one-node NATS, with a warning).
    pub replicas: usize,
    /// Entries between snapshots (cluster/snapshot.rs); 0: none but those erasures ask for.
    pub snapshot_every: u64,
}

/// `--snapshot-every`'s default: a snapshot, and the log's retention, every this many entries.
pub const SNAPSHOT_EVERY: u64 = 50_000;

impl ClusterConfig {
    /// Parse `--cluster`'s comma-separated list and check the names; the error says which.
    pub fn new(urls: &str, name: &str, replica_id: &str) -> anyhow::Result<ClusterConfig> {
        let urls: Vec<String> = urls
            .split(',')
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect();
        if urls.is_empty() {
            anyhow::bail!("--cluster: give at least one NATS URL, e.g. nats://127.0.0.1:4222");
        }
        for u in &urls {
            u.parse::<async_nats::ServerAddr>()
                .map_err(|e| anyhow::anyhow!("--cluster: `{u}` is not a NATS URL: {e}"))?;
        }
        let token = |what: &str, v: &str| -> anyhow::Result<()> {
            let ok = !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if ok {
                Ok(())
            } else {
                anyhow::bail!("{what}: `{v}` must be 1 to 64 letters, digits, `-` or `_`")
            }
        };
        token("--cluster-name", name)?;
        token("--replica-id", replica_id)?;
        Ok(ClusterConfig {
            urls,
            name: name.to_string(),
            replica_id: replica_id.to_string(),
            replicas: 3,
            snapshot_every: SNAPSHOT_EVERY,
        })
    }

    /// The stream holding the log.
    pub fn stream_name(&self) -> String {
        self.name.clone()
    }

    /// Every subject of the log starts with this.
    pub fn prefix(&self) -> &str {
        &self.name
    }

    /// Connect, retrying while the servers are not up yet (a cluster starting together),
    /// and reconnecting for ever once connected.
    pub async fn connect(&self) -> anyhow::Result<async_nats::Client> {
        let addrs = self
            .urls
            .iter()
            .map(|u| u.parse::<async_nats::ServerAddr>())
            .collect::<Result<Vec<_>, _>>()?;
        let opts = async_nats::ConnectOptions::new()
            .name(format!("kulanz-{}", self.replica_id))
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(super::WRITE_TIMEOUT))
            .max_reconnects(None)
            .retry_on_initial_connect();
        let client = tokio::time::timeout(Duration::from_secs(60), opts.connect(addrs))
            .await
            .map_err(|_| {
                anyhow::anyhow!(
                    "no NATS server of `{}` answered within 60 s",
                    self.urls.join(",")
                )
            })??;
        // `retry_on_initial_connect` returns before the connection is up: wait for it.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while client.connection_state() != async_nats::connection::State::Connected {
            if std::time::Instant::now() > deadline {
                anyhow::bail!(
                    "no NATS server of `{}` answered within 60 s",
                    self.urls.join(",")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(client)
    }
}

/// The host's name, the default replica id.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "replica".to_string())
}
