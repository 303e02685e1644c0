//! The stream that holds the log: created on a cluster's first start, checked on every
//! later one. Its durability is part of the product (docs/cluster.md): file storage, and
//! three NATS nodes per entry, so an acknowledged entry is on a quorum's disks (with the
//! shipped NATS configuration's `sync_interval: always`, synced before the ack).

use super::ClusterConfig;
use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use async_nats::jetstream::Context;
use std::time::Duration;

/// Create the stream, or check the existing one; the replicas it has. A stream with
/// fewer replicas than this start asks for, or in memory, is refused: writes acknowledged
/// on it could be lost when a node dies.
pub async fn ensure(js: &Context, cfg: &ClusterConfig) -> anyhow::Result<usize> {
    let wanted = wanted_replicas(js, cfg);
    let config = Config {
        name: cfg.stream_name(),
        subjects: vec![format!("{}.>", cfg.prefix())],
        retention: RetentionPolicy::Limits,
        storage: StorageType::File,
        num_replicas: wanted,
        // A full log refuses writes rather than dropping the oldest entries: the log is the
        // record (decisions, the audit chain), not a cache.
        discard: DiscardPolicy::New,
        // A retried publish with the same id within this window is stored once.
        duplicate_window: Duration::from_secs(120),
        allow_direct: true,
        deny_delete: true,
        // Purging one customer's subject is how an erasure leaves the log.
        deny_purge: false,
        ..Default::default()
    };
    // A NATS cluster that has just started may answer clients before JetStream has a
    // meta leader: its API requests time out for a few seconds. Wait for it (bounded); a
    // stream that answers but is too weak is refused at once.
    let deadline = tokio::time::Instant::now() + START_PATIENCE;
    let info = loop {
        match read_or_create(js, &config).await {
            Ok(info) => break info,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(error = %e, "JetStream does not answer yet; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => anyhow::bail!("cannot read or create stream `{}`: {e}", config.name),
        }
    };
    check(&info, wanted)?;
    Ok(info.num_replicas)
}

/// How long a starting replica waits for JetStream to answer.
pub const START_PATIENCE: Duration = Duration::from_secs(60);

/// The stream's configuration as stored, creating the stream from `config` if missing.
async fn read_or_create(js: &Context, config: &Config) -> anyhow::Result<Config> {
    Ok(match js.get_stream(&config.name).await {
        Ok(mut s) => s.info().await?.config.clone(),
        Err(e) if is_not_found(&e) => js
            .create_stream(config.clone())
            .await?
            .cached_info()
            .config
            .clone(),
        Err(e) => return Err(e.into()),
    })
}

/// Three replicas, or one on a NATS server that is not part of a cluster (a try-out), said
/// loudly: such a log survives no node failure.
fn wanted_replicas(js: &Context, cfg: &ClusterConfig) -> usize {
    let info = js.client().server_info();
    if info.cluster.is_none() {
        tracing::warn!(
            server = %info.server_name,
            "the NATS server is not clustered: the log gets 1 replica and survives no node \
             failure; run 3 NATS nodes for production (docs/cluster.md)"
        );
        1
    } else {
        cfg.replicas
    }
}

/// Refuse a stream weaker than this start asks for.
pub(super) fn check(found: &Config, wanted: usize) -> anyhow::Result<()> {
    if found.storage != StorageType::File {
        anyhow::bail!(
            "stream `{}` keeps its entries in memory; cluster mode needs file storage \
             (delete the stream, or point --cluster-name at another)",
            found.name
        );
    }
    if found.num_replicas < wanted {
        anyhow::bail!(
            "stream `{}` has {} replica(s), fewer than the {wanted} this cluster needs; raise \
             it (nats stream edit --replicas {wanted}) before starting replicas",
            found.name,
            found.num_replicas
        );
    }
    if found.discard != DiscardPolicy::New || found.retention != RetentionPolicy::Limits {
        anyhow::bail!(
            "stream `{}` may drop entries (discard or retention policy changed); cluster \
             mode needs discard `new` and retention `limits`",
            found.name
        );
    }
    Ok(())
}

fn is_not_found(e: &async_nats::jetstream::context::GetStreamError) -> bool {
    match e.kind() {
        async_nats::jetstream::context::GetStreamErrorKind::JetStream(j) => {
            j.error_code() == async_nats::jetstream::ErrorCode::STREAM_NOT_FOUND
        }
        _ => false,
    }
}
